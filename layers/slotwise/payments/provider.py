"""The payment provider seen by the payment service: create a payment, refund it, cancel it.

This module is the interface and the registry. `get_provider()` builds the provider named by
`SLOTWISE_PAYMENT_PROVIDER` from the factory registered under that name, once per process:

- `stripe`, the only provider the layer ships (`slotwise.payments.stripe_provider`, imported by name when the first
  payment is made, so no other code pays for the `stripe` import and this module does not depend on it);
- anything registered with `register_provider`: the development stack's `simulated` provider (`devstack`, never in
  the layer) is registered by the local runtime and the tests. `dev`/`prod` build only DEPLOYABLE_PROVIDERS, whatever
  is registered (settings already refuse any other name there).

Every call carries an idempotency key derived from what it is for (booking + attempt, refund id, the payment's
capture or void), so a retried call never charges, captures or refunds twice.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Literal, Protocol

from slotwise.settings import DEPLOYABLE_PAYMENT_PROVIDERS, DEPLOYED_STAGES, Settings, get_settings

FlowKind = Literal["payment_intent", "checkout_session"]
# `manual`: the card is only authorized (authorize_then_capture); `capture_payment` takes the money later.
CaptureMethod = Literal["automatic", "manual"]
# Metadata keys Slotwise puts on every provider object; webhook events are matched back to payments by them.
PAYMENT_ID_KEY = "slotwise_payment_id"
BOOKING_ID_KEY = "slotwise_booking_id"
REFUND_ID_KEY = "slotwise_refund_id"
# A wallet top-up's provider objects carry its id under this key (and no payment or booking id): the processor
# routes their events to the top-ups (slotwise.payments.topups), never to a booking's payment.
TOP_UP_ID_KEY = "slotwise_top_up_id"
# Slotwise's own refund reason, kept on the refund beside the ids (`refund_metadata`).
REFUND_REASON_KEY = "slotwise_refund_reason"
# DependencyUnavailable codes every provider uses (503 to the API's client).
PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
PROVIDER_REJECTED = "payment_provider_rejected"


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
    # Set for a wallet top-up (then booking_id/payment_id are the top-up's id and attempt is 1): its own
    # idempotency key and metadata, so its events credit the wallet and never touch a booking.
    top_up_id: str | None = None
    capture_method: CaptureMethod = "automatic"

    @property
    def idempotency_key(self) -> str:
        if self.top_up_id is not None:
            return f"slotwise-top-up-{self.top_up_id}"
        return f"slotwise-payment-{self.booking_id}-{self.attempt}"

    @property
    def metadata(self) -> dict[str, str]:
        if self.top_up_id is not None:
            return {TOP_UP_ID_KEY: self.top_up_id}
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


def refund_metadata(request: RefundRequest) -> dict[str, str]:
    """The metadata every provider puts on a refund, so refunds from any provider look the same."""
    return {**request.metadata, REFUND_REASON_KEY: request.reason}


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> ProviderPayment: ...

    def refund(self, request: RefundRequest) -> ProviderRefund: ...

    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> None:
        """Void an unpaid PaymentIntent / expire an open Checkout Session (already final: no error). An authorized
        PaymentIntent (capture_method manual) is voided the same way: its authorization is released."""
        ...

    def capture_payment(self, payment_intent_id: str, *, amount: int, idempotency_key: str) -> None:
        """Capture `amount` of an authorized PaymentIntent (already captured: no error); `payment_intent.succeeded`
        follows as an event."""
        ...


ProviderFactory = Callable[[Settings], PaymentProvider]


class ProviderNotAvailable(RuntimeError):
    """The configured provider cannot be built here: a configuration bug, never the caller's (logged, a 500)."""


def _stripe(settings: Settings) -> PaymentProvider:
    # By name: this module must not depend on the Stripe implementation (which depends on it).
    module = importlib.import_module("slotwise.payments.stripe_provider")
    provider: PaymentProvider = module.StripeProvider.from_settings(settings)
    return provider


_FACTORIES: dict[str, ProviderFactory] = {"stripe": _stripe}
_LOCK = threading.Lock()
_chosen: list[PaymentProvider] = []


def register_provider(name: str, factory: ProviderFactory) -> None:
    """Make `factory` build the provider named `name` (`SLOTWISE_PAYMENT_PROVIDER`). Registering a name again
    replaces its factory; the built provider is forgotten so the next `get_provider()` uses the new one."""
    with _LOCK:
        _FACTORIES[name] = factory
    _configured.cache_clear()


def registered_providers() -> list[str]:
    with _LOCK:
        return sorted(_FACTORIES)


def get_provider() -> PaymentProvider:
    """The provider set by `use_provider` (tests), else the configured one, built once per process."""
    return _chosen[-1] if _chosen else _configured()


def use_provider(provider: PaymentProvider) -> None:
    _chosen[:] = [provider]


def reset_provider() -> None:
    """Forget the chosen and the built provider (tests); registered factories stay."""
    _chosen.clear()
    _configured.cache_clear()


@cache
def _configured() -> PaymentProvider:
    settings = get_settings()
    name = settings.payment_provider
    assert name is not None  # settings choose one when the environment does not
    if settings.stage in DEPLOYED_STAGES and name not in DEPLOYABLE_PAYMENT_PROVIDERS:
        # Settings refuse this already; a provider registered by hand must not slip into a deployed stage either.
        raise ProviderNotAvailable(f"payment provider {name!r} cannot run in stage {settings.stage}")
    with _LOCK:
        factory = _FACTORIES.get(name)
    if factory is None:
        raise ProviderNotAvailable(
            f"no payment provider {name!r} is registered (registered: {', '.join(registered_providers())}); "
            "the simulated provider is the development stack's (devstack), registered by the local runtime and the "
            "tests"
        )
    return factory(settings)
