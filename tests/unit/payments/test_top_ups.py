"""Wallet top-ups through the real handlers on moto: the routes, their refusals, and the provider events that
settle a top-up. Single-threaded; the races (replays in parallel, the daily limit) are judged on DynamoDB Local in
tests/integration/test_top_up_conditions.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack import stripe_events
from slotwise.payments import processor, reconcile, store
from slotwise.payments.models import TopUp
from slotwise.payments.provider import use_provider
from tests.support.http import call
from tests.support.payments import FakeProvider

TOP_UPS = "/api/v1/wallet/top-ups"


@pytest.fixture
def provider(table: str) -> FakeProvider:
    fake = FakeProvider()
    use_provider(fake)
    return fake


def top_up(amount: Any = 5000, currency: Any = "EUR", user: str | None = "cust", **more: Any) -> Any:
    return call("POST", TOP_UPS, body={"amount": amount, "currency": currency, **more}, user=user, role="customer")


def stored(top_up_id: str) -> TopUp:
    found = store.get_top_up(top_up_id)
    assert found is not None
    return found


def event(kind: str, found: TopUp, *, seed: str | None = None) -> dict[str, Any]:
    assert found.payment_intent_id is not None
    return stripe_events.payment_intent_event(
        kind,  # type: ignore[arg-type]
        intent_id=found.payment_intent_id,
        amount=found.amount,
        currency=found.currency,
        metadata={"slotwise_top_up_id": found.id},
        created=int(time.time()),
        seed=seed or f"{kind}:{found.id}",
    )


def balance(user: str = "cust", currency: str = "EUR") -> int:
    return store.wallet_balances(user).get(currency, 0)


def test_a_top_up_is_pending_with_the_providers_client_secret(provider: FakeProvider) -> None:
    made = top_up(5000)
    assert made.status == 201, made.body
    assert made.body["status"] == "pending"
    assert (made.body["amount"], made.body["currency"]) == (5000, "EUR")
    assert made.body["clientSecret"].startswith("pi_fake_")
    assert made.headers["location"] == f"{TOP_UPS}/{made.body['id']}"
    (request,) = provider.payments
    assert request.idempotency_key == f"slotwise-top-up-{made.body['id']}"
    assert request.metadata == {"slotwise_top_up_id": made.body["id"]}
    assert (request.amount, request.currency) == (5000, "EUR")
    assert balance() == 0  # nothing before the provider says it is paid
    assert call("GET", f"{TOP_UPS}/{made.body['id']}", user="cust").body["status"] == "pending"
    listed = call("GET", TOP_UPS, user="cust").body
    assert [t["id"] for t in listed["topUps"]] == [made.body["id"]]


def test_the_succeeded_event_credits_once_and_the_ledger_says_top_up(provider: FakeProvider) -> None:
    made = top_up(5000).body
    found = stored(made["id"])
    succeeded = event("succeeded", found)
    assert processor.handle(succeeded) == "top_up_credited"
    assert processor.handle(succeeded) == "duplicate"
    # The same news under another event id (Stripe may send both) finds the work done.
    assert processor.handle(event("succeeded", found, seed="other")) == "duplicate"
    assert balance() == 5000
    assert stored(made["id"]).status == "succeeded"
    (entry,) = call("GET", "/api/v1/wallet/transactions", user="cust").body["transactions"]
    assert (entry["kind"], entry["amount"], entry["topUpId"], entry["bookingId"]) == ("top_up", 5000, made["id"], None)
    assert call("GET", "/api/v1/wallet", user="cust").body == {"balances": [{"currency": "EUR", "balance": 5000}]}
    # A failure arriving after the success changes nothing.
    assert processor.handle(event("payment_failed", found)) == "ignored_late_failure"
    assert balance() == 5000


@pytest.mark.parametrize(("kind", "status"), [("payment_failed", "failed"), ("canceled", "cancelled")])
def test_failed_or_cancelled_credits_nothing_and_frees_the_days_limit(
    provider: FakeProvider, kind: str, status: str
) -> None:
    made = top_up(100_000).body
    found = stored(made["id"])
    assert processor.handle(event(kind, found)) == f"top_up_{status}"
    assert processor.handle(event(kind, found)) == "duplicate"
    assert stored(made["id"]).status == status
    assert balance() == 0
    assert store.top_up_day_total("cust", found.day) == 0
    assert call("GET", "/api/v1/wallet/transactions", user="cust").body["transactions"] == []


def test_a_success_after_a_failure_is_refunded_to_the_card_like_a_late_booking_payment(
    provider: FakeProvider,
) -> None:
    made = top_up(4000).body
    found = stored(made["id"])
    processor.handle(event("payment_failed", found))
    assert processor.handle(event("succeeded", found)) == "top_up_refunded"
    assert processor.handle(event("succeeded", found, seed="again")) == "duplicate"
    assert stored(made["id"]).status == "refunded"
    assert balance() == 0
    (request,) = provider.refunds
    assert (request.amount, request.payment_intent_id) == (4000, found.payment_intent_id)
    (refund,) = store.refunds_of(made["id"])
    assert (refund.status, refund.destination, refund.reason) == ("pending", "card", "top_up_failed")


def test_a_late_top_up_refund_the_provider_refuses_is_retried_by_the_reconciler(provider: FakeProvider) -> None:
    made = top_up(4000).body
    found = stored(made["id"])
    processor.handle(event("canceled", found))
    provider.fail_refunds = True
    processor.handle(event("succeeded", found))
    (refund,) = store.refunds_of(made["id"])
    assert refund.status == "requested"
    provider.fail_refunds = False
    assert reconcile.retry_refund(refund.id, refund.created_at) == "refund_sent"
    assert store.refunds_of(made["id"])[0].status == "pending"
    assert balance() == 0


@pytest.mark.parametrize(
    ("amount", "currency", "status", "code"),
    [
        (0, "EUR", 422, "validation_failed"),
        (-100, "EUR", 422, "validation_failed"),
        ("5000", "EUR", 422, "validation_failed"),
        (1.5, "EUR", 422, "validation_failed"),
        (100_001, "EUR", 422, "top_up_limit"),
        (5000, "XYZ", 422, "unsupported_currency"),
        (5000, "eur", 422, "validation_failed"),
    ],
)
def test_refused_amounts_and_currencies_write_nothing(
    provider: FakeProvider, amount: Any, currency: Any, status: int, code: str
) -> None:
    refused = top_up(amount, currency)
    assert refused.status == status, refused.body
    assert refused.code == code
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert provider.payments == []
    assert call("GET", TOP_UPS, user="cust").body["topUps"] == []


def test_clients_cannot_set_status_owner_or_provider_fields(provider: FakeProvider) -> None:
    for field in ("status", "userId", "providerRef", "id", "day"):
        assert top_up(**{field: "x"}).status == 422, field
    assert provider.payments == []


def test_the_daily_limit_counts_every_top_up_of_the_day(provider: FakeProvider) -> None:
    for _ in range(3):
        assert top_up(100_000).status == 201
    refused = top_up(1)
    assert (refused.status, refused.code) == (422, "top_up_limit")
    assert refused.body["limit"] == "per_day"
    assert top_up(1, user="someone-else").status == 201  # per user
    assert len(provider.payments) == 4


def test_limits_and_currencies_come_from_settings(provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    from slotwise.settings import get_settings

    monkeypatch.setenv("SLOTWISE_TOP_UP_MAX_AMOUNT", "500")
    monkeypatch.setenv("SLOTWISE_WALLET_CURRENCIES", "JPY")
    get_settings.cache_clear()
    try:
        assert top_up(501, "JPY").code == "top_up_limit"
        assert top_up(500, "EUR").code == "unsupported_currency"
        assert top_up(500, "JPY").status == 201
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_idempotency_key_returns_the_same_top_up(provider: FakeProvider) -> None:
    headers = {"idempotency-key": "topup-1"}
    body = {"amount": 2500, "currency": "EUR"}
    made = call("POST", TOP_UPS, body=body, user="cust", headers=headers)
    again = call("POST", TOP_UPS, body=body, user="cust", headers=headers)
    assert (made.status, again.status) == (201, 200)
    assert again.body["id"] == made.body["id"]
    assert again.body["clientSecret"] == made.body["clientSecret"]
    assert store.top_up_day_total("cust", stored(made.body["id"]).day) == 2500  # counted once
    other = call("POST", TOP_UPS, body={**body, "amount": 2600}, user="cust", headers=headers)
    assert (other.status, other.code) == (422, "idempotency_key_reused")
    # Another user's same key is their own top-up.
    theirs = call("POST", TOP_UPS, body=body, user="other", headers=headers)
    assert theirs.status == 201 and theirs.body["id"] != made.body["id"]


def test_another_users_top_up_is_not_found(provider: FakeProvider) -> None:
    made = top_up(5000).body
    for user, role in (("mallory", "customer"), ("vendor-1", "vendor"), ("root", "admin")):
        refused = call("GET", f"{TOP_UPS}/{made['id']}", user=user, role=role)
        assert (refused.status, refused.code) == (404, "top_up_not_found"), user
        assert call("GET", TOP_UPS, user=user, role=role).body["topUps"] == []
    assert call("GET", f"{TOP_UPS}/no-such-top-up", user="cust").status == 404
    assert call("GET", TOP_UPS).status == 401
    assert top_up(user=None).status == 401


def test_events_of_an_unknown_top_up_are_not_ours(provider: FakeProvider) -> None:
    ghost = stripe_events.payment_intent_event(
        "succeeded",
        intent_id="pi_ghost",
        amount=100,
        currency="EUR",
        metadata={"slotwise_top_up_id": "nope"},
        created=int(time.time()),
        seed="ghost",
    )
    assert processor.handle(ghost) == "not_ours"


def test_the_simulated_provider_end_to_end_signed_events_credit_the_wallet_once(table: str) -> None:
    """The local flow: the top-up through the handler, the dev outcome switch, Stripe-signed events verified like the
    webhook's and applied by the processor; a repeated delivery of the same events credits nothing more."""
    import json

    from devstack.simulated_provider import SimulatedProvider
    from slotwise.payments import signatures
    from slotwise.settings import LOCAL_STRIPE_WEBHOOK_SECRET

    delivered: list[bytes] = []

    def deliver(body: bytes, signature: str) -> None:
        event = signatures.verify_event(body, signature, [LOCAL_STRIPE_WEBHOOK_SECRET])
        delivered.append(body)
        processor.handle(event)

    use_provider(SimulatedProvider(deliver=deliver))
    made = top_up(12_000)
    assert made.status == 201, made.body
    assert made.body["clientSecret"].startswith("pi_sim_")
    outcome = call("POST", f"/api/v1/dev/payments/{made.body['id']}/succeed", body={}, user="cust")
    assert outcome.status == 200, outcome.body
    assert [e["type"] for e in outcome.body["events"]] == ["payment_intent.succeeded"]
    assert call("GET", f"{TOP_UPS}/{made.body['id']}", user="cust").body["status"] == "succeeded"
    assert balance() == 12_000
    for body in delivered:  # Stripe retries: the same events again
        processor.handle(json.loads(body))
    assert balance() == 12_000
    # Settled: nothing left to simulate, and nobody else can play the switch for it.
    assert call("POST", f"/api/v1/dev/payments/{made.body['id']}/fail", body={}, user="cust").status == 409
    assert call("POST", f"/api/v1/dev/payments/{made.body['id']}/fail", body={}, user="mallory").status == 404


def test_a_simulated_failure_credits_nothing(table: str) -> None:
    from devstack.simulated_provider import SimulatedProvider
    from slotwise.payments import signatures
    from slotwise.settings import LOCAL_STRIPE_WEBHOOK_SECRET

    def deliver(body: bytes, signature: str) -> None:
        processor.handle(signatures.verify_event(body, signature, [LOCAL_STRIPE_WEBHOOK_SECRET]))

    use_provider(SimulatedProvider(deliver=deliver))
    made = top_up(3000).body
    assert call("POST", f"/api/v1/dev/payments/{made['id']}/fail", body={}, user="cust").status == 200
    assert call("GET", f"{TOP_UPS}/{made['id']}", user="cust").body["status"] == "failed"
    assert balance() == 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=st.lists(st.integers(min_value=-5, max_value=130_000), min_size=1, max_size=6))
def test_the_limits_combine_as_a_running_total_of_the_accepted(provider: FakeProvider, amounts: list[int]) -> None:
    """Whatever the sequence: a top-up is accepted exactly when it is positive, at most the per-top-up limit, and
    keeps the day's accepted total within the daily limit; the stored total is the sum of the accepted ones."""
    import uuid

    user = f"prop-{uuid.uuid4().hex[:8]}"
    accepted_total = 0
    for amount in amounts:
        answer = top_up(amount, user=user)
        allowed = 0 < amount <= 100_000 and accepted_total + amount <= 300_000
        assert (answer.status == 201) == allowed, (amount, accepted_total, answer.body)
        if allowed:
            accepted_total += amount
        else:
            assert answer.code in ("validation_failed", "top_up_limit")
    found, _ = store.query_top_ups(user, limit=100, start_key=None)
    assert sum(t.amount for t in found) == accepted_total
    day = found[0].day if found else "none"
    assert store.top_up_day_total(user, day) == accepted_total
