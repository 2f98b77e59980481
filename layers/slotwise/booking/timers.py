"""A confirmed booking's deadlines: its reminders (e.g. 24 h and 1 h before the start) and its completion at the end.

Why an index and not one EventBridge Scheduler schedule per booking: a schedule is a second write beside the
booking's transaction, so a crash between them loses or orphans it, and every reschedule or cancellation would
have to delete and create schedules. Here the booking item itself carries its next deadline in the sparse GSI3
(`TIMER#<shard>` / `<due epoch>#<booking id>`, written by the same transaction as every change), so a cancelled
booking leaves the index and a rescheduled one is re-planned by construction. A job every minute reads what is
due (`slotwise.booking.deadlines.run_timers`), re-reads each booking and acts only if it still is that deadline:

  reminder   marked in `timersDone` with a conditional write on the version read (at most once), together with
             `lastReminder`; the publisher turns that change into one `booking.reminder` event (never lost: it
             is the stream record of the mark). A reminder whose moment passed while a later one is also due,
             after the start, or too long ago (`due_now`) is skipped (marked, not sent): nobody wants
             yesterday's "tomorrow" reminder.
  complete   the booking (confirmed, or in progress) becomes `completed` (a state change with its own
             `booking.completed` event), and an authorized payment is captured (authorize_then_capture).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slotwise.booking.models import Booking

COMPLETE = "complete"


@dataclass(frozen=True)
class Timer:
    kind: str
    due: datetime

    @property
    def reminder_minutes(self) -> int | None:
        return int(self.kind.split(":", 1)[1]) if self.kind.startswith("reminder:") else None


def reminder_kind(minutes: int) -> str:
    return f"reminder:{minutes}"


def timers_of(booking: Booking) -> list[Timer]:
    """Every deadline of the booking, in time order (reminders furthest out first, completion last)."""
    reminders = [
        Timer(reminder_kind(m), booking.start_time - timedelta(minutes=m))
        for m in sorted(set(booking.reminder_minutes))
    ]
    reminders.sort(key=lambda t: t.due)
    return [*reminders, Timer(COMPLETE, booking.end_time)]


def next_timer(booking: Booking) -> Timer | None:
    """The first deadline not yet handled, for a confirmed booking (a session under way: its completion only);
    None otherwise."""
    if booking.status == "in_progress":
        return None if COMPLETE in booking.timers_done else Timer(COMPLETE, booking.end_time)
    if booking.status != "confirmed":
        return None
    for timer in timers_of(booking):
        if timer.kind not in booking.timers_done:
            return timer
    return None


def _lateness(timer: Timer) -> timedelta:
    return timedelta(minutes=(timer.reminder_minutes or 0) / 4)


def _session_due(booking: Booking, now: datetime) -> tuple[list[str], Timer | None]:
    """Started: no reminder is worth sending any more; what remains is completing it at its end."""
    if COMPLETE in booking.timers_done or booking.end_time > now:
        return [], None
    late = [t.kind for t in timers_of(booking) if t.kind not in booking.timers_done and t.kind != COMPLETE]
    return late, Timer(COMPLETE, booking.end_time)


def due_now(booking: Booking, now: datetime) -> tuple[list[str], Timer | None]:
    """What to do at `now`: the timers to mark skipped, and the one to act on (None: nothing is due).

    Of several reminders due at once only the last is sent; a reminder is not sent after the start, nor later than
    a quarter of its lead time (a "24 hours" reminder up to 6 h late, a "1 hour" one up to 15 min): a booking made
    two hours ahead gets no "tomorrow" reminder.
    """
    if booking.status == "in_progress":
        return _session_due(booking, now)
    if booking.status != "confirmed":
        return [], None
    due = [t for t in timers_of(booking) if t.kind not in booking.timers_done and t.due <= now]
    if not due:
        return [], None
    if any(t.kind == COMPLETE for t in due):
        return [t.kind for t in due if t.kind != COMPLETE], Timer(COMPLETE, booking.end_time)
    reminders = [t for t in due if now < booking.start_time and now <= t.due + _lateness(t)]
    if not reminders:
        return [t.kind for t in due], None
    return [t.kind for t in due if t is not reminders[-1]], reminders[-1]
