"""What a booking costs: each unit at the first matching price rule (or the base price), times the quantity, plus
one line per add-on taken.

Amounts are in minor units of the resource's currency. `price_of` is the one pricing function: a booking stores
its result and a quote (`slotwise.booking.quotes`) returns it, so a quote and the booking it becomes agree.

An add-on line (`addonId` set) for `quantity` of an add-on priced `price`:
  per_booking  units = quantity                         amount = price x units
  per_unit     units = quantity x the priced units      amount = price x units
               (granules of the booked time, nights, or 1 for a fixed window: the units of the base lines)
  per_guest    units = quantity x guests                amount = price x units
The booking's quantity does not multiply add-on lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slotwise import errors
from slotwise.addons.models import AddonPricing
from slotwise.booking.models import Price
from slotwise.booking.windows import Window, nights_of, utc
from slotwise.catalog.models import MINUTES_PER_DAY, WEEKDAYS, PriceRule, Resource, Weekday, parse_hhmm

STANDARD_RATE = "Standard rate"


@dataclass(frozen=True)
class PriceLine:
    """Units sold at one unit price; `amount` = unit_price * units * quantity (an add-on's: unit_price * units)."""

    description: str
    unit_price: int
    units: int
    amount: int
    addon_id: str | None = None


@dataclass(frozen=True)
class AddonChoice:
    """An add-on a booking takes, on the terms it takes it at (the add-on's now, or those a booking recorded)."""

    addon_id: str
    name: str
    unit_price: int
    pricing: AddonPricing
    quantity: int


@dataclass(frozen=True)
class PriceQuote:
    currency: str
    amount: int
    quantity: int
    lines: tuple[PriceLine, ...]


def price_of(
    resource: Resource,
    window: Window,
    quantity: int,
    addons: tuple[AddonChoice, ...] = (),
    guests: int | None = None,
) -> Price:
    """The price as the booking records it and a quote shows it: the base lines, then one line per add-on."""
    base = quote(resource, window, quantity)
    priced_units = sum(line.units for line in base.lines)
    lines = base.lines + tuple(addon_line(choice, priced_units, guests) for choice in addons)
    total = PriceQuote(base.currency, sum(line.amount for line in lines), quantity, lines)
    return Price.model_validate(_quote_json(total))


def addon_line(choice: AddonChoice, priced_units: int, guests: int | None) -> PriceLine:
    if choice.pricing == "per_guest":
        if guests is None:
            raise errors.ValidationFailed(
                f"The add-on {choice.name!r} is priced per guest: name the booking's guests.", code="guests_required"
            )
        units = choice.quantity * guests
    elif choice.pricing == "per_unit":
        units = choice.quantity * priced_units
    else:
        units = choice.quantity
    return PriceLine(choice.name, choice.unit_price, units, choice.unit_price * units, choice.addon_id)


def _quote_json(quote: PriceQuote) -> dict[str, Any]:
    return {
        "currency": quote.currency,
        "amount": quote.amount,
        "quantity": quote.quantity,
        "lines": [
            {
                "description": line.description,
                "unitPrice": line.unit_price,
                "units": line.units,
                "amount": line.amount,
                "addonId": line.addon_id,
            }
            for line in quote.lines
        ],
    }


def quote(resource: Resource, window: Window, quantity: int) -> PriceQuote:
    """Price in minor units: each unit at the first matching rule (or the base price), times the quantity.

    A unit is a granule of the booked time (buffers are free), a night, or the fixed window. A rule's time range
    is tested against the unit's local start: the granule start, the night's check-in time, the fixed start.
    A misaligned tail counts as a whole granule; check_policy refuses such windows anyway.
    """
    if quantity < 1:
        raise errors.ValidationFailed(f"quantity is at least 1; got {quantity}.", code="invalid_quantity")
    pricing = resource.pricing
    by_price: dict[int, tuple[list[str], int]] = {}
    for weekday, minute in _unit_starts(resource, window):
        rule = next((r for r in pricing.rules if _rule_applies(r, weekday, minute)), None)
        name, price = (STANDARD_RATE, pricing.unit_price) if rule is None else (rule.name, rule.unit_price)
        names, units = by_price.get(price, ([], 0))
        if name not in names:
            names.append(name)
        by_price[price] = (names, units + 1)
    lines = tuple(
        PriceLine(" / ".join(names), price, units, price * units * quantity)
        for price, (names, units) in by_price.items()
    )
    return PriceQuote(pricing.currency, sum(line.amount for line in lines), quantity, lines)


def _unit_starts(resource: Resource, window: Window) -> Iterator[tuple[Weekday, int]]:
    """(local weekday, local minute of day) at which each priced unit starts."""
    policy, zone = resource.policy, resource.zone
    if policy.unit == "night":
        check_in, check_out = nights_of(window)
        at = parse_hhmm(policy.check_in_time)
        for n in range((check_out - check_in).days):
            night = check_in + timedelta(days=n)
            yield WEEKDAYS[night.weekday()], at.hour * 60 + at.minute
        return
    start, end = utc(window.start), utc(window.end)
    granule = timedelta(minutes=policy.granule_minutes)
    cursor = start
    while True:
        local = cursor.astimezone(zone)
        yield WEEKDAYS[local.weekday()], local.hour * 60 + local.minute
        cursor += granule
        if policy.unit == "fixed" or cursor >= end:
            return


def _rule_applies(rule: PriceRule, weekday: Weekday, minute: int) -> bool:
    if rule.weekdays is not None and weekday not in rule.weekdays:
        return False
    low = _minute_of(rule.start) if rule.start else 0
    high = _minute_of(rule.end) if rule.end else MINUTES_PER_DAY
    if low < high:
        return low <= minute < high
    # start >= end runs across midnight (22:00-06:00); equal ends mean the whole day.
    return minute >= low or minute < high


def _minute_of(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)
