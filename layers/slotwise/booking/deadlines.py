"""What happens when a booking's deadline comes, for the scheduled jobs: a hold lapses (it expires and its
inventory is released), a reminder is due, a finished booking completes. One transaction per booking; a booking
that changed meanwhile is left for the next run."""

from __future__ import annotations

from datetime import datetime

from slotwise.audit import log as audit
from slotwise.booking import addons, backfill, inventory, schedule_change, store, timers
from slotwise.booking.changes import add_status_change, charge_request, next_version
from slotwise.booking.models import EXPIRING, SentReminder
from slotwise.booking.settlement import settlement
from slotwise.booking.windows import now_utc
from slotwise.transaction import Transaction, TransactionFailed, execute

SWEEPER = "hold-expiry"
TIMERS_JOB = "booking-timers"


def expire_one(booking_id: str, now: datetime, job: str = SWEEPER) -> bool:
    """Expire one lapsed hold and release what it still holds, in one transaction; False if it is not one."""
    booking = store.get_booking(booking_id)
    if booking is None or booking.status not in EXPIRING or booking.expires_at is None:
        return False
    if booking.expires_at > now:
        return False
    holders = inventory.slot_holders(booking.resource_id, booking.lock_keys, booking.id)
    after = next_version(booking, by=None, action="expired", now=now, status="expired")
    tx = Transaction()
    money = settlement().release(tx, booking, "hold_expired", now)
    store.replace_booking(tx, booking, after)
    for key in booking.lock_keys:
        if key in holders:  # a claimant may already have evicted it from some keys
            inventory.release(tx, booking.resource_id, key, booking_id=booking.id, quantity=booking.quantity)
    addons.release_held_stock(tx, booking)
    add_status_change(tx, booking, "expired")
    tx.audit(audit.system_entry(job, "booking.expire", "booking", booking.id, at=now, detail={"from": booking.status}))
    # Run ahead of a claim (`expire_each`), this is the API request's first transaction: it takes the quota token.
    charge_request(tx)
    try:
        execute(tx)
    except TransactionFailed:
        return False  # confirmed, cancelled or reclaimed meanwhile: the next sweep sees the new truth
    money.after_commit()
    return True


def remind_decider(booking_id: str, now: datetime, job: str = SWEEPER) -> bool:
    """Half-way through a request's wait, remind its decider once (the sweeper reads it from the holds index)."""
    booking = store.get_booking(booking_id)
    due = store.approval_reminder_due(booking) if booking is not None else None
    if booking is None or due is None or due > now:
        return False
    if booking.expires_at is not None and booking.expires_at <= now:
        return False  # it lapses instead
    after = booking.model_copy(update={"approval_reminded": True})
    tx = Transaction()
    store.mark_reminded(tx, booking, after)
    tx.audit(audit.system_entry(job, "booking.remind_decider", "booking", booking.id, at=now))
    try:
        execute(tx)
    except TransactionFailed:
        return False  # decided, cancelled or reminded meanwhile
    return True


def expire_each(booking_ids: list[str], now: datetime) -> None:
    """Expire lapsed holds one transaction each (a claim that would evict too many at once calls this first)."""
    for booking_id in booking_ids:
        expire_one(booking_id, now, job="claim")


def expire_lapsed(now: datetime | None = None, limit: int = 100) -> int:
    """The sweeper: release holds whose deadline passed and that no claimant has reclaimed yet."""
    now = now or now_utc()
    done = 0
    for booking_id in store.lapsed_holds(int(now.timestamp()), limit=limit):
        # The index holds a request at its reminder first, then (rewritten by the reminder) at its expiry.
        done += expire_one(booking_id, now) or remind_decider(booking_id, now)
    return done


def handle_timer(booking_id: str, now: datetime) -> str | None:
    """Act on a booking's due deadline, if it still is one: `reminder`, `complete`, `skipped` or None (nothing)."""
    booking = store.get_booking(booking_id)
    if booking is None:
        return None
    skipped, timer = timers.due_now(booking, now)
    if timer is None and not skipped:
        return None
    done = [*booking.timers_done, *skipped]
    tx = Transaction()
    if timer is not None and timer.kind == timers.COMPLETE:
        # Nobody completed the session: the job does, and takes an authorized payment with it.
        money = settlement().complete(tx, booking, now, capture_now=False)
        after = next_version(booking, by=None, action="completed", now=now, status="completed", payment=money.payment)
        after = after.model_copy(update={"timers_done": [*done, timers.COMPLETE]})
        store.replace_booking(tx, booking, after)
        add_status_change(tx, booking, "completed")
        tx.audit(audit.system_entry(TIMERS_JOB, "booking.complete", "booking", booking.id, at=now))
        outcome = "complete"
    elif timer is not None and timer.reminder_minutes is not None:
        sent = SentReminder(minutes=timer.reminder_minutes, at=now)
        after = booking.model_copy(update={"timers_done": [*done, timer.kind], "last_reminder": sent})
        store.mark_timers(tx, booking, after)
        detail = {"minutes": timer.reminder_minutes, "skipped": skipped or None}
        tx.audit(audit.system_entry(TIMERS_JOB, "booking.remind", "booking", booking.id, at=now, detail=detail))
        outcome = "reminder"
    else:
        store.mark_timers(tx, booking, booking.model_copy(update={"timers_done": done}))
        outcome = "skipped"
    try:
        execute(tx)
    except TransactionFailed:
        return None  # changed meanwhile (cancelled, rescheduled, or another run got there): the next run decides
    return outcome


def run_timers(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """The timers job: every confirmed booking whose next reminder or completion has come, and every schedule
    change still moving its bookings (`slotwise.booking.schedule_change`)."""
    now = now or now_utc()
    outcomes: dict[str, int] = {}
    for booking_id in store.due_timers(int(now.timestamp()), limit=limit):
        outcome = handle_timer(booking_id, now)
        if outcome is not None:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    moves = schedule_change.resume_all(now)
    if moves["moved"] or moves["finished"]:
        outcomes.update(schedule_moved=moves["moved"], schedule_changes_finished=moves["finished"])
    # Bookings older than the organisation index get its keys, a bounded step a run (nothing once done).
    indexed = backfill.backfill_step()["bookings"]
    if indexed:
        outcomes["organisation_keys_added"] = indexed
    return outcomes
