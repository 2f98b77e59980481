"""An admin's notices (one user at once; a role page by page through the outbox) and clearing one's notifications,
through the real handlers (moto). The conditions are judged on DynamoDB Local
(tests/integration/test_message_conditions.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from slotwise.data.codec import to_item
from slotwise.events.changes import event_of
from slotwise.identity.models import User
from slotwise.identity.repository import put_user
from slotwise.notifications import notices, service
from slotwise.notifications import store as notification_store
from tests.support.http import call
from tests.unit.authz.world import snapshot

ADMIN = {"user": "root", "role": "admin"}
NOTIFY = "/api/v1/admin/notifications"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def user(user_id: str, role: str) -> None:
    assert put_user(User(id=user_id, email=f"{user_id}@x.test", name=user_id, role=role, created_at=NOW))


def notices_of(user_id: str) -> list[Any]:
    found, _ = notification_store.list_page(user_id, unread_only=False, limit=100, start_key=None)
    return [n for n in found if n.event_type == "admin.notice"]


def drain(notice_id: str, *, redeliver: int = 1) -> int:
    """What the stream and the queue do: each committed version of the notice is an event; deliver every event
    `redeliver` times (at-least-once delivery) until the notice is done. Returns how many pages ran."""
    old: dict[str, Any] | None = None
    pages = 0
    while True:
        notice = notification_store.get_notice(notice_id)
        assert notice is not None
        image = {"PK": f"NOTICE#{notice_id}", "SK": "NOTICE", **notice.model_dump(mode="json", by_alias=True)}
        record = {
            "eventName": "INSERT" if old is None else "MODIFY",
            "dynamodb": {"NewImage": to_item(image), **({"OldImage": to_item(old)} if old else {})},
        }
        event = event_of(record)
        if event is None:
            assert notice.status == "done"
            return pages
        assert event.type == "notice.page" and event.id == f"notice:{notice_id}:{notice.version}"
        for _ in range(redeliver):
            service.handle(event)
        pages += 1
        old = image


def test_a_notice_to_one_user_arrives_at_once_and_is_audited(table: str) -> None:
    user("cust-1", "customer")
    sent = call("POST", NOTIFY, body={"userId": "cust-1", "title": "Hello", "body": "Maintenance at 2"}, **ADMIN)
    assert sent.status == 202, sent.body
    assert sent.body["target"] == "user:cust-1" and sent.body["recipients"] == 1
    (note,) = notices_of("cust-1")
    assert (note.title, note.body) == ("Hello", "Maintenance at 2")
    audited = call("GET", "/api/v1/admin/audit", query={"target": "user:cust-1"}, **ADMIN).body["entries"]
    assert [e["action"] for e in audited] == ["notification.send"]
    missing = call("POST", NOTIFY, body={"userId": "nobody", "title": "x", "body": "y"}, **ADMIN)
    assert (missing.status, missing.code) == (404, "user_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x", "body": "y"},
        {"userId": "cust-1", "role": "customer", "title": "x", "body": "y"},
        {"role": "guest", "title": "x", "body": "y"},
        {"role": "customer", "title": "", "body": "y"},
        {"role": "customer", "title": "x", "body": "y" * 2001},
        {"role": "customer", "title": "x" * 201, "body": "y"},
    ],
)
def test_a_notice_names_one_audience_and_bounded_text(table: str, body: dict[str, Any]) -> None:
    baseline = snapshot(table)
    refused = call("POST", NOTIFY, body=body, **ADMIN)
    assert refused.status == 422, refused.body
    assert snapshot(table) == baseline


def test_only_admins_send_notices(table: str) -> None:
    baseline = snapshot(table)
    for role in ("customer", "vendor", "advisor", "staff", "agent"):
        refused = call("POST", NOTIFY, body={"role": "customer", "title": "x", "body": "y"}, user="u", role=role)
        assert refused.status == 403
    assert call("POST", NOTIFY, body={"role": "customer", "title": "x", "body": "y"}).status == 401
    assert snapshot(table) == baseline


def test_every_user_of_the_role_gets_exactly_one_even_when_pages_are_redelivered(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small pages keep moto quick; the page size is what bounds one queue message's work.
    monkeypatch.setattr(notices, "PAGE_SIZE", 5)
    customers = [f"cust-{n:03d}" for n in range(12)]
    for customer in customers:
        user(customer, "customer")
    for advisor in ("adv-1", "adv-2"):
        user(advisor, "advisor")
    sent = call("POST", NOTIFY, body={"role": "customer", "title": "Welcome", "body": "New features"}, **ADMIN)
    assert sent.status == 202, sent.body
    assert sent.body["target"] == "role:customer"
    # Nothing is delivered synchronously: the request only stored the notice (and its audit entry).
    assert notices_of(customers[0]) == []
    pages = drain(sent.body["id"], redeliver=2)
    assert pages == 3  # 12 users, 5 a page
    for customer in customers:
        (note,) = notices_of(customer)
        assert note.title == "Welcome" and note.event_id == sent.body["id"]
        assert notification_store.unread_count(customer) == 1
    assert notices_of("adv-1") == [] and notices_of("root") == []
    done = notification_store.get_notice(sent.body["id"])
    assert done is not None and done.status == "done" and done.delivered == len(customers)
    audited = call("GET", "/api/v1/admin/audit", query={"target": f"notice:{sent.body['id']}"}, **ADMIN)
    assert [e["action"] for e in audited.body["entries"]] == ["notification.broadcast"]


def test_clearing_deletes_only_the_callers_notifications(table: str) -> None:
    for person in ("cust-1", "cust-2"):
        user(person, "customer")
    for n in range(3):
        for person in ("cust-1", "cust-2"):
            body = {"userId": person, "title": f"T{n}", "body": "b"}
            assert call("POST", NOTIFY, body=body, **ADMIN).status == 202
    first = notices_of("cust-1")[0]
    assert call("POST", f"/api/v1/notifications/{first.id}/read", user="cust-1", role="customer").status == 200
    cleared = call("DELETE", "/api/v1/notifications", user="cust-1", role="customer")
    assert cleared.status == 200, cleared.body
    assert cleared.body == {"deleted": 3, "more": False}
    listed = call("GET", "/api/v1/notifications", user="cust-1", role="customer").body["notifications"]
    assert listed == []
    assert call("GET", "/api/v1/notifications/unread-count", user="cust-1", role="customer").body == {"unread": 0}
    assert len(notices_of("cust-2")) == 3 and notification_store.unread_count("cust-2") == 3
    # Nothing left: clearing again deletes nothing.
    again = call("DELETE", "/api/v1/notifications", user="cust-1", role="customer")
    assert again.body == {"deleted": 0, "more": False}
    assert call("DELETE", "/api/v1/notifications").status == 401
