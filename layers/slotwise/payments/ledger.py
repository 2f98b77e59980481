"""Money movements that travel inside a booking's or payment's transaction: returning a wallet share, voiding an
open payment, refunding a cancellation by policy, confirming a paid booking. Nothing here commits on its own;
`after_commit` work (the provider calls) runs once the transaction has.

The booking service (cancellation, hold expiry) and the payment service and processor all build on these, so a
cancellation refunds the same way whoever triggers it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from slotwise.booking.models import Booking, BookingPayment
from slotwise.catalog.models import CancellationPolicy
from slotwise.observability import logger
from slotwise.payments import policy, store
from slotwise.payments.models import OPEN_PAYMENT, Payment, PaymentStatus, Refund, RefundDestination, WalletEntry
from slotwise.payments.provider import RefundRequest, get_provider
from slotwise.transaction import Transaction, TransactionFailed, execute

CAPTURE_RETRY = timedelta(minutes=2)


@dataclass
class Effects:
    """Work to do after the transaction commits (provider calls), and what it created."""

    refunds: list[Refund] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def run(self) -> None:
        for action in self.after_commit:
            action()


def wallet_entry(
    payment_or_refund: Payment | Refund, amount: int, kind: str, at: datetime, *, note: str = ""
) -> WalletEntry:
    refund = payment_or_refund if isinstance(payment_or_refund, Refund) else None
    payment_id = refund.payment_id if refund is not None else payment_or_refund.id
    return WalletEntry.model_validate(
        {
            "id": str(uuid.uuid4()),
            "user_id": payment_or_refund.customer_id,
            "currency": payment_or_refund.currency,
            "amount": amount,
            "kind": kind,
            "booking_id": payment_or_refund.booking_id or None,  # a top-up's refund has no booking
            "payment_id": payment_id,
            "refund_id": refund.id if refund is not None else None,
            "note": note,
            "at": at,
        }
    )


def changed_payment(payment: Payment, now: datetime, **changes: object) -> Payment:
    return payment.model_copy(update={**changes, "version": payment.version + 1, "updated_at": now})


def void_payment(
    tx: Transaction, payment: Payment, status: PaymentStatus, reason: str, now: datetime, effects: Effects
) -> Payment:
    """An open payment ends unpaid: its wallet share goes back and the provider's object is voided afterwards."""
    after = changed_payment(payment, now, status=status, failure_reason=reason)
    store.replace_payment(tx, payment, after)
    if payment.wallet_amount:
        store.wallet_change(tx, wallet_entry(payment, payment.wallet_amount, "payment_returned", now, note=reason))
    if status == "canceled" and payment.provider_ref:
        ref = payment.provider_ref
        effects.after_commit.append(lambda: _cancel_quietly(ref, payment.id, payment.attempt))
    return after


def _cancel_quietly(provider_ref: str, payment_id: str, attempt: int) -> None:
    try:
        get_provider().cancel_payment(provider_ref, idempotency_key=f"slotwise-cancel-{payment_id}-{attempt}")
    except Exception:  # a payment that completes anyway is refunded when its event arrives
        logger.exception("could not void the payment at the provider", extra={"paymentId": payment_id})


def release_open_payment(tx: Transaction, booking: Booking, reason: str, now: datetime, effects: Effects) -> None:
    """A held booking ends before it was paid: void its open payment in the same transaction (one read; only held
    bookings can have an open payment)."""
    if booking.payment is not None or booking.status != "held":
        return
    payment, _ = store.current_payment(booking.id)
    if payment is not None and payment.status in OPEN_PAYMENT:
        void_payment(tx, payment, "canceled", reason, now, effects)


def new_refund(payment: Payment, amount: int, destination: RefundDestination, reason: str, now: datetime) -> Refund:
    return Refund.model_validate(
        {
            "id": str(uuid.uuid4()),
            "payment_id": payment.id,
            "booking_id": payment.booking_id,
            "customer_id": payment.customer_id,
            "vendor_id": payment.vendor_id,
            "currency": payment.currency,
            "amount": amount,
            "destination": destination,
            # A wallet refund is done when it commits; a card refund waits for the provider.
            "status": "succeeded" if destination == "wallet" else "requested",
            "reason": reason,
            "created_at": now,
            "updated_at": now,
        }
    )


def add_refunds(
    tx: Transaction,
    payment: Payment,
    *,
    card: int,
    wallet: int,
    reason: str,
    now: datetime,
    effects: Effects,
) -> None:
    """Refund records (card and/or wallet) with the wallet credit; the card refund is sent after the commit."""
    for amount, destination in ((card, "card"), (wallet, "wallet")):
        if amount <= 0:
            continue
        refund = new_refund(payment, amount, destination, reason, now)  # type: ignore[arg-type]
        store.add_refund(tx, refund)
        if destination == "wallet":
            store.wallet_change(tx, wallet_entry(refund, amount, "refund", now, note=reason))
        else:
            effects.after_commit.append(partial(_send_quietly, refund, payment, now))
        effects.refunds.append(refund)


def _send_quietly(refund: Refund, payment: Payment, now: datetime) -> None:
    send_card_refund(refund, payment, now)


def send_card_refund(refund: Refund, payment: Payment, now: datetime) -> Refund | None:
    """Ask the provider for a card refund (idempotent by the refund's id); the reconciler retries on failure."""
    if payment.payment_intent_id is None:
        logger.warning("card refund without a payment intent", extra={"refundId": refund.id})
        return None
    request = RefundRequest(
        refund_id=refund.id,
        payment_id=payment.id,
        booking_id=payment.booking_id,
        payment_intent_id=payment.payment_intent_id,
        amount=refund.amount,
        currency=refund.currency,
        reason=refund.reason,
    )
    try:
        answer = get_provider().refund(request)
    except Exception:  # the refund stays `requested` and due: the reconciler sends it again
        logger.exception("card refund not accepted yet", extra={"refundId": refund.id})
        return None
    return record_provider_refund(refund.id, answer.provider_ref, answer.status, now)


def record_provider_refund(refund_id: str, provider_ref: str, status: str, now: datetime) -> Refund | None:
    """The provider took the refund: `pending` (or already final). A webhook may have got there first."""
    current = store.get_refund(refund_id)
    if current is None or current.status != "requested":
        return current
    final = status if status in ("succeeded", "failed", "canceled") else "pending"
    after = current.model_copy(
        update={
            "status": final,
            "provider_ref": provider_ref,
            "attempts": current.attempts + 1,
            "version": current.version + 1,
            "updated_at": now,
        }
    )
    tx = Transaction()
    store.replace_refund(tx, current, after)
    try:
        execute(tx)
    except TransactionFailed:
        return store.get_refund(refund_id)
    return after


def booking_payment(payment: Payment) -> BookingPayment:
    authorized = payment.status == "authorized"
    return BookingPayment(
        payment_id=payment.id,
        # An authorization has taken nothing yet: nothing to refund, only to void or capture.
        state="authorized" if authorized else "paid",
        currency=payment.currency,
        amount_paid=0 if authorized else payment.amount,
        card_amount=payment.card_amount,
        wallet_amount=payment.wallet_amount,
    )


# ------------------------------------------------------------------------------------------ authorize, then capture


def capture_key(payment: Payment) -> str:
    """One capture per payment, whoever asks (completion, the timers job, the reconciler): one idempotency key."""
    return f"slotwise-capture-{payment.id}"


def request_capture(
    tx: Transaction, payment: Payment, now: datetime, effects: Effects, *, retry_in: timedelta, send: bool = True
) -> Payment:
    """An authorized payment is to be captured: `capturing` in this transaction (conditional on the version read,
    so a void racing it loses or wins whole), the provider asked once it commits (`send`); the reconciler asks
    (again) with the same key after `retry_in` until the provider's `payment_intent.succeeded` settles it."""
    after = changed_payment(payment, now, status="capturing", capture_sent_at=now if send else None)
    store.replace_payment(tx, payment, after, due=now + retry_in)
    if send:
        effects.after_commit.append(partial(_capture_quietly, after))
    return after


def _capture_quietly(payment: Payment) -> None:
    send_capture(payment)


def send_capture(payment: Payment) -> bool:
    if payment.payment_intent_id is None:
        logger.warning("capture without a payment intent", extra={"paymentId": payment.id})
        return False
    try:
        get_provider().capture_payment(
            payment.payment_intent_id, amount=payment.card_amount, idempotency_key=capture_key(payment)
        )
    except Exception:  # still `capturing` and due: the reconciler asks again with the same key
        logger.exception("capture not accepted yet", extra={"paymentId": payment.id})
        return False
    return True


def capture_on_completion(
    tx: Transaction, booking: Booking, now: datetime, effects: Effects, *, capture_now: bool = True
) -> BookingPayment | None:
    """The session is over: an authorized payment is captured (the whole price). The booking's summary says paid
    from now: the authorization guarantees the funds, and the payment record follows the provider's answer."""
    summary = booking.payment
    if summary is None or summary.state != "authorized":
        return summary
    payment = store.get_payment(summary.payment_id)
    if payment is None:
        return summary
    if payment.status == "authorized":
        retry_in = CAPTURE_RETRY if capture_now else timedelta(0)
        request_capture(tx, payment, now, effects, retry_in=retry_in, send=capture_now)
    elif payment.status not in ("capturing", "succeeded"):
        return summary  # voided meanwhile (the provider released it): nothing to take
    return summary.model_copy(update={"state": "paid", "amount_paid": payment.amount})


def void_authorization(
    tx: Transaction, booking: Booking, reason: str, now: datetime, effects: Effects
) -> BookingPayment | None:
    """A booking whose card is only authorized ends (cancelled before its session, released by the reconciler):
    the authorization is voided, nothing is taken."""
    summary = booking.payment
    if summary is None or summary.state != "authorized":
        return summary
    payment = store.get_payment(summary.payment_id)
    if payment is None or payment.status != "authorized":
        return summary
    void_payment(tx, payment, "canceled", reason, now, effects)
    return summary.model_copy(update={"state": "voided"})


def cancellation_refund(
    tx: Transaction,
    booking: Booking,
    *,
    by_provider: bool,
    refund_to: RefundDestination | None,
    now: datetime,
    effects: Effects,
) -> BookingPayment | None:
    """Refund a paid booking being cancelled, by its policy; returns the booking's new payment summary."""
    summary = booking.payment
    if summary is None or summary.amount_paid <= summary.amount_refunded:
        return summary
    payment = store.get_payment(summary.payment_id)
    if payment is None:
        return summary
    terms = policy.refund_terms(
        booking.cancellation_policy or _default_policy(),
        paid=summary.amount_paid,
        refunded=summary.amount_refunded,
        start=booking.start_time,
        now=now,
        by_provider=by_provider,
        full_refund_until=booking.full_refund_until,
    )
    if terms.amount <= 0:
        return summary
    destination = refund_to or (booking.cancellation_policy or _default_policy()).default_refund_to
    to_card = destination == "card"
    card_left = payment.card_amount - _card_refunded(payment) if to_card else 0
    card, wallet = policy.split(terms.amount, card_left=card_left, to_card=to_card)
    reason = "cancelled_by_provider" if by_provider else "cancelled_by_customer"
    add_refunds(tx, payment, card=card, wallet=wallet, reason=reason, now=now, effects=effects)
    refunded = summary.amount_refunded + terms.amount
    after = changed_payment(payment, now, amount_refunded=payment.amount_refunded + terms.amount)
    store.replace_payment(tx, payment, after)
    state = "refunded" if refunded >= summary.amount_paid else "partially_refunded"
    wallet_refunded = summary.wallet_refunded + wallet
    return summary.model_copy(update={"amount_refunded": refunded, "state": state, "wallet_refunded": wallet_refunded})


def _card_refunded(payment: Payment) -> int:
    return sum(r.amount for r in store.refunds_of(payment.id) if r.destination == "card" and r.status != "failed")


def _default_policy() -> CancellationPolicy:
    return CancellationPolicy()
