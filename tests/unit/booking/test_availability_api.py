"""Availability endpoints: single window, bulk, the free-slot grid and conflicts of recurring requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.catalog import VENDOR, make_resource
from tests.support.http import call

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
HOURS = {day: [{"start": "09:00", "end": "18:00"}] for day in ("mon", "tue", "wed", "thu", "fri")}


def iso(value: datetime) -> str:
    return value.isoformat()


@pytest.fixture
def office(table: str) -> Any:
    return make_resource(policy={"openingHours": HOURS})


def book(resource_id: str, start: datetime, minutes: int = 60, user: str = "cust", title: str = "") -> Any:
    return call(
        "POST",
        "/api/v1/bookings",
        user=user,
        body={
            "resourceId": resource_id,
            "startTime": iso(start),
            "endTime": iso(start + timedelta(minutes=minutes)),
            "title": title,
        },
    ).body


def test_single_window_reports_conflicts_and_price(office: Any) -> None:
    taken = book(office.id, START, title="Team meeting")
    free = call(
        "GET",
        "/api/v1/availability",
        query={
            "resourceId": office.id,
            "startTime": iso(START + timedelta(hours=2)),
            "endTime": iso(START + timedelta(hours=3)),
        },
    )
    assert free.status == 200
    assert free.body["available"] is True and free.body["conflicts"] == []
    assert free.body["duration"] == 60 and free.body["price"]["amount"] == 2000
    assert free.body["resourceName"] == "Room"

    busy = call(
        "GET",
        "/api/v1/availability",
        user=VENDOR,
        role="vendor",
        query={
            "resourceId": office.id,
            "startTime": iso(START + timedelta(minutes=30)),
            "endTime": iso(START + timedelta(minutes=90)),
        },
    )
    assert busy.body["available"] is False
    assert busy.body["conflicts"][0]["bookingIds"] == [taken["id"]]
    # The overlap is the granule 09:30-10:00 local time, named in the resource's time, not by its storage key.
    local = START.astimezone(office.zone)
    assert busy.body["conflicts"][0]["startTime"] == iso(local + timedelta(minutes=30))
    assert busy.body["conflicts"][0]["endTime"] == iso(local + timedelta(minutes=60))
    assert "slot" not in busy.body["conflicts"][0]
    assert busy.body["conflictingBookings"] == [
        {"id": taken["id"], "startTime": taken["startTime"], "endTime": taken["endTime"], "title": "Team meeting"}
    ]
    anonymous = call(
        "GET",
        "/api/v1/availability",
        query={"resourceId": office.id, "startTime": iso(START), "endTime": iso(START + timedelta(hours=1))},
    )
    assert "title" not in anonymous.body["conflictingBookings"][0]


def test_policy_problems_are_reasons_not_errors(office: Any) -> None:
    evening = call(
        "GET",
        "/api/v1/availability",
        query={
            "resourceId": office.id,
            "startTime": iso(START.replace(hour=19)),
            "endTime": iso(START.replace(hour=20)),
        },
    )
    assert evening.status == 200 and evening.body["available"] is False
    assert evening.body["reasons"][0]["code"] == "outside_opening_hours"


@pytest.mark.parametrize(
    "query",
    [
        {"startTime": "2027-03-01T09:00:00Z", "endTime": "2027-03-01T10:00:00Z"},
        {"resourceId": "x", "startTime": "not a time", "endTime": "2027-03-01T10:00:00Z"},
        {"resourceId": "x", "startTime": "2027-03-01T09:00:00Z", "endTime": "2027-03-01T10:00:00Z", "quantity": 0},
    ],
)
def test_bad_queries_are_422(office: Any, query: dict[str, Any]) -> None:
    response = call("GET", "/api/v1/availability", query=query)
    assert response.status == 422 and response.headers["content-type"] == "application/problem+json"


def test_naive_times_are_refused(office: Any) -> None:
    response = call(
        "GET",
        "/api/v1/availability",
        query={"resourceId": office.id, "startTime": "2027-03-01T09:00:00", "endTime": "2027-03-01T10:00:00"},
    )
    assert response.status == 422


def test_bulk_uses_the_seed_shape(office: Any) -> None:
    book(office.id, START)
    response = call(
        "POST",
        "/api/v1/availability/bulk",
        body={
            "resourceId": office.id,
            "timeSlots": [
                {"startTime": iso(START), "endTime": iso(START + timedelta(hours=1))},
                {"startTime": iso(START + timedelta(hours=5)), "endTime": iso(START + timedelta(hours=6))},
            ],
        },
    )
    assert response.status == 200
    assert [r["available"] for r in response.body["results"]] == [False, True]
    too_many = call(
        "POST",
        "/api/v1/availability/bulk",
        body={
            "resourceId": office.id,
            "timeSlots": [{"startTime": iso(START), "endTime": iso(START + timedelta(hours=1))}] * 101,
        },
    )
    assert too_many.status == 422


def test_slots_grid_skips_taken_and_closed_times(office: Any) -> None:
    book(office.id, START)  # 09:00-10:00 Monday
    grid = call(
        "GET",
        f"/api/v1/resources/{office.id}/slots",
        query={"from": iso(START.replace(hour=0)), "to": iso(START.replace(hour=0) + timedelta(days=1))},
    )
    assert grid.status == 200
    starts = [datetime.fromisoformat(s["startTime"]) for s in grid.body["slots"]]
    assert START not in starts and START + timedelta(minutes=30) not in starts
    assert START + timedelta(hours=1) in starts
    assert all(9 <= s.astimezone(UTC).hour < 18 for s in starts)
    assert len(starts) == 18 - 2  # 30-minute grid 09:00-18:00 minus the two taken
    week = call(
        "GET", f"/api/v1/resources/{office.id}/slots", query={"from": iso(START), "to": iso(START + timedelta(days=40))}
    )
    assert week.code == "range_too_long"


def test_conflicts_of_a_recurring_request(office: Any) -> None:
    book(office.id, START + timedelta(days=7))  # the second Monday
    response = call(
        "GET",
        "/api/v1/conflicts",
        query={
            "resourceId": office.id,
            "startTime": iso(START),
            "endTime": iso(START + timedelta(hours=1)),
            "recurrenceRule": "FREQ=WEEKLY;COUNT=4;BYDAY=MO",
        },
    )
    assert response.status == 200
    assert response.body["occurrences"] == 4 and response.body["hasConflicts"] is True
    assert [c["date"] for c in response.body["conflicts"]] == ["2027-03-08"]
    bad = call(
        "GET",
        "/api/v1/conflicts",
        query={
            "resourceId": office.id,
            "startTime": iso(START),
            "endTime": iso(START + timedelta(hours=1)),
            "recurrenceRule": "FREQ=SECONDLY;COUNT=4",
        },
    )
    assert (bad.status, bad.code) == (422, "invalid_recurrence_rule")


def test_resource_search_by_availability_window(table: str) -> None:
    busy = make_resource()
    free = make_resource()
    book(busy.id, START)
    window = {"availableFrom": iso(START), "availableTo": iso(START + timedelta(hours=1))}
    found = call("GET", "/api/v1/resources", query={"type": "meeting_room", **window})
    assert found.status == 200
    ids = {r["id"] for r in found.body["resources"]}
    assert free.id in ids and busy.id not in ids
    later = call(
        "GET",
        "/api/v1/resources",
        query={"availableFrom": iso(START + timedelta(hours=2)), "availableTo": iso(START + timedelta(hours=3))},
    )
    assert {busy.id, free.id} <= {r["id"] for r in later.body["resources"]}
    half = call("GET", "/api/v1/resources", query={"availableFrom": iso(START)})
    assert (half.status, half.code) == (422, "incomplete_window")
