"""Payments on AWS's engine: replayed and reordered provider events apply once, the wallet never goes negative, a
payment racing a claim for its lapsed slot either confirms or is refunded, never both, and each condition
expression of slotwise.payments refuses what it must."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.local.functions import invoke
from infra.local.streams import StreamPoller
from slotwise import aws
from slotwise.booking import create, lifecycle
from slotwise.booking import store as booking_store
from slotwise.booking.models import BookingCreate, BookingUpdate
from slotwise.identity.models import Caller
from slotwise.payments import processor, store
from slotwise.payments import service as payments
from slotwise.payments.models import PaymentCreate, WalletEntry
from slotwise.payments.provider import use_provider
from slotwise.topology import StreamConsumerSpec
from slotwise.transaction import Transaction, TransactionFailed, execute
from tests.integration.test_outbox_stream import Bus
from tests.support.catalog import make_resource
from tests.support.http import call
from tests.support.payments import FakeProvider, credit, intent_event, refund_event

pytestmark = pytest.mark.dynamodb_local

START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=10)
PRICE = 2000
CUSTOMER = Caller("cust", "customer")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.fixture
def provider(local_table: str) -> FakeProvider:
    fake = FakeProvider()
    use_provider(fake)
    return fake


def hold(resource_id: str, user: str = "cust", *, now: datetime | None = None) -> str:
    data = BookingCreate(resourceId=resource_id, startTime=START, endTime=START + timedelta(hours=1))
    return create.create_booking(Caller(user, "customer"), data, now=now).booking.id


def paid_room(ttl: int = 900) -> str:
    return make_resource(policy={"confirmation": "payment", "holdTtlSeconds": ttl}).id


def _deliver(event: dict[str, Any], outcomes: Counter[str], failed: list[dict[str, Any]], lock: threading.Lock) -> None:
    try:
        outcome = processor.handle(event)
    except Exception:
        with lock:
            failed.append(event)
        return
    with lock:
        outcomes[outcome] += 1


def deliver_like_sqs(events: list[dict[str, Any]], copies: int = 3, workers: int = 8) -> Counter[str]:
    """Every event `copies` times, shuffled, concurrently; a delivery that raises comes back later (as SQS would
    redeliver it) until each has been handled."""
    queue = [e for e in events for _ in range(copies)]
    random.shuffle(queue)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    while queue:
        failed: list[dict[str, Any]] = []
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda event, failed=failed: _deliver(event, outcomes, failed, lock), queue))
        queue = failed
    return outcomes


def published(local_table: str, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every domain event the stream makes of what was committed (what the notifier and webhooks receive)."""
    bus = Bus()
    monkeypatch.setattr(aws, "events", lambda: bus)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
    arn = boto3.client("dynamodb", endpoint_url=endpoint).describe_table(TableName=local_table)["Table"][
        "LatestStreamArn"
    ]
    dead: list[str] = []
    StreamPoller(streams, arn, StreamConsumerSpec("publisher"), invoke, dead_letter=dead.append, log=print).poll_once()
    assert dead == []
    return bus.accepted


def test_a_full_flow_replayed_three_times_in_random_order_concurrently_applies_once(
    provider: FakeProvider, local_table: str, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking_id = hold(paid_room())
    started = payments.start_payment(CUSTOMER, booking_id, PaymentCreate())
    payment = started.payment
    paying = [intent_event("processing", payment), intent_event("succeeded", payment)]
    first = deliver_like_sqs(paying)
    assert first["confirmed"] == 1
    confirmed = booking_store.get_booking(booking_id)
    assert confirmed is not None and confirmed.status == "confirmed"

    cancelled = call("POST", f"/api/v1/bookings/{booking_id}/cancel", body={"refundTo": "card"}, user="cust")
    assert cancelled.status == 200
    paid = store.get_payment(payment.id)
    assert paid is not None
    (refund,) = store.refunds_of(payment.id)
    # The whole flow again, refunds included, three times each, shuffled and concurrent.
    deliver_like_sqs([*paying, intent_event("payment_failed", payment), refund_event(refund, paid)])

    final = booking_store.get_booking(booking_id)
    assert final is not None and final.status == "cancelled"
    assert [h.action for h in final.history].count("confirmed") == 1
    assert [r.status for r in store.refunds_of(payment.id)] == ["succeeded"]
    assert len(provider.refunds) == 1
    events = published(local_table, dynamodb_local, monkeypatch)
    kinds = Counter(e["type"] for e in events if e["aggregate"] in ("booking", "payment", "refund"))
    assert kinds["booking.confirmed"] == 1
    assert kinds["booking.cancelled"] == 1
    assert kinds["payment.succeeded"] == 1
    assert kinds["payment.refunded"] == 1
    assert kinds["payment.failed"] == 0
    assert len({e["eventId"] for e in events}) == len(events)  # one event per change: one e-mail per recipient


def test_a_replayed_wallet_refund_is_one_ledger_entry(provider: FakeProvider, local_table: str) -> None:
    booking_id = hold(paid_room())
    payment = payments.start_payment(CUSTOMER, booking_id, PaymentCreate()).payment
    success = intent_event("succeeded", payment)
    deliver_like_sqs([success])
    cancel = {"refundTo": "wallet"}

    def cancel_once(_: int) -> int:
        return call("POST", f"/api/v1/bookings/{booking_id}/cancel", body=cancel, user="cust").status

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = Counter(pool.map(cancel_once, range(6)))
    assert statuses[200] == 1
    deliver_like_sqs([success])
    entries, _ = store.wallet_entries("cust", limit=50, start_key=None)
    assert [(e.kind, e.amount) for e in entries] == [("refund", PRICE)]
    assert store.wallet_balances("cust") == {"EUR": PRICE}


def test_racing_wallet_payments_never_take_the_balance_below_zero(provider: FakeProvider, local_table: str) -> None:
    credit("cust", PRICE * 2)
    rooms = [paid_room() for _ in range(5)]  # a customer's cap of active holds
    held = [hold(room) for room in rooms]
    barrier = threading.Barrier(len(held))

    def pay(booking_id: str) -> str:
        barrier.wait()
        response = call("POST", f"/api/v1/bookings/{booking_id}/payment", body={"walletAmount": PRICE}, user="cust")
        return str(response.body.get("booking", {}).get("status") if response.status == 201 else response.code)

    with ThreadPoolExecutor(max_workers=len(held)) as pool:
        outcomes = Counter(pool.map(pay, held))
    assert outcomes["confirmed"] == 2
    assert outcomes["insufficient_wallet_balance"] == 3
    assert store.wallet_balances("cust") == {"EUR": 0}
    entries, _ = store.wallet_entries("cust", limit=50, start_key=None)
    assert sum(e.amount for e in entries) == 0


def _race_payment_against_a_claim(room: str) -> None:
    lapsed = datetime.now(UTC) - timedelta(minutes=2)
    booking_id = hold(room, now=lapsed)
    payment = payments.start_payment(CUSTOMER, booking_id, PaymentCreate(), now=lapsed + timedelta(seconds=5)).payment
    barrier = threading.Barrier(2)

    def pay() -> str:
        barrier.wait()
        return processor.handle(intent_event("succeeded", payment))

    def claim() -> int:
        barrier.wait()
        body = {"resourceId": room, "startTime": START.isoformat(), "endTime": (START + timedelta(hours=1)).isoformat()}
        return call("POST", "/api/v1/bookings", body=body, user="rival").status

    with ThreadPoolExecutor(max_workers=2) as pool:
        paid, claimed = pool.submit(pay), pool.submit(claim)
        outcome, status = paid.result(), claimed.result()
    mine = booking_store.get_booking(booking_id)
    assert mine is not None
    if outcome == "confirmed":
        assert status == 409 and mine.status == "confirmed"
    else:
        assert outcome == "refunded" and status == 201 and mine.status == "expired"
        assert store.get_payment(payment.id).status == "refunded_unconfirmed"  # type: ignore[union-attr]


def test_a_payment_racing_a_claim_for_its_lapsed_slot_confirms_or_refunds_never_both(
    provider: FakeProvider, local_table: str
) -> None:
    for _ in range(5):
        _race_payment_against_a_claim(paid_room(ttl=60))


# ------------------------------------------------------------------------------- each condition expression alone


def test_a_provider_event_marker_refuses_the_second_commit(local_table: str) -> None:
    now = datetime.now(UTC)
    for attempt in range(2):
        tx = Transaction()
        store.mark_provider_event(tx, "evt_once", "payment_intent.succeeded", now)
        if attempt == 0:
            execute(tx)
        else:
            with pytest.raises(TransactionFailed) as failed:
                execute(tx)
            assert failed.value.of_kind("provider_event")


def test_a_debit_beyond_the_balance_is_refused_and_leaves_no_entry(local_table: str) -> None:
    credit("cust", 100)
    tx = Transaction()
    entry = WalletEntry(
        id="too-much", user_id="cust", currency="EUR", amount=-101, kind="payment", booking_id="b", at=datetime.now(UTC)
    )
    store.wallet_change(tx, entry)
    with pytest.raises(TransactionFailed) as failed:
        execute(tx)
    assert failed.value.of_kind("wallet")
    assert store.wallet_balances("cust") == {"EUR": 100}
    assert [e.id for e in store.wallet_entries("cust", limit=10, start_key=None)[0]] == ["seed-cust-100"]
    # A wallet that was never credited cannot be debited either.
    tx = Transaction()
    store.wallet_change(tx, entry.model_copy(update={"user_id": "nobody", "amount": -1}))
    with pytest.raises(TransactionFailed):
        execute(tx)


def test_payment_and_refund_versions_and_the_attempt_pointer_refuse_stale_writers(
    provider: FakeProvider, local_table: str
) -> None:
    booking_id = hold(paid_room())
    payment = payments.start_payment(CUSTOMER, booking_id, PaymentCreate()).payment
    current = store.get_payment(payment.id)
    assert current is not None
    tx = Transaction()
    store.replace_payment(tx, payment.model_copy(update={"version": current.version - 1}), current)
    with pytest.raises(TransactionFailed) as stale:
        execute(tx)
    assert stale.value.of_kind("payment")
    # Two payments cannot both take attempt 2 of one booking.
    for previous, expect_ok in ((1, True), (1, False)):
        tx = Transaction()
        store.set_pointer(tx, booking_id, f"p-{expect_ok}", 2, previous)
        if expect_ok:
            execute(tx)
        else:
            with pytest.raises(TransactionFailed) as taken:
                execute(tx)
            assert taken.value.of_kind("payment_pointer")
    # A new payment cannot start for a booking that changed since it was read.
    booking = booking_store.get_booking(booking_id)
    assert booking is not None
    lifecycle.update_details(CUSTOMER, booking_id, BookingUpdate(title="moved on"))
    tx = Transaction()
    booking_store.check_booking(tx, booking)
    with pytest.raises(TransactionFailed) as moved:
        execute(tx)
    assert moved.value.of_kind("booking")


def test_a_refund_cannot_be_moved_from_a_stale_read_nor_created_twice(provider: FakeProvider, local_table: str) -> None:
    from slotwise.payments import ledger

    booking_id = hold(paid_room())
    payment = payments.start_payment(CUSTOMER, booking_id, PaymentCreate()).payment
    refund = ledger.new_refund(payment, 100, "card", "test", datetime.now(UTC))
    tx = Transaction()
    store.add_refund(tx, refund)
    execute(tx)
    again = Transaction()
    store.add_refund(again, refund)
    with pytest.raises(TransactionFailed) as twice:
        execute(again)
    assert twice.value.of_kind("refund")
    moved = refund.model_copy(update={"status": "pending", "version": 2})
    tx = Transaction()
    store.replace_refund(tx, refund, moved)
    execute(tx)
    stale = Transaction()
    store.replace_refund(stale, refund, refund.model_copy(update={"status": "succeeded", "version": 2}))
    with pytest.raises(TransactionFailed) as lost:
        execute(stale)
    assert lost.value.of_kind("refund")
    assert store.get_refund(refund.id).status == "pending"  # type: ignore[union-attr]
