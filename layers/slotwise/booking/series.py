"""Recurring bookings: an RRULE expanded in the resource's wall-clock time, claimed all-or-nothing or skipping
conflicts, with per-date exceptions and cancellation from a date on.

A series larger than one transaction is claimed in chunks; all-or-nothing rolls committed chunks back if a later
one loses a race, so a failed series leaves no booking behind.

Audit: every transaction carries its entry, all on target `series:<id>`: `series.book` per committed chunk (with
its booking ids), `series.rollback` per rolled-back chunk, `series.create` with the series item, and
`series.exception` with each exception recorded. Each occurrence of a held series counts as one active hold.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from slotwise import errors, ratelimit
from slotwise.audit import log as audit
from slotwise.booking import access, availability, claims, recurrence, references, rules, service, store
from slotwise.booking.models import (
    HOLDING,
    Booking,
    BookingTimes,
    BookingUpdate,
    CancelRequest,
    ExceptionCreate,
    RecurringCreate,
)
from slotwise.booking.store import Tag, Transaction, TransactionFailed
from slotwise.catalog.models import Resource
from slotwise.data.codec import to_value
from slotwise.data.dynamo import table_name
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.models import iso

# Items per chunk, leaving room for evictions of lapsed holds found on the way.
CHUNK_ITEMS = 90


@dataclass(frozen=True)
class Planned:
    occurrence: recurrence.Occurrence
    window: rules.Window
    report: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.report["available"])

    def as_json(self) -> dict[str, Any]:
        return {"date": self.occurrence.local_date.isoformat(), **self.report}


def plan(resource: Resource, times: BookingTimes, rule: str | None, quantity: int, now: datetime) -> list[Planned]:
    """Each occurrence with its availability, from one Query over the span of the whole series."""
    start, end = times.start_time, times.end_time
    if start is None or end is None:
        raise errors.ValidationFailed("Name the first occurrence's startTime and endTime.", code="missing_times")
    if resource.policy.unit != "minutes":
        raise errors.ValidationFailed(
            "Recurring bookings repeat timed resources (unit 'minutes').", code="recurrence_not_supported"
        )
    if end <= start:
        raise errors.ValidationFailed("endTime comes after startTime.", code="end_before_start")
    if rule:
        horizon = now + timedelta(days=resource.policy.max_horizon_days)
        occurrences = recurrence.expand(rule, start, end - start, resource.timezone, not_after=horizon)
    else:
        first = start.astimezone(resource.zone)
        occurrences = [recurrence.Occurrence(first, end.astimezone(resource.zone), first.date())]
    if not occurrences:
        raise errors.ValidationFailed("The recurrence rule produces no occurrence.", code="no_occurrences")
    windows = [rules.window_for(resource, start=o.start, end=o.end) for o in occurrences]
    low, high = rules.span_key_range(resource, windows)
    held = store.slot_items(resource.id, low, high)
    return [
        Planned(o, w, availability.assess(resource, w, quantity, held, now))
        for o, w in zip(occurrences, windows, strict=True)
    ]


def conflicts(caller: Caller, resource_id: str, times: BookingTimes, rule: str | None, now: datetime) -> dict[str, Any]:
    permissions.require(caller, "availability.read")
    resource = access.resource_visible(caller, service.bookable_resource(resource_id), resource_id)
    planned = plan(resource, times, rule, 1, now)
    blocked = [p.as_json() for p in planned if not p.ok]
    return {"resourceId": resource.id, "occurrences": len(planned), "hasConflicts": bool(blocked), "conflicts": blocked}


def _series_item(
    series_id: str,
    resource: Resource,
    data: RecurringCreate,
    customer: str,
    caller: Caller,
    now: datetime,
    occurrences: dict[str, str],
    status: str,
) -> dict[str, Any]:
    return {
        "PK": f"SERIES#{series_id}",
        "SK": "SERIES",
        "type": "series",
        "id": series_id,
        "resourceId": resource.id,
        "vendorId": resource.owner_id,
        "customerId": customer,
        "createdBy": caller.user_id,
        "recurrenceRule": recurrence.parse_rule(data.recurrence_rule),
        "mode": data.mode,
        "timezone": resource.timezone,
        "status": status,
        "occurrences": occurrences,
        "exceptions": [],
        "createdAt": now.isoformat(),
    }


def _chunks(bookings: list[Booking]) -> list[list[Booking]]:
    chunks: list[list[Booking]] = [[]]
    size = 0
    for booking in bookings:
        cost = 2 + len(booking.lock_keys)
        if chunks[-1] and size + cost > CHUNK_ITEMS:
            chunks.append([])
            size = 0
        chunks[-1].append(booking)
        size += cost
    return [c for c in chunks if c]


def _claim_chunk(
    caller: Caller, series_id: str, chunk: list[Booking], capacity: int, hold_cap: int | None, now: datetime
) -> None:
    def build(state: claims.ClaimState) -> Transaction:
        tx = Transaction()
        for booking in chunk:
            service.add_new_booking(tx, booking, hold_cap=hold_cap)
            service.add_claims(tx, booking, booking.lock_keys, state, capacity)
        evicted = service.add_evictions(tx, state, now)
        tx.audit(
            audit.entry(
                caller,
                "series.book",
                "series",
                series_id,
                at=now,
                detail={"bookingIds": [b.id for b in chunk], "evicted": evicted or None},
            )
        )
        return tx

    def new_references(failed: TransactionFailed) -> bool:
        collided = {f.tag.key for f in failed.of_kind("reference")}
        for index, booking in enumerate(chunk):
            if booking.reference in collided:
                chunk[index] = booking.model_copy(update={"reference": references.new_reference()})
        return bool(collided)

    claims.run(
        build,
        booking_id="",
        quantity=chunk[0].quantity,
        capacity=capacity,
        now_epoch=int(now.timestamp()),
        on_other_failure=new_references,
        expire_separately=lambda ids: service.expire_each(ids, now),
    )


def _roll_back(caller: Caller, series_id: str, bookings: list[Booking], now: datetime) -> None:
    for chunk in _chunks(bookings):
        tx = Transaction()
        for booking in chunk:
            tx.delete_booking(booking)
            tx.delete_key(Tag("reference", booking.reference), f"REF#{booking.reference}", "REF")
            service._release_all(tx, booking)
            service.add_status_change(tx, booking, None)
        tx.audit(
            audit.entry(
                caller, "series.rollback", "series", series_id, at=now, detail={"bookingIds": [b.id for b in chunk]}
            )
        )
        store.execute(tx)


def create_series(caller: Caller, data: RecurringCreate, now: datetime | None = None) -> dict[str, Any]:
    now = now or service.now_utc()
    permissions.require(caller, "booking.create")
    customer = access.customer_for(caller, data.customer_id, data.created_by)
    resource = access.resource_visible(caller, service.bookable_resource(data.resource_id), data.resource_id)
    hold_cap = ratelimit.active_hold_cap(caller)
    planned = plan(resource, data, data.recurrence_rule, data.quantity, now)
    blocked = [p for p in planned if not p.ok]
    if blocked and data.mode == "all_or_nothing":
        raise claims.SlotUnavailable(
            f"{len(blocked)} of {len(planned)} occurrences cannot be booked; nothing was booked.",
            extra={"conflicts": [p.as_json() for p in blocked]},
        )
    usable = [p for p in planned if p.ok]
    if not usable:
        raise claims.SlotUnavailable(
            "No occurrence of the series can be booked.", extra={"conflicts": [p.as_json() for p in blocked]}
        )
    ratelimit.booking_write(caller)
    series_id = str(uuid.uuid4())
    bookings = [
        service.new_booking(
            resource,
            p.window,
            data,
            customer_id=customer,
            created_by=caller.user_id or customer,
            now=now,
            series_id=series_id,
            request_id=caller.request_id,
        )
        for p in usable
    ]
    # Two operations on one item would void the whole transaction, so references are distinct within the series.
    seen: set[str] = set()
    for index in range(len(bookings)):
        while bookings[index].reference in seen:
            bookings[index] = bookings[index].model_copy(update={"reference": references.new_reference()})
        seen.add(bookings[index].reference)
    committed: list[Booking] = []
    skipped: list[dict[str, Any]] = [p.as_json() for p in blocked]
    for planned_chunk in _chunks(bookings):
        chunk = planned_chunk
        while chunk:
            try:
                _claim_chunk(caller, series_id, chunk, resource.capacity, hold_cap, now)
                committed.extend(chunk)
                break
            except claims.ActiveHoldsExceeded:
                _roll_back(caller, series_id, committed, now)
                raise
            except claims.SlotUnavailable as lost:
                if data.mode == "all_or_nothing":
                    _roll_back(caller, series_id, committed, now)
                    raise
                taken = {c["slot"] for c in lost.extra["conflicts"]}
                losers = [b for b in chunk if taken & set(b.lock_keys)]
                skipped.extend(
                    {
                        "date": str(b.occurrence_date),
                        "available": False,
                        "startTime": iso(b.start_time),
                        "endTime": iso(b.end_time),
                        "reasons": [{"code": "slot_unavailable", "detail": "taken meanwhile"}],
                    }
                    for b in losers
                )
                chunk = [b for b in chunk if b not in losers]
    occurrences = {str(b.occurrence_date): b.id for b in committed}
    tx = Transaction()
    tx.put_new(
        Tag("other", series_id), _series_item(series_id, resource, data, customer, caller, now, occurrences, "active")
    )
    tx.audit(
        audit.entry(
            caller,
            "series.create",
            "series",
            series_id,
            at=now,
            detail={
                "resourceId": resource.id,
                "customerId": customer,
                "created": len(committed),
                "skipped": len(skipped),
            },
        )
    )
    store.execute(tx)
    return {"seriesId": series_id, "created": committed, "conflicts": skipped}


def _series(caller: Caller, any_id: str) -> dict[str, Any]:
    """A series by its id or by the id of one of its occurrences."""
    record = store.get_plain(f"SERIES#{any_id}", "SERIES")
    if record is None:
        booking = store.get_booking(any_id)
        if booking is not None and booking.series_id and access.can_view(caller, booking):
            record = store.get_plain(f"SERIES#{booking.series_id}", "SERIES")
    visible = record is not None and (
        permissions.allows(caller, "booking.view_any")
        or caller.user_id in {record["customerId"], record["createdBy"], record["vendorId"]}
    )
    if record is None or not visible:
        raise errors.NotFound(f"No recurring booking {any_id}.", code="series_not_found")
    return record


def _record_exception(caller: Caller, series_id: str, entry: dict[str, Any], now: datetime) -> None:
    tx = Transaction()
    tx._add(
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
    store.execute(tx)


def add_exception(caller: Caller, any_id: str, data: ExceptionCreate, now: datetime | None = None) -> dict[str, Any]:
    now = now or service.now_utc()
    permissions.require(caller, "booking.update")
    series = _series(caller, any_id)
    occurrence_id = series["occurrences"].get(data.exception_date.isoformat())
    if occurrence_id is None:
        raise errors.NotFound(f"The series has no occurrence on {data.exception_date}.", code="occurrence_not_found")
    if data.exception_type == "cancelled":
        booking = service.cancel_booking(caller, occurrence_id, data.reason or "exception", now)
    else:
        booking = service.get_booking(caller, occurrence_id)
        if data.new_start_time and data.new_end_time:
            booking = service.reschedule(
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
            booking = service.update_details(caller, occurrence_id, details, now=now)
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
    now = now or service.now_utc()
    permissions.require(caller, "booking.cancel")
    if request.scope == "this":
        return [service.cancel_booking(caller, booking_id, request.reason, now, refund_to=request.refund_to)]
    booking = service.get_booking(caller, booking_id)
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
            cancelled.append(
                service.cancel_booking(caller, occurrence_id, request.reason, now, refund_to=request.refund_to)
            )
    return cancelled
