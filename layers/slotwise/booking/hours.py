"""A resource's own calendar: opening hours, date overrides and blackout dates, changed by its vendor or by the
advisor who is the resource (`PUT /resources/{id}/availability`), and nothing else of the resource.

A change never strands a booking: hours only decide which new bookings are taken, so the bookings already made
keep their times and their claim. Those now outside the calendar are reported with the change
(`bookingsOutsideHours`), so the advisor or vendor can move or cancel them deliberately.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from slotwise.booking import policy, resources, store
from slotwise.booking.models import HOLDING
from slotwise.booking.windows import booked_window, now_utc
from slotwise.catalog import service as catalog
from slotwise.catalog.models import HoursUpdate, Resource
from slotwise.data.due import sort_range
from slotwise.identity.models import Caller
from slotwise.models import iso

# Future bookings a change reads to report those outside the new calendar (one resource's next months).
MAX_CHECKED = 500
# A booking that started up to this long ago may still be running.
_RUNNING = timedelta(days=1)


def change_hours(
    caller: Caller, resource_id: str, data: HoursUpdate, *, if_match: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Replace the resource's calendar (conditional on the version read); answer it with the bookings now outside."""
    now = now or now_utc()
    updated = catalog.replace_calendar(caller, resource_id, data, if_match=if_match, now=now)
    # This instance books by the new calendar at once; others within the resource cache's few seconds.
    resources.forget(resource_id)
    outside, complete = _outside(updated, now)
    return {
        "resource": updated.model_dump(mode="json", by_alias=True),
        "bookingsOutsideHours": outside,
        "complete": complete,
    }


def _outside(resource: Resource, now: datetime) -> tuple[list[dict[str, Any]], bool]:
    """Active bookings still to end that the new calendar would refuse (read: up to MAX_CHECKED of them)."""
    low, high = sort_range(now - _RUNNING, None)
    bookings, last = store.query_bookings(
        "GSI2", f"RESBOOK#{resource.id}", low=low, high=high, limit=MAX_CHECKED, start_key=None
    )
    live = [b for b in bookings if (b.status in HOLDING or b.status == "in_progress") and b.end_time > now]
    windows = [booked_window(b) for b in live]
    problems = policy.calendar_problems(resource, windows)
    found = [
        {
            "id": booking.id,
            "reference": booking.reference,
            "status": booking.status,
            "startTime": iso(booking.start_time),
            "endTime": iso(booking.end_time),
            "reason": problem.detail,
        }
        for booking, problem in zip(live, problems, strict=True)
        if problem is not None
    ]
    return found, last is None
