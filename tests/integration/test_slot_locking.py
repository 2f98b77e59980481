"""The proofs that Slotwise cannot double-book, on DynamoDB Local (AWS's engine), through the real handlers.

Every request goes through `lambda_handler` (route table -> resolver -> service -> one TransactWriteItems), from
many threads at once; each thread borrows its own handler instance, as concurrent Lambda environments would.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from slotwise.booking import create, deadlines
from slotwise.booking.models import BookingCreate
from slotwise.identity.models import Caller
from tests.support.catalog import make_resource
from tests.support.engine import engine
from tests.support.http import ApiResponse, call

DAY = datetime(2027, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The racing proofs on a fresh engine: their time does not depend on what ran before."""
    # Why: the session's `dynamodb_local` in tests/integration/conftest.py.
    yield from engine(tmp_path_factory)


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def book(resource_id: str, start: datetime, end: datetime, user: str, quantity: int = 1) -> ApiResponse:
    return call(
        "POST",
        "/api/v1/bookings",
        user=user,
        role="customer",
        body={
            "resourceId": resource_id,
            "startTime": start.isoformat(),
            "endTime": end.isoformat(),
            "quantity": quantity,
        },
    )


def race(requests: list[tuple[str, datetime, datetime, str, int]], workers: int = 32) -> list[ApiResponse]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda r: book(*r), requests))


def stored_bookings(table: str, resource_id: str) -> list[dict[str, object]]:
    client = boto3.client("dynamodb")
    return client.query(
        TableName=table,
        IndexName="GSI2",
        KeyConditionExpression="GSI2PK = :p",
        ExpressionAttributeValues={":p": {"S": f"RESBOOK#{resource_id}"}},
    )["Items"]


def test_200_racers_for_one_exclusive_slot_exactly_one_wins_10_rounds(local_table: str) -> None:
    room = make_resource(capacity=1)
    for round_number in range(10):
        start = DAY + timedelta(hours=round_number)
        results = race([(room.id, start, start + timedelta(minutes=30), f"u{i}", 1) for i in range(200)])
        statuses = Counter(r.status for r in results)
        assert statuses == {201: 1, 409: 199}, (round_number, statuses)
        assert {r.code for r in results if r.status == 409} <= {"slot_unavailable", "slot_contended"}
    assert len(stored_bookings(local_table, room.id)) == 10


def test_500_racers_for_capacity_50_exactly_50_win(local_table: str) -> None:
    pool = make_resource(capacity=50, kind="seat_pool")
    start = DAY + timedelta(days=1)
    results = race([(pool.id, start, start + timedelta(minutes=60), f"u{i}", 1) for i in range(500)])
    statuses = Counter(r.status for r in results)
    assert statuses[201] == 50 and statuses[409] == 450, statuses
    assert len(stored_bookings(local_table, pool.id)) == 50


def test_overlapping_not_identical_ranges_never_share_a_granule(local_table: str) -> None:
    room = make_resource(capacity=1)
    base = DAY + timedelta(days=2, hours=8)
    # 60 racers with windows of 30-120 minutes starting every 30 minutes over 4 hours.
    requests = [
        (
            room.id,
            base + timedelta(minutes=30 * (i % 8)),
            base + timedelta(minutes=30 * (i % 8) + 30 * (1 + i % 4)),
            f"u{i}",
            1,
        )
        for i in range(60)
    ]
    results = race(requests)
    winners = [r.body for r in results if r.status == 201]
    assert winners, "someone must win"
    intervals = sorted((w["startTime"], w["endTime"]) for w in winners)
    for (_, end), (next_start, _) in itertools.pairwise(intervals):
        assert datetime.fromisoformat(end) <= datetime.fromisoformat(next_start), intervals
    assert all(r.status in (201, 409) for r in results)


def test_reschedule_racing_a_new_booking_for_the_target(local_table: str) -> None:
    room = make_resource(capacity=1)
    for round_number in range(10):
        start = DAY + timedelta(days=3, hours=round_number)
        target = start + timedelta(minutes=30)
        mine = book(room.id, start, target, "mover")
        assert mine.status == 201

        def move(booking_id: str, to: datetime) -> ApiResponse:
            return call(
                "POST",
                f"/api/v1/bookings/{booking_id}/reschedule",
                user="mover",
                body={"startTime": to.isoformat(), "endTime": (to + timedelta(minutes=30)).isoformat()},
            )

        with ThreadPoolExecutor(max_workers=2) as pool:
            moved, other = (
                pool.submit(move, mine.body["id"], target),
                pool.submit(book, room.id, target, target + timedelta(minutes=30), "x"),
            )
        outcomes = sorted([moved.result().status, other.result().status])
        assert outcomes in ([200, 409], [201, 409]), outcomes


def test_cancel_racing_confirm_exactly_one_transition(local_table: str) -> None:
    room = make_resource(capacity=1, policy={"confirmation": "approval"})
    for round_number in range(10):
        start = DAY + timedelta(days=4, hours=round_number)
        pending = book(room.id, start, start + timedelta(minutes=30), "customer")
        assert pending.status == 201 and pending.body["status"] == "awaiting_approval"
        booking_id = pending.body["id"]
        with ThreadPoolExecutor(max_workers=2) as pool:
            cancel = pool.submit(
                call, "POST", f"/api/v1/bookings/{booking_id}/cancel", body={"reason": "x"}, user="customer"
            )
            confirm = pool.submit(
                call, "POST", f"/api/v1/bookings/{booking_id}/confirm", body={}, user="vendor-1", role="vendor"
            )
        statuses = sorted([cancel.result().status, confirm.result().status])
        final = call("GET", f"/api/v1/bookings/{booking_id}", user="customer").body
        actions = [entry["action"] for entry in final["history"]]
        if statuses == [200, 200]:
            # Confirm committed before cancel read the booking: two transitions in sequence, never both from v1.
            assert actions == ["created", "confirmed", "cancelled"] and final["version"] == 3
        else:
            assert statuses == [200, 409], statuses
            assert final["status"] == ("cancelled" if cancel.result().status == 200 else "confirmed")
            assert final["version"] == 2 and len(actions) == 2


def test_expired_hold_is_reclaimed_at_once(local_table: str) -> None:
    room = make_resource(capacity=1, policy={"confirmation": "payment", "holdTtlSeconds": 60})
    start = DAY + timedelta(days=5)
    now = datetime.now(UTC)
    held = create.create_booking(
        Caller("holder", "customer"),
        BookingCreate(resourceId=room.id, startTime=start, endTime=start + timedelta(hours=1)),
        now=now,
    ).booking
    assert held.status == "held"
    blocked = book(room.id, start, start + timedelta(minutes=30), "early")
    assert blocked.status == 409 and held.id in blocked.body["conflicts"][0]["bookingIds"]

    later = now + timedelta(seconds=61)
    taken = create.create_booking(
        Caller("late", "customer"),
        BookingCreate(
            resourceId=room.id, startTime=start + timedelta(minutes=30), endTime=start + timedelta(minutes=60)
        ),
        now=later,
    ).booking
    assert taken.status == "held"
    lapsed = call("GET", f"/api/v1/bookings/{held.id}", user="holder").body
    assert lapsed["status"] == "expired"
    # The first half-hour still carries the lapsed holder; a claim evicts it too, and the sweeper finds nothing.
    assert deadlines.expire_lapsed(later) == 0
    again = create.create_booking(
        Caller("third", "customer"),
        BookingCreate(resourceId=room.id, startTime=start, endTime=start + timedelta(minutes=30)),
        now=later,
    ).booking
    assert again.status == "held"


def test_sweeper_releases_lapsed_holds(local_table: str) -> None:
    room = make_resource(capacity=1, policy={"confirmation": "approval", "holdTtlSeconds": 60})
    start = DAY + timedelta(days=6)
    now = datetime.now(UTC)
    held = create.create_booking(
        Caller("holder", "customer"),
        BookingCreate(resourceId=room.id, startTime=start, endTime=start + timedelta(hours=1)),
        now=now,
    ).booking
    assert deadlines.expire_lapsed(now) == 0
    assert deadlines.expire_lapsed(now + timedelta(seconds=61)) == 1
    assert call("GET", f"/api/v1/bookings/{held.id}", user="holder").body["status"] == "expired"
    client = boto3.client("dynamodb")
    slots = client.query(
        TableName=local_table,
        KeyConditionExpression="PK = :p AND begins_with(SK, :s)",
        ExpressionAttributeValues={":p": {"S": f"RESOURCE#{room.id}"}, ":s": {"S": "SLOT#"}},
    )
    assert all(item["used"]["N"] == "0" and not any(k.startswith("h_") for k in item) for item in slots["Items"])
