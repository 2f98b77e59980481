"""Quotes: what a booking would cost, on which cancellation terms, and whether it could be made now. No write.

The price comes from `slotwise.booking.pricing.price_of`, the function a booking stores its price with, on the
same inputs (window, quantity, add-ons, guests), so a quote and the booking it becomes agree. Request errors (a
malformed window, an unknown, archived or foreign add-on, a quantity above an add-on's stock) are 422 as for a
booking; whether it can be booked now (policy, guests, slot inventory and add-on stock, read strongly consistent,
lapsed holds counted free as a claim would evict them) is `available` with its `reasons`.

Anyone who may browse the catalog may ask (`quote.create`): marketplaces quote anonymous visitors; the API's
per-caller request quota bounds what that costs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, model_validator

from slotwise import errors
from slotwise.addons.models import AddonRequests, check_distinct
from slotwise.booking import access, addons, availability, inventory, keys, policy
from slotwise.booking.models import BookedAddon, BookingTimes, Price
from slotwise.booking.pricing import price_of
from slotwise.booking.resources import bookable_resource
from slotwise.booking.windows import Window, window_of
from slotwise.catalog.models import Confirmation, Resource
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.models import DomainModel, Id


class QuoteRequest(BookingTimes):
    resource_id: Id
    quantity: Annotated[int, Field(ge=1, le=10_000)] = 1
    guests: Annotated[int, Field(ge=0, le=100_000)] | None = None
    addons: AddonRequests = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct_addons(self) -> QuoteRequest:
        check_distinct(self.addons)
        return self


class RefundDeadline(DomainModel):
    """Cancelled by the customer before `deadline`: `refundPercent` of what was paid comes back (less the fee)."""

    min_hours_before: int
    refund_percent: int
    deadline: datetime = Field(description="ISO 8601 in the resource's timezone")


class CancellationTerms(DomainModel):
    deadlines: list[RefundDeadline]
    refund_percent_after: int = Field(default=0, description="refund percent after the last deadline")
    fee: int = Field(description="kept from any refund above zero, minor units")
    default_refund_to: Literal["card", "wallet"]
    note: str = "A cancellation by the vendor refunds everything, without a fee."


class QuoteReason(DomainModel):
    code: str
    detail: str


class Quote(DomainModel):
    resource_id: str
    resource_name: str
    timezone: str
    start_time: datetime
    end_time: datetime
    check_in: date | None = None
    check_out: date | None = None
    quantity: int
    guests: int | None = None
    currency: str
    total: int = Field(description="minor units; equals price.amount")
    price: Price
    addons: list[BookedAddon]
    cancellation: CancellationTerms
    confirmation: Confirmation
    available: bool
    reasons: list[QuoteReason] = Field(default_factory=list)


def cancellation_terms(resource: Resource, start: datetime) -> CancellationTerms:
    cancel = resource.policy.cancellation
    local_start = start.astimezone(resource.zone)
    return CancellationTerms(
        deadlines=[
            RefundDeadline(
                min_hours_before=tier.min_hours_before,
                refund_percent=tier.percent,
                deadline=(local_start - timedelta(hours=tier.min_hours_before)).astimezone(resource.zone),
            )
            for tier in cancel.tiers
        ],
        fee=cancel.fee,
        default_refund_to=cancel.default_refund_to,
    )


def _reason(problem: errors.SlotwiseError) -> QuoteReason:
    return QuoteReason(code=problem.code, detail=problem.detail)


def _inventory_reasons(
    resource: Resource, window: Window, quantity: int, booked_addons: list[BookedAddon], now: datetime
) -> list[QuoteReason]:
    lock_keys = keys.lock_keys(resource, window)
    report = availability.assess(resource, window, quantity, availability.read_inventory(resource, [window]), now)
    found = [QuoteReason(code="slot_unavailable", detail="The requested time is taken.")] if report["conflicts"] else []
    wanted = addons.stock_claims(resource, window, lock_keys, booked_addons)
    if wanted:
        limits = addons.stock_limits(resource.id, wanted)
        states = availability.key_states(
            inventory.stock_items(resource.id, [c.key for c in wanted]), [c.key for c in wanted], int(now.timestamp())
        )
        short = sorted({c.addon_id for c in wanted if states[c.key].taken + c.quantity > limits[c.key][1]})
        names = {a.addon_id: a.name for a in booked_addons}
        found += [
            QuoteReason(code="addon_unavailable", detail=f"Not enough of {names[addon_id]!r} is left for this time.")
            for addon_id in short
        ]
    return found


def quote(caller: Caller, request: QuoteRequest, now: datetime) -> Quote:
    permissions.require(caller, "quote.create")
    resource = access.resource_visible(caller, bookable_resource(request.resource_id), request.resource_id)
    window = window_of(resource, request)
    chosen = addons.chosen(resource, request.addons) if request.addons else []
    booked_addons = addons.booked(chosen, request.addons)
    price = price_of(resource, window, request.quantity, addons.choices(booked_addons), request.guests)
    reasons: list[QuoteReason] = []
    try:
        policy.check_policy(resource, window, request.quantity, now)
    except errors.ValidationFailed as broken:
        reasons.append(_reason(broken))
    guests = policy.guests_problem(resource, request.guests)
    if guests is not None:
        reasons.append(_reason(guests))
    if not reasons:
        reasons = _inventory_reasons(resource, window, request.quantity, booked_addons, now)
    start, end = window.start.astimezone(resource.zone), window.end.astimezone(resource.zone)
    return Quote(
        resource_id=resource.id,
        resource_name=resource.name,
        timezone=resource.timezone,
        start_time=start,
        end_time=end,
        check_in=window.check_in,
        check_out=window.check_out,
        quantity=request.quantity,
        guests=request.guests,
        currency=price.currency,
        total=price.amount,
        price=price,
        addons=booked_addons,
        cancellation=cancellation_terms(resource, start),
        confirmation=resource.policy.confirmation,
        available=not reasons,
        reasons=reasons,
    )
