"""The catalog's write conditions on DynamoDB Local: versions, creation, and a venue's count of active resources."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from slotwise import errors
from slotwise.catalog import repository, service
from slotwise.catalog.models import ResourceInput, VenueInput, VenueUpdate
from slotwise.identity.models import Caller
from tests.support.http import ApiResponse, call

VENDOR = Caller(user_id="vendor-a", role="vendor")
VENUE = {"name": "Hall", "city": "Lisbon", "timezone": "Europe/Lisbon"}


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def resource_input(venue_id: str, name: str = "Room") -> ResourceInput:
    return ResourceInput.model_validate(
        {"venueId": venue_id, "name": name, "type": "meeting_room", "pricing": {"currency": "EUR", "unitPrice": 100}}
    )


def as_vendor(method: str, path: str, **kwargs: Any) -> ApiResponse:
    return call(method, path, user="vendor-a", role="vendor", **kwargs)


def test_two_writers_from_the_same_read_one_wins(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No If-Match: each update is conditional on the version its own read returned."""
    venue = service.create_venue(VENDOR, VenueInput.model_validate(VENUE))
    both_read = threading.Barrier(2, timeout=10)
    read = repository.get_venue

    def read_then_wait(venue_id: str) -> Any:
        found = read(venue_id)
        both_read.wait()
        return found

    monkeypatch.setattr(repository, "get_venue", read_then_wait)

    def rename(name: str) -> str:
        try:
            service.update_venue(VENDOR, venue.id, VenueUpdate.model_validate({**VENUE, "name": name}))
        except errors.Conflict as lost:
            return lost.code
        return "won"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(rename, ["First", "Second"]))
    monkeypatch.undo()
    assert sorted(outcomes) == ["version_conflict", "won"]
    stored = repository.get_venue(venue.id)
    assert stored is not None and stored.version == 2
    assert stored.name == ("First" if outcomes[0] == "won" else "Second")


def test_if_match_racers_through_the_api_exactly_one_wins(local_table: str) -> None:
    venue = as_vendor("POST", "/api/v1/venues", body=VENUE).body
    room = as_vendor("POST", "/api/v1/resources", body=resource_input(venue["id"]).model_dump(by_alias=True)).body
    path = f"/api/v1/resources/{room['id']}"

    def replace(i: int) -> ApiResponse:
        body = {**resource_input(venue["id"], name=f"Writer {i}").model_dump(mode="json", by_alias=True)}
        return as_vendor("PUT", path, body=body, headers={"If-Match": '"1"'})

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(replace, range(16)))
    assert Counter(r.status for r in results) == {200: 1, 409: 15}
    assert {r.code for r in results if r.status == 409} == {"version_conflict"}
    winner = next(r for r in results if r.status == 200).body["name"]
    stored = repository.get_resource(room["id"])
    assert stored is not None and (stored.name, stored.version) == (winner, 2)


def test_creation_is_conditional_on_absence(local_table: str) -> None:
    venue = service.create_venue(VENDOR, VenueInput.model_validate(VENUE))
    with pytest.raises(errors.Conflict):
        repository.save_venue(venue.model_copy(update={"name": "Impostor"}))
    room = service.create_resource(VENDOR, resource_input(venue.id))
    with pytest.raises(errors.Conflict) as again:
        repository.create_resource(room.model_copy(update={"name": "Impostor"}))
    assert again.value.code == "version_conflict"
    stored_venue, stored_room = repository.get_venue(venue.id), repository.get_resource(room.id)
    assert stored_venue is not None and (stored_venue.name, stored_venue.active_resources) == ("Hall", 1)
    assert stored_room is not None and stored_room.name == "Room"


def test_creation_needs_the_venue_it_read(local_table: str) -> None:
    """A resource copies its venue's city; the venue must still exist, in that city, when the resource is written."""
    venue = service.create_venue(VENDOR, VenueInput.model_validate(VENUE))
    copied = service.create_resource(VENDOR, resource_input(venue.id)).model_copy(update={"id": "r-late"})
    service.update_venue(VENDOR, venue.id, VenueUpdate.model_validate({**VENUE, "city": "Porto"}))
    with pytest.raises(errors.Conflict) as moved:
        repository.create_resource(copied)
    assert moved.value.code == "venue_changed"
    assert repository.get_resource("r-late") is None


def test_venue_delete_is_refused_while_resources_exist(local_table: str) -> None:
    venue = as_vendor("POST", "/api/v1/venues", body=VENUE).body
    room = as_vendor("POST", "/api/v1/resources", body=resource_input(venue["id"]).model_dump(by_alias=True)).body
    refused = as_vendor("DELETE", f"/api/v1/venues/{venue['id']}")
    assert (refused.status, refused.code) == (409, "venue_has_resources")
    assert as_vendor("DELETE", f"/api/v1/resources/{room['id']}").status == 204
    assert as_vendor("DELETE", f"/api/v1/venues/{venue['id']}").status == 204
    assert repository.get_venue(venue["id"]) is None


def test_venue_delete_condition_sees_a_resource_added_after_the_read(local_table: str) -> None:
    venue = service.create_venue(VENDOR, VenueInput.model_validate(VENUE))
    stale = repository.get_venue(venue.id)
    assert stale is not None and stale.active_resources == 0
    service.create_resource(VENDOR, resource_input(venue.id))
    assert repository.delete_venue(venue.id) is False
    assert repository.get_venue(venue.id) is not None


def test_delete_racing_creates_never_orphans_a_resource(local_table: str) -> None:
    for _ in range(8):
        venue = service.create_venue(VENDOR, VenueInput.model_validate(VENUE))
        body = resource_input(venue.id).model_dump(by_alias=True)
        create, delete = ("POST", "/api/v1/resources", body), ("DELETE", f"/api/v1/venues/{venue.id}", None)
        # Submitted among the creates, the delete sometimes wins (they then fail) and sometimes loses (409).
        requests = [create] * 3 + [delete] + [create] * 5
        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            results = list(pool.map(lambda r: (r[0], as_vendor(r[0], r[1], body=r[2])), requests))
        created = [r for method, r in results if method == "POST" and r.status == 201]
        deleted = [r for method, r in results if method == "DELETE" and r.status == 204]
        assert all(r.status in {201, 204, 404, 409} for _, r in results), [r.body for _, r in results]
        stored = repository.get_venue(venue.id)
        if deleted:
            assert stored is None and created == []
        else:
            assert stored is not None and stored.active_resources == len(created) > 0


def test_concurrent_creates_keep_the_count_exact(local_table: str) -> None:
    venue = service.create_venue(VENDOR, VenueInput.model_validate(VENUE))

    def create(i: int) -> str:
        try:
            service.create_resource(VENDOR, resource_input(venue.id, name=f"R{i}"))
        except errors.Conflict as lost:
            return lost.code
        return "created"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = Counter(pool.map(create, range(10)))
    stored = repository.get_venue(venue.id)
    assert stored is not None and stored.active_resources == outcomes["created"]
    assert set(outcomes) <= {"created", "version_conflict"}
    assert outcomes["created"] >= 1
