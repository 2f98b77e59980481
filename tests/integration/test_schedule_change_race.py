"""A schedule change racing new bookings of the same flight, on DynamoDB Local: afterwards every active booking has
the new times, seats sold stay within capacity, and every booking made before the change moved exactly once."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from slotwise import errors
from slotwise.booking import create as create_module
from slotwise.booking import inventory, schedule_change, store
from slotwise.booking.create import create_booking
from slotwise.booking.keys import FIXED_KEY
from slotwise.booking.models import HOLDING, BookingCreate
from slotwise.catalog import repository, service
from slotwise.catalog.models import Resource, ResourceInput, ScheduleChangeRequest, VenueInput
from slotwise.identity.models import Caller

pytestmark = pytest.mark.dynamodb_local

AIRLINE = Caller(user_id="airline-1", role="vendor")
DAY = date.today() + timedelta(days=40)
DEPARTURE = datetime(DAY.year, DAY.month, DAY.day, 9, 0, tzinfo=UTC)
LATER = DEPARTURE + timedelta(hours=2)
CAPACITY = 60


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def flight() -> str:
    venue = service.create_venue(
        AIRLINE, VenueInput.model_validate({"name": "Air", "city": "Lisbon", "timezone": "Europe/Lisbon"})
    )
    cabin = service.create_resource(
        AIRLINE,
        ResourceInput.model_validate(
            {
                "venueId": venue.id,
                "name": "Economy",
                "type": "seat_pool",
                "capacity": CAPACITY,
                "policy": {
                    "unit": "fixed",
                    "fixedStart": DEPARTURE.isoformat(),
                    "fixedEnd": (DEPARTURE + timedelta(hours=3)).isoformat(),
                },
                "pricing": {"currency": "EUR", "unitPrice": 9900},
            }
        ),
    )
    return cabin.id


def book(resource_id: str, user: str) -> str:
    return create_booking(
        Caller(user_id=user, role="customer"), BookingCreate.model_validate({"resourceId": resource_id})
    ).booking.id


def test_a_schedule_change_racing_50_bookings_strands_nobody(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    resource_id = flight()
    before = [book(resource_id, f"early-{i}") for i in range(5)]
    read_resource = create_module.bookable_resource
    changed = threading.Event()
    stale_readers = threading.local()

    def read(resource_id: str) -> Resource:
        found = read_resource(resource_id)
        if getattr(stale_readers, "wait_for_the_change", False):
            # This customer read the flight before the change and submits after it: the case the window check is
            # for. The others race the change freely.
            stale_readers.wait_for_the_change = False
            changed.wait(timeout=30)
        else:
            time.sleep(random.uniform(0, 0.2))
        return found

    monkeypatch.setattr(create_module, "bookable_resource", read)
    start = threading.Barrier(51, timeout=30)
    refused_for_the_change: list[str] = []
    ten_booked = threading.Semaphore(0)

    def late_booking(i: int) -> str | None:
        stale_readers.wait_for_the_change = i % 5 == 0
        start.wait()
        for _ in range(5):  # a customer told "rescheduled meanwhile" looks again and books the new time
            try:
                made = book(resource_id, f"late-{i}")
                ten_booked.release()
                return made
            except errors.Conflict as refused:
                if refused.code != "schedule_changed":
                    raise
                refused_for_the_change.append(refused.code)
        return None

    def operator() -> None:
        start.wait()
        for _ in range(10):  # the change lands in the middle of the rush
            ten_booked.acquire(timeout=30)
        schedule_change.change_schedule(
            AIRLINE,
            resource_id,
            ScheduleChangeRequest.model_validate(
                {
                    "fixedStart": LATER.isoformat(),
                    "fixedEnd": (LATER + timedelta(hours=3)).isoformat(),
                    "reason": "Crew rest",
                }
            ),
        )
        changed.set()

    with ThreadPoolExecutor(max_workers=51) as pool:
        changing = pool.submit(operator)
        late = [pool.submit(late_booking, i) for i in range(50)]
        changing.result()
        made = [f.result() for f in late]

    assert all(made), "every late customer got a seat at the new time in the end"
    # At least the ten who read before the change and submitted after it were refused (others may have raced into
    # the same gap), and then booked the new time.
    assert len(refused_for_the_change) >= 10
    holders = inventory.slot_items(resource_id, FIXED_KEY, FIXED_KEY)[FIXED_KEY]
    assert sum(h.quantity for h in holders) <= CAPACITY
    active = [store.get_booking(h.booking_id) for h in holders]
    assert len(active) == 55
    for booking in active:
        assert booking is not None and booking.status in HOLDING
        assert (booking.start_time, booking.end_time) == (LATER, LATER + timedelta(hours=3)), booking.id
        assert [h.action for h in booking.history].count("schedule_changed") <= 1
    for booking_id in before:
        moved = store.get_booking(booking_id)
        assert moved is not None
        assert [h.action for h in moved.history].count("schedule_changed") == 1
    resource = repository.get_resource(resource_id)
    assert resource is not None and resource.schedule_change is not None
    assert resource.schedule_change.status == "done"
    moved_count = sum(1 for b in active if b is not None and any(h.action == "schedule_changed" for h in b.history))
    assert resource.schedule_change.moved == moved_count
    assert repository.moving_resources() == []


def test_progress_is_recorded_once_per_change(local_table: str) -> None:
    resource_id = flight()
    book(resource_id, "early")
    resource = service.start_schedule_change(
        AIRLINE,
        resource_id,
        ScheduleChangeRequest.model_validate(
            {"fixedStart": LATER.isoformat(), "fixedEnd": (LATER + timedelta(hours=3)).isoformat(), "reason": "x"}
        ),
    )
    assert resource.schedule_change is not None
    change_id = resource.schedule_change.id
    now = datetime.now(UTC)
    assert repository.record_schedule_progress(resource_id, change_id, 1, now, done=True)
    # A second finisher (a resumed job), or a finisher of another change, changes nothing.
    assert not repository.record_schedule_progress(resource_id, change_id, 1, now, done=True)
    assert not repository.record_schedule_progress(resource_id, "another-change", 1, now, done=False)
    stored = repository.get_resource(resource_id)
    assert stored is not None and stored.schedule_change is not None
    assert (stored.schedule_change.status, stored.schedule_change.moved) == ("done", 1)


def test_a_booking_from_a_read_taken_before_the_change_fails_its_window_check(
    local_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_id = flight()
    stale = repository.get_resource(resource_id)
    service.start_schedule_change(
        AIRLINE,
        resource_id,
        ScheduleChangeRequest.model_validate(
            {"fixedStart": LATER.isoformat(), "fixedEnd": (LATER + timedelta(hours=3)).isoformat(), "reason": "x"}
        ),
    )
    monkeypatch.setattr(create_module, "bookable_resource", lambda _id: stale)
    with pytest.raises(errors.Conflict) as refused:
        book(resource_id, "late")
    assert refused.value.code == "schedule_changed"
    assert inventory.slot_items(resource_id, FIXED_KEY, FIXED_KEY) == {}
