"""Moving a booking to new times: release what it no longer covers and claim what it newly covers, in one
transaction conditioned on the booking being as it was read. Add-on stock moves the same way: the stock keys of
the new times not held yet are claimed, those of the old times no longer needed released, in that transaction."""

from __future__ import annotations

from datetime import datetime

from slotwise import errors, ratelimit
from slotwise.audit import log as audit
from slotwise.booking import access, addons, claims, inventory, keys, policy, store
from slotwise.booking.changes import add_claims, add_evictions, charge_request
from slotwise.booking.deadlines import expire_each
from slotwise.booking.models import EXPIRING, HOLDING, Booking, BookingTimes, HistoryEntry
from slotwise.booking.pricing import price_of
from slotwise.booking.resources import bookable_resource
from slotwise.booking.windows import now_utc, window_of
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.transaction import Transaction


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
    policy.check_policy(resource, window, booking.quantity, now)
    policy.check_guests(resource, booking.guests)
    new_keys = keys.lock_keys(resource, window)
    new_stock = addons.stock_claims(resource, window, new_keys, booking.addons)
    old_stock_keys = {claim.key for claim in booking.stock_claims}
    to_claim = [claim for claim in new_stock if claim.key not in old_stock_keys]
    kept = {claim.key for claim in new_stock}
    to_release = [claim for claim in booking.stock_claims if claim.key not in kept]
    limits = addons.stock_limits(resource.id, to_claim) if to_claim else {}
    if booking.status in EXPIRING:
        ratelimit.booking_write(caller)
    old, new = set(booking.lock_keys), set(new_keys)
    start, end = window.start.astimezone(resource.zone), window.end.astimezone(resource.zone)
    entry = HistoryEntry(
        at=now,
        by=caller.user_id,
        action="rescheduled",
        from_start=booking.start_time,
        from_end=booking.end_time,
        to_start=start,
        to_end=end,
        note=reason,
    )
    after = booking.model_copy(
        update={
            "start_time": start,
            "end_time": end,
            "check_in": window.check_in,
            "check_out": window.check_out,
            "lock_keys": new_keys,
            "stock_claims": new_stock,
            # The add-ons keep the terms they were booked at; only what depends on the time (per unit) moves.
            "price": price_of(resource, window, booking.quantity, addons.choices(booking.addons), booking.guests),
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
        store.replace_booking(tx, booking, after)
        for key in sorted(old - new):
            inventory.release(tx, booking.resource_id, key, booking_id=booking.id, quantity=booking.quantity)
        add_claims(tx, after, sorted(new - old), state, resource.capacity)
        addons.release_stock(tx, booking, to_release)
        addons.add_stock_claims(tx, after, to_claim, state, limits)
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
        charge_request(tx)
        return tx

    outcome = claims.run(
        build,
        resource=resource,
        booking_id=booking.id,
        quantity=booking.quantity,
        capacity=resource.capacity,
        now_epoch=int(now.timestamp()),
        expire_separately=lambda ids: expire_each(ids, now),
        stock=limits,
    )
    if isinstance(outcome, claims.Refused):
        if outcome.failed.of_kind("booking"):
            raise errors.Conflict(
                f"Booking {booking_id} changed meanwhile; fetch it again.", code="version_conflict"
            ) from outcome.failed
        claims.refuse(outcome.failed)
    return after
