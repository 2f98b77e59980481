"""Reminders and completion: which deadline is due (properties), and the job through moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from slotwise import aws
from slotwise.booking import timers
from slotwise.booking.deadlines import run_timers
from slotwise.booking.models import Booking
from slotwise.data.codec import from_item, to_item
from tests.support.catalog import make_resource
from tests.support.http import call

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


def booking(reminders: list[int], done: list[str] | None = None, status: str = "confirmed") -> Booking:
    return Booking.model_validate(
        {
            "id": "b-1",
            "reference": "ABC234",
            "resourceId": "r-1",
            "resourceName": "Room",
            "resourceType": "meeting_room",
            "venueId": "v-1",
            "vendorId": "vendor-1",
            "customerId": "cust-1",
            "createdBy": "cust-1",
            "timezone": "UTC",
            "startTime": START.isoformat(),
            "endTime": END.isoformat(),
            "quantity": 1,
            "lockKeys": [],
            "status": status,
            "price": {"amount": 0, "currency": "EUR", "quantity": 1},
            "createdAt": START.isoformat(),
            "updatedAt": START.isoformat(),
            "reminderMinutes": reminders,
            "timersDone": done or [],
        }
    )


reminder_lists = st.lists(st.integers(min_value=5, max_value=20_160), max_size=3, unique=True)
moments = st.integers(min_value=-20_200, max_value=120).map(lambda m: START + timedelta(minutes=m))


@given(reminder_lists, moments)
def test_at_most_one_timer_acts_and_only_due_ones_are_touched(reminders: list[int], now: datetime) -> None:
    skipped, acting = timers.due_now(booking(reminders), now)
    due = {t.kind for t in timers.timers_of(booking(reminders)) if t.due <= now}
    assert set(skipped) | ({acting.kind} if acting else set()) <= due
    if now >= END:
        assert acting is not None and acting.kind == timers.COMPLETE
    elif acting is not None:
        # A reminder is only ever sent before the start, and it is the latest one due.
        assert acting.reminder_minutes is not None and now < START
        assert now <= acting.due + timedelta(minutes=acting.reminder_minutes / 4)
        later_due = [m for m in reminders if START - timedelta(minutes=m) <= now and m < acting.reminder_minutes]
        assert later_due == []
    else:
        late = [t for t in timers.timers_of(booking(reminders)) if t.kind in due and t.reminder_minutes]
        assert now >= START or not due or all(now > t.due + timedelta(minutes=t.reminder_minutes / 4) for t in late)


@given(reminder_lists)
def test_the_timers_end_with_completion_and_run_in_time_order(reminders: list[int]) -> None:
    planned = timers.timers_of(booking(reminders))
    assert planned[-1].kind == timers.COMPLETE
    assert [t.due for t in planned] == sorted(t.due for t in planned)
    every = [t.kind for t in planned]
    assert timers.next_timer(booking(reminders, done=every)) is None
    assert timers.next_timer(booking(reminders, status="cancelled")) is None


# --- the job ----------------------------------------------------------------------------------------------------


def book(room: Any, start: datetime = START) -> dict[str, Any]:
    body = {"resourceId": room.id, "startTime": start.isoformat(), "endTime": (start + timedelta(hours=1)).isoformat()}
    created = call("POST", "/api/v1/bookings", body=body, user="cust-1")
    assert created.status == 201, created.body
    return dict(created.body)


def stored(table: str, booking_id: str) -> dict[str, Any]:
    key = to_item({"PK": f"BOOKING#{booking_id}", "SK": "BOOKING"})
    return from_item(aws.dynamodb().get_item(TableName=table, Key=key)["Item"])


def test_reminders_go_once_each_then_the_booking_completes(table: str) -> None:
    made = book(make_resource())
    item = stored(table, made["id"])
    assert item["GSI3PK"].startswith("TIMER#")
    assert item["GSI3SK"].startswith(f"{int((START - timedelta(days=1)).timestamp()):012d}#")

    assert run_timers(START - timedelta(days=2)) == {}
    assert run_timers(START - timedelta(hours=23)) == {"reminder": 1}
    assert run_timers(START - timedelta(hours=22)) == {}  # at most once
    item = stored(table, made["id"])
    assert item["lastReminder"]["minutes"] == 1440 and item["version"] == 1  # bookkeeping, not a new version
    assert run_timers(START - timedelta(minutes=55)) == {"reminder": 1}
    assert run_timers(END + timedelta(minutes=1)) == {"complete": 1}
    item = stored(table, made["id"])
    assert (item["status"], item["version"]) == ("completed", 2)
    assert "GSI3PK" not in item
    assert run_timers(END + timedelta(days=1)) == {}


def test_a_booking_made_late_skips_the_reminder_that_is_past(table: str) -> None:
    made = book(make_resource())
    assert run_timers(START - timedelta(minutes=50)) == {"reminder": 1}
    item = stored(table, made["id"])
    assert item["timersDone"] == ["reminder:1440", "reminder:60"] and item["lastReminder"]["minutes"] == 60


def test_a_reminder_too_late_to_mean_anything_is_skipped(table: str) -> None:
    made = book(make_resource())
    assert run_timers(START - timedelta(hours=2)) == {"skipped": 1}  # the 24 h reminder, 22 h late
    assert stored(table, made["id"]).get("lastReminder") is None
    assert run_timers(START - timedelta(minutes=40)) == {"skipped": 1}  # the 1 h reminder, 20 min late
    assert run_timers(END) == {"complete": 1}


def test_no_reminder_after_cancellation(table: str) -> None:
    made = book(make_resource())
    assert call("POST", f"/api/v1/bookings/{made['id']}/cancel", body={}, user="cust-1").status == 200
    assert "GSI3PK" not in stored(table, made["id"])
    assert run_timers(START - timedelta(hours=23)) == {}
    assert run_timers(END + timedelta(hours=1)) == {}


def test_a_reschedule_plans_the_reminders_again(table: str) -> None:
    made = book(make_resource())
    assert run_timers(START - timedelta(hours=23)) == {"reminder": 1}
    later = START + timedelta(days=3)
    moved = {"startTime": later.isoformat(), "endTime": (later + timedelta(hours=1)).isoformat()}
    assert call("POST", f"/api/v1/bookings/{made['id']}/reschedule", body=moved, user="cust-1").status == 200
    item = stored(table, made["id"])
    assert item["timersDone"] == []
    assert item["GSI3SK"].startswith(f"{int((later - timedelta(days=1)).timestamp()):012d}#")
    assert run_timers(START - timedelta(minutes=30)) == {}  # the old times no longer count
    assert run_timers(later - timedelta(hours=23)) == {"reminder": 1}


def test_a_resource_without_reminders_only_completes(table: str) -> None:
    made = book(make_resource(policy={"reminderMinutes": []}))
    assert run_timers(START - timedelta(minutes=30)) == {}
    assert run_timers(END) == {"complete": 1}
    assert stored(table, made["id"])["status"] == "completed"


def test_held_bookings_have_no_timers_until_confirmed(table: str) -> None:
    room = make_resource(policy={"confirmation": "approval"})
    made = book(room)
    assert stored(table, made["id"])["GSI3PK"].startswith("HOLDS#")
    assert run_timers(START - timedelta(hours=23)) == {}


def test_reminder_settings_are_validated() -> None:
    import pytest
    from pydantic import ValidationError

    from slotwise.catalog.models import BookingPolicy

    assert BookingPolicy().reminder_minutes == [1440, 60]
    for bad in ([60, 60], [1, 60], [60, 120, 180, 240], [30_000]):
        with pytest.raises(ValidationError):
            BookingPolicy.model_validate({"reminderMinutes": bad})


# --- no-shows ---------------------------------------------------------------------------------------------------


def test_the_vendor_marks_a_no_show_after_the_start_even_once_completed(table: str) -> None:
    import pytest

    from slotwise import errors
    from slotwise.booking.lifecycle import mark_no_show
    from slotwise.identity.models import Caller

    made = book(make_resource())
    vendor = Caller(user_id="vendor-1", role="vendor")
    with pytest.raises(errors.Conflict) as early:
        mark_no_show(vendor, made["id"], now=START - timedelta(minutes=5))
    assert early.value.code == "not_started"
    with pytest.raises(errors.PermissionDenied):
        mark_no_show(Caller(user_id="cust-1", role="customer"), made["id"], now=START + timedelta(minutes=5))
    with pytest.raises(errors.NotFound):  # another vendor does not see it
        mark_no_show(Caller(user_id="vendor-2", role="vendor"), made["id"], now=START + timedelta(minutes=5))
    assert run_timers(END) == {"complete": 1}
    marked = mark_no_show(vendor, made["id"], reason="never came", now=END + timedelta(hours=1))
    assert (marked.status, marked.version) == ("no_show", 3)
    assert stored(table, made["id"])["status"] == "no_show"
    with pytest.raises(errors.Conflict) as again:
        mark_no_show(vendor, made["id"], now=END + timedelta(hours=2))
    assert again.value.code == "invalid_transition"


def test_no_shows_are_marked_within_thirty_days(table: str) -> None:
    import pytest

    from slotwise import errors
    from slotwise.booking.lifecycle import mark_no_show
    from slotwise.identity.models import Caller

    made = book(make_resource())
    with pytest.raises(errors.Conflict) as late:
        mark_no_show(Caller(user_id="vendor-1", role="vendor"), made["id"], now=END + timedelta(days=31))
    assert late.value.code == "too_late"


def test_a_cancelled_booking_cannot_be_a_no_show_over_http(table: str) -> None:
    made = book(make_resource())
    assert call("POST", f"/api/v1/bookings/{made['id']}/cancel", body={}, user="cust-1").status == 200
    refused = call("POST", f"/api/v1/bookings/{made['id']}/no-show", body={}, user="vendor-1", role="vendor")
    assert (refused.status, refused.code) == (409, "invalid_transition")
    customer = call("POST", f"/api/v1/bookings/{made['id']}/no-show", body={}, user="cust-1", role="customer")
    assert customer.status == 403


@given(reminder_lists, moments, st.lists(st.sampled_from(["reminder:60", "reminder:1440"]), max_size=2, unique=True))
def test_a_session_under_way_gets_no_reminder_and_completes_at_its_end(
    reminders: list[int], now: datetime, done: list[str]
) -> None:
    session = booking(reminders, done=done, status="in_progress")
    skipped, acting = timers.due_now(session, now)
    assert timers.next_timer(session) == timers.Timer(timers.COMPLETE, END)
    if now < END:
        assert (skipped, acting) == ([], None)
    else:
        assert acting == timers.Timer(timers.COMPLETE, END)
        assert set(skipped) == {timers.reminder_kind(m) for m in reminders} - set(done)
    finished = booking(reminders, done=[*done, timers.COMPLETE], status="in_progress")
    assert timers.due_now(finished, now) == ([], None) and timers.next_timer(finished) is None
