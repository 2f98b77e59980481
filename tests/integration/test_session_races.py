"""Advisor sessions on AWS's engine (issue 15): an accepted request racing its expiry, a completion racing a
cancellation, a capture racing a void, and every authorization event delivered three times. Each race has exactly
one outcome, the inventory agrees with it, and the provider is asked once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise import errors
from slotwise.booking import create, deadlines, inventory, lifecycle, sessions
from slotwise.booking import store as booking_store
from slotwise.booking.models import Booking, BookingCreate
from slotwise.identity.models import Caller
from slotwise.payments import reconcile, store
from slotwise.payments import service as payments
from slotwise.payments.models import Payment, PaymentCreate
from slotwise.payments.provider import use_provider
from tests.integration.test_payment_conditions import deliver_like_sqs
from tests.support.catalog import make_resource
from tests.support.payments import FakeProvider, intent_event

pytestmark = pytest.mark.dynamodb_local

START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
END = START + timedelta(hours=1)
PRICE = 2000
ADVISOR = Caller("adv-1", "advisor")
CUSTOMER = Caller("cust", "customer")
ROUNDS = 6


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.fixture
def provider(local_table: str) -> FakeProvider:
    fake = FakeProvider()
    use_provider(fake)
    return fake


def advisor_resource(**policy: Any) -> str:
    return make_resource(kind="advisor", attributes={"advisorUserId": ADVISOR.user_id}, policy=policy).id


def book(resource_id: str, start: datetime = START, *, now: datetime | None = None) -> Booking:
    data = BookingCreate(resourceId=resource_id, startTime=start, endTime=start + timedelta(hours=1))
    return create.create_booking(CUSTOMER, data, now=now).booking


def current(booking_id: str) -> Booking:
    found = booking_store.get_booking(booking_id)
    assert found is not None
    return found


def payment_of(booking_id: str) -> Payment:
    found, _ = store.current_payment(booking_id)
    assert found is not None
    return found


def race(*actions: Callable[[], object]) -> list[object]:
    """Run the actions at once (a barrier); each result is its return value or the domain error it raised."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(index: int, action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except errors.SlotwiseError as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def authorized(resource_id: str, start: datetime = START) -> tuple[Booking, Payment]:
    booking = book(resource_id, start)
    payments.start_payment(CUSTOMER, booking.id, PaymentCreate())
    outcomes = deliver_like_sqs([intent_event("amount_capturable_updated", payment_of(booking.id))])
    assert outcomes == {"authorized": 1, "duplicate": 2}
    return current(booking.id), payment_of(booking.id)


def test_accepting_a_request_racing_its_expiry_has_one_outcome(provider: FakeProvider) -> None:
    resource_id = advisor_resource(confirmation="approval_then_payment", holdTtlSeconds=60)
    created = datetime.now(UTC)
    for hour in range(ROUNDS):
        request = book(resource_id, START + timedelta(hours=hour), now=created)
        assert request.expires_at is not None
        accepted, expired = race(
            lambda r=request: lifecycle.decide(ADVISOR, r.id, approve=True, now=r.expires_at - timedelta(seconds=1)),
            lambda r=request: deadlines.expire_one(r.id, r.expires_at + timedelta(seconds=1)),
        )
        after = current(request.id)
        holders = inventory.slot_holders(request.resource_id, request.lock_keys, request.id)
        if isinstance(accepted, Booking):
            assert expired is False
            assert after.status == "held"  # accepted: now waiting for the payment, its slot still claimed
            assert holders == set(request.lock_keys)
        else:
            assert expired is True and isinstance(accepted, errors.Conflict)
            assert after.status == "expired"
            assert holders == set()
        assert after.version == request.version + 1


def test_completion_racing_cancellation_captures_or_voids_never_both(provider: FakeProvider) -> None:
    resource_id = advisor_resource(confirmation="authorize_then_capture")
    for hour in range(ROUNDS):
        provider.captured.clear()
        provider.cancelled.clear()
        booking, payment = authorized(resource_id, START + timedelta(hours=hour))
        at = booking.start_time + timedelta(minutes=5)
        completed, cancelled = race(
            lambda b=booking, at=at: sessions.complete_session(ADVISOR, b.id, now=at),
            lambda b=booking, at=at: lifecycle.cancel_booking(CUSTOMER, b.id, "changed my mind", at),
        )
        winners = [r for r in (completed, cancelled) if isinstance(r, Booking)]
        assert len(winners) == 1, (completed, cancelled)
        after = current(booking.id)
        if isinstance(completed, Booking):
            assert after.status == "completed"
            assert payment_of(booking.id).status == "capturing"
            assert provider.captured == [(payment.payment_intent_id, PRICE, f"slotwise-capture-{payment.id}")]
            assert provider.cancelled == []
        else:
            assert after.status == "cancelled"
            assert payment_of(booking.id).status == "canceled"
            assert provider.cancelled == [payment.provider_ref]
            assert provider.captured == []


def test_capture_racing_the_reconcilers_void_has_one_winner(provider: FakeProvider) -> None:
    resource_id = advisor_resource(confirmation="authorize_then_capture")
    for hour in range(ROUNDS):
        provider.captured.clear()
        provider.cancelled.clear()
        booking, payment = authorized(resource_id, START + timedelta(hours=hour))
        # The advisor completes after the start while the reconciler, reading an earlier clock, would release the
        # authorization of a session still to come: both write the payment conditionally on its version.
        completed, reconciled = race(
            lambda b=booking: sessions.complete_session(ADVISOR, b.id, now=b.start_time + timedelta(minutes=5)),
            lambda b=booking, p=payment: reconcile.reconcile_payment(p.id, b.start_time - timedelta(hours=1)),
        )
        status = payment_of(booking.id).status
        if isinstance(completed, Booking):
            assert reconciled in ("busy", "waiting"), reconciled
            assert status == "capturing"
            assert provider.captured == [(payment.payment_intent_id, PRICE, f"slotwise-capture-{payment.id}")]
            assert provider.cancelled == []
        else:
            assert reconciled == "released"
            assert status == "canceled"
            assert current(booking.id).status == "cancelled"
            assert provider.cancelled == [payment.provider_ref]
            assert provider.captured == []


def test_every_authorization_event_delivered_three_times_applies_once(provider: FakeProvider) -> None:
    resource_id = advisor_resource(confirmation="authorize_then_capture")
    booking, _payment = authorized(resource_id)  # amount_capturable_updated x3: one authorization
    sessions.complete_session(ADVISOR, booking.id, now=booking.start_time + timedelta(minutes=50))
    captured = intent_event("succeeded", payment_of(booking.id))
    assert deliver_like_sqs([captured]) == {"captured": 1, "duplicate": 2}
    assert payment_of(booking.id).status == "succeeded"
    assert current(booking.id).payment is not None
    assert current(booking.id).payment.amount_paid == PRICE  # type: ignore[union-attr]

    voided_booking, voided_payment = authorized(resource_id, START + timedelta(hours=3))
    lifecycle.cancel_booking(CUSTOMER, voided_booking.id, "", START - timedelta(days=1))
    outcomes = deliver_like_sqs([intent_event("canceled", voided_payment)])
    assert outcomes == {"ignored_late_failure": 3}
    assert payment_of(voided_booking.id).status == "canceled"
    assert provider.cancelled == [voided_payment.provider_ref]
    assert len(provider.captured) == 1


def test_the_deciders_reminder_is_marked_once_however_many_sweeps_race(provider: FakeProvider) -> None:
    resource_id = advisor_resource(confirmation="approval", approvalTtlHours=24)
    created = datetime.now(UTC)
    request = book(resource_id, now=created)
    half_way = created + timedelta(hours=12, minutes=1)
    results = race(*[lambda: deadlines.remind_decider(request.id, half_way) for _ in range(4)])
    assert results.count(True) == 1 and results.count(False) == 3
    reminded = current(request.id)
    assert reminded.approval_reminded and reminded.version == request.version
    # Accepting commits against the version read, whatever the reminder wrote meanwhile; a reminder after the
    # decision finds nothing to remind.
    lifecycle.decide(ADVISOR, request.id, approve=True, now=half_way)
    assert deadlines.remind_decider(request.id, half_way) is False
    assert current(request.id).status == "confirmed"
