"""A recording payment provider for tests, and Stripe-shaped events for the payments processor."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devstack import stripe_events
from slotwise.payments import store
from slotwise.payments.models import Payment, Refund, WalletEntry
from slotwise.payments.provider import (
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundRequest,
)
from slotwise.settings import get_settings
from slotwise.transaction import Transaction, execute


def _id(prefix: str, key: str) -> str:
    return f"{prefix}_fake_{hashlib.sha256(key.encode()).hexdigest()[:20]}"


@dataclass
class FakeProvider:
    """Answers like Stripe (the same idempotency key gives the same object) and records every call."""

    name: str = "stripe"
    payments: list[PaymentRequest] = field(default_factory=list)
    refunds: list[RefundRequest] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    captured: list[tuple[str, int, str]] = field(default_factory=list)  # (intent, amount, idempotency key)
    fail_refunds: bool = False

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        self.payments.append(request)
        if get_settings().payment_flow == "checkout_session":
            session = _id("cs", request.idempotency_key)
            return ProviderPayment("checkout_session", session, checkout_url=f"https://checkout.test/{session}")
        intent = _id("pi", request.idempotency_key)
        return ProviderPayment("payment_intent", intent, client_secret=f"{intent}_secret_x")

    def refund(self, request: RefundRequest) -> ProviderRefund:
        self.refunds.append(request)
        if self.fail_refunds:
            raise ConnectionError("provider down")
        return ProviderRefund(_id("re", request.idempotency_key), "pending")

    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> None:
        self.cancelled.append(provider_ref)

    def capture_payment(self, payment_intent_id: str, *, amount: int, idempotency_key: str) -> None:
        self.captured.append((payment_intent_id, amount, idempotency_key))


def intent_event(kind: str, payment: Payment, *, seed: str | None = None) -> dict[str, Any]:
    assert payment.payment_intent_id is not None
    return stripe_events.payment_intent_event(
        kind,  # type: ignore[arg-type]
        intent_id=payment.payment_intent_id,
        amount=payment.card_amount,
        currency=payment.currency,
        metadata={"slotwise_payment_id": payment.id, "slotwise_booking_id": payment.booking_id},
        created=int(time.time()),
        seed=seed or f"{kind}:{payment.id}",
    )


def refund_event(refund: Refund, payment: Payment, status: str = "succeeded") -> dict[str, Any]:
    assert payment.payment_intent_id is not None
    return stripe_events.refund_event(
        refund_id=refund.provider_ref or _id("re", refund.id),
        intent_id=payment.payment_intent_id,
        amount=refund.amount,
        currency=refund.currency,
        status=status,
        metadata={"slotwise_refund_id": refund.id, "slotwise_payment_id": payment.id},
        created=int(time.time()),
        seed=f"refund:{refund.id}:{status}",
    )


def credit(user: str, amount: int, currency: str = "EUR") -> None:
    """Money in a user's wallet, as a refund would put it there."""
    entry = WalletEntry(
        id=f"seed-{user}-{amount}",
        user_id=user,
        currency=currency,
        amount=amount,
        kind="refund",
        booking_id="seed",
        at=datetime.now(UTC),
    )
    tx = Transaction()
    store.wallet_change(tx, entry)
    execute(tx)


def session_event(kind: str, payment: Payment, *, intent_id: str | None) -> dict[str, Any]:
    assert payment.provider_ref is not None
    return stripe_events.checkout_session_event(
        kind,  # type: ignore[arg-type]
        session_id=payment.provider_ref,
        intent_id=intent_id,
        amount=payment.card_amount,
        currency=payment.currency,
        metadata={"slotwise_payment_id": payment.id, "slotwise_booking_id": payment.booking_id},
        created=int(time.time()),
        seed=f"{kind}:{payment.id}",
    )
