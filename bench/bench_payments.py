"""Payments against DynamoDB Local: DynamoDB calls per payment operation, through the real handlers and processor
(the provider is an in-memory fake, so only Slotwise's own calls are counted)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bench.bench_booking import WRITES, _count_calls, _environment


def _counts() -> list[tuple[str, dict[str, int]]]:
    from slotwise.payments import processor, store
    from slotwise.payments.models import WalletEntry
    from slotwise.payments.provider import use_provider
    from slotwise.transaction import Transaction, execute
    from tests.support.catalog import make_resource
    from tests.support.http import call
    from tests.support.payments import FakeProvider, intent_event

    use_provider(FakeProvider())
    room = make_resource(policy={"confirmation": "payment", "maxHorizonDays": 1000}).id
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)

    def hold(hours: int) -> str:
        at = start + timedelta(hours=hours)
        body = {"resourceId": room, "startTime": at.isoformat(), "endTime": (at + timedelta(hours=1)).isoformat()}
        return str(call("POST", "/api/v1/bookings", body=body, user="payer").body["id"])

    def pay(booking_id: str, **body: Any) -> Any:
        return call("POST", f"/api/v1/bookings/{booking_id}/payment", body=body, user="payer")

    rows: list[tuple[str, dict[str, int]]] = []
    warm = hold(0)
    pay(warm)  # the payments function and its clients are warm from here on
    card = hold(2)
    rows.append(("start a card payment (record + provider)", _count_calls(lambda: pay(card))))
    rows.append(("ask again for the same payment (resume)", _count_calls(lambda: pay(card))))
    payment = store.current_payment(card)[0]
    assert payment is not None
    event = intent_event("succeeded", payment)
    rows.append(("payment_intent.succeeded -> confirmed", _count_calls(lambda: processor.handle(event))))
    rows.append(("the same event again (duplicate)", _count_calls(lambda: processor.handle(event))))
    quote = f"/api/v1/bookings/{card}/cancellation-quote"
    rows.append(("cancellation quote", _count_calls(lambda: call("GET", quote, user="payer"))))
    cancel = f"/api/v1/bookings/{card}/cancel"
    rows.append(
        (
            "cancel a paid booking, refund to the wallet",
            _count_calls(lambda: call("POST", cancel, body={"refundTo": "wallet"}, user="payer")),
        )
    )
    tx = Transaction()
    store.wallet_change(
        tx,
        WalletEntry(id="bench", user_id="payer", currency="EUR", amount=10**6, kind="refund", booking_id="-", at=start),
    )
    execute(tx)
    by_wallet = hold(4)
    rows.append(("pay in full from the wallet (confirms)", _count_calls(lambda: pay(by_wallet, walletAmount="max"))))
    unpaid = hold(6)
    pay(unpaid)
    rows.append(
        (
            "cancel a held booking with an open payment (voided)",
            _count_calls(lambda: call("POST", f"/api/v1/bookings/{unpaid}/cancel", body={}, user="payer")),
        )
    )
    return rows


def run() -> str:
    import boto3

    from infra.local.dynamodb_local import DynamoDBLocal
    from infra.local.ports import free_port
    from infra.local.provision import ensure_table
    from slotwise.aws import reset_clients
    from slotwise.settings import get_settings
    from slotwise.topology import TABLE

    with DynamoDBLocal(free_port()) as engine:
        table = "slotwise-bench-payments"
        _environment(engine.endpoint, table)
        get_settings.cache_clear()
        reset_clients()
        ensure_table(boto3.client("dynamodb", endpoint_url=engine.endpoint), TABLE, table)
        counts = _counts()
    rows = [
        f"| {name} | {sum(v for k, v in c.items() if k in WRITES)} | "
        + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
        + " |"
        for name, c in counts
    ]
    return (
        "## Payments on DynamoDB Local\n\n"
        "`python -m bench payments`. Through `functions/payments` and `slotwise.payments.processor`, with an "
        "in-memory provider: every row is Slotwise's own DynamoDB traffic. Each state change is one "
        "TransactWriteItems; the reads before it are the booking, the booking's payment pointer and payment, and "
        "(for a wallet share) the balance.\n\n"
        "| operation | write calls | all calls |\n|---|---:|---|\n" + "\n".join(rows) + "\n"
    )
