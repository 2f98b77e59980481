"""Reports against DynamoDB Local: DynamoDB calls and items read by each report over one month of one venue with
10,000 bookings (aggregated by `slotwise.reports.aggregator` from their events first)."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.bench_booking import _environment

BOOKINGS = 10_000
MONTH = "2027-03"
ROOMS = 8  # dorms by the night
MEETING_ROOMS = 2  # by the hour, two currencies across the venue


def _measure(operation: Callable[[], Any]) -> tuple[Any, dict[str, int], int, float]:
    """What the operation returned, its DynamoDB calls by operation, the items its Queries returned, seconds."""
    from slotwise import aws

    calls: Counter[str] = Counter()
    items = [0]

    def before(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            items[0] += int(parsed.get("Count", 0))

    client = aws.dynamodb()
    client.meta.events.register("before-call.dynamodb", before)
    client.meta.events.register("after-call.dynamodb", after)
    started = time.perf_counter()
    try:
        result = operation()
    finally:
        client.meta.events.unregister("before-call.dynamodb", before)
        client.meta.events.unregister("after-call.dynamodb", after)
    return result, dict(calls), items[0], time.perf_counter() - started


def _venue() -> list[Any]:
    from slotwise.catalog import repository
    from tests.support.catalog import make_resource

    first = make_resource(capacity=20, policy={"unit": "night"}, kind="dorm")
    made = [first]
    for n in range(1, ROOMS + MEETING_ROOMS):
        night = n < ROOMS
        other = make_resource(
            capacity=20 if night else 1,
            policy={"unit": "night"} if night else {},
            kind="dorm" if night else "meeting_room",
            pricing={"currency": "EUR" if night else "USD", "unitPrice": 2500},
            store=False,
        ).model_copy(update={"venue_id": first.venue_id})
        repository.create_resource(other)
        made.append(other)
    return made


def _booking(n: int, resource: Any, rng: random.Random) -> dict[str, Any]:
    day = date(2027, 3, 1) + timedelta(days=rng.randrange(31))
    data: dict[str, Any] = {
        "id": f"bench-{n}",
        "resourceId": resource.id,
        "timezone": resource.timezone,
        "status": rng.choice(["confirmed", "confirmed", "confirmed", "completed", "cancelled", "no_show"]),
        "quantity": 1,
        "price": {"currency": resource.pricing.currency, "amount": 2500, "quantity": 1},
        "payment": {"paymentId": f"p-{n}", "state": "paid", "currency": resource.pricing.currency, "amountPaid": 2500},
        "cancellation": {"by": "cust"},
    }
    if resource.policy.unit == "night":
        data.update(checkIn=day.isoformat(), checkOut=(day + timedelta(days=rng.randint(1, 3))).isoformat())
    else:
        start = datetime(day.year, day.month, day.day, 9 + rng.randrange(8), tzinfo=UTC)
        data.update(startTime=start.isoformat(), endTime=(start + timedelta(hours=1)).isoformat())
    return data


def _aggregate(resources: list[Any]) -> tuple[float, dict[str, int]]:
    from slotwise.events.envelope import DomainEvent
    from slotwise.reports import aggregator

    rng = random.Random(16)
    events = [
        DomainEvent("booking.confirmed", "booking", f"bench-{n}", 1, datetime.now(UTC), _booking(n, r, rng))
        for n, r in enumerate(rng.choice(resources) for _ in range(BOOKINGS))
    ]
    for resource in resources:  # warm: each resource's unit is read once, then cached
        aggregator.unit_of(resource.id)
    _, one, _, _ = _measure(lambda: aggregator.handle(events[0]))
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(aggregator.handle, events[1:]))
    return time.perf_counter() - started, one


def _reports(venue_id: str) -> list[tuple[str, dict[str, int], int, float]]:
    from tests.support.catalog import VENDOR
    from tests.support.http import call

    month = {"venueId": venue_id, "from": f"{MONTH}-01", "to": f"{MONTH}-31"}
    asked = [
        ("occupancy, venue, by day", "/api/v1/reports/occupancy", {**month, "granularity": "day"}, {}),
        (
            "occupancy, venue, by week (CSV)",
            "/api/v1/reports/occupancy",
            {**month, "granularity": "week"},
            {"accept": "text/csv"},
        ),
        ("revenue, venue, by day", "/api/v1/reports/revenue", {**month, "groupBy": "day"}, {}),
        ("revenue, venue, by resource", "/api/v1/reports/revenue", {**month, "groupBy": "resource"}, {}),
    ]
    rows = []
    for name, path, query, headers in asked:
        call("GET", path, query=query, headers=headers, user=VENDOR, role="vendor")  # warm the function
        answer, calls, items, seconds = _measure(
            lambda p=path, q=query, h=headers: call("GET", p, query=q, headers=h, user=VENDOR, role="vendor")
        )
        assert answer.status == 200, answer.body
        rows.append((name, calls, items, seconds))
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
        table = "slotwise-bench-reports"
        _environment(engine.endpoint, table)
        get_settings.cache_clear()
        reset_clients()
        ensure_table(boto3.client("dynamodb", endpoint_url=engine.endpoint), TABLE, table)
        resources = _venue()
        aggregation_seconds, per_event = _aggregate(resources)
        rows = _reports(resources[0].venue_id)
    resource_months = len(resources)
    table_rows = [
        f"| {name} | {calls.get('Query', 0)} | {items} | "
        + ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
        + f" | {seconds * 1000:.0f} |"
        for name, calls, items, seconds in rows
    ]
    return (
        "## Reports on DynamoDB Local\n\n"
        f"`python -m bench reports`. One venue of {len(resources)} resources ({ROOMS} dorms by the night in EUR, "
        f"{MEETING_ROOMS} rooms by the hour in USD), {BOOKINGS:,} bookings in {MONTH}, aggregated from their "
        f"events by `slotwise.reports.aggregator` (8 threads: {aggregation_seconds:.0f} s; one event: "
        + ", ".join(f"{k} {v}" for k, v in sorted(per_event.items()))
        + "). Each report through `functions/reports` over the whole month: the goal is at most one Query page "
        f"per resource-month, here {resource_months}, whatever the number of bookings, plus the scope's reads "
        "(GetItem of the venue and of the caller's profile, one Query listing the venue's resources). Items are "
        "what the Queries returned: per resource one `UNITS` item and one per day and currency, and the venue's "
        "resources.\n\n"
        "| report | Query pages | items read | all calls | ms |\n|---|---:|---:|---|---:|\n"
        + "\n".join(table_rows)
        + "\n"
    )
