"""The local runtime's pieces end to end on moto: an event put on the bus reaches the notifications queue through
the topology's rule, the queue worker runs the notifier, SES captures one e-mail with a valid .ics; a poison
message is retried alone and lands in the DLQ after the queue's max receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import boto3
import pytest

from infra.local.functions import invoke
from infra.local.provision import provision
from infra.local.workers import drain_once
from slotwise.notifications import service
from slotwise.settings import get_settings
from slotwise.topology import TABLE, TOPOLOGY, Topology
from tests.unit.notifications.conftest import SentMail, add_user, booking_event
from tests.unit.notifications.test_notifier import calendar_of, notifications_of

QUEUE = replace(TOPOLOGY.queue("notifications"), visibility_timeout_seconds=0, max_receive_count=2)
RULES = tuple(rule for rule in TOPOLOGY.rules if rule.target_queue == QUEUE.name)


def drain(sqs: Any, url: str) -> None:
    for _ in range(10):
        if drain_once(sqs, QUEUE, url, invoke, wait_seconds=0) == 0:
            return


@pytest.fixture
def local(table: str) -> dict[str, Any]:
    clients: dict[str, Any] = {
        "dynamodb": boto3.client("dynamodb"),
        "sqs": boto3.client("sqs"),
        "events": boto3.client("events"),
        "ses": boto3.client("ses"),
    }
    topology = Topology(table=TABLE, event_bus_name=TOPOLOGY.event_bus_name, queues=(QUEUE,), rules=RULES)
    resources = provision(topology, table_name=table, email_from=get_settings().email_from, **clients)
    return {**clients, "url": resources.queue_urls[QUEUE.name]}


def test_provisioning_verifies_the_sender(local: dict[str, Any]) -> None:
    assert get_settings().email_from in local["ses"].list_identities()["Identities"]


def test_an_event_on_the_bus_becomes_one_notification_and_one_email(
    local: dict[str, Any], outbox: Callable[[], list[SentMail]]
) -> None:
    add_user("cust-42")
    event = booking_event(
        "booking.rescheduled",
        version=3,
        previous={"startTime": "2027-03-01T09:00:00Z", "endTime": "2027-03-01T10:00:00Z"},
    )
    # Published twice (a publisher retry): still one of each.
    for _ in range(2):
        assert local["events"].put_events(Entries=[event.entry(TOPOLOGY.event_bus_name)])["FailedEntryCount"] == 0
    drain(local["sqs"], local["url"])
    (item,) = notifications_of("cust-42")
    assert item["eventType"] == "booking.rescheduled"
    (sent,) = outbox()
    assert sent.subject == "Booking changed: Meeting room 3"
    assert "Previously: 2027-03-01 09:00" in sent.text()
    invitation = calendar_of(sent)
    assert (invitation.method, invitation.sequence) == ("REQUEST", 3)


def test_a_poison_message_is_retried_alone_and_dead_lettered(
    local: dict[str, Any], outbox: Callable[[], list[SentMail]], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user("cust-42")
    real = service.handle
    calls: dict[str, int] = {}

    def poisoned(event: Any, **kwargs: Any) -> int:
        calls[event.aggregate_id] = calls.get(event.aggregate_id, 0) + 1
        if event.aggregate_id == "b-poison":
            raise RuntimeError("cannot handle this one")
        return real(event, **kwargs)

    monkeypatch.setattr(service, "handle", poisoned)
    good, poison = booking_event("booking.confirmed"), booking_event("booking.confirmed", id="b-poison")
    local["events"].put_events(Entries=[good.entry("slotwise"), poison.entry("slotwise")])
    drain(local["sqs"], local["url"])
    assert calls == {good.aggregate_id: 1, "b-poison": QUEUE.max_receive_count}
    assert len(outbox()) == 1
    dlq = local["sqs"].get_queue_url(QueueName=QUEUE.dlq_name)["QueueUrl"]
    (dead,) = local["sqs"].receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert '"b-poison"' in dead["Body"]
