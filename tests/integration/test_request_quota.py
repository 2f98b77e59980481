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
