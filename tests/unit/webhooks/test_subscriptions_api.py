"""The subscription API through its real handler (moto): roles, the secret shown once, changes, rotation, SSRF."""

from __future__ import annotations

from typing import Any

import pytest

from slotwise.identity.models import User
from slotwise.identity.repository import put_user
from tests.support.http import ApiResponse, call

API = "/api/v1/webhook-subscriptions"
VENDOR = {"user": "vendor-a", "role": "vendor"}
OTHER_VENDOR = {"user": "vendor-b", "role": "vendor"}
ADMIN = {"user": "root", "role": "admin"}
HOOK = {"url": "https://hooks.example.com/slotwise", "eventTypes": ["booking.confirmed", "booking.cancelled"]}


def create(who: dict[str, str] = VENDOR, **changes: Any) -> ApiResponse:
    return call("POST", API, body={**HOOK, **changes}, **who)


def test_create_shows_the_secret_once(table: str) -> None:
    created = create(description="Orders")
    assert created.status == 201, created.body
    body = created.body
    assert created.headers["location"] == f"{API}/{body['id']}"
    assert body["secret"].startswith("whsec_")
    assert body["secretHint"] == f"…{body['secret'][-4:]}"
    assert body | {"secret": None} == body | {
        "ownerId": "vendor-a",
        "scope": "own",
        "url": HOOK["url"],
        "eventTypes": ["booking.confirmed", "booking.cancelled"],
        "description": "Orders",
        "active": True,
        "version": 1,
        "secret": None,
    }
    again = call("GET", f"{API}/{body['id']}", **VENDOR)
    assert again.status == 200
    assert "secret" not in again.body and "previousSecret" not in again.body
    listed = call("GET", API, **VENDOR)
    assert [s["id"] for s in listed.body["subscriptions"]] == [body["id"]]
    assert all("secret" not in s for s in listed.body["subscriptions"])
    audit = call("GET", "/api/v1/admin/audit", query={"target": f"webhook:{body['id']}"}, **ADMIN)
    assert audit.body["entries"] and body["secret"] not in str(audit.body)


def test_an_admins_subscription_receives_everything(table: str) -> None:
    created = create(ADMIN, eventTypes=["*", "booking.held"])
    assert created.status == 201
    assert created.body["scope"] == "all" and created.body["eventTypes"] == ["*"]


@pytest.mark.parametrize("role", ["customer", "staff", "agent", "advisor", "guest"])
def test_other_roles_are_refused(table: str, role: str) -> None:
    refused = call("POST", API, body=HOOK, user=f"{role}-1", role=role)
    assert (refused.status, refused.code) == (403, "permission_denied")
    assert call("GET", API, user=f"{role}-1", role=role).status == 403
    anonymous = call("GET", API)
    assert (anonymous.status, anonymous.code) == (401, "authentication_required")


def test_a_vendor_awaiting_approval_cannot_subscribe(table: str) -> None:
    from datetime import UTC, datetime

    put_user(
        User(
            id="v-new",
            email="v@x.test",
            name="V",
            role="vendor",
            status="pending_approval",
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    refused = create({"user": "v-new", "role": "vendor"})
    assert (refused.status, refused.code) == (403, "account_not_approved")


@pytest.mark.parametrize(
    "body",
    [
        {"url": HOOK["url"], "eventTypes": ["booking.exploded"]},
        {"url": HOOK["url"], "eventTypes": []},
        {"url": HOOK["url"]},
        {"eventTypes": ["*"]},
        {**HOOK, "secret": "mine"},
        {**HOOK, "active": False},
    ],
)
def test_bodies_are_validated(table: str, body: dict[str, Any]) -> None:
    refused = call("POST", API, body=body, **VENDOR)
    assert (refused.status, refused.code) == (422, "validation_failed"), refused.body


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "https://internal.example.com/x",
        "https://unknown.example.com/x",
        "https://user:pw@hooks.example.com/x",
        "https://10.0.0.1/x",
        "https://169.254.169.254/latest/meta-data/",
    ],
)
def test_urls_that_could_reach_inside_are_refused(table: str, url: str) -> None:
    refused = create(url=url)
    assert (refused.status, refused.code) == (422, "webhook_url_refused"), refused.body
    assert refused.body["field"] == "url"
    assert call("GET", API, **VENDOR).body["subscriptions"] == []


def test_update_changes_only_what_is_sent_and_checks_the_url(table: str) -> None:
    sub = create().body
    changed = call("PUT", f"{API}/{sub['id']}", body={"eventTypes": ["*"], "description": "All"}, **VENDOR)
    assert changed.status == 200, changed.body
    assert (changed.body["eventTypes"], changed.body["description"], changed.body["url"]) == (["*"], "All", HOOK["url"])
    assert changed.body["version"] == 2
    refused = call("PUT", f"{API}/{sub['id']}", body={"url": "https://internal.example.com/x"}, **VENDOR)
    assert (refused.status, refused.code) == (422, "webhook_url_refused")
    off = call("PUT", f"{API}/{sub['id']}", body={"active": False}, **VENDOR).body
    assert off["active"] is False and off["disabledReason"]
    on = call("PUT", f"{API}/{sub['id']}", body={"active": True, "url": "https://other.example.com/in"}, **VENDOR).body
    assert on["active"] is True and on["disabledReason"] is None and on["url"] == "https://other.example.com/in"
    empty = call("PUT", f"{API}/{sub['id']}", body={}, **VENDOR)
    assert empty.status == 422


def test_rotation_shows_the_new_secret_once_and_keeps_the_old_for_a_while(table: str) -> None:
    sub = create().body
    rotated = call("POST", f"{API}/{sub['id']}/rotate-secret", body={}, **VENDOR)
    assert rotated.status == 200, rotated.body
    assert rotated.body["secret"] != sub["secret"] and rotated.body["secret"].startswith("whsec_")
    assert rotated.body["previousSecretExpiresAt"] is not None
    assert "secret" not in call("GET", f"{API}/{sub['id']}", **VENDOR).body
    at_once = call("POST", f"{API}/{sub['id']}/rotate-secret", body={"previousSecretValidHours": 0}, **VENDOR)
    assert at_once.body["previousSecretExpiresAt"] is None


def test_delete_and_the_audit_trail(table: str) -> None:
    sub = create().body
    call("PUT", f"{API}/{sub['id']}", body={"description": "x"}, **VENDOR)
    call("POST", f"{API}/{sub['id']}/rotate-secret", body={}, **VENDOR)
    assert call("DELETE", f"{API}/{sub['id']}", **VENDOR).status == 204
    assert call("GET", f"{API}/{sub['id']}", **VENDOR).status == 404
    entries = call("GET", "/api/v1/admin/audit", query={"target": f"webhook:{sub['id']}"}, **ADMIN).body["entries"]
    assert sorted(e["action"] for e in entries) == [
        "webhook.create",
        "webhook.delete",
        "webhook.rotate_secret",
        "webhook.update",
    ]
    assert all(e["actor"] == "vendor-a" for e in entries)


def test_vendors_see_only_their_own_and_admins_any(table: str) -> None:
    mine = create().body
    theirs = create(OTHER_VENDOR).body
    assert [s["id"] for s in call("GET", API, **VENDOR).body["subscriptions"]] == [mine["id"]]
    for method, suffix, body in [
        ("GET", "", None),
        ("PUT", "", {"description": "x"}),
        ("DELETE", "", None),
        ("POST", "/rotate-secret", {}),
        ("GET", "/deliveries", None),
    ]:
        refused = call(method, f"{API}/{theirs['id']}{suffix}", body=body, **VENDOR)
        assert (refused.status, refused.code) == (404, "webhook_subscription_not_found"), (method, suffix)
    assert call("GET", f"{API}/{theirs['id']}", **ADMIN).status == 200
    assert call("GET", f"{API}/{theirs['id']}/deliveries", **ADMIN).status == 200


def test_listing_pages_with_a_cursor(table: str) -> None:
    made = [create(description=str(i)).body["id"] for i in range(3)]
    first = call("GET", API, query={"limit": 2}, **VENDOR).body
    assert len(first["subscriptions"]) == 2 and first["pagination"]["nextCursor"]
    rest = call("GET", API, query={"limit": 2, "cursor": first["pagination"]["nextCursor"]}, **VENDOR).body
    assert sorted(s["id"] for s in first["subscriptions"] + rest["subscriptions"]) == sorted(made)
    foreign = call("GET", API, query={"cursor": first["pagination"]["nextCursor"]}, **OTHER_VENDOR)
    assert (foreign.status, foreign.code) == (422, "invalid_cursor")


def test_an_account_holds_a_bounded_number_of_subscriptions(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from slotwise.webhooks import service

    monkeypatch.setattr(service, "MAX_SUBSCRIPTIONS_PER_OWNER", 2)
    assert create().status == 201
    assert create().status == 201
    refused = create()
    assert (refused.status, refused.code) == (409, "webhook_subscription_limit")
    assert create(OTHER_VENDOR).status == 201
    # Deleting one makes room for one.
    listed = call("GET", API, **VENDOR).body["subscriptions"]
    assert call("DELETE", f"{API}/{listed[0]['id']}", **VENDOR).status == 204
    assert create().status == 201
    assert create().code == "webhook_subscription_limit"
