"""How much a cancellation gives back: the booking's cancellation policy (tiers by time before the start, a fee),
applied to what was paid and not yet refunded. Pure functions; the services read and write.

Rules, in order:
- the vendor, an advisor or an admin cancelling refunds everything still refundable, without a fee (the customer
  did not cause it); so does the customer cancelling before `fullRefundUntil` (the operator moved the booking);
- a customer cancelling gets the percentage of the first tier whose `minHoursBefore` the time left before the start
  reaches (tiers are ordered largest first; none reached, or the start has passed: 0 %);
- the percentage is of the amount paid, rounded down to the minor unit (a refund never exceeds what the tier says);
- the fee is kept from any refund above zero (never making it negative);
- the result never exceeds what is still refundable (paid minus refunded before).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slotwise.catalog.models import CancellationPolicy, RefundTier


@dataclass(frozen=True)
class RefundTerms:
    percent: int
    fee: int
    amount: int
    tier: RefundTier | None
    # When these terms get worse: the moment the applied tier stops applying (None: they cannot get worse).
    valid_until: datetime | None


def tier_at(policy: CancellationPolicy, start: datetime, now: datetime) -> RefundTier | None:
    left = start - now
    for tier in policy.tiers:  # largest minHoursBefore first (the policy orders them)
        if left >= timedelta(hours=tier.min_hours_before):
            return tier
    return None


def refund_terms(
    policy: CancellationPolicy,
    *,
    paid: int,
    refunded: int,
    start: datetime,
    now: datetime,
    by_provider: bool,
    full_refund_until: datetime | None = None,
) -> RefundTerms:
    refundable = max(0, paid - refunded)
    if by_provider:
        return RefundTerms(percent=100, fee=0, amount=refundable, tier=None, valid_until=None)
    if full_refund_until is not None and now < full_refund_until:
        # The operator moved the booking (a schedule change): the customer may walk away whole for a while.
        return RefundTerms(percent=100, fee=0, amount=refundable, tier=None, valid_until=full_refund_until)
    tier = tier_at(policy, start, now)
    percent = tier.percent if tier is not None else 0
    gross = paid * percent // 100
    fee = min(policy.fee, gross) if gross > 0 else 0
    amount = min(refundable, gross - fee)
    valid_until = start - timedelta(hours=tier.min_hours_before) if tier is not None and percent > 0 else None
    return RefundTerms(percent=percent, fee=fee, amount=amount, tier=tier, valid_until=valid_until)


def split(amount: int, *, card_left: int, to_card: bool) -> tuple[int, int]:
    """(to the card, to the wallet): the card takes what it can of a card refund (never more than it paid and got
    back), the wallet the rest; a wallet refund is all wallet."""
    if not to_card:
        return 0, amount
    card = min(amount, max(0, card_left))
    return card, amount - card
