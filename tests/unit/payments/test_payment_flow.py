"""Paying for holds, provider events, cancellation refunds and the wallet, through the real handlers on moto.

Single-threaded behaviour only; races and every condition are judged on DynamoDB Local (tests/integration).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise.booking import create, deadlines, windows
from slotwise.booking import store as booking_store
from slotwise.booking.models import BookingCreate
from slotwise.identity.models import Caller
from slotwise.payments import ledger, processor, reconcile, store
from slotwise.payments.models import Payment
from slotwise.payments.provider import use_provider
from tests.support.catalog import make_resource
from tests.support.http import call
from tests.support.payments import FakeProvider, credit, intent_event, refund_event, session_event

START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=10)
PRICE = 2 * 1000  # two 30-minute granules at 10.00


@pytest.fixture
def provider(table: str) -> FakeProvider:
    fake = FakeProvider()
    use_provider(fake)
    return fake


def paid_room(**policy: Any) -> str:
    return make_resource(policy={"confirmation": "payment", "holdTtlSeconds": 900, **policy}).id


def hold(resource_id: str, user: str = "cust", *, start: datetime = START, now: datetime | None = None) -> str:
    data = BookingCreate(resourceId=resource_id, startTime=start, endTime=start + timedelta(hours=1))
    booking = create.create_booking(Caller(user, "customer"), data, now=now).booking
    assert booking.status == "held"
    return booking.id


def pay(booking_id: str, user: str = "cust", **body: Any) -> Any:
    return call("POST", f"/api/v1/bookings/{booking_id}/payment", body=body, user=user, role="customer")


def payment_of(booking_id: str) -> Payment:
    found, _ = store.current_payment(booking_id)
    assert found is not None
    return found


def booking(booking_id: str) -> Any:
    found = booking_store.get_booking(booking_id)
    assert found is not None
    return found


def balance(user: str = "cust") -> int:
    return store.wallet_balances(user).get("EUR", 0)


def test_paying_a_hold_asks_the_provider_for_the_server_price_once_per_attempt(provider: FakeProvider) -> None:
    booking_id = hold(paid_room())
    first = pay(booking_id)
    assert first.status == 201, first.body
    assert first.body["payment"]["amount"] == PRICE
    assert first.body["payment"]["status"] == "requires_payment"
    assert first.body["clientSecret"].startswith("pi_fake_")
    again = pay(booking_id)
    assert again.status == 200
    assert again.body["payment"]["id"] == first.body["payment"]["id"]
    assert again.body["clientSecret"] == first.body["clientSecret"]
    keys = {request.idempotency_key for request in provider.payments}
    assert keys == {f"slotwise-payment-{booking_id}-1"}
    assert [request.amount for request in provider.payments] == [PRICE, PRICE]


def test_a_client_cannot_set_the_amount_status_or_owner(provider: FakeProvider) -> None:
    booking_id = hold(paid_room())
    for field in ("amount", "status", "customerId", "currency"):
        response = pay(booking_id, **{field: 1})
        assert response.status == 422, field
    assert provider.payments == []


def test_succeeded_event_confirms_once_and_a_replay_changes_nothing(provider: FakeProvider) -> None:
    booking_id = hold(paid_room())
    pay(booking_id)
    payment = payment_of(booking_id)
    event = intent_event("succeeded", payment)
    assert processor.handle(event) == "confirmed"
    assert processor.handle(event) == "duplicate"
    confirmed = booking(booking_id)
    assert confirmed.status == "confirmed"
    assert confirmed.payment.amount_paid == PRICE
    assert [h.action for h in confirmed.history].count("confirmed") == 1
    assert payment_of(booking_id).status == "succeeded"
    assert pay(booking_id).code == "already_paid"


def test_the_wallet_pays_in_full_without_the_provider(provider: FakeProvider) -> None:
    credit("cust", 5000)
    booking_id = hold(paid_room())
    response = pay(booking_id, walletAmount="max")
    assert response.status == 201, response.body
    assert response.body["booking"]["status"] == "confirmed"
    assert response.body["clientSecret"] is None
    assert provider.payments == []
    assert balance() == 5000 - PRICE
    entries = call("GET", "/api/v1/wallet/transactions", user="cust").body["transactions"]
    assert entries[0]["amount"] == -PRICE and entries[0]["bookingId"] == booking_id


def test_a_failed_payment_releases_the_hold_and_returns_the_wallet_share(provider: FakeProvider) -> None:
    credit("cust", 500)
    room = paid_room()
    booking_id = hold(room)
    response = pay(booking_id, walletAmount=500)
    assert response.body["payment"]["cardAmount"] == PRICE - 500
    assert provider.payments[0].amount == PRICE - 500
    assert balance() == 0
    assert processor.handle(intent_event("payment_failed", payment_of(booking_id))) == "released"
    assert booking(booking_id).status == "cancelled"
    assert balance() == 500
    assert payment_of(booking_id).status == "failed"
    hold(room, user="next")  # the slot is free again
    # A success for the failed try, arriving late: the money goes back, the booking stays cancelled.
    assert processor.handle(intent_event("succeeded", payment_of(booking_id))) == "refunded"
    assert payment_of(booking_id).status == "refunded_unconfirmed"
    assert provider.refunds[-1].amount == PRICE - 500
    assert balance() == 500  # the wallet share was returned once, not twice


def test_a_payment_after_the_slot_was_taken_is_refunded_with_the_reason(provider: FakeProvider) -> None:
    room = paid_room(holdTtlSeconds=60)
    booking_id = hold(room, now=datetime.now(UTC) - timedelta(minutes=5))
    payment_started = windows.now_utc
    assert payment_started
    # Start the payment while the hold was live, then let another customer take the lapsed slot.
    from slotwise.payments import service as payments

    payments.start_payment(
        Caller("cust", "customer"),
        booking_id,
        payments.PaymentCreate(),
        now=datetime.now(UTC) - timedelta(minutes=4, seconds=30),
    )
    hold(room, user="other")
    assert booking(booking_id).status == "expired"
    assert processor.handle(intent_event("succeeded", payment_of(booking_id))) == "refunded"
    payment = payment_of(booking_id)
    assert payment.status == "refunded_unconfirmed"
    assert payment.failure_reason is not None and "expired" in payment.failure_reason
    assert provider.refunds[-1].amount == PRICE


def test_a_lapsed_hold_nobody_took_is_still_confirmed_by_its_payment(provider: FakeProvider) -> None:
    room = paid_room(holdTtlSeconds=60)
    from slotwise.payments import service as payments

    booking_id = hold(room, now=datetime.now(UTC) - timedelta(minutes=5))
    payments.start_payment(
        Caller("cust", "customer"),
        booking_id,
        payments.PaymentCreate(),
        now=datetime.now(UTC) - timedelta(minutes=4, seconds=30),
    )
    assert processor.handle(intent_event("succeeded", payment_of(booking_id))) == "confirmed"
    assert booking(booking_id).status == "confirmed"


def test_an_async_payment_keeps_the_slot_until_it_settles(provider: FakeProvider) -> None:
    booking_id = hold(paid_room())
    pay(booking_id)
    payment = payment_of(booking_id)
    assert processor.handle(intent_event("processing", payment)) == "pending"
    pending = booking(booking_id)
    assert pending.status == "payment_pending" and pending.expires_at is None
    assert deadlines.expire_lapsed(datetime.now(UTC) + timedelta(days=2)) == 0
    cancel = call("POST", f"/api/v1/bookings/{booking_id}/cancel", body={}, user="cust")
    assert cancel.code == "payment_pending"
    assert processor.handle(intent_event("succeeded", payment_of(booking_id))) == "confirmed"
    assert booking(booking_id).status == "confirmed"


def _paid_booking(provider: FakeProvider, *, start: datetime = START, **policy: Any) -> tuple[str, Payment]:
    booking_id = hold(paid_room(**policy), start=start)
    pay(booking_id)
    processor.handle(intent_event("succeeded", payment_of(booking_id)))
    return booking_id, payment_of(booking_id)


def test_the_quote_follows_the_tiers_and_the_cancellation_refunds_it(provider: FakeProvider) -> None:
    policy = {
        "cancellation": {
            "tiers": [{"minHoursBefore": 168, "percent": 100}, {"minHoursBefore": 48, "percent": 50}],
            "fee": 100,
        }
    }
    booking_id, payment = _paid_booking(
        provider, start=datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3), **policy
    )
    quote = call("GET", f"/api/v1/bookings/{booking_id}/cancellation-quote", user="cust")
    assert quote.status == 200, quote.body
    assert quote.body["percent"] == 50
    assert quote.body["fee"] == 100
    assert quote.body["refundAmount"] == PRICE // 2 - 100
    cancelled = call("POST", f"/api/v1/bookings/{booking_id}/cancel", body={"refundTo": "card"}, user="cust")
    assert cancelled.status == 200, cancelled.body
    summary = cancelled.body["cancelled"][0]["payment"]
    assert summary["amountRefunded"] == PRICE // 2 - 100 and summary["state"] == "partially_refunded"
    assert provider.refunds[-1].amount == PRICE // 2 - 100
    assert provider.refunds[-1].payment_intent_id == payment.payment_intent_id
    refund = store.refunds_of(payment.id)[0]
    assert refund.status == "pending" and refund.destination == "card"
    assert processor.handle(refund_event(refund, payment)) == "refund_succeeded"
    assert store.get_refund(refund.id).status == "succeeded"  # type: ignore[union-attr]


def test_a_refund_to_the_wallet_is_one_ledger_entry(provider: FakeProvider) -> None:
    booking_id, _ = _paid_booking(provider)
    cancelled = call("POST", f"/api/v1/bookings/{booking_id}/cancel", body={"refundTo": "wallet"}, user="cust")
    assert cancelled.status == 200
    assert balance() == PRICE  # 10 days ahead: the 100 % tier
    assert provider.refunds == []
    entries = call("GET", "/api/v1/wallet/transactions", user="cust").body["transactions"]
    assert [(e["kind"], e["amount"], e["bookingId"]) for e in entries] == [("refund", PRICE, booking_id)]
    assert call("GET", "/api/v1/wallet", user="cust").body == {"balances": [{"currency": "EUR", "balance": PRICE}]}


def test_the_vendor_cancelling_refunds_everything_even_late(provider: FakeProvider) -> None:
    booking_id, _ = _paid_booking(
        provider, start=datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(hours=3)
    )
    assert call("GET", f"/api/v1/bookings/{booking_id}/cancellation-quote", user="cust").body["refundAmount"] == 0
    quote = call("GET", f"/api/v1/bookings/{booking_id}/cancellation-quote", user="vendor-1", role="vendor").body
    assert quote["refundAmount"] == PRICE and quote["by"] == "provider"
    call("POST", f"/api/v1/bookings/{booking_id}/cancel", body={}, user="vendor-1", role="vendor")
    assert provider.refunds[-1].amount == PRICE


def test_a_card_refund_the_bank_refuses_lands_in_the_wallet(provider: FakeProvider) -> None:
    booking_id, payment = _paid_booking(provider)
    call("POST", f"/api/v1/bookings/{booking_id}/cancel", body={"refundTo": "card"}, user="cust")
    refund = store.refunds_of(payment.id)[0]
    assert processor.handle(refund_event(refund, payment, status="failed")) == "refund_failed"
    assert balance() == PRICE


def test_the_reconciler_retries_card_refunds_the_provider_did_not_take(provider: FakeProvider) -> None:
    booking_id, payment = _paid_booking(provider)
    provider.fail_refunds = True
    call("POST", f"/api/v1/bookings/{booking_id}/cancel", body={"refundTo": "card"}, user="cust")
    refund = store.refunds_of(payment.id)[0]
    assert refund.status == "requested"
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert reconcile.run(later) == {"refund_retry_later": 1}
    assert reconcile.run(later) == {}  # backed off
    provider.fail_refunds = False
    assert reconcile.run(later + timedelta(minutes=5)) == {"refund_sent": 1}
    assert store.get_refund(refund.id).status == "pending"  # type: ignore[union-attr]
    assert len({r.idempotency_key for r in provider.refunds}) == 1


def test_the_reconciler_voids_payments_of_holds_that_ended_unpaid(provider: FakeProvider) -> None:
    credit("cust", 300)
    room = paid_room(holdTtlSeconds=60)
    booking_id = hold(room)
    pay(booking_id, walletAmount=300)
    assert balance() == 0
    assert reconcile.run(datetime.now(UTC) + timedelta(minutes=5)) == {"expired": 1}
    assert booking(booking_id).status == "expired"
    assert payment_of(booking_id).status == "canceled"
    assert balance() == 300
    assert provider.cancelled == [payment_of(booking_id).provider_ref]


def test_cancelling_a_held_booking_voids_its_open_payment(provider: FakeProvider) -> None:
    credit("cust", 300)
    booking_id = hold(paid_room())
    pay(booking_id, walletAmount=300)
    assert call("POST", f"/api/v1/bookings/{booking_id}/cancel", body={}, user="cust").status == 200
    assert payment_of(booking_id).status == "canceled"
    assert balance() == 300


def test_the_wallet_cannot_pay_more_than_it_holds(provider: FakeProvider) -> None:
    credit("cust", 100)
    booking_id = hold(paid_room())
    assert pay(booking_id, walletAmount=200).code == "insufficient_wallet_balance"
    assert pay(booking_id, walletAmount=PRICE + 1).status == 422
    assert balance() == 100


def test_payment_endpoints_answer_404_for_someone_elses_ids(provider: FakeProvider) -> None:
    booking_id = hold(paid_room())
    pay(booking_id)
    payment_id = payment_of(booking_id).id
    assert pay(booking_id, user="mallory").status == 404
    assert call("GET", f"/api/v1/bookings/{booking_id}/cancellation-quote", user="mallory").status == 404
    assert call("GET", f"/api/v1/payments/{payment_id}", user="mallory").status == 404
    assert call("GET", f"/api/v1/payments/{payment_id}", user="vendor-2", role="vendor").status == 404
    assert call("POST", f"/api/v1/dev/payments/{payment_id}/succeed", body={}, user="mallory").status == 404
    assert call("GET", f"/api/v1/payments/{payment_id}", user="cust").status == 200
    assert call("GET", f"/api/v1/payments/{payment_id}", user="vendor-1", role="vendor").status == 200
    assert call("GET", f"/api/v1/payments/{payment_id}", user="root", role="admin").status == 200
    assert [p["id"] for p in call("GET", "/api/v1/payments", user="cust").body["payments"]] == [payment_id]
    assert call("GET", "/api/v1/payments", user="mallory").body["payments"] == []
    assert call("GET", "/api/v1/payments", user="vendor-2", role="vendor").body["payments"] == []
    assert [p["id"] for p in call("GET", "/api/v1/payments", user="vendor-1", role="vendor").body["payments"]] == [
        payment_id
    ]
    assert call("GET", "/api/v1/payments", query={"vendorId": "vendor-1"}, user="vendor-2", role="vendor").status == 403
    assert call("GET", "/api/v1/payments", user="root", role="admin").body["payments"][0]["id"] == payment_id
    assert call("GET", "/api/v1/wallet", user="guest").status in (200,)
    assert call("GET", "/api/v1/wallet").status == 401


def test_the_vendor_cannot_pay_for_the_customer(provider: FakeProvider) -> None:
    booking_id = hold(paid_room())
    assert pay(booking_id, user="vendor-1").status in (403, 404)


def test_ledger_split_sends_what_the_card_cannot_take_to_the_wallet() -> None:
    from slotwise.payments.policy import split

    assert split(500, card_left=300, to_card=True) == (300, 200)
    assert split(500, card_left=900, to_card=True) == (500, 0)
    assert split(500, card_left=900, to_card=False) == (0, 500)
    assert ledger.Effects().refunds == []


def test_a_checkout_session_confirms_on_completion_and_a_decline_on_its_page_is_not_final(
    provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOTWISE_PAYMENT_FLOW", "checkout_session")
    from slotwise.settings import get_settings

    get_settings.cache_clear()
    booking_id = hold(paid_room())
    started = pay(booking_id)
    assert started.body["checkoutUrl"].startswith("https://checkout.test/cs_fake_")
    assert started.body["clientSecret"] is None
    payment = payment_of(booking_id)
    assert (payment.flow, payment.payment_intent_id) == ("checkout_session", None)
    declined = payment.model_copy(update={"payment_intent_id": "pi_from_session"})
    assert processor.handle(intent_event("payment_failed", declined)) == "retry_possible"
    assert booking(booking_id).status == "held"
    assert processor.handle(session_event("completed", payment, intent_id="pi_from_session")) == "confirmed"
    assert booking(booking_id).status == "confirmed"
    # The intent's own success arriving after the session's changes nothing; refunds know the intent.
    assert processor.handle(intent_event("succeeded", declined)) == "duplicate"
    assert payment_of(booking_id).payment_intent_id == "pi_from_session"


def test_an_expired_checkout_session_releases_the_hold(provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTWISE_PAYMENT_FLOW", "checkout_session")
    from slotwise.settings import get_settings

    get_settings.cache_clear()
    room = paid_room()
    booking_id = hold(room)
    pay(booking_id)
    assert processor.handle(session_event("expired", payment_of(booking_id), intent_id=None)) == "released"
    assert booking(booking_id).status == "cancelled"
    hold(room, user="next")


def test_payments_are_listed_newest_first_and_filtered_by_status_and_time(provider: FakeProvider) -> None:
    room = paid_room()
    first = hold(room)
    pay(first)
    processor.handle(intent_event("succeeded", payment_of(first)))
    second = hold(room, start=START + timedelta(hours=3))
    pay(second)
    listed = call("GET", "/api/v1/payments", user="cust").body["payments"]
    assert [p["bookingId"] for p in listed] == [second, first]
    paid = call("GET", "/api/v1/payments", query={"status": "succeeded"}, user="cust").body["payments"]
    assert [p["bookingId"] for p in paid] == [first]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert call("GET", "/api/v1/payments", query={"from": later}, user="cust").body["payments"] == []
    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert len(call("GET", "/api/v1/payments", query={"from": earlier}, user="cust").body["payments"]) == 2


def test_the_reconciler_waits_for_live_holds_and_settling_payments(provider: FakeProvider) -> None:
    live = hold(paid_room())
    pay(live)
    settling = hold(paid_room())
    pay(settling)
    processor.handle(intent_event("processing", payment_of(settling)))
    # Neither is due before the hold's deadline; a settling payment is looked at again a day later, not voided.
    assert reconcile.run(datetime.now(UTC) + timedelta(minutes=1)) == {}
    assert reconcile.run(datetime.now(UTC) + timedelta(minutes=20)) == {"expired": 1, "processing": 1}
    assert booking(live).status == "expired"
    assert payment_of(settling).status == "processing"
    assert booking(settling).status == "payment_pending"
    assert reconcile.run(datetime.now(UTC) + timedelta(minutes=30)) == {}
