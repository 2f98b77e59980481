"""Series chunks are sized by the transaction's own count (`Transaction.size`), side items included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slotwise.booking import claims, series
from slotwise.booking.create import new_booking
from slotwise.booking.models import Booking, BookingCreate
from slotwise.booking.windows import Window
from slotwise.identity.models import Caller
from slotwise.transaction import MAX_TRANSACTION_ITEMS
from tests.unit.booking.test_rules import make_resource

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
BUDGET = MAX_TRANSACTION_ITEMS - series.EVICTION_ROOM


def _bookings(count: int, hours: int, confirmation: str) -> list[Booking]:
    resource = make_resource(granule_minutes=60, max_units=24, confirmation=confirmation, tz="UTC")
    data = BookingCreate(
        resourceId=resource.id, startTime=NOW + timedelta(days=1), endTime=NOW + timedelta(days=1, hours=hours)
    )
    return [
        new_booking(
            resource,
            Window(NOW + timedelta(days=1 + n), NOW + timedelta(days=1 + n, hours=hours)),
            data,
            customer_id="c1",
            created_by="c1",
            now=NOW,
            series_id="s1",
        )
        for n in range(count)
    ]


def _size(chunk: list[Booking]) -> int:
    build = series._book_chunk(Caller("c1", "customer"), "s1", chunk, 1, 5, NOW)
    return build(claims.ClaimState()).size()


def test_each_chunk_fills_the_budget_its_transaction_counts() -> None:
    for confirmation in ("payment", "auto"):
        bookings = _bookings(40, 16, confirmation)  # 16 keys + booking + reference = 18 items each
        chunks = series._chunks(Caller("c1", "customer"), "s1", bookings, 1, 5, NOW)
        assert [b.id for chunk in chunks for b in chunk] == [b.id for b in bookings]
        for index, chunk in enumerate(chunks):
            assert _size(chunk) <= BUDGET
            if index + 1 < len(chunks):
                assert _size([*chunk, chunks[index + 1][0]]) > BUDGET
