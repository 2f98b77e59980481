"""The Stripe implementation of `PaymentProvider`.

`stripe` is imported only when a call is made (`_client()`): the SDK costs about 175 ms of cold start, which only
the functions that take or refund payments should pay. The secret key is read on first use too, from settings or
from Secrets Manager (`slotwise.aws.secret_string`, Powertools Parameters) when the client is built; until the
secret holds a Stripe key (`sk_`/`rk_`: the stack creates it with a placeholder) payments answer 503.

Every mutating call sends the caller's idempotency key, and the SDK retries network failures and 5xx answers with
that same key (`max_network_retries`), so a retry never charges or refunds twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, NoReturn, cast, get_args

from slotwise import aws, errors
from slotwise.observability import logger
from slotwise.payments.provider import (
    PROVIDER_REJECTED,
    PROVIDER_UNAVAILABLE,
    FlowKind,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundRequest,
    refund_metadata,
)

if TYPE_CHECKING:
    from stripe import StripeClient, StripeError

    from slotwise.settings import Settings

# Stripe accepts only duplicate|fraudulent|requested_by_customer; Slotwise's own reason goes into the metadata.
STRIPE_REFUND_REASON = "requested_by_customer"
RefundStatus = Literal["pending", "succeeded", "failed", "canceled", "requires_action"]
REFUND_STATUSES: dict[str, RefundStatus] = {status: status for status in get_args(RefundStatus)}

# Stripe refuses a Checkout Session expiring sooner than 30 minutes or later than 24 hours after its creation. The
# margins absorb the clock difference between this process and Stripe, and the request's time in flight.
CHECKOUT_MIN_LIFETIME = timedelta(minutes=30) + timedelta(minutes=1)
CHECKOUT_MAX_LIFETIME = timedelta(hours=24) - timedelta(minutes=1)

# The API function times out after 10 s; a Stripe call normally takes well under a second. Short per-attempt
# timeouts leave room for the SDK's retries (idempotent, same key) before the function itself is cut off.
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 4.0
MAX_NETWORK_RETRIES = 2

# Stripe's code when a PaymentIntent cannot be canceled because it is already succeeded, canceled or processing.
UNEXPECTED_STATE = "payment_intent_unexpected_state"
# Stripe's secret and restricted API keys; anything else in the secret (the stack's placeholder) is "not configured".
STRIPE_KEY_PREFIXES = ("sk_", "rk_")


def checkout_expiry(deadline: datetime | None, now: datetime) -> int | None:
    """The hold's deadline as a Checkout Session `expires_at`, clamped into the range Stripe accepts.

    A hold shorter than Stripe's minimum gives a session that outlives it: a late payment is then refunded by the
    payment-events processor, which is why the clamp does not fail the booking instead.
    """
    if deadline is None:
        return None  # Stripe's default: 24 hours
    earliest, latest = now + CHECKOUT_MIN_LIFETIME, now + CHECKOUT_MAX_LIFETIME
    return int(min(max(deadline, earliest), latest).timestamp())


def _utcnow() -> datetime:
    return datetime.now(UTC)


class StripeProvider:
    name = "stripe"

    def __init__(
        self,
        *,
        flow: FlowKind,
        api_key: str | None = None,
        api_key_arn: str | None = None,
        success_url: str,
        cancel_url: str,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.flow: FlowKind = flow
        self._api_key_value = api_key
        self._api_key_arn = api_key_arn
        self._success_url = success_url
        self._cancel_url = cancel_url
        self._clock = clock
        self._stripe: StripeClient | None = None

    def __repr__(self) -> str:
        # Never the key, even in a debugger or a log of locals.
        return f"StripeProvider(flow={self.flow!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeProvider:
        key = settings.stripe_secret_key
        return cls(
            flow=settings.payment_flow,
            api_key=key.get_secret_value() if key is not None else None,
            api_key_arn=settings.stripe_secret_key_arn,
            success_url=settings.checkout_success_url,
            cancel_url=settings.checkout_cancel_url,
        )

    # -- PaymentProvider ------------------------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        if self.flow == "checkout_session":
            return self._create_checkout_session(request)
        return self._create_payment_intent(request)

    def refund(self, request: RefundRequest) -> ProviderRefund:
        import stripe

        client = self._client()
        try:
            refund = client.v1.refunds.create(
                params={
                    "payment_intent": request.payment_intent_id,
                    "amount": request.amount,
                    "reason": STRIPE_REFUND_REASON,
                    "metadata": refund_metadata(request),
                },
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            _raise_mapped(exc, "create a refund")
        status = REFUND_STATUSES.get(str(refund.status))
        if status is None:
            # A status this code does not know yet: the refund exists, its outcome arrives as a webhook event.
            logger.warning("unknown Stripe refund status", extra={"refund": refund.id, "status": refund.status})
            status = "pending"
        return ProviderRefund(provider_ref=refund.id, status=status)

    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> None:
        if provider_ref.startswith("pi_"):
            self._cancel_payment_intent(provider_ref, idempotency_key)
        elif provider_ref.startswith("cs_"):
            self._expire_checkout_session(provider_ref, idempotency_key)
        else:
            raise ValueError(f"not a PaymentIntent or Checkout Session id: {provider_ref!r}")

    def capture_payment(self, payment_intent_id: str, *, amount: int, idempotency_key: str) -> None:
        import stripe

        client = self._client()
        try:
            client.v1.payment_intents.capture(
                payment_intent_id,
                params={"amount_to_capture": amount},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            if exc.code != UNEXPECTED_STATE:
                _raise_mapped(exc, "capture a PaymentIntent")
            # Already captured (or canceled): its outcome arrives, or arrived, as an event.
            status = exc.error.payment_intent.status if exc.error and exc.error.payment_intent else None
            logger.info("PaymentIntent not capturable", extra={"payment_intent": payment_intent_id, "status": status})
        except stripe.StripeError as exc:
            _raise_mapped(exc, "capture a PaymentIntent")

    # -- flows ----------------------------------------------------------------------------------------------------

    def _create_payment_intent(self, request: PaymentRequest) -> ProviderPayment:
        import stripe

        client = self._client()
        params: dict[str, Any] = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "automatic_payment_methods": {"enabled": True},
            "description": request.description,
            "metadata": request.metadata,
        }
        if request.capture_method == "manual":
            params["capture_method"] = "manual"  # authorize only; captured when the session completes
        try:
            intent = client.v1.payment_intents.create(
                params=cast(Any, params), options={"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as exc:
            _raise_mapped(exc, "create a PaymentIntent")
        return ProviderPayment(flow="payment_intent", provider_ref=intent.id, client_secret=intent.client_secret)

    def _create_checkout_session(self, request: PaymentRequest) -> ProviderPayment:
        import stripe

        client = self._client()
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount,
                        "product_data": {"name": request.description},
                    },
                    "quantity": 1,
                }
            ],
            "client_reference_id": request.booking_id,
            "metadata": request.metadata,
            # The session's PaymentIntent carries the metadata too: payment_intent.* events are matched by it.
            "payment_intent_data": {
                "metadata": request.metadata,
                **({"capture_method": "manual"} if request.capture_method == "manual" else {}),
            },
            "success_url": self._success_url.replace("{BOOKING_ID}", request.booking_id),
            "cancel_url": self._cancel_url.replace("{BOOKING_ID}", request.booking_id),
        }
        expires_at = checkout_expiry(request.expires_at, self._clock())
        if expires_at is not None:
            params["expires_at"] = expires_at
        try:
            session = client.v1.checkout.sessions.create(
                params=cast(Any, params), options={"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as exc:
            _raise_mapped(exc, "create a Checkout Session")
        return ProviderPayment(flow="checkout_session", provider_ref=session.id, checkout_url=session.url)

    def _cancel_payment_intent(self, intent_id: str, idempotency_key: str) -> None:
        import stripe

        client = self._client()
        try:
            client.v1.payment_intents.cancel(intent_id, options={"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as exc:
            if exc.code != UNEXPECTED_STATE:
                _raise_mapped(exc, "cancel a PaymentIntent")
            # Already succeeded, canceled or processing: nothing to void; its outcome arrives as an event.
            status = exc.error.payment_intent.status if exc.error and exc.error.payment_intent else None
            logger.info("PaymentIntent no longer cancelable", extra={"payment_intent": intent_id, "status": status})
        except stripe.StripeError as exc:
            _raise_mapped(exc, "cancel a PaymentIntent")

    def _expire_checkout_session(self, session_id: str, idempotency_key: str) -> None:
        import stripe

        client = self._client()
        try:
            client.v1.checkout.sessions.expire(session_id, options={"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                _raise_mapped(exc, "expire a Checkout Session")
            # Stripe gives no stable code for "not open"; asking for the session tells a final state from a bug.
            try:
                session = client.v1.checkout.sessions.retrieve(session_id)
            except stripe.StripeError as lookup_exc:
                _raise_mapped(lookup_exc, "look up a Checkout Session")
            if session.status == "open":
                _raise_mapped(exc, "expire a Checkout Session")
            logger.info("Checkout Session already final", extra={"session": session_id, "status": session.status})
        except stripe.StripeError as exc:
            _raise_mapped(exc, "expire a Checkout Session")

    # -- plumbing -------------------------------------------------------------------------------------------------

    def _client(self) -> StripeClient:
        if self._stripe is None:
            import stripe

            # Explicitly requests-based (the SDK's default too when requests is installed, as stripe requires it),
            # because the SDK's default timeout is 80 s.
            http_client = stripe.RequestsClient(timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS))
            self._stripe = stripe.StripeClient(
                self._api_key(), max_network_retries=MAX_NETWORK_RETRIES, http_client=http_client
            )
        return self._stripe

    def _api_key(self) -> str:
        if self._api_key_value:
            return self._api_key_value
        if not self._api_key_arn:
            logger.error("Stripe is not configured: set SLOTWISE_STRIPE_SECRET_KEY or SLOTWISE_STRIPE_SECRET_KEY_ARN")
            raise errors.DependencyUnavailable("The payment provider is not configured.", code=PROVIDER_UNAVAILABLE)
        key = aws.secret_string(self._api_key_arn, code=PROVIDER_UNAVAILABLE).strip()
        if not key.startswith(STRIPE_KEY_PREFIXES):
            # Empty, or the stack's generated placeholder: read afresh next time, so the operator's key applies at once.
            aws.refuse_secret(self._api_key_arn)
            logger.error("the Stripe secret key secret holds no Stripe key yet", extra={"secret": self._api_key_arn})
            raise errors.DependencyUnavailable("The payment provider is not configured.", code=PROVIDER_UNAVAILABLE)
        # The client built with it lives as long as this provider: a rolled key needs new execution environments.
        return key


def _raise_mapped(exc: StripeError, action: str) -> NoReturn:
    """A Stripe failure as a domain error. The detail reaches the API's client: no Stripe message, never the key."""
    import stripe

    where = {
        "action": action,
        "stripe_error": type(exc).__name__,
        "stripe_code": exc.code,
        "request_id": exc.request_id,
    }
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        # A wrong, revoked or restricted key: every payment fails until the configuration is fixed. Stripe's message
        # is left out because it may echo part of the key.
        logger.error("Stripe refused the API key; check SLOTWISE_STRIPE_SECRET_KEY(_ARN)", extra=where)
        raise errors.DependencyUnavailable(
            "The payment provider refused our credentials.", code=PROVIDER_UNAVAILABLE
        ) from None
    if isinstance(exc, stripe.InvalidRequestError | stripe.IdempotencyError | stripe.CardError):
        # A request Stripe will never accept as sent: a bug or a configuration error on our side, not the client's.
        logger.error("Stripe rejected a request", extra={**where, "stripe_message": str(exc)})
        raise errors.DependencyUnavailable(
            f"The payment provider rejected the request to {action}.", code=PROVIDER_REJECTED
        ) from exc
    # Connection failures, rate limits and Stripe's own errors, after the SDK's retries: the caller may retry.
    logger.warning("Stripe unavailable", extra=where)
    raise errors.DependencyUnavailable(
        f"The payment provider is unavailable (could not {action}).", code=PROVIDER_UNAVAILABLE
    ) from exc
