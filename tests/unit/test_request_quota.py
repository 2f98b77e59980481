"""Per-caller requests per minute (100/500/1000 by tier), through the real functions on moto.

The race on the quota's condition expression is judged on DynamoDB Local (tests/integration/test_request_quota.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise import aws, ratelimit
from tests.support.catalog import make_resource
from tests.support.http import ApiResponse, call

VENUES = "/api/v1/venues"
MINUTE_START = 1_800_000_000 - 1_800_000_000 % 60  # the first second of some minute
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def quota_on(monkeypatch: pytest.MonkeyPatch, table: str) -> list[float]:
    """The quota at its production limits, on a clock the test moves (starts 10 s into a minute)."""
    monkeypatch.setenv(ratelimit.REQUESTS_ENV, str(ratelimit.DEFAULT_REQUESTS_PER_MINUTE))
    now = [MINUTE_START + 10.0]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    return now


def browse(**kwargs: Any) -> ApiResponse:
    return call("GET", VENUES, **kwargs)


def admitted_until_refused(limit: int, **kwargs: Any) -> tuple[int, ApiResponse]:
    """How many requests pass before the first refusal (asserts one comes within limit + 1)."""
    for sent in range(limit + 1):
        response = browse(**kwargs)
        if response.status == 429:
            return sent, response
        assert response.status == 200, response.body
    raise AssertionError(f"no refusal after {limit + 1} requests")


def update_items_during(action: Any) -> int:
    calls: list[str] = []
    client = aws.dynamodb()
    client.meta.events.register("before-call.dynamodb.UpdateItem", lambda **_: calls.append("UpdateItem"))
    action()
    return len(calls)


def test_a_customer_gets_100_requests_a_minute_then_a_429_until_the_next_minute(quota_on: list[float]) -> None:
    passed, refused = admitted_until_refused(100, user="cust-1", role="customer")
    assert passed == 100
    assert refused.code == "rate_limited"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "50"  # 10 s into the minute
    assert refused.body["retryAfterSeconds"] == 50
    quota_on[0] += 50
    assert browse(user="cust-1", role="customer").status == 200


@pytest.mark.parametrize(("role", "limit"), [("vendor", 500), ("agent", 500), ("admin", 1000)])
def test_premium_and_admin_tiers_get_more(quota_on: list[float], role: str, limit: int) -> None:
    passed, _ = admitted_until_refused(limit, user=f"{role}-1", role=role)
    assert passed == limit


def test_callers_are_counted_apart(quota_on: list[float]) -> None:
    assert admitted_until_refused(100, user="cust-1", role="customer")[0] == 100
    assert browse(user="cust-2", role="customer").status == 200


def test_guests_are_counted_per_source_address(quota_on: list[float]) -> None:
    assert admitted_until_refused(100, source_ip="198.51.100.1")[0] == 100
    assert browse(source_ip="198.51.100.2").status == 200
    # A signed-in caller from the exhausted address has their own count.
    assert browse(source_ip="198.51.100.1", user="cust-1", role="customer").status == 200


def test_a_bad_token_counts_against_its_address_and_is_still_a_401(quota_on: list[float]) -> None:
    bad = {"authorization": "Bearer not-a-token"}
    refused = browse(headers=bad, source_ip="203.0.113.5")
    assert (refused.status, refused.code) == (401, "invalid_token")
    assert admitted_until_refused(100, source_ip="203.0.113.5")[0] == 99


def test_tokens_are_leased_so_a_busy_caller_costs_one_update_per_five_requests(quota_on: list[float]) -> None:
    def twenty() -> None:
        for _ in range(20):
            assert browse(user="cust-1", role="customer").status == 200

    assert update_items_during(twenty) == 4


def test_the_count_is_stored_per_caller_and_minute_with_a_ttl(quota_on: list[float]) -> None:
    browse(user="cust-1", role="customer")
    window = MINUTE_START // 60
    item = aws.dynamodb().get_item(
        TableName="slotwise-test", Key={"PK": {"S": "QUOTA#cust-1"}, "SK": {"S": f"W#{window}"}}
    )["Item"]
    assert item["used"]["N"] == "5"  # one lease: 100 / 20
    assert int(item["ttl"]["N"]) == (window + 2) * 60


def test_health_is_never_limited(quota_on: list[float]) -> None:
    for _ in range(120):
        assert call("GET", "/api/v1/health", source_ip="192.0.2.9").status == 200


def test_validation_failures_cost_no_quota(quota_on: list[float]) -> None:
    def invalid() -> None:
        for _ in range(10):
            assert call("GET", VENUES, query={"limit": "many"}, user="cust-1").status == 422

    assert update_items_during(invalid) == 0


def test_zero_turns_the_quota_off(quota_on: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ratelimit.REQUESTS_ENV, "0")
    assert update_items_during(lambda: [browse(user="cust-1") for _ in range(150)]) == 0


def test_the_default_is_100_per_minute_for_standard_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ratelimit.REQUESTS_ENV, raising=False)
    assert [ratelimit.requests_per_minute(tier) for tier in ("standard", "premium", "admin")] == [100, 500, 1000]


# --- booking writes: the token rides in the booking's own transaction -------------------------------------------


def book(resource_id: str, start: datetime = START, user: str = "cust-1") -> ApiResponse:
    body = {
        "resourceId": resource_id,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(hours=1)).isoformat(),
    }
    return call("POST", "/api/v1/bookings", body=body, user=user, role="customer")


def calls_during(action: Any) -> dict[str, int]:
    seen: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        seen[operation] = seen.get(operation, 0) + 1

    aws.dynamodb().meta.events.register("before-call.dynamodb", count)
    action()
    return seen


def used(subject: str) -> int:
    item = (
        aws.dynamodb()
        .get_item(
            TableName="slotwise-test", Key={"PK": {"S": f"QUOTA#{subject}"}, "SK": {"S": f"W#{MINUTE_START // 60}"}}
        )
        .get("Item")
    )
    return int(item["used"]["N"]) if item else 0


def test_a_booking_without_a_lease_is_still_one_transaction(quota_on: list[float]) -> None:
    room = make_resource()
    book(room.id, START - timedelta(days=1))  # warms the resource cache; leases nothing (charged in its transaction)
    created: list[ApiResponse] = []
    seen = calls_during(lambda: created.append(book(room.id)))
    assert created[0].status == 201, created[0].body
    assert seen == {"TransactWriteItems": 1}
    assert used("cust-1") == 2


def test_a_caller_over_the_limit_books_nothing(quota_on: list[float]) -> None:
    room = make_resource()
    assert admitted_until_refused(100, user="cust-1", role="customer")[0] == 100
    refused = book(room.id)
    assert (refused.status, refused.code) == (429, "rate_limited")
    # Another customer can still have the slot: the refused request wrote nothing.
    assert book(room.id, user="cust-2").status == 201


def test_the_transaction_refuses_when_another_instance_used_the_minute(quota_on: list[float]) -> None:
    room = make_resource()
    ratelimit.lease("cust-1", 100, 100, now=quota_on[0])  # elsewhere: the whole minute is gone
    refused = book(room.id)
    assert (refused.status, refused.code) == (429, "rate_limited")
    assert refused.headers["retry-after"] == "50"
    assert book(room.id, user="cust-2").status == 201
    # The refusal is remembered here: the next attempt costs no DynamoDB call at all.
    assert calls_during(lambda: book(room.id)) == {}


def test_a_write_that_commits_nothing_is_charged_afterwards(quota_on: list[float]) -> None:
    room = make_resource()
    assert book(room.id, user="cust-2").status == 201
    taken = book(room.id)
    assert taken.status == 409
    assert used("cust-1") == 5  # one lease, taken after the request (the failed transaction charged nothing)
