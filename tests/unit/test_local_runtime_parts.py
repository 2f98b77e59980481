"""Provisioning from the shared topology, the SQS/schedule workers, demo data and the runtime's plain errors."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from infra.local import demo_data
from infra.local.dynamodb_local import DynamoDBLocalMissing, JavaMissing, find_jar_dir, find_java
from infra.local.ports import PortInUse
from infra.local.provision import create_table_request, provision
from infra.local.workers import drain_once, scheduled_event, sqs_event
from slotwise.identity.models import Caller
from slotwise.organisations import service as organisations
from slotwise.topology import TABLE, EventRuleSpec, QueueSpec, ScheduleSpec, Topology


def test_create_table_request_matches_topology() -> None:
    request = create_table_request(TABLE, "slotwise-x")
    assert request["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert [i["IndexName"] for i in request["GlobalSecondaryIndexes"]] == ["GSI1", "GSI2", "GSI3", "GSI4", "GSI5"]
    assert request["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert {a["AttributeName"] for a in request["AttributeDefinitions"]} == {
        "PK",
        "SK",
        "GSI1PK",
        "GSI1SK",
        "GSI2PK",
        "GSI2SK",
        "GSI3PK",
        "GSI3SK",
        "GSI4PK",
        "GSI4SK",
        "GSI5PK",
        "GSI5SK",
    }


QUEUE = QueueSpec(name="notifications", consumer_group="notifier", max_receive_count=2, visibility_timeout_seconds=0)
TEST_TOPOLOGY = Topology(
    table=TABLE,
    event_bus_name="slotwise",
    queues=(QUEUE,),
    rules=(EventRuleSpec(name="to-notifier", detail_types=("booking.confirmed",), target_queue="notifications"),),
)


def test_provision_is_idempotent_and_routes_bus_events_to_queue(aws: None) -> None:
    clients = {"dynamodb": boto3.client("dynamodb"), "sqs": boto3.client("sqs"), "events": boto3.client("events")}
    provision(TEST_TOPOLOGY, table_name="slotwise-test", **clients)
    resources = provision(TEST_TOPOLOGY, table_name="slotwise-test", **clients)  # second run: no error

    table = clients["dynamodb"].describe_table(TableName="slotwise-test")["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    ttl = clients["dynamodb"].describe_time_to_live(TableName="slotwise-test")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "ttl"

    url = resources.queue_urls["notifications"]
    attrs = clients["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"])["maxReceiveCount"] in (2, "2")

    clients["events"].put_events(
        Entries=[
            {"EventBusName": "slotwise", "Source": "slotwise", "DetailType": "booking.confirmed", "Detail": "{}"},
            {"EventBusName": "slotwise", "Source": "slotwise", "DetailType": "booking.viewed", "Detail": "{}"},
        ]
    )
    messages = clients["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["detail-type"] for m in messages] == ["booking.confirmed"]


def test_drain_deletes_processed_and_redrives_failures_to_dlq(aws: None) -> None:
    sqs = boto3.client("sqs")
    resources = provision(
        TEST_TOPOLOGY,
        table_name="slotwise-test",
        dynamodb=boto3.client("dynamodb"),
        sqs=sqs,
        events=boto3.client("events"),
    )
    url = resources.queue_urls["notifications"]
    for body in ("good", "bad"):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    batches: list[dict[str, Any]] = []

    def consumer(group: str, event: dict[str, Any]) -> dict[str, Any]:
        assert group == "notifier"
        batches.append(event)
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"]
        }

    for _ in range(4):
        drain_once(sqs, QUEUE, url, consumer, wait_seconds=0)

    assert batches[0]["Records"][0]["eventSource"] == "aws:sqs"
    assert sorted(r["body"] for r in batches[0]["Records"]) == ["bad", "good"]
    assert all(r["body"] == "bad" for batch in batches[1:] for r in batch["Records"])
    dlq = sqs.get_queue_url(QueueName="notifications-dlq")["QueueUrl"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["bad"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)


def test_crashing_consumer_keeps_the_whole_batch(aws: None) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")

    def crash(group: str, event: dict[str, Any]) -> None:
        raise RuntimeError("consumer bug")

    assert drain_once(sqs, QueueSpec(name="q", consumer_group="g"), url, crash, wait_seconds=0) == 1
    assert len(sqs.receive_message(QueueUrl=url).get("Messages", [])) == 1


def test_event_shapes() -> None:
    schedule = ScheduleSpec(name="hold-expiry", group="reminders", every_seconds=60)
    event = scheduled_event(schedule)
    assert event["detail-type"] == "Scheduled Event" and event["resources"][0].endswith("rule/hold-expiry")
    assert schedule.rate_expression == "rate(1 minute)"
    assert ScheduleSpec(name="x", group="g", every_seconds=300).rate_expression == "rate(5 minutes)"
    with pytest.raises(ValueError, match="whole minutes"):
        _ = ScheduleSpec(name="x", group="g", every_seconds=90).rate_expression
    batch = sqs_event([{"MessageId": "m", "ReceiptHandle": "r", "Body": "b"}], "arn:aws:sqs:eu-west-1:1:q")
    assert batch["Records"][0]["awsRegion"] == "eu-west-1"


def test_demo_data_covers_five_businesses_and_roles_once(table: str) -> None:
    first = demo_data.load()
    assert first == {"users": 6, "members": 2, "bookings_indexed": 0, "venues": 5, "resources": 7}
    assert demo_data.load() == {"users": 0, "members": 0, "bookings_indexed": 0, "venues": 0, "resources": 0}
    # The demo vendor's organisation has the demo staff member and agent.
    members = organisations.list_members(Caller("demo-vendor", "vendor"), "org-demo-vendor", limit=10, cursor=None)
    assert sorted((m.user_id, m.role) for m in members.members) == [("demo-agent", "agent"), ("demo-staff", "staff")]

    client = boto3.client("dynamodb")
    items = client.scan(TableName=table)["Items"]
    resource_types = {i["type"]["S"] for i in items if i.get("SK", {}).get("S") == "RESOURCE"}
    assert resource_types == {"room", "dorm", "seat_pool", "meeting_room", "advisor", "hall"}
    roles = {i["role"]["S"] for i in items if i.get("SK", {}).get("S") == "PROFILE"}
    assert roles == {"admin", "vendor", "staff", "agent", "advisor", "customer"}


def test_missing_java_and_jar_are_reported_plainly(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaMissing, match="apt-get install"):
        find_java()
    with pytest.raises(DynamoDBLocalMissing, match="npm --prefix infra ci"):
        find_jar_dir(tmp_path)


def test_port_in_use_message_names_port_and_fix() -> None:
    message = str(PortInUse(3000, "api"))
    assert "3000" in message and "API_PORT" in message


def test_the_instance_pool_reuses_the_most_recently_used_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.local import functions

    pool = functions.InstancePool()
    loaded: list[int] = []
    used: list[int] = []

    def load(group: str) -> Any:
        number = len(loaded)
        loaded.append(number)

        def handler(event: dict[str, Any], context: Any) -> None:
            used.append(number)
            if event.get("nested"):
                pool.invoke(group, {})  # arrives while this copy is busy: a second copy starts cold

        return handler

    monkeypatch.setattr(functions, "load_handler", load)
    pool.invoke("g", {"nested": True})
    for _ in range(3):
        pool.invoke("g", {})
    assert loaded == [0, 1]
    assert used == [0, 1, 0, 0, 0]  # copy 0 came back last, so it serves the sequential requests


def test_concurrent_pollers_in_batches_of_ten_handle_every_message_once_and_retry_only_failures(aws: None) -> None:
    """Two queue processes' worth of pollers (two Workers, two pollers each) on one queue: batches of up to 10,
    a record the consumer reports in batchItemFailures comes back alone, and every message ends handled exactly
    once with nothing left in the queue or its DLQ."""
    import threading
    import time

    from infra.local.workers import Workers

    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="busy-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
    # A received message stays hidden from the other pollers for 3 s (ample to be handled and deleted); a failed
    # one comes back after that.
    url = sqs.create_queue(QueueName="busy", Attributes={"VisibilityTimeout": "3", "RedrivePolicy": redrive})[
        "QueueUrl"
    ]
    bodies = [f"m{i}" for i in range(60)]
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]

    lock = threading.Lock()
    handled: list[str] = []
    refused_once: set[str] = set()
    batch_sizes: list[int] = []

    def consumer(group: str, event: dict[str, Any]) -> dict[str, Any]:
        failures = []
        with lock:
            batch_sizes.append(len(event["Records"]))
            for record in event["Records"]:
                body = record["body"]
                if int(body[1:]) % 7 == 0 and body not in refused_once:  # fails on its first delivery only
                    refused_once.add(body)
                    failures.append({"itemIdentifier": record["messageId"]})
                else:
                    handled.append(body)
        return {"batchItemFailures": failures}

    spec = QueueSpec(name="busy", consumer_group="g", batch_size=10)
    pools = [Workers(consumer, log=lambda _: None) for _ in range(2)]
    for pool in pools:
        pool.add_queue(sqs, spec, url, concurrency=2, wait_seconds=0)
    deadline = time.monotonic() + 30
    while len(handled) < len(bodies) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pool in pools:
        pool.stop(timeout=2)
    assert sorted(handled) == sorted(bodies)  # each once: a processed message is deleted, never seen again
    assert refused_once == {b for b in bodies if int(b[1:]) % 7 == 0}
    assert max(batch_sizes) <= 10 and batch_sizes[0] > 1
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)
