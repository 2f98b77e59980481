"""Operators' queue routes (`GET /admin/queues`, `POST /admin/queues/{name}/redrive`) through the real admin handler,
and the SQS moves behind them (slotwise.ops), on moto's SQS."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from slotwise.ops import queue as sqs_queue
from slotwise.ops import queues
from slotwise.topology import TOPOLOGY
from tests.support.http import ApiResponse, call

ADMIN = {"user": "root", "role": "admin"}
QUEUES = "/api/v1/admin/queues"


@pytest.fixture
def sqs(table: str) -> Any:
    """Every work queue and its DLQ, as the topology names them (the test stage looks them up by name)."""
    client = boto3.client("sqs")
    for spec in TOPOLOGY.queues:
        dlq = client.create_queue(QueueName=spec.dlq_name)["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(spec.max_receive_count)}
        client.create_queue(QueueName=spec.name, Attributes={"RedrivePolicy": json.dumps(policy)})
    return client


def url(client: Any, name: str) -> str:
    return str(client.get_queue_url(QueueName=name)["QueueUrl"])


def send(client: Any, name: str, *bodies: str) -> None:
    for body in bodies:
        client.send_message(
            QueueUrl=url(client, name),
            MessageBody=body,
            MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
        )


def drain(client: Any, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        got = client.receive_message(
            QueueUrl=url(client, name), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return found
        found.extend(got)
        for message in got:
            client.delete_message(QueueUrl=url(client, name), ReceiptHandle=message["ReceiptHandle"])


def event_body(event_id: str) -> str:
    return json.dumps(
        {"source": "slotwise", "detail-type": "booking.confirmed", "detail": {"metadata": {"eventId": event_id}}}
    )


def admin(method: str, path: str, query: dict[str, str] | None = None) -> ApiResponse:
    return call(method, path, body={} if method == "POST" else None, query=query, **ADMIN)


def audit_of(queue: str) -> list[dict[str, Any]]:
    found = admin("GET", "/api/v1/admin/audit", query={"target": f"queue:{queue}"})
    assert found.status == 200, found.body
    return [entry for entry in found.body["entries"] if entry["action"] == "queue.redrive"]


def test_the_listing_has_every_work_queue_with_its_dead_letter_depth(sqs: Any) -> None:
    send(sqs, "notifications", "a", "b")
    send(sqs, "notifications-dlq", event_body("booking:b1:2"))
    send(sqs, "webhooks-dlq", "x", "y", "z")
    listed = admin("GET", QUEUES)
    assert listed.status == 200, listed.body
    by_name = {item["name"]: item for item in listed.body["items"]}
    assert list(by_name) == [spec.name for spec in TOPOLOGY.queues]
    assert by_name["notifications"] == {
        "name": "notifications",
        "visible": 2,
        "inFlight": 0,
        "deadLetter": {"name": "notifications-dlq", "visible": 1},
    }
    assert by_name["webhooks"]["deadLetter"] == {"name": "webhooks-dlq", "visible": 3}
    assert by_name["live"]["visible"] == 0 and by_name["live"]["deadLetter"]["visible"] == 0


@pytest.mark.parametrize("role", ["customer", "vendor", "staff", "agent", "advisor"])
def test_only_admins_read_or_redrive_queues(sqs: Any, role: str) -> None:
    send(sqs, "notifications-dlq", "poison")
    assert (call("GET", QUEUES, user="u", role=role).status, role) == (403, role)
    refused = call("POST", f"{QUEUES}/notifications/redrive", body={}, user="u", role=role)
    assert (refused.status, refused.code) == (403, "permission_denied")
    assert call("GET", QUEUES).status == 401
    assert len(drain(sqs, "notifications-dlq")) == 1  # nothing moved


def test_a_redrive_moves_every_dead_letter_back_with_its_attributes_and_is_audited(sqs: Any) -> None:
    bodies = [event_body(f"booking:b{i}:1") for i in range(13)]
    send(sqs, "notifications-dlq", *bodies)
    moved = admin("POST", f"{QUEUES}/notifications/redrive")
    assert (moved.status, moved.body) == (200, {"moved": 13})
    assert drain(sqs, "notifications-dlq") == []
    back = drain(sqs, "notifications")
    assert sorted(m["Body"] for m in back) == sorted(bodies)
    assert all(m["MessageAttributes"]["origin"]["StringValue"] == "test" for m in back)
    assert [(e["targetType"], e["targetId"], e["detail"], e["actor"]) for e in audit_of("notifications")] == [
        ("queue", "notifications", {"moved": 13}, "root")
    ]
    # Nothing left: a second redrive moves none.
    assert admin("POST", f"{QUEUES}/notifications/redrive").body == {"moved": 0}


def test_a_redrive_of_an_unknown_queue_is_a_404(sqs: Any) -> None:
    missing = admin("POST", f"{QUEUES}/no-such-queue/redrive")
    assert (missing.status, missing.code) == (404, "queue_not_found")


def test_a_move_stops_at_its_limit(sqs: Any) -> None:
    send(sqs, "live-dlq", *[f"m{i}" for i in range(25)])
    assert sqs_queue.move("live-dlq", "live", 12) == 12
    assert sqs_queue.depth("live") == (12, 0)
    assert sqs_queue.depth("live-dlq")[0] == 13


def test_peeking_leaves_the_messages_in_the_dead_letter_queue(sqs: Any) -> None:
    send(sqs, "reports-dlq", event_body("booking:b9:3"), "not json")
    seen = queues.dead_letters("reports", limit=10)
    assert {(m["eventId"], m["eventType"], m["body"]) for m in seen} == {
        ("booking:b9:3", "booking.confirmed", event_body("booking:b9:3")),
        (None, None, "not json"),
    }
    assert all(m["receiveCount"] == 1 for m in seen)
    assert sqs_queue.depth("reports-dlq") == (2, 0)
    assert queues.redrive("reports") == 2


def test_a_cli_redrive_is_audited_as_its_operator(sqs: Any) -> None:
    send(sqs, "webhooks-dlq", "one")
    assert queues.redrive("webhooks", operator="cli:ops") == 1
    assert queues.redrive("webhooks", operator="cli:ops") == 0  # nothing moved: no entry
    assert [(e["actor"], e["detail"]) for e in audit_of("webhooks")] == [("system:cli:ops", {"moved": 1})]
