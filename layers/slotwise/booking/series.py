"""Booking a recurring series: an RRULE expanded in the resource's wall-clock time, claimed all-or-nothing or
skipping conflicts (per-date exceptions and cancellation from a date on: `slotwise.booking.series_changes`).

A series larger than one transaction is claimed in chunks; all-or-nothing rolls committed chunks back if a later
one loses a race, so a failed series leaves no booking behind.

Audit: every transaction carries its entry, all on target `series:<id>`: `series.book` per committed chunk (with
its booking ids), `series.rollback` per rolled-back chunk, `series.create` with the series item, and
`series.exception` with each exception recorded. Each occurrence of a held series counts as one active hold.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slotwise import errors, ratelimit
from slotwise.audit import log as audit
from slotwise.booking import access, availability, claims, recurrence, references
from slotwise.booking.changes import (
    add_claims,
    add_evictions,
    add_new_booking,
    add_status_change,
    charge_request,
    release_all,
)
from slotwise.booking.create import new_booking
from slotwise.booking.deadlines import expire_each
from slotwise.booking.inventory import slot_items
from slotwise.booking.keys import span_key_range
from slotwise.booking.models import (
    Booking,
    BookingTimes,
    RecurringCreate,
)
from slotwise.booking.resources import bookable_resource
from slotwise.booking.store import delete_booking
from slotwise.booking.windows import Window, now_utc, window_for
from slotwise.catalog.models import Resource
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.models import iso
from slotwise.transaction import MAX_TRANSACTION_ITEMS, Tag, Transaction, execute

# Items each chunk's transaction leaves free for evicting lapsed holds found on the way (one item each); the
# chunk's size is what `Transaction.size()` counts, side items (hold counter, stats, audit, quota) included.
EVICTION_ROOM = 6


@dataclass(frozen=True)
class Planned:
    occurrence: recurrence.Occurrence
    window: Window
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
    windows = [window_for(resource, start=o.start, end=o.end) for o in occurrences]
    low, high = span_key_range(resource, windows)
    held = slot_items(resource.id, low, high)
    return [
        Planned(o, w, availability.assess(resource, w, quantity, held, now))
        for o, w in zip(occurrences, windows, strict=True)
    ]


def conflicts(caller: Caller, resource_id: str, times: BookingTimes, rule: str | None, now: datetime) -> dict[str, Any]:
    permissions.require(caller, "availability.read")
    resource = access.resource_visible(caller, bookable_resource(resource_id), resource_id)
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


def _add_occurrence(
    tx: Transaction, booking: Booking, capacity: int, hold_cap: int | None, state: claims.ClaimState
) -> None:
    add_new_booking(tx, booking, hold_cap=hold_cap)
    add_claims(tx, booking, booking.lock_keys, state, capacity)


def _book_chunk(
    caller: Caller, series_id: str, chunk: list[Booking], capacity: int, hold_cap: int | None, now: datetime
) -> claims.Build:
    """The transaction that books one chunk, given what earlier attempts learned."""

    def build(state: claims.ClaimState) -> Transaction:
        tx = Transaction()
        for booking in chunk:
            _add_occurrence(tx, booking, capacity, hold_cap, state)
        evicted = add_evictions(tx, state, now)
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
        charge_request(tx)
        return tx

    return build


def _chunks(
    caller: Caller, series_id: str, bookings: list[Booking], capacity: int, hold_cap: int | None, now: datetime
) -> list[list[Booking]]:
    """Consecutive bookings per transaction: as many as the transaction's own count allows with EVICTION_ROOM
    to spare (a booking too big for that alone still gets a chunk; `execute` refuses anything over 100)."""
    chunks: list[list[Booking]] = []
    trial = Transaction()
    for booking in bookings:
        if chunks:
            _add_occurrence(trial, booking, capacity, hold_cap, claims.ClaimState())
            if trial.size() <= MAX_TRANSACTION_ITEMS - EVICTION_ROOM:
                chunks[-1].append(booking)
                continue
        # The booking opens a chunk: a transaction with it alone and the side items every chunk carries.
        trial = _book_chunk(caller, series_id, [booking], capacity, hold_cap, now)(claims.ClaimState())
        chunks.append([booking])
    return chunks


def _claim_chunk(
    caller: Caller, series_id: str, chunk: list[Booking], capacity: int, hold_cap: int | None, now: datetime
) -> None:
    """Book one chunk; a reference that collided is drawn again (in place) and the claim goes on."""
    state = claims.ClaimState()
    while True:
        outcome = claims.run(
            _book_chunk(caller, series_id, chunk, capacity, hold_cap, now),
            booking_id="",
            quantity=chunk[0].quantity,
            capacity=capacity,
            now_epoch=int(now.timestamp()),
            state=state,
            expire_separately=lambda ids: expire_each(ids, now),
        )
        if isinstance(outcome, claims.Committed):
            return
        collided = {f.tag.key for f in outcome.failed.of_kind("reference")}
        if not collided:
            claims.refuse(outcome.failed)
        for index, booking in enumerate(chunk):
            if booking.reference in collided:
                chunk[index] = booking.model_copy(update={"reference": references.new_reference()})


def _roll_back(caller: Caller, series_id: str, chunks: list[list[Booking]], now: datetime) -> None:
    """Undo committed chunks, one transaction each (deleting costs a chunk what booking it did, evictions aside)."""
    for chunk in chunks:
        tx = Transaction()
        for booking in chunk:
            delete_booking(tx, booking)
            tx.delete_key(Tag("reference", booking.reference), f"REF#{booking.reference}", "REF")
            release_all(tx, booking)
            add_status_change(tx, booking, None)
        tx.audit(
            audit.entry(
                caller, "series.rollback", "series", series_id, at=now, detail={"bookingIds": [b.id for b in chunk]}
            )
        )
        charge_request(tx)
        execute(tx)


def create_series(caller: Caller, data: RecurringCreate, now: datetime | None = None) -> dict[str, Any]:
    now = now or now_utc()
    permissions.require(caller, "booking.create")
    customer = access.customer_for(caller, data.customer_id, data.created_by)
    resource = access.resource_visible(caller, bookable_resource(data.resource_id), data.resource_id)
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
        new_booking(
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
    committed: list[list[Booking]] = []
    skipped: list[dict[str, Any]] = [p.as_json() for p in blocked]
    for planned_chunk in _chunks(caller, series_id, bookings, resource.capacity, hold_cap, now):
        chunk = planned_chunk
        while chunk:
            try:
                _claim_chunk(caller, series_id, chunk, resource.capacity, hold_cap, now)
                committed.append(chunk)
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
    created = [booking for chunk in committed for booking in chunk]
    occurrences = {str(b.occurrence_date): b.id for b in created}
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
                "created": len(created),
                "skipped": len(skipped),
            },
        )
    )
    charge_request(tx)
    execute(tx)
    return {"seriesId": series_id, "created": created, "conflicts": skipped}
