"""The payment provider seen by the payment service: create a payment, refund it, cancel it.

Two implementations: `slotwise.payments.stripe_provider` (Stripe, imported only when a payment is made, so no other
code pays for the `stripe` import) and `slotwise.payments.simulated` (fake ids; its dev endpoints make Stripe-shaped,
correctly signed webhook events and post them into the real webhook path). `get_provider()` picks one from settings.

Every call carries an idempotency key derived from what it is for (booking + attempt, refund id), so a retried call
never charges or refunds twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Literal, Protocol

from slotwise.settings import get_settings

FlowKind = Literal["payment_intent", "checkout_session"]
# Metadata keys Slotwise puts on every provider object; webhook events are matched back to payments by them.
PAYMENT_ID_KEY = "slotwise_payment_id"
BOOKING_ID_KEY = "slotwise_booking_id"
REFUND_ID_KEY = "slotwise_refund_id"


@dataclass(frozen=True)
class PaymentRequest:
    payment_id: str
    booking_id: str
    booking_reference: str
    attempt: int
    amount: int  # minor units, what the card pays (the wallet's share is not charged here)
    currency: str  # ISO 4217, upper case as stored; providers lower-case it
    description: str
    customer_id: str
    expires_at: datetime | None  # the hold's deadline: a checkout session should not outlive it

    @property
    def idempotency_key(self) -> str:
        return f"slotwise-payment-{self.booking_id}-{self.attempt}"

    @property
    def metadata(self) -> dict[str, str]:
        return {PAYMENT_ID_KEY: self.payment_id, BOOKING_ID_KEY: self.booking_id}


@dataclass(frozen=True)
class ProviderPayment:
    flow: FlowKind
    provider_ref: str  # pi_... (PaymentIntent) or cs_... (Checkout Session)
    client_secret: str | None = None  # payment_intent flow: for Stripe.js / Elements
    checkout_url: str | None = None  # checkout_session flow: where to send the customer


@dataclass(frozen=True)
class RefundRequest:
    refund_id: str
    payment_id: str
    booking_id: str
    payment_intent_id: str
    amount: int
    currency: str
    reason: str  # why, for the records: "requested_by_customer", "hold_expired", ...

    @property
    def idempotency_key(self) -> str:
        return f"slotwise-refund-{self.refund_id}"

    @property
    def metadata(self) -> dict[str, str]:
        """Put on the provider's refund: its webhook events are matched back to the refund by it."""
        return {REFUND_ID_KEY: self.refund_id, PAYMENT_ID_KEY: self.payment_id, BOOKING_ID_KEY: self.booking_id}


@dataclass(frozen=True)
class ProviderRefund:
    provider_ref: str  # re_...
    status: Literal["pending", "succeeded", "failed", "canceled", "requires_action"]


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> ProviderPayment: ...

    def refund(self, request: RefundRequest) -> ProviderRefund: ...

    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> None:
        """Void an unpaid PaymentIntent / expire an open Checkout Session (already final: no error)."""
        ...


_chosen: list[PaymentProvider] = []


def get_provider() -> PaymentProvider:
    """The provider set by `use_provider` (tests), else the configured one, built once per process."""
    return _chosen[-1] if _chosen else _configured()


def use_provider(provider: PaymentProvider) -> None:
    _chosen[:] = [provider]


def reset_provider() -> None:
    _chosen.clear()
    _configured.cache_clear()


@cache
def _configured() -> PaymentProvider:
    settings = get_settings()
    if settings.payment_provider == "stripe":
        from slotwise.payments.stripe_provider import StripeProvider

        return StripeProvider.from_settings(settings)
    from slotwise.payments.simulated import SimulatedProvider

    return SimulatedProvider.from_settings(settings)
