"""The webhook consumer on moto (table and SQS), with the HTTP endpoint faked at `sender.post` (unit tests open no
sockets; tests/integration/test_webhook_sender.py runs the real sender against a local server)."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.local.functions import invoke
from infra.local.workers import sqs_event
from slotwise.aws import QueueNotConfigured
from slotwise.events.envelope import DomainEvent
from slotwise.identity.models import Caller
from slotwise.webhooks import backoff, delivery, queue, sender, service, signing
from slotwise.webhooks.models import SubscriptionCreate
from slotwise.webhooks.urls import Target
from tests.support.http import call

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
VENDOR_A = Caller("vendor-a", "vendor")
VENDOR_B = Caller("vendor-b", "vendor")
ADMIN = Caller("root", "admin")
API = "/api/v1/webhook-subscriptions"


@dataclass
class Posted:
    target: Target
    address: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Endpoint:
    """The subscriber: answers each POST with the next status of `answers` (the last one repeats)."""

    answers: list[int | str] = field(default_factory=lambda: [200])
    posted: list[Posted] = field(default_factory=list)
    results: list[sender.Result] = field(default_factory=list)

    def __call__(self, target: Target, address: str, body: bytes, headers: dict[str, str]) -> sender.Result:
        self.posted.append(Posted(target, address, body, headers))
        answer = self.answers[min(len(self.posted), len(self.answers)) - 1]
        if isinstance(answer, str):
            result = sender.Result(status_code=None, error=answer, duration_ms=5000)
        else:
            result = sender.Result(status_code=answer, error=None, duration_ms=12)
        self.results.append(result)
        return result


@dataclass
class Outbox:
    """What the consumer queued: now (fan-out), later (with a delay) and to the DLQ, as well as sent to moto."""

    now: list[dict[str, Any]] = field(default_factory=list)
    later: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Endpoint:
    fake = Endpoint()
    monkeypatch.setattr(sender, "post", fake)
    return fake


@pytest.fixture
def outbox(queues: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Outbox:
    box = Outbox()
    send, send_all, dead_letter = queue.send, queue.send_all, queue.dead_letter

    def later(message: dict[str, Any], delay_seconds: int = 0) -> None:
        box.later.append((message, delay_seconds))
        send(message, delay_seconds)

    def now(messages: Any) -> None:
        box.now.extend(messages)
        send_all(messages)

    def dead(message: dict[str, Any]) -> None:
        box.dead.append(message)
        dead_letter(message)

    monkeypatch.setattr(queue, "send", later)
    monkeypatch.setattr(queue, "send_all", now)
    monkeypatch.setattr(queue, "dead_letter", dead)
    return box


def subscribe(who: Caller, types: list[str], url: str = "https://hooks.example.com/in") -> tuple[str, str]:
    sub, secret = service.create(who, SubscriptionCreate.model_validate({"url": url, "eventTypes": types}), now=T0)
    return sub.id, secret


def booking_event(kind: str = "booking.confirmed", vendor: str | None = "vendor-a", version: int = 2) -> DomainEvent:
    data: dict[str, Any] = {"id": "b-1", "reference": "ABC123", "status": kind.split(".")[1], "customerId": "c-1"}
    if vendor is not None:
        data["vendorId"] = vendor
    return DomainEvent(
        type=kind,
        aggregate="booking",
        aggregate_id="b-1",
        aggregate_version=version,
        occurred_at=T0 - timedelta(seconds=1),
        data=data,
        correlation_id="req-1",
    )


def bus_body(event: DomainEvent) -> str:
    return json.dumps(event.bus_event())


def run(message: dict[str, Any], now: datetime) -> str:
    return delivery.handle(json.dumps(message), now)


def attempts_listed(sub_id: str, who: str = "vendor-a", role: str = "vendor") -> list[dict[str, Any]]:
    found = call("GET", f"{API}/{sub_id}/deliveries", query={"limit": 100}, user=who, role=role)
    assert found.status == 200, found.body
    return list(found.body["deliveries"])


def stored_deliveries(table: str, sub_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :d)",
        ExpressionAttributeValues={":pk": {"S": f"WEBHOOK#{sub_id}"}, ":d": {"S": "DELIVERY#"}},
        ConsistentRead=True,
    )["Items"]
    return found


def test_a_delivery_is_signed_with_the_documented_recipe(endpoint: Endpoint, outbox: Outbox, queues: Any) -> None:
    sub_id, secret = subscribe(VENDOR_A, ["booking.confirmed"])
    event = booking_event()
    assert delivery.handle(bus_body(event), T0) == "fanned out to 1"
    (first,) = outbox.now
    assert first == delivery.attempt_message(sub_id, event.id, 1, T0)
    on_sqs = boto3.client("sqs").receive_message(QueueUrl=queues["queue"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in on_sqs] == [first]

    assert run(first, T0) == "delivered"
    (posted,) = endpoint.posted
    assert (posted.target.host, posted.target.path, posted.address) == ("hooks.example.com", "/in", "93.184.216.34")
    assert signing.verify(secret, posted.headers["Slotwise-Signature"], posted.body, now=T0.timestamp())
    assert not signing.verify(secret, posted.headers["Slotwise-Signature"], posted.body + b" ", now=T0.timestamp())
    assert posted.headers["Slotwise-Signature"].startswith(f"t={int(T0.timestamp())},v1=")
    assert posted.headers["Content-Type"] == "application/json"
    assert posted.headers["Slotwise-Event-Id"] == event.id == "booking:b-1:2"
    assert posted.headers["Slotwise-Event-Type"] == "booking.confirmed"
    assert posted.headers["Slotwise-Delivery-Attempt"] == "1"
    assert json.loads(posted.body) == {"id": event.id, "type": event.type, **event.detail()}
    assert outbox.later == [] and outbox.dead == []

    (row,) = attempts_listed(sub_id)
    assert row == {
        "eventId": event.id,
        "eventType": "booking.confirmed",
        "attempt": 1,
        "outcome": "delivered",
        "statusCode": 200,
        "error": None,
        "durationMs": 12,
        "attemptedAt": "2027-01-04T09:00:00.000000Z",
        "nextAttemptAt": None,
    }


def test_a_failing_endpoint_is_retried_with_backoff_for_three_days_then_dead_lettered(
    endpoint: Endpoint, outbox: Outbox, table: str, queues: Any
) -> None:
    endpoint.answers = [500, 503, "timeout"]
    sub_id, _ = subscribe(VENDOR_A, ["*"])
    event = booking_event()
    delivery.handle(bus_body(event), T0)
    message, now = outbox.now[0], T0
    attempted_at = []
    while True:
        attempted_at.append(now)
        outcome = run(message, now)
        if outcome == "failed":
            break
        assert outcome == "retrying"
        message, delay = outbox.later[-1]
        due = datetime.fromisoformat(message["dueAt"].replace("Z", "+00:00"))
        finished = now + timedelta(milliseconds=endpoint.results[-1].duration_ms)
        assert delay == min(queue.MAX_DELAY_SECONDS, math.ceil((due - finished).total_seconds()))
        # SQS delays by 15 minutes at most: the message hops until it is due, and nothing is sent meanwhile.
        hop = finished + timedelta(seconds=delay)
        while hop < due - delivery.EARLY_TOLERANCE:
            posts = len(endpoint.posted)
            assert run(message, hop) == "deferred"
            assert len(endpoint.posted) == posts
            repeated, hop_delay = outbox.later[-1]
            assert repeated == message and 0 < hop_delay <= queue.MAX_DELAY_SECONDS
            hop += timedelta(seconds=hop_delay)
        now = hop

    assert len(endpoint.posted) == len(attempted_at) == 13
    gaps = [b - a for a, b in itertools.pairwise(attempted_at)]
    assert gaps == sorted(gaps) and max(gaps) <= timedelta(hours=12, seconds=10)
    assert attempted_at[-1] - attempted_at[0] <= backoff.RETRY_WINDOW
    assert [p.headers["Slotwise-Delivery-Attempt"] for p in endpoint.posted] == [str(n) for n in range(1, 14)]
    # The DLQ holds the delivery's last attempt message, explicitly sent there.
    (dead,) = outbox.dead
    assert dead["attempt"] == 14 and dead["lastResult"] == "timeout"
    in_dlq = boto3.client("sqs").receive_message(QueueUrl=queues["dlq"])["Messages"]
    assert json.loads(in_dlq[0]["Body"]) == dead
    (stored,) = stored_deliveries(table, sub_id)
    assert (stored["status"]["S"], stored["attempts"]["N"]) == ("failed", "13")
    rows = attempts_listed(sub_id)
    assert [r["attempt"] for r in rows] == list(range(13, 0, -1))  # newest first
    assert [r["outcome"] for r in rows] == ["failed"] + ["retrying"] * 12
    assert rows[-1]["statusCode"] == 500 and rows[-2]["statusCode"] == 503 and rows[0]["error"] == "timeout"
    assert rows[0]["nextAttemptAt"] is None and all(r["nextAttemptAt"] for r in rows[1:])
    # A message redriven from the DLQ makes exactly one more attempt, then goes back there.
    assert run(dead, attempted_at[-1] + timedelta(days=1)) == "failed"
    assert len(endpoint.posted) == 14 and len(outbox.dead) == 2
    assert run(dead, attempted_at[-1] + timedelta(days=1)) == "skipped"


def test_a_410_disables_the_subscription_and_stops_its_deliveries(
    endpoint: Endpoint, outbox: Outbox, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint.answers = [410]
    monkeypatch.setattr(delivery._subscribers, "seconds", 60.0)  # what is cached stays, however slow this machine is
    sub_id, _ = subscribe(VENDOR_A, ["*"])
    delivery.handle(bus_body(booking_event(version=2)), T0)
    delivery.handle(bus_body(booking_event("booking.cancelled", version=3)), T0)
    first, second = outbox.now
    assert run(first, T0) == "gone"
    assert outbox.later == [] and outbox.dead == []
    shown = call("GET", f"{API}/{sub_id}", user="vendor-a", role="vendor").body
    assert shown["active"] is False and "410" in shown["disabledReason"]
    # The other pending delivery is cancelled when due, without a request; new events are not fanned out.
    assert run(second, T0) == "cancelled"
    assert len(endpoint.posted) == 1
    assert delivery.handle(bus_body(booking_event(version=4)), T0) == "fanned out to 0"
    audit = call("GET", "/api/v1/admin/audit", query={"target": f"webhook:{sub_id}"}, user="root", role="admin")
    disabled = [e for e in audit.body["entries"] if e["action"] == "webhook.disable"]
    assert len(disabled) == 1 and disabled[0]["actor"] == "system:webhooks"
    assert [r["outcome"] for r in attempts_listed(sub_id)] == ["gone"]
    # Its owner turns it back on (through the API: another function, whose write this consumer learns of once its
    # cached reading of the vendor's subscriptions, at most SUBSCRIBERS_CACHE_SECONDS old, has lapsed).
    on = call("PUT", f"{API}/{sub_id}", body={"active": True}, user="vendor-a", role="vendor")
    assert on.body["active"] is True
    assert delivery.handle(bus_body(booking_event(version=5)), T0) == "fanned out to 0"
    monkeypatch.setattr(delivery._subscribers, "seconds", 0.0)
    assert delivery.handle(bus_body(booking_event(version=6)), T0) == "fanned out to 1"


def test_events_nobody_subscribes_to_cost_two_queries_per_cache_window(
    outbox: Outbox, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual case under load: no subscription at all. The first event reads the admins' and the vendor's
    subscriptions; the next ones within the window read nothing; once it lapses they are read again."""
    from collections import Counter

    from slotwise import aws

    queries: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        queries[event_name.rsplit(".", 1)[-1]] += 1

    monkeypatch.setattr(delivery._subscribers, "seconds", 60.0)  # one window, however slow this machine is
    client = aws.dynamodb()
    client.meta.events.register("before-call.dynamodb", count)
    try:
        for version in range(2, 12):
            assert delivery.handle(bus_body(booking_event(version=version)), T0) == "fanned out to 0"
        assert queries == Counter({"Query": 2})
        monkeypatch.setattr(delivery._subscribers, "seconds", 0.0)
        delivery.handle(bus_body(booking_event(version=12)), T0)
        assert queries == Counter({"Query": 4})
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
    assert outbox.now == []


def test_a_redelivered_event_delivers_once(endpoint: Endpoint, outbox: Outbox, table: str) -> None:
    sub_id, _ = subscribe(VENDOR_A, ["*"])
    body = bus_body(booking_event())
    # The bus delivered the event twice before the first attempt ran: both runs queue attempt 1.
    assert delivery.handle(body, T0) == "fanned out to 1"
    assert delivery.handle(body, T0) == "fanned out to 1"
    first, duplicate = outbox.now
    assert first == duplicate
    assert run(first, T0) == "delivered"
    assert run(duplicate, T0) == "skipped"
    # Later redeliveries find the delivery done and queue nothing.
    assert delivery.handle(body, T0 + timedelta(minutes=5)) == "fanned out to 0"
    assert len(endpoint.posted) == 1
    assert len(stored_deliveries(table, sub_id)) == 1


def test_a_claimed_attempt_is_not_made_twice_until_its_claim_lapses(endpoint: Endpoint, outbox: Outbox) -> None:
    from slotwise.webhooks import repository

    sub_id, _ = subscribe(VENDOR_A, ["*"])
    event = booking_event()
    delivery.handle(bus_body(event), T0)
    # A consumer claimed attempt 1 and died before recording anything.
    assert repository.claim_attempt(sub_id, event.id, 1, T0) is not None
    assert run(outbox.now[0], T0 + timedelta(seconds=10)) == "skipped"
    # SQS brings the message back after its visibility timeout (180 s): the claim has lapsed by then.
    assert run(outbox.now[0], T0 + timedelta(seconds=180)) == "delivered"
    assert len(endpoint.posted) == 1


def test_vendors_receive_only_their_own_events_and_admins_all(endpoint: Endpoint, outbox: Outbox) -> None:
    a_all, _ = subscribe(VENDOR_A, ["*"])
    a_cancelled, _ = subscribe(VENDOR_A, ["booking.cancelled"])
    b_all, _ = subscribe(VENDOR_B, ["*"])
    admin_all, _ = subscribe(ADMIN, ["*"])
    admin_confirmed, _ = subscribe(ADMIN, ["booking.confirmed"])

    def receivers(event: DomainEvent) -> set[str]:
        outbox.now.clear()
        delivery.handle(bus_body(event), T0)
        return {m["subscriptionId"] for m in outbox.now}

    assert receivers(booking_event("booking.confirmed", "vendor-a", 2)) == {a_all, admin_all, admin_confirmed}
    assert receivers(booking_event("booking.cancelled", "vendor-a", 3)) == {a_all, a_cancelled, admin_all}
    assert receivers(booking_event("booking.confirmed", "vendor-b", 4)) == {b_all, admin_all, admin_confirmed}
    # An event that names no vendor reaches admins only (fail closed).
    assert receivers(booking_event("booking.updated", None, 5)) == {admin_all}
    resource = DomainEvent(
        type="resource.changed",
        aggregate="resource",
        aggregate_id="r-1",
        aggregate_version=3,
        occurred_at=T0,
        data={"id": "r-1", "ownerId": "vendor-b"},
    )
    assert receivers(resource) == {b_all, admin_all}
    # A vendor-id spoof in another field does not matter: the aggregate's owner field decides.
    spoof = DomainEvent(
        type="resource.changed",
        aggregate="resource",
        aggregate_id="r-2",
        aggregate_version=1,
        occurred_at=T0,
        data={"id": "r-2", "ownerId": "vendor-b", "vendorId": "vendor-a"},
    )
    assert receivers(spoof) == {b_all, admin_all}


def test_an_address_that_turned_private_is_not_called(
    endpoint: Endpoint, outbox: Outbox, fake_dns: dict[str, list[str]]
) -> None:
    sub_id, _ = subscribe(VENDOR_A, ["*"], url="https://rebind.example.com/in")
    delivery.handle(bus_body(booking_event()), T0)
    fake_dns["rebind.example.com"] = ["169.254.169.254"]  # DNS rebinding after registration
    assert run(outbox.now[0], T0) == "retrying"
    assert endpoint.posted == []
    (row,) = attempts_listed(sub_id)
    assert row["error"].startswith("refused:") and "link-local" in row["error"] and row["statusCode"] is None
    fake_dns["rebind.example.com"] = ["93.184.216.36"]
    retry, _ = outbox.later[-1]
    assert run(retry, T0 + timedelta(seconds=30)) == "delivered"
    assert endpoint.posted[0].address == "93.184.216.36"


def test_during_a_rotation_deliveries_carry_both_signatures(endpoint: Endpoint, outbox: Outbox) -> None:
    from slotwise.webhooks.models import SecretRotation

    sub_id, old = subscribe(VENDOR_A, ["*"])
    _, new = service.rotate_secret(VENDOR_A, sub_id, SecretRotation(), now=T0)
    delivery.handle(bus_body(booking_event()), T0)
    run(outbox.now[0], T0)
    header = endpoint.posted[0].headers["Slotwise-Signature"]
    assert header.count("v1=") == 2
    body = endpoint.posted[0].body
    assert signing.verify(new, header, body, now=T0.timestamp())
    assert signing.verify(old, header, body, now=T0.timestamp())
    # After the overlap only the new secret signs.
    later = T0 + timedelta(hours=25)
    delivery.handle(bus_body(booking_event(version=3)), later)
    run(outbox.now[-1], later)
    header = endpoint.posted[-1].headers["Slotwise-Signature"]
    assert header.count("v1=") == 1
    assert not signing.verify(old, header, endpoint.posted[-1].body, now=later.timestamp())


def test_a_deleted_subscriptions_pending_delivery_is_cancelled(endpoint: Endpoint, outbox: Outbox) -> None:
    sub_id, _ = subscribe(VENDOR_A, ["*"])
    delivery.handle(bus_body(booking_event()), T0)
    service.delete(VENDOR_A, sub_id)
    assert run(outbox.now[0], T0) == "cancelled"
    assert endpoint.posted == []


def test_the_handler_reports_only_the_failed_message(endpoint: Endpoint, outbox: Outbox) -> None:
    subscribe(VENDOR_A, ["*"])
    messages = [
        {"MessageId": "good", "ReceiptHandle": "r1", "Body": bus_body(booking_event())},
        {"MessageId": "poison", "ReceiptHandle": "r2", "Body": "not json"},
        {"MessageId": "foreign", "ReceiptHandle": "r3", "Body": json.dumps({"source": "aws.s3", "detail": {}})},
    ]
    result = invoke("webhooks", sqs_event(messages, "arn:aws:sqs:us-east-1:000000000000:webhooks"))  # type: ignore[arg-type]
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["foreign", "poison"]
    assert len(outbox.now) == 1
    attempt = [{"MessageId": "a1", "ReceiptHandle": "r4", "Body": json.dumps(outbox.now[0])}]
    assert invoke("webhooks", sqs_event(attempt, "arn:aws:sqs:us-east-1:000000000000:webhooks")) == {  # type: ignore[arg-type]
        "batchItemFailures": []
    }
    assert len(endpoint.posted) == 1


def test_configured_queue_urls_win(monkeypatch: pytest.MonkeyPatch, queues: dict[str, str]) -> None:
    from slotwise.settings import get_settings

    monkeypatch.setenv("SLOTWISE_WEBHOOK_QUEUE_URL", "https://sqs.example/q")
    monkeypatch.setenv("SLOTWISE_WEBHOOK_DLQ_URL", "https://sqs.example/dlq")
    get_settings.cache_clear()
    assert (queue.queue_url(), queue.dlq_url()) == ("https://sqs.example/q", "https://sqs.example/dlq")
    monkeypatch.setenv("SLOTWISE_WEBHOOK_QUEUE_URL", "")
    monkeypatch.setenv("SLOTWISE_STAGE", "prod")
    get_settings.cache_clear()
    with pytest.raises(QueueNotConfigured):
        queue.queue_url()


def test_with_too_little_time_left_the_message_goes_back_to_the_queue(endpoint: Endpoint, outbox: Outbox) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    subscribe(VENDOR_A, ["*"])
    messages = [{"MessageId": "m1", "ReceiptHandle": "r1", "Body": bus_body(booking_event())}]
    with pytest.raises(BatchProcessingError):  # the whole batch failed: Lambda hands every message back
        invoke("webhooks", sqs_event(messages, "arn:aws:sqs:us-east-1:000000000000:webhooks"), timeout_seconds=5)  # type: ignore[arg-type]
    assert outbox.now == [] and endpoint.posted == []
