"""The identity-and-access condition expressions, each on DynamoDB Local: the token bucket, the active-hold cap and
its counter on every way out of a hold, audit entries written if and only if their change commits, the platform
counters, and the admin's conditional status moves."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from slotwise import admin, errors, ratelimit
from slotwise.admin import StatusChange
from slotwise.audit import log as audit_log
from slotwise.audit import stats
from slotwise.booking import create, deadlines, lifecycle
from slotwise.booking.models import BookingCreate
from slotwise.identity import status as accounts
from slotwise.identity.models import Caller, User
from slotwise.identity.repository import put_user
from tests.support.catalog import make_resource
from tests.support.http import ApiResponse, call

START = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)
ADMIN = Caller("root", "admin")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def items_of(table: str, kind: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "#t = :t",
        "ExpressionAttributeNames": {"#t": "type"},
        "ExpressionAttributeValues": {":t": {"S": kind}},
    }
    while True:
        page = client.scan(**request)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def audit_actions(table: str, target: str) -> list[str]:
    return sorted(i["action"]["S"] for i in items_of(table, "audit") if i["target"]["S"] == target)


def holds_of(user_id: str) -> int:
    item = boto3.client("dynamodb").get_item(
        TableName=_table(), Key={"PK": {"S": f"USERHOLDS#{user_id}"}, "SK": {"S": "HOLDS"}}, ConsistentRead=True
    )
    return int(item.get("Item", {}).get("holds", {"N": "0"})["N"])


def _table() -> str:
    from slotwise.data.dynamo import table_name

    return table_name()


def request(resource_id: str, start: datetime = START, minutes: int = 60) -> BookingCreate:
    return BookingCreate(resourceId=resource_id, startTime=start, endTime=start + timedelta(minutes=minutes))


def book(resource_id: str, start: datetime, user: str, minutes: int = 60) -> ApiResponse:
    body = {
        "resourceId": resource_id,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(minutes=minutes)).isoformat(),
    }
    return call("POST", "/api/v1/bookings", body=body, user=user, role="customer")


# --- token bucket --------------------------------------------------------------------------------------------------


def test_token_bucket_admits_exactly_the_limit_under_concurrency_then_refills(local_table: str) -> None:
    limit = ratelimit.Limit(requests=10, per_seconds=60)  # one token every 6 s, bursts of 10
    now = 1_800_000_000_000

    def take(at: int) -> int | None:
        try:
            ratelimit.take("test", "user-1", limit, now_ms=at)
        except errors.RateLimited as refused:
            return refused.retry_after_seconds
        return 0

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(take, [now] * 30))
    assert outcomes.count(0) == 10
    assert all(wait is not None and 1 <= wait <= 6 for wait in outcomes if wait != 0)

    # One emission interval later exactly one more token exists, whatever the concurrency.
    with ThreadPoolExecutor(max_workers=10) as pool:
        later = list(pool.map(take, [now + 6_000] * 10))
    assert later.count(0) == 1
    # Idle for longer than a full refill: the bucket starts again with a whole burst, and no more.
    with ThreadPoolExecutor(max_workers=20) as pool:
        idle = list(pool.map(take, [now + 600_000] * 20))
    assert idle.count(0) == 10
    # Another subject has its own bucket.
    ratelimit.take("test", "user-2", limit, now_ms=now)


def test_hold_writes_are_rate_limited_through_the_api(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ratelimit.BOOKING_WRITES_ENV, "4")
    monkeypatch.setenv(ratelimit.ACTIVE_HOLDS_ENV, "0")  # no cap: only the bucket decides here
    room = make_resource(capacity=100, policy={"confirmation": "payment"})
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda i: book(room.id, START + timedelta(hours=i), "eager"), range(10)))
    assert Counter(r.status for r in results) == {201: 4, 429: 6}
    refused = next(r for r in results if r.status == 429)
    assert refused.code == "rate_limited" and int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    assert len(items_of(local_table, "booking")) == 4
    assert book(room.id, START, "someone-else").status == 201
    # A firm (auto-confirmed) booking opens no hold: it spends no token and stays one write call.
    firm = make_resource(capacity=100)
    assert book(firm.id, START, "eager").status == 201


# --- active holds --------------------------------------------------------------------------------------------------


def test_hold_cap_holds_under_concurrency(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ratelimit.ACTIVE_HOLDS_ENV, "3")
    room = make_resource(capacity=100, policy={"confirmation": "payment"})
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda i: book(room.id, START + timedelta(hours=i), "hoarder"), range(12)))
    statuses = Counter(r.status for r in results)
    assert statuses == {201: 3, 429: 9}, [(r.status, r.code) for r in results]
    assert {r.code for r in results if r.status == 429} == {"active_holds_exceeded"}
    assert all(r.headers["retry-after"] == "60" for r in results if r.status == 429)
    assert holds_of("hoarder") == 3
    held = [r.body for r in results if r.status == 201]
    assert len(items_of(local_table, "booking")) == 3
    # A refused claim left nothing behind: no booking, no audit entry, no slot taken.
    assert len([i for i in items_of(local_table, "audit") if i["action"]["S"] == "booking.create"]) == 3

    assert call("POST", f"/api/v1/bookings/{held[0]['id']}/cancel", body={}, user="hoarder").status == 200
    assert holds_of("hoarder") == 2
    assert book(room.id, START + timedelta(hours=20), "hoarder").status == 201
    assert book(room.id, START + timedelta(hours=21), "hoarder").code == "active_holds_exceeded"
    # Confirmed bookings never count.
    plain = make_resource(capacity=100)
    assert book(plain.id, START, "hoarder").status == 201 and holds_of("hoarder") == 3


def test_an_increase_larger_than_the_cap_fails_on_a_new_counter(
    local_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A series of 4 held occurrences against a cap of 3, by a user with no counter yet: refused, nothing kept."""
    monkeypatch.setenv(ratelimit.ACTIVE_HOLDS_ENV, "3")
    room = make_resource(policy={"confirmation": "approval"})
    body = {
        "resourceId": room.id,
        "recurrenceRule": "FREQ=WEEKLY;COUNT=4",
        "startTime": START.isoformat(),
        "endTime": (START + timedelta(hours=1)).isoformat(),
    }
    refused = call("POST", "/api/v1/bookings/recurring", body=body, user="planner")
    assert (refused.status, refused.code) == (429, "active_holds_exceeded")
    assert items_of(local_table, "booking") == [] and items_of(local_table, "user_holds") == []
    assert (
        call(
            "POST", "/api/v1/bookings/recurring", body={**body, "recurrenceRule": "FREQ=WEEKLY;COUNT=3"}, user="planner"
        ).status
        == 201
    )
    assert holds_of("planner") == 3


def test_every_way_out_of_a_hold_closes_it_once(local_table: str) -> None:
    now = datetime.now(UTC)
    approval = make_resource(capacity=10, policy={"confirmation": "approval"})
    payment = make_resource(capacity=10, policy={"confirmation": "payment", "holdTtlSeconds": 60})
    user = Caller("holder", "customer")

    confirmed = create.create_booking(user, request(approval.id), now=now).booking
    rejected = create.create_booking(user, request(approval.id), now=now).booking
    cancelled = create.create_booking(user, request(payment.id), now=now).booking
    swept = create.create_booking(user, request(payment.id, START + timedelta(hours=2)), now=now).booking
    assert holds_of("holder") == 4
    lifecycle.decide(Caller("vendor-1", "vendor"), confirmed.id, approve=True)
    lifecycle.decide(Caller("vendor-1", "vendor"), rejected.id, approve=False)
    lifecycle.cancel_booking(user, cancelled.id)
    assert holds_of("holder") == 1
    assert deadlines.expire_lapsed(now + timedelta(seconds=61)) == 1
    assert holds_of("holder") == 0
    assert store_status(swept.id) == "expired"
    counted = stats.read()
    assert (counted["bookings_confirmed"], counted["bookings_rejected"], counted["bookings_cancelled"]) == (1, 1, 1)
    assert counted["bookings_expired"] == 1
    assert counted["bookings_held"] == counted["bookings_awaiting_approval"] == 0
    # The sweeper's change is audited too, by the system.
    expired = [i for i in items_of(local_table, "audit") if i["action"]["S"] == "booking.expire"]
    assert [(i["actor"]["S"], i["role"]["S"]) for i in expired] == [("system:hold-expiry", "system")]


def store_status(booking_id: str) -> str:
    from slotwise.booking import store

    found = store.get_booking(booking_id)
    assert found is not None
    return found.status


def test_an_evicted_hold_is_closed_once_even_when_evicted_twice(local_table: str) -> None:
    """A lapsed hold on two keys is evicted from each by a different claimant: expired (and its counters closed)
    by the first, only released by the second."""
    room = make_resource(capacity=1, policy={"confirmation": "payment", "holdTtlSeconds": 60})
    now = datetime.now(UTC)
    held = create.create_booking(Caller("first", "customer"), request(room.id), now=now).booking
    assert holds_of("first") == 1
    later = now + timedelta(seconds=61)
    create.create_booking(Caller("late", "customer"), request(room.id, START + timedelta(minutes=30), 30), now=later)
    assert store_status(held.id) == "expired" and holds_of("first") == 0 and holds_of("late") == 1
    create.create_booking(Caller("third", "customer"), request(room.id, START, 30), now=later)
    assert holds_of("first") == 0 and holds_of("third") == 1
    counted = stats.read()
    assert (counted["bookings_expired"], counted["bookings_held"]) == (1, 2)
    creates = [i for i in items_of(local_table, "audit") if i["action"]["S"] == "booking.create"]
    evicted = sorted(i["detail"]["M"].get("evicted", {"L": []})["L"] != [] for i in creates)
    assert evicted == [False, False, True]  # only the claim that expired it says so


def test_a_claim_evicting_too_many_holds_expires_them_first(local_table: str) -> None:
    """90 lock keys leave no room in one transaction for several evicted holds and their owners' counters: they
    are expired one transaction each, then the claim commits."""
    room = make_resource(capacity=1, policy={"granuleMinutes": 15, "confirmation": "payment", "holdTtlSeconds": 60})
    now = datetime.now(UTC)
    lapsed = [
        create.create_booking(
            Caller(f"h{i}", "customer"), request(room.id, START + timedelta(hours=2 * i), 15), now=now
        ).booking
        for i in range(5)
    ]
    later = now + timedelta(seconds=61)
    long = create.create_booking(Caller("long", "customer"), request(room.id, START, 90 * 15), now=later).booking
    assert long.status == "held" and len(long.lock_keys) == 90
    assert [store_status(b.id) for b in lapsed] == ["expired"] * 5
    assert [holds_of(f"h{i}") for i in range(5)] == [0] * 5
    expired_by = {i["actor"]["S"] for i in items_of(local_table, "audit") if i["action"]["S"] == "booking.expire"}
    assert expired_by == {"system:claim"}


# --- audit iff commit ----------------------------------------------------------------------------------------------


def test_only_the_winning_claim_is_audited(local_table: str) -> None:
    room = make_resource(capacity=1)
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda i: book(room.id, START, f"racer-{i}"), range(20)))
    winners = [r.body for r in results if r.status == 201]
    assert len(winners) == 1
    creates = [i for i in items_of(local_table, "audit") if i["action"]["S"] == "booking.create"]
    assert [i["targetId"]["S"] for i in creates] == [winners[0]["id"]]
    assert stats.read().get("bookings_confirmed") == 1


def test_cancel_racing_confirm_audits_exactly_the_winner(local_table: str) -> None:
    room = make_resource(capacity=1, policy={"confirmation": "approval"})
    for hour in range(5):
        pending = book(room.id, START + timedelta(hours=hour), "cust").body
        with ThreadPoolExecutor(max_workers=2) as pool:
            cancel = pool.submit(call, "POST", f"/api/v1/bookings/{pending['id']}/cancel", body={}, user="cust")
            confirm = pool.submit(
                call, "POST", f"/api/v1/bookings/{pending['id']}/confirm", body={}, user="vendor-1", role="vendor"
            )
        won = "booking.cancel" if cancel.result().status == 200 else "booking.confirm"
        assert sorted([cancel.result().status, confirm.result().status]) == [200, 409]
        assert audit_actions(local_table, f"booking:{pending['id']}") == sorted(["booking.create", won])
    assert holds_of("cust") == 0


def test_stale_catalog_writes_are_not_audited(local_table: str) -> None:
    venue = call(
        "POST",
        "/api/v1/venues",
        body={"name": "Hall", "city": "Lisbon", "timezone": "Europe/Lisbon"},
        user="v-1",
        role="vendor",
    ).body

    def rename(i: int) -> int:
        body = {"name": f"Hall {i}", "city": "Lisbon"}
        return call(
            "PUT", f"/api/v1/venues/{venue['id']}", body=body, user="v-1", role="vendor", headers={"If-Match": '"1"'}
        ).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(rename, range(8)))
    assert outcomes == {200: 1, 409: 7}
    assert audit_actions(local_table, f"venue:{venue['id']}") == ["venue.create", "venue.update"]
    assert stats.read().get("venues") == 1


# --- admin status moves ----------------------------------------------------------------------------------------------


def _pending_vendor(user_id: str) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert put_user(
        User(id=user_id, email=f"{user_id}@x.test", name="V", role="vendor", status="pending_approval", created_at=now)
    )


def test_approve_racing_reject_one_wins_and_only_it_is_audited(
    local_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pending_vendor("v-race")
    both_read = threading.Barrier(2, timeout=10)
    read = accounts.get_profile

    def read_then_wait(user_id: str) -> Any:
        found = read(user_id)
        both_read.wait()
        return found

    monkeypatch.setattr(accounts, "get_profile", read_then_wait)

    def move(kind: str) -> str:
        try:
            admin.change_status(ADMIN, "v-race", kind, StatusChange())  # type: ignore[arg-type]
        except errors.Conflict as lost:
            return lost.code
        return "won"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = dict(zip(["approve", "reject"], pool.map(move, ["approve", "reject"]), strict=True))
    monkeypatch.setattr(accounts, "get_profile", read)
    assert sorted(outcomes.values()) == ["version_conflict", "won"]
    winner = next(kind for kind, outcome in outcomes.items() if outcome == "won")
    profile = accounts.get_profile("v-race")
    assert profile is not None
    assert (profile["status"], profile["version"]) == ({"approve": "active", "reject": "rejected"}[winner], 2)
    assert audit_actions(local_table, "user:v-race") == [f"user.{winner}"]


def test_a_move_from_a_stale_read_changes_nothing(local_table: str) -> None:
    _pending_vendor("v-stale")
    stale = accounts.get_profile("v-stale")
    assert stale is not None
    admin.change_status(ADMIN, "v-stale", "approve", StatusChange())
    entry = audit_log.entry(ADMIN, "user.suspend", "user", "v-stale")
    with pytest.raises(errors.Conflict) as refused:
        accounts.change_status(stale, "suspended", entry)  # read as pending, version 1: both changed since
    assert refused.value.code == "version_conflict"
    assert accounts.get_user_status("v-stale") == "active"
    assert audit_actions(local_table, "user:v-stale") == ["user.approve"]
    # A profile without a version attribute counts as version 1 (as the identity repository writes it).
    boto3.client("dynamodb").update_item(
        TableName=local_table,
        Key={"PK": {"S": "USER#v-stale"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="REMOVE version",
    )
    admin.change_status(ADMIN, "v-stale", "suspend", StatusChange())
    assert accounts.get_user_status("v-stale") == "suspended"
