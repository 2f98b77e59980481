"""The read side of inventory: is a window free, which start times are free, what conflicts with a request.

One Query reads every inventory item a question needs (the span of its lock keys); holds whose deadline has
passed count as free, exactly as a claim would evict them.

Anyone may ask (`availability.read`, guests included) about a resource they can see in the catalog: an archived
resource is missing (404) for everyone but its owner and admins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slotwise import errors
from slotwise.booking import access, store
from slotwise.booking.inventory import Holder, slot_items
from slotwise.booking.keys import key_span, lock_keys, span_key_range
from slotwise.booking.models import BookingTimes
from slotwise.booking.policy import candidate_windows, check_policy
from slotwise.booking.pricing import price_of
from slotwise.booking.resources import bookable_resource
from slotwise.booking.windows import Window, window_for, window_of
from slotwise.catalog.models import Resource
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.models import iso

MAX_BULK_SLOTS = 100
MAX_GRID_DAYS = 31


@dataclass(frozen=True)
class KeyState:
    taken: int
    holders: tuple[str, ...]


def key_states(held: dict[str, list[Holder]], keys: Sequence[str], now_epoch: int) -> dict[str, KeyState]:
    states = {}
    for key in keys:
        live = [h for h in held.get(key, []) if h.live(now_epoch)]
        states[key] = KeyState(sum(h.quantity for h in live), tuple(sorted(h.booking_id for h in live)))
    return states


def _policy_problem(resource: Resource, window: Window, quantity: int, now: datetime) -> dict[str, str] | None:
    try:
        check_policy(resource, window, quantity, now)
    except errors.ValidationFailed as broken:
        return {"code": broken.code, "detail": broken.detail}
    return None


def assess(
    resource: Resource, window: Window, quantity: int, held: dict[str, list[Holder]], now: datetime
) -> dict[str, Any]:
    """Availability of one window given the inventory already read."""
    keys = lock_keys(resource, window)
    states = key_states(held, keys, int(now.timestamp()))
    conflicts = [
        {
            **key_span(resource, key),
            "bookingIds": list(state.holders),
            "available": max(resource.capacity - state.taken, 0),
        }
        for key, state in states.items()
        if state.taken + quantity > resource.capacity
    ]
    remaining = min((resource.capacity - s.taken for s in states.values()), default=resource.capacity)
    problem = _policy_problem(resource, window, quantity, now)
    return {
        "available": problem is None and not conflicts,
        "startTime": iso(window.start.astimezone(resource.zone)),
        "endTime": iso(window.end.astimezone(resource.zone)),
        "remaining": max(remaining, 0),
        "conflicts": conflicts,
        "reasons": [problem] if problem else [],
    }


def read_inventory(resource: Resource, windows: Sequence[Window]) -> dict[str, list[Holder]]:
    """Every slot item the windows cover, in one Query (a quote reads through it too)."""
    low, high = span_key_range(resource, windows)
    return slot_items(resource.id, low, high)


def _describe_conflicts(caller: Caller, resource: Resource, report: dict[str, Any]) -> None:
    """Name the bookings in the way (the resource-booking API shows them); titles only to the vendor or admin."""
    ids = {i for conflict in report["conflicts"] for i in conflict["bookingIds"]}
    if not ids:
        return
    show_titles = access.manages_resource(caller, resource)
    report["conflictingBookings"] = [
        {
            "id": b.id,
            "startTime": iso(b.start_time),
            "endTime": iso(b.end_time),
            **({"title": b.title} if show_titles else {}),
        }
        for b in store.get_bookings(ids)
    ]


def _resource(caller: Caller, resource_id: str) -> Resource:
    permissions.require(caller, "availability.read")
    return access.resource_visible(caller, bookable_resource(resource_id), resource_id)


def check(caller: Caller, resource_id: str, times: BookingTimes, quantity: int, now: datetime) -> dict[str, Any]:
    resource = _resource(caller, resource_id)
    window = window_of(resource, times)
    report = assess(resource, window, quantity, read_inventory(resource, [window]), now)
    _describe_conflicts(caller, resource, report)
    duration = int((window.end - window.start).total_seconds() // 60)
    return {
        "resourceId": resource.id,
        "resourceName": resource.name,
        "quantity": quantity,
        "duration": duration,
        "price": price_of(resource, window, quantity).model_dump(mode="json", by_alias=True),
        **report,
    }


def check_many(
    caller: Caller, resource_id: str, slots: Sequence[BookingTimes], quantity: int, now: datetime
) -> dict[str, Any]:
    if len(slots) > MAX_BULK_SLOTS:
        raise errors.ValidationFailed(f"At most {MAX_BULK_SLOTS} time slots per request.", code="too_many_slots")
    resource = _resource(caller, resource_id)
    windows = [window_of(resource, slot) for slot in slots]
    held = read_inventory(resource, windows) if windows else {}
    return {
        "resourceId": resource.id,
        "quantity": quantity,
        "results": [assess(resource, window, quantity, held, now) for window in windows],
    }


def free_slots(
    caller: Caller, resource_id: str, frm: datetime, to: datetime, quantity: int, now: datetime
) -> dict[str, Any]:
    if to <= frm:
        raise errors.ValidationFailed("`to` comes after `from`.", code="end_before_start")
    if to - frm > timedelta(days=MAX_GRID_DAYS):
        raise errors.ValidationFailed(f"Ask for at most {MAX_GRID_DAYS} days at a time.", code="range_too_long")
    resource = _resource(caller, resource_id)
    windows = candidate_windows(resource, frm, to, now)
    held = read_inventory(resource, windows) if windows else {}
    slots = []
    for window in windows:
        states = key_states(held, lock_keys(resource, window), int(now.timestamp()))
        remaining = min(resource.capacity - s.taken for s in states.values())
        if remaining >= quantity:
            slots.append(
                {
                    "startTime": iso(window.start.astimezone(resource.zone)),
                    "endTime": iso(window.end.astimezone(resource.zone)),
                    "remaining": remaining,
                }
            )
    return {"resourceId": resource.id, "timezone": resource.timezone, "quantity": quantity, "slots": slots}


def is_free(resource: Resource, frm: datetime, to: datetime, now: datetime) -> bool:
    """Could this resource take one booking covering [frm, to)? (the catalog's availableFrom/availableTo filter)"""
    try:
        if resource.policy.unit == "night":
            window = window_for(
                resource, check_in=frm.astimezone(resource.zone).date(), check_out=to.astimezone(resource.zone).date()
            )
        elif resource.policy.unit == "fixed":
            window = window_for(resource)
            if window.start < frm or window.end > to:
                return False
        else:
            window = window_for(resource, start=frm, end=to)
        report = assess(resource, window, 1, read_inventory(resource, [window]), now)
    except errors.ValidationFailed:
        return False
    return bool(report["available"])


def first_free_slot(resource: Resource, frm: datetime, to: datetime, now: datetime) -> Window | None:
    """The earliest window of the resource's minimum length inside [frm, to) that one more booking fits (the
    advisors' directory: `nextFreeSlot` and its availableFrom/availableTo filter); None when there is none. One
    inventory Query over the candidates, as for `free_slots`."""
    to = min(to, frm + timedelta(days=MAX_GRID_DAYS))
    try:
        windows = [w for w in candidate_windows(resource, frm, to, now) if w.end <= to]
    except errors.ValidationFailed:
        return None
    if not windows:
        return None
    held = read_inventory(resource, windows)
    for window in windows:
        states = key_states(held, lock_keys(resource, window), int(now.timestamp()))
        if min(resource.capacity - s.taken for s in states.values()) >= 1:
            return window
    return None
