"""The payments reconciler (scheduled every minute): what no event will do by itself.

- An open payment whose booking ended unpaid (its hold was taken by another claim, or lapsed) is voided: the wallet
  share goes back and the provider's object is cancelled. A held booking past its deadline is expired through the
  booking engine, which voids the payment in the same transaction.
- An authorization (authorize_then_capture) is never left to lapse at the provider (Stripe releases it after 7
  days): six days after it, a session that has started (or happened) is captured, one still to come is released
  (the authorization voided, the booking cancelled and its slot freed; the customer is told and may book again).
  A capture asked for and not yet confirmed by the provider's event is asked again, with the same key.
- A card refund the provider has not accepted yet (an outage, a timeout) is sent again with the same idempotency
  key, backing off from a minute to six hours; after `MAX_REFUND_ATTEMPTS` the money goes to the customer's
  wallet instead, so a refund is never stuck.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slotwise.audit import log as audit
from slotwise.booking import store as bookings
from slotwise.booking.changes import add_status_change, next_version, release_all
from slotwise.booking.deadlines import expire_one
from slotwise.booking.models import Booking, Cancellation
from slotwise.payments import confirmations, ledger, store, topups
from slotwise.payments.models import AUTHORIZED, OPEN_PAYMENT, Payment
from slotwise.transaction import Transaction, TransactionFailed, execute

JOB = "payments-reconcile"
MAX_REFUND_ATTEMPTS = 12
PROCESSING_RECHECK = timedelta(days=1)


def run(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    now = now or datetime.now(UTC)
    outcomes: dict[str, int] = {}
    for payment_id in store.due_payments(now, limit):
        outcome = reconcile_payment(payment_id, now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    for refund_id in store.due_refunds(now, limit):
        outcome = retry_refund(refund_id, now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def reconcile_payment(payment_id: str, now: datetime) -> str:
    payment = store.get_payment(payment_id)
    if payment is not None and payment.status in AUTHORIZED:
        return _reconcile_authorization(payment, now)
    if payment is None or payment.status not in OPEN_PAYMENT:
        return "settled"
    booking = bookings.get_booking(payment.booking_id)
    tx = Transaction()
    if booking is not None and booking.status == "held" and booking.payment is None:
        if booking.expires_at is None or booking.expires_at > now:
            # The hold was extended or is still running: look again at its deadline.
            store.replace_payment(tx, payment, payment, due=booking.expires_at or now + timedelta(minutes=15))
            return _run(tx, "waiting")
        return "expired" if expire_one(booking.id, now, job=JOB) else "busy"
    if booking is not None and booking.status in confirmations.CONFIRMABLE:
        # payment_pending: a bank debit may take days; the provider's event settles it.
        store.replace_payment(tx, payment, payment, due=now + PROCESSING_RECHECK)
        return _run(tx, "processing")
    effects = ledger.Effects()
    ledger.void_payment(tx, payment, "canceled", "booking_ended", now, effects)
    tx.audit(audit.system_entry(JOB, "payment.void", "payment", payment.id, at=now))
    outcome = _run(tx, "voided")
    if outcome == "voided":
        effects.run()
    return outcome


SESSION_HAPPENED = frozenset({"confirmed", "in_progress", "completed", "no_show"})


def _reconcile_authorization(payment: Payment, now: datetime) -> str:
    tx = Transaction()
    effects = ledger.Effects()
    if payment.status == "capturing":
        sent = payment.capture_sent_at
        if sent is not None and now < sent + ledger.CAPTURE_RETRY:
            return "waiting"  # asked moments ago: give the provider's event time to arrive
        # Marked by the timers job, or asked before and not settled by the provider's event: ask (again), with the
        # same key, so it is captured at most once.
        retried = ledger.changed_payment(payment, now, capture_sent_at=now)
        store.replace_payment(tx, payment, retried, due=now + ledger.CAPTURE_RETRY)
        outcome = _run(tx, "capture_retry")
        if outcome == "capture_retry":
            ledger.send_capture(payment)
        return outcome
    booking = bookings.get_booking(payment.booking_id)
    if booking is not None and booking.status in SESSION_HAPPENED and booking.start_time <= now:
        # The session took place: the money is owed, take it before the authorization lapses.
        ledger.request_capture(tx, payment, now, effects, retry_in=ledger.CAPTURE_RETRY)
        tx.audit(audit.system_entry(JOB, "payment.capture", "payment", payment.id, at=now))
        outcome = _run(tx, "captured")
    else:
        ledger.void_payment(tx, payment, "canceled", "authorization_expiring", now, effects)
        if booking is not None and booking.status == "confirmed":
            _release_booking(tx, booking, now)
        tx.audit(audit.system_entry(JOB, "payment.release", "payment", payment.id, at=now))
        outcome = _run(tx, "released")
    if outcome != "busy":
        effects.run()
    return outcome


def _release_booking(tx: Transaction, booking: Booking, now: datetime) -> None:
    """A session still to come whose authorization would lapse: cancelled by the system, its slot freed."""
    reason = "authorization_expiring"
    summary = booking.payment.model_copy(update={"state": "voided"}) if booking.payment is not None else None
    after = next_version(
        booking,
        by=None,
        action="cancelled",
        now=now,
        status="cancelled",
        cancellation=Cancellation(reason=reason, at=now, by=None),
        payment=summary,
        note=reason,
    )
    bookings.replace_booking(tx, booking, after)
    release_all(tx, booking)
    add_status_change(tx, booking, "cancelled")


def retry_refund(refund_id: str, now: datetime) -> str:
    refund = store.get_refund(refund_id)
    if refund is None or refund.status != "requested" or refund.destination != "card":
        return "settled"
    payment = store.get_payment(refund.payment_id)
    if payment is not None and ledger.send_card_refund(refund, payment, now) is not None:
        return "refund_sent"
    # A refund of a top-up paid after it had ended (slotwise.payments.topups) has a top-up, not a payment, behind it.
    top_up = store.get_top_up(refund.payment_id) if payment is None else None
    if top_up is not None and topups.send_refund(refund, top_up, now) is not None:
        return "refund_sent"
    attempts = refund.attempts + 1
    tx = Transaction()
    if attempts >= MAX_REFUND_ATTEMPTS or (payment is None and top_up is None):
        after = refund.model_copy(
            update={
                "status": "failed",
                "failure_reason": "provider_unreachable",
                "attempts": attempts,
                "version": refund.version + 1,
                "updated_at": now,
            }
        )
        store.replace_refund(tx, refund, after)
        store.wallet_change(tx, ledger.wallet_entry(refund, refund.amount, "refund", now, note="card_refund_failed"))
        tx.audit(audit.system_entry(JOB, "refund.to_wallet", "refund", refund.id, at=now))
        return _run(tx, "refund_to_wallet")
    after = refund.model_copy(update={"attempts": attempts, "version": refund.version + 1, "updated_at": now})
    backoff = min(timedelta(minutes=2**attempts), timedelta(hours=6))
    store.replace_refund(tx, refund, after, due=now + backoff)
    return _run(tx, "refund_retry_later")


def _run(tx: Transaction, outcome: str) -> str:
    try:
        execute(tx)
    except TransactionFailed:
        return "busy"  # moved meanwhile (an event arrived): the next run sees the new state
    return outcome
