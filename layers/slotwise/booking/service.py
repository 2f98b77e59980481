"""Booking use cases. Each state change is one TransactWriteItems; reads come first, writes are conditional.

Every use case starts with the permission table (`permissions.require`), then the object-level rules
(`access`). Each state-changing transaction carries its audit entry, the status counters it moves and the hold
counters of the users whose holds it opens or closes (see `slotwise.booking.store`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slotwise import errors, ratelimit
from slotwise.audit import log as audit
from slotwise.booking import access, claims, references, rules, store, timers
from slotwise.booking.models import (
    EXPIRING,
    HOLDING,
    TRANSITIONS,
    Booking,
    BookingCreate,
    BookingStatus,
    BookingTimes,
    BookingUpdate,
    Cancellation,
    HistoryEntry,
    Price,
    SentReminder,
)
from slotwise.booking.references import normalise
from slotwise.booking.store import Tag, Transaction, TransactionFailed
from slotwise.cache import TtlCache
from slotwise.catalog import repository as catalog
from slotwise.catalog.models import Resource
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.payments import ledger
from slotwise.payments.models import RefundDestination

IDEMPOTENCY_TTL = timedelta(hours=24)
# Booking reads a resource's rules and capacity on every claim; a warm function keeps them this long, so a
# catalog change (capacity, hours, price) reaches new bookings within these seconds.
RESOURCE_CACHE_SECONDS = 10.0
_resources: TtlCache[Resource] = TtlCache(RESOURCE_CACHE_SECONDS)


@dataclass(frozen=True)
class Created:
    booking: Booking
    replayed: bool = False


def now_utc() -> datetime:
    return datetime.now(UTC)


def bookable_resource(resource_id: str) -> Resource:
    resource = _resources.get(resource_id, lambda: catalog.get_resource(resource_id))
    if resource is None:
        raise errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")
    return resource


def window_of(resource: Resource, times: BookingTimes) -> rules.Window:
    return rules.window_for(
        resource, start=times.start_time, end=times.end_time, check_in=times.check_in, check_out=times.check_out
    )


def initial_status(resource: Resource) -> BookingStatus:
    return {"auto": "confirmed", "approval": "awaiting_approval", "payment": "held"}[resource.policy.confirmation]  # type: ignore[return-value]


def price_of(resource: Resource, window: rules.Window, quantity: int) -> Price:
    return Price.model_validate(_quote_json(rules.quote(resource, window, quantity)))


def _quote_json(quote: rules.PriceQuote) -> dict[str, Any]:
    return {
        "currency": quote.currency,
        "amount": quote.amount,
        "quantity": quote.quantity,
        "lines": [
            {"description": line.description, "unitPrice": line.unit_price, "units": line.units, "amount": line.amount}
            for line in quote.lines
        ],
    }


def _local(resource: Resource, value: datetime) -> datetime:
    return value.astimezone(resource.zone)


def new_booking(
    resource: Resource,
    window: rules.Window,
    data: BookingCreate,
    *,
    customer_id: str,
    created_by: str,
    now: datetime,
    series_id: str | None = None,
    request_id: str | None = None,
) -> Booking:
    status = initial_status(resource)
    expires = now + timedelta(seconds=resource.policy.hold_ttl_seconds) if status in EXPIRING else None
    return Booking(
        id=str(uuid.uuid4()),
        reference=references.new_reference(),
        resource_id=resource.id,
        resource_name=resource.name,
        resource_type=resource.type,
        venue_id=resource.venue_id,
        vendor_id=resource.owner_id,
        customer_id=customer_id,
        created_by=created_by,
        timezone=resource.timezone,
        start_time=_local(resource, window.start),
        end_time=_local(resource, window.end),
        check_in=window.check_in,
        check_out=window.check_out,
        quantity=data.quantity,
        lock_keys=rules.lock_keys(resource, window),
        status=status,
        expires_at=expires,
        price=price_of(resource, window, data.quantity),
        title=data.title,
        description=data.description,
        attendees=data.attendees,
        guests=data.guests,
        metadata=data.metadata,
        series_id=series_id,
        occurrence_date=_local(resource, window.start).date() if series_id else None,
        history=[HistoryEntry(at=now, by=created_by, action="created")],
        request_id=request_id,
        reminder_minutes=list(resource.policy.reminder_minutes),
        cancellation_policy=resource.policy.cancellation,
        created_at=now,
        updated_at=now,
    )


def add_claims(tx: Transaction, booking: Booking, keys: list[str], state: claims.ClaimState, capacity: int) -> None:
    for key in keys:
        tx.claim(
            booking.resource_id,
            key,
            booking_id=booking.id,
            quantity=booking.quantity,
            capacity=capacity,
            expires_epoch=booking.expires_epoch,
            evict=state.evictions.get(key, ()),
            holder_user=booking.created_by,
            holder_status=booking.status,
        )


def add_new_booking(tx: Transaction, booking: Booking, *, hold_cap: int | None = None) -> None:
    """The booking and its reference, both only if new: a reference is unique by this condition alone. A booking
    that holds inventory until a deadline counts toward its creator's active holds, refused beyond `hold_cap`."""
    tx.put_new(Tag("booking", booking.id), store.booking_item(booking))
    tx.put_new(
        Tag("reference", booking.reference),
        {"PK": f"REF#{booking.reference}", "SK": "REF", "type": "reference", "bookingId": booking.id},
    )
    tx.move_status(None, booking.status)
    if store.opens_hold(booking):
        tx.holds(booking.created_by, 1, hold_cap)


def add_status_change(tx: Transaction, before: Booking, after_status: str | None) -> None:
    """Counters of a booking leaving `before.status` (for `after_status`, or deleted when None)."""
    tx.move_status(before.status, after_status)
    if store.opens_hold(before) and after_status not in EXPIRING:
        tx.holds(before.created_by, -1)


def add_evictions(tx: Transaction, state: claims.ClaimState, now: datetime) -> list[str]:
    """Mark the lapsed holds this claim evicts `expired`, closing their counters; returns their ids."""
    evicted = state.evicted_bookings()
    for booking_id, holder in evicted.items():
        tx.expire_evicted(booking_id, holder.expires_epoch, now.isoformat())
        if holder.user is not None and holder.status is not None:
            tx.holds(holder.user, -1)
            tx.move_status(holder.status, "expired")
    return sorted(evicted)


def _request_hash(caller: Caller, data: BookingCreate) -> str:
    canonical = json.dumps([caller.user_id, data.model_dump(mode="json")], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _idempotency_pk(caller: Caller, key: str) -> str:
    return f"IDEMP#{caller.user_id}#{key}"


def _claim(
    build: claims.Build,
    booking: Booking,
    resource: Resource,
    now: datetime,
    on_other_failure: claims.OnOtherFailure,
) -> None:
    """The claim loop for one booking's inventory (create and reschedule share every argument but these)."""
    claims.run(
        build,
        booking_id=booking.id,
        quantity=booking.quantity,
        capacity=resource.capacity,
        now_epoch=int(now.timestamp()),
        on_other_failure=on_other_failure,
        expire_separately=lambda ids: expire_each(ids, now),
    )


def create_booking(
    caller: Caller, data: BookingCreate, *, idempotency_key: str | None = None, now: datetime | None = None
) -> Created:
    now = now or now_utc()
    permissions.require(caller, "booking.create")
    customer = access.customer_for(caller, data.customer_id, data.created_by)
    resource = access.resource_visible(caller, bookable_resource(data.resource_id), data.resource_id)
    window = window_of(resource, data)
    rules.check_policy(resource, window, data.quantity, now)
    booking = new_booking(
        resource,
        window,
        data,
        customer_id=customer,
        created_by=caller.user_id or customer,
        now=now,
        request_id=caller.request_id,
    )
    request_hash = _request_hash(caller, data)
    cap = ratelimit.active_hold_cap(caller)
    if booking.status in EXPIRING:
        # Holds are the expensive, abusable writes (OWASP API6): they take a token before the transaction, so
        # requests refused earlier (403, 404, 422) spend none, and a firm booking stays one write call.
        ratelimit.booking_write(caller)

    def build(state: claims.ClaimState) -> Transaction:
        tx = Transaction()
        add_new_booking(tx, booking, hold_cap=cap)
        if idempotency_key:
            tx.put_new(
                Tag("idempotency", idempotency_key),
                {
                    "PK": _idempotency_pk(caller, idempotency_key),
                    "SK": "IDEMP",
                    "type": "idempotency",
                    "bookingId": booking.id,
                    "requestHash": request_hash,
                    "ttl": int((now + IDEMPOTENCY_TTL).timestamp()),
                },
            )
        add_claims(tx, booking, booking.lock_keys, state, resource.capacity)
        evicted = add_evictions(tx, state, now)
        tx.audit(
            audit.entry(
                caller,
                "booking.create",
                "booking",
                booking.id,
                at=now,
                detail={
                    "resourceId": booking.resource_id,
                    "customerId": booking.customer_id,
                    "status": booking.status,
                    "reference": booking.reference,
                    "evicted": evicted or None,
                },
            )
        )
        return tx

    replay: list[Booking] = []

    def on_other_failure(failed: TransactionFailed) -> bool:
        nonlocal booking
        if failed.of_kind("idempotency") and idempotency_key:
            replay.append(_replayed(caller, idempotency_key, request_hash))
            raise _Replayed
        if failed.of_kind("reference"):
            booking = booking.model_copy(update={"reference": references.new_reference()})
            return True
        return False

    try:
        _claim(build, booking, resource, now, on_other_failure)
    except _Replayed:
        return Created(replay[0], replayed=True)
    return Created(booking)


class _Replayed(Exception):
    """The Idempotency-Key was used before with this request: answer with the booking it made."""


def _replayed(caller: Caller, key: str, request_hash: str) -> Booking:
    record = store.get_plain(_idempotency_pk(caller, key), "IDEMP")
    if record is None:  # expired between the failed condition and this read: treat as contention
        raise errors.Conflict("The Idempotency-Key is being used by a request in flight.", code="idempotency_in_flight")
    if record["requestHash"] != request_hash:
        raise errors.ValidationFailed(
            "This Idempotency-Key was used with a different request; use a new key for a new booking.",
            code="idempotency_key_reused",
        )
    booking = store.get_booking(record["bookingId"])
    if booking is None:
        raise errors.NotFound("The booking this key created no longer exists.", code="booking_not_found")
    return booking


def get_booking(caller: Caller, booking_id: str) -> Booking:
    permissions.require(caller, "booking.read")
    return access.visible(caller, store.get_booking(booking_id, consistent=False), booking_id)


def get_by_reference(caller: Caller, code: str) -> Booking:
    permissions.require(caller, "booking.read")
    reference = normalise(code)
    record = store.get_plain(f"REF#{reference}", "REF") if reference else None
    if record is None:
        raise errors.NotFound(f"No booking with reference {code}.", code="booking_not_found")
    return get_booking(caller, record["bookingId"])


def _require_transition(booking: Booking, target: str) -> None:
    if target not in TRANSITIONS.get(booking.status, frozenset()):
        raise errors.Conflict(
            f"A {booking.status} booking cannot become {target}.",
            code="invalid_transition",
            extra={"bookingStatus": booking.status},
        )


def next_version(
    booking: Booking, *, by: str | None, action: str, now: datetime, request_id: str | None = None, **changes: Any
) -> Booking:
    """The booking with `changes`, its version raised and the change in its history (one domain event each)."""
    history = [*booking.history, HistoryEntry(at=now, by=by, action=action, note=changes.pop("note", ""))]
    bumped = {"version": booking.version + 1, "updated_at": now, "history": history, "request_id": request_id}
    return booking.model_copy(update={**changes, **bumped})


def _commit(tx: Transaction, booking_id: str) -> None:
    """A state change that claims nothing: a failed condition means someone moved the booking first."""
    try:
        store.execute(tx)
    except TransactionFailed as failed:
        if failed.only_contention:
            raise errors.Conflict(
                "The booking is being changed by another request; retry.", code="booking_busy"
            ) from failed
        raise errors.Conflict(
            f"Booking {booking_id} changed meanwhile; fetch it again.", code="version_conflict"
        ) from failed


def _release_all(tx: Transaction, booking: Booking) -> None:
    for key in booking.lock_keys:
        tx.release(booking.resource_id, key, booking_id=booking.id, quantity=booking.quantity)


def cancel_booking(
    caller: Caller,
    booking_id: str,
    reason: str = "",
    now: datetime | None = None,
    *,
    refund_to: RefundDestination | None = None,
) -> Booking:
    """Cancel and release the inventory; a paid booking is refunded by its cancellation policy in the same
    transaction (everything when its vendor, advisor or an admin cancels), an unpaid one's open payment voided."""
    now = now or now_utc()
    permissions.require(caller, "booking.cancel")
    booking = access.changeable(caller, store.get_booking(booking_id), booking_id)
    if booking.status == "payment_pending":
        raise errors.Conflict(
            "A payment for this booking is on its way; cancel it once the payment has settled.",
            code="payment_pending",
        )
    _require_transition(booking, "cancelled")
    tx = Transaction()
    effects = ledger.Effects()
    by_provider = caller.user_id not in (booking.customer_id, booking.created_by)
    payment = ledger.cancellation_refund(
        tx, booking, by_provider=by_provider, refund_to=refund_to, now=now, effects=effects
    )
    ledger.release_open_payment(tx, booking, "booking_cancelled", now, effects)
    after = next_version(
        booking,
        by=caller.user_id,
        request_id=caller.request_id,
        action="cancelled",
        now=now,
        status="cancelled",
        expires_at=None,
        cancellation=Cancellation(reason=reason, at=now, by=caller.user_id),
        payment=payment,
        note=reason,
    )
    tx.replace_booking(booking, after)
    _release_all(tx, booking)
    add_status_change(tx, booking, "cancelled")
    refunded = [{"id": r.id, "amount": r.amount, "to": r.destination} for r in effects.refunds]
    tx.audit(
        audit.entry(
            caller,
            "booking.cancel",
            "booking",
            booking.id,
            at=now,
            detail={"from": booking.status, "reason": reason or None, "refunds": refunded or None},
        )
    )
    _commit(tx, booking_id)
    effects.run()
    return after


def _decidable(caller: Caller, booking_id: str) -> Booking:
    """A booking this caller decides on (its vendor, its advisor, an admin): 404 if unseen, 403 if only seen."""
    permissions.require(caller, "booking.decide")
    booking = store.get_booking(booking_id)
    resource = catalog.get_resource(booking.resource_id) if booking is not None else None
    booking = access.visible(caller, booking, booking_id, resource)
    access.require_decider(caller, booking, resource)
    return booking


def decide(caller: Caller, booking_id: str, *, approve: bool, reason: str = "", now: datetime | None = None) -> Booking:
    """Confirm (approval given, or payment taken by an operator) or reject a booking that waits on a decision."""
    now = now or now_utc()
    booking = _decidable(caller, booking_id)
    target = "confirmed" if approve else "rejected"
    if booking.status not in EXPIRING:
        raise errors.Conflict(
            f"A {booking.status} booking is not waiting for a decision.",
            code="invalid_transition",
            extra={"bookingStatus": booking.status},
        )
    _require_transition(booking, target)
    if booking.expires_at is not None and booking.expires_at <= now:
        raise errors.Conflict("The hold expired before the decision; the slot may be gone.", code="hold_expired")
    after = next_version(
        booking,
        by=caller.user_id,
        request_id=caller.request_id,
        action=target,
        now=now,
        status=target,
        expires_at=None,
        note=reason,
    )
    tx = Transaction()
    tx.replace_booking(booking, after)
    for key in booking.lock_keys:
        if approve:
            tx.set_expiry(booking.resource_id, key, booking_id=booking.id, expires_epoch=0)
        else:
            tx.release(booking.resource_id, key, booking_id=booking.id, quantity=booking.quantity)
    add_status_change(tx, booking, target)
    tx.audit(
        audit.entry(
            caller,
            "booking.confirm" if approve else "booking.reject",
            "booking",
            booking.id,
            at=now,
            detail={"from": booking.status, "reason": reason or None},
        )
    )
    _commit(tx, booking_id)
    return after


def update_details(
    caller: Caller,
    booking_id: str,
    data: BookingUpdate,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Booking:
    now = now or now_utc()
    permissions.require(caller, "booking.update")
    booking = access.changeable(caller, store.get_booking(booking_id), booking_id)
    if expected_version is not None and expected_version != booking.version:
        raise errors.Conflict("The booking changed since that version.", code="version_conflict")
    if booking.status not in HOLDING:
        raise errors.Conflict(f"A {booking.status} booking cannot be edited.", code="invalid_transition")
    # Only the fields the caller sent change; the others keep their values.
    changes = data.model_dump(exclude_unset=True)
    after = next_version(booking, by=caller.user_id, request_id=caller.request_id, action="updated", now=now, **changes)
    tx = Transaction()
    tx.replace_booking(booking, after)
    tx.audit(audit.entry(caller, "booking.update", "booking", booking.id, at=now, detail={"fields": sorted(changes)}))
    _commit(tx, booking_id)
    return after


def reschedule(
    caller: Caller, booking_id: str, times: BookingTimes, *, reason: str = "", now: datetime | None = None
) -> Booking:
    """Move a booking: release what it no longer covers and claim what it newly covers, in one transaction."""
    now = now or now_utc()
    permissions.require(caller, "booking.update")
    booking = access.changeable(caller, store.get_booking(booking_id), booking_id)
    if booking.status not in HOLDING:
        raise errors.Conflict(f"A {booking.status} booking cannot be rescheduled.", code="invalid_transition")
    resource = bookable_resource(booking.resource_id)
    window = window_of(resource, times)
    rules.check_policy(resource, window, booking.quantity, now)
    keys = rules.lock_keys(resource, window)
    if booking.status in EXPIRING:
        ratelimit.booking_write(caller)
    old, new = set(booking.lock_keys), set(keys)
    entry = HistoryEntry(
        at=now,
        by=caller.user_id,
        action="rescheduled",
        from_start=booking.start_time,
        from_end=booking.end_time,
        to_start=_local(resource, window.start),
        to_end=_local(resource, window.end),
        note=reason,
    )
    after = booking.model_copy(
        update={
            "start_time": _local(resource, window.start),
            "end_time": _local(resource, window.end),
            "check_in": window.check_in,
            "check_out": window.check_out,
            "lock_keys": keys,
            "price": price_of(resource, window, booking.quantity),
            "version": booking.version + 1,
            "updated_at": now,
            "history": [*booking.history, entry],
            "request_id": caller.request_id,
            # New times, new reminders.
            "timers_done": [],
        }
    )

    def build(state: claims.ClaimState) -> Transaction:
        tx = Transaction()
        tx.replace_booking(booking, after)
        for key in sorted(old - new):
            tx.release(booking.resource_id, key, booking_id=booking.id, quantity=booking.quantity)
        add_claims(tx, after, sorted(new - old), state, resource.capacity)
        evicted = add_evictions(tx, state, now)
        tx.audit(
            audit.entry(
                caller,
                "booking.reschedule",
                "booking",
                booking.id,
                at=now,
                detail={
                    "fromStart": booking.start_time.isoformat(),
                    "toStart": after.start_time.isoformat(),
                    "reason": reason or None,
                    "evicted": evicted or None,
                },
            )
        )
        return tx

    def on_other_failure(failed: TransactionFailed) -> bool:
        if failed.of_kind("booking"):
            raise errors.Conflict(
                f"Booking {booking_id} changed meanwhile; fetch it again.", code="version_conflict"
            ) from failed
        return False

    _claim(build, booking, resource, now, on_other_failure)
    return after


SWEEPER = "hold-expiry"


def expire_one(booking_id: str, now: datetime, job: str = SWEEPER) -> bool:
    """Expire one lapsed hold and release what it still holds, in one transaction; False if it is not one."""
    booking = store.get_booking(booking_id)
    if booking is None or booking.status not in EXPIRING or booking.expires_at is None:
        return False
    if booking.expires_at > now:
        return False
    holders = store.slot_holders(booking.resource_id, booking.lock_keys, booking.id)
    after = next_version(booking, by=None, action="expired", now=now, status="expired")
    tx = Transaction()
    effects = ledger.Effects()
    ledger.release_open_payment(tx, booking, "hold_expired", now, effects)
    tx.replace_booking(booking, after)
    for key in booking.lock_keys:
        if key in holders:  # a claimant may already have evicted it from some keys
            tx.release(booking.resource_id, key, booking_id=booking.id, quantity=booking.quantity)
    add_status_change(tx, booking, "expired")
    tx.audit(audit.system_entry(job, "booking.expire", "booking", booking.id, at=now, detail={"from": booking.status}))
    try:
        store.execute(tx)
    except TransactionFailed:
        return False  # confirmed, cancelled or reclaimed meanwhile: the next sweep sees the new truth
    effects.run()
    return True


def expire_each(booking_ids: list[str], now: datetime) -> None:
    """Expire lapsed holds one transaction each (a claim that would evict too many at once calls this first)."""
    for booking_id in booking_ids:
        expire_one(booking_id, now, job="claim")


def expire_lapsed(now: datetime | None = None, limit: int = 100) -> int:
    """The sweeper: release holds whose deadline passed and that no claimant has reclaimed yet."""
    now = now or now_utc()
    return sum(expire_one(booking_id, now) for booking_id in store.lapsed_holds(int(now.timestamp()), limit=limit))


NO_SHOW_WINDOW = timedelta(days=30)


def mark_no_show(caller: Caller, booking_id: str, *, reason: str = "", now: datetime | None = None) -> Booking:
    """The customer did not come: only its decider (vendor, advisor, admin), once it has started, within 30 days
    of its end. The inventory stays claimed: the time was held for them."""
    now = now or now_utc()
    booking = _decidable(caller, booking_id)
    _require_transition(booking, "no_show")
    if now < booking.start_time:
        raise errors.Conflict("A booking that has not started cannot be a no-show.", code="not_started")
    if now > booking.end_time + NO_SHOW_WINDOW:
        raise errors.Conflict("No-shows are marked within 30 days of the end.", code="too_late")
    after = next_version(
        booking,
        by=caller.user_id,
        request_id=caller.request_id,
        action="no_show",
        now=now,
        status="no_show",
        note=reason,
    )
    tx = Transaction()
    tx.replace_booking(booking, after)
    add_status_change(tx, booking, "no_show")
    detail = {"from": booking.status, "reason": reason or None}
    tx.audit(audit.entry(caller, "booking.no_show", "booking", booking.id, at=now, detail=detail))
    _commit(tx, booking_id)
    return after


TIMERS_JOB = "booking-timers"


def handle_timer(booking_id: str, now: datetime) -> str | None:
    """Act on a booking's due deadline, if it still is one: `reminder`, `complete`, `skipped` or None (nothing)."""
    booking = store.get_booking(booking_id)
    if booking is None:
        return None
    skipped, timer = timers.due_now(booking, now)
    if timer is None and not skipped:
        return None
    done = [*booking.timers_done, *skipped]
    tx = Transaction()
    if timer is not None and timer.kind == timers.COMPLETE:
        after = next_version(booking, by=None, action="completed", now=now, status="completed")
        after = after.model_copy(update={"timers_done": [*done, timers.COMPLETE]})
        tx.replace_booking(booking, after)
        add_status_change(tx, booking, "completed")
        tx.audit(audit.system_entry(TIMERS_JOB, "booking.complete", "booking", booking.id, at=now))
        outcome = "complete"
    elif timer is not None and timer.reminder_minutes is not None:
        sent = SentReminder(minutes=timer.reminder_minutes, at=now)
        after = booking.model_copy(update={"timers_done": [*done, timer.kind], "last_reminder": sent})
        tx.mark_timers(booking, after)
        detail = {"minutes": timer.reminder_minutes, "skipped": skipped or None}
        tx.audit(audit.system_entry(TIMERS_JOB, "booking.remind", "booking", booking.id, at=now, detail=detail))
        outcome = "reminder"
    else:
        tx.mark_timers(booking, booking.model_copy(update={"timers_done": done}))
        outcome = "skipped"
    try:
        store.execute(tx)
    except TransactionFailed:
        return None  # changed meanwhile (cancelled, rescheduled, or another run got there): the next run decides
    return outcome


def run_timers(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """The timers job: every confirmed booking whose next reminder or completion has come."""
    now = now or now_utc()
    outcomes: dict[str, int] = {}
    for booking_id in store.due_timers(int(now.timestamp()), limit=limit):
        outcome = handle_timer(booking_id, now)
        if outcome is not None:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _listing(
    caller: Caller, user: str, resource_id: str | None, customer_id: str | None, created_by: str | None
) -> tuple[str, str]:
    """The index and partition a listing reads, once the caller may read it."""
    if created_by is not None and (resource_id is not None or customer_id is not None):
        raise errors.ValidationFailed(
            "createdBy cannot be combined with resourceId or customerId.", code="conflicting_filters"
        )
    if resource_id is not None:
        resource = bookable_resource(resource_id)
        if not (
            access.manages_resource(caller, resource)
            or access.advises(caller, resource)
            or permissions.allows(caller, "booking.view_any")
        ):
            raise errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")
        return "GSI2", f"RESBOOK#{resource_id}"
    if created_by is not None:
        creator = user if created_by == "me" else created_by
        if creator != user and not permissions.allows(caller, "booking.view_any"):
            raise errors.PermissionDenied("Only admins list the bookings someone else made.")
        return "GSI4", f"CREATOR#{creator}"
    if customer_id is not None and customer_id != user:
        if not permissions.allows(caller, "booking.view_any"):
            raise errors.PermissionDenied("Only admins list another customer's bookings.")
        return "GSI1", f"USER#{customer_id}"
    if customer_id is None and caller.role == "agent":
        # Agents book for others: by default they see what they made (their own as customer: customerId=<self>).
        return "GSI4", f"CREATOR#{user}"
    return "GSI1", f"USER#{user}"


def list_bookings(
    caller: Caller,
    *,
    resource_id: str | None = None,
    customer_id: str | None = None,
    created_by: str | None = None,
    status: str | None = None,
    frm: datetime | None = None,
    to: datetime | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Booking], str | None]:
    """By start time: a customer's own bookings, those a user made for others (`created_by`, "me" or an id; an
    agent's default), or a resource's bookings for its vendor, its advisor or an admin."""
    permissions.require(caller, "booking.read")
    user = access.require_user(caller)
    index, partition = _listing(caller, user, resource_id, customer_id, created_by)
    low, high = store.sort_range(frm, to)
    bookings, last = store.query_bookings(
        index, partition, low=low, high=high, limit=limit, start_key=decode_cursor(cursor)
    )
    if status is not None:
        bookings = [b for b in bookings if b.status == status]
    return bookings, encode_cursor(last)
