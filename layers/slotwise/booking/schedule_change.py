"""Schedule changes: a fixed window (a departure, a class) moves, and every booking that holds it moves with it.

`POST /resources/{id}/schedule-change` writes the resource's new window with a `moving` change
(`slotwise.catalog.service.start_schedule_change`), then moves the bookings here, in chunks, as far as one call
allows; the timers job resumes any change left `moving` (a crash, a very full flight), so nothing is forgotten.

Why no booking is left at the old time: a booking of a fixed window checks, in its own transaction, that the
resource's window is still the one it read (`catalog.repository.window_check`). Transactions on the resource item
are serialised, so every booking either committed before the change (and holds the window's inventory item, which
the mover reads with a consistent read) or fails and is asked to book again at the new time.

Each moved booking gets one new version (history `schedule_changed`, event `booking.schedule_changed`: the
customer and the agent who booked are told, with an updated calendar entry) and may be cancelled with everything
back for `FREE_CANCELLATION` (`Booking.full_refund_until`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slotwise import errors
from slotwise.addons import store as addon_store
from slotwise.audit import log as audit
from slotwise.booking import inventory, store
from slotwise.booking.keys import FIXED_KEY
from slotwise.booking.models import HOLDING, Booking, HistoryEntry
from slotwise.booking.windows import now_utc
from slotwise.catalog import repository as catalog_store
from slotwise.catalog import service as catalog
from slotwise.catalog.models import Resource, ScheduleChange, ScheduleChangeRequest
from slotwise.identity.models import Caller
from slotwise.transaction import Transaction, TransactionFailed, execute

FREE_CANCELLATION = timedelta(days=7)
# Bookings one call moves (two calls each: a consistent read and a conditional write); the rest waits for the
# timers job, which runs every minute.
MOVES_PER_CALL = 300
_ATTEMPTS = 5
JOB = "schedule-change"


@dataclass(frozen=True)
class Progress:
    moved: int
    remaining: int

    @property
    def done(self) -> bool:
        return self.remaining == 0


def change_schedule(
    caller: Caller, resource_id: str, data: ScheduleChangeRequest, now: datetime | None = None
) -> Resource:
    """Move the window, then as many of its bookings as one call allows; the answer shows the change's state."""
    now = now or now_utc()
    resource = catalog.start_schedule_change(caller, resource_id, data, now, can_move=_stock_can_follow)
    progress = move_bookings(resource, now)
    change = resource.schedule_change
    if change is None:  # pragma: no cover - start_schedule_change always sets it
        return resource
    # The answer is what this call wrote (a read now could be an eventually consistent, older copy).
    after = change.model_copy(
        update={"moved": progress.moved} | ({"status": "done", "finished_at": now} if progress.done else {})
    )
    return resource.model_copy(update={"schedule_change": after})


def _stock_can_follow(resource: Resource, data: ScheduleChangeRequest) -> None:
    """Add-on stock counted per local day is claimed on the booked days: a move to other days would leave those
    claims behind, so it is refused while such an add-on exists (per-slot stock follows the window's one key)."""
    zone = resource.zone
    old_start, old_end = resource.policy.fixed_start, resource.policy.fixed_end
    if old_start is None or old_end is None:
        return
    days = {
        (start.astimezone(zone).date(), end.astimezone(zone).date())
        for start, end in ((old_start, old_end), (data.fixed_start, data.fixed_end))
    }
    if len(days) == 1:
        return
    by_day = [a.name for a in addon_store.list_addons(resource.id) if a.stock_scope == "per_day"]
    if by_day:
        raise errors.Conflict(
            f"The new window is on other days and the add-ons {', '.join(sorted(by_day))} are counted per day; "
            "change their stock to per slot first, or move within the same days.",
            code="addon_stock_by_day",
        )


def resume_all(now: datetime | None = None) -> dict[str, int]:
    """The timers job's part: carry on every change still moving its bookings."""
    now = now or now_utc()
    outcome = {"moved": 0, "finished": 0}
    for resource_id in catalog_store.moving_resources():
        resource = catalog_store.get_resource(resource_id)
        if resource is None:
            continue
        progress = move_bookings(resource, now)
        outcome["moved"] += progress.moved
        outcome["finished"] += int(progress.done)
    return outcome


def move_bookings(resource: Resource, now: datetime) -> Progress:
    """Move up to MOVES_PER_CALL bookings still at another window; mark the change done when none is left."""
    change = resource.schedule_change
    if change is None or change.status != "moving":
        return Progress(0, 0)
    holders = inventory.slot_items(resource.id, FIXED_KEY, FIXED_KEY).get(FIXED_KEY, [])
    moved = 0
    remaining = 0
    for holder in holders:
        if moved >= MOVES_PER_CALL:
            remaining += 1
            continue
        if _move(holder.booking_id, change, now):
            moved += 1
    if moved or remaining == 0:
        catalog_store.record_schedule_progress(resource.id, change.id, moved, now, done=remaining == 0)
    return Progress(moved, remaining)


def _move(booking_id: str, change: ScheduleChange, now: datetime) -> bool:
    """Move one booking to the change's window, conditional on the version read; False if nothing to move."""
    for _ in range(_ATTEMPTS):
        booking = store.get_booking(booking_id)
        if booking is None or booking.status not in HOLDING or _already_at(booking, change):
            return False
        after = _moved(booking, change, now)
        tx = Transaction()
        store.replace_booking(tx, booking, after)
        tx.audit(
            audit.system_entry(
                JOB,
                "booking.schedule_changed",
                "booking",
                booking.id,
                at=now,
                detail={"changeId": change.id, "fromStart": booking.start_time.isoformat()},
            )
        )
        try:
            execute(tx)
            return True
        except TransactionFailed:
            continue  # changed meanwhile (paid, cancelled, details): read it again
    return False


def _already_at(booking: Booking, change: ScheduleChange) -> bool:
    return booking.start_time == change.to_start and booking.end_time == change.to_end


def _moved(booking: Booking, change: ScheduleChange, now: datetime) -> Booking:
    zone = ZoneInfo(booking.timezone)
    start, end = change.to_start.astimezone(zone), change.to_end.astimezone(zone)
    entry = HistoryEntry(
        at=now,
        by=change.requested_by,
        action="schedule_changed",
        from_start=booking.start_time,
        from_end=booking.end_time,
        to_start=start,
        to_end=end,
        note=change.reason,
    )
    return booking.model_copy(
        update={
            "start_time": start,
            "end_time": end,
            "version": booking.version + 1,
            "updated_at": now,
            "history": [*booking.history, entry],
            "request_id": None,
            "full_refund_until": now + FREE_CANCELLATION,
            # New times, new reminders.
            "timers_done": [],
        }
    )
