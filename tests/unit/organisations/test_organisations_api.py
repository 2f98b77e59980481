"""Organisations through the real handlers: the owner's organisation, adding and removing staff and agents, and
what staff may do for their organisation (moto; conditions and races are judged on DynamoDB Local)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from slotwise.identity.models import User
from slotwise.identity.repository import put_user
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import call

API = "/api/v1"
ORG = f"org-{VENDOR}"
MEMBERS = f"{API}/organisations/{ORG}/members"
OWNER = {"user": VENDOR, "role": "vendor"}
STAFF = {"user": "staff-1", "role": "staff"}
AGENT = {"user": "agent-1", "role": "agent"}
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def account(user_id: str, role: str, name: str = "") -> None:
    user = User(id=user_id, email=f"{user_id}@x.test", name=name or user_id, role=role, created_at=EPOCH)  # type: ignore[arg-type]
    assert put_user(user)


def add(user_id: str, role: str, owner: dict[str, str] = OWNER, organisation: str = ORG) -> Any:
    body = {"email": f"{user_id.upper()}@X.test", "role": role}  # e-mails are matched normalised
    return call("POST", f"{API}/organisations/{organisation}/members", body=body, **owner)


def book(resource_id: str, hours: int = 0, user: str = "cust", **extra: Any) -> dict[str, Any]:
    start = START + timedelta(hours=hours)
    body = {
        "resourceId": resource_id,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(hours=1)).isoformat(),
    }
    made = call("POST", f"{API}/bookings", body={**body, **extra}, user=user, role="customer")
    assert made.status == 201, made.body
    return dict(made.body)


@pytest.fixture
def staffed(table: str) -> str:
    account(VENDOR, "vendor", "Harbour Hostel Lda")
    account("staff-1", "staff")
    account("agent-1", "agent")
    assert add("staff-1", "staff").status == 201
    assert add("agent-1", "agent").status == 201
    return table


def test_the_vendor_owns_one_organisation_created_on_first_use(table: str) -> None:
    account(VENDOR, "vendor", "Harbour Hostel Lda")
    first = call("GET", f"{API}/organisations/me", **OWNER)
    assert first.status == 200
    assert {k: first.body[k] for k in ("id", "ownerId", "name", "role")} == {
        "id": ORG,
        "ownerId": VENDOR,
        "name": "Harbour Hostel Lda",
        "role": "owner",
    }
    again = call("GET", f"{API}/organisations/me", **OWNER)
    assert again.body == first.body  # created once, then read
    nobody = call("GET", f"{API}/organisations/me", user="staff-9", role="staff")
    assert (nobody.status, nobody.code) == (404, "organisation_not_found")
    customer = call("GET", f"{API}/organisations/me", user="cust", role="customer")
    assert (customer.status, customer.code) == (403, "permission_denied")


def test_members_are_added_by_email_and_listed(staffed: str) -> None:
    listed = call("GET", MEMBERS, **OWNER)
    assert listed.status == 200
    assert sorted((m["userId"], m["role"], m["email"]) for m in listed.body["members"]) == [
        ("agent-1", "agent", "agent-1@x.test"),
        ("staff-1", "staff", "staff-1@x.test"),
    ]
    assert call("GET", MEMBERS, **STAFF).status == 200  # colleagues see each other
    agent_view = call("GET", MEMBERS, **AGENT)  # an agent books; the staff list is not theirs
    assert (agent_view.status, agent_view.code) == (404, "organisation_not_found")
    for who in (STAFF, AGENT):
        mine = call("GET", f"{API}/organisations/me", **who).body
        assert (mine["id"], mine["role"], mine["ownerId"]) == (ORG, who["role"], VENDOR)
    page = call("GET", MEMBERS, query={"limit": 1}, **OWNER).body
    assert len(page["members"]) == 1 and page["nextCursor"]
    rest = call("GET", MEMBERS, query={"limit": 1, "cursor": page["nextCursor"]}, **OWNER).body
    assert len(rest["members"]) == 1 and rest["members"][0]["userId"] != page["members"][0]["userId"]


def test_who_can_be_added(staffed: str) -> None:
    account("cust-2", "customer")
    customer = add("cust-2", "staff")
    assert (customer.status, customer.code) == (422, "member_role_mismatch")
    account("staff-2", "staff")
    as_agent = add("staff-2", "agent")
    assert (as_agent.status, as_agent.code) == (422, "member_role_mismatch")
    again = add("staff-1", "staff")
    assert (again.status, again.code) == (409, "already_member")
    # Another vendor cannot take someone else's staff member: one organisation per member.
    other = {"user": "vendor-2", "role": "vendor"}
    taken = add("staff-1", "staff", owner=other, organisation="org-vendor-2")
    assert (taken.status, taken.code) == (409, "already_member")
    # Nor add to, or read, an organisation not theirs; staff and agents never add members.
    foreign = add("staff-2", "staff", owner=other)
    assert (foreign.status, foreign.code) == (404, "organisation_not_found")
    assert call("GET", MEMBERS, **other).status == 404
    assert add("staff-2", "staff", owner=STAFF).status == 403
    # An admin manages any organisation's members.
    assert add("staff-2", "staff", owner={"user": "root", "role": "admin"}).status == 201
    assert call("GET", MEMBERS, user="root", role="admin").status == 200
    missing = call("GET", f"{API}/organisations/org-nobody/members", user="root", role="admin")
    assert (missing.status, missing.code) == (404, "organisation_not_found")


def test_staff_act_on_their_organisations_catalog_and_bookings(staffed: str) -> None:
    room = make_resource(policy={"confirmation": "approval"})
    request = book(room.id)
    assert request["status"] == "awaiting_approval"
    # Staff read, decide, and list every booking of the organisation.
    assert call("GET", f"{API}/bookings/{request['id']}", **STAFF).status == 200
    confirmed = call("POST", f"{API}/bookings/{request['id']}/confirm", body={}, **STAFF)
    assert (confirmed.status, confirmed.body["status"]) == (200, "confirmed")
    listed = call("GET", f"{API}/bookings", **STAFF)
    assert [b["id"] for b in listed.body["bookings"]] == [request["id"]]
    by_resource = call("GET", f"{API}/bookings", query={"resourceId": room.id}, **STAFF)
    assert [b["id"] for b in by_resource.body["bookings"]] == [request["id"]]
    # Their catalog changes are the vendor's: a venue made by staff is owned by the vendor.
    venue = call(
        "POST", f"{API}/venues", body={"name": "Annex", "city": "Lisbon", "timezone": "Europe/Lisbon"}, **STAFF
    )
    assert venue.status == 201
    assert (venue.body["ownerId"], venue.body["organisationId"]) == (VENDOR, ORG)
    assert call("GET", f"{API}/venues/{venue.body['id']}", **OWNER).status == 200
    resource = call("GET", f"{API}/resources/{room.id}", **STAFF).body
    assert resource["organisationId"] == ORG  # derived: this resource was stored without one
    # A cancellation by staff is the operator's: everything back, no fee.
    cancelled = call("POST", f"{API}/bookings/{request['id']}/cancel", body={"reason": "Flooded"}, **STAFF)
    assert cancelled.status == 200 and cancelled.body["cancelled"][0]["status"] == "cancelled"


def test_agents_of_an_organisation_see_only_what_they_made(staffed: str) -> None:
    room = make_resource()
    theirs = book(room.id)
    made = call(
        "POST",
        f"{API}/bookings",
        body={
            "resourceId": room.id,
            "customerId": "cust-9",
            "startTime": (START + timedelta(hours=3)).isoformat(),
            "endTime": (START + timedelta(hours=4)).isoformat(),
        },
        **AGENT,
    )
    assert made.status == 201
    assert call("GET", f"{API}/bookings/{theirs['id']}", **AGENT).status == 404
    assert [b["id"] for b in call("GET", f"{API}/bookings", **AGENT).body["bookings"]] == [made.body["id"]]
    assert call("POST", f"{API}/bookings/{made.body['id']}/confirm", body={}, **AGENT).status == 403


def test_a_removed_member_loses_access_on_their_next_request(staffed: str) -> None:
    room = make_resource()
    booking = book(room.id)
    assert call("GET", f"{API}/bookings/{booking['id']}", **STAFF).status == 200
    assert call("DELETE", f"{MEMBERS}/staff-1", **OWNER).status == 204
    gone = call("GET", f"{API}/bookings/{booking['id']}", **STAFF)
    assert (gone.status, gone.code) == (404, "booking_not_found")
    assert call("GET", f"{API}/organisations/me", **STAFF).status == 404
    assert call("GET", f"{API}/bookings", **STAFF).body["bookings"] == []
    again = call("DELETE", f"{MEMBERS}/staff-1", **OWNER)
    assert (again.status, again.code) == (404, "member_not_found")
    # Free again: another organisation may add them.
    assert (
        add("staff-1", "staff", owner={"user": "vendor-2", "role": "vendor"}, organisation="org-vendor-2").status == 201
    )


def test_membership_changes_are_audited(staffed: str) -> None:
    assert call("DELETE", f"{MEMBERS}/agent-1", **OWNER).status == 204
    log = call("GET", f"{API}/admin/audit", query={"target": f"organisation:{ORG}"}, user="root", role="admin")
    actions = sorted(e["action"] for e in log.body["entries"])
    assert actions == ["organisation.member_add", "organisation.member_add", "organisation.member_remove"]


def test_every_booking_carries_its_organisations_listing_key(table: str) -> None:
    room = make_resource()
    made = book(room.id)
    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"PK": {"S": f"BOOKING#{made['id']}"}, "SK": {"S": "BOOKING"}}
    )["Item"]
    assert item["GSI5PK"] == {"S": f"ORGBOOK#{ORG}"}
    assert item["GSI5SK"] == item["GSI2SK"] == {"S": f"2027-03-01T09:00:00Z#{made['id']}"}


def test_the_organisation_listing_filters_and_goes_newest_first(table: str) -> None:
    rooms = [make_resource(), make_resource()]
    made = [book(rooms[n % 2].id, hours=2 * n, user=f"c{n % 3}") for n in range(6)]
    listed = call("GET", f"{API}/bookings", **OWNER).body["bookings"]
    assert [b["id"] for b in listed] == [b["id"] for b in reversed(made)]
    by_venue = call("GET", f"{API}/bookings", query={"venueId": rooms[0].venue_id}, **OWNER).body["bookings"]
    assert [b["id"] for b in by_venue] == [b["id"] for b in reversed(made[0::2])]
    both = call(
        "GET", f"{API}/bookings", query={"venueId": rooms[1].venue_id, "resourceId": rooms[1].id}, **OWNER
    ).body["bookings"]
    assert [b["id"] for b in both] == [b["id"] for b in reversed(made[1::2])]
    customer = call("GET", f"{API}/bookings", query={"customerId": "c1"}, **OWNER).body["bookings"]
    assert [b["id"] for b in customer] == [made[4]["id"], made[1]["id"]]
    window = {"from": (START + timedelta(hours=2)).isoformat(), "to": (START + timedelta(hours=6)).isoformat()}
    in_window = call("GET", f"{API}/bookings", query=window, **OWNER).body["bookings"]
    assert [b["id"] for b in in_window] == [made[3]["id"], made[2]["id"], made[1]["id"]]
    cancelled = call("GET", f"{API}/bookings", query={"status": "cancelled"}, **OWNER).body["bookings"]
    assert cancelled == []
