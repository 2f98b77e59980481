"""Booking rules: which inventory lock keys a booking claims, whether it obeys its resource's policy, and its price.

Double-booking is prevented by the data layer claiming one inventory item per lock key in one transaction, so the
keys carry the whole safety argument: two bookings whose buffered intervals overlap share a key, two that do not
overlap share none. Timed keys are UTC instants of granule starts on one lattice; that lattice exists only while
every UTC offset the zone uses differs from the others by whole granules (`check_granule_fits_timezone`).

Every datetime this module returns is aware and in UTC. Python compares and subtracts two datetimes that share a
ZoneInfo by wall clock, which is wrong across a fall-back hour; UTC values make `end - start` and `<` exact.
Callers convert to `resource.zone` for display.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from math import gcd
from zoneinfo import ZoneInfo

from slotwise import errors
from slotwise.catalog.models import (
    MINUTES_PER_DAY,
    WEEKDAYS,
    BookingPolicy,
    PriceRule,
    Resource,
    TimeRange,
    Weekday,
    parse_hhmm,
)

# A DynamoDB transaction takes 100 items; the rest is for the booking, reference and idempotency records.
MAX_LOCK_KEYS = 90
MAX_CANDIDATE_WINDOWS = 2000
FIXED_KEY = "F#"
TIME_KEY_PREFIX = "T#"
NIGHT_KEY_PREFIX = "N#"
STANDARD_RATE = "Standard rate"

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Offsets are compared over the years a booking could plausibly fall in, not the zone's whole history (LMT etc.).
_OFFSET_SCAN = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC))
_HOUR_DIVISORS = tuple(d for d in range(5, 61) if 60 % d == 0)

Interval = tuple[int, int]  # [first minute, end minute) of a local day; end may be 1440


@dataclass(frozen=True)
class Window:
    """The booked time. `start`/`end` are UTC instants; nights also name their dates."""

    start: datetime
    end: datetime
    check_in: date | None = None
    check_out: date | None = None


@dataclass(frozen=True)
class PriceLine:
    """Units sold at one unit price; `amount` = unit_price * units * quantity."""

    description: str
    unit_price: int
    units: int
    amount: int


@dataclass(frozen=True)
class PriceQuote:
    currency: str
    amount: int
    quantity: int
    lines: tuple[PriceLine, ...]


# ---------------------------------------------------------------------------------------------------------- windows


def window_for(
    resource: Resource,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    check_in: date | None = None,
    check_out: date | None = None,
) -> Window:
    """The window a request asks for, in the fields of the resource's unit."""
    policy = resource.policy
    if policy.unit == "night":
        if start is not None or end is not None:
            raise _wrong_fields("is booked by the night: send checkIn and checkOut, not startTime/endTime")
        if check_in is None or check_out is None:
            raise errors.ValidationFailed(
                "This resource is booked by the night: checkIn and checkOut (dates) are required.",
                code="missing_dates",
            )
        if check_out <= check_in:
            raise errors.ValidationFailed(
                f"checkOut ({check_out}) must be after checkIn ({check_in}).", code="end_before_start"
            )
        zone = resource.zone
        return Window(
            _local_instant(zone, check_in, parse_hhmm(policy.check_in_time)),
            _local_instant(zone, check_out, parse_hhmm(policy.check_out_time)),
            check_in,
            check_out,
        )
    if check_in is not None or check_out is not None:
        fields = "startTime and endTime" if policy.unit == "minutes" else "no times (or exactly the fixed ones)"
        raise _wrong_fields(f"is booked by time, not by the night: send {fields}, not checkIn/checkOut")
    if policy.unit == "fixed":
        fixed_start, fixed_end = _fixed_window(policy)
        for given, fixed, name in ((start, fixed_start, "startTime"), (end, fixed_end, "endTime")):
            if given is not None and not (_aware(given) and _utc(given) == _utc(fixed)):
                raise errors.ValidationFailed(
                    f"This resource has one bookable window, {_local_text(resource.zone, fixed_start)} to "
                    f"{_local_text(resource.zone, fixed_end)}; {name} must be omitted or equal it.",
                    code="not_the_fixed_window",
                )
        return Window(_utc(fixed_start), _utc(fixed_end))
    if start is None or end is None or not _aware(start) or not _aware(end):
        raise errors.ValidationFailed(
            "startTime and endTime are required, with an offset (ISO 8601, e.g. 2026-12-01T09:00:00+01:00).",
            code="missing_times",
        )
    for value, name in ((start, "startTime"), (end, "endTime")):
        if not _exists(value):
            raise errors.ValidationFailed(
                f"{name} {value.replace(tzinfo=None).isoformat(timespec='minutes')} does not exist in "
                f"{value.tzinfo}: the clocks skip it (daylight-saving change).",
                code="nonexistent_local_time",
            )
    if _utc(end) <= _utc(start):
        raise errors.ValidationFailed("endTime must be after startTime.", code="end_before_start")
    return Window(_utc(start), _utc(end))


def _wrong_fields(what: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(f"This resource {what}.", code="wrong_unit_fields")


def _fixed_window(policy: BookingPolicy) -> tuple[datetime, datetime]:
    if policy.fixed_start is None or policy.fixed_end is None:  # BookingPolicy refuses this; kept for the types
        raise ValueError("a fixed resource names fixedStart and fixedEnd")
    return policy.fixed_start, policy.fixed_end


def _local_instant(zone: ZoneInfo, day: date, at: time) -> datetime:
    # fold=0 resolves a repeated wall time to its first occurrence and moves one inside a gap forward past it.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


# -------------------------------------------------------------------------------------------------------- lock keys


def lock_keys(resource: Resource, window: Window) -> list[str]:
    """The sorted, unique inventory keys the booking claims: its buffered time, its nights, or the fixed window."""
    policy = resource.policy
    if policy.unit == "fixed":
        return [FIXED_KEY]
    if policy.unit == "night":
        check_in, check_out = _nights_of(window)
        nights = (check_out - check_in).days
        if nights > MAX_LOCK_KEYS:
            raise _too_many_keys(resource)
        return [night_key(check_in + timedelta(days=n)) for n in range(nights)]
    check_granule_fits_timezone(policy.granule_minutes, resource.timezone)
    start, end = _utc(window.start), _utc(window.end)
    _check_aligned(resource, start, end)
    granule = timedelta(minutes=policy.granule_minutes)
    first = start - timedelta(minutes=policy.buffer_before_minutes)
    count = (end + timedelta(minutes=policy.buffer_after_minutes) - first) // granule
    if count > MAX_LOCK_KEYS:
        raise _too_many_keys(resource)
    return [time_key(first + n * granule) for n in range(count)]


def time_key(instant: datetime) -> str:
    """`T#2026-03-29T09:15Z`: fixed width, so lexicographic order is time order (DynamoDB BETWEEN relies on it)."""
    u = instant.astimezone(UTC)
    return f"{TIME_KEY_PREFIX}{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}Z"


def night_key(night: date) -> str:
    return f"{NIGHT_KEY_PREFIX}{night.isoformat()}"


def _nights_of(window: Window) -> tuple[date, date]:
    if window.check_in is None or window.check_out is None:
        raise errors.ValidationFailed("A stay names checkIn and checkOut dates.", code="missing_dates")
    return window.check_in, window.check_out


def _too_many_keys(resource: Resource) -> errors.ValidationFailed:
    policy = resource.policy
    why = (
        f"one booking claims all its inventory records in a single transaction, which holds at most "
        f"{MAX_LOCK_KEYS} of them"
    )
    if policy.unit == "night":
        return _fail(
            f"A stay lasts at most {MAX_LOCK_KEYS} nights: every night is an inventory record and {why}.", "too_long"
        )
    granule = policy.granule_minutes
    buffers = policy.buffer_before_minutes + policy.buffer_after_minutes
    longest = MAX_LOCK_KEYS * granule - buffers
    if longest < granule:
        return _fail(
            f"This resource cannot be booked: its buffers ({_duration_text(buffers)}) already take the "
            f"{MAX_LOCK_KEYS} {granule}-minute slots a booking may claim, because {why}.",
            "too_long",
        )
    with_buffers = f", plus {_duration_text(buffers)} of buffers" if buffers else ""
    return _fail(
        f"A booking lasts at most {_duration_text(longest)} ({longest // granule} slots of {granule} minutes"
        f"{with_buffers}): every slot is an inventory record and {why}.",
        "too_long",
    )


# ------------------------------------------------------------------------------------------ granule against the zone


def check_granule_fits_timezone(granule_minutes: int, tz: str) -> None:
    """Refuse a granule whose grid the zone's clock changes would shift (keys of overlapping bookings could differ)."""
    problem = _granule_problem(granule_minutes, tz)
    if problem is not None:
        raise errors.ValidationFailed(problem, code="granule_incompatible_with_timezone")


@lru_cache(maxsize=1024)
def _granule_problem(granule_minutes: int, tz: str) -> str | None:
    if granule_minutes < 1 or 60 % granule_minutes:
        choices = _either(list(_HOUR_DIVISORS))
        return (
            f"A granule of {granule_minutes} minutes does not divide an hour, so daylight-saving changes would "
            f"move its grid; timed resources use {choices} minutes."
        )
    offsets = _offsets_seconds(tz)
    lowest = min(offsets)
    shift_gcd = 0
    for offset in offsets:
        shift_gcd = gcd(shift_gcd, offset - lowest)
    if shift_gcd % (granule_minutes * 60) == 0:
        return None
    shifts = sorted({_duration_text(abs(a - b) // 60) for a in offsets for b in offsets if a > b})
    fitting = [d for d in _HOUR_DIVISORS if shift_gcd % (d * 60) == 0]
    advice = f"; use a granule of {_either(fitting)} minutes" if fitting else ""
    return (
        f"{tz} moves its clocks by {', '.join(shifts)}, which is not a whole number of {granule_minutes}-minute "
        f"granules, so the booking grid would shift after the change{advice}."
    )


@lru_cache(maxsize=256)
def _offsets_seconds(tz: str) -> frozenset[int]:
    """Every UTC offset the zone uses in 2000-2100, sampled daily: no offset in that span lasts under a day."""
    zone = ZoneInfo(tz)
    first, stop = (int(edge.timestamp()) for edge in _OFFSET_SCAN)
    found = set()
    for stamp in range(first, stop, 86_400):
        offset = datetime.fromtimestamp(stamp, zone).utcoffset()
        if offset is not None:
            found.add(int(offset.total_seconds()))
    return frozenset(found)


# ----------------------------------------------------------------------------------------------------------- policy


def check_policy(resource: Resource, window: Window, quantity: int, now: datetime) -> None:
    """Raise ValidationFailed for the first rule of the resource's policy the booking breaks."""
    problem = _Rules(resource).violation(window, quantity, now)
    if problem is not None:
        raise problem


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
            or self.timing_problem(_utc(window.start), now)
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
                _check_aligned(self.resource, _utc(window.start), _utc(window.end))
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
            return _too_many_keys(self.resource)
        return None

    def timing_problem(self, start: datetime, now: datetime) -> errors.ValidationFailed | None:
        policy = self.policy
        # Past before notice: with no notice period both tests coincide and "in the past" says more.
        if start < now:
            return _fail(f"The booking starts {_local_text(self.zone, start)}, which has passed.", "in_the_past")
        earliest = now + timedelta(minutes=policy.min_notice_minutes)
        if start < earliest:
            return _fail(
                f"Bookings need {_duration_text(policy.min_notice_minutes)} notice: the earliest start now is "
                f"{_local_text(self.zone, earliest)}.",
                "insufficient_notice",
            )
        latest = now + timedelta(days=policy.max_horizon_days)
        if start > latest:
            return _fail(
                f"Bookings open {policy.max_horizon_days} days ahead: the latest start now is "
                f"{_local_text(self.zone, latest)}.",
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
            return self.opening_problem(_utc(window.start), _utc(window.end))
        return None

    def units(self, window: Window) -> int:
        if self.policy.unit == "fixed":
            return 1
        if self.policy.unit == "night":
            check_in, check_out = _nights_of(window)
            return (check_out - check_in).days
        return -(-(_utc(window.end) - _utc(window.start)) // self.granule)

    def key_count(self, window: Window) -> int:
        if self.policy.unit != "minutes":
            return self.units(window)
        buffers = self.policy.buffer_before_minutes + self.policy.buffer_after_minutes
        return self.units(window) + buffers // self.policy.granule_minutes

    def dates_touched(self, window: Window) -> list[date]:
        if self.policy.unit == "night":
            check_in, check_out = _nights_of(window)
            return [check_in + timedelta(days=n) for n in range((check_out - check_in).days)]
        first = _utc(window.start).astimezone(self.zone).date()
        last = (_utc(window.end) - timedelta(microseconds=1)).astimezone(self.zone).date()
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
            opening = ", ".join(f"{_hhmm(low)}-{_hhmm(high)}" for low, high in hours)
            state = f"open {opening}" if hours else "closed"
            return _fail(
                f"On {day:%a} {day.isoformat()} this resource is {state} ({self.resource.timezone} time); the "
                f"booking needs {_hhmm(first)}-{_hhmm(stop)} that day.",
                "outside_opening_hours",
            )
        return None


def _fail(detail: str, code: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(detail, code=code)


def _check_aligned(resource: Resource, start: datetime, end: datetime) -> None:
    granule = resource.policy.granule_minutes
    zone = resource.zone
    for instant, name in ((start, "start"), (end, "end")):
        local = instant.astimezone(zone)
        minute = local.hour * 60 + local.minute
        if minute % granule or local.second or local.microsecond:
            before = minute - minute % granule
            raise errors.ValidationFailed(
                f"Bookings start and end on the {granule}-minute grid of {resource.timezone} time; the {name} "
                f"{local:%H:%M:%S} is between {_hhmm(before)} and {_hhmm(before + granule)}.",
                code="misaligned",
            )


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


# ------------------------------------------------------------------------------------------------------------ price


def quote(resource: Resource, window: Window, quantity: int) -> PriceQuote:
    """Price in minor units: each unit at the first matching rule (or the base price), times the quantity.

    A unit is a granule of the booked time (buffers are free), a night, or the fixed window. A rule's time range
    is tested against the unit's local start: the granule start, the night's check-in time, the fixed start.
    A misaligned tail counts as a whole granule; check_policy refuses such windows anyway.
    """
    if quantity < 1:
        raise _fail(f"quantity is at least 1; got {quantity}.", "invalid_quantity")
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
        check_in, check_out = _nights_of(window)
        at = parse_hhmm(policy.check_in_time)
        for n in range((check_out - check_in).days):
            night = check_in + timedelta(days=n)
            yield WEEKDAYS[night.weekday()], at.hour * 60 + at.minute
        return
    start, end = _utc(window.start), _utc(window.end)
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


# ------------------------------------------------------------------------------------------------------- key ranges


def day_key_range(resource: Resource, day: date) -> tuple[str, str]:
    """Inclusive key bounds of every granule starting on the local `day`, widened by the buffers around them."""
    policy = resource.policy
    if policy.unit == "fixed":
        return FIXED_KEY, FIXED_KEY
    if policy.unit == "night":
        return night_key(day), night_key(day)
    zone = resource.zone
    first = _local_instant(zone, day, time(0)) - timedelta(minutes=policy.buffer_before_minutes)
    stop = _local_instant(zone, day + DAY, time(0)) + timedelta(minutes=policy.buffer_after_minutes)
    # The last key starts before `stop`; one minute earlier is the largest key string that can.
    return time_key(first), time_key(stop - MINUTE)


def span_key_range(resource: Resource, windows: Sequence[Window]) -> tuple[str, str]:
    """Inclusive key bounds covering every lock key of every window, for one Query.

    No windows: a range that matches no stored key (the bare prefix), so the Query returns nothing.
    """
    policy = resource.policy
    if policy.unit == "fixed":
        return FIXED_KEY, FIXED_KEY
    if policy.unit == "night":
        if not windows:
            return NIGHT_KEY_PREFIX, NIGHT_KEY_PREFIX
        stays = [_nights_of(w) for w in windows]
        return night_key(min(s[0] for s in stays)), night_key(max(s[1] for s in stays) - DAY)
    if not windows:
        return TIME_KEY_PREFIX, TIME_KEY_PREFIX
    first = min(_utc(w.start) for w in windows) - timedelta(minutes=policy.buffer_before_minutes)
    stop = max(_utc(w.end) for w in windows) + timedelta(minutes=policy.buffer_after_minutes)
    return time_key(first), time_key(stop - MINUTE)


# ------------------------------------------------------------------------------------------------------ start grid


def candidate_windows(resource: Resource, frm: datetime, to: datetime, now: datetime) -> list[Window]:
    """Windows of the minimum length starting in [frm, to) that obey the policy (inventory not consulted)."""
    if not (_aware(frm) and _aware(to)):
        raise _fail("from and to carry an offset (ISO 8601, e.g. 2026-12-01T00:00:00+01:00).", "missing_times")
    policy, zone = resource.policy, resource.zone
    rules = _Rules(resource)
    frm, to = _utc(frm), _utc(to)
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


# ---------------------------------------------------------------------------------------------------------- helpers


def _aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _exists(value: datetime) -> bool:
    """False for a wall time in a spring-forward gap: it does not survive a round trip through UTC."""
    round_trip = value.astimezone(UTC).astimezone(value.tzinfo)
    return round_trip.replace(tzinfo=None) == value.replace(tzinfo=None)


def _either(numbers: list[int]) -> str:
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _minute_of(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _local_text(zone: ZoneInfo, instant: datetime) -> str:
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M} {zone.key} time"


def _duration_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' * (hours != 1)}"] if hours else []
    if rest or not hours:
        parts.append(f"{rest} minute{'s' * (rest != 1)}")
    return " ".join(parts)


def _units_text(policy: BookingPolicy, units: int) -> str:
    if policy.unit == "night":
        return f"{units} night{'s' * (units != 1)}"
    if policy.unit == "fixed":
        return f"{units} session{'s' * (units != 1)}"
    granule = policy.granule_minutes
    return f"{_duration_text(units * granule)} ({units} slots of {granule} minutes)"
