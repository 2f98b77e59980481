"""The booking engine's other condition expressions, each on DynamoDB Local."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from slotwise.booking import create, inventory, lifecycle, queries, references, series, store
from slotwise.booking.models import BookingCreate, RecurringCreate
from slotwise.identity.models import Caller
from slotwise.transaction import Transaction, TransactionFailed, execute
from tests.support.catalog import make_resource
from tests.support.http import call

START = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
CUSTOMER = Caller("cust", "customer")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def request(resource_id: str, start: datetime = START, minutes: int = 60) -> BookingCreate:
    return BookingCreate(resourceId=resource_id, startTime=start, endTime=start + timedelta(minutes=minutes))


def count_type(table: str, kind: str) -> int:
    items = boto3.client("dynamodb").scan(
        TableName=table,
        FilterExpression="#t = :t",
        ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={":t": {"S": kind}},
    )["Items"]
    return len(items)


def test_same_idempotency_key_from_20_threads_makes_one_booking(local_table: str) -> None:
    room = make_resource(capacity=5)
    body = {"resourceId": room.id, "startTime": START.isoformat(), "endTime": (START + timedelta(hours=1)).isoformat()}

    def send(_: int) -> Any:
        return call("POST", "/api/v1/bookings", body=body, user="cust", headers={"Idempotency-Key": "same-key"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(send, range(20)))
    assert Counter(r.status for r in results) == {201: 20}
    assert len({r.body["id"] for r in results}) == 1
    assert count_type(local_table, "booking") == 1


def test_reference_collision_retries_with_a_new_code(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    room = make_resource(capacity=2)
    codes = iter(["AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(references, "new_reference", lambda: next(codes))
    first = create.create_booking(CUSTOMER, request(room.id)).booking
    second = create.create_booking(CUSTOMER, request(room.id)).booking
    assert (first.reference, second.reference) == ("AAAAAA", "BBBBBB")
    assert queries.get_by_reference(CUSTOMER, "bbbbbb").id == second.id
    assert references.normalise("AAAAA0") is None


def test_stale_version_cannot_overwrite_a_booking(local_table: str) -> None:
    room = make_resource()
    booking = create.create_booking(CUSTOMER, request(room.id)).booking
    lifecycle.cancel_booking(CUSTOMER, booking.id)
    stale_write = Transaction()
    store.replace_booking(stale_write, booking, booking.model_copy(update={"title": "from a stale read", "version": 2}))
    with pytest.raises(TransactionFailed) as failed:
        execute(stale_write)
    assert failed.value.failures[0].code == "ConditionalCheckFailed"
    stored = store.get_booking(booking.id)
    assert stored is not None and stored.status == "cancelled" and stored.title == ""


def test_releasing_what_is_not_held_is_refused(local_table: str) -> None:
    room = make_resource()
    booking = create.create_booking(CUSTOMER, request(room.id)).booking
    tx = Transaction()
    inventory.release(tx, room.id, booking.lock_keys[0], booking_id="someone-else", quantity=1)
    with pytest.raises(TransactionFailed):
        execute(tx)


def test_all_or_nothing_series_rolls_back_committed_chunks(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    room = make_resource(policy={"granuleMinutes": 15})
    # 40 daily 4-hour occurrences = 16 keys + 2 items each: several chunks of at most 90 items.
    last_day = START + timedelta(days=39)
    blocker = create.create_booking(Caller("x", "customer"), request(room.id, last_day, 60)).booking

    real_plan = series.plan

    def plan_that_missed_the_blocker(*args: Any, **kwargs: Any) -> list[series.Planned]:
        # As if the blocker was booked between the pre-scan and the claims (a race the pre-scan cannot see).
        return [
            series.Planned(p.occurrence, p.window, {**p.report, "available": True}) for p in real_plan(*args, **kwargs)
        ]

    monkeypatch.setattr(series, "plan", plan_that_missed_the_blocker)
    data = RecurringCreate(
        resourceId=room.id, startTime=START, endTime=START + timedelta(hours=4), recurrenceRule="FREQ=DAILY;COUNT=40"
    )
    with pytest.raises(series.claims.SlotUnavailable):
        series.create_series(CUSTOMER, data)
    assert count_type(local_table, "booking") == 1
    assert count_type(local_table, "reference") == 1
    slots = boto3.client("dynamodb").query(
        TableName=local_table,
        KeyConditionExpression="PK = :p AND begins_with(SK, :s)",
        ExpressionAttributeValues={":p": {"S": f"RESOURCE#{room.id}"}, ":s": {"S": "SLOT#"}},
    )["Items"]
    held = [s for s in slots if s["used"]["N"] != "0"]
    assert {s["SK"]["S"].removeprefix("SLOT#") for s in held} == set(blocker.lock_keys)


def test_series_reference_collision_retries_the_chunk(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    room = make_resource()
    codes = iter(["CCCCCC", "CCCCCC", "DDDDDD", "EEEEEE"])
    monkeypatch.setattr(references, "new_reference", lambda: next(codes))
    create.create_booking(CUSTOMER, request(room.id, START - timedelta(days=1)))  # takes CCCCCC
    data = RecurringCreate(
        resourceId=room.id, startTime=START, endTime=START + timedelta(minutes=30), recurrenceRule="FREQ=DAILY;COUNT=2"
    )
    made = series.create_series(CUSTOMER, data)
    assert sorted(b.reference for b in made["created"]) == ["DDDDDD", "EEEEEE"]
    assert count_type(local_table, "reference") == 3


def test_concurrent_tries_of_one_series_key_book_it_once(local_table: str) -> None:
    import threading

    from slotwise import errors

    room = make_resource()
    data = RecurringCreate(
        resourceId=room.id, startTime=START, endTime=START + timedelta(hours=4), recurrenceRule="FREQ=DAILY;COUNT=30"
    )
    barrier = threading.Barrier(6)

    def attempt(_: int) -> str:
        barrier.wait()
        try:
            made = series.create_series(CUSTOMER, data, idempotency_key="one-series")
        except errors.Conflict as refused:  # lost the race to the slots or found the first try in flight
            return refused.code
        return str(made["seriesId"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    series_ids = {o for o in outcomes if o not in {"slot_unavailable", "idempotency_in_flight"}}
    assert len(series_ids) == 1, outcomes
    assert count_type(local_table, "series") == 1
    assert count_type(local_table, "booking") == 30
    assert count_type(local_table, "idempotency") == 1
    # Once written, every try replays it.
    again = series.create_series(CUSTOMER, data, idempotency_key="one-series")
    assert again["replayed"] is True and again["seriesId"] in series_ids and len(again["created"]) == 30


def test_a_rolled_back_series_deletes_its_key(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    room = make_resource()
    blocker = create.create_booking(CUSTOMER, request(room.id, START + timedelta(days=35))).booking
    real_plan = series.plan

    def plan_that_missed_the_blocker(*args: Any, **kwargs: Any) -> list[series.Planned]:
        return [
            series.Planned(p.occurrence, p.window, {**p.report, "available": True}) for p in real_plan(*args, **kwargs)
        ]

    monkeypatch.setattr(series, "plan", plan_that_missed_the_blocker)
    data = RecurringCreate(
        resourceId=room.id, startTime=START, endTime=START + timedelta(hours=4), recurrenceRule="FREQ=DAILY;COUNT=40"
    )
    with pytest.raises(series.claims.SlotUnavailable):
        series.create_series(CUSTOMER, data, idempotency_key="rolled-back")
    assert count_type(local_table, "idempotency") == 0
    assert count_type(local_table, "booking") == 1
    lifecycle.cancel_booking(CUSTOMER, blocker.id, "")
    made = series.create_series(CUSTOMER, data, idempotency_key="rolled-back")
    assert made["replayed"] is False and len(made["created"]) == 40
