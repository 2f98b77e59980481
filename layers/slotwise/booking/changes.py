"""The steps booking use cases share: a new version of a booking, the items of a new booking and its claims,
the counters a status change moves, and committing a change that claims nothing.

Every state-changing transaction carries its audit entry, the status counters it moves and the hold counters of
the users whose holds it opens or closes (`slotwise.transaction`); a booking write made for an API request also
takes the request's quota token in the same transaction (`charge_request`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slotwise import errors, ratelimit
from slotwise.booking import claims, inventory, store
from slotwise.booking.models import EXPIRING, TRANSITIONS, Booking, HistoryEntry
from slotwise.transaction import Tag, Transaction, TransactionFailed, execute


def charge_request(tx: Transaction) -> None:
    """Take the current API request's quota token in this transaction, if one is still to be paid
    (`slotwise.ratelimit.QuotaCharge`: over the limit, 429 and nothing is written)."""
    tx.charge_quota(ratelimit.pending_charge())


def require_transition(booking: Booking, target: str) -> None:
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


def add_new_booking(tx: Transaction, booking: Booking, *, hold_cap: int | None = None) -> None:
    """The booking and its reference, both only if new: a reference is unique by this condition alone. A booking
    that holds inventory until a deadline counts toward its creator's active holds, refused beyond `hold_cap`."""
    tx.put_new(Tag("booking", booking.id), store.booking_item(booking))
    tx.put_new(
        Tag("reference", booking.reference),
        {"PK": f"REF#{booking.reference}", "SK": "REF", "type": "reference", "bookingId": booking.id},
    )
    store.move_status(tx, None, booking.status)
    if store.opens_hold(booking):
        tx.holds(booking.created_by, 1, hold_cap)


def add_claims(tx: Transaction, booking: Booking, keys: list[str], state: claims.ClaimState, capacity: int) -> None:
    for key in keys:
        inventory.claim(
            tx,
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


def add_evictions(tx: Transaction, state: claims.ClaimState, now: datetime) -> list[str]:
    """Mark the lapsed holds this claim evicts `expired`, closing their counters; returns their ids."""
    evicted = state.evicted_bookings()
    for booking_id, holder in evicted.items():
        store.expire_evicted(tx, booking_id, holder.expires_epoch, now.isoformat())
        if holder.user is not None and holder.status is not None:
            tx.holds(holder.user, -1)
            store.move_status(tx, holder.status, "expired")
    return sorted(evicted)


def add_status_change(tx: Transaction, before: Booking, after_status: str | None) -> None:
    """Counters of a booking leaving `before.status` (for `after_status`, or deleted when None)."""
    store.move_status(tx, before.status, after_status)
    if store.opens_hold(before) and after_status not in EXPIRING:
        tx.holds(before.created_by, -1)


def release_all(tx: Transaction, booking: Booking) -> None:
    """Release every slot and add-on stock claim of a booking that holds them all (cancelled, deleted)."""
    for key in booking.lock_keys:
        inventory.release(tx, booking.resource_id, key, booking_id=booking.id, quantity=booking.quantity)
    for claim in booking.stock_claims:
        inventory.release(
            tx, booking.resource_id, claim.key, booking_id=booking.id, quantity=claim.quantity, stock=True
        )


def commit(tx: Transaction, booking_id: str) -> None:
    """A state change that claims nothing: a failed condition means someone moved the booking first."""
    try:
        execute(tx)
    except TransactionFailed as failed:
        if failed.only_contention:
            raise errors.Conflict(
                "The booking is being changed by another request; retry.", code="booking_busy"
            ) from failed
        raise errors.Conflict(
            f"Booking {booking_id} changed meanwhile; fetch it again.", code="version_conflict"
        ) from failed
