"""Organisations are walls: the vendor, a staff member and an agent of organisation B, real members of it, get on
every route with an id exactly what a stranger gets for organisation A's objects (404 where their role may act,
403 where it may not), see none of A's bookings, venues or members in their listings, and write nothing.

The world is the BOLA matrix's (tests/unit/authz/test_bola_matrix.py): organisation A is its vendor's, with a
staff member; organisation B is built here, with its members added through the API.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from slotwise.identity.models import Caller, User
from slotwise.identity.repository import put_user
from slotwise.organisations import service as organisations
from tests.support.http import call
from tests.unit.authz import test_bola_matrix as bola
from tests.unit.authz.test_bola_matrix import API, CASES, OWNER, SLOTS, World, expected
from tests.unit.authz.world import snapshot

world = bola.world  # the BOLA matrix's module-scoped fixture, built anew for this module

VENDOR_B = "vendor-b"
ORGANISATION_B: list[tuple[str, str]] = [(VENDOR_B, "vendor"), ("staff-b", "staff"), ("agent-b", "agent")]


@pytest.fixture(scope="module")
def two_organisations(world: World, module_table: str) -> World:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    vendor_b = {"user": VENDOR_B, "role": "vendor"}
    organisation_b = call("GET", f"{API}/organisations/me", **vendor_b).body["id"]
    for user, role in ORGANISATION_B[1:]:
        assert put_user(User(id=user, email=f"{user}@x.test", name=user, role=role, created_at=now))  # type: ignore[arg-type]
        added = call(
            "POST",
            f"{API}/organisations/{organisation_b}/members",
            body={"email": f"{user}@x.test", "role": role},
            **vendor_b,
        )
        assert added.status == 201, added.body
    world.ids["organisation_b"] = organisation_b
    world.baseline = snapshot(module_table)
    return world


def test_organisation_b_members_are_real_members(two_organisations: World) -> None:
    for user, role in ORGANISATION_B:
        membership = organisations.membership_of(Caller(user_id=user, role=role))  # type: ignore[arg-type]
        assert membership is not None and membership.organisation_id == two_organisations.ids["organisation_b"]
    staff_a = organisations.membership_of(Caller(user_id="staff-own", role="staff"))
    assert staff_a is not None and staff_a.organisation_id == two_organisations.ids["organisation"]


MATRIX = [(key, user, role) for key in CASES for user, role in ORGANISATION_B]


@pytest.mark.parametrize(("route_key", "user", "role"), MATRIX, ids=[f"{k} as {r} of B" for k, _, r in MATRIX])
def test_organisation_b_gets_nothing_of_organisation_a(
    two_organisations: World, module_table: str, route_key: str, user: str, role: str
) -> None:
    case = CASES[route_key]
    ids = two_organisations.ids
    method = route_key.split(" ", 1)[0]
    response = call(method, case.path(ids), body=case.body(ids), query=case.query or None, user=user, role=role)
    assert (response.status, response.code) == expected(case.action, role, case.not_found, case.own), response.body
    assert snapshot(module_table) == two_organisations.baseline


@pytest.mark.parametrize(("user", "role"), ORGANISATION_B, ids=[r for _, r in ORGANISATION_B])
def test_organisation_b_lists_nothing_of_organisation_a(
    two_organisations: World, module_table: str, user: str, role: str
) -> None:
    ids = two_organisations.ids
    caller = {"user": user, "role": role}
    a_bookings = {ids["booking"], ids["held"]}
    for query in (None, {"status": "awaiting_approval"}, {"customerId": "cust-own"}):
        listed = call("GET", f"{API}/bookings", query=query, **caller)
        if role == "agent" and query and "customerId" in query:
            # An agent lists what they made, never a customer's bookings: refused whatever the organisation.
            assert (listed.status, listed.code) == (403, "permission_denied")
            continue
        assert listed.status == 200 and not a_bookings & {b["id"] for b in listed.body["bookings"]}, query
    by_venue = call("GET", f"{API}/bookings", query={"venueId": ids["venue"]}, **caller)
    assert (by_venue.status, by_venue.code) == (404, "venue_not_found")
    by_resource = call("GET", f"{API}/bookings", query={"resourceId": ids["advisor_room"]}, **caller)
    assert (by_resource.status, by_resource.code) == (404, "resource_not_found")
    venues = call("GET", f"{API}/venues", query={"mine": "true"}, **caller)
    assert venues.status == 200 and ids["venue"] not in {v["id"] for v in venues.body["venues"]}
    slots = call("GET", f"{API}/resources/{ids['archived']}/slots", query=SLOTS, **caller)
    assert (slots.status, slots.code) == (404, "resource_not_found")
    mine = call("GET", f"{API}/organisations/me", **caller)
    assert mine.status == 200 and mine.body["id"] == ids["organisation_b"] and mine.body["ownerId"] == VENDOR_B
    members = call("GET", f"{API}/organisations/{ids['organisation']}/members", **caller)
    assert (members.status, members.code) == (404, "organisation_not_found")
    assert snapshot(module_table) == two_organisations.baseline


def test_organisation_a_staff_reach_what_b_cannot(two_organisations: World, module_table: str) -> None:
    """The control: the 404s above are about the organisation, not missing objects (reads only: nothing written)."""
    ids = two_organisations.ids
    staff_a = {"user": "staff-own", "role": "staff"}
    assert call("GET", f"{API}/bookings/{ids['booking']}", **staff_a).status == 200
    assert call("GET", f"{API}/venues/{ids['hidden_venue']}", **staff_a).status == 200
    assert call("GET", f"{API}/resources/{ids['archived']}", **staff_a).status == 200
    listed = call("GET", f"{API}/bookings", **staff_a)
    assert listed.status == 200 and {ids["booking"], ids["held"]} <= {b["id"] for b in listed.body["bookings"]}
    members = call("GET", f"{API}/organisations/{ids['organisation']}/members", **staff_a)
    assert [m["userId"] for m in members.body["members"]] == ["staff-own"]
    owner = call("GET", f"{API}/organisations/me", user=OWNER, role="vendor").body
    assert (owner["id"], owner["role"]) == (ids["organisation"], "owner")
    assert snapshot(module_table) == two_organisations.baseline
