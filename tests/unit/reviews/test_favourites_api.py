"""Favourites through the real handler (moto): idempotent save and removal, the listing, the cap, refusals.
The conditions (the cap under concurrency) are judged on DynamoDB Local (tests/integration/test_review_conditions.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from slotwise.catalog.models import Resource
from slotwise.favourites import service
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import ApiResponse, call
from tests.unit.authz.world import snapshot

FAVOURITES = "/api/v1/users/me/favourites"
USER = "cust-1"


def save(resource_id: str, user: str = USER, role: str = "customer") -> ApiResponse:
    return call("PUT", f"{FAVOURITES}/{resource_id}", user=user, role=role)


def listed(user: str = USER, **query: Any) -> ApiResponse:
    found = call("GET", FAVOURITES, user=user, role="customer", query=query or None)
    assert found.status == 200, found.body
    return found


@pytest.fixture
def room(table: str) -> Resource:
    return make_resource()


def test_saving_is_idempotent_and_the_list_describes_the_resource(room: Resource) -> None:
    first = save(room.id)
    assert first.status == 201, first.body
    assert first.body["resourceId"] == room.id and first.body["available"] is True
    assert first.body["name"] == "Room" and first.body["venueName"] == "Venue" and first.body["city"] == "Lisbon"
    assert first.body["rating"] == {"average": None, "count": 0}
    again = save(room.id)
    assert again.status == 200 and again.body["addedAt"] == first.body["addedAt"]
    (entry,) = listed().body["favourites"]
    assert entry["resourceId"] == room.id and entry["type"] == "meeting_room" and entry["venueId"] == room.venue_id
    # Someone else's favourites are their own.
    assert listed(user="cust-2").body["favourites"] == []


def test_removal_is_idempotent(table: str, room: Resource) -> None:
    assert save(room.id).status == 201
    assert call("DELETE", f"{FAVOURITES}/{room.id}", user=USER, role="customer").status == 204
    assert listed().body["favourites"] == []
    baseline = snapshot(table)
    assert call("DELETE", f"{FAVOURITES}/{room.id}", user=USER, role="customer").status == 204
    assert call("DELETE", f"{FAVOURITES}/never-saved", user=USER, role="customer").status == 204
    assert snapshot(table) == baseline
    assert save(room.id).status == 201


def test_unknown_and_archived_resources_cannot_be_saved(table: str, room: Resource) -> None:
    assert call("DELETE", f"/api/v1/resources/{room.id}", user=VENDOR, role="vendor").status == 204
    baseline = snapshot(table)
    for resource_id in ("no-such-resource", room.id):
        refused = save(resource_id)
        assert (refused.status, refused.code) == (404, "resource_not_found")
    assert call("PUT", f"{FAVOURITES}/{'x' * 129}", user=USER, role="customer").code == "resource_not_found"
    assert call("PUT", f"{FAVOURITES}/{room.id}").status == 401
    assert call("GET", FAVOURITES).status == 401
    assert snapshot(table) == baseline


def test_a_resource_archived_later_stays_listed_as_unavailable(room: Resource) -> None:
    assert save(room.id).status == 201
    assert call("DELETE", f"/api/v1/resources/{room.id}", user=VENDOR, role="vendor").status == 204
    (entry,) = listed().body["favourites"]
    assert entry["available"] is False and entry["name"] is None and entry["resourceId"] == room.id
    assert call("DELETE", f"{FAVOURITES}/{room.id}", user=USER, role="customer").status == 204


def test_the_list_is_newest_first_with_a_cursor(table: str) -> None:
    rooms = [make_resource() for _ in range(3)]
    for room in rooms:
        assert save(room.id).status == 201
    first = listed(limit=2).body
    assert [f["resourceId"] for f in first["favourites"]] == [rooms[2].id, rooms[1].id]
    rest = listed(limit=2, cursor=first["pagination"]["nextCursor"]).body
    assert [f["resourceId"] for f in rest["favourites"]] == [rooms[0].id]
    stolen = call(
        "GET", FAVOURITES, user="cust-2", role="customer", query={"cursor": first["pagination"]["nextCursor"]}
    )
    assert (stolen.status, stolen.code) == (422, "invalid_cursor")


def test_beyond_the_cap_is_a_422_and_writes_nothing(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "MAX_FAVOURITES", 2)
    rooms = [make_resource() for _ in range(3)]
    assert [save(room.id).status for room in rooms[:2]] == [201, 201]
    baseline = snapshot(table)
    refused = save(rooms[2].id)
    assert (refused.status, refused.code) == (422, "too_many_favourites")
    assert snapshot(table) == baseline
    # Saving one already saved is still fine at the cap, and a removal makes room.
    assert save(rooms[0].id).status == 200
    assert call("DELETE", f"{FAVOURITES}/{rooms[0].id}", user=USER, role="customer").status == 204
    assert save(rooms[2].id).status == 201
