"""A booking's messages through the real handler (moto): who takes part, the text's bounds, oldest-first paging,
the other party's in-app notification, and an admin's audited deletion. The transaction's conditions are judged on
DynamoDB Local (tests/integration/test_message_conditions.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise.catalog.models import Resource
from slotwise.notifications import store as notification_store
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import ApiResponse, call
from tests.unit.authz.world import snapshot

ADVISOR = "adv-1"
CUSTOMER = "cust-1"
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def advisor_room(table: str) -> Resource:
    return make_resource(kind="advisor", attributes={"advisorUserId": ADVISOR})


@pytest.fixture
def booking(advisor_room: Resource) -> dict[str, Any]:
    made = call(
        "POST",
        "/api/v1/bookings",
        body={
            "resourceId": advisor_room.id,
            "startTime": START.isoformat(),
            "endTime": (START + timedelta(hours=1)).isoformat(),
        },
        user=CUSTOMER,
        role="customer",
    )
    assert made.status == 201, made.body
    return dict(made.body)


def path(booking_id: str) -> str:
    return f"/api/v1/bookings/{booking_id}/messages"


def post(booking_id: str, text: str, user: str = CUSTOMER, role: str = "customer") -> ApiResponse:
    return call("POST", path(booking_id), body={"text": text}, user=user, role=role)


def inbox(user: str) -> list[Any]:
    found, _ = notification_store.list_page(user, unread_only=False, limit=100, start_key=None)
    return [n for n in found if n.event_type == "message.posted"]


def test_customer_and_advisor_talk_and_each_is_told(booking: dict[str, Any]) -> None:
    sent = post(booking["id"], "Could we discuss pensions?")
    assert sent.status == 201, sent.body
    assert sent.body["authorRole"] == "customer" and sent.body["text"] == "Could we discuss pensions?"
    (told,) = inbox(ADVISOR)
    assert told.booking_id == booking["id"] and told.event_id == sent.body["id"]
    assert "pensions" not in told.body  # the notice names the booking, never the words
    assert inbox(CUSTOMER) == []
    answer = post(booking["id"], "Yes, of course.", user=ADVISOR, role="advisor")
    assert answer.status == 201 and answer.body["authorRole"] == "advisor"
    assert len(inbox(CUSTOMER)) == 1 and len(inbox(ADVISOR)) == 1
    assert notification_store.unread_count(CUSTOMER) == 1
    # The vendor and an admin read the conversation too, oldest first.
    for user, role in ((VENDOR, "vendor"), ("admin-1", "admin"), (CUSTOMER, "customer"), (ADVISOR, "advisor")):
        listed = call("GET", path(booking["id"]), user=user, role=role)
        assert listed.status == 200, listed.body
        assert [m["text"] for m in listed.body["messages"]] == ["Could we discuss pensions?", "Yes, of course."]


def test_a_vendor_message_tells_the_customer(booking: dict[str, Any]) -> None:
    assert post(booking["id"], "Room 3, please.", user=VENDOR, role="vendor").status == 201
    assert len(inbox(CUSTOMER)) == 1 and inbox(ADVISOR) == []


@pytest.mark.parametrize(
    ("user", "role"),
    [("stranger", "customer"), ("adv-2", "advisor"), ("vendor-2", "vendor"), ("staff-1", "staff"), ("agent", "agent")],
)
def test_outsiders_get_404_and_nothing_is_written(table: str, booking: dict[str, Any], user: str, role: str) -> None:
    baseline = snapshot(table)
    for response in (
        post(booking["id"], "hello", user=user, role=role),
        call("GET", path(booking["id"]), user=user, role=role),
    ):
        assert (response.status, response.code) == (404, "booking_not_found"), response.body
    assert snapshot(table) == baseline


def test_text_bounds(table: str, booking: dict[str, Any]) -> None:
    baseline = snapshot(table)
    for text in ("", "   ", "x" * 4001):
        refused = post(booking["id"], text)
        assert refused.status == 422, refused.body
    refused = call("POST", path(booking["id"]), body={"text": "hi", "authorId": ADVISOR}, user=CUSTOMER)
    assert refused.status == 422
    assert snapshot(table) == baseline
    assert post(booking["id"], "x" * 4000).status == 201
    assert post("no-such-booking", "hello").code == "booking_not_found"
    assert call("POST", path(booking["id"]), body={"text": "hi"}).status == 401


def test_pages_return_each_message_once_oldest_first(booking: dict[str, Any]) -> None:
    texts = [f"message {n}" for n in range(7)]
    for text in texts:
        assert post(booking["id"], text).status == 201
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = call("GET", path(booking["id"]), query=query, user=ADVISOR, role="advisor")
        assert page.status == 200, page.body
        seen += [m["text"] for m in page.body["messages"]]
        cursor = page.body["pagination"]["nextCursor"]
        if cursor is None:
            break
    assert seen == texts
    # A cursor is this caller's listing of this booking only.
    first = call("GET", path(booking["id"]), query={"limit": 3}, user=ADVISOR, role="advisor")
    stolen = call("GET", path(booking["id"]), query={"cursor": first.body["pagination"]["nextCursor"]}, user=CUSTOMER)
    assert (stolen.status, stolen.code) == (422, "invalid_cursor")


def test_only_an_admin_deletes_and_a_tombstone_stays(table: str, booking: dict[str, Any]) -> None:
    sent = post(booking["id"], "my phone is zebra-quokka-xylophone").body
    one = f"{path(booking['id'])}/{sent['id']}"
    baseline = snapshot(table)
    for user, role in ((CUSTOMER, "customer"), (ADVISOR, "advisor"), (VENDOR, "vendor")):
        assert call("DELETE", one, user=user, role=role).status == 403
    assert snapshot(table) == baseline
    assert call("DELETE", one, user="admin-1", role="admin").status == 204
    (kept,) = call("GET", path(booking["id"]), user=CUSTOMER).body["messages"]
    assert kept["id"] == sent["id"] and kept["deleted"] is True and kept["text"] is None
    assert "zebra-quokka" not in str(snapshot(table))
    audited = call(
        "GET", "/api/v1/admin/audit", query={"target": f"message:{sent['id']}"}, user="admin-1", role="admin"
    )
    assert [e["action"] for e in audited.body["entries"]] == ["message.delete"], audited.body
    # Again: nothing changes, nothing more is audited; an unknown id is 404.
    again = snapshot(table)
    assert call("DELETE", one, user="admin-1", role="admin").status == 204
    assert snapshot(table) == again
    missing = call("DELETE", f"{path(booking['id'])}/20270101000000000000-abcdefabcdef", user="admin-1", role="admin")
    assert (missing.status, missing.code) == (404, "message_not_found")
