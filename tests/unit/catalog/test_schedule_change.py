"""Schedule changes through the handlers (moto): the window moves, every active booking moves with it once, the
customers and agents are told, and a plain PUT cannot move a window. The race with new bookings is judged on
DynamoDB Local (tests/integration/test_schedule_change_race.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from slotwise.booking import deadlines, schedule_change, store
from slotwise.booking.models import Booking
from slotwise.catalog import repository
from slotwise.catalog.models import CancellationPolicy
from slotwise.events.envelope import DomainEvent
from slotwise.notifications.service import booking_facts, recipients
from slotwise.payments.policy import refund_terms
from tests.support.http import ApiResponse, call

VENDOR = "airline-1"
DAY = date.today() + timedelta(days=40)
DEPARTURE = datetime(DAY.year, DAY.month, DAY.day, 9, 0, tzinfo=UTC)
LATER = DEPARTURE + timedelta(hours=2)


def as_vendor(method: str, path: str, user: str = VENDOR, **kwargs: Any) -> ApiResponse:
    return call(method, path, user=user, role="vendor", **kwargs)


def cabin(capacity: int = 10, cancellation: dict[str, Any] | None = None) -> dict[str, Any]:
    venue = as_vendor("POST", "/api/v1/venues", body={"name": "Air", "city": "Lisbon", "timezone": "Europe/Lisbon"})
    created = as_vendor(
        "POST",
        "/api/v1/resources",
        body={
            "venueId": venue.body["id"],
            "name": "Economy",
            "type": "seat_pool",
            "capacity": capacity,
            "policy": {
                "unit": "fixed",
                "fixedStart": DEPARTURE.isoformat(),
                "fixedEnd": (DEPARTURE + timedelta(hours=3)).isoformat(),
                **({"cancellation": cancellation} if cancellation else {}),
            },
            "pricing": {"currency": "EUR", "unitPrice": 9900},
            "route": {"origin": "LIS", "destination": "FNC"},
        },
    )
    assert created.status == 201, created.body
    return dict(created.body)


def book(resource_id: str, user: str, *, role: str = "customer", **body: Any) -> dict[str, Any]:
    made = call("POST", "/api/v1/bookings", user=user, role=role, body={"resourceId": resource_id, **body})
    assert made.status == 201, made.body
    return dict(made.body)


def change(resource_id: str, start: datetime = LATER, *, user: str = VENDOR, **extra: Any) -> ApiResponse:
    body = {
        "fixedStart": start.isoformat(),
        "fixedEnd": (start + timedelta(hours=3)).isoformat(),
        "reason": "Late inbound aircraft",
        **extra,
    }
    return as_vendor("POST", f"/api/v1/resources/{resource_id}/schedule-change", user=user, body=body)


def stored(booking_id: str) -> Booking:
    found = store.get_booking(booking_id)
    assert found is not None
    return found


def test_every_active_booking_moves_once_and_the_cancelled_one_stays(table: str) -> None:
    seats = cabin()
    alice = book(seats["id"], "alice")
    for_bob = book(seats["id"], "agent-1", role="agent", customerId="bob", quantity=2)
    gone = book(seats["id"], "carol")
    assert call("POST", f"/api/v1/bookings/{gone['id']}/cancel", user="carol", body={}).status == 200

    moved = change(seats["id"])
    assert moved.status == 200, moved.body
    assert datetime.fromisoformat(moved.body["policy"]["fixedStart"]) == LATER
    assert moved.body["scheduleChange"]["status"] == "done"
    assert moved.body["scheduleChange"]["moved"] == 2
    assert moved.body["scheduleChange"]["reason"] == "Late inbound aircraft"

    for made in (alice, for_bob):
        booking = stored(made["id"])
        assert booking.start_time == LATER and booking.end_time == LATER + timedelta(hours=3)
        assert booking.version == made["version"] + 1
        last = booking.history[-1]
        assert (last.action, last.from_start, last.to_start, last.note) == (
            "schedule_changed",
            DEPARTURE,
            LATER,
            "Late inbound aircraft",
        )
        assert booking.full_refund_until is not None
        assert booking.full_refund_until - booking.updated_at == timedelta(days=7)
        assert [h.action for h in booking.history].count("schedule_changed") == 1
    assert stored(gone["id"]).start_time == DEPARTURE

    # Asked again (a retry, the job): nothing moves twice.
    assert schedule_change.move_bookings(repository.get_resource(seats["id"]), datetime.now(UTC)).moved == 0  # type: ignore[arg-type]
    assert stored(alice["id"]).version == alice["version"] + 1


def test_a_change_that_does_not_finish_in_one_call_is_resumed_by_the_timers_job(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seats = cabin()
    made = [book(seats["id"], f"user-{i}") for i in range(3)]
    monkeypatch.setattr(schedule_change, "MOVES_PER_CALL", 1)
    first = change(seats["id"])
    assert first.status == 200
    assert first.body["scheduleChange"]["status"] == "moving"
    running = change(seats["id"], LATER + timedelta(hours=1))
    assert (running.status, running.code) == (409, "schedule_change_running")
    assert repository.moving_resources() == [seats["id"]]

    deadlines.run_timers()
    deadlines.run_timers()
    assert repository.moving_resources() == []
    assert all(stored(b["id"]).start_time == LATER for b in made)
    resource = repository.get_resource(seats["id"])
    assert resource is not None and resource.schedule_change is not None
    assert (resource.schedule_change.status, resource.schedule_change.moved) == ("done", 3)
    # Done: the next change is accepted.
    assert change(seats["id"], LATER + timedelta(hours=1)).status == 200


def test_a_plain_put_cannot_move_the_window(table: str) -> None:
    seats = cabin()
    current = as_vendor("GET", f"/api/v1/resources/{seats['id']}")
    body = {k: v for k, v in current.body.items() if k in ("name", "type", "capacity", "pricing", "route", "policy")}
    body["policy"] = {
        **body["policy"],
        "fixedStart": LATER.isoformat(),
        "fixedEnd": (LATER + timedelta(hours=3)).isoformat(),
    }
    refused = as_vendor("PUT", f"/api/v1/resources/{seats['id']}", body=body)
    assert (refused.status, refused.code) == (409, "schedule_change_required")
    assert "schedule-change" in refused.body["detail"]
    unchanged = dict(
        body,
        policy={**body["policy"], "fixedStart": seats["policy"]["fixedStart"], "fixedEnd": seats["policy"]["fixedEnd"]},
        name="Economy Plus",
    )
    assert as_vendor("PUT", f"/api/v1/resources/{seats['id']}", body=unchanged).status == 200


def test_a_booking_made_from_a_read_before_the_change_is_refused_not_stranded(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seats = cabin()
    before = repository.get_resource(seats["id"])
    assert change(seats["id"]).status == 200
    # The booking read the resource before the change committed.
    monkeypatch.setattr("slotwise.booking.create.bookable_resource", lambda _id: before)
    late = call("POST", "/api/v1/bookings", user="dave", body={"resourceId": seats["id"]})
    assert (late.status, late.code) == (409, "schedule_changed")
    monkeypatch.undo()
    assert book(seats["id"], "dave")["startTime"].startswith(LATER.date().isoformat())


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"fixedStart": (DEPARTURE - timedelta(days=400)).isoformat()}, 422, "start_in_past"),
        ({"fixedStart": DEPARTURE.isoformat()}, 422, "no_change"),
        ({"reason": ""}, 422, "validation_failed"),
        ({"gate": "B12"}, 422, "validation_failed"),
        ({"fixedEnd": DEPARTURE.isoformat(), "fixedStart": LATER.isoformat()}, 422, "validation_failed"),
    ],
)
def test_bad_changes_are_refused_and_nothing_moves(table: str, body: dict[str, Any], status: int, code: str) -> None:
    seats = cabin()
    made = book(seats["id"], "alice")
    start = datetime.fromisoformat(body.pop("fixedStart")) if "fixedStart" in body else LATER
    refused = change(seats["id"], start, **body)
    assert (refused.status, refused.code) == (status, code), refused.body
    assert stored(made["id"]).version == made["version"]


def test_only_the_owner_changes_a_schedule(table: str) -> None:
    seats = cabin()
    assert change(seats["id"], user="airline-2").status == 404
    assert (
        call(
            "POST",
            f"/api/v1/resources/{seats['id']}/schedule-change",
            user="alice",
            role="customer",
            body={"fixedStart": LATER.isoformat(), "fixedEnd": (LATER + timedelta(hours=1)).isoformat(), "reason": "x"},
        ).status
        == 403
    )


def test_a_timed_resource_has_no_schedule_to_change(table: str) -> None:
    venue = as_vendor("POST", "/api/v1/venues", body={"name": "Rooms", "city": "Lisbon", "timezone": "Europe/Lisbon"})
    room = as_vendor(
        "POST",
        "/api/v1/resources",
        body={
            "venueId": venue.body["id"],
            "name": "Room",
            "type": "meeting_room",
            "pricing": {"currency": "EUR", "unitPrice": 100},
        },
    )
    refused = change(room.body["id"])
    assert (refused.status, refused.code) == (422, "not_fixed")


def test_the_customer_and_the_agent_who_booked_are_told(table: str) -> None:
    seats = cabin()
    made = book(seats["id"], "agent-1", role="agent", customerId="bob")
    change(seats["id"])
    moved = stored(made["id"])
    event = DomainEvent(
        type="booking.schedule_changed",
        aggregate="booking",
        aggregate_id=moved.id,
        aggregate_version=moved.version,
        occurred_at=moved.updated_at,
        data=moved.public(),
        previous={"startTime": made["startTime"], "endTime": made["endTime"]},
    )
    told = {r.user_id: r.plan.kind for r in recipients(event, booking_facts(event))}
    assert told == {"bob": "schedule_changed", "agent-1": "schedule_changed"}


def test_a_moved_customer_cancels_with_everything_back_for_seven_days() -> None:
    strict = CancellationPolicy(tiers=[], fee=500)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    start = now + timedelta(hours=2)
    free = refund_terms(
        strict,
        paid=9900,
        refunded=0,
        start=start,
        now=now,
        by_provider=False,
        full_refund_until=now + timedelta(days=7),
    )
    assert (free.percent, free.fee, free.amount) == (100, 0, 9900)
    late = refund_terms(
        strict,
        paid=9900,
        refunded=0,
        start=start,
        now=now + timedelta(days=7),
        by_provider=False,
        full_refund_until=now + timedelta(days=7),
    )
    assert late.amount == 0


def test_day_counted_add_on_stock_keeps_a_move_within_its_days(table: str) -> None:
    seats = cabin()
    bag = as_vendor(
        "POST",
        f"/api/v1/resources/{seats['id']}/addons",
        body={"name": "Extra bag", "price": 3000, "stock": 20, "stockScope": "per_day"},
    )
    assert bag.status == 201, bag.body
    book(seats["id"], "alice", addons=[{"addonId": bag.body["id"], "quantity": 1}])
    next_day = change(seats["id"], DEPARTURE + timedelta(days=1))
    assert (next_day.status, next_day.code) == (409, "addon_stock_by_day")
    assert change(seats["id"], LATER).status == 200  # same day: the claims stay right


def test_after_a_move_the_customer_is_quoted_everything_back(table: str) -> None:
    """Through the API: a non-refundable fare (no tiers) becomes fully refundable once the operator moved it."""
    seats = cabin(cancellation={"tiers": [], "fee": 500})
    made = book(seats["id"], "alice")
    quote = f"/api/v1/bookings/{made['id']}/cancellation-quote"
    before = call("GET", quote, user="alice")
    assert before.status == 200, before.body
    assert before.body["percent"] == 0
    assert change(seats["id"]).status == 200
    after = call("GET", quote, user="alice")
    assert (after.body["percent"], after.body["fee"]) == (100, 0)
    assert after.body["validUntil"] is not None
