"""Add-ons on a booking: which ones a request may take, the stock keys they hold, and the transaction steps that
claim, firm up and release them beside the booking's slots.

Stock is inventory like slots (`slotwise.booking.inventory`, items `RESOURCE#<id>/STOCK#<key>`), claimed in the
booking's own transaction with the same conditional counter (`used <= stock - quantity`) and the same holder
entries, so a hold's add-ons lapse with it: a claimant that finds a lapsed holder on a stock key evicts it and
expires its booking exactly as on a slot (`slotwise.booking.claims`), the sweeper releases what a lapsed hold
still holds, and confirming it makes its stock claims firm with its slots.

Stock keys: `A#<addonId>#D#<local date>` for `per_day` (each local day the booked time touches, or each night),
`A#<addonId>#<lock key>` for `per_slot` (each slot the booking claims, buffers included).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from slotwise import errors
from slotwise.addons import store
from slotwise.addons.models import Addon, AddonRequest
from slotwise.booking import claims, inventory
from slotwise.booking.models import BookedAddon, Booking, StockClaim
from slotwise.booking.pricing import AddonChoice
from slotwise.booking.windows import Window, nights_of
from slotwise.catalog.models import Resource
from slotwise.transaction import Transaction


def _refuse(detail: str, code: str, addon_id: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(detail, code=code, extra={"addonId": addon_id})


def chosen(resource: Resource, requests: Sequence[AddonRequest]) -> list[Addon]:
    """The active add-ons of this resource the request names, in its order; 422 for any other."""
    found = store.get_addons(resource.id, [request.addon_id for request in requests])
    result = []
    for request in requests:
        addon = found.get(request.addon_id)
        if addon is None:
            # An add-on of another resource is looked up under this one's key: it is unknown here.
            raise _refuse(f"No add-on {request.addon_id} on this resource.", "addon_not_found", request.addon_id)
        if addon.status != "active":
            raise _refuse(f"The add-on {addon.name!r} is no longer offered.", "addon_archived", addon.id)
        if addon.currency != resource.pricing.currency:
            raise _refuse(
                f"The add-on {addon.name!r} is priced in {addon.currency}, the resource in "
                f"{resource.pricing.currency}; its vendor must update it.",
                "addon_currency_mismatch",
                addon.id,
            )
        if addon.stock is not None and request.quantity > addon.stock:
            raise _refuse(
                f"At most {addon.stock} of {addon.name!r} exist per {(addon.stock_scope or 'per_day')[4:]}; "
                f"asked for {request.quantity}.",
                "addon_quantity_above_stock",
                addon.id,
            )
        result.append(addon)
    return result


def booked(addons: Sequence[Addon], requests: Sequence[AddonRequest]) -> list[BookedAddon]:
    return [
        BookedAddon(
            addon_id=addon.id,
            name=addon.name,
            quantity=request.quantity,
            unit_price=addon.price,
            pricing=addon.pricing,
            stock_scope=addon.stock_scope if addon.stock is not None else None,
        )
        for addon, request in zip(addons, requests, strict=True)
    ]


def choices(booked_addons: Sequence[BookedAddon]) -> tuple[AddonChoice, ...]:
    """What the pricing function charges for the add-ons, on the terms the booking took them at."""
    return tuple(AddonChoice(a.addon_id, a.name, a.unit_price, a.pricing, a.quantity) for a in booked_addons)


def local_days(resource: Resource, window: Window) -> list[date]:
    """The local dates a booking occupies: its nights, or every date its booked time touches (end excluded)."""
    if resource.policy.unit == "night":
        check_in, check_out = nights_of(window)
        return [check_in + timedelta(days=n) for n in range((check_out - check_in).days)]
    first = window.start.astimezone(resource.zone).date()
    last = (window.end.astimezone(resource.zone) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def stock_claims(
    resource: Resource, window: Window, lock_keys: Sequence[str], booked_addons: Sequence[BookedAddon]
) -> list[StockClaim]:
    """The stock keys a booking of `window` holds for its stocked add-ons."""
    result: list[StockClaim] = []
    days: list[date] | None = None
    for addon in booked_addons:
        if addon.stock_scope == "per_slot":
            periods = list(lock_keys)
        elif addon.stock_scope == "per_day":
            days = days if days is not None else local_days(resource, window)
            periods = [f"D#{day.isoformat()}" for day in days]
        else:
            continue
        result += [
            StockClaim(addon_id=addon.addon_id, key=f"A#{addon.addon_id}#{p}", quantity=addon.quantity) for p in periods
        ]
    return result


# The limit of a claim on an add-on whose stock was removed after the booking took it: unlimited now.
UNLIMITED = 10**9


def _stock_of(addon: Addon | None) -> int:
    if addon is None:
        return 0
    return UNLIMITED if addon.stock is None else addon.stock


def stock_limits(resource_id: str, wanted: Sequence[StockClaim]) -> dict[str, tuple[int, int]]:
    """(quantity, stock) per stock key, each add-on's stock read now (an archived one keeps its stock)."""
    addons = store.get_addons(resource_id, sorted({claim.addon_id for claim in wanted}))
    return {claim.key: (claim.quantity, _stock_of(addons.get(claim.addon_id))) for claim in wanted}


def add_stock_claims(
    tx: Transaction,
    booking: Booking,
    wanted: Sequence[StockClaim],
    state: claims.ClaimState,
    limits: claims.StockLimits,
) -> None:
    for claim in wanted:
        inventory.claim(
            tx,
            booking.resource_id,
            claim.key,
            booking_id=booking.id,
            quantity=claim.quantity,
            capacity=limits[claim.key][1],
            expires_epoch=booking.expires_epoch,
            evict=state.evictions.get(claim.key, ()),
            holder_user=booking.created_by,
            holder_status=booking.status,
            stock=True,
        )


def release_stock(tx: Transaction, booking: Booking, only: Sequence[StockClaim] | None = None) -> None:
    for claim in booking.stock_claims if only is None else only:
        inventory.release(
            tx, booking.resource_id, claim.key, booking_id=booking.id, quantity=claim.quantity, stock=True
        )


def release_held_stock(tx: Transaction, booking: Booking) -> None:
    """Release the stock a lapsed or unpaid hold still holds (a claimant may have evicted it from some keys)."""
    if not booking.stock_claims:
        return
    held = inventory.slot_holders(booking.resource_id, [c.key for c in booking.stock_claims], booking.id, stock=True)
    release_stock(tx, booking, [c for c in booking.stock_claims if c.key in held])


def firm_stock(tx: Transaction, booking: Booking) -> None:
    """The booking no longer lapses (confirmed, or a payment on its way): neither do its stock claims."""
    set_stock_expiry(tx, booking, 0)


def set_stock_expiry(tx: Transaction, booking: Booking, expires_epoch: int) -> None:
    """The booking's stock claims lapse when its slots do (0: never; an accepted request: its payment deadline)."""
    for claim in booking.stock_claims:
        inventory.set_expiry(
            tx, booking.resource_id, claim.key, booking_id=booking.id, expires_epoch=expires_epoch, stock=True
        )
