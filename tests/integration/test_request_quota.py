"""The request quota's conditional counter, judged on DynamoDB Local: however many function instances lease at
once, the tokens granted in a minute never pass the limit, and the stored count is exactly what was granted."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from slotwise import aws, errors, ratelimit
from slotwise.data.dynamo import table_name

pytestmark = pytest.mark.dynamodb_local

NOW = 1_800_000_010.0  # 10 s into a minute
LIMIT = 100


def _used(subject: str) -> int:
    window = int(NOW // 60)
    item = aws.dynamodb().get_item(
        TableName=table_name(), Key={"PK": {"S": f"QUOTA#{subject}"}, "SK": {"S": f"W#{window}"}}, ConsistentRead=True
    )["Item"]
    return int(item["used"]["N"])


def test_concurrent_leases_never_grant_more_than_the_limit(local_table: str) -> None:
    barrier = threading.Barrier(24)

    refusals: list[int] = []

    def lease_until_refused(_: int) -> int:
        barrier.wait()
        granted = 0
        while True:
            try:
                granted += ratelimit.lease("racer", LIMIT, 7, now=NOW)
            except errors.RateLimited as refused:
                refusals.append(refused.retry_after_seconds)
                return granted

    with ThreadPoolExecutor(max_workers=24) as pool:
        total = sum(pool.map(lease_until_refused, range(24)))
    assert set(refusals) == {50}
    assert total == LIMIT  # leases shrink to what is left, so the minute is used exactly
    assert _used("racer") == LIMIT


def test_instances_spending_leases_admit_at_most_the_limit(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ratelimit.REQUESTS_ENV, str(LIMIT))
    monkeypatch.setattr(ratelimit, "clock", lambda: NOW)
    instances = [ratelimit.RequestQuota() for _ in range(6)]
    barrier = threading.Barrier(18)
    admitted: list[int] = []
    lock = threading.Lock()

    def requests(i: int) -> None:
        quota = instances[i % len(instances)]
        barrier.wait()
        count = 0
        for _ in range(LIMIT):
            try:
                quota.admit("busy-user", "standard")
                count += 1
            except errors.RateLimited:
                pass
        with lock:
            admitted.append(count)

    with ThreadPoolExecutor(max_workers=18) as pool:
        list(pool.map(requests, range(18)))
    assert sum(admitted) <= LIMIT
    # Only tokens still leased to an instance when its threads stopped go unspent (at most one lease each).
    assert sum(admitted) >= LIMIT - len(instances) * (LIMIT // ratelimit.LEASE_FRACTION)
    assert _used("busy-user") == LIMIT


def test_booking_transactions_carrying_the_token_stop_exactly_at_the_limit(
    local_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.catalog import make_resource
    from tests.support.http import call

    monkeypatch.setenv(ratelimit.REQUESTS_ENV, str(LIMIT))
    monkeypatch.setattr(ratelimit, "clock", lambda: NOW)
    room = make_resource(capacity=10)
    assert ratelimit.lease("cust-q", LIMIT, LIMIT - 2, now=NOW) == LIMIT - 2  # two tokens left this minute
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    barrier = threading.Barrier(6)

    def book(i: int) -> int:
        body = {
            "resourceId": room.id,
            "startTime": (start + timedelta(hours=i)).isoformat(),
            "endTime": (start + timedelta(hours=i + 1)).isoformat(),
        }
        barrier.wait()
        return call("POST", "/api/v1/bookings", body=body, user="cust-q", role="customer").status

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(book, range(6)))
    assert statuses == [201, 201, 429, 429, 429, 429]
    assert _used("cust-q") == LIMIT


def test_handler_copies_in_one_process_spend_one_lease(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local runtime serves concurrent requests on separate copies of a handler module in one process: they
    spend the process's lease, so a caller's reads cost one UpdateItem per 1/20 of the limit whichever copy (or
    function) serves them, and no copy keeps tokens the others cannot use."""
    from collections import Counter
    from typing import Any

    from infra.local.adapter import event_for
    from infra.local.functions import load_handler
    from infra.local.lambda_context import LocalLambdaContext
    from slotwise.cache import reset_caches
    from tests.support.catalog import make_resource

    monkeypatch.setenv(ratelimit.REQUESTS_ENV, str(LIMIT))
    monkeypatch.setattr(ratelimit, "clock", lambda: NOW)
    reset_caches()
    room = make_resource()
    copies = [load_handler("availability") for _ in range(3)] + [load_handler("catalog") for _ in range(2)]
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    client = aws.dynamodb()
    client.meta.events.register("before-call.dynamodb", count)
    try:
        for i in range(LIMIT // ratelimit.LEASE_FRACTION * 2):  # two leases' worth, spread over every copy
            path = "/api/v1/availability" if i % 5 < 3 else f"/api/v1/resources/{room.id}"
            query = f"resourceId={room.id}&startTime=2027-03-01T09:00:00Z&endTime=2027-03-01T10:00:00Z"
            group, event = event_for(
                "GET",
                path,
                raw_query_string=query if "availability" in path else "",
                headers=[("x-slotwise-user-id", "reader"), ("x-slotwise-role", "customer")],
                body=b"",
                source_ip="127.0.0.1",
            )
            answer = copies[i % 5](event, LocalLambdaContext(function_name=f"slotwise-{group}"))
            assert answer["statusCode"] == 200, answer
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
    assert calls["UpdateItem"] == 2  # one lease per 5 requests, not one per copy
    assert _used("reader") == 2 * (LIMIT // ratelimit.LEASE_FRACTION)
