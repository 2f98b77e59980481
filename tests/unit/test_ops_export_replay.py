"""The bookings export's window (read from the indexes) and the replay's selection of stream records, through
slotwise.ops (moto for the table; the stream and the bus are stand-ins: the replay against DynamoDB Local's real
stream and the consumers' deduplication are in tests/e2e/test_cli_e2e.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotwise import errors
from slotwise.booking.store import booking_item, get_booking
from slotwise.data.codec import to_item
from slotwise.events.envelope import DomainEvent
from slotwise.ops import export, replay
from tests.support.catalog import make_resource
from tests.support.http import call

FROM = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
TO = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def book(resource_id: str, start: datetime, minutes: int = 30) -> str:
    body = {
        "resourceId": resource_id,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(minutes=minutes)).isoformat(),
    }
    made = call("POST", "/api/v1/bookings", body=body, user="cust-1", role="customer")
    assert made.status == 201, made.body
    return str(made.body["id"])


def test_the_export_holds_the_bookings_starting_in_the_window_of_every_resource(table: str) -> None:
    room, hall = make_resource(), make_resource(capacity=5)
    at_start = book(room.id, FROM)
    inside = book(room.id, FROM + timedelta(hours=1))
    other_resource = book(hall.id, TO - timedelta(minutes=30))
    book(room.id, TO)  # starts at the end: outside [from, to)
    book(room.id, FROM - timedelta(minutes=30))  # ends in the window, starts before it: outside
    found = list(export.bookings_between(FROM, TO))
    assert sorted(b.id for b in found) == sorted([at_start, inside, other_resource])
    # Grouped by resource, each in start order.
    of_room = [b.id for b in found if b.resource_id == room.id]
    assert of_room == [at_start, inside]


def test_a_csv_row_is_flat_with_money_in_minor_units(table: str) -> None:
    room = make_resource(pricing={"currency": "EUR", "unitPrice": 1250})
    booking = get_booking(book(room.id, FROM, minutes=60))
    assert booking is not None
    row = export.csv_row(booking)
    assert tuple(row) == export.CSV_COLUMNS
    assert (row["amount"], row["currency"], row["paymentState"], row["status"]) == (
        booking.price.amount,
        "EUR",
        "unpaid",
        booking.status,
    )
    assert booking.price.amount > 0


def test_an_empty_or_reversed_window_is_refused() -> None:
    with pytest.raises(errors.ValidationFailed):
        list(export.bookings_between(TO, FROM))
    with pytest.raises(errors.ValidationFailed):
        replay.replay(FROM, FROM)


# --------------------------------------------------------------------------------------------------------- replay


class FakeStream:
    """One shard of records in write order, and a bus that records what is put on it."""

    def __init__(self, records: list[dict[str, Any]], refuse: frozenset[str] = frozenset()) -> None:
        self.records = records
        self.published: list[DomainEvent] = []
        self.refuse = refuse

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(replay, "stream_arn", lambda: "arn:stream")
        monkeypatch.setattr(replay.stream, "shard_ids", lambda arn: ["shard-1"])
        monkeypatch.setattr(replay.stream, "records", self._records)
        monkeypatch.setattr(replay, "publish", self._publish)

    def _records(self, arn: str, shard_id: str, until: datetime) -> Iterator[dict[str, Any]]:
        for record in self.records:
            if record["dynamodb"]["ApproximateCreationDateTime"] > until:
                return
            yield record

    def _publish(self, events: Sequence[DomainEvent]) -> list[DomainEvent]:
        self.published.extend(e for e in events if e.id not in self.refuse)
        return [e for e in events if e.id in self.refuse]


def booking_record(item: dict[str, Any], at: datetime, old: dict[str, Any] | None = None) -> dict[str, Any]:
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": at,
        "Keys": {"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
        "NewImage": to_item(item),
    }
    if old is not None:
        change["OldImage"] = to_item(old)
    return {"eventName": "MODIFY" if old else "INSERT", "dynamodb": change}


@pytest.fixture
def booked(table: str) -> dict[str, Any]:
    booking = get_booking(book(make_resource().id, FROM))
    assert booking is not None
    return booking_item(booking)


def test_a_replay_publishes_the_windows_events_with_their_first_ids(
    booked: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cancelled = {**booked, "status": "cancelled", "version": booked["version"] + 1}
    notice = {"PK": "NOTICE#n1", "SK": "NOTICE", "id": "n1", "status": "sending", "version": 1}
    fake = FakeStream(
        [
            booking_record(booked, FROM - timedelta(minutes=1)),  # before the window
            booking_record(booked, FROM),
            booking_record(notice, FROM + timedelta(minutes=1)),  # not read by the deployed publisher
            booking_record(cancelled, FROM + timedelta(minutes=2), old=booked),
            {
                "eventName": "REMOVE",
                "dynamodb": {"ApproximateCreationDateTime": FROM, "Keys": {"SK": {"S": "BOOKING"}}},
            },
            booking_record(cancelled, TO, old=booked),  # at the end: outside
        ]
    )
    fake.install(monkeypatch)
    report = replay.replay(FROM, TO)
    booking_id = booked["id"]
    assert [(e.type, e.id) for e in fake.published] == [
        (booked_type(booked), f"booking:{booking_id}:{booked['version']}"),
        ("booking.cancelled", f"booking:{booking_id}:{booked['version'] + 1}"),
    ]
    assert report.public() == {
        "records": 3,
        "events": 2,
        "published": 2,
        "refused": [],
        "byType": {booked_type(booked): 1, "booking.cancelled": 1},
    }


def booked_type(item: dict[str, Any]) -> str:
    return {"held": "booking.held", "confirmed": "booking.confirmed", "awaiting_approval": "booking.requested"}[
        item["status"]
    ]


def test_a_dry_run_publishes_nothing_and_refusals_are_reported(
    booked: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeStream([booking_record(booked, FROM)], refuse=frozenset({f"booking:{booked['id']}:1"}))
    fake.install(monkeypatch)
    assert replay.replay(FROM, TO, dry_run=True).public()["events"] == 1
    assert fake.published == []
    report = replay.replay(FROM, TO)
    assert (report.published, report.refused) == (0, [f"booking:{booked['id']}:1"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offsets=st.lists(st.integers(min_value=-300, max_value=300), min_size=1, max_size=20))
def test_exactly_the_records_written_in_the_window_are_replayed(
    booked: dict[str, Any], monkeypatch: pytest.MonkeyPatch, offsets: list[int]
) -> None:
    """Whatever the write times, a record is replayed if and only if start <= its time < end."""
    start, end = FROM, FROM + timedelta(seconds=120)
    times = sorted(FROM + timedelta(seconds=s) for s in offsets)
    versions = [{**booked, "version": i + 1, "title": f"v{i}"} for i in range(len(times))]
    records = [
        booking_record(item, at, old=versions[i - 1] if i else None)
        for i, (item, at) in enumerate(zip(versions, times, strict=True))
    ]
    fake = FakeStream(records)
    fake.install(monkeypatch)
    report = replay.replay(start, end)
    expected = [i + 1 for i, at in enumerate(times) if start <= at < end]
    assert [e.aggregate_version for e in fake.published] == expected
    assert report.records == report.published == len(expected)
