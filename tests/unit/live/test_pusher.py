"""The pusher (functions/live_push): each event reaches exactly the connections allowed to see it, with the public
fields only; resource subscribers get availability without anyone's details; a 410 forgets the connection; other
failures hand the record back to the queue. The Management API is faked here (its adapter is tested below with a
botocore stub, and end to end on the local runtime: tests/e2e/test_live_e2e.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

import events
from infra.local.functions import invoke
from slotwise import aws
from slotwise.events.envelope import DomainEvent
from slotwise.live import messages, push, store
from tests.unit.live.conftest import FakeManagementApi, connect, send, token_for
from tests.unit.notifications.conftest import BOOKING_ID, OCCURRED, booking_data

CUSTOMER, AGENT, VENDOR, STRANGER = "cust-42", "agent-7", "vendor-7", "cust-99"


def sqs_batch(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{n}",
                "receiptHandle": f"r-{n}",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:live",
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies)
        ]
    }


def booking_event(kind: str = "booking.confirmed", version: int = 2, **changes: Any) -> DomainEvent:
    data = booking_data(createdBy=AGENT, version=version, attendees=["guest@example.com"], history=[{"x": 1}])
    data.update(changes)
    return DomainEvent(
        type=kind,
        aggregate="booking",
        aggregate_id=BOOKING_ID,
        aggregate_version=version,
        occurred_at=OCCURRED,
        data=data,
        previous={"status": "held"},
    )


def run(*event_list: DomainEvent) -> dict[str, Any]:
    result: dict[str, Any] = invoke("live_push", sqs_batch(*(json.dumps(e.bus_event()) for e in event_list)))
    return result


def open_as(user_id: str, role: str = "customer") -> str:
    connection_id, answer = connect(token=token_for(user_id, role=role))
    assert answer["statusCode"] == 200
    return connection_id


def test_a_confirmation_reaches_the_customer_the_agent_and_the_vendor_and_no_one_else(
    table: str, pushed: FakeManagementApi
) -> None:
    customer_tabs = [open_as(CUSTOMER), open_as(CUSTOMER)]
    agent = open_as(AGENT, "agent")
    vendor = open_as(VENDOR, "vendor")
    stranger = open_as(STRANGER)

    assert run(booking_event()) == {"batchItemFailures": []}

    assert set(pushed.sent) == {*customer_tabs, agent, vendor}
    assert stranger not in pushed.sent
    (message,) = pushed.sent[customer_tabs[0]]
    assert message["type"] == "booking.confirmed"
    assert message["id"] == f"booking:{BOOKING_ID}:2"
    assert message["occurredAt"] == "2026-11-22T08:00:00Z"
    assert message["data"]["id"] == BOOKING_ID and message["data"]["status"] == "confirmed"
    assert set(message["data"]) <= set(messages.PUBLIC_BOOKING_FIELDS)
    assert "attendees" not in message["data"] and "history" not in message["data"]
    assert all(pushed.sent[c] == [message] for c in (customer_tabs[1], agent, vendor))


def test_subscribers_of_the_booking_and_of_its_resource(table: str, pushed: FakeManagementApi) -> None:
    follower = open_as("admin-1", "admin")
    watcher = open_as(STRANGER)
    record = store.get_connection(follower)
    watching = store.get_connection(watcher)
    assert record is not None and watching is not None
    # Stored directly: who may subscribe is the routes' test; here, who gets what.
    store.add_subscription(record, messages.booking_topic(BOOKING_ID), 20)
    store.add_subscription(watching, messages.resource_topic("r-room-3"), 20)

    run(booking_event("booking.rescheduled", version=3, startTime="2027-03-01T12:00:00Z"))

    assert pushed.sent[follower][0]["type"] == "booking.rescheduled"
    (availability,) = pushed.sent[watcher]
    assert availability["type"] == "availability.changed"
    assert availability["data"]["resourceId"] == "r-room-3"
    assert availability["data"]["startTime"] == "2027-03-01T12:00:00Z"
    text = json.dumps(availability)
    assert BOOKING_ID not in text and CUSTOMER not in text and AGENT not in text and "K7PX2Q" not in text


def test_the_personal_message_wins_for_a_party_who_also_watches_the_resource(
    table: str, pushed: FakeManagementApi
) -> None:
    tab = open_as(CUSTOMER)
    record = store.get_connection(tab)
    assert record is not None
    store.add_subscription(record, messages.resource_topic("r-room-3"), 20)
    run(booking_event("booking.cancelled", version=3, status="cancelled"))
    assert [m["type"] for m in pushed.sent[tab]] == ["booking.cancelled"]


def test_details_changes_do_not_tell_resource_watchers(table: str, pushed: FakeManagementApi) -> None:
    watcher = open_as(STRANGER)
    watching = store.get_connection(watcher)
    assert watching is not None
    store.add_subscription(watching, messages.resource_topic("r-room-3"), 20)
    run(booking_event("booking.updated", version=3, title="New title"))
    assert watcher not in pushed.sent


def test_a_payment_reaches_its_parties_without_the_providers_references(table: str, pushed: FakeManagementApi) -> None:
    tab = open_as("cust-42")
    stranger = open_as(STRANGER)
    sample = events.load("domain/payment.succeeded")
    assert invoke("live_push", sqs_batch(json.dumps(sample))) == {"batchItemFailures": []}
    (message,) = pushed.sent[tab]
    assert message["type"] == "payment.succeeded"
    assert message["data"]["status"] == "succeeded" and message["data"]["amount"] == 4000
    assert "providerRef" not in message["data"] and "paymentIntentId" not in message["data"]
    assert stranger not in pushed.sent


def test_resource_changes_reach_the_owner_and_tell_watchers_to_look_again(
    table: str, pushed: FakeManagementApi
) -> None:
    owner = open_as("vendor-7", "vendor")
    watcher = open_as(STRANGER)
    watching = store.get_connection(watcher)
    assert watching is not None
    store.add_subscription(watching, messages.resource_topic("r-meeting-room-3"), 20)
    invoke("live_push", sqs_batch(json.dumps(events.load("domain/resource.changed"))))
    assert pushed.sent[owner][0]["type"] == "resource.changed"
    assert pushed.sent[watcher][0]["data"] == {"resourceId": "r-meeting-room-3", "startTime": None, "endTime": None}


def test_a_gone_connection_is_forgotten_with_its_subscriptions(table: str, pushed: FakeManagementApi) -> None:
    gone, alive = open_as(CUSTOMER), open_as(CUSTOMER)
    record = store.get_connection(gone)
    assert record is not None
    store.add_subscription(record, messages.booking_topic(BOOKING_ID), 20)
    pushed.gone.add(gone)

    assert run(booking_event()) == {"batchItemFailures": []}
    assert store.get_connection(gone) is None
    assert store.open_count(CUSTOMER) == 1
    now = int(datetime.now(UTC).timestamp())
    assert store.subscribers(messages.booking_topic(BOOKING_ID), now) == []
    assert alive in pushed.sent


def test_other_failures_hand_the_record_back_and_unknown_bodies_are_dropped(
    table: str, pushed: FakeManagementApi
) -> None:
    broken = open_as(CUSTOMER)
    pushed.broken.add(broken)
    batch = sqs_batch(json.dumps(booking_event().bus_event()), "not an event", json.dumps({"source": "other"}))
    result = invoke("live_push", batch)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert store.get_connection(broken) is not None  # kept: it may be fine on the next try


def test_a_subscription_made_over_the_socket_is_what_the_pusher_reads(table: str, pushed: FakeManagementApi) -> None:
    from tests.support.catalog import make_resource

    room = make_resource()
    watcher = open_as(STRANGER)
    assert send(watcher, {"action": "subscribe", "resourceId": room.id})["type"] == "subscribed"
    run(booking_event(resourceId=room.id))
    assert pushed.sent[watcher][0]["type"] == "availability.changed"


# --- the adapter -------------------------------------------------------------------------------------------------


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> str:
    from slotwise.settings import get_settings

    url = "https://abc123.execute-api.us-east-1.amazonaws.com/dev"
    monkeypatch.setenv("SLOTWISE_LIVE_ENDPOINT_URL", url)
    get_settings.cache_clear()
    return url


def test_the_adapter_posts_json_to_the_configured_endpoint_and_maps_410_to_gone(endpoint: str) -> None:
    client = aws.management_api(endpoint)
    assert client.meta.endpoint_url == endpoint
    with Stubber(client) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "abc=", "Data": b'{"type":"booking.confirmed"}'})
        push.post("abc=", {"type": "booking.confirmed"})
        stub.add_client_error("post_to_connection", service_error_code="GoneException", http_status_code=410)
        with pytest.raises(push.Gone):
            push.post("abc=", {"type": "booking.confirmed"})
        stub.add_client_error("post_to_connection", service_error_code="LimitExceededException", http_status_code=429)
        from slotwise import errors

        with pytest.raises(errors.DependencyUnavailable):
            push.post("abc=", {"type": "booking.confirmed"})


def test_without_an_endpoint_the_adapter_refuses_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    from slotwise.settings import get_settings

    monkeypatch.delenv("SLOTWISE_LIVE_ENDPOINT_URL", raising=False)
    get_settings.cache_clear()
    with pytest.raises(push.NotConfigured, match="SLOTWISE_LIVE_ENDPOINT_URL"):
        push.post("abc=", {})


def test_a_gone_subscriber_whose_connection_item_expired_first_is_dropped(
    table: str, pushed: FakeManagementApi
) -> None:
    watcher = open_as(STRANGER)
    watching = store.get_connection(watcher)
    assert watching is not None
    topic = messages.resource_topic("r-room-3")
    store.add_subscription(watching, topic, 20)
    # TTL removed the connection's item but not yet its subscriber item.
    aws.dynamodb().delete_item(
        TableName=table, Key={"PK": {"S": store.connection_pk(watcher)}, "SK": {"S": store.CONNECTION_SK}}
    )
    pushed.gone.add(watcher)
    assert run(booking_event()) == {"batchItemFailures": []}
    assert store.subscribers(topic, int(datetime.now(UTC).timestamp())) == []
