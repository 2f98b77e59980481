"""The transactional outbox on AWS's engine: every committed change is one record on the table's stream and one
event on the bus; contention losers, refused requests and rolled-back attempts make none."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.local.functions import invoke
from infra.local.streams import StreamPoller
from slotwise import aws
from slotwise.events import publisher
from slotwise.topology import StreamConsumerSpec
from tests.support.catalog import make_resource
from tests.support.http import call

pytestmark = pytest.mark.dynamodb_local

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


class Bus:
    def __init__(self, refuse: Callable[[str], bool] = lambda _: False) -> None:
        self.refuse = refuse
        self.accepted: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        outcomes = []
        for entry in Entries:
            detail = json.loads(entry["Detail"])
            if self.refuse(detail["metadata"]["eventId"]):
                outcomes.append({"ErrorCode": "InternalFailure"})
                continue
            with self._lock:
                self.accepted.append({"type": entry["DetailType"], **detail["metadata"]})
            outcomes.append({"EventId": "x"})
        return {"FailedEntryCount": sum("ErrorCode" in o for o in outcomes), "Entries": outcomes}


def poller(local_table: str, endpoint: str, spec: StreamConsumerSpec, dead: list[str]) -> StreamPoller:
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
    arn = boto3.client("dynamodb", endpoint_url=endpoint).describe_table(TableName=local_table)["Table"][
        "LatestStreamArn"
    ]
    return StreamPoller(streams, arn, spec, invoke, dead_letter=dead.append, log=print)


def body(resource_id: str, hours: int = 0) -> dict[str, Any]:
    start = START + timedelta(hours=hours)
    return {
        "resourceId": resource_id,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(hours=1)).isoformat(),
    }


def test_each_committed_change_is_exactly_one_event(
    local_table: str, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = Bus()
    monkeypatch.setattr(aws, "events", lambda: bus)
    room = make_resource()
    booked = call("POST", "/api/v1/bookings", body=body(room.id), user="cust-1")
    assert booked.status == 201
    assert call("POST", f"/api/v1/bookings/{booked.body['id']}/cancel", body={}, user="cust-1").status == 200
    moved = call("POST", "/api/v1/bookings", body=body(room.id, 2), user="cust-1").body
    reschedule = {"startTime": body(room.id, 5)["startTime"], "endTime": body(room.id, 5)["endTime"]}
    assert call("POST", f"/api/v1/bookings/{moved['id']}/reschedule", body=reschedule, user="cust-1").status == 200
    # Thirty racers for one slot: one booking, one event; the losers' cancelled transactions leave no record.
    barrier = threading.Barrier(30)

    def race(i: int) -> int:
        barrier.wait()
        return call("POST", "/api/v1/bookings", body=body(room.id, 8), user=f"racer-{i}").status

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(race, range(30)))
    assert statuses.count(201) == 1

    dead: list[str] = []
    delivered = poller(local_table, dynamodb_local, StreamConsumerSpec("publisher"), dead).poll_once()
    assert delivered > 0 and dead == []
    kinds = [(e["aggregate"], e["type"]) for e in bus.accepted]
    assert kinds.count(("resource", "resource.created")) == 1
    bookings = [e for e in bus.accepted if e["aggregate"] == "booking"]
    assert sorted(e["type"] for e in bookings) == sorted(
        ["booking.confirmed", "booking.cancelled", "booking.confirmed", "booking.rescheduled", "booking.confirmed"]
    )
    assert len({e["eventId"] for e in bookings}) == len(bookings) == 5
    first = [e for e in bookings if e["aggregateId"] == booked.body["id"]]
    assert [(e["type"], e["aggregateVersion"]) for e in first] == [("booking.confirmed", 1), ("booking.cancelled", 2)]
    # Each carries the API request that made it.
    assert all(e["correlationId"] != e["eventId"] for e in bookings)
    rescheduled = next(e for e in bookings if e["type"] == "booking.rescheduled")
    assert rescheduled["previous"]["startTime"].startswith("2027-03-01T11:00")


def test_a_record_the_bus_keeps_refusing_is_retried_then_dead_lettered(
    local_table: str, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = make_resource()
    refused = call("POST", "/api/v1/bookings", body=body(room.id), user="cust-1").body["id"]
    accepted = call("POST", "/api/v1/bookings", body=body(room.id, 3), user="cust-2").body["id"]
    bus = Bus(refuse=lambda event_id: event_id.startswith(f"booking:{refused}:"))
    monkeypatch.setattr(aws, "events", lambda: bus)
    monkeypatch.setattr(publisher.time, "sleep", lambda _: None)
    dead: list[str] = []
    poller(local_table, dynamodb_local, StreamConsumerSpec("publisher", max_retries=2), dead).poll_once()
    assert len(dead) == 1
    info = json.loads(dead[0])["DDBStreamBatchInfo"]
    assert info["batchSize"] >= 1
    # The record after the refused one was published too (at least once: consumers deduplicate on the event id).
    assert {e["aggregateId"] for e in bus.accepted if e["aggregate"] == "booking"} == {accepted}


def test_concurrent_timer_runs_send_one_reminder_and_one_event(
    local_table: str, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slotwise.booking.deadlines import run_timers

    room = make_resource()
    made = call("POST", "/api/v1/bookings", body=body(room.id), user="cust-1").body
    due = START - timedelta(hours=23)
    barrier = threading.Barrier(8)

    def run(_: int) -> dict[str, int]:
        barrier.wait()
        return run_timers(due)

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(run, range(8)))
    assert sum(o.get("reminder", 0) for o in outcomes) == 1
    cancel = call("POST", f"/api/v1/bookings/{made['id']}/cancel", body={}, user="cust-1")
    assert cancel.status == 200
    assert run_timers(START - timedelta(minutes=30)) == {}  # cancelled: the 1 h reminder never goes

    bus = Bus()
    monkeypatch.setattr(aws, "events", lambda: bus)
    poller(local_table, dynamodb_local, StreamConsumerSpec("publisher"), []).poll_once()
    mine = [(e["type"], e["eventId"]) for e in bus.accepted if e.get("aggregateId") == made["id"]]
    assert mine == [
        ("booking.confirmed", f"booking:{made['id']}:1"),
        ("booking.reminder", f"booking:{made['id']}:1:reminder-1440"),
        ("booking.cancelled", f"booking:{made['id']}:2"),
    ]


class FlakyBus(Bus):
    """Unreachable (a connection error, as when moto is down) for the first `down_calls` PutEvents calls."""

    def __init__(self, down_calls: int) -> None:
        super().__init__()
        self.down_calls = down_calls
        self.calls = 0

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        from botocore.exceptions import EndpointConnectionError

        self.calls += 1
        if self.calls <= self.down_calls:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:5050")
        return super().put_events(Entries)


def test_an_unreachable_bus_delays_events_and_loses_none(
    local_table: str, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = make_resource()
    made = [call("POST", "/api/v1/bookings", body=body(room.id, 2 * i), user=f"cust-{i}").body["id"] for i in range(25)]
    # Down for more calls than the spec's retry limit: the old poller dead-lettered and skipped those batches.
    bus = FlakyBus(down_calls=40)
    monkeypatch.setattr(aws, "events", lambda: bus)
    now = [0.0]
    logs: list[str] = []
    dead: list[str] = []
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb_local)
    arn = boto3.client("dynamodb", endpoint_url=dynamodb_local).describe_table(TableName=local_table)["Table"][
        "LatestStreamArn"
    ]
    # Batches of 7 records: each invocation is one PutEvents call, so a failed call accepted nothing.
    spec = StreamConsumerSpec("publisher", batch_size=7, max_retries=3)
    poller = StreamPoller(
        streams, arn, spec, invoke, dead_letter=dead.append, log=logs.append, backoff_cap=4.0, clock=lambda: now[0]
    )
    delays = []
    for _ in range(200):
        poller.poll_once()
        if not poller.backing_off and bus.calls > bus.down_calls:
            break
        assert poller.poll_once() == 0  # still backing off: nothing read, nothing sent
        delays.append(poller._retry_at - now[0])
        now[0] = poller._retry_at
    assert not poller.backing_off
    assert dead == []
    assert delays[:5] == [0.5, 1.0, 2.0, 4.0, 4.0]  # doubling, capped
    assert max(delays) == 4.0
    booking_events = [e["eventId"] for e in bus.accepted if e["aggregate"] == "booking"]
    assert sorted(booking_events) == sorted(f"booking:{i}:1" for i in made)  # every one, exactly once
    assert [e["eventId"] for e in bus.accepted if e["aggregate"] == "resource"] == [f"resource:{room.id}:1"]
    assert any("EventBridge PutEvents failed" in line for line in logs)
    # Nothing is left behind: a later poll finds no more records.
    assert poller.poll_once() == 0 and len(bus.accepted) == 26
