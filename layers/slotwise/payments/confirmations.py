"""What a payment's outcome does to its booking, as items of the outcome's transaction: confirm it (paid), keep its
slot firmly while an asynchronous payment settles (`payment_pending`), or release it (the payment failed).

The booking's state machine decides, never the order events arrive in: every change here is conditional on the
booking's version and status as read, and on the booking still holding its inventory.
"""

from __future__ import annotations

from datetime import UTC, datetime

from slotwise.booking import addons, inventory
from slotwise.booking import store as bookings
from slotwise.booking.changes import add_status_change, next_version
from slotwise.booking.models import Booking, Cancellation
from slotwise.payments import ledger, store
from slotwise.payments.models import Payment
from slotwise.payments.provider import ProviderPayment
from slotwise.transaction import Transaction, TransactionFailed, execute

# Statuses a payment can still confirm: a live hold, or one whose asynchronous payment was on its way.
CONFIRMABLE = frozenset({"held", "payment_pending"})


def confirm_paid(
    tx: Transaction,
    booking: Booking,
    payment: Payment,
    now: datetime,
    *,
    by: str | None = None,
    request_id: str | None = None,
) -> Booking:
    """Paid: the booking is confirmed and its claims become firm. Each claim update is conditional on the booking
    still holding that key, so a hold that lapsed and was taken by someone else cannot be confirmed."""
    after = next_version(
        booking,
        by=by,
        request_id=request_id,
        action="confirmed",
        now=now,
        status="confirmed",
        expires_at=None,
        payment=ledger.booking_payment(payment),
        note="paid",
    )
    bookings.replace_booking(tx, booking, after)
    for key in booking.lock_keys:
        inventory.set_expiry(tx, booking.resource_id, key, booking_id=booking.id, expires_epoch=0)
    addons.firm_stock(tx, booking)
    add_status_change(tx, booking, "confirmed")
    return after


def keep_pending(tx: Transaction, booking: Booking, now: datetime) -> Booking:
    """An asynchronous payment is on its way: the hold no longer lapses; the outcome decides."""
    after = next_version(booking, by=None, action="payment_pending", now=now, status="payment_pending", expires_at=None)
    bookings.replace_booking(tx, booking, after)
    for key in booking.lock_keys:
        inventory.set_expiry(tx, booking.resource_id, key, booking_id=booking.id, expires_epoch=0)
    addons.firm_stock(tx, booking)
    add_status_change(tx, booking, "payment_pending")
    return after


def release_unpaid(tx: Transaction, booking: Booking, reason: str, now: datetime) -> Booking:
    """The payment failed: the booking is cancelled by the system and its inventory released."""
    after = next_version(
        booking,
        by=None,
        action="cancelled",
        now=now,
        status="cancelled",
        expires_at=None,
        cancellation=Cancellation(reason=reason, at=now, by=None),
        note=reason,
    )
    bookings.replace_booking(tx, booking, after)
    holders = bookings_holding(booking)
    for key in booking.lock_keys:
        if key in holders:
            inventory.release(tx, booking.resource_id, key, booking_id=booking.id, quantity=booking.quantity)
    addons.release_held_stock(tx, booking)
    add_status_change(tx, booking, "cancelled")
    return after


def bookings_holding(booking: Booking) -> set[str]:
    """The keys the booking still holds (a lapsed hold may have been evicted from some)."""
    return inventory.slot_holders(booking.resource_id, booking.lock_keys, booking.id)


def record_provider_ref(payment: Payment, answer: ProviderPayment) -> Payment:
    """Note the provider's object on the payment (the webhook may have moved the payment on already: then the
    fresher record wins and is returned)."""
    intent = answer.provider_ref if answer.provider_ref.startswith("pi_") else payment.payment_intent_id
    after = ledger.changed_payment(
        payment, datetime.now(UTC), provider_ref=answer.provider_ref, payment_intent_id=intent
    )
    tx = Transaction()
    store.replace_payment(tx, payment, after)
    try:
        execute(tx)
    except TransactionFailed:
        return store.get_payment(payment.id) or payment
    return after
