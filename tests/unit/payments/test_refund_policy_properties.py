"""Refund terms where the rules combine: tiers by time left, the fee, what was refunded before, who cancels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from slotwise.catalog.models import CancellationPolicy
from slotwise.payments.policy import refund_terms, split

START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


@st.composite
def policies(draw: st.DrawFn) -> CancellationPolicy:
    hours = draw(st.lists(st.integers(0, 24 * 60), min_size=0, max_size=5, unique=True))
    percents = sorted(draw(st.lists(st.integers(0, 100), min_size=len(hours), max_size=len(hours))), reverse=True)
    tiers = [{"minHoursBefore": h, "percent": p} for h, p in zip(sorted(hours, reverse=True), percents, strict=True)]
    return CancellationPolicy.model_validate({"tiers": tiers, "fee": draw(st.integers(0, 5000))})


amounts = st.integers(0, 10**7)
offsets = st.integers(-48 * 60, 24 * 60 * 90)  # minutes before the start (negative: after it)


@given(policies(), amounts, amounts, offsets)
def test_a_refund_is_never_negative_nor_more_than_is_left(
    policy: CancellationPolicy, paid: int, refunded: int, minutes: int
) -> None:
    refunded = min(refunded, paid)
    terms = refund_terms(
        policy, paid=paid, refunded=refunded, start=START, now=START - timedelta(minutes=minutes), by_provider=False
    )
    assert 0 <= terms.amount <= paid - refunded
    assert terms.amount <= paid * terms.percent // 100
    assert 0 <= terms.fee <= policy.fee
    if terms.amount > 0:
        assert terms.amount == min(paid - refunded, paid * terms.percent // 100 - policy.fee)


@given(policies(), amounts, offsets, st.integers(1, 24 * 60 * 30))
def test_cancelling_earlier_never_gives_back_less(
    policy: CancellationPolicy, paid: int, minutes: int, earlier_by: int
) -> None:
    def amount(before: int) -> int:
        now = START - timedelta(minutes=before)
        return refund_terms(policy, paid=paid, refunded=0, start=START, now=now, by_provider=False).amount

    assert amount(minutes + earlier_by) >= amount(minutes)


@given(policies(), amounts, offsets)
def test_the_quote_holds_until_its_valid_until_and_not_after(
    policy: CancellationPolicy, paid: int, minutes: int
) -> None:
    now = START - timedelta(minutes=minutes)
    terms = refund_terms(policy, paid=paid, refunded=0, start=START, now=now, by_provider=False)
    if terms.valid_until is None:
        return
    assert terms.valid_until >= now
    same = refund_terms(policy, paid=paid, refunded=0, start=START, now=terms.valid_until, by_provider=False)
    after = refund_terms(
        policy, paid=paid, refunded=0, start=START, now=terms.valid_until + timedelta(seconds=1), by_provider=False
    )
    assert same.percent == terms.percent
    assert after.percent <= terms.percent


@given(policies(), amounts, amounts, offsets)
def test_the_provider_cancelling_refunds_everything_left_without_a_fee(
    policy: CancellationPolicy, paid: int, refunded: int, minutes: int
) -> None:
    refunded = min(refunded, paid)
    now = START - timedelta(minutes=minutes)
    terms = refund_terms(policy, paid=paid, refunded=refunded, start=START, now=now, by_provider=True)
    assert (terms.amount, terms.fee, terms.percent) == (paid - refunded, 0, 100)


@given(amounts, amounts, st.booleans())
def test_a_split_loses_nothing_and_never_over_refunds_the_card(amount: int, card_left: int, to_card: bool) -> None:
    card, wallet = split(amount, card_left=card_left, to_card=to_card)
    assert card + wallet == amount
    assert 0 <= card <= card_left
    assert wallet >= 0
    if not to_card:
        assert card == 0


def test_the_default_policy_is_the_usual_tiers() -> None:
    policy = CancellationPolicy()
    week, two_days, day = (START - timedelta(hours=h) for h in (168, 48, 24))
    percents = [
        refund_terms(policy, paid=1000, refunded=0, start=START, now=now, by_provider=False).percent
        for now in (week, two_days, day, START - timedelta(hours=23))
    ]
    assert percents == [100, 50, 25, 0]


@pytest.mark.parametrize(
    "tiers",
    [
        [{"minHoursBefore": 48, "percent": 50}, {"minHoursBefore": 168, "percent": 25}],  # earlier gets less
        [{"minHoursBefore": 48, "percent": 50}, {"minHoursBefore": 48, "percent": 25}],  # same boundary twice
        [{"minHoursBefore": 48, "percent": 101}],
    ],
)
def test_incoherent_policies_are_refused(tiers: list[dict[str, int]]) -> None:
    with pytest.raises(ValidationError):
        CancellationPolicy.model_validate({"tiers": tiers})
