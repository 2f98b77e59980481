"""`PUT /resources/{id}/availability`: the advisor who is the resource (or its vendor) replaces its calendar and
nothing else; bookings already made keep their times and are reported when the new calendar would refuse them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from slotwise.catalog import repository
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import ApiResponse, call

ADVISOR = "advisor-1"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
NINE_TO_SIX = {day: [{"start": "09:00", "end": "18:00"}] for day in WEEKDAYS}
MORNINGS = {day: [{"start": "09:00", "end": "12:00"}] for day in WEEKDAYS}


def next_monday() -> date:
    day = date.today() + timedelta(days=14)
    return day + timedelta(days=(7 - day.weekday()) % 7)


MONDAY = next_monday()


def at(hour: int, day: date = MONDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)  # Lisbon is UTC+0 or +1: see `local`


@pytest.fixture
def advisor(table: str) -> Any:
    return make_resource(
        timezone="UTC",
        kind="advisor",
        attributes={"advisorUserId": ADVISOR},
        policy={"granuleMinutes": 30, "openingHours": NINE_TO_SIX},
    )


def book(resource_id: str, start: datetime, user: str = "cust") -> ApiResponse:
    return call(
        "POST",
        "/api/v1/bookings",
        user=user,
        body={
            "resourceId": resource_id,
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(hours=1)).isoformat(),
        },
    )


def change(
    resource_id: str, hours: dict[str, Any], *, user: str = ADVISOR, role: str = "advisor", **extra: Any
) -> ApiResponse:
    body = {"openingHours": hours, "dateOverrides": [], "blackoutDates": [], **extra}
    return call("PUT", f"/api/v1/resources/{resource_id}/availability", user=user, role=role, body=body)


def test_the_advisor_sets_their_hours_and_the_afternoon_booking_is_kept_and_reported(advisor: Any) -> None:
    afternoon = book(advisor.id, at(16))
    assert afternoon.status == 201, afternoon.body
    changed = change(advisor.id, MORNINGS)
    assert changed.status == 200, changed.body
    assert changed.body["resource"]["policy"]["openingHours"]["mon"] == [{"start": "09:00", "end": "12:00"}]
    assert changed.body["resource"]["version"] == advisor.version + 1
    [outside] = changed.body["bookingsOutsideHours"]
    assert (outside["id"], outside["status"]) == (afternoon.body["id"], "confirmed")
    assert "open 09:00-12:00" in outside["reason"]
    assert changed.body["complete"] is True
    # Kept: the booking is as it was.
    kept = call("GET", f"/api/v1/bookings/{afternoon.body['id']}", user="cust")
    assert (kept.body["status"], kept.body["startTime"]) == ("confirmed", afternoon.body["startTime"])
    # New bookings follow the new hours.
    late = book(advisor.id, at(16, MONDAY + timedelta(days=7)), user="other")
    assert (late.status, late.code) == (422, "outside_opening_hours")
    assert book(advisor.id, at(10, MONDAY + timedelta(days=7)), user="other").status == 201


def test_blackout_dates_and_overrides_are_the_advisors_too(advisor: Any) -> None:
    holiday = MONDAY + timedelta(days=7)
    changed = change(
        advisor.id,
        NINE_TO_SIX,
        blackoutDates=[holiday.isoformat()],
        dateOverrides=[{"date": (MONDAY + timedelta(days=8)).isoformat(), "hours": []}],
    )
    assert changed.status == 200, changed.body
    assert book(advisor.id, at(10, holiday)).code == "blackout_date"
    assert book(advisor.id, at(10, MONDAY + timedelta(days=8))).code == "outside_opening_hours"


@pytest.mark.parametrize(
    "field",
    [{"capacity": 5}, {"pricing": {"currency": "EUR", "unitPrice": 1}}, {"name": "Mine"}, {"policy": {}}],
)
def test_nothing_but_the_calendar_can_be_changed_this_way(advisor: Any, field: dict[str, Any]) -> None:
    refused = change(advisor.id, MORNINGS, **field)
    assert refused.status == 422
    stored = repository.get_resource(advisor.id)
    assert stored is not None and stored.version == advisor.version
    assert stored.policy.opening_hours == advisor.policy.opening_hours


def test_who_may_change_the_calendar(advisor: Any) -> None:
    assert change(advisor.id, MORNINGS, user="advisor-2").status == 404  # another advisor
    assert change(advisor.id, MORNINGS, user="vendor-2", role="vendor").status == 404  # another vendor
    assert change(advisor.id, MORNINGS, user="cust", role="customer").status == 403
    assert call("PUT", f"/api/v1/resources/{advisor.id}/availability", body={"openingHours": None}).status == 401
    assert change(advisor.id, MORNINGS, user=VENDOR, role="vendor").status == 200  # the resource's vendor
    assert change(advisor.id, NINE_TO_SIX, user="root", role="admin").status == 200


def test_if_match_guards_the_change(advisor: Any) -> None:
    stale = call(
        "PUT",
        f"/api/v1/resources/{advisor.id}/availability",
        user=ADVISOR,
        role="advisor",
        body={"openingHours": MORNINGS},
        headers={"if-match": '"99"'},
    )
    assert (stale.status, stale.code) == (409, "version_conflict")
    fresh = call(
        "PUT",
        f"/api/v1/resources/{advisor.id}/availability",
        user=ADVISOR,
        role="advisor",
        body={"openingHours": MORNINGS},
        headers={"if-match": advisor.etag},
    )
    assert fresh.status == 200, fresh.body
