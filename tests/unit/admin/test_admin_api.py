"""The admin endpoints through their real handler (moto; the transitions' conditions are judged on DynamoDB Local in
tests/integration/test_authz_conditions.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise.identity.models import User
from slotwise.identity.repository import put_user
from tests.support.catalog import make_resource
from tests.support.http import ApiResponse, call

ADMIN = {"user": "root", "role": "admin"}
USERS = "/api/v1/admin/users"
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
VENUE = {"name": "Hall", "city": "Lisbon", "timezone": "Europe/Lisbon"}


def admin(method: str, path: str, **kwargs: Any) -> ApiResponse:
    return call(method, path, **ADMIN, **kwargs)


def add_user(user_id: str, role: str, status: str = "active") -> None:
    made = User(
        id=user_id,
        email=f"{user_id}@x.test",
        name=user_id.title(),
        role=role,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        password_hash="scrypt$secret",
    )
    assert put_user(made)


def audit_of(target: str) -> list[dict[str, Any]]:
    found = admin("GET", "/api/v1/admin/audit", query={"target": target})
    assert found.status == 200, found.body
    return list(found.body["entries"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", USERS),
        ("POST", f"{USERS}/u-1/approve"),
        ("POST", f"{USERS}/u-1/reject"),
        ("POST", f"{USERS}/u-1/suspend"),
        ("POST", f"{USERS}/u-1/reinstate"),
        ("GET", "/api/v1/admin/stats"),
        ("GET", "/api/v1/admin/audit"),
    ],
)
def test_admin_routes_are_for_admins_only(table: str, method: str, path: str) -> None:
    add_user("u-1", "vendor", "pending_approval")
    body = {} if method == "POST" else None
    for role in ("customer", "vendor", "staff", "agent", "advisor", "guest"):
        refused = call(method, path, body=body, user=f"{role}-1", role=role)
        assert (refused.status, refused.code) == (403, "permission_denied"), role
    anonymous = call(method, path, body=body)
    assert (anonymous.status, anonymous.code) == (401, "authentication_required")


def test_list_users_by_role_and_status_pages_and_hides_secrets(table: str) -> None:
    for i in range(3):
        add_user(f"v-{i}", "vendor", "pending_approval" if i < 2 else "active")
    add_user("a-1", "advisor", "pending_approval")
    add_user("c-1", "customer")

    pending = admin("GET", USERS, query={"status": "pending_approval"})
    assert pending.status == 200
    assert sorted(u["id"] for u in pending.body["users"]) == ["a-1", "v-0", "v-1"]
    assert all("passwordHash" not in u and "password_hash" not in u for u in pending.body["users"])
    assert {"id", "email", "role", "status", "version"} <= pending.body["users"][0].keys()

    vendors = admin("GET", USERS, query={"role": "vendor", "limit": 2})
    rest = admin("GET", USERS, query={"role": "vendor", "cursor": vendors.body["pagination"]["nextCursor"]})
    listed = [u["id"] for u in vendors.body["users"] + rest.body["users"]]
    assert sorted(listed) == ["v-0", "v-1", "v-2"] and rest.body["pagination"]["nextCursor"] is None

    everyone, cursor = [], None
    while True:
        page = admin("GET", USERS, query={"limit": 2} | ({"cursor": cursor} if cursor else {}))
        everyone += [u["id"] for u in page.body["users"]]
        cursor = page.body["pagination"]["nextCursor"]
        if cursor is None:
            break
    assert sorted(everyone) == ["a-1", "c-1", "v-0", "v-1", "v-2"]

    assert admin("GET", USERS, query={"role": "wizard"}).status == 422
    assert admin("GET", USERS, query={"status": "asleep"}).status == 422
    misused = admin("GET", USERS, query={"role": "advisor", "cursor": vendors.body["pagination"]["nextCursor"]})
    assert (misused.status, misused.code) == (422, "invalid_cursor")


def test_a_vendor_writes_the_catalog_only_once_approved(table: str) -> None:
    add_user("v-new", "vendor", "pending_approval")
    refused = call("POST", "/api/v1/venues", body=VENUE, user="v-new", role="vendor")
    assert (refused.status, refused.code) == (403, "account_not_approved")

    approved = admin("POST", f"{USERS}/v-new/approve", body={"reason": "documents checked"})
    assert approved.status == 200
    assert (approved.body["status"], approved.body["version"]) == ("active", 2)
    assert "passwordHash" not in approved.body
    assert call("POST", "/api/v1/venues", body=VENUE, user="v-new", role="vendor").status == 201

    entries = audit_of("user:v-new")
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["action"], entry["actor"], entry["role"], entry["result"]) == (
        "user.approve",
        "root",
        "admin",
        "success",
    )
    assert entry["detail"] == {
        "from": "pending_approval",
        "to": "active",
        "role": "vendor",
        "reason": "documents checked",
    }
    assert entry["requestId"]  # the API Gateway request id of the approving call


def test_reject_then_approve_and_invalid_moves(table: str) -> None:
    add_user("adv", "advisor", "pending_approval")
    assert admin("POST", f"{USERS}/adv/reject", body={}).body["status"] == "rejected"
    again = admin("POST", f"{USERS}/adv/reject", body={})
    assert (again.status, again.code, again.body["accountStatus"]) == (409, "invalid_transition", "rejected")
    assert admin("POST", f"{USERS}/adv/reinstate", body={}).code == "invalid_transition"
    assert admin("POST", f"{USERS}/adv/approve", body={}).body["status"] == "active"
    assert admin("POST", f"{USERS}/adv/approve", body={}).code == "invalid_transition"
    missing = admin("POST", f"{USERS}/nobody/approve", body={})
    assert (missing.status, missing.code) == (404, "user_not_found")
    add_user("root", "admin")
    own = admin("POST", f"{USERS}/root/suspend", body={})
    assert (own.status, own.code) == (403, "own_account")
    assert [e["action"] for e in audit_of("user:adv")] == ["user.approve", "user.reject"]  # newest first


def test_suspension_stops_gated_actions_at_once_and_reinstate_restores(table: str) -> None:
    add_user("adv-1", "advisor")
    advisor = make_resource(kind="advisor", policy={"confirmation": "approval"}, attributes={"advisorUserId": "adv-1"})
    body = {
        "resourceId": advisor.id,
        "startTime": START.isoformat(),
        "endTime": (START + timedelta(hours=1)).isoformat(),
    }
    pending = call("POST", "/api/v1/bookings", body=body, user="cust").body
    assert admin("POST", f"{USERS}/adv-1/suspend", body={"reason": "abuse"}).body["status"] == "suspended"
    refused = call("POST", f"/api/v1/bookings/{pending['id']}/confirm", body={}, user="adv-1", role="advisor")
    assert (refused.status, refused.code) == (403, "account_suspended")
    assert admin("POST", f"{USERS}/adv-1/reinstate", body={}).body["status"] == "active"
    confirmed = call("POST", f"/api/v1/bookings/{pending['id']}/confirm", body={}, user="adv-1", role="advisor")
    assert confirmed.status == 200


def test_stats_count_users_catalog_and_bookings(table: str) -> None:
    add_user("v-1", "vendor")
    add_user("v-2", "vendor", "pending_approval")
    add_user("c-1", "customer")
    venue = call("POST", "/api/v1/venues", body=VENUE, user="v-1", role="vendor").body
    resource_body = {
        "venueId": venue["id"],
        "name": "Room",
        "type": "meeting_room",
        "policy": {"unit": "minutes", "granuleMinutes": 30},
        "pricing": {"currency": "EUR", "unitPrice": 100},
    }
    rooms = [call("POST", "/api/v1/resources", body=resource_body, user="v-1", role="vendor").body for _ in range(2)]
    assert call("DELETE", f"/api/v1/resources/{rooms[1]['id']}", user="v-1", role="vendor").status == 204
    times = {"startTime": START.isoformat(), "endTime": (START + timedelta(hours=1)).isoformat()}
    first = call("POST", "/api/v1/bookings", body={"resourceId": rooms[0]["id"], **times}, user="c-1").body
    later = {"startTime": (START + timedelta(hours=2)).isoformat(), "endTime": (START + timedelta(hours=3)).isoformat()}
    call("POST", "/api/v1/bookings", body={"resourceId": rooms[0]["id"], **later}, user="c-1")
    call("POST", f"/api/v1/bookings/{first['id']}/cancel", body={}, user="c-1")

    found = admin("GET", "/api/v1/admin/stats")
    assert found.status == 200
    stats = found.body
    assert stats["users"]["byRole"]["vendor"] == 2 and stats["users"]["byRole"]["customer"] == 1
    assert stats["users"]["byStatus"] == {"active": 2, "pending_approval": 1}
    assert stats["users"]["byRoleAndStatus"]["vendor"] == {"active": 1, "pending_approval": 1}
    assert stats["users"]["complete"] is True
    assert stats["venues"] == 1 and stats["resources"] == {"active": 1, "archived": 1}
    assert stats["bookings"]["byStatus"]["confirmed"] == 1 and stats["bookings"]["byStatus"]["cancelled"] == 1
    assert stats["bookings"]["activeHolds"] == 0


def test_audit_by_target_and_actor_with_time_window_and_paging(table: str) -> None:
    room = make_resource()
    made = []
    for hour in range(3):
        times = {
            "startTime": (START + timedelta(hours=2 * hour)).isoformat(),
            "endTime": (START + timedelta(hours=2 * hour + 1)).isoformat(),
        }
        made.append(call("POST", "/api/v1/bookings", body={"resourceId": room.id, **times}, user="cust-a").body)
    call("POST", f"/api/v1/bookings/{made[0]['id']}/cancel", body={"reason": "ill"}, user="cust-a")

    history = audit_of(f"booking:{made[0]['id']}")
    assert [e["action"] for e in history] == ["booking.cancel", "booking.create"]
    assert history[0]["detail"] == {"from": "confirmed", "reason": "ill"}
    assert {e["targetType"] for e in history} == {"booking"} and all(e["requestId"] for e in history)

    mine = admin("GET", "/api/v1/admin/audit", query={"actor": "cust-a", "limit": 3})
    assert len(mine.body["entries"]) == 3 and mine.body["pagination"]["nextCursor"]
    rest = admin(
        "GET", "/api/v1/admin/audit", query={"actor": "cust-a", "cursor": mine.body["pagination"]["nextCursor"]}
    )
    assert len(rest.body["entries"]) == 1

    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    window = admin("GET", "/api/v1/admin/audit", query={"actor": "cust-a", "from": future})
    assert window.status == 200 and window.body["entries"] == []
    both = admin("GET", "/api/v1/admin/audit", query={"target": f"booking:{made[1]['id']}", "actor": "someone"})
    assert both.body["entries"] == []

    for query, code in [
        ({}, "audit_filter_required"),
        ({"target": "planet:x"}, "invalid_target"),
        ({"target": "booking"}, "invalid_target"),
        ({"actor": "cust-a", "from": "2027-01-01T00:00:00"}, "missing_offset"),
        ({"actor": "cust-a", "from": "2027-01-02T00:00:00Z", "to": "2027-01-01T00:00:00Z"}, "end_before_start"),
        ({"actor": "cust-a", "cursor": "garbage!"}, "invalid_cursor"),
    ]:
        refused = admin("GET", "/api/v1/admin/audit", query=query)
        assert (refused.status, refused.code) == (422, code), query
