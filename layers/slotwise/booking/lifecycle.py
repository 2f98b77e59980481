"""A booking's life after creation, one transaction each: cancel (with its refund), confirm or reject a booking
waiting on a decision, mark a no-show, edit its details.

Every use case starts with the permission table (`permissions.require`), then the object-level rules (`access`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.booking import access, addons, inventory, policy, store
from slotwise.booking.changes import (
    add_status_change,
    charge_request,
    commit,
    next_version,
    release_all,
    require_transition,
)
from slotwise.booking.models import EXPIRING, HOLDING, Booking, BookingUpdate, Cancellation
from slotwise.booking.settlement import RefundDestination, settlement
from slotwise.booking.windows import now_utc
from slotwise.catalog import repository as catalog
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.transaction import Transaction

NO_SHOW_WINDOW = timedelta(days=30)


def cancel_booking(
    caller: Caller,
    booking_id: str,
    reason: str = "",
    now: datetime | None = None,
    *,
    refund_to: RefundDestination | None = None,
    notify_attendees: bool = True,
) -> Booking:
    """Cancel and release the inventory; a paid booking is refunded by its cancellation policy in the same
    transaction (everything when its vendor, advisor or an admin cancels), an unpaid one's open payment voided.
    `notify_attendees` is stored on the cancelled version, so its event tells the notifier whether to e-mail them."""
    now = now or now_utc()
    permissions.require(caller, "booking.cancel")
    booking = access.cancellable(caller, store.get_booking(booking_id), booking_id)
    if booking.status == "payment_pending":
        raise errors.Conflict(
            "A payment for this booking is on its way; cancel it once the payment has settled.",
            code="payment_pending",
        )
    require_transition(booking, "cancelled")
    tx = Transaction()
    by_provider = caller.user_id not in (booking.customer_id, booking.created_by)
    money = settlement().cancel(tx, booking, by_provider=by_provider, refund_to=refund_to, now=now)
    after = next_version(
        booking,
        by=caller.user_id,
        request_id=caller.request_id,
        action="cancelled",
        now=now,
        status="cancelled",
        expires_at=None,
        cancellation=Cancellation(reason=reason, at=now, by=caller.user_id),
        payment=money.payment,
        note=reason,
        notify_attendees=notify_attendees,
    )
    store.replace_booking(tx, booking, after)
    release_all(tx, booking)
    add_status_change(tx, booking, "cancelled")
    tx.audit(
        audit.entry(
            caller,
            "booking.cancel",
            "booking",
            booking.id,
            at=now,
            detail={"from": booking.status, "reason": reason or None, "refunds": money.refunds or None},
        )
    )
    charge_request(tx)
    commit(tx, booking_id)
    money.after_commit()
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
    """Confirm (approval given, or payment taken by an operator) or reject a booking that waits on a decision.

    Accepting an `approval_then_payment` request does not confirm it: it becomes a hold for payment, due
    `paymentDueMinutes` from now (the slot stays claimed until then, and lapses like any hold if unpaid)."""
    now = now or now_utc()
    booking = _decidable(caller, booking_id)
    if booking.status not in EXPIRING:
        raise errors.Conflict(
            f"A {booking.status} booking is not waiting for a decision.",
            code="invalid_transition",
            extra={"bookingStatus": booking.status},
        )
    pay_next = approve and booking.status == "awaiting_approval" and booking.confirmation == "approval_then_payment"
    target = ("held" if pay_next else "confirmed") if approve else "rejected"
    require_transition(booking, target)
    if booking.expires_at is not None and booking.expires_at <= now:
        raise errors.Conflict("The hold expired before the decision; the slot may be gone.", code="hold_expired")
    expires_at = now + timedelta(minutes=booking.payment_due_minutes or 60) if pay_next else None
    after = next_version(
        booking,
        by=caller.user_id,
        request_id=caller.request_id,
        action="accepted" if pay_next else target,
        now=now,
        status=target,
        expires_at=expires_at,
        approval_reminder_at=None,
        note=reason,
    )
    tx = Transaction()
    store.replace_booking(tx, booking, after)
    if approve:
        # Firm (0), or the payment deadline: a claimant may evict this hold only once that has passed.
        for key in booking.lock_keys:
            inventory.set_expiry(tx, booking.resource_id, key, booking_id=booking.id, expires_epoch=after.expires_epoch)
        if pay_next:
            addons.set_stock_expiry(tx, booking, after.expires_epoch)
        else:
            addons.firm_stock(tx, booking)
    else:
        for key in booking.lock_keys:
            inventory.release(tx, booking.resource_id, key, booking_id=booking.id, quantity=booking.quantity)
        addons.release_stock(tx, booking)
    add_status_change(tx, booking, target)
    action = "booking.reject" if not approve else ("booking.accept" if pay_next else "booking.confirm")
    detail = {"from": booking.status, "reason": reason or None}
    tx.audit(audit.entry(caller, action, "booking", booking.id, at=now, detail=detail))
    charge_request(tx)
    commit(tx, booking_id)
    return after


def mark_no_show(caller: Caller, booking_id: str, *, reason: str = "", now: datetime | None = None) -> Booking:
    """The customer did not come: only its decider (vendor, advisor, admin), once it has started, within 30 days
    of its end. The inventory stays claimed: the time was held for them."""
    now = now or now_utc()
    booking = _decidable(caller, booking_id)
    require_transition(booking, "no_show")
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
    store.replace_booking(tx, booking, after)
    add_status_change(tx, booking, "no_show")
    detail = {"from": booking.status, "reason": reason or None}
    tx.audit(audit.entry(caller, "booking.no_show", "booking", booking.id, at=now, detail=detail))
    charge_request(tx)
    commit(tx, booking_id)
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
    if "guests" in changes:
        _check_new_guests(booking, changes["guests"])
    after = next_version(booking, by=caller.user_id, request_id=caller.request_id, action="updated", now=now, **changes)
    tx = Transaction()
    store.replace_booking(tx, booking, after)
    tx.audit(audit.entry(caller, "booking.update", "booking", booking.id, at=now, detail={"fields": sorted(changes)}))
    charge_request(tx)
    commit(tx, booking_id)
    return after


def _check_new_guests(booking: Booking, guests: int | None) -> None:
    """New guests obey the resource's bounds; a booking priced per guest keeps its guests (its price was paid or
    quoted on them): cancel and book again to change them."""
    if guests == booking.guests:
        return
    if any(addon.pricing == "per_guest" for addon in booking.addons):
        raise errors.ValidationFailed(
            "This booking has add-ons priced per guest; its guests cannot change.", code="guests_priced"
        )
    resource = catalog.get_resource(booking.resource_id)
    if resource is not None:
        policy.check_guests(resource, guests)
