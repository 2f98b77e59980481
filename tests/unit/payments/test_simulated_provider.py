"""SimulatedProvider and the Stripe-shaped events it makes: ids like Stripe's idempotency, signed deliveries."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import stripe

from devstack import stripe_events
from devstack.simulated_provider import SimulatedProvider, intent_for_session
from slotwise import errors
from slotwise.payments.provider import PaymentRequest, ProviderRefund, RefundRequest
from slotwise.settings import LOCAL_STRIPE_WEBHOOK_SECRET, Settings

METADATA = {"slotwise_payment_id": "pay_01", "slotwise_booking_id": "bk_01"}


class Captured:
    """A `deliver` that keeps what would have been posted, and checks it verifies as Stripe's own would."""

    def __init__(self, secret: str = LOCAL_STRIPE_WEBHOOK_SECRET) -> None:
        self.secret = secret
        self.events: list[dict[str, Any]] = []

    def __call__(self, body: bytes, signature: str) -> None:
        verified = stripe.Webhook.construct_event(body, signature, self.secret)
        assert verified.id == json.loads(body)["id"]
        self.events.append(json.loads(body))

    @property
    def types(self) -> list[str]:
        return [found["type"] for found in self.events]


@pytest.fixture
def captured() -> Captured:
    return Captured()


def payment_request(attempt: int = 1) -> PaymentRequest:
    return PaymentRequest(
        payment_id="pay_01",
        booking_id="bk_01",
        booking_reference="SW-7Q4K",
        attempt=attempt,
        amount=4500,
        currency="EUR",
        description="Tennis court 3",
        customer_id="cus_01",
        expires_at=None,
    )


def refund_request(refund_id: str = "rf_01", amount: int = 1500, intent_id: str = "pi_x") -> RefundRequest:
    return RefundRequest(
        refund_id=refund_id,
        payment_id="pay_01",
        booking_id="bk_01",
        payment_intent_id=intent_id,
        amount=amount,
        currency="EUR",
        reason="requested_by_customer",
    )


def test_ids_follow_the_idempotency_key(captured: Captured) -> None:
    first = SimulatedProvider(deliver=captured).create_payment(payment_request())
    again = SimulatedProvider(deliver=captured).create_payment(payment_request())
    other = SimulatedProvider(deliver=captured).create_payment(payment_request(attempt=2))

    assert first == again
    assert first.flow == "payment_intent"
    assert first.provider_ref.startswith("pi_sim_")
    assert first.client_secret is not None and first.client_secret.startswith(f"{first.provider_ref}_secret_")
    assert other.provider_ref != first.provider_ref
    assert captured.events == []  # nothing happens until the customer acts


def test_checkout_session_ids_and_url(captured: Captured) -> None:
    provider = SimulatedProvider(flow="checkout_session", deliver=captured)

    payment = provider.create_payment(payment_request())

    assert payment.flow == "checkout_session"
    assert payment.provider_ref.startswith("cs_sim_")
    assert payment == provider.create_payment(payment_request())
    assert payment.checkout_url == f"http://localhost:3000/dev/checkout/{payment.provider_ref}"
    assert intent_for_session(payment.provider_ref).startswith("pi_sim_")
    assert captured.events == []


def test_refund_ids_follow_the_idempotency_key(captured: Captured) -> None:
    provider = SimulatedProvider(deliver=captured)

    first = provider.refund(refund_request())

    assert first == provider.refund(refund_request())
    assert first.provider_ref.startswith("re_sim_")
    assert provider.refund(refund_request("rf_02")).provider_ref != first.provider_ref


def test_payment_intent_succeeds(captured: Captured) -> None:
    provider = SimulatedProvider(deliver=captured)
    intent = provider.create_payment(payment_request()).provider_ref

    returned = provider.emit_outcome(
        "succeed", provider_ref=intent, intent_id=None, amount=4500, currency="EUR", metadata=METADATA
    )

    assert returned == captured.events
    assert captured.types == ["payment_intent.succeeded"]
    obj = captured.events[0]["data"]["object"]
    assert obj["id"] == intent
    assert obj["status"] == "succeeded"
    assert (obj["amount"], obj["amount_received"], obj["currency"]) == (4500, 4500, "eur")
    assert obj["metadata"] == METADATA
    assert obj["latest_charge"].startswith("ch_sim_")


def test_checkout_session_succeeds(captured: Captured) -> None:
    provider = SimulatedProvider(flow="checkout_session", deliver=captured)
    session = provider.create_payment(payment_request()).provider_ref

    provider.emit_outcome(
        "succeed", provider_ref=session, intent_id=None, amount=4500, currency="EUR", metadata=METADATA
    )

    assert captured.types == ["checkout.session.completed", "payment_intent.succeeded"]
    completed, succeeded = (found["data"]["object"] for found in captured.events)
    assert completed["id"] == session
    assert (completed["status"], completed["payment_status"]) == ("complete", "paid")
    assert completed["payment_intent"] == succeeded["id"] == intent_for_session(session)
    assert completed["client_reference_id"] == "bk_01"
    assert completed["metadata"] == succeeded["metadata"] == METADATA


@pytest.mark.parametrize(
    ("flow", "types"),
    [
        ("payment_intent", ["payment_intent.payment_failed"]),
        ("checkout_session", ["payment_intent.payment_failed", "checkout.session.expired"]),
    ],
)
def test_payment_fails(captured: Captured, flow: Any, types: list[str]) -> None:
    provider = SimulatedProvider(flow=flow, deliver=captured)
    ref = provider.create_payment(payment_request()).provider_ref

    provider.emit_outcome("fail", provider_ref=ref, intent_id=None, amount=4500, currency="EUR", metadata=METADATA)

    assert captured.types == types
    failed = captured.events[0]["data"]["object"]
    assert failed["status"] == "requires_payment_method"
    assert failed["amount_received"] == 0
    assert failed["last_payment_error"]["code"] == "card_declined"
    assert all(found["data"]["object"]["metadata"] == METADATA for found in captured.events)


def test_payment_processing(captured: Captured) -> None:
    provider = SimulatedProvider(deliver=captured)

    provider.emit_outcome("process", provider_ref="pi_sim_1", intent_id=None, amount=10, currency="USD", metadata={})

    assert captured.types == ["payment_intent.processing"]
    assert captured.events[0]["data"]["object"]["status"] == "processing"


def test_the_same_outcome_again_is_the_same_event(captured: Captured) -> None:
    provider = SimulatedProvider(deliver=captured)
    outcome: dict[str, Any] = {"provider_ref": "pi_sim_1", "intent_id": None, "amount": 10, "currency": "USD"}

    first = provider.emit_outcome("succeed", metadata=METADATA, **outcome)
    again = provider.emit_outcome("succeed", metadata=METADATA, **outcome)
    failed = provider.emit_outcome("fail", metadata=METADATA, **outcome)

    assert [found["id"] for found in first] == [found["id"] for found in again]
    assert first[0]["id"].startswith("evt_sim_")
    assert failed[0]["id"] != first[0]["id"]


def test_refund_answers_pending_then_delivers_its_events(captured: Captured) -> None:
    provider = SimulatedProvider(deliver=captured)
    intent = provider.create_payment(payment_request()).provider_ref

    refund = provider.refund(refund_request(amount=1500, intent_id=intent))

    assert refund.status == "pending"
    assert captured.types == ["refund.updated", "charge.refunded"]
    updated, charge = (found["data"]["object"] for found in captured.events)
    assert updated["id"] == refund.provider_ref
    assert (updated["status"], updated["amount"], updated["currency"]) == ("succeeded", 1500, "eur")
    assert updated["payment_intent"] == intent
    assert updated["metadata"]["slotwise_refund_id"] == "rf_01"
    assert updated["metadata"]["slotwise_payment_id"] == "pay_01"
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (4500, 1500, False)
    assert charge["payment_intent"] == intent
    assert charge["id"] == updated["charge"]
    assert charge["metadata"] == METADATA


def test_partial_refunds_add_up_and_a_retry_counts_once(captured: Captured) -> None:
    provider = SimulatedProvider(deliver=captured)
    intent = provider.create_payment(payment_request()).provider_ref

    provider.refund(refund_request("rf_01", 1500, intent))
    provider.refund(refund_request("rf_01", 1500, intent))  # retried call: the same refund
    provider.refund(refund_request("rf_02", 3000, intent))

    totals = [
        found["data"]["object"]["amount_refunded"] for found in captured.events if found["type"] == "charge.refunded"
    ]
    assert totals == [1500, 1500, 4500]
    assert captured.events[-1]["data"]["object"]["refunded"] is True


def test_refund_of_an_unknown_payment_still_answers(captured: Captured) -> None:
    refund = SimulatedProvider(deliver=captured).refund(refund_request(amount=700, intent_id="pi_from_before"))

    assert refund == ProviderRefund(provider_ref=refund.provider_ref, status="pending")
    charge = captured.events[1]["data"]["object"]
    assert (charge["amount"], charge["amount_refunded"], charge["currency"]) == (700, 700, "eur")
    assert charge["metadata"] == METADATA


def test_cancel_payment_intent_once(captured: Captured) -> None:
    provider = SimulatedProvider(deliver=captured)
    intent = provider.create_payment(payment_request()).provider_ref

    provider.cancel_payment(intent, idempotency_key="k")
    provider.cancel_payment(intent, idempotency_key="k")  # already canceled: quiet, as with Stripe

    assert captured.types == ["payment_intent.canceled"]
    canceled = captured.events[0]["data"]["object"]
    assert (canceled["id"], canceled["status"], canceled["metadata"]) == (intent, "canceled", METADATA)


def test_cancel_checkout_session_expires_it(captured: Captured) -> None:
    provider = SimulatedProvider(flow="checkout_session", deliver=captured)
    session = provider.create_payment(payment_request()).provider_ref

    provider.cancel_payment(session, idempotency_key="k")

    assert captured.types == ["checkout.session.expired"]
    expired = captured.events[0]["data"]["object"]
    assert (expired["id"], expired["status"], expired["metadata"]) == (session, "expired", METADATA)


def test_cancel_after_success_or_of_an_unknown_payment_is_quiet(captured: Captured) -> None:
    provider = SimulatedProvider(deliver=captured)
    intent = provider.create_payment(payment_request()).provider_ref
    provider.emit_outcome(
        "succeed", provider_ref=intent, intent_id=None, amount=4500, currency="EUR", metadata=METADATA
    )

    provider.cancel_payment(intent, idempotency_key="k")
    provider.cancel_payment("pi_sim_unknown", idempotency_key="k")

    assert captured.types == ["payment_intent.succeeded"]


def test_from_settings_signs_with_the_first_webhook_secret() -> None:
    settings = Settings.model_validate(
        {"SLOTWISE_PAYMENT_FLOW": "checkout_session", "SLOTWISE_STRIPE_WEBHOOK_SECRETS": "whsec_new, whsec_old"}
    )
    captured = Captured(secret="whsec_new")

    provider = SimulatedProvider.from_settings(settings, deliver=captured)
    provider.emit_outcome("process", provider_ref="pi_sim_1", intent_id=None, amount=1, currency="EUR", metadata={})

    assert (provider.name, provider.flow) == ("simulated", "checkout_session")
    assert len(captured.events) == 1


def test_from_settings_defaults_to_the_local_secret(captured: Captured) -> None:
    provider = SimulatedProvider.from_settings(Settings.model_validate({}), deliver=captured)

    provider.emit_outcome("process", provider_ref="pi_sim_1", intent_id=None, amount=1, currency="EUR", metadata={})

    assert len(captured.events) == 1  # Captured verifies with LOCAL_STRIPE_WEBHOOK_SECRET


class FakeUrlopen:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.requests: list[tuple[urllib.request.Request, float]] = []

    def __call__(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        self.requests.append((request, timeout))
        if self.error is not None:
            raise self.error
        return io.BytesIO(b'{"received":true}')


def test_default_delivery_posts_signed_json(monkeypatch: pytest.MonkeyPatch) -> None:
    urlopen = FakeUrlopen()
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    provider = SimulatedProvider(webhook_url="http://127.0.0.1:3000/api/v1/payments/stripe/webhook")

    events = provider.emit_outcome(
        "succeed", provider_ref="pi_sim_1", intent_id=None, amount=1, currency="EUR", metadata=METADATA
    )

    [(request, timeout)] = urlopen.requests
    assert request.full_url == "http://127.0.0.1:3000/api/v1/payments/stripe/webhook"
    assert request.get_method() == "POST"
    assert timeout == 5
    headers = {name.lower(): value for name, value in request.header_items()}
    assert headers["content-type"] == "application/json"
    assert isinstance(request.data, bytes)
    verified = stripe.Webhook.construct_event(request.data, headers["stripe-signature"], LOCAL_STRIPE_WEBHOOK_SECRET)
    assert verified.id == events[0]["id"]


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(urllib.error.URLError("connection refused"), id="unreachable"),
        pytest.param(urllib.error.HTTPError("http://x", 400, "Bad Request", None, None), id="refused"),  # type: ignore[arg-type]
        pytest.param(TimeoutError("timed out"), id="timeout"),
    ],
)
def test_failed_delivery_is_unavailable(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    monkeypatch.setattr(urllib.request, "urlopen", FakeUrlopen(error))
    provider = SimulatedProvider(webhook_url="http://127.0.0.1:3000/hook")

    with pytest.raises(errors.DependencyUnavailable) as caught:
        provider.cancel_payment(provider.create_payment(payment_request()).provider_ref, idempotency_key="k")

    assert caught.value.code == "payment_provider_unavailable"


def test_without_a_webhook_url_events_go_nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    urlopen = FakeUrlopen()
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)

    SimulatedProvider().emit_outcome(
        "fail", provider_ref="pi_sim_1", intent_id=None, amount=1, currency="EUR", metadata={}
    )

    assert urlopen.requests == []


def test_only_http_webhook_urls() -> None:
    with pytest.raises(ValueError, match="http"):
        SimulatedProvider(webhook_url="file:///etc/passwd")


# -- the event builders ------------------------------------------------------------------------------------------


def test_events_use_the_sdk_api_version_and_stripe_envelope() -> None:
    built = stripe_events.payment_intent_event(
        "canceled", intent_id="pi_1", amount=5, currency="GBP", metadata={}, created=1_700_000_000
    )

    assert stripe.api_version == stripe_events.API_VERSION
    assert {key: built[key] for key in ("object", "api_version", "created", "livemode", "type")} == {
        "object": "event",
        "api_version": stripe.api_version,
        "created": 1_700_000_000,
        "livemode": False,
        "type": "payment_intent.canceled",
    }
    intent = built["data"]["object"]
    assert (intent["object"], intent["status"], intent["currency"], intent["latest_charge"]) == (
        "payment_intent",
        "canceled",
        "gbp",
        None,
    )


def test_event_ids_are_deterministic_from_the_seed() -> None:
    def build(seed: str | None) -> str:
        built = stripe_events.refund_event(
            refund_id="re_1",
            intent_id="pi_1",
            amount=1,
            currency="EUR",
            status="pending",
            metadata={},
            created=1,
            seed=seed,
        )
        return str(built["id"])

    assert build("a") == build("a") != build("b")
    assert build(None) == build(None)
    assert build("a").startswith("evt_sim_")


def test_sign_verifies_and_detects_tampering() -> None:
    body = b'{"id":"evt_sim_1","object":"event"}'
    header = stripe_events.sign(body, "whsec_test", timestamp=None)

    assert stripe.Webhook.construct_event(body, header, "whsec_test").id == "evt_sim_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b"1", b"2"), header, "whsec_test")
    assert stripe_events.sign(body, "whsec_test", timestamp=1_700_000_000).startswith("t=1700000000,v1=")


def test_a_manual_payment_is_authorized_then_captured_once_or_voided(captured: Captured) -> None:
    from dataclasses import replace

    provider = SimulatedProvider(deliver=captured)
    made = provider.create_payment(replace(payment_request(), capture_method="manual"))
    outcome = {"provider_ref": made.provider_ref, "intent_id": None, "amount": 4500, "currency": "EUR"}
    provider.emit_outcome("succeed", metadata=METADATA, **outcome)
    assert captured.types == ["payment_intent.amount_capturable_updated"]
    assert captured.events[0]["data"]["object"]["status"] == "requires_capture"
    provider.capture_payment(made.provider_ref, amount=4500, idempotency_key="slotwise-capture-pay_01")
    provider.capture_payment(made.provider_ref, amount=4500, idempotency_key="slotwise-capture-pay_01")
    assert captured.types == ["payment_intent.amount_capturable_updated", "payment_intent.succeeded"]
    provider.cancel_payment(made.provider_ref, idempotency_key="k")  # captured: nothing to void
    assert len(captured.events) == 2

    voided = provider.create_payment(replace(payment_request(attempt=2), capture_method="manual"))
    provider.emit_outcome("succeed", metadata=METADATA, **{**outcome, "provider_ref": voided.provider_ref})
    provider.cancel_payment(voided.provider_ref, idempotency_key="k2")
    provider.capture_payment(voided.provider_ref, amount=4500, idempotency_key="k3")  # voided: nothing to take
    assert captured.types[2:] == ["payment_intent.amount_capturable_updated", "payment_intent.canceled"]
