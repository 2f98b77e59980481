"""A stand-in for Stripe in the local runtime and the tests: no network to Stripe, no account, no keys.

Development stack only: never in the Lambda layer. `devstack.install()` registers it as the `simulated` payment
provider (`slotwise.payments.provider.register_provider`); deployed stages refuse to build it.

It answers like Stripe (ids derived from the idempotency key, so a retried call gets the same object back) and, like
Stripe, reports what happens afterwards only through webhook events: correctly signed, Stripe-shaped bodies posted
to the real webhook path (`SLOTWISE_SIMULATED_WEBHOOK_URL`), so verification, queueing and the payment-events
processor run exactly as they would in production. What the customer does at the card form (pay, fail, wait) is
played by `emit_outcome`, which the dev endpoints call.

State (amounts, statuses, refunded totals) is kept in memory per process, only to make events look like Stripe's:
after a restart, `cancel_payment` on an unknown payment sends no event.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from devstack import stripe_events
from devstack.stripe_events import Event, fake_id
from slotwise import errors
from slotwise.observability import logger
from slotwise.payments.provider import (
    BOOKING_ID_KEY,
    PAYMENT_ID_KEY,
    PROVIDER_UNAVAILABLE,
    FlowKind,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundRequest,
    refund_metadata,
)
from slotwise.settings import LOCAL_STRIPE_WEBHOOK_SECRET

if TYPE_CHECKING:
    from slotwise.settings import Settings

Deliver = Callable[[bytes, str], None]  # (body, Stripe-Signature header value)
Outcome = Literal["succeed", "fail", "process"]
DELIVERY_TIMEOUT_SECONDS = 5
CHECKOUT_URL = "http://localhost:3000/dev/checkout/{session_id}"


def intent_for_session(session_id: str) -> str:
    """The PaymentIntent of a simulated Checkout Session (derived, so no state is needed to find it)."""
    return fake_id("pi", f"session:{session_id}")


def client_secret_for(intent_id: str) -> str:
    return f"{intent_id}_secret_{hashlib.sha256(f'secret:{intent_id}'.encode()).hexdigest()[:24]}"


@dataclass
class _Payment:
    amount: int
    currency: str
    metadata: dict[str, str]
    status: str = "open"  # open | processing | requires_capture | succeeded | canceled
    refunds: dict[str, int] = field(default_factory=dict)  # refund id -> amount, so a retried refund counts once
    manual: bool = False  # capture_method manual: paying only authorizes; capture_payment takes the money


class SimulatedProvider:
    name = "simulated"

    def __init__(
        self,
        *,
        flow: FlowKind = "payment_intent",
        webhook_secret: str = LOCAL_STRIPE_WEBHOOK_SECRET,
        webhook_url: str | None = None,
        deliver: Deliver | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if webhook_url and not webhook_url.startswith(("http://", "https://")):
            # urlopen would also open file:// and other schemes; only HTTP is meant here.
            raise ValueError(f"SLOTWISE_SIMULATED_WEBHOOK_URL must be http(s): {webhook_url!r}")
        self.flow: FlowKind = flow
        self._secret = webhook_secret
        self._url = webhook_url
        self._deliver: Deliver = deliver or self._post
        self._clock = clock
        self._lock = threading.Lock()  # the local runtime serves requests on several threads
        self._payments: dict[str, _Payment] = {}  # by PaymentIntent id and by Checkout Session id

    @classmethod
    def from_settings(cls, settings: Settings, *, deliver: Deliver | None = None) -> SimulatedProvider:
        secret = LOCAL_STRIPE_WEBHOOK_SECRET
        if settings.stripe_webhook_secrets is not None:
            # The first of the accepted secrets is the current one (the others are being rolled out).
            secret = settings.stripe_webhook_secrets.get_secret_value().split(",")[0].strip() or secret
        return cls(
            flow=settings.payment_flow,
            webhook_secret=secret,
            webhook_url=settings.simulated_webhook_url,
            deliver=deliver,
        )

    # -- PaymentProvider ------------------------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        # Nothing is emitted: the customer has not acted yet (emit_outcome plays that part).
        payment = _Payment(
            amount=request.amount,
            currency=request.currency.lower(),
            metadata=request.metadata,
            manual=request.capture_method == "manual",
        )
        if self.flow == "checkout_session":
            session_id = fake_id("cs", request.idempotency_key)
            self._remember(payment, session_id, intent_for_session(session_id), replace=False)
            return ProviderPayment(
                flow="checkout_session",
                provider_ref=session_id,
                checkout_url=CHECKOUT_URL.format(session_id=session_id),
            )
        intent_id = fake_id("pi", request.idempotency_key)
        self._remember(payment, intent_id, replace=False)
        return ProviderPayment(
            flow="payment_intent", provider_ref=intent_id, client_secret=client_secret_for(intent_id)
        )

    def refund(self, request: RefundRequest) -> ProviderRefund:
        refund_id = fake_id("re", request.idempotency_key)
        intent_id = request.payment_intent_id
        with self._lock:
            payment = self._payments.get(intent_id)
            if payment is None:
                # Made before a restart: the charge's total is unknown, so the refund stands for all of it.
                payment = _Payment(
                    amount=request.amount,
                    currency=request.currency.lower(),
                    metadata={PAYMENT_ID_KEY: request.payment_id, BOOKING_ID_KEY: request.booking_id},
                    status="succeeded",
                )
                self._payments[intent_id] = payment
            payment.refunds[refund_id] = request.amount
            refunded = min(sum(payment.refunds.values()), payment.amount)
        answer = ProviderRefund(provider_ref=refund_id, status="pending")
        # As with Stripe, the API answers "pending" and the outcome arrives afterwards as events.
        created = int(self._clock())
        self._send(
            [
                stripe_events.refund_event(
                    refund_id=refund_id,
                    intent_id=intent_id,
                    amount=request.amount,
                    currency=request.currency,
                    status="succeeded",
                    metadata=refund_metadata(request),
                    created=created,
                ),
                stripe_events.charge_refunded_event(
                    charge_id=stripe_events.charge_id_for(intent_id),
                    intent_id=intent_id,
                    amount=payment.amount,
                    amount_refunded=refunded,
                    currency=payment.currency,
                    metadata=payment.metadata,
                    created=created,
                ),
            ]
        )
        return answer

    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> None:
        if not provider_ref.startswith(("pi_", "cs_")):
            raise ValueError(f"not a PaymentIntent or Checkout Session id: {provider_ref!r}")
        with self._lock:
            payment = self._payments.get(provider_ref)
            # An authorization (requires_capture) is voided like an open payment.
            if payment is None or payment.status not in ("open", "requires_capture"):
                # Unknown (made before a restart) or already final: Stripe would refuse, the provider stays quiet.
                logger.info("simulated cancel: nothing to cancel", extra={"provider_ref": provider_ref})
                return
            payment.status = "canceled"
        created = int(self._clock())
        if provider_ref.startswith("cs_"):
            found = stripe_events.checkout_session_event(
                "expired",
                session_id=provider_ref,
                intent_id=None,  # Stripe makes the session's PaymentIntent only when the customer confirms
                amount=payment.amount,
                currency=payment.currency,
                metadata=payment.metadata,
                created=created,
            )
        else:
            found = stripe_events.payment_intent_event(
                "canceled",
                intent_id=provider_ref,
                amount=payment.amount,
                currency=payment.currency,
                metadata=payment.metadata,
                created=created,
            )
        self._send([found])

    def capture_payment(self, payment_intent_id: str, *, amount: int, idempotency_key: str) -> None:
        if not payment_intent_id.startswith("pi_"):
            raise ValueError(f"not a PaymentIntent id: {payment_intent_id!r}")
        with self._lock:
            payment = self._payments.get(payment_intent_id)
            if payment is None or payment.status != "requires_capture":
                # Already captured or voided, or unknown (a restart): Stripe would refuse; stay quiet.
                logger.info("simulated capture: nothing to capture", extra={"provider_ref": payment_intent_id})
                return
            payment.status = "succeeded"
        self._send(
            [
                stripe_events.payment_intent_event(
                    "succeeded",
                    intent_id=payment_intent_id,
                    amount=amount,
                    currency=payment.currency,
                    metadata=payment.metadata,
                    created=int(self._clock()),
                )
            ]
        )

    # -- the customer's part --------------------------------------------------------------------------------------

    def emit_outcome(
        self,
        outcome: Outcome,
        *,
        provider_ref: str,
        intent_id: str | None,
        amount: int,
        currency: str,
        metadata: Mapping[str, str],
        manual: bool = False,
    ) -> list[Event]:
        """Deliver the events a real payment with this outcome produces, in Stripe's order; returns them. A `manual`
        payment (capture_method manual; also known from its creation) is only authorized by a success.

        Not checked against earlier calls on purpose: a payment succeeding after its hold was canceled is a race
        the processor must handle, and the dev endpoints should be able to stage it.
        """
        checkout = provider_ref.startswith("cs_")
        if not checkout and not provider_ref.startswith("pi_"):
            raise ValueError(f"not a PaymentIntent or Checkout Session id: {provider_ref!r}")
        intent = provider_ref if not checkout else intent_id or intent_for_session(provider_ref)
        # A failed PaymentIntent can still be paid or canceled; a failed (expired) Checkout Session cannot.
        with self._lock:
            known = self._payments.get(provider_ref)
        manual = manual or (known is not None and known.manual)
        succeeded = "requires_capture" if manual else "succeeded"
        status = {"succeed": succeeded, "process": "processing"}.get(outcome, "canceled" if checkout else "open")
        payment = _Payment(
            amount=amount, currency=currency.lower(), metadata=dict(metadata), status=status, manual=manual
        )
        self._remember(payment, *((provider_ref, intent) if checkout else (intent,)), replace=True)

        created = int(self._clock())
        common: dict[str, Any] = {"amount": amount, "currency": currency, "metadata": metadata, "created": created}
        built: list[Event] = []
        if outcome == "succeed":
            if checkout:
                built.append(
                    stripe_events.checkout_session_event(
                        "completed", session_id=provider_ref, intent_id=intent, **common
                    )
                )
            # An authorization only (capture_method manual): the money waits for capture_payment.
            paid: stripe_events.PaymentIntentEventKind = "amount_capturable_updated" if manual else "succeeded"
            built.append(stripe_events.payment_intent_event(paid, intent_id=intent, **common))
        elif outcome == "fail":
            # A declined card fails the PaymentIntent; in Checkout the customer then gives up and the session expires.
            built.append(stripe_events.payment_intent_event("payment_failed", intent_id=intent, **common))
            if checkout:
                built.append(
                    stripe_events.checkout_session_event("expired", session_id=provider_ref, intent_id=intent, **common)
                )
        else:
            built.append(stripe_events.payment_intent_event("processing", intent_id=intent, **common))
        self._send(built)
        return built

    # -- delivery -------------------------------------------------------------------------------------------------

    def _remember(self, payment: _Payment, *refs: str, replace: bool) -> None:
        """Record a payment under its ids. A retried create (same key, same ids) leaves Stripe's object as it is;
        an outcome replaces its state but keeps the refunds already made."""
        with self._lock:
            for ref in refs:
                known = self._payments.get(ref)
                if known is not None and not replace:
                    continue
                if known is not None:
                    payment.refunds = known.refunds
                self._payments[ref] = payment

    def _send(self, built: list[Event]) -> None:
        for found in built:
            body = json.dumps(found, separators=(",", ":")).encode()
            self._deliver(body, stripe_events.sign(body, self._secret, int(self._clock())))

    def _post(self, body: bytes, signature: str) -> None:
        """Post one event to the webhook endpoint, as Stripe does (a non-2xx answer is a failed delivery)."""
        if not self._url:
            # Like a Stripe account without a webhook endpoint: the events go nowhere.
            logger.info("SLOTWISE_SIMULATED_WEBHOOK_URL is not set: simulated event not delivered")
            return
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked to be http(s) in __init__
            self._url,
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as answer:  # noqa: S310 - as above
                answer.read()
        except (urllib.error.URLError, OSError) as exc:  # HTTPError (non-2xx) is a URLError
            raise errors.DependencyUnavailable(
                f"simulated webhook delivery to {self._url} failed: {exc}", code=PROVIDER_UNAVAILABLE
            ) from exc
