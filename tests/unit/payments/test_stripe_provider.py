"""StripeProvider against Stripe's HTTP API as `responses` plays it: the exact requests sent, and errors mapped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses

from slotwise import aws, errors
from slotwise.payments.provider import PaymentRequest, ProviderPayment, ProviderRefund, RefundRequest
from slotwise.payments.stripe_provider import StripeProvider
from slotwise.settings import Settings
from tests.support.imports import modules_loaded_by

API = "https://api.stripe.com"
KEY = "sk_test_slotwise_unit_0123456789abcdef"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's retries back off 0.5-5 s; the tests keep the retries and drop the waiting."""
    from stripe._http_client import HTTPClient

    monkeypatch.setattr(HTTPClient, "_sleep_time_seconds", lambda self, num_retries: 0.0)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def make_provider(flow: Any = "payment_intent", **overrides: Any) -> StripeProvider:
    options: dict[str, Any] = {
        "flow": flow,
        "api_key": KEY,
        "success_url": "https://app.example/bookings/{BOOKING_ID}?paid=1",
        "cancel_url": "https://app.example/bookings/{BOOKING_ID}?paid=0",
        "clock": lambda: NOW,
        **overrides,
    }
    return StripeProvider(**options)


def payment_request(*, expires_at: datetime | None = None) -> PaymentRequest:
    return PaymentRequest(
        payment_id="pay_01",
        booking_id="bk_01",
        booking_reference="SW-7Q4K",
        attempt=2,
        amount=4500,
        currency="EUR",
        description="Tennis court 3, 1 May 14:00",
        customer_id="cus_01",
        expires_at=expires_at,
    )


def refund_request() -> RefundRequest:
    return RefundRequest(
        refund_id="rf_01",
        payment_id="pay_01",
        booking_id="bk_01",
        payment_intent_id="pi_123",
        amount=1500,
        currency="EUR",
        reason="hold_expired",
    )


def form(call: Any) -> dict[str, str]:
    """A form-encoded Stripe request body as flat `key[sub] -> value` pairs."""
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else body or ""
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}


def stripe_error(status: int, kind: str, code: str | None = None, **more: Any) -> dict[str, Any]:
    return {"status": status, "json": {"error": {"type": kind, "code": code, "message": "no", **more}}}


def test_payment_intent_request_and_answer(api: responses.RequestsMock) -> None:
    call = api.post(
        f"{API}/v1/payment_intents",
        json={"id": "pi_123", "object": "payment_intent", "client_secret": "pi_123_secret_abc", "status": "x"},
    )

    payment = make_provider().create_payment(payment_request())

    assert payment == ProviderPayment(flow="payment_intent", provider_ref="pi_123", client_secret="pi_123_secret_abc")
    sent = call.calls[0].request
    assert sent.headers["Idempotency-Key"] == "slotwise-payment-bk_01-2"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert form(call.calls[0]) == {
        "amount": "4500",
        "currency": "eur",
        "automatic_payment_methods[enabled]": "true",
        "description": "Tennis court 3, 1 May 14:00",
        "metadata[slotwise_payment_id]": "pay_01",
        "metadata[slotwise_booking_id]": "bk_01",
    }


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        pytest.param(NOW + timedelta(hours=2), NOW + timedelta(hours=2), id="within-range"),
        pytest.param(NOW + timedelta(minutes=10), NOW + timedelta(minutes=31), id="raised-to-stripe-minimum"),
        pytest.param(NOW + timedelta(days=3), NOW + timedelta(hours=24, minutes=-1), id="lowered-to-stripe-maximum"),
        pytest.param(None, None, id="no-deadline-stripe-default"),
    ],
)
def test_checkout_session_request_and_answer(
    api: responses.RequestsMock, deadline: datetime | None, expected: datetime | None
) -> None:
    call = api.post(
        f"{API}/v1/checkout/sessions",
        json={"id": "cs_123", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_123"},
    )

    payment = make_provider("checkout_session").create_payment(payment_request(expires_at=deadline))

    assert payment == ProviderPayment(
        flow="checkout_session", provider_ref="cs_123", checkout_url="https://checkout.stripe.com/c/pay/cs_123"
    )
    assert call.calls[0].request.headers["Idempotency-Key"] == "slotwise-payment-bk_01-2"
    body = form(call.calls[0])
    assert body.pop("expires_at", None) == (str(int(expected.timestamp())) if expected else None)
    assert body == {
        "mode": "payment",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "4500",
        "line_items[0][price_data][product_data][name]": "Tennis court 3, 1 May 14:00",
        "line_items[0][quantity]": "1",
        "client_reference_id": "bk_01",
        "metadata[slotwise_payment_id]": "pay_01",
        "metadata[slotwise_booking_id]": "bk_01",
        "payment_intent_data[metadata][slotwise_payment_id]": "pay_01",
        "payment_intent_data[metadata][slotwise_booking_id]": "bk_01",
        "success_url": "https://app.example/bookings/bk_01?paid=1",
        "cancel_url": "https://app.example/bookings/bk_01?paid=0",
    }


def test_refund_request_and_answer(api: responses.RequestsMock) -> None:
    call = api.post(f"{API}/v1/refunds", json={"id": "re_123", "object": "refund", "status": "pending"})

    refund = make_provider().refund(refund_request())

    assert refund == ProviderRefund(provider_ref="re_123", status="pending")
    assert call.calls[0].request.headers["Idempotency-Key"] == "slotwise-refund-rf_01"
    assert form(call.calls[0]) == {
        "payment_intent": "pi_123",
        "amount": "1500",
        "reason": "requested_by_customer",  # Stripe's only fitting value; ours is in the metadata
        "metadata[slotwise_refund_id]": "rf_01",
        "metadata[slotwise_payment_id]": "pay_01",
        "metadata[slotwise_booking_id]": "bk_01",
        "metadata[slotwise_refund_reason]": "hold_expired",
    }


def test_unknown_refund_status_reads_as_pending(api: responses.RequestsMock) -> None:
    api.post(f"{API}/v1/refunds", json={"id": "re_123", "object": "refund", "status": "something_new"})

    assert make_provider().refund(refund_request()).status == "pending"


def test_cancel_payment_intent(api: responses.RequestsMock) -> None:
    call = api.post(f"{API}/v1/payment_intents/pi_123/cancel", json={"id": "pi_123", "object": "payment_intent"})

    make_provider().cancel_payment("pi_123", idempotency_key="slotwise-cancel-bk_01-2")

    assert call.call_count == 1
    assert call.calls[0].request.headers["Idempotency-Key"] == "slotwise-cancel-bk_01-2"


def test_an_authorization_asks_for_manual_capture_and_is_captured_with_its_key(api: responses.RequestsMock) -> None:
    created = api.post(
        f"{API}/v1/payment_intents",
        json={"id": "pi_123", "object": "payment_intent", "client_secret": "pi_123_secret_abc", "status": "x"},
    )
    request = replace(payment_request(), capture_method="manual")
    make_provider().create_payment(request)
    assert form(created.calls[0])["capture_method"] == "manual"

    captured = api.post(f"{API}/v1/payment_intents/pi_123/capture", json={"id": "pi_123", "object": "payment_intent"})
    make_provider().capture_payment("pi_123", amount=4500, idempotency_key="slotwise-capture-pay_01")
    assert captured.calls[0].request.headers["Idempotency-Key"] == "slotwise-capture-pay_01"
    assert form(captured.calls[0]) == {"amount_to_capture": "4500"}


def test_capture_of_an_already_captured_intent_is_quiet(api: responses.RequestsMock) -> None:
    intent = {"id": "pi_123", "object": "payment_intent", "status": "succeeded"}
    api.post(
        f"{API}/v1/payment_intents/pi_123/capture",
        **stripe_error(400, "invalid_request_error", "payment_intent_unexpected_state", payment_intent=intent),
    )
    make_provider().capture_payment("pi_123", amount=4500, idempotency_key="k")


def test_expire_checkout_session(api: responses.RequestsMock) -> None:
    call = api.post(f"{API}/v1/checkout/sessions/cs_123/expire", json={"id": "cs_123", "object": "checkout.session"})

    make_provider().cancel_payment("cs_123", idempotency_key="slotwise-cancel-bk_01-2")

    assert call.call_count == 1
    assert call.calls[0].request.headers["Idempotency-Key"] == "slotwise-cancel-bk_01-2"


def test_cancel_of_a_final_payment_intent_is_quiet(api: responses.RequestsMock) -> None:
    intent = {"id": "pi_123", "object": "payment_intent", "status": "succeeded"}
    api.post(
        f"{API}/v1/payment_intents/pi_123/cancel",
        **stripe_error(400, "invalid_request_error", "payment_intent_unexpected_state", payment_intent=intent),
    )

    make_provider().cancel_payment("pi_123", idempotency_key="k")


@pytest.mark.parametrize("status", ["complete", "expired"])
def test_expire_of_a_final_checkout_session_is_quiet(api: responses.RequestsMock, status: str) -> None:
    api.post(f"{API}/v1/checkout/sessions/cs_123/expire", **stripe_error(400, "invalid_request_error"))
    api.get(f"{API}/v1/checkout/sessions/cs_123", json={"id": "cs_123", "object": "checkout.session", "status": status})

    make_provider().cancel_payment("cs_123", idempotency_key="k")


def test_expire_refused_on_an_open_session_is_an_error(api: responses.RequestsMock) -> None:
    api.post(f"{API}/v1/checkout/sessions/cs_123/expire", **stripe_error(400, "invalid_request_error"))
    api.get(f"{API}/v1/checkout/sessions/cs_123", json={"id": "cs_123", "object": "checkout.session", "status": "open"})

    with pytest.raises(errors.DependencyUnavailable) as caught:
        make_provider().cancel_payment("cs_123", idempotency_key="k")

    assert caught.value.code == "payment_provider_rejected"


def test_cancel_of_an_unknown_payment_intent_is_an_error(api: responses.RequestsMock) -> None:
    api.post(
        f"{API}/v1/payment_intents/pi_404/cancel", **stripe_error(404, "invalid_request_error", "resource_missing")
    )

    with pytest.raises(errors.DependencyUnavailable) as caught:
        make_provider().cancel_payment("pi_404", idempotency_key="k")

    assert caught.value.code == "payment_provider_rejected"


def test_server_errors_are_retried_with_the_same_key_then_unavailable(api: responses.RequestsMock) -> None:
    call = api.post(f"{API}/v1/payment_intents", **stripe_error(500, "api_error"))

    with pytest.raises(errors.DependencyUnavailable) as caught:
        make_provider().create_payment(payment_request())

    assert caught.value.code == "payment_provider_unavailable"
    assert call.call_count == 3  # the first try and max_network_retries=2
    assert {c.request.headers["Idempotency-Key"] for c in call.calls} == {"slotwise-payment-bk_01-2"}


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"body": requests.ConnectionError("connection refused")}, id="connection-error"),
        pytest.param(stripe_error(429, "rate_limit_error", "rate_limit"), id="rate-limited"),
    ],
)
def test_unreachable_stripe_is_unavailable(api: responses.RequestsMock, answer: dict[str, Any]) -> None:
    api.post(f"{API}/v1/refunds", **answer)

    with pytest.raises(errors.DependencyUnavailable) as caught:
        make_provider().refund(refund_request())

    assert caught.value.code == "payment_provider_unavailable"


def test_bad_key_is_unavailable_and_never_echoed(api: responses.RequestsMock, caplog: pytest.LogCaptureFixture) -> None:
    message = f"Invalid API Key provided: {KEY}"
    api.post(
        f"{API}/v1/payment_intents", status=401, json={"error": {"type": "invalid_request_error", "message": message}}
    )

    with pytest.raises(errors.DependencyUnavailable) as caught:
        make_provider().create_payment(payment_request())

    assert caught.value.code == "payment_provider_unavailable"
    assert KEY not in caught.value.detail
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "Stripe refused the API key" in caplog.text
    assert KEY not in caplog.text


def test_rejected_request_is_our_problem_not_the_clients(api: responses.RequestsMock) -> None:
    api.post(f"{API}/v1/payment_intents", **stripe_error(400, "invalid_request_error", "parameter_invalid_integer"))

    with pytest.raises(errors.DependencyUnavailable) as caught:
        make_provider().create_payment(payment_request())

    assert caught.value.code == "payment_provider_rejected"


def test_key_from_secrets_manager_is_read_once_and_lazily(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []

    class FakeSecrets:
        def get_secret_value(self, *, SecretId: str) -> dict[str, Any]:
            reads.append(SecretId)
            return {"SecretString": "sk_test_from_secrets_manager\n"}

    monkeypatch.setattr(aws, "secretsmanager", FakeSecrets)
    call = api.post(f"{API}/v1/refunds", json={"id": "re_123", "object": "refund", "status": "succeeded"})
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:stripe-key"

    provider = make_provider(api_key=None, api_key_arn=arn)
    assert reads == []
    provider.refund(refund_request())
    provider.refund(refund_request())

    assert reads == [arn]
    assert {c.request.headers["Authorization"] for c in call.calls} == {"Bearer sk_test_from_secrets_manager"}


def test_the_stacks_placeholder_key_is_503_until_the_operator_puts_one(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = {"SecretString": "GeneratedPlaceholder0123456789abcdef"}
    reads: list[str] = []

    class FakeSecrets:
        def get_secret_value(self, *, SecretId: str) -> dict[str, Any]:
            reads.append(SecretId)
            return stored

    monkeypatch.setattr(aws, "secretsmanager", FakeSecrets)
    call = api.post(f"{API}/v1/refunds", json={"id": "re_1", "object": "refund", "status": "succeeded"})
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:stripe-key"

    with pytest.raises(errors.DependencyUnavailable) as caught:
        make_provider(api_key=None, api_key_arn=arn).refund(refund_request())
    assert caught.value.code == "payment_provider_unavailable"
    assert call.call_count == 0  # the placeholder never reaches Stripe

    stored = {"SecretString": "sk_live_put_by_the_operator"}
    make_provider(api_key=None, api_key_arn=arn).refund(refund_request())  # not cached: read afresh at once
    make_provider(api_key=None, api_key_arn=arn).refund(refund_request())  # the good value is cached
    assert reads == [arn, arn]
    assert {c.request.headers["Authorization"] for c in call.calls} == {"Bearer sk_live_put_by_the_operator"}


def test_without_a_key_payments_are_unavailable(api: responses.RequestsMock) -> None:
    with pytest.raises(errors.DependencyUnavailable) as caught:
        make_provider(api_key=None).create_payment(payment_request())

    assert caught.value.code == "payment_provider_unavailable"


def test_from_settings() -> None:
    settings = Settings.model_validate(
        {
            "SLOTWISE_PAYMENT_PROVIDER": "stripe",
            "SLOTWISE_PAYMENT_FLOW": "checkout_session",
            "SLOTWISE_STRIPE_SECRET_KEY": KEY,
            "SLOTWISE_CHECKOUT_SUCCESS_URL": "https://app.example/ok/{BOOKING_ID}",
        }
    )

    provider = StripeProvider.from_settings(settings)

    assert (provider.name, provider.flow) == ("stripe", "checkout_session")
    assert KEY not in repr(provider)


def test_importing_payment_code_does_not_import_stripe() -> None:
    """stripe costs ~175 ms of cold start: only a function that actually calls Stripe may load it."""
    modules = [
        "slotwise.payments.provider",
        "slotwise.payments.stripe_provider",
        "devstack",
        "devstack.simulated_provider",
        "devstack.stripe_events",
        "devstack.handler",
        "functions.payments.handler",
        "functions.payment_events.handler",
        "functions.payment_jobs.handler",
        "functions.stripe_webhooks.handler",
        "functions.bookings.handler",
    ]
    assert modules_loaded_by(modules, "stripe") == []
