"""Changing a recurring series after it was booked: an exception on one date (cancelled, moved or renamed, and
recorded on the series), and cancelling an occurrence with every later one. Each change to an occurrence is the
single-booking use case (`lifecycle`, `reschedule`), one transaction each; the exception record is its own."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.booking import access, store
from slotwise.booking.changes import charge_request
from slotwise.booking.lifecycle import cancel_booking, update_details
from slotwise.booking.models import HOLDING, Booking, BookingTimes, BookingUpdate, CancelRequest, ExceptionCreate
from slotwise.booking.queries import get_booking
from slotwise.booking.reschedule import reschedule
from slotwise.booking.windows import now_utc
from slotwise.data.codec import to_value
from slotwise.data.dynamo import table_name
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.organisations import service as organisations
from slotwise.transaction import Tag, Transaction, execute


def _series(caller: Caller, any_id: str) -> dict[str, Any]:
    """A series by its id or by the id of one of its occurrences."""
    record = store.get_plain(f"SERIES#{any_id}", "SERIES")
    if record is None:
        booking = store.get_booking(any_id)
        if booking is not None and booking.series_id and access.can_view(caller, booking):
            record = store.get_plain(f"SERIES#{booking.series_id}", "SERIES")
    visible = record is not None and (
        permissions.allows(caller, "booking.view_any")
        or caller.user_id in {record["customerId"], record["createdBy"]}
        or organisations.same_organisation(caller, str(record["vendorId"]))
    )
    if record is None or not visible:
        raise errors.NotFound(f"No recurring booking {any_id}.", code="series_not_found")
    return record


def _record_exception(caller: Caller, series_id: str, entry: dict[str, Any], now: datetime) -> None:
    tx = Transaction()
    tx.add(
        Tag("other", series_id),
        {
            "Update": {
                "TableName": table_name(),
                "Key": {"PK": {"S": f"SERIES#{series_id}"}, "SK": {"S": "SERIES"}},
                "UpdateExpression": "SET #exceptions = list_append(#exceptions, :entry)",
                "ExpressionAttributeNames": {"#exceptions": "exceptions"},
                "ExpressionAttributeValues": {":entry": {"L": [to_value(entry)]}},
            }
        },
    )
    tx.audit(
        audit.entry(
            caller,
            "series.exception",
            "series",
            series_id,
            at=now,
            detail={k: entry[k] for k in ("exceptionType", "exceptionDate", "bookingId")},
        )
    )
    charge_request(tx)
    execute(tx)


def add_exception(caller: Caller, any_id: str, data: ExceptionCreate, now: datetime | None = None) -> dict[str, Any]:
    now = now or now_utc()
    permissions.require(caller, "booking.update")
    series = _series(caller, any_id)
    occurrence_id = series["occurrences"].get(data.exception_date.isoformat())
    if occurrence_id is None:
        raise errors.NotFound(f"The series has no occurrence on {data.exception_date}.", code="occurrence_not_found")
    if data.exception_type == "cancelled":
        booking = cancel_booking(caller, occurrence_id, data.reason or "exception", now)
    else:
        booking = get_booking(caller, occurrence_id)
        if data.new_start_time and data.new_end_time:
            booking = reschedule(
                caller,
                occurrence_id,
                BookingTimes(start_time=data.new_start_time, end_time=data.new_end_time),
                reason=data.reason,
                now=now,
            )
        if data.new_title is not None:
            details = BookingUpdate(
                title=data.new_title,
                description=booking.description,
                attendees=booking.attendees,
                guests=booking.guests,
                metadata=booking.metadata,
            )
            booking = update_details(caller, occurrence_id, details, now=now)
    entry = {
        "exceptionType": data.exception_type,
        "exceptionDate": data.exception_date.isoformat(),
        "reason": data.reason,
        "bookingId": occurrence_id,
        "at": now.isoformat(),
        "by": caller.user_id,
    }
    _record_exception(caller, series["id"], entry, now)
    return {"seriesId": series["id"], "exception": entry, "booking": booking}


def cancel(caller: Caller, booking_id: str, request: CancelRequest, now: datetime | None = None) -> list[Booking]:
    """Cancel one booking, or a series occurrence and every later one."""
    now = now or now_utc()
    permissions.require(caller, "booking.cancel")
    if request.scope == "this":
        return [cancel_booking(caller, booking_id, request.reason, now, refund_to=request.refund_to)]
    booking = get_booking(caller, booking_id)
    if not booking.series_id or booking.occurrence_date is None:
        raise errors.ValidationFailed(
            "Only an occurrence of a recurring booking has following ones.", code="not_a_series"
        )
    series = _series(caller, booking.series_id)
    start: date = booking.occurrence_date
    cancelled = []
    for day, occurrence_id in sorted(series["occurrences"].items()):
        if date.fromisoformat(day) < start:
            continue
        occurrence = store.get_booking(occurrence_id)
        if occurrence is not None and occurrence.status in HOLDING:
            cancelled.append(cancel_booking(caller, occurrence_id, request.reason, now, refund_to=request.refund_to))
    return cancelled
