"""Advisor sessions (issue 15): authorize then capture, approval then payment, requests that wait days, and the
session lifecycle (start, complete, the job completing what nobody completed), through the handlers on moto.

Time-sensitive steps call the services with an explicit `now` (the API reads the clock); refusals go through the
handlers. Races and every condition are judged on DynamoDB Local (tests/integration/test_session_races.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise.booking import create, deadlines, lifecycle, sessions
from slotwise.booking import store as booking_store
from slotwise.booking.models import Booking, BookingCreate
from slotwise.events.envelope import DomainEvent
from slotwise.identity.models import Caller
from slotwise.notifications import service as notifier
from slotwise.payments import processor, reconcile, store
from slotwise.payments.models import Payment
from slotwise.payments.provider import use_provider
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import call
from tests.support.payments import FakeProvider, intent_event

START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
END = START + timedelta(hours=1)
PRICE = 2 * 1000  # two 30-minute granules at 10.00
ADVISOR = "adv-1"
ADVISOR_CALLER = Caller(ADVISOR, "advisor")
CUSTOMER = Caller("cust", "customer")


@pytest.fixture
def provider(table: str) -> FakeProvider:
    fake = FakeProvider()
    use_provider(fake)
    return fake


def advisor_resource(**policy: Any) -> str:
    return make_resource(kind="advisor", attributes={"advisorUserId": ADVISOR}, policy=policy).id


def book(resource_id: str, *, now: datetime | None = None) -> Booking:
    data = BookingCreate(resourceId=resource_id, startTime=START, endTime=END)
    return create.create_booking(CUSTOMER, data, now=now).booking


def booking(booking_id: str) -> Booking:
    found = booking_store.get_booking(booking_id)
    assert found is not None
    return found


def payment_of(booking_id: str) -> Payment:
    found, _ = store.current_payment(booking_id)
    assert found is not None
    return found


def post(path: str, user: str, role: str, body: Any = None) -> Any:
    return call("POST", f"/api/v1/bookings/{path}", body=body, user=user, role=role)


def authorized_session(provider: FakeProvider) -> tuple[str, Payment]:
    """An authorize_then_capture booking whose card the provider authorized (the event delivered 3 times)."""
    booking_id = book(advisor_resource(confirmation="authorize_then_capture")).id
    paying = post(f"{booking_id}/payment", "cust", "customer", {})
    assert paying.status == 201, paying.body
    assert provider.payments[-1].capture_method == "manual"
    payment = payment_of(booking_id)
    event = intent_event("amount_capturable_updated", payment)
    assert [processor.handle(event) for _ in range(3)] == ["authorized", "duplicate", "duplicate"]
    return booking_id, payment_of(booking_id)


def test_authorize_start_complete_captures_the_price_once(provider: FakeProvider) -> None:
    booking_id, payment = authorized_session(provider)
    confirmed = booking(booking_id)
    assert confirmed.status == "confirmed"
    assert confirmed.payment is not None and confirmed.payment.state == "authorized"
    assert confirmed.payment.amount_paid == 0  # nothing taken while only authorized
    assert payment.status == "authorized"
    # Through the handlers: the customer may not run the session, the advisor not three days early.
    assert post(f"{booking_id}/start", "cust", "customer").status == 403
    too_early = post(f"{booking_id}/start", ADVISOR, "advisor")
    assert (too_early.status, too_early.code) == (409, "too_early")
    not_started = post(f"{booking_id}/complete", ADVISOR, "advisor")
    assert (not_started.status, not_started.code) == (409, "not_started")
    assert provider.captured == []

    started = sessions.start_session(ADVISOR_CALLER, booking_id, now=START - timedelta(minutes=10))
    assert started.status == "in_progress"
    done = sessions.complete_session(ADVISOR_CALLER, booking_id, now=END - timedelta(minutes=5))
    assert done.status == "completed"
    assert done.payment is not None and (done.payment.state, done.payment.amount_paid) == ("paid", PRICE)
    assert provider.captured == [(payment.payment_intent_id, PRICE, f"slotwise-capture-{payment.id}")]
    assert payment_of(booking_id).status == "capturing"
    captured = intent_event("succeeded", payment_of(booking_id))
    assert [processor.handle(captured) for _ in range(3)] == ["captured", "duplicate", "duplicate"]
    assert payment_of(booking_id).status == "succeeded"
    # Completed once: the job finds nothing left, and a second completion is refused.
    assert deadlines.handle_timer(booking_id, END + timedelta(minutes=1)) is None
    with pytest.raises(Exception, match="cannot become completed"):
        sessions.complete_session(ADVISOR_CALLER, booking_id, now=END)
    assert len(provider.captured) == 1


def test_cancelled_before_the_start_voids_the_authorization_and_captures_nothing(provider: FakeProvider) -> None:
    booking_id, payment = authorized_session(provider)
    cancelled = post(f"{booking_id}/cancel", "cust", "customer", {})
    assert cancelled.status == 200, cancelled.body
    after = booking(booking_id)
    assert after.status == "cancelled"
    assert after.payment is not None and after.payment.state == "voided"
    assert payment_of(booking_id).status == "canceled"
    assert provider.cancelled == [payment.provider_ref]
    assert provider.refunds == [] and provider.captured == []
    # Stripe's own `payment_intent.canceled`, delivered 3 times, changes nothing more.
    voided = intent_event("canceled", payment)
    assert {processor.handle(voided) for _ in range(3)} == {"ignored_late_failure"}
    assert payment_of(booking_id).status == "canceled"


def test_a_session_nobody_completed_is_completed_by_the_job_and_captured_by_the_reconciler(
    provider: FakeProvider,
) -> None:
    booking_id, payment = authorized_session(provider)
    assert deadlines.handle_timer(booking_id, END + timedelta(minutes=1)) == "complete"
    done = booking(booking_id)
    assert done.status == "completed"
    assert done.payment is not None and done.payment.state == "paid"
    # The timers function holds no Stripe key: it marks the capture, the reconciler sends it, once.
    assert provider.captured == []
    assert payment_of(booking_id).status == "capturing"
    reconcile.run(END + timedelta(minutes=2))
    reconcile.run(END + timedelta(minutes=2, seconds=30))  # not due again yet
    assert provider.captured == [(payment.payment_intent_id, PRICE, f"slotwise-capture-{payment.id}")]
    assert processor.handle(intent_event("succeeded", payment_of(booking_id))) == "captured"
    assert reconcile.run(END + timedelta(hours=1)) == {}
    assert len(provider.captured) == 1


def test_an_authorization_about_to_lapse_is_captured_after_the_session_or_released_before_it(
    provider: FakeProvider,
) -> None:
    booking_id, payment = authorized_session(provider)
    assert payment.authorized_at is not None
    six_days = payment.authorized_at + timedelta(days=6, minutes=1)
    # The session (three days out) has not happened six days after the authorization? It has: START < six_days.
    assert reconcile.run(six_days) == {"captured": 1}
    assert len(provider.captured) == 1
    assert booking(booking_id).status == "confirmed"  # the booking itself completes at its end as usual

    # A session still to come: released, the booking cancelled and its slot free again.
    later = make_resource(
        kind="advisor", attributes={"advisorUserId": ADVISOR}, policy={"confirmation": "authorize_then_capture"}
    ).id
    second = book(later).id
    assert post(f"{second}/payment", "cust", "customer", {}).status == 201
    processor.handle(intent_event("amount_capturable_updated", payment_of(second)))
    authorized_at = payment_of(second).authorized_at
    assert authorized_at is not None
    outcome = reconcile.reconcile_payment(payment_of(second).id, START - timedelta(hours=1))
    assert outcome == "released"
    released = booking(second)
    assert released.status == "cancelled" and released.cancellation is not None
    assert released.cancellation.reason == "authorization_expiring"
    assert payment_of(second).status == "canceled"
    assert payment_of(second).provider_ref in provider.cancelled
    assert book(later).status == "held"  # the slot is free


def test_approval_then_payment_accept_holds_for_payment_and_paying_confirms(provider: FakeProvider) -> None:
    resource_id = advisor_resource(confirmation="approval_then_payment", paymentDueMinutes=30)
    request = book(resource_id)
    assert request.status == "awaiting_approval"
    assert post(f"{request.id}/payment", "cust", "customer", {}).code == "invalid_transition"
    accepted = post(f"{request.id}/confirm", ADVISOR, "advisor", {})
    assert accepted.status == 200, accepted.body
    assert accepted.body["status"] == "held"
    due = datetime.fromisoformat(accepted.body["expiresAt"])
    assert timedelta(minutes=29) < due - datetime.now(UTC) <= timedelta(minutes=30)
    assert post(f"{request.id}/payment", "cust", "customer", {}).status == 201
    assert processor.handle(intent_event("succeeded", payment_of(request.id))) == "confirmed"
    paid = booking(request.id)
    assert paid.status == "confirmed"
    assert paid.payment is not None and paid.payment.amount_paid == PRICE


def expired_event(after: Booking) -> DomainEvent:
    return DomainEvent(
        type="booking.expired",
        aggregate="booking",
        aggregate_id=after.id,
        aggregate_version=after.version,
        occurred_at=after.updated_at,
        data=after.public(),
    )


def test_approval_then_payment_unpaid_by_the_deadline_is_released_and_both_are_told(provider: FakeProvider) -> None:
    resource_id = advisor_resource(confirmation="approval_then_payment", paymentDueMinutes=30)
    now = datetime.now(UTC)
    request = book(resource_id, now=now)
    accepted = lifecycle.decide(ADVISOR_CALLER, request.id, approve=True, now=now)
    assert accepted.status == "held"
    assert deadlines.expire_lapsed(now + timedelta(minutes=29)) == 0
    assert deadlines.expire_lapsed(now + timedelta(minutes=31)) == 1
    lapsed = booking(request.id)
    assert lapsed.status == "expired"
    assert book(resource_id).status == "awaiting_approval"  # the slot was released
    event = expired_event(lapsed)
    told = {r.user_id: r.plan.kind for r in notifier.recipients(event, notifier.booking_facts(event))}
    assert told == {"cust": "expired", VENDOR: "lapsed", ADVISOR: "lapsed"}


def test_a_lapsed_payment_hold_is_told_to_the_customer_only(provider: FakeProvider) -> None:
    now = datetime.now(UTC)
    hold = book(advisor_resource(confirmation="payment"), now=now)
    deadlines.expire_lapsed(now + timedelta(hours=1))
    lapsed = booking(hold.id)
    assert lapsed.status == "expired"
    event = expired_event(lapsed)
    assert [r.user_id for r in notifier.recipients(event, notifier.booking_facts(event))] == ["cust"]


def test_a_request_waits_approval_ttl_hours_with_one_reminder_half_way(provider: FakeProvider) -> None:
    now = datetime.now(UTC)
    request = book(advisor_resource(confirmation="approval", approvalTtlHours=48, holdTtlSeconds=600), now=now)
    assert request.expires_at == now + timedelta(hours=48)
    assert deadlines.expire_lapsed(now + timedelta(hours=23)) == 0
    assert deadlines.expire_lapsed(now + timedelta(hours=24, minutes=1)) == 1
    reminded = booking(request.id)
    assert reminded.status == "awaiting_approval" and reminded.approval_reminded
    assert reminded.version == request.version  # a notice, not a change
    assert deadlines.expire_lapsed(now + timedelta(hours=30)) == 0  # once
    assert booking(request.id).status == "awaiting_approval"
    assert deadlines.expire_lapsed(now + timedelta(hours=48, minutes=1)) == 1
    assert booking(request.id).status == "expired"


def test_approval_ttl_hours_is_bounded() -> None:
    for hours in (0, 169):
        with pytest.raises(ValueError, match="approvalTtlHours"):
            make_resource(policy={"confirmation": "approval", "approvalTtlHours": hours}, store=False)


def test_the_advisor_cancels_a_confirmed_session_with_a_full_refund_but_not_a_request(provider: FakeProvider) -> None:
    resource_id = advisor_resource(confirmation="payment")
    paid = book(resource_id)
    assert post(f"{paid.id}/payment", "cust", "customer", {}).status == 201
    processor.handle(intent_event("succeeded", payment_of(paid.id)))
    cancelled = post(f"{paid.id}/cancel", ADVISOR, "advisor", {"reason": "ill"})
    assert cancelled.status == 200, cancelled.body
    after = booking(paid.id)
    assert after.status == "cancelled"
    assert after.payment is not None and after.payment.amount_refunded == PRICE
    assert [r.amount for r in provider.refunds] == [PRICE]
    event = DomainEvent(
        type="booking.cancelled",
        aggregate="booking",
        aggregate_id=after.id,
        aggregate_version=after.version,
        occurred_at=after.updated_at,
        data=after.public(),
    )
    told = {r.user_id for r in notifier.recipients(event, notifier.booking_facts(event))}
    assert "cust" in told and ADVISOR not in told  # they cancelled it themselves
    request = book(advisor_resource(confirmation="approval"))
    assert post(f"{request.id}/cancel", ADVISOR, "advisor", {}).status == 403
    assert post(f"{request.id}/cancel", "adv-other", "advisor", {}).status == 404


def test_the_job_completes_a_session_under_way_at_its_end(table: str) -> None:
    resource_id = advisor_resource()
    session = book(resource_id)
    sessions.start_session(ADVISOR_CALLER, session.id, now=START + timedelta(minutes=1))
    assert deadlines.handle_timer(session.id, END - timedelta(minutes=1)) is None
    assert deadlines.handle_timer(session.id, END) == "complete"
    assert booking(session.id).status == "completed"


def test_a_session_cannot_start_after_its_end_and_a_started_one_cannot_be_cancelled(table: str) -> None:
    session = book(advisor_resource())
    with pytest.raises(Exception, match="over"):
        sessions.start_session(ADVISOR_CALLER, session.id, now=END)
    sessions.start_session(ADVISOR_CALLER, session.id, now=START)
    refused = post(f"{session.id}/cancel", "cust", "customer", {})
    assert (refused.status, refused.code) == (409, "invalid_transition")
    vendor = post(f"{session.id}/start", VENDOR, "vendor")
    assert (vendor.status, vendor.code) == (409, "invalid_transition")


def test_the_local_simulated_provider_plays_an_authorized_session_end_to_end(table: str) -> None:
    """As on `make dev`: the dev route authorizes the card, completion captures it, the events settle both."""
    import json

    from devstack.simulated_provider import SimulatedProvider

    delivered: list[str] = []

    def deliver(body: bytes, signature: str) -> None:  # straight to the processor: the queue is not the point here
        event = json.loads(body)
        delivered.append(f"{event['type']}:{processor.handle(event)}")

    use_provider(SimulatedProvider(deliver=deliver))
    booking_id = book(advisor_resource(confirmation="authorize_then_capture")).id
    paying = post(f"{booking_id}/payment", "cust", "customer", {})
    assert paying.status == 201, paying.body
    payment_id = paying.body["payment"]["id"]
    played = call("POST", f"/api/v1/dev/payments/{payment_id}/succeed", body={}, user="cust", role="customer")
    assert played.status == 200, played.body
    assert delivered == ["payment_intent.amount_capturable_updated:authorized"]
    assert booking(booking_id).status == "confirmed"
    sessions.complete_session(ADVISOR_CALLER, booking_id, now=END)
    assert delivered[1:] == ["payment_intent.succeeded:captured"]
    assert payment_of(booking_id).status == "succeeded"
    assert booking(booking_id).payment.amount_paid == PRICE  # type: ignore[union-attr]
