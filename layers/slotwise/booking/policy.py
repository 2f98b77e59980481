"""Whether a booking obeys its resource's policy, and which windows of a span could (the start grid).

`check_policy` tests, in this order: the resource takes bookings and the quantity fits its capacity; the window's
shape (grid, minimum and maximum length, lock-key budget); its timing (not past, notice, horizon); its calendar
(blackout dates, opening hours and date overrides, read on the local wall clock piece by piece across
daylight-saving changes). `candidate_windows` walks the grid with the same rules, without reading inventory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from slotwise import errors
from slotwise.booking.keys import check_aligned, too_many_keys
from slotwise.booking.windows import DAY, MINUTE, Window, aware, nights_of, utc, window_for
from slotwise.catalog.bookable import MAX_LOCK_KEYS, check_granule_fits_timezone
from slotwise.catalog.models import MINUTES_PER_DAY, WEEKDAYS, BookingPolicy, Resource, TimeRange
from slotwise.wording import duration_text, hhmm, local_text

MAX_CANDIDATE_WINDOWS = 2000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Interval = tuple[int, int]  # [first minute, end minute) of a local day; end may be 1440


def check_policy(resource: Resource, window: Window, quantity: int, now: datetime) -> None:
    """Raise ValidationFailed for the first rule of the resource's policy the booking breaks."""
    problem = _Rules(resource).violation(window, quantity, now)
    if problem is not None:
        raise problem


def calendar_problems(resource: Resource, windows: Sequence[Window]) -> list[errors.ValidationFailed | None]:
    """Per window, whether the resource's calendar (blackout dates, opening hours, date overrides) refuses it."""
    rules = _Rules(resource)
    return [rules.calendar_problem(window) for window in windows]


def check_guests(resource: Resource, guests: int | None) -> None:
    """A booking's guests within the resource's maxGuests/minGuests (`capacity` counts bookings, not guests).

    A resource with a minimum needs the guests named; without bounds anything goes, as before they existed."""
    problem = guests_problem(resource, guests)
    if problem is not None:
        raise problem


def guests_problem(resource: Resource, guests: int | None) -> errors.ValidationFailed | None:
    if resource.max_guests is not None and guests is not None and guests > resource.max_guests:
        return _fail(f"{resource.name} seats at most {resource.max_guests} guests; got {guests}.", "too_many_guests")
    if resource.min_guests is not None and (guests is None or guests < resource.min_guests):
        return _fail(
            f"{resource.name} is booked for at least {resource.min_guests} guests; "
            f"got {guests if guests is not None else 'none'}.",
            "too_few_guests",
        )
    return None


class _Rules:
    """A resource's policy prepared once, so candidate_windows can test thousands of windows cheaply."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.policy = resource.policy
        self.zone = resource.zone
        self.granule = timedelta(minutes=self.policy.granule_minutes)
        self.blackouts = frozenset(self.policy.blackout_dates)
        self.overrides: dict[date, list[Interval]] = {}
        for override in self.policy.date_overrides:
            # The first override of a date wins; the catalog does not forbid repeats.
            self.overrides.setdefault(override.date, _merged(override.hours))
        weekly = self.policy.opening_hours
        self.weekly = None if weekly is None else {day: _merged(hours) for day, hours in weekly.items()}
        self.always_open = self.weekly is None and not self.overrides

    def violation(self, window: Window, quantity: int, now: datetime) -> errors.ValidationFailed | None:
        """The first rule the booking breaks, in the documented order, or None."""
        # Exceptions are truthy, so `or` stops at the first problem and later checks never run.
        return (
            self.bookable_problem(quantity)
            or self.shape_problem(window)
            or self.timing_problem(utc(window.start), now)
            or self.calendar_problem(window)
        )

    def bookable_problem(self, quantity: int) -> errors.ValidationFailed | None:
        resource = self.resource
        if not resource.active:
            return _fail("This resource is not taking bookings at the moment.", "resource_inactive")
        if quantity < 1 or quantity > resource.capacity:
            return _fail(
                f"quantity must be between 1 and {resource.capacity} (this resource's capacity); got {quantity}.",
                "invalid_quantity",
            )
        return None

    def shape_problem(self, window: Window) -> errors.ValidationFailed | None:
        policy = self.policy
        if policy.unit == "minutes":
            try:
                check_granule_fits_timezone(policy.granule_minutes, self.resource.timezone)
                check_aligned(self.resource, utc(window.start), utc(window.end))
            except errors.ValidationFailed as problem:
                return problem
        units = self.units(window)
        if units < policy.min_units:
            return _fail(
                f"A booking lasts at least {_units_text(policy, policy.min_units)}; this one is "
                f"{_units_text(policy, units)}.",
                "too_short",
            )
        if policy.max_units is not None and units > policy.max_units:
            return _fail(
                f"A booking lasts at most {_units_text(policy, policy.max_units)}; this one is "
                f"{_units_text(policy, units)}.",
                "too_long",
            )
        if self.key_count(window) > MAX_LOCK_KEYS:
            return too_many_keys(self.resource)
        return None

    def timing_problem(self, start: datetime, now: datetime) -> errors.ValidationFailed | None:
        policy = self.policy
        # Past before notice: with no notice period both tests coincide and "in the past" says more.
        if start < now:
            return _fail(f"The booking starts {local_text(self.zone, start)}, which has passed.", "in_the_past")
        earliest = now + timedelta(minutes=policy.min_notice_minutes)
        if start < earliest:
            return _fail(
                f"Bookings need {duration_text(policy.min_notice_minutes)} notice: the earliest start now is "
                f"{local_text(self.zone, earliest)}.",
                "insufficient_notice",
            )
        latest = now + timedelta(days=policy.max_horizon_days)
        if start > latest:
            return _fail(
                f"Bookings open {policy.max_horizon_days} days ahead: the latest start now is "
                f"{local_text(self.zone, latest)}.",
                "beyond_horizon",
            )
        return None

    def calendar_problem(self, window: Window) -> errors.ValidationFailed | None:
        closed = next((day for day in self.dates_touched(window) if day in self.blackouts), None)
        if closed is not None:
            return _fail(
                f"{closed.isoformat()} is a blackout date for this resource: no booking may touch it.",
                "blackout_date",
            )
        if self.policy.unit == "minutes" and not self.always_open:
            return self.opening_problem(utc(window.start), utc(window.end))
        return None

    def units(self, window: Window) -> int:
        if self.policy.unit == "fixed":
            return 1
        if self.policy.unit == "night":
            check_in, check_out = nights_of(window)
            return (check_out - check_in).days
        return -(-(utc(window.end) - utc(window.start)) // self.granule)

    def key_count(self, window: Window) -> int:
        if self.policy.unit != "minutes":
            return self.units(window)
        buffers = self.policy.buffer_before_minutes + self.policy.buffer_after_minutes
        return self.units(window) + buffers // self.policy.granule_minutes

    def dates_touched(self, window: Window) -> list[date]:
        if self.policy.unit == "night":
            check_in, check_out = nights_of(window)
            return [check_in + timedelta(days=n) for n in range((check_out - check_in).days)]
        first = utc(window.start).astimezone(self.zone).date()
        last = (utc(window.end) - timedelta(microseconds=1)).astimezone(self.zone).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def hours_on(self, day: date) -> list[Interval]:
        if day in self.overrides:
            return self.overrides[day]
        if self.weekly is None:
            return [(0, MINUTES_PER_DAY)]
        return self.weekly.get(WEEKDAYS[day.weekday()], [])

    def opening_problem(self, start: datetime, end: datetime) -> errors.ValidationFailed | None:
        for day, first, stop in _wall_pieces(self.zone, start, end):
            hours = self.hours_on(day)
            if any(low <= first and stop <= high for low, high in hours):
                continue
            opening = ", ".join(f"{hhmm(low)}-{hhmm(high)}" for low, high in hours)
            state = f"open {opening}" if hours else "closed"
            return _fail(
                f"On {day:%a} {day.isoformat()} this resource is {state} ({self.resource.timezone} time); the "
                f"booking needs {hhmm(first)}-{hhmm(stop)} that day.",
                "outside_opening_hours",
            )
        return None


def open_minutes(resource: Resource, days: Sequence[date]) -> dict[date, int]:
    """Wall-clock minutes the resource is open on each local date (its weekly hours, overrides and blackouts)."""
    rules = _Rules(resource)
    return {day: 0 if day in rules.blackouts else sum(high - low for low, high in rules.hours_on(day)) for day in days}


def _merged(ranges: Sequence[TimeRange]) -> list[Interval]:
    """Opening intervals with touching ones joined, so a booking may run across 12:00 in 09-12 + 12-17."""
    merged: list[Interval] = []
    for low, high in sorted((r.start_minute, r.end_minute) for r in ranges):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _wall_pieces(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[tuple[date, int, int]]:
    """Split [start, end) into (local date, first minute, end minute) pieces, each on one date and one UTC offset.

    Within a piece the wall clock runs with real time, so a piece is open iff its minute range lies in the hours
    of its date. A minute range may end at 1440 (midnight); after a fall-back a date can show up twice.
    """
    cursor = start
    while cursor < end:
        local = cursor.astimezone(zone)
        offset = local.utcoffset()
        minute = local.hour * 60 + local.minute
        piece_end = min(end, cursor + (MINUTES_PER_DAY - minute) * MINUTE)
        if piece_end - cursor > MINUTE and (piece_end - MINUTE).astimezone(zone).utcoffset() != offset:
            piece_end = _offset_change(zone, cursor, piece_end - MINUTE, offset)
        yield local.date(), minute, minute + (piece_end - cursor) // MINUTE
        cursor = piece_end


def _offset_change(zone: ZoneInfo, same: datetime, changed: datetime, offset: timedelta | None) -> datetime:
    """The first whole minute after `same` whose offset differs (one change lies between; zones change on minutes)."""
    low, high = 0, (changed - same) // MINUTE
    while high - low > 1:
        middle = (low + high) // 2
        if (same + middle * MINUTE).astimezone(zone).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return same + high * MINUTE


# ------------------------------------------------------------------------------------------------------ start grid


def candidate_windows(resource: Resource, frm: datetime, to: datetime, now: datetime) -> list[Window]:
    """Windows of the minimum length starting in [frm, to) that obey the policy (inventory not consulted)."""
    if not (aware(frm) and aware(to)):
        raise _fail("from and to carry an offset (ISO 8601, e.g. 2026-12-01T00:00:00+01:00).", "missing_times")
    policy, zone = resource.policy, resource.zone
    rules = _Rules(resource)
    frm, to = utc(frm), utc(to)
    latest = now + timedelta(days=policy.max_horizon_days)
    found: list[Window] = []
    if policy.unit == "fixed":
        window = window_for(resource)
        if frm <= window.start < to and rules.violation(window, 1, now) is None:
            found.append(window)
        return found
    if policy.unit == "night":
        day = frm.astimezone(zone).date()
        last_day = to.astimezone(zone).date()
        while day <= last_day and len(found) < MAX_CANDIDATE_WINDOWS:
            window = window_for(resource, check_in=day, check_out=day + policy.min_units * DAY)
            if window.start > latest:
                break
            if frm <= window.start < to and rules.violation(window, 1, now) is None:
                found.append(window)
            day += DAY
        return found
    check_granule_fits_timezone(policy.granule_minutes, resource.timezone)
    length = policy.min_units * rules.granule
    # Earlier starts break the notice rule and later ones the horizon; skipping them changes nothing but time.
    cursor = _grid_at_or_after(zone, policy.granule_minutes, max(frm, now + policy.min_notice_minutes * MINUTE))
    while cursor < to and cursor <= latest and len(found) < MAX_CANDIDATE_WINDOWS:
        window = Window(cursor, cursor + length)
        if rules.violation(window, 1, now) is None:
            found.append(window)
        cursor += rules.granule
    return found


def _grid_at_or_after(zone: ZoneInfo, granule_minutes: int, instant: datetime) -> datetime:
    """The first instant at or after `instant` whose local wall clock sits on the granule grid."""
    offset = instant.astimezone(zone).utcoffset() or timedelta(0)
    # Whole minutes since the epoch, rounded up; the grid is where (minute + offset) is a multiple of the granule.
    minute = -(-(instant - _EPOCH) // MINUTE)
    offset_minutes = offset // MINUTE
    return _EPOCH + (minute + (-(minute + offset_minutes)) % granule_minutes) * MINUTE


def _units_text(policy: BookingPolicy, units: int) -> str:
    if policy.unit == "night":
        return f"{units} night{'s' * (units != 1)}"
    if policy.unit == "fixed":
        return f"{units} session{'s' * (units != 1)}"
    granule = policy.granule_minutes
    return f"{duration_text(units * granule)} ({units} slots of {granule} minutes)"


def _fail(detail: str, code: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(detail, code=code)
