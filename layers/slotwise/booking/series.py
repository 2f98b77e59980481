"""Booking a recurring series: an RRULE expanded in the resource's wall-clock time, claimed all-or-nothing or
skipping conflicts (per-date exceptions and cancellation from a date on: `slotwise.booking.series_changes`).

A series larger than one transaction is claimed in chunks (each occurrence's add-on stock with it: stock keys are
claimed like slots, `slotwise.booking.addons`); all-or-nothing rolls committed chunks back if a later
one loses a race, so a failed series leaves no booking behind.

Audit: every transaction carries its entry, all on target `series:<id>`: `series.book` per committed chunk (with
its booking ids), `series.rollback` per rolled-back chunk, `series.create` with the series item, and
`series.exception` with each exception recorded. Each occurrence of a held series counts as one active hold.

Idempotency-Key: the key's record (`IDEMP#<caller>#<key>`, pointing at the series) is put, conditionally, in the
first chunk that commits (or, when none did, with the series item), so two tries of one request never both book.
A key seen before answers with that series (`replayed`), a key used with another request 422, and a key whose
series is still being written 409 `idempotency_in_flight`. A rolled-back series deletes its key with the chunk.

Longer than 400 lines because the chunked claim, its rollback, the Idempotency-Key's record and the series read all
follow one write protocol (which chunk carries what, and the series item written last); split, each half would
have to restate it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from slotwise import errors, ratelimit
from slotwise.audit import log as audit
from slotwise.booking import access, addons, availability, claims, policy, recurrence, references, store
from slotwise.booking.changes import (
    add_claims,
    add_evictions,
    add_new_booking,
    add_status_change,
    charge_request,
    release_all,
)
from slotwise.booking.create import IDEMPOTENCY_TTL, idempotency_pk, new_booking, request_hash
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
from slotwise.organisations import service as organisations
from slotwise.transaction import MAX_TRANSACTION_ITEMS, Tag, Transaction, TransactionFailed, execute

# No add-on stock to claim.
NO_STOCK: claims.StockLimits = MappingProxyType({})

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
    tx: Transaction,
    booking: Booking,
    capacity: int,
    hold_cap: int | None,
    state: claims.ClaimState,
    stock: claims.StockLimits = NO_STOCK,
) -> None:
    add_new_booking(tx, booking, hold_cap=hold_cap)
    add_claims(tx, booking, booking.lock_keys, state, capacity)
    addons.add_stock_claims(tx, booking, booking.stock_claims, state, stock)


class _Replay(Exception):
    """The Idempotency-Key's record exists: another try of this request (or another request) got there first."""


def _book_chunk(
    caller: Caller,
    series_id: str,
    chunk: list[Booking],
    capacity: int,
    hold_cap: int | None,
    now: datetime,
    idempotency: dict[str, Any] | None = None,
    stock: claims.StockLimits = NO_STOCK,
) -> claims.Build:
    """The transaction that books one chunk, given what earlier attempts learned (and the key's record, if it is
    the first chunk to commit)."""

    def build(state: claims.ClaimState) -> Transaction:
        tx = Transaction()
        if idempotency is not None:
            tx.put_new(Tag("idempotency", idempotency["key"]), idempotency["item"])
        for booking in chunk:
            _add_occurrence(tx, booking, capacity, hold_cap, state, stock)
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
    caller: Caller,
    series_id: str,
    bookings: list[Booking],
    capacity: int,
    hold_cap: int | None,
    now: datetime,
    key: dict[str, Any] | None = None,
    stock: claims.StockLimits = NO_STOCK,
) -> list[list[Booking]]:
    """Consecutive bookings per transaction: as many as the transaction's own count allows with EVICTION_ROOM
    to spare (a booking too big for that alone still gets a chunk; `execute` refuses anything over 100)."""
    chunks: list[list[Booking]] = []
    trial = Transaction()
    for booking in bookings:
        if chunks:
            _add_occurrence(trial, booking, capacity, hold_cap, claims.ClaimState(), stock)
            if trial.size() <= MAX_TRANSACTION_ITEMS - EVICTION_ROOM:
                chunks[-1].append(booking)
                continue
        # The booking opens a chunk: a transaction with it alone and the side items every chunk carries.
        # The first chunk also carries the Idempotency-Key's record.
        first_key = key if not chunks else None
        trial = _book_chunk(caller, series_id, [booking], capacity, hold_cap, now, first_key, stock)(
            claims.ClaimState()
        )
        chunks.append([booking])
    return chunks


def _claim_chunk(
    caller: Caller,
    series_id: str,
    chunk: list[Booking],
    resource: Resource,
    hold_cap: int | None,
    now: datetime,
    idempotency: dict[str, Any] | None = None,
    stock: claims.StockLimits = NO_STOCK,
) -> None:
    """Book one chunk; a reference that collided is drawn again (in place) and the claim goes on."""
    state = claims.ClaimState()
    capacity = resource.capacity
    while True:
        outcome = claims.run(
            _book_chunk(caller, series_id, chunk, capacity, hold_cap, now, idempotency, stock),
            resource=resource,
            booking_id="",
            quantity=chunk[0].quantity,
            capacity=capacity,
            now_epoch=int(now.timestamp()),
            state=state,
            expire_separately=lambda ids: expire_each(ids, now),
            stock=stock,
        )
        if isinstance(outcome, claims.Committed):
            return
        if idempotency is not None and outcome.failed.of_kind("idempotency"):
            raise _Replay from outcome.failed
        collided = {f.tag.key for f in outcome.failed.of_kind("reference")}
        if not collided:
            claims.refuse(outcome.failed)
        for index, booking in enumerate(chunk):
            if booking.reference in collided:
                chunk[index] = booking.model_copy(update={"reference": references.new_reference()})


def _roll_back(
    caller: Caller, series_id: str, chunks: list[list[Booking]], now: datetime, idempotency: dict[str, Any] | None
) -> None:
    """Undo committed chunks, one transaction each (deleting costs a chunk what booking it did, evictions aside);
    the first also deletes the Idempotency-Key's record it wrote, so the request may be tried again."""
    for index, chunk in enumerate(chunks):
        tx = Transaction()
        if index == 0 and idempotency is not None:
            tx.delete_key(Tag("idempotency", idempotency["key"]), idempotency["item"]["PK"], "IDEMP")
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


def _idempotency(caller: Caller, key: str | None, series_id: str, hashed: str, now: datetime) -> dict[str, Any] | None:
    if not key:
        return None
    item = {
        "PK": idempotency_pk(caller, key),
        "SK": "IDEMP",
        "type": "idempotency",
        "seriesId": series_id,
        "requestHash": hashed,
        "ttl": int((now + IDEMPOTENCY_TTL).timestamp()),
    }
    return {"key": key, "item": item}


def _replayed(caller: Caller, key: str, hashed: str) -> dict[str, Any] | None:
    """What the key's earlier request made (None: the key is unused); 422 for another request, 409 in flight."""
    record = store.get_plain(idempotency_pk(caller, key), "IDEMP")
    if record is None:
        return None
    if record["requestHash"] != hashed or "seriesId" not in record:
        raise errors.ValidationFailed(
            "This Idempotency-Key was used with a different request; use a new key for a new booking.",
            code="idempotency_key_reused",
        )
    found = store.get_plain(f"SERIES#{record['seriesId']}", "SERIES")
    if found is None:
        raise errors.Conflict("The Idempotency-Key is being used by a request in flight.", code="idempotency_in_flight")
    return {
        "seriesId": found["id"],
        "created": _occurrences(found),
        "conflicts": found.get("conflicts", []),
        "replayed": True,
    }


def _occurrences(record: dict[str, Any]) -> list[Booking]:
    ids = list(record.get("occurrences", {}).values())
    found: list[Booking] = []
    for start in range(0, len(ids), 100):
        found.extend(store.get_bookings(ids[start : start + 100]))
    return sorted(found, key=lambda b: b.start_time or now_utc())


def get_series(caller: Caller, series_id: str) -> dict[str, Any]:
    """The series and its occurrences, for its customer, its creator (an agent), the resource's vendor and whoever
    may view any booking; anyone else is told it does not exist (404, like a missing one)."""
    permissions.require(caller, "booking.read")
    record = store.get_plain(f"SERIES#{series_id}", "SERIES")
    visible = record is not None and (
        permissions.allows(caller, "booking.view_any")
        or (
            caller.user_id is not None
            and (
                caller.user_id in {record["customerId"], record["createdBy"]}
                or organisations.same_organisation(caller, str(record["vendorId"]))
            )
        )
    )
    if record is None or not visible:
        raise errors.NotFound(f"No recurring booking {series_id}.", code="series_not_found")
    return {
        "id": record["id"],
        "resourceId": record["resourceId"],
        "customerId": record["customerId"],
        "createdBy": record["createdBy"],
        "vendorId": record["vendorId"],
        "recurrenceRule": record["recurrenceRule"],
        "mode": record["mode"],
        "timezone": record["timezone"],
        "status": record["status"],
        "exceptions": record.get("exceptions", []),
        "conflicts": record.get("conflicts", []),
        "createdAt": record["createdAt"],
        "occurrences": [b.public() for b in _occurrences(record)],
    }


def _distinct_references(bookings: list[Booking]) -> None:
    """Two operations on one item would void the whole transaction, so references are distinct within the series."""
    seen: set[str] = set()
    for index in range(len(bookings)):
        while bookings[index].reference in seen:
            bookings[index] = bookings[index].model_copy(update={"reference": references.new_reference()})
        seen.add(bookings[index].reference)


def _stock_limits(resource: Resource, bookings: list[Booking]) -> claims.StockLimits:
    """The stock every occurrence claims. Two occurrences holding one stock key (a per-day add-on on a series whose
    occurrences share a local day) are refused: one transaction may not touch an item twice."""
    wanted = [claim for booking in bookings for claim in booking.stock_claims]
    if len({claim.key for claim in wanted}) != len(wanted):
        raise errors.ValidationFailed(
            "Two occurrences of this series share a day, so they would share a per-day add-on's stock; "
            "book them separately or choose per-slot add-ons.",
            code="addon_stock_shared",
        )
    return addons.stock_limits(resource.id, wanted) if wanted else NO_STOCK


def _claim_all(
    caller: Caller,
    series_id: str,
    bookings: list[Booking],
    resource: Resource,
    mode: str,
    hold_cap: int | None,
    now: datetime,
    key: dict[str, Any] | None,
    skipped: list[dict[str, Any]],
    stock: claims.StockLimits = NO_STOCK,
) -> list[list[Booking]]:
    """Claim chunk after chunk: the committed chunks; occurrences lost meanwhile are added to `skipped`
    (skip_conflicts) or roll everything back (all_or_nothing). The key's record goes with the first commit."""
    committed: list[list[Booking]] = []
    for planned_chunk in _chunks(caller, series_id, bookings, resource.capacity, hold_cap, now, key, stock):
        chunk = planned_chunk
        while chunk:
            pending_key = key if not committed else None
            try:
                _claim_chunk(caller, series_id, chunk, resource, hold_cap, now, pending_key, stock)
                committed.append(chunk)
                break
            except claims.ActiveHoldsExceeded:
                _roll_back(caller, series_id, committed, now, key)
                raise
            except (claims.SlotUnavailable, claims.AddonUnavailable) as lost:
                if mode == "all_or_nothing":
                    _roll_back(caller, series_id, committed, now, key)
                    raise
                taken = lost.keys
                losers = [b for b in chunk if taken & {*b.lock_keys, *(c.key for c in b.stock_claims)}]
                skipped.extend(
                    {
                        "date": str(b.occurrence_date),
                        "available": False,
                        "startTime": iso(b.start_time),
                        "endTime": iso(b.end_time),
                        "reasons": [{"code": lost.code, "detail": "taken meanwhile"}],
                    }
                    for b in losers
                )
                chunk = [b for b in chunk if b not in losers]
    return committed


def create_series(
    caller: Caller, data: RecurringCreate, now: datetime | None = None, *, idempotency_key: str | None = None
) -> dict[str, Any]:
    """The series made: `seriesId`, `created` (bookings), `conflicts` (occurrences skipped) and `replayed` (the
    Idempotency-Key's earlier answer)."""
    now = now or now_utc()
    permissions.require(caller, "booking.create")
    customer = access.customer_for(caller, data.customer_id, data.created_by)
    resource = access.resource_visible(caller, bookable_resource(data.resource_id), data.resource_id)
    policy.check_guests(resource, data.guests)
    chosen = addons.chosen(resource, data.addons) if data.addons else None
    hashed = request_hash(caller, data)
    if idempotency_key:
        # Before planning: the slots the first try booked would otherwise look taken.
        earlier = _replayed(caller, idempotency_key, hashed)
        if earlier is not None:
            return earlier
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
    series_id = str(uuid.uuid4())
    key = _idempotency(caller, idempotency_key, series_id, hashed, now)
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
            chosen_addons=chosen,
        )
        for p in usable
    ]
    _distinct_references(bookings)
    stock = _stock_limits(resource, bookings)
    ratelimit.booking_write(caller)  # after every refusal that needs no write
    skipped: list[dict[str, Any]] = [p.as_json() for p in blocked]
    try:
        committed = _claim_all(caller, series_id, bookings, resource, data.mode, hold_cap, now, key, skipped, stock)
    except _Replay:
        # Another try of this key committed its first chunk meanwhile; nothing of ours was committed.
        return _replayed_or_in_flight(caller, idempotency_key, hashed)
    created = [booking for chunk in committed for booking in chunk]
    occurrences = {str(b.occurrence_date): b.id for b in created}
    tx = Transaction()
    if key is not None and not committed:
        tx.put_new(Tag("idempotency", key["key"]), key["item"])
    item = _series_item(series_id, resource, data, customer, caller, now, occurrences, "active")
    item["conflicts"] = skipped
    tx.put_new(Tag("other", series_id), item)
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
    try:
        execute(tx)
    except TransactionFailed as failed:
        if key is None or not failed.of_kind("idempotency"):
            raise
        return _replayed_or_in_flight(caller, idempotency_key, hashed)
    return {"seriesId": series_id, "created": created, "conflicts": skipped, "replayed": False}


def _replayed_or_in_flight(caller: Caller, key: str | None, hashed: str) -> dict[str, Any]:
    earlier = _replayed(caller, key, hashed) if key else None
    if earlier is None:  # the record lapsed or was rolled back between the condition and the read
        raise errors.Conflict("The Idempotency-Key is being used by a request in flight.", code="idempotency_in_flight")
    return earlier
