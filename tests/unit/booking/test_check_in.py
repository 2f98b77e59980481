"""Checking a guest in (`POST /bookings/{id}/check-in`): the vendor or its organisation's staff, from the first
minute of the arrival's local day until the booking's end; the stay is then in progress and can no longer be
cancelled. Time-sensitive steps call the service with an explicit `now`; refusals go through the handlers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise import errors
from slotwise.booking import sessions
from slotwise.booking import store as booking_store
from slotwise.identity.models import Caller, User
from slotwise.identity.repository import put_user
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import call

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# Lisbon is UTC+0 in March: the arrival day starts at 00:00 UTC, the stay's window at the resource's check-in hour.
ARRIVAL_DAY = datetime(2027, 3, 10, tzinfo=UTC)


@pytest.fixture
def stay(table: str) -> dict[str, Any]:
    dorm = make_resource(
        capacity=4,
        kind="dorm",
        policy={"unit": "night", "maxUnits": 14},
        pricing={"currency": "EUR", "unitPrice": 2500},
    )
    made = call(
        "POST",
        "/api/v1/bookings",
        body={"resourceId": dorm.id, "checkIn": "2027-03-10", "checkOut": "2027-03-12"},
        user="guest-1",
        role="customer",
    )
    assert made.status == 201 and made.body["status"] == "confirmed", made.body
    return dict(made.body)


def test_the_front_desk_checks_the_guest_in_on_the_day_of_arrival(stay: dict[str, Any]) -> None:
    desk = Caller(VENDOR, "vendor")
    with pytest.raises(errors.Conflict) as early:
        sessions.check_in(desk, stay["id"], now=ARRIVAL_DAY - timedelta(minutes=1))
    assert early.value.code == "too_early"
    checked_in = sessions.check_in(desk, stay["id"], now=ARRIVAL_DAY + timedelta(hours=9))
    assert checked_in.status == "in_progress"
    assert checked_in.checked_in_at == ARRIVAL_DAY + timedelta(hours=9)
    stored = booking_store.get_booking(stay["id"])
    assert stored is not None and stored.status == "in_progress" and stored.history[-1].action == "checked_in"
    # Checked in: nobody cancels the stay any more, nor checks it in twice.
    cancelled = call("POST", f"/api/v1/bookings/{stay['id']}/cancel", body={}, user="guest-1", role="customer")
    assert (cancelled.status, cancelled.code) == (409, "invalid_transition")
    with pytest.raises(errors.Conflict):
        sessions.check_in(desk, stay["id"], now=ARRIVAL_DAY + timedelta(hours=10))


def test_staff_of_the_organisation_check_in_and_the_stay_over_is_refused(stay: dict[str, Any]) -> None:
    assert put_user(User(id=VENDOR, email="owner@x.test", name="Owner", role="vendor", created_at=EPOCH))
    assert put_user(User(id="desk-1", email="desk-1@x.test", name="Desk", role="staff", created_at=EPOCH))
    added = call(
        "POST",
        f"/api/v1/organisations/org-{VENDOR}/members",
        body={"email": "desk-1@x.test", "role": "staff"},
        user=VENDOR,
        role="vendor",
    )
    assert added.status == 201, added.body
    with pytest.raises(errors.Conflict) as over:
        sessions.check_in(Caller("desk-1", "staff"), stay["id"], now=ARRIVAL_DAY + timedelta(days=3))
    assert over.value.code == "session_over"
    done = sessions.check_in(Caller("desk-1", "staff"), stay["id"], now=ARRIVAL_DAY + timedelta(hours=15))
    assert done.status == "in_progress"


@pytest.mark.parametrize(
    ("user", "role", "expected"),
    [
        ("guest-1", "customer", (403, "permission_denied")),  # the guest sees it but does not check in
        ("other-vendor", "vendor", (404, "booking_not_found")),
        ("other-staff", "staff", (404, "booking_not_found")),
        ("someone", "advisor", (403, "permission_denied")),
    ],
)
def test_only_the_front_desk_checks_in(stay: dict[str, Any], user: str, role: str, expected: tuple[int, str]) -> None:
    refused = call("POST", f"/api/v1/bookings/{stay['id']}/check-in", body=None, user=user, role=role)
    assert (refused.status, refused.code) == expected, refused.body
    stored = booking_store.get_booking(stay["id"])
    assert stored is not None and stored.status == "confirmed"
