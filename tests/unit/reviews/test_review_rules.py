"""The review rules where they combine (hypothesis): which bookings may be reviewed when, and the rating's
arithmetic over any sequence of reviews and removals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotwise import errors
from slotwise.booking.models import BookingStatus
from slotwise.catalog.models import Rating
from slotwise.reviews.service import check_reviewable
from tests.support.catalog import make_resource

END = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
offsets = st.integers(min_value=-10_000, max_value=10_000).map(lambda m: END + timedelta(minutes=m))


@given(st.sampled_from(get_args(BookingStatus)), offsets)
def test_a_booking_is_reviewable_once_it_is_over_and_never_when_it_did_not_happen(status: str, now: datetime) -> None:
    allowed = status == "completed" or (status == "confirmed" and now >= END)
    if allowed:
        check_reviewable(status, END, now)
        return
    with pytest.raises(errors.Conflict) as refused:
        check_reviewable(status, END, now)
    expected = (
        "booking_not_finished"
        if status in {"held", "awaiting_approval", "payment_pending", "confirmed"}
        else "booking_not_reviewable"
    )
    assert refused.value.code == expected


@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=5)), max_size=40))
def test_the_rating_is_the_mean_of_what_remains(changes: list[tuple[bool, int]]) -> None:
    """Any sequence of reviews and removals (a removal takes back one earlier review): the counters the
    transactions ADD give exactly the mean of the ratings that remain."""
    kept: list[int] = []
    total = count = 0
    for remove, rating in changes:
        if remove and kept:
            gone = kept.pop(rating % len(kept))
            total, count = total - gone, count - 1
        else:
            kept.append(rating)
            total, count = total + rating, count + 1
    shown = make_resource(store=False).model_copy(update={"rating_sum": total, "rating_count": count}).rating
    if not kept:
        assert shown == Rating(average=None, count=0)
    else:
        assert shown.count == len(kept) and shown.average == round(sum(kept) / len(kept), 2)
        assert 1 <= shown.average <= 5
