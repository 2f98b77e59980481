"""The in-app notifications API: own notifications only, newest first with cursors, an exact unread count."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from slotwise.notifications import service, store
from tests.support.http import call
from tests.unit.notifications.conftest import OCCURRED, booking_event

API = "/api/v1/notifications"
ME = {"user": "cust-42", "role": "customer"}
KINDS = ["booking.held", "booking.confirmed", "booking.updated", "booking.rescheduled", "booking.cancelled"]


@pytest.fixture
def five(table: str) -> list[str]:
    """Five notifications for cust-42 (no profile: in-app only), oldest first; returns their ids."""
    for version, kind in enumerate(KINDS, start=1):
        service.handle(booking_event(kind, version=version, occurred=OCCURRED + timedelta(minutes=version)))
    listed = call("GET", API, query={"limit": 10}, **ME).body["notifications"]
    return [n["id"] for n in reversed(listed)]


def count(**who: str) -> int:
    response = call("GET", f"{API}/unread-count", **(who or ME))
    assert response.status == 200, response.body
    return int(response.body["unread"])


def test_list_newest_first_with_cursor_paging(five: list[str]) -> None:
    first = call("GET", API, query={"limit": 2}, **ME)
    assert first.status == 200
    page = first.body["notifications"]
    assert [n["eventType"] for n in page] == ["booking.cancelled", "booking.rescheduled"]
    assert set(page[0]) >= {"id", "title", "body", "eventType", "bookingId", "read", "createdAt"}
    assert "userId" not in page[0]
    seen = [n["id"] for n in page]
    cursor = first.body["pagination"]["nextCursor"]
    while cursor:
        more = call("GET", API, query={"limit": 2, "cursor": cursor}, **ME).body
        seen += [n["id"] for n in more["notifications"]]
        cursor = more["pagination"]["nextCursor"]
    assert seen == list(reversed(five))


def test_unread_filter_count_and_mark_read(five: list[str]) -> None:
    assert count() == 5
    read = call("POST", f"{API}/{five[0]}/read", **ME)
    assert read.status == 200 and read.body["read"] is True and read.body["readAt"]
    again = call("POST", f"{API}/{five[0]}/read", **ME)
    assert again.status == 200 and again.body["read"] is True
    assert count() == 4  # marking twice counts once
    unread = call("GET", API, query={"unread": "true", "limit": 2}, **ME).body
    ids = [n["id"] for n in unread["notifications"]]
    cursor = unread["pagination"]["nextCursor"]
    while cursor:
        more = call("GET", API, query={"unread": "true", "limit": 2, "cursor": cursor}, **ME).body
        ids += [n["id"] for n in more["notifications"]]
        cursor = more["pagination"]["nextCursor"]
    assert ids == list(reversed(five[1:]))


def test_read_all_and_delete_keep_the_count_exact(five: list[str]) -> None:
    call("POST", f"{API}/{five[1]}/read", **ME)
    assert call("DELETE", f"{API}/{five[1]}", **ME).status == 204  # read: the count does not move
    assert count() == 4
    assert call("DELETE", f"{API}/{five[2]}", **ME).status == 204  # unread: one less
    assert count() == 3
    assert call("DELETE", f"{API}/{five[2]}", **ME).code == "notification_not_found"
    assert call("POST", f"{API}/{five[2]}/read", **ME).code == "notification_not_found"
    done = call("POST", f"{API}/read-all", **ME)
    assert done.status == 200 and done.body == {"marked": 3, "unread": 0}
    assert call("POST", f"{API}/read-all", **ME).body == {"marked": 0, "unread": 0}
    listed = call("GET", API, **ME).body["notifications"]
    assert len(listed) == 3 and all(n["read"] for n in listed)
    assert call("GET", API, query={"unread": "true"}, **ME).body["notifications"] == []


def test_a_deleted_notification_does_not_come_back_with_a_redelivery(five: list[str]) -> None:
    assert call("DELETE", f"{API}/{five[4]}", **ME).status == 204
    service.handle(booking_event(KINDS[4], version=5, occurred=OCCURRED + timedelta(minutes=5)))
    assert five[4] not in [n["id"] for n in call("GET", API, **ME).body["notifications"]]
    assert count() == 4


def test_read_all_spans_transactions(table: str) -> None:
    total = store.READ_ALL_CHUNK + 3
    for version in range(1, total + 1):
        service.handle(booking_event("booking.held", version=version, occurred=OCCURRED + timedelta(seconds=version)))
    assert count() == total
    assert call("POST", f"{API}/read-all", **ME).body == {"marked": total, "unread": 0}


def test_someone_elses_notification_is_not_found(five: list[str]) -> None:
    other = {"user": "cust-x", "role": "customer"}
    for method, path in (("POST", f"{API}/{five[0]}/read"), ("DELETE", f"{API}/{five[0]}")):
        response = call(method, path, **other)
        assert (response.status, response.code) == (404, "notification_not_found")
    assert call("GET", API, **other).body["notifications"] == []
    assert count(**other) == 0
    assert call("POST", f"{API}/read-all", **other).body == {"marked": 0, "unread": 0}
    assert count() == 5  # nothing of cust-42's moved


def test_a_cursor_cannot_reach_another_users_notifications(five: list[str]) -> None:
    forged = {"PK": store.partition("cust-42"), "SK": "9999"}
    cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
    response = call("GET", API, query={"cursor": cursor}, user="cust-x", role="customer")
    assert (response.status, response.code) == (422, "invalid_cursor")


@pytest.mark.parametrize("bad", ["nope", "20271301000000000-0123456789abcdef0123", "x" * 200])
def test_malformed_ids_are_not_found(table: str, bad: str) -> None:
    assert call("POST", f"{API}/{bad}/read", **ME).code == "notification_not_found"
    assert call("DELETE", f"{API}/{bad}", **ME).code == "notification_not_found"


def test_signed_in_callers_only(table: str) -> None:
    assert call("GET", API).status == 401
    assert call("GET", f"{API}/unread-count", user="g-1", role="guest").status == 403
    for role in ("admin", "vendor", "staff", "agent", "advisor", "customer"):
        assert call("GET", API, user=f"u-{role}", role=role).status == 200, role


def test_limit_is_validated(table: str) -> None:
    assert call("GET", API, query={"limit": 0}, **ME).status == 422
    assert call("GET", API, query={"limit": 101}, **ME).status == 422


def test_reads_read_alls_and_deletes_are_audited_once_each(five: list[str]) -> None:
    from slotwise.audit.log import query

    def entries(target: str) -> list[str]:
        found, _ = query(target=target, actor=None, frm=None, to=None, limit=100, cursor=None)
        return [e["action"] for e in found]

    call("POST", f"{API}/{five[0]}/read", **ME)
    call("POST", f"{API}/{five[0]}/read", **ME)  # no change: no entry
    assert entries(f"notification:{five[0]}") == ["notification.read"]
    assert call("DELETE", f"{API}/{five[1]}", **ME).status == 204
    assert entries(f"notification:{five[1]}") == ["notification.delete"]
    assert call("POST", f"{API}/read-all", **ME).body["marked"] == 3
    assert entries("user:cust-42") == ["notification.read_all"]
