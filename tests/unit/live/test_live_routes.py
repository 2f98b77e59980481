"""The WebSocket routes (functions/live): who may connect, what the handshake answers, what may be subscribed, and
that the per-user cap and disconnect keep the count right (the cap's races are judged on DynamoDB Local:
tests/integration/test_live_conditions.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise.identity.models import User
from slotwise.identity.repository import put_user
from slotwise.live import service, store
from slotwise.live.messages import booking_topic, resource_topic
from tests.support.catalog import make_resource
from tests.support.http import call
from tests.unit.live.conftest import connect, disconnect, send, token_for

START = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def body(answer: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(answer["body"]))


def book(resource_id: str, user: str) -> dict[str, Any]:
    made = call(
        "POST",
        "/api/v1/bookings",
        user=user,
        body={
            "resourceId": resource_id,
            "startTime": START.isoformat(),
            "endTime": (START + timedelta(hours=1)).isoformat(),
        },
    )
    assert made.status == 201, made.body
    return dict(made.body)


def test_a_valid_token_in_the_query_opens_a_connection(table: str) -> None:
    connection_id, answer = connect(token=token_for("cust-1"))
    assert answer["statusCode"] == 200
    assert "headers" not in answer  # no protocol offered, none answered
    stored = store.get_connection(connection_id)
    assert stored is not None and (stored.user_id, stored.role) == ("cust-1", "customer")
    assert store.open_count("cust-1") == 1


def test_a_token_offered_as_a_protocol_is_read_and_another_protocol_answered(table: str) -> None:
    token = token_for("cust-1")
    _, answer = connect(protocols=["slotwise.v1", f"bearer.{token}"])
    assert answer["statusCode"] == 200
    assert answer["headers"] == {"Sec-WebSocket-Protocol": "slotwise.v1"}
    # Offered alone, the token's own entry is answered: a browser fails a handshake naming none it offered.
    _, alone = connect(protocols=[f"bearer.{token}"])
    assert alone["headers"] == {"Sec-WebSocket-Protocol": f"bearer.{token}"}


@pytest.mark.parametrize(
    "attempt",
    [
        {},
        {"token": "not-a-token"},
        {"protocols": ["slotwise.v1", "bearer.eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"]},
        {"protocols": ["slotwise.v1"]},
    ],
)
def test_without_a_valid_token_the_handshake_is_refused_with_401(
    table: str, attempt: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from slotwise.settings import get_settings

    monkeypatch.setenv("SLOTWISE_TRUST_IDENTITY_HEADERS", "false")
    get_settings.cache_clear()
    connection_id, answer = connect(**attempt, headers={"x-slotwise-user-id": "cust-1"})
    assert answer["statusCode"] == 401
    assert body(answer)["code"] in ("invalid_token", "authentication_required")
    assert store.get_connection(connection_id) is None
    assert store.open_count("cust-1") == 0


def test_identity_headers_name_the_caller_only_where_trusted(table: str) -> None:
    """The local runtime and the tests trust them, as on the HTTP API; deployed stages never do (settings)."""
    _, answer = connect(headers={"x-slotwise-user-id": "cust-9", "x-slotwise-role": "agent"})
    assert answer["statusCode"] == 200
    _, unknown_role = connect(headers={"x-slotwise-user-id": "cust-9", "x-slotwise-role": "pilot"})
    assert unknown_role["statusCode"] == 401


def test_a_suspended_account_is_refused_with_403(table: str) -> None:
    user = User(
        id="cust-suspended",
        email="suspended@example.com",
        name="Suspended",
        role="customer",
        status="suspended",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert put_user(user)
    _, answer = connect(token=token_for(user.id))  # a token issued before the suspension
    assert answer["statusCode"] == 403
    assert body(answer)["code"] == "account_suspended"


def test_the_eleventh_connection_of_a_user_is_refused_and_a_closed_one_gives_its_place_back(table: str) -> None:
    token = token_for("cust-many")
    opened = [connect(token=token) for _ in range(service.MAX_CONNECTIONS_PER_USER)]
    assert all(answer["statusCode"] == 200 for _, answer in opened)
    _, refused = connect(token=token)
    assert refused["statusCode"] == 429
    assert body(refused)["code"] == "too_many_connections"

    assert disconnect(opened[0][0])["statusCode"] == 200
    assert store.open_count("cust-many") == service.MAX_CONNECTIONS_PER_USER - 1
    assert disconnect(opened[0][0])["statusCode"] == 200  # a second $disconnect changes nothing
    assert store.open_count("cust-many") == service.MAX_CONNECTIONS_PER_USER - 1
    _, again = connect(token=token)
    assert again["statusCode"] == 200


def test_connections_whose_two_hours_are_over_are_pruned_when_the_cap_is_reached(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their $disconnect never came (API Gateway's is best effort): the count heals instead of locking the user out."""
    token = token_for("cust-stale")
    for _ in range(service.MAX_CONNECTIONS_PER_USER):
        connect(token=token)
    later = datetime.now(UTC) + timedelta(seconds=service.CONNECTION_TTL_SECONDS + 60)
    monkeypatch.setattr(service, "_now", lambda: int(later.timestamp()))
    _, answer = connect(token=token)
    assert answer["statusCode"] == 200
    assert store.open_count("cust-stale") == 1


def test_a_customer_subscribes_to_their_booking_but_not_to_anothers(table: str) -> None:
    room = make_resource()
    mine = book(room.id, "cust-1")
    other_room = make_resource()
    theirs = book(other_room.id, "cust-2")
    connection_id, _ = connect(token=token_for("cust-1"))

    assert send(connection_id, {"action": "subscribe", "bookingId": mine["id"]}) == {
        "type": "subscribed",
        "bookingId": mine["id"],
    }
    refused = send(connection_id, {"action": "subscribe", "bookingId": theirs["id"]})
    assert (refused["status"], refused["code"]) == (404, "booking_not_found")
    now = int(datetime.now(UTC).timestamp())
    assert store.subscribers(booking_topic(theirs["id"]), now) == []
    assert store.subscribers(booking_topic(mine["id"]), now) == [(connection_id, "cust-1")]


def test_the_vendor_of_a_booking_may_follow_it(table: str) -> None:
    room = make_resource()
    booking = book(room.id, "cust-1")
    connection_id, _ = connect(token=token_for(room.owner_id, role="vendor"))
    assert send(connection_id, {"action": "subscribe", "bookingId": booking["id"]})["type"] == "subscribed"


def test_anyone_who_may_read_a_resource_follows_its_availability_but_not_an_archived_ones(table: str) -> None:
    room = make_resource()
    connection_id, _ = connect(token=token_for("cust-1"))
    assert send(connection_id, {"action": "subscribe", "resourceId": room.id}) == {
        "type": "subscribed",
        "resourceId": room.id,
    }
    assert call("DELETE", f"/api/v1/resources/{room.id}", user=room.owner_id, role="vendor").status == 204
    refused = send(connection_id, {"action": "subscribe", "resourceId": room.id})
    assert (refused["status"], refused["code"]) == (404, "resource_not_found")
    missing = send(connection_id, {"action": "subscribe", "resourceId": "no-such-room"})
    assert missing["status"] == 404


def test_unsubscribe_and_disconnect_remove_the_subscriber_items(table: str) -> None:
    room = make_resource()
    connection_id, _ = connect(token=token_for("cust-1"))
    send(connection_id, {"action": "subscribe", "resourceId": room.id})
    now = int(datetime.now(UTC).timestamp())
    assert send(connection_id, {"action": "unsubscribe", "resourceId": room.id}) == {
        "type": "unsubscribed",
        "resourceId": room.id,
    }
    assert store.subscribers(resource_topic(room.id), now) == []
    send(connection_id, {"action": "subscribe", "resourceId": room.id})
    disconnect(connection_id)
    assert store.subscribers(resource_topic(room.id), now) == []
    assert store.get_connection(connection_id) is None


@pytest.mark.parametrize(
    ("message", "status", "code"),
    [
        ("not json", 400, "unknown_action"),  # no action to route by: $default
        ("[1, 2]", 400, "unknown_action"),
        ({"action": "dance"}, 400, "unknown_action"),
        ({"action": "subscribe"}, 422, "invalid_subscription"),
        ({"action": "subscribe", "bookingId": "a", "resourceId": "b"}, 422, "invalid_subscription"),
        ({"action": "subscribe", "bookingId": "a", "customerId": "cust-2"}, 422, "invalid_subscription"),
        ({"action": "subscribe", "bookingId": "x" * 200}, 422, "invalid_subscription"),
        ({"action": "subscribe", "bookingId": "a" * 5000}, 413, "payload_too_large"),
    ],
)
def test_malformed_messages_are_answered_with_an_error(
    table: str, message: dict[str, Any] | str, status: int, code: str
) -> None:
    connection_id, _ = connect(token=token_for("cust-1"))
    answer = send(connection_id, message)
    assert (answer["type"], answer["status"], answer["code"]) == ("error", status, code)


def test_a_connection_follows_at_most_its_share_of_topics(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "MAX_SUBSCRIPTIONS_PER_CONNECTION", 2)
    rooms = [make_resource() for _ in range(3)]
    connection_id, _ = connect(token=token_for("cust-1"))
    for room in rooms[:2]:
        assert send(connection_id, {"action": "subscribe", "resourceId": room.id})["type"] == "subscribed"
    refused = send(connection_id, {"action": "subscribe", "resourceId": rooms[2].id})
    assert (refused["status"], refused["code"]) == (409, "too_many_subscriptions")


def test_messages_on_a_connection_that_is_gone_are_refused(table: str) -> None:
    connection_id, _ = connect(token=token_for("cust-1"))
    disconnect(connection_id)
    answer = send(connection_id, {"action": "subscribe", "resourceId": "r-1"})
    assert answer["status"] == 401
