"""Wallet top-ups: money into a user's wallet through the same provider flow as a booking's payment.

Starting a top-up records it (`pending`) in one transaction with its share of the user's daily total, a conditional
counter, so the daily limit holds however many top-ups race; only then is the provider asked for its PaymentIntent
or Checkout Session (idempotency key `slotwise-top-up-<id>`, metadata `slotwise_top_up_id`). With an
`Idempotency-Key` the top-up's id is derived from the caller and the key, so a repeated request finds the same
top-up (and the provider the same object) instead of making a second one.

The wallet is credited only by the provider's succeeded event, in one transaction with the top-up's move to
`succeeded` (conditional on the version read) and the event's marker (the payment-events processor's inbox), so
replays, duplicates under other event ids and concurrent deliveries credit once:

  succeeded (payment_intent.succeeded, checkout.session.completed paid)
        pending                 -> succeeded, wallet credited (ledger kind `top_up`)
        failed / cancelled      -> refunded to the card in full, as a booking payment that succeeds after it
                                   failed is (`refunded`; the refund's own events and the reconciler take it on)
        succeeded / refunded    -> nothing (duplicate)
  payment_failed / canceled / checkout.session.expired
        pending                 -> failed / cancelled, nothing credited, its share of the daily total released
        otherwise               -> nothing (a late failure)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.booking import access
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.observability import logger
from slotwise.payments import ledger, store
from slotwise.payments.models import Refund, TopUp, TopUpCreate, TopUpStatus, WalletEntry
from slotwise.payments.provider import PaymentRequest, ProviderPayment, RefundRequest, get_provider
from slotwise.settings import get_settings
from slotwise.transaction import Transaction, TransactionFailed, backoff, execute

JOB = "stripe-events"
LIMIT_CODE = "top_up_limit"
MAX_ATTEMPTS = 8
# Ids derived from (caller, Idempotency-Key): the same request twice names the same top-up.
_ID_NAMESPACE = uuid.UUID("6f4d5d8e-54a1-4b53-9d3c-1f0f7c2b1a11")
Commit = Callable[[Transaction], bool]  # the processor's: commits with the event's marker, False when seen before


@dataclass(frozen=True)
class TopUpStarted:
    top_up: TopUp
    provider: ProviderPayment | None  # None only when the provider was not asked again (a settled replay)
    replayed: bool = False

    def public(self) -> dict[str, Any]:
        return {
            **self.top_up.public(),
            "clientSecret": self.provider.client_secret if self.provider else None,
            "checkoutUrl": self.provider.checkout_url if self.provider else None,
        }


def wallet_currencies() -> list[str]:
    return get_settings().wallet_currencies.split(",")


def _check_amount(user: str, data: TopUpCreate, day: str) -> None:
    settings = get_settings()
    if data.currency not in wallet_currencies():
        raise errors.ValidationFailed(
            f"Wallets hold {', '.join(wallet_currencies())}; not {data.currency}.",
            code="unsupported_currency",
            extra={"currencies": wallet_currencies()},
        )
    if data.amount > settings.top_up_max_amount:
        raise errors.ValidationFailed(
            f"One top-up adds at most {settings.top_up_max_amount} (minor units).",
            code=LIMIT_CODE,
            extra={"limit": "per_top_up", "max": settings.top_up_max_amount},
        )
    # Only a friendlier answer than the transaction's refusal: the conditional counter is what enforces the limit.
    if store.top_up_day_total(user, day) + data.amount > settings.top_up_daily_limit:
        raise _over_daily_limit()


def _over_daily_limit() -> errors.ValidationFailed:
    limit = get_settings().top_up_daily_limit
    return errors.ValidationFailed(
        f"Top-ups add at most {limit} (minor units) per day.",
        code=LIMIT_CODE,
        extra={"limit": "per_day", "max": limit},
    )


def start_top_up(
    caller: Caller, data: TopUpCreate, *, idempotency_key: str | None = None, now: datetime | None = None
) -> TopUpStarted:
    """Record a pending top-up within the limits, then ask the provider for its payment object."""
    now = now or datetime.now(UTC)
    permissions.require(caller, "wallet.top_up")
    user = access.require_user(caller)
    top_up_id = str(uuid.uuid5(_ID_NAMESPACE, f"{user}\n{idempotency_key}")) if idempotency_key else str(uuid.uuid4())
    if idempotency_key:
        earlier = store.get_top_up(top_up_id)
        if earlier is not None:
            return _replay(earlier, data)
    day = now.astimezone(UTC).date().isoformat()
    _check_amount(user, data, day)
    top_up = TopUp(
        id=top_up_id,
        user_id=user,
        amount=data.amount,
        currency=data.currency,
        status="pending",
        provider=get_provider().name,
        flow=get_settings().payment_flow,
        day=day,
        created_at=now,
        updated_at=now,
    )
    tx = Transaction()
    store.add_top_up(tx, top_up, daily_limit=get_settings().top_up_daily_limit)
    detail = {"amount": top_up.amount, "currency": top_up.currency}
    tx.audit(audit.entry(caller, "wallet.top_up", "top_up", top_up.id, at=now, detail=detail))
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            backoff(attempt)
        try:
            execute(tx)
        except TransactionFailed as failed:
            if failed.of_kind("top_up_limit"):
                raise _over_daily_limit() from failed
            if failed.of_kind("top_up") and (earlier := store.get_top_up(top_up_id)) is not None:
                return _replay(earlier, data)  # the same Idempotency-Key, sent twice at once
            if failed.only_contention:
                continue  # another top-up of the same user moved the day's total meanwhile: the same write again
            raise
        return TopUpStarted(*_ask_provider(top_up))
    raise errors.Conflict("Too many top-ups at once; try again.", code="top_up_busy")


def _replay(earlier: TopUp, data: TopUpCreate) -> TopUpStarted:
    if (earlier.amount, earlier.currency) != (data.amount, data.currency):
        raise errors.ValidationFailed(
            "This Idempotency-Key was used for another top-up; use a new key for a new top-up.",
            code="idempotency_key_reused",
        )
    if earlier.status != "pending":
        return TopUpStarted(earlier, None, replayed=True)
    return TopUpStarted(*_ask_provider(earlier), replayed=True)


def _ask_provider(top_up: TopUp) -> tuple[TopUp, ProviderPayment]:
    """The provider's object for the top-up; asking again gets the same one back (the idempotency key)."""
    answer = get_provider().create_payment(
        PaymentRequest(
            payment_id=top_up.id,
            booking_id=top_up.id,
            booking_reference="",
            attempt=1,
            amount=top_up.amount,
            currency=top_up.currency,
            description="Slotwise wallet top-up",
            customer_id=top_up.user_id,
            expires_at=None,
            top_up_id=top_up.id,
        )
    )
    if top_up.provider_ref == answer.provider_ref:
        return top_up, answer
    intent = answer.provider_ref if answer.provider_ref.startswith("pi_") else top_up.payment_intent_id
    after = _changed(top_up, datetime.now(UTC), provider_ref=answer.provider_ref, payment_intent_id=intent)
    tx = Transaction()
    store.replace_top_up(tx, top_up, after)
    try:
        execute(tx)
    except TransactionFailed:  # an event moved it on meanwhile: the fresher record wins
        return store.get_top_up(top_up.id) or top_up, answer
    return after, answer


def _changed(top_up: TopUp, now: datetime, **changes: object) -> TopUp:
    return top_up.model_copy(update={**changes, "version": top_up.version + 1, "updated_at": now})


# ------------------------------------------------------------------------------------------------------------ reads


def get_top_up(caller: Caller, top_up_id: str) -> TopUp:
    """One of the caller's own top-ups; anyone else's is a 404, whoever asks."""
    permissions.require(caller, "wallet.read")
    user = access.require_user(caller)
    found = store.get_top_up(top_up_id)
    if found is None or found.user_id != user:
        raise errors.NotFound(f"No top-up {top_up_id}.", code="top_up_not_found")
    return found


def list_top_ups(caller: Caller, *, limit: int = 20, cursor: str | None = None) -> tuple[list[TopUp], str | None]:
    permissions.require(caller, "wallet.read")
    user = access.require_user(caller)
    scope = f"top-ups:{user}"
    found, last = store.query_top_ups(user, limit=limit, start_key=decode_cursor(cursor, scope=scope))
    return found, encode_cursor(last, scope=scope)


# ------------------------------------------------------------------------------------------------ provider events


def apply_event(
    kind: str, obj: dict[str, Any], top_up_id: str, *, succeeded: bool, commit: Commit, now: datetime
) -> str:
    """Apply one payment event of a top-up (the processor routes them here by `slotwise_top_up_id`)."""
    top_up = store.get_top_up(top_up_id)
    if top_up is None:
        return "not_ours"
    paid = obj.get("payment_status") in ("paid", "no_payment_required")
    if succeeded and obj.get("object") == "checkout.session" and not paid:
        return "awaiting_payment"
    if kind == "payment_intent.processing":
        return "top_up_processing"  # a bank debit: the outcome follows as its own event
    if kind == "payment_intent.payment_failed" and top_up.flow == "checkout_session":
        return "retry_possible"  # the hosted page lets the customer try again; the session's expiry ends it
    intent = _intent_id(obj)
    if succeeded:
        return _succeeded(top_up, intent, commit, now)
    status: TopUpStatus = "cancelled" if kind in ("payment_intent.canceled", "checkout.session.expired") else "failed"
    reason = ((obj.get("last_payment_error") or {}).get("code")) or kind.rsplit(".", 1)[-1]
    return _ended(top_up, status, str(reason), commit, now)


def _intent_id(obj: dict[str, Any]) -> str | None:
    if obj.get("object") == "payment_intent":
        return str(obj["id"])
    intent = obj.get("payment_intent")
    return str(intent) if isinstance(intent, str) else None


def _succeeded(top_up: TopUp, intent: str | None, commit: Commit, now: datetime) -> str:
    if top_up.status in ("succeeded", "refunded"):
        return "duplicate"
    intent = intent or top_up.payment_intent_id
    if top_up.status != "pending":
        return _refund_late(top_up, intent, commit, now)
    after = _changed(top_up, now, status="succeeded", payment_intent_id=intent)
    tx = Transaction()
    store.replace_top_up(tx, top_up, after)
    store.wallet_change(tx, credit(after, now))
    detail = {"amount": top_up.amount, "currency": top_up.currency}
    tx.audit(audit.system_entry(JOB, "wallet.top_up_succeeded", "top_up", top_up.id, at=now, detail=detail))
    return "top_up_credited" if commit(tx) else "duplicate"


def credit(top_up: TopUp, now: datetime) -> WalletEntry:
    return WalletEntry(
        id=f"top-up-{top_up.id}",  # one credit per top-up, by construction of the entry's id as well
        user_id=top_up.user_id,
        currency=top_up.currency,
        amount=top_up.amount,
        kind="top_up",
        top_up_id=top_up.id,
        at=now,
    )


def _ended(top_up: TopUp, status: TopUpStatus, reason: str, commit: Commit, now: datetime) -> str:
    if top_up.status != "pending":
        return "duplicate" if top_up.status == status else "ignored_late_failure"
    tx = Transaction()
    store.replace_top_up(tx, top_up, _changed(top_up, now, status=status, failure_reason=reason))
    # What never arrived does not count against the day's limit.
    store.release_top_up_share(tx, top_up)
    detail = {"reason": reason}
    tx.audit(audit.system_entry(JOB, f"wallet.top_up_{status}", "top_up", top_up.id, at=now, detail=detail))
    return f"top_up_{status}" if commit(tx) else "duplicate"


def _refund_late(top_up: TopUp, intent: str | None, commit: Commit, now: datetime) -> str:
    """Money arrived for a top-up already marked failed or cancelled: back to the card in full, the reason kept,
    exactly as a booking payment that succeeds after it failed (slotwise.payments.processor)."""
    reason = f"top_up_{top_up.status}"
    after = _changed(top_up, now, status="refunded", failure_reason=reason, payment_intent_id=intent)
    refund = Refund(
        id=str(uuid.uuid4()),
        payment_id=top_up.id,
        booking_id="",
        customer_id=top_up.user_id,
        vendor_id="",
        currency=top_up.currency,
        amount=top_up.amount,
        destination="card",
        status="requested",
        reason=reason,
        created_at=now,
        updated_at=now,
    )
    tx = Transaction()
    store.replace_top_up(tx, top_up, after)
    store.add_refund(tx, refund)
    tx.audit(audit.system_entry(JOB, "wallet.top_up_refunded", "top_up", top_up.id, at=now, detail={"reason": reason}))
    if not commit(tx):
        return "duplicate"
    logger.warning("a top-up was paid after it had ended: refunded", extra={"topUpId": top_up.id})
    send_refund(refund, after, now)
    return "top_up_refunded"


def send_refund(refund: Refund, top_up: TopUp, now: datetime) -> Refund | None:
    """Ask the provider for a top-up's card refund (idempotent by the refund's id); None when it did not take it:
    the refund stays `requested` and due, and the reconciler sends it again (then to the wallet after its last try).
    """
    if top_up.payment_intent_id is None:
        logger.warning("top-up refund without a payment intent", extra={"refundId": refund.id})
        return None
    request = RefundRequest(
        refund_id=refund.id,
        payment_id=refund.payment_id,
        booking_id="",
        payment_intent_id=top_up.payment_intent_id,
        amount=refund.amount,
        currency=refund.currency,
        reason=refund.reason,
    )
    try:
        answer = get_provider().refund(request)
    except Exception:  # stays due: the reconciler retries
        logger.exception("top-up refund not accepted yet", extra={"refundId": refund.id})
        return None
    return ledger.record_provider_refund(refund.id, answer.provider_ref, answer.status, now)
