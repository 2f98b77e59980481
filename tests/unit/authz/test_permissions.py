"""The permission table and `require`: who may attempt what, and what the approval gate reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.local.adapter import event_for
from infra.local.functions import invoke
from slotwise import errors
from slotwise.audit import log as audit_log
from slotwise.identity import permissions
from slotwise.identity.models import ROLES, Caller, User
from slotwise.identity.repository import put_user

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def test_docs_show_the_table_in_the_code() -> None:
    text = API_DOC.read_text(encoding="utf-8")
    assert permissions.markdown_table() in text, "paste permissions.markdown_table() into docs/api.md"


def test_the_table_is_complete() -> None:
    assert set(permissions.PERMISSIONS) == set(permissions.ACTIONS) == set(permissions.DESCRIPTIONS)
    assert set(permissions.ACTIONS) >= permissions.NEEDS_ACTIVE_ACCOUNT
    assert set(permissions.OBJECT_RULES) <= set(permissions.ACTIONS)
    for action, roles in permissions.PERMISSIONS.items():
        assert roles <= set(ROLES), action
    # Guests only browse (a quote is a read: it writes nothing); only admins administer.
    assert {a for a, roles in permissions.PERMISSIONS.items() if "guest" in roles} == {
        "catalog.read",
        "availability.read",
        "quote.create",
    }
    assert all(roles == {"admin"} for a, roles in permissions.PERMISSIONS.items() if a.startswith("admin."))


@pytest.mark.parametrize("action", permissions.ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_require_follows_the_table_for_callers_without_a_profile(module_table: str, action: str, role: str) -> None:
    allowed = role in permissions.PERMISSIONS[action]  # type: ignore[index]
    who = Caller(None, "guest") if role == "guest" else Caller(f"{role}-1", role)  # type: ignore[arg-type]
    if allowed:
        permissions.require(who, action)  # type: ignore[arg-type]
        return
    expected = errors.AuthenticationRequired if who.user_id is None else errors.PermissionDenied
    with pytest.raises(expected):
        permissions.require(who, action)  # type: ignore[arg-type]


def _user(user_id: str, role: str, status: str) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert put_user(User(id=user_id, email=f"{user_id}@x.test", name="U", role=role, status=status, created_at=now))  # type: ignore[arg-type]


def test_the_gate_reads_the_stored_status(table: str) -> None:
    _user("v-pending", "vendor", "pending_approval")
    _user("v-active", "vendor", "active")
    _user("v-suspended", "vendor", "suspended")
    with pytest.raises(errors.PermissionDenied) as pending:
        permissions.require(Caller("v-pending", "vendor"), "venue.create")
    assert pending.value.code == "account_not_approved"
    permissions.require(Caller("v-pending", "vendor"), "booking.create")  # not gated: a pending vendor may book
    permissions.require(Caller("v-active", "vendor", status="pending_approval"), "venue.create")  # stored wins
    with pytest.raises(errors.PermissionDenied) as suspended:
        permissions.require(Caller("v-suspended", "vendor"), "venue.create")
    assert suspended.value.code == "account_suspended"


def test_without_a_profile_the_callers_own_status_counts(table: str) -> None:
    permissions.require(Caller("no-profile", "vendor"), "venue.create")
    with pytest.raises(errors.PermissionDenied) as pending:
        permissions.require(Caller("no-profile", "vendor", status="pending_approval"), "venue.create")
    assert pending.value.code == "account_not_approved"
    with pytest.raises(errors.PermissionDenied) as suspended:
        permissions.require(Caller("no-profile", "customer", status="suspended"), "booking.create")
    assert suspended.value.code == "account_suspended"


def test_route_docs_name_roles_objects_and_the_gate() -> None:
    text = permissions.route_doc("booking.decide")
    assert "`booking.decide`" in text and "advisor" in text and "approved" in text and "404" in text
    assert "anyone" in permissions.route_doc("catalog.read")


def test_the_api_request_id_reaches_the_audit_entry(table: str) -> None:
    venue = {"name": "Hall", "city": "Lisbon", "timezone": "Europe/Lisbon"}
    group, event = event_for(
        "POST",
        "/api/v1/venues",
        headers=[("x-slotwise-user-id", "v-1"), ("x-slotwise-role", "vendor"), ("content-type", "application/json")],
        body=json.dumps(venue).encode(),
        raw_query_string="",
    )
    event["requestContext"]["requestId"] = "req-42"
    created = json.loads(invoke(group, event)["body"])
    entries, _ = audit_log.query(target=f"venue:{created['id']}", actor=None, frm=None, to=None, limit=10, cursor=None)
    assert [(e["action"], e["actor"], e["role"], e["requestId"]) for e in entries] == [
        ("venue.create", "v-1", "vendor", "req-42")
    ]
