"""The advisors index (GSI3 `ADVISORS`) on DynamoDB Local: every resource write keeps the entry right (create,
replace, the advisor's own calendar edit, archive, a removed advisor), and an advisor's merged bookings listing pages
each booking once, in start order, across their resources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise.booking import create, hours, queries
from slotwise.booking.models import Booking, BookingCreate
from slotwise.catalog import repository
from slotwise.catalog import service as catalog
from slotwise.catalog.models import HoursUpdate, ResourceInput, ResourceUpdate, VenueInput
from slotwise.identity.models import Caller

START = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
VENDOR = Caller("vendor-1", "vendor")
CUSTOMER = Caller("cust-1", "customer")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def body(venue_id: str, advisor: str | None, **more: Any) -> dict[str, Any]:
    return {
        "venueId": venue_id,
        "name": f"Session {advisor}",
        "type": "advisor",
        "policy": {"unit": "minutes", "granuleMinutes": 30},
        "pricing": {"currency": "EUR", "unitPrice": 5000},
        "attributes": {"advisorUserId": advisor} if advisor else {},
        **more,
    }


def entries(advisor: str) -> list[str]:
    found, _ = repository.advisor_resources(advisor)
    return [r.id for r in found]


def test_every_write_keeps_the_entry_right(local_table: str) -> None:
    venue = catalog.create_venue(
        VENDOR, VenueInput.model_validate({"name": "Office", "city": "Lisbon", "timezone": "UTC"})
    )
    made = catalog.create_resource(VENDOR, ResourceInput.model_validate(body(venue.id, "adv-1")))
    other = catalog.create_resource(VENDOR, ResourceInput.model_validate(body(venue.id, "adv-10")))
    # `adv-1#` is not a prefix of `adv-10#...`: one advisor's entries never include another's.
    assert entries("adv-1") == [made.id] and entries("adv-10") == [other.id]
    # The advisor's own calendar edit keeps the entry.
    hours.change_hours(Caller("adv-1", "advisor"), made.id, HoursUpdate.model_validate({"openingHours": None}))
    assert entries("adv-1") == [made.id]
    # Another advisor: the entry moves in the same write.
    current = repository.get_resource(made.id)
    assert current is not None
    moved = catalog.update_resource(
        VENDOR, made.id, ResourceUpdate.model_validate(body(venue.id, "adv-2")), if_match=current.etag
    )
    assert entries("adv-1") == [] and entries("adv-2") == [made.id]
    # Archived: kept (the advisor's past sessions), and the directory's pages after `adv-10` skip to `adv-2`.
    catalog.archive_resource(VENDOR, made.id)
    assert entries("adv-2") == [made.id]
    after, _ = repository.advisor_resources(after="adv-10")
    assert [r.id for r in after] == [made.id]
    # No advisor any more: the entry goes.
    current = repository.get_resource(made.id)
    assert current is not None and moved.version < current.version
    catalog.update_resource(
        VENDOR, made.id, ResourceUpdate.model_validate(body(venue.id, None, active=True)), if_match=current.etag
    )
    assert entries("adv-2") == []
    everyone, more = repository.advisor_resources()
    assert [r.id for r in everyone] == [other.id] and more is False


def booked(resource_id: str, hour: float) -> Booking:
    start = START + timedelta(hours=hour)
    data = BookingCreate.model_validate(
        {"resourceId": resource_id, "startTime": start, "endTime": start + timedelta(minutes=30)}
    )
    return create.create_booking(CUSTOMER, data).booking


def test_an_advisors_listing_merges_their_resources_in_start_order(local_table: str) -> None:
    venue = catalog.create_venue(
        VENDOR, VenueInput.model_validate({"name": "Office", "city": "Lisbon", "timezone": "UTC"})
    )
    first, second, third = (
        catalog.create_resource(VENDOR, ResourceInput.model_validate(body(venue.id, advisor)))
        for advisor in ("adv-1", "adv-1", "adv-2")
    )
    # Same start times on both resources (the booking id breaks the tie), interleaved, made out of order.
    mine = [booked(first.id, h) for h in (3, 0, 1.5, 4)] + [booked(second.id, h) for h in (0, 2, 1.5, 5)]
    booked(third.id, 0)
    expected = [b.id for b in sorted(mine, key=lambda b: (b.start_time, b.id))]
    advisor = Caller("adv-1", "advisor")
    for size in (1, 3, 8):
        seen: list[str] = []
        cursor: str | None = None
        while True:
            found, cursor = queries.list_bookings(advisor, limit=size, cursor=cursor)
            seen += [b.id for b in found]
            if cursor is None:
                break
        assert seen == expected, size
    window, _ = queries.list_bookings(advisor, frm=START + timedelta(hours=1), to=START + timedelta(hours=2))
    assert [b.id for b in window] == [
        b.id
        for b in sorted(mine, key=lambda b: (b.start_time, b.id))
        if 1 <= (b.start_time - START).total_seconds() / 3600 <= 2
    ]
