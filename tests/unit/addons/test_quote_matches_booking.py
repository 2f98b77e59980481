"""A quote and the booking it becomes agree: over a sample of policies, price rules, add-ons, guests and windows,
the quote's total and lines equal the price the booking stores (both come from `pricing.price_of`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotwise.addons import service as addon_service
from slotwise.addons.models import AddonInput
from slotwise.booking import quotes
from slotwise.booking import store as booking_store
from slotwise.booking.create import create_booking
from slotwise.booking.models import BookingCreate
from slotwise.identity.models import ANONYMOUS, Caller
from tests.support.catalog import VENDOR, make_resource

NOW = datetime(2027, 1, 4, tzinfo=UTC)
MONDAY = datetime(2027, 3, 1, tzinfo=UTC)
VENDOR_CALLER = Caller(user_id=VENDOR, role="vendor")

hours = st.integers(min_value=0, max_value=23).map(lambda h: f"{h:02d}:00")
rules = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(["Peak", "Weekend", "Night"]),
            "unitPrice": st.integers(min_value=0, max_value=9_000),
        },
        optional={
            "weekdays": st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), unique=True),
            "start": hours,
            "end": hours,
        },
    ),
    max_size=3,
)
addon_specs = st.lists(
    st.fixed_dictionaries(
        {
            "price": st.integers(min_value=0, max_value=50_000),
            "pricing": st.sampled_from(["per_booking", "per_unit", "per_guest"]),
            "quantity": st.integers(min_value=1, max_value=4),
        },
        optional={"stockScope": st.sampled_from(["per_day", "per_slot"])},
    ),
    max_size=3,
)
tiers = st.sampled_from(
    [
        [],
        [{"minHoursBefore": 24, "percent": 100}],
        [{"minHoursBefore": 168, "percent": 100}, {"minHoursBefore": 48, "percent": 50}],
    ]
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    granule=st.sampled_from([15, 30, 60]),
    unit_price=st.integers(min_value=0, max_value=20_000),
    price_rules=rules,
    confirmation=st.sampled_from(["auto", "approval", "payment"]),
    cancellation=tiers,
    fee=st.integers(min_value=0, max_value=1_000),
    day=st.integers(min_value=0, max_value=6),
    start_hour=st.integers(min_value=0, max_value=20),
    granules=st.integers(min_value=1, max_value=6),
    quantity=st.integers(min_value=1, max_value=3),
    guests=st.integers(min_value=1, max_value=80),
    specs=addon_specs,
)
def test_the_quote_total_is_the_stored_booking_price(
    table: str,
    granule: int,
    unit_price: int,
    price_rules: list[dict[str, Any]],
    confirmation: str,
    cancellation: list[dict[str, int]],
    fee: int,
    day: int,
    start_hour: int,
    granules: int,
    quantity: int,
    guests: int,
    specs: list[dict[str, Any]],
) -> None:
    resource = make_resource(
        capacity=3,
        kind="hall",
        policy={
            "granuleMinutes": granule,
            "maxUnits": 366,
            "confirmation": confirmation,
            "cancellation": {"tiers": cancellation, "fee": fee},
        },
        pricing={"currency": "EUR", "unitPrice": unit_price, "rules": price_rules},
    )
    chosen = []
    for index, spec in enumerate(specs):
        fields = {"name": f"Extra {index}", "price": spec["price"], "pricing": spec["pricing"]}
        if "stockScope" in spec:
            fields |= {"stock": spec["quantity"] + 1, "stockScope": spec["stockScope"]}
        made = addon_service.create_addon(VENDOR_CALLER, resource.id, AddonInput.model_validate(fields))
        chosen.append({"addonId": made.id, "quantity": spec["quantity"]})
    start = MONDAY + timedelta(days=day, hours=start_hour)
    times = {"startTime": start.isoformat(), "endTime": (start + timedelta(minutes=granule * granules)).isoformat()}
    request = {"resourceId": resource.id, "quantity": quantity, "guests": guests, "addons": chosen, **times}

    quoted = quotes.quote(ANONYMOUS, quotes.QuoteRequest.model_validate(request), NOW)
    assert quoted.available, quoted.reasons
    customer = Caller(user_id=f"c-{uuid.uuid4().hex[:8]}", role="customer")
    booking = create_booking(customer, BookingCreate.model_validate(request), now=NOW).booking
    stored = booking_store.get_booking(booking.id)
    assert stored is not None
    assert quoted.price == stored.price and quoted.total == stored.price.amount
    assert sum(line.amount for line in stored.price.lines) == stored.price.amount
    assert len([line for line in stored.price.lines if line.addon_id]) == len(specs)
    # The quote's deadlines are the booking's policy's tiers, counted back from its start in local time.
    assert [d.deadline for d in quoted.cancellation.deadlines] == [
        stored.start_time - timedelta(hours=t.min_hours_before)
        for t in stored.cancellation_policy.tiers  # type: ignore[union-attr]
    ]
