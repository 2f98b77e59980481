"""Every booking that starts in a time window, for `slotwise bookings export`: read resource by resource from the
indexes, never by a Scan.

The resources come from GSI2's `RESOURCES` partition (archived ones too), and each resource's bookings from its
GSI2 `RESBOOK#<resource>` partition between the window's sort keys (`<UTC start>#<id>`): one Query page after
another, so the cost follows the bookings exported plus one Query per resource, whatever the table holds.
Bookings come out grouped by resource, each resource's in start order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from slotwise import errors
from slotwise.booking.models import Booking
from slotwise.booking.store import query_bookings
from slotwise.catalog.repository import resource_ids_page
from slotwise.data.due import sort_time

_PAGE = 100
# The columns of the CSV export: what an accountant or an operator reads, money in minor units with its currency.
CSV_COLUMNS = (
    "id",
    "reference",
    "status",
    "resourceId",
    "venueId",
    "vendorId",
    "customerId",
    "startTime",
    "endTime",
    "quantity",
    "guests",
    "amount",
    "currency",
    "paymentState",
    "createdAt",
    "updatedAt",
)


def resource_ids() -> Iterator[str]:
    start_key: dict[str, Any] | None = None
    while True:
        ids, start_key = resource_ids_page(limit=_PAGE, start_key=start_key)
        yield from ids
        if start_key is None:
            return


def bookings_between(
    start: datetime, end: datetime, *, on_resource: Callable[[str], None] | None = None
) -> Iterator[Booking]:
    """Bookings whose start is in [start, end)."""
    if end <= start:
        raise errors.ValidationFailed("the window's end must be after its start", code="invalid_window")
    # `<start>` sorts before every `<start>#<id>`, and `<end>` before `<end>#<id>`: BETWEEN keeps [start, end).
    low, high = sort_time(start), sort_time(end)
    for resource_id in resource_ids():
        if on_resource is not None:
            on_resource(resource_id)
        start_key: dict[str, Any] | None = None
        while True:
            found, start_key = query_bookings(
                "GSI2", f"RESBOOK#{resource_id}", low=low, high=high, limit=_PAGE, start_key=start_key
            )
            yield from found
            if start_key is None:
                break


def csv_row(booking: Booking) -> dict[str, Any]:
    """One CSV line: the booking's own fields, its price (`amount` in minor units) and its payment's state."""
    public = booking.public()
    public.update(
        amount=booking.price.amount,
        currency=booking.price.currency,
        paymentState=booking.payment.state if booking.payment else "unpaid",
    )
    return {column: public.get(column) for column in CSV_COLUMNS}
