"""Stripe events applied exactly once in effect, whatever their order, repetition or delay.

Each event's effect is one transaction that also writes the event's marker (`PROVIDEREVENT#<id>`): a second
delivery of the same event fails on the marker and changes nothing. Different events that mean the same thing
(`checkout.session.completed` and `payment_intent.succeeded`, `refund.updated` and `charge.refunded`) are made
harmless by the payment's and refund's own state: the second finds the work done. Every change is conditional on
the versions read, so two events racing for one payment serialise: the loser re-reads and decides again.

  payment_intent.succeeded / checkout.session.completed (paid)
        open payment, booking held (its claims still in place) or payment_pending -> booking confirmed, paid
        otherwise (the hold lapsed and the slot went, the booking was cancelled, another payment won)
                                                  -> refunded in full, with the reason recorded
  payment_intent.processing                      -> booking payment_pending (keeps its slot, no deadline)
  payment_intent.payment_failed / .canceled, checkout.session.expired
        (a decline on a Checkout Session's page is not the end: the customer may try another card there; the
        session's expiry is)
        open payment -> failed, wallet share returned, booking (held / payment_pending) cancelled and released
        a payment already succeeded -> nothing (a late failure of an earlier try)
  payment_intent.amount_capturable_updated (authorize_then_capture: the card is authorized)
        open payment, booking held -> payment authorized, booking confirmed (nothing taken yet)
        otherwise (the hold lapsed, the booking was cancelled) -> the authorization is voided
  payment_intent.succeeded of an authorized / capturing payment -> captured: payment succeeded
  payment_intent.canceled of an authorized payment (released at the provider) -> payment canceled, booking's
        summary voided
  refund.updated, charge.refunded                -> the refund's state; a failed card refund goes to the wallet
  any payment event of a wallet top-up (metadata `slotwise_top_up_id`) -> slotwise.payments.topups
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slotwise.audit import log as audit
from slotwise.booking import store as bookings
from slotwise.booking.changes import next_version
from slotwise.booking.models import Booking
from slotwise.observability import logger
from slotwise.payments import confirmations, ledger, store, topups
from slotwise.payments.models import AUTHORIZED, OPEN_PAYMENT, Payment, Refund
from slotwise.payments.provider import PAYMENT_ID_KEY, REFUND_ID_KEY, TOP_UP_ID_KEY
from slotwise.transaction import Transaction, TransactionFailed, backoff, execute

JOB = "stripe-events"
MAX_ATTEMPTS = 5
_SUCCEEDED = frozenset(
    {"payment_intent.succeeded", "checkout.session.completed", "checkout.session.async_payment_succeeded"}
)
_FAILED = frozenset(
    {
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "checkout.session.expired",
        "checkout.session.async_payment_failed",
    }
)
_REFUNDS = frozenset({"refund.updated", "refund.created", "refund.failed", "charge.refunded"})
_AUTHORIZED = "payment_intent.amount_capturable_updated"


class _Retry(Exception):
    """The state moved between the read and the write: read again and decide again."""


def handle(event: dict[str, Any], now: datetime | None = None) -> str:
    """Apply one verified Stripe event; returns what it did (for logs and metrics)."""
    now = now or datetime.now(UTC)
    kind = str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") or {}
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            backoff(attempt)
        try:
            if kind in _REFUNDS:
                return _refund_event(event, obj, now)
            if kind in _SUCCEEDED or kind in _FAILED or kind in ("payment_intent.processing", _AUTHORIZED):
                top_up_id = (obj.get("metadata") or {}).get(TOP_UP_ID_KEY)
                if top_up_id:
                    return topups.apply_event(
                        kind,
                        obj,
                        str(top_up_id),
                        succeeded=kind in _SUCCEEDED,
                        commit=lambda tx: _commit(tx, event, now),
                        now=now,
                    )
                return _payment_event(event, kind, obj, now)
            return "ignored"
        except _Retry:
            continue
    raise RuntimeError(f"event {event.get('id')} kept racing other changes; SQS will deliver it again")


def _commit(tx: Transaction, event: dict[str, Any], now: datetime) -> bool:
    """Commit with the event's marker; False when this event was applied before."""
    store.mark_provider_event(tx, str(event["id"]), str(event.get("type")), now)
    try:
        execute(tx)
    except TransactionFailed as failed:
        if failed.of_kind("provider_event"):
            return False
        raise _Retry from failed
    return True


def _payment_of(obj: dict[str, Any]) -> Payment | None:
    metadata = obj.get("metadata") or {}
    payment_id = metadata.get(PAYMENT_ID_KEY)
    return store.get_payment(str(payment_id)) if payment_id else None


def _intent_id(obj: dict[str, Any]) -> str | None:
    if obj.get("object") == "payment_intent":
        return str(obj["id"])
    intent = obj.get("payment_intent")
    return str(intent) if isinstance(intent, str) else None


def _not_final(kind: str, obj: dict[str, Any], payment: Payment) -> str | None:
    """Why this event does not settle the payment, if it does not."""
    paid = obj.get("payment_status") in ("paid", "no_payment_required")
    if kind in _SUCCEEDED and obj.get("object") == "checkout.session" and not paid:
        return "awaiting_payment"  # an asynchronous method: its own event follows
    if kind == "payment_intent.payment_failed" and payment.flow == "checkout_session":
        # The hosted page lets the customer try another card; the session's expiry is the end of this payment.
        return "retry_possible"
    return None


def _payment_event(event: dict[str, Any], kind: str, obj: dict[str, Any], now: datetime) -> str:
    payment = _payment_of(obj)
    booking = bookings.get_booking(payment.booking_id) if payment is not None else None
    if payment is None or booking is None:
        return "not_ours"
    skipped = _not_final(kind, obj, payment)
    if skipped is not None:
        return skipped
    if kind == _AUTHORIZED or payment.status in AUTHORIZED:
        return _authorization_event(event, kind, obj, payment, booking, now)
    if kind in _SUCCEEDED:
        return _succeeded(event, payment, booking, _intent_id(obj), now)
    if kind == "payment_intent.processing":
        return _processing(event, payment, booking, now)
    reason = ((obj.get("last_payment_error") or {}).get("code")) or kind.rsplit(".", 1)[-1]
    return _failed(event, payment, booking, str(reason), now)


def _with_intent(payment: Payment, intent_id: str | None) -> dict[str, Any]:
    if intent_id is None or payment.payment_intent_id == intent_id:
        return {}
    return {"payment_intent_id": intent_id, "provider_ref": payment.provider_ref or intent_id}


def _succeeded(event: dict[str, Any], payment: Payment, booking: Booking, intent_id: str | None, now: datetime) -> str:
    if payment.status in ("succeeded", "refunded_unconfirmed"):
        return "duplicate"
    if booking.status in confirmations.CONFIRMABLE and booking.payment is None and payment.status in OPEN_PAYMENT:
        # A lapsed hold whose claims nobody took is still this booking's: it confirms. One that a claimant took
        # was marked expired in that claim's transaction, so this fails, and the retry reads `expired`: refund.
        tx = Transaction()
        paid = ledger.changed_payment(payment, now, status="succeeded", **_with_intent(payment, intent_id))
        store.replace_payment(tx, payment, paid)
        confirmations.confirm_paid(tx, booking, paid, now)
        tx.audit(audit.system_entry(JOB, "payment.succeeded", "payment", payment.id, at=now))
        return "confirmed" if _commit(tx, event, now) else "duplicate"
    reason = "booking_" + booking.status if booking.payment is None else "paid_twice"
    return _refund_unconfirmable(event, payment, booking, intent_id, reason, now)


def _authorization_event(
    event: dict[str, Any], kind: str, obj: dict[str, Any], payment: Payment, booking: Booking, now: datetime
) -> str:
    """authorize_then_capture: the card authorized, the authorization captured, or released by the provider."""
    if kind == _AUTHORIZED:
        return _authorized(event, payment, booking, _intent_id(obj), now)
    if kind in _SUCCEEDED:
        return _captured(event, payment, now)
    if kind == "payment_intent.canceled" and payment.status == "authorized":
        return _authorization_released(event, payment, booking, now)
    return "ignored"


def _authorized(event: dict[str, Any], payment: Payment, booking: Booking, intent_id: str | None, now: datetime) -> str:
    """The card is authorized (capture_method manual): the booking is confirmed, its slot firm; nothing is taken
    until the session completes. A booking that can no longer be confirmed gets its authorization voided."""
    if payment.status not in OPEN_PAYMENT:
        return "duplicate"
    tx = Transaction()
    if booking.status in confirmations.CONFIRMABLE and booking.payment is None:
        held = ledger.changed_payment(
            payment, now, status="authorized", authorized_at=now, **_with_intent(payment, intent_id)
        )
        store.replace_payment(tx, payment, held)
        confirmations.confirm_paid(tx, booking, held, now)
        tx.audit(audit.system_entry(JOB, "payment.authorized", "payment", payment.id, at=now))
        return "authorized" if _commit(tx, event, now) else "duplicate"
    effects = ledger.Effects()
    voided = payment.model_copy(update=_with_intent(payment, intent_id))
    ledger.void_payment(tx, voided, "canceled", "booking_" + booking.status, now, effects)
    detail = {"bookingId": booking.id, "bookingStatus": booking.status}
    tx.audit(audit.system_entry(JOB, "payment.void", "payment", payment.id, at=now, detail=detail))
    if not _commit(tx, event, now):
        return "duplicate"
    effects.run()
    return "voided"


def _captured(event: dict[str, Any], payment: Payment, now: datetime) -> str:
    """The capture went through: the payment is settled (the booking said paid when its session completed)."""
    tx = Transaction()
    store.replace_payment(tx, payment, ledger.changed_payment(payment, now, status="succeeded", captured_at=now))
    tx.audit(audit.system_entry(JOB, "payment.captured", "payment", payment.id, at=now))
    return "captured" if _commit(tx, event, now) else "duplicate"


def _authorization_released(event: dict[str, Any], payment: Payment, booking: Booking, now: datetime) -> str:
    """The provider released an authorization nobody captured (its window closed, or voided at the dashboard)."""
    tx = Transaction()
    store.replace_payment(
        tx, payment, ledger.changed_payment(payment, now, status="canceled", failure_reason="released")
    )
    if (
        booking.payment is not None
        and booking.payment.payment_id == payment.id
        and booking.payment.state == "authorized"
    ):
        summary = booking.payment.model_copy(update={"state": "voided"})
        after = next_version(booking, by=None, action="payment_voided", now=now, payment=summary)
        bookings.replace_booking(tx, booking, after)
    tx.audit(audit.system_entry(JOB, "payment.released", "payment", payment.id, at=now))
    return "released" if _commit(tx, event, now) else "duplicate"


def _refund_unconfirmable(
    event: dict[str, Any], payment: Payment, booking: Booking, intent_id: str | None, reason: str, now: datetime
) -> str:
    """Money arrived for a booking that can no longer be confirmed by it: give everything back, record why."""
    tx = Transaction()
    effects = ledger.Effects()
    after = ledger.changed_payment(
        payment,
        now,
        status="refunded_unconfirmed",
        failure_reason=reason,
        amount_refunded=payment.amount,
        **_with_intent(payment, intent_id),
    )
    store.replace_payment(tx, payment, after)
    # The wallet share is still held only while the payment was open; a voided payment returned it already.
    wallet = payment.wallet_amount if payment.status in OPEN_PAYMENT else 0
    ledger.add_refunds(tx, after, card=payment.card_amount, wallet=wallet, reason=reason, now=now, effects=effects)
    detail = {"bookingId": booking.id, "bookingStatus": booking.status, "reason": reason}
    tx.audit(audit.system_entry(JOB, "payment.refund_unconfirmed", "payment", payment.id, at=now, detail=detail))
    if not _commit(tx, event, now):
        return "duplicate"
    effects.run()
    logger.warning("payment arrived for a booking it cannot confirm: refunded", extra=detail)
    return "refunded"


def _processing(event: dict[str, Any], payment: Payment, booking: Booking, now: datetime) -> str:
    if payment.status != "requires_payment":
        return "duplicate"
    tx = Transaction()
    store.replace_payment(tx, payment, ledger.changed_payment(payment, now, status="processing"))
    if booking.status == "held" and booking.payment is None:
        confirmations.keep_pending(tx, booking, now)
    tx.audit(audit.system_entry(JOB, "payment.processing", "payment", payment.id, at=now))
    return "pending" if _commit(tx, event, now) else "duplicate"


def _failed(event: dict[str, Any], payment: Payment, booking: Booking, reason: str, now: datetime) -> str:
    if payment.status not in OPEN_PAYMENT:
        return "ignored_late_failure"
    tx = Transaction()
    effects = ledger.Effects()
    ledger.void_payment(tx, payment, "failed", reason, now, effects)
    if booking.status in confirmations.CONFIRMABLE and booking.payment is None:
        confirmations.release_unpaid(tx, booking, "payment_failed", now)
    detail = {"bookingId": booking.id, "reason": reason}
    tx.audit(audit.system_entry(JOB, "payment.failed", "payment", payment.id, at=now, detail=detail))
    if not _commit(tx, event, now):
        return "duplicate"
    effects.run()
    return "released"


# ----------------------------------------------------------------------------------------------------------- refunds


def _refunds_in(event: dict[str, Any], obj: dict[str, Any]) -> list[dict[str, Any]]:
    if obj.get("object") == "refund":
        return [obj]
    listed = (obj.get("refunds") or {}).get("data") or []
    return [r for r in listed if isinstance(r, dict)]


def _refund_event(event: dict[str, Any], obj: dict[str, Any], now: datetime) -> str:
    outcomes = []
    for refund_obj in _refunds_in(event, obj):
        refund_id = (refund_obj.get("metadata") or {}).get(REFUND_ID_KEY)
        refund = store.get_refund(str(refund_id)) if refund_id else None
        if refund is None:
            continue
        outcomes.append(_refund_state(event, refund, refund_obj, now))
    return ",".join(outcomes) or "not_ours"


def _refund_state(event: dict[str, Any], refund: Refund, obj: dict[str, Any], now: datetime) -> str:
    status = str(obj.get("status", ""))
    if refund.status in ("succeeded", "failed", "canceled") or status not in ("succeeded", "failed", "canceled"):
        return "duplicate" if refund.status == status else "no_change"
    after = refund.model_copy(
        update={
            "status": status,
            "provider_ref": refund.provider_ref or obj.get("id"),
            "failure_reason": obj.get("failure_reason"),
            "version": refund.version + 1,
            "updated_at": now,
        }
    )
    tx = Transaction()
    store.replace_refund(tx, refund, after)
    if status != "succeeded":
        # The card cannot take it back (closed, expired): the customer still gets the money, in their wallet.
        store.wallet_change(tx, ledger.wallet_entry(refund, refund.amount, "refund", now, note="card_refund_failed"))
    tx.audit(audit.system_entry(JOB, f"refund.{status}", "refund", refund.id, at=now))
    # Two events may report one refund (refund.updated, charge.refunded): the refund's version lets one through;
    # the marker is per event, so it cannot stop the other.
    return ("refund_" + status) if _commit(tx, event, now) else "duplicate"
