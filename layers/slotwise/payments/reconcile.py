"""The payments reconciler (scheduled every minute): what no event will do by itself.

- An open payment whose booking ended unpaid (its hold was taken by another claim, or lapsed) is voided: the wallet
  share goes back and the provider's object is cancelled. A held booking past its deadline is expired through the
  booking engine, which voids the payment in the same transaction.
- A card refund the provider has not accepted yet (an outage, a timeout) is sent again with the same idempotency
  key, backing off from a minute to six hours; after `MAX_REFUND_ATTEMPTS` the money goes to the customer's
  wallet instead, so a refund is never stuck.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slotwise.audit import log as audit
from slotwise.booking import store as bookings
from slotwise.booking.deadlines import expire_one
from slotwise.payments import confirmations, ledger, store, topups
from slotwise.payments.models import OPEN_PAYMENT
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
