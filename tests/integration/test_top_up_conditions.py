"""Wallet top-ups on AWS's engine: a succeeded event delivered three times, shuffled and concurrently, credits the
wallet once; failures credit nothing; the daily limit's conditional counter holds however many top-ups race."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from devstack import stripe_events
from slotwise import errors
from slotwise.identity.models import Caller
from slotwise.payments import store, topups
from slotwise.payments.models import TopUp, TopUpCreate
from slotwise.payments.provider import use_provider
from slotwise.transaction import Transaction, TransactionFailed, execute
from tests.integration.test_payment_conditions import deliver_like_sqs
from tests.support.payments import FakeProvider

pytestmark = pytest.mark.dynamodb_local

CUSTOMER = Caller("cust", "customer")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.fixture
def provider(local_table: str) -> FakeProvider:
    fake = FakeProvider()
    use_provider(fake)
    return fake


def start(amount: int, caller: Caller = CUSTOMER) -> TopUp:
    return topups.start_top_up(caller, TopUpCreate(amount=amount, currency="EUR")).top_up


def event(kind: str, found: TopUp, seed: str | None = None) -> dict[str, Any]:
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


def entries(user: str = "cust") -> list[Any]:
    found, _ = store.wallet_entries(user, limit=100, start_key=None)
    return found


def test_a_succeeded_event_three_times_shuffled_and_concurrent_credits_once(provider: FakeProvider) -> None:
    first, second = start(7000), start(2500)
    # Each top-up's success under two event ids (as Stripe may send), every event three times, 8 threads.
    outcomes = deliver_like_sqs(
        [event("succeeded", first), event("succeeded", first, seed="again"), event("succeeded", second)],
        copies=3,
    )
    assert outcomes["top_up_credited"] == 2
    assert sum(outcomes.values()) == 9
    assert set(outcomes) <= {"top_up_credited", "duplicate"}
    assert store.wallet_balances("cust") == {"EUR": 9500}
    assert sorted((e.kind, e.amount, e.top_up_id) for e in entries()) == [
        ("top_up", 2500, second.id),
        ("top_up", 7000, first.id),
    ]


def test_failed_and_succeeded_racing_either_credit_or_refund_never_both(provider: FakeProvider) -> None:
    for _ in range(3):
        found = start(1000, Caller("racer", "customer"))
        deliver_like_sqs([event("payment_failed", found), event("succeeded", found)], copies=3)
        final = store.get_top_up(found.id)
        assert final is not None
        credited = sum(e.amount for e in entries("racer") if e.top_up_id == found.id)
        refunds = store.refunds_of(found.id)
        if final.status == "succeeded":
            assert (credited, refunds) == (1000, [])
        else:  # the failure came first: the late success went back to the card
            assert final.status == "refunded"
            assert credited == 0 and [r.amount for r in refunds] == [1000]


def test_a_failed_top_up_credits_nothing(provider: FakeProvider) -> None:
    found = start(5000)
    outcomes = deliver_like_sqs([event("payment_failed", found)], copies=3)
    assert outcomes == {"top_up_failed": 1, "duplicate": 2}
    assert store.wallet_balances("cust") == {}
    assert entries() == []
    assert store.top_up_day_total("cust", found.day) == 0


def test_the_daily_limit_holds_under_concurrency(provider: FakeProvider) -> None:
    """Twelve racing top-ups of 100,000 against a 300,000 daily limit: exactly three are made."""

    def attempt(_: int) -> str:
        try:
            start(100_000, Caller("spender", "customer"))
        except errors.ValidationFailed as refused:
            return refused.code
        except errors.Conflict as refused:  # pragma: no cover - contention exhausted retries
            return refused.code
        return "made"

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(attempt, range(12)))
    assert results.count("made") == 3, results
    assert set(results) == {"made", "top_up_limit"}
    day = datetime.now(UTC).date().isoformat()
    assert store.top_up_day_total("spender", day) == 300_000
    made, _ = store.query_top_ups("spender", limit=100, start_key=None)
    assert len(made) == 3


def test_the_daily_counter_condition_refuses_what_passes_the_limit(local_table: str) -> None:
    now = datetime.now(UTC)

    def top_up(amount: int, top_up_id: str) -> TopUp:
        return TopUp(
            id=top_up_id,
            user_id="u",
            amount=amount,
            currency="EUR",
            status="pending",
            provider="stripe",
            day="2026-12-06",
            created_at=now,
            updated_at=now,
        )

    def add(found: TopUp, limit: int) -> None:
        tx = Transaction()
        store.add_top_up(tx, found, daily_limit=limit)
        execute(tx)

    add(top_up(200, "a"), 500)  # no counter yet: attribute_not_exists
    add(top_up(300, "b"), 500)  # exactly to the limit: toppedUp (200) <= 500 - 300
    with pytest.raises(TransactionFailed) as refused:
        add(top_up(1, "c"), 500)
    assert refused.value.of_kind("top_up_limit")
    assert store.get_top_up("c") is None  # the top-up is not written without its share
    with pytest.raises(TransactionFailed) as again:
        add(top_up(1, "a"), 10_000)  # the same id twice: attribute_not_exists(PK)
    assert again.value.of_kind("top_up")
    assert store.top_up_day_total("u", "2026-12-06") == 500
    # Releasing a share needs no existing counter (a failure may arrive after the day's item expired).
    tx = Transaction()
    store.release_top_up_share(tx, top_up(300, "b"))
    execute(tx)
    tx = Transaction()
    store.release_top_up_share(tx, top_up(50, "z").model_copy(update={"day": "2020-01-01"}))
    execute(tx)
    assert store.top_up_day_total("u", "2026-12-06") == 200
    # A version condition guards every move of a top-up.
    stale = store.get_top_up("a")
    assert stale is not None
    moved = stale.model_copy(update={"status": "failed", "version": 2})
    tx = Transaction()
    store.replace_top_up(tx, stale, moved)
    execute(tx)
    tx = Transaction()
    store.replace_top_up(tx, stale, moved.model_copy(update={"status": "succeeded"}))
    with pytest.raises(TransactionFailed) as raced:
        execute(tx)
    assert raced.value.of_kind("top_up")
