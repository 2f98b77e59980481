"""The scheduled hold sweeper, invoked with the scheduled event EventBridge delivers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from events import load
from infra.local.functions import invoke
from slotwise.booking import create, deadlines
from slotwise.booking.models import BookingCreate
from slotwise.identity.models import Caller
from tests.support.catalog import make_resource
from tests.support.http import call

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def hold(resource_id: str, now: datetime, user: str = "cust") -> Any:
    data = BookingCreate(resourceId=resource_id, startTime=START, endTime=START + timedelta(hours=1))
    return create.create_booking(Caller(user, "customer"), data, now=now).booking


def test_sweeper_expires_only_lapsed_holds_and_frees_the_slot(table: str) -> None:
    room = make_resource(policy={"confirmation": "payment", "holdTtlSeconds": 60})
    other = make_resource(policy={"confirmation": "payment", "holdTtlSeconds": 3600})
    lapsed = hold(room.id, datetime.now(UTC) - timedelta(minutes=5))
    live = hold(other.id, datetime.now(UTC))

    assert invoke("hold_expiry", load("scheduled/every_minute")) == {"expired": 1}
    assert call("GET", f"/api/v1/bookings/{lapsed.id}", user="cust").body["status"] == "expired"
    assert call("GET", f"/api/v1/bookings/{live.id}", user="cust").body["status"] == "held"
    assert invoke("hold_expiry", load("scheduled/every_minute")) == {"expired": 0}
    assert (
        call(
            "POST",
            "/api/v1/bookings",
            user="next",
            body={
                "resourceId": room.id,
                "startTime": START.isoformat(),
                "endTime": (START + timedelta(hours=1)).isoformat(),
            },
        ).status
        == 201
    )


def test_sweeper_leaves_confirmed_bookings_alone(table: str) -> None:
    room = make_resource(policy={"confirmation": "approval", "holdTtlSeconds": 60})
    pending = hold(room.id, datetime.now(UTC) - timedelta(seconds=30))
    confirmed = call("POST", f"/api/v1/bookings/{pending.id}/confirm", body={}, user="vendor-1", role="vendor")
    assert confirmed.body["status"] == "confirmed"
    assert deadlines.expire_lapsed(datetime.now(UTC) + timedelta(hours=1)) == 0
    assert call("GET", f"/api/v1/bookings/{pending.id}", user="cust").body["status"] == "confirmed"
