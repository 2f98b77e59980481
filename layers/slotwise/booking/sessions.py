"""A session's lifecycle once it is booked: its advisor (or its vendor, an admin) starts it and completes it; a
stay's or a visit's front desk (the vendor, its staff) checks the guest in.

  confirmed ──start (from 15 min before the start)──► in_progress ──complete──► completed
  confirmed ──check-in (from the arrival's local day)─► in_progress
  confirmed ──complete (once the start has passed)────────────────────────────► completed

Completing captures an authorized payment (authorize_then_capture) in the same transaction as the status change:
the payment becomes `capturing` conditionally on its version, so a cancellation racing the completion (which voids
the same payment) has exactly one winner, and the provider is asked once, after the commit, with one idempotency
key per payment. The timers job completes sessions nobody completed (`slotwise.booking.deadlines`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.booking import access, store
from slotwise.booking.changes import add_status_change, charge_request, commit, next_version, require_transition
from slotwise.booking.models import Booking
from slotwise.booking.settlement import settlement
from slotwise.booking.timers import COMPLETE
from slotwise.booking.windows import now_utc
from slotwise.catalog import repository as catalog
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.identity.permissions import Action
from slotwise.transaction import Transaction

# The advisor may open the session a little early (joining a call, setting up the room).
START_EARLY = timedelta(minutes=15)


def _session(caller: Caller, booking_id: str, action: Action = "booking.session") -> Booking:
    """A booking whose session this caller runs (its advisor, its vendor, an admin; `booking.check_in`: the front
    desk): 404 if unseen, 403 if only seen (the customer)."""
    permissions.require(caller, action)
    booking = store.get_booking(booking_id)
    resource = catalog.get_resource(booking.resource_id) if booking is not None else None
    booking = access.visible(caller, booking, booking_id, resource)
    access.require_decider(caller, booking, resource)
    return booking


def start_session(caller: Caller, booking_id: str, *, now: datetime | None = None) -> Booking:
    now = now or now_utc()
    booking = _session(caller, booking_id)
    require_transition(booking, "in_progress")
    if now < booking.start_time - START_EARLY:
        raise errors.Conflict(
            "A session starts at the earliest 15 minutes before its start time.",
            code="too_early",
            extra={"startsAt": booking.start_time.isoformat()},
        )
    if now >= booking.end_time:
        raise errors.Conflict("This session's time is over; complete it instead.", code="session_over")
    return _in_progress(caller, booking, now, action="started", audited="booking.start")


def _in_progress(
    caller: Caller, booking: Booking, now: datetime, *, action: str, audited: str, **fields: datetime
) -> Booking:
    """Move a confirmed booking to `in_progress` (one transaction: the booking, its status change, the audit entry,
    the request's quota token)."""
    after = next_version(
        booking, by=caller.user_id, request_id=caller.request_id, action=action, now=now, status="in_progress"
    )
    after = after.model_copy(update={"started_at": now, **fields})
    tx = Transaction()
    store.replace_booking(tx, booking, after)
    add_status_change(tx, booking, "in_progress")
    tx.audit(audit.entry(caller, audited, "booking", booking.id, at=now, detail={"from": booking.status}))
    charge_request(tx)
    commit(tx, booking.id)
    return after


def check_in(caller: Caller, booking_id: str, *, now: datetime | None = None) -> Booking:
    """The guest has arrived: from the first minute of the arrival's local day (an early arrival at a hostel, a
    hall's set-up) until the booking's end. The stay is then `in_progress`; the timers job completes it at its end."""
    now = now or now_utc()
    booking = _session(caller, booking_id, "booking.check_in")
    require_transition(booking, "in_progress")
    zone = ZoneInfo(booking.timezone)
    opens = datetime.combine(booking.start_time.astimezone(zone).date(), time.min, zone)
    if now < opens:
        raise errors.Conflict(
            "A guest checks in at the earliest on the day of arrival.",
            code="too_early",
            extra={"startsAt": booking.start_time.isoformat()},
        )
    if now >= booking.end_time:
        raise errors.Conflict("This booking's time is over; it cannot be checked in.", code="session_over")
    return _in_progress(caller, booking, now, action="checked_in", audited="booking.check_in", checked_in_at=now)


def complete_session(caller: Caller, booking_id: str, *, now: datetime | None = None) -> Booking:
    now = now or now_utc()
    booking = _session(caller, booking_id)
    require_transition(booking, "completed")
    if booking.status == "confirmed" and now < booking.start_time:
        raise errors.Conflict(
            "A session that has not started cannot be completed; cancel it instead.", code="not_started"
        )
    tx = Transaction()
    money = settlement().complete(tx, booking, now, capture_now=True)
    after = next_version(
        booking,
        by=caller.user_id,
        request_id=caller.request_id,
        action="completed",
        now=now,
        status="completed",
        payment=money.payment,
    )
    after = after.model_copy(update={"timers_done": [*booking.timers_done, COMPLETE]})
    store.replace_booking(tx, booking, after)
    add_status_change(tx, booking, "completed")
    detail = {"from": booking.status, "captured": (money.payment.amount_paid if money.payment else None)}
    tx.audit(audit.entry(caller, "booking.complete", "booking", booking.id, at=now, detail=detail))
    charge_request(tx)
    commit(tx, booking_id)
    money.after_commit()
    return after
