"""The booked time: a request's fields (times, nights or the fixed window) turned into one UTC `Window`.

Every datetime this module returns is aware and in UTC. Python compares and subtracts two datetimes that share a
ZoneInfo by wall clock, which is wrong across a fall-back hour; UTC values make `end - start` and `<` exact.
Callers convert to `resource.zone` for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slotwise import errors
from slotwise.booking.models import Booking, BookingTimes
from slotwise.catalog.models import BookingPolicy, Resource, parse_hhmm
from slotwise.wording import local_text

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """The booked time. `start`/`end` are UTC instants; nights also name their dates."""

    start: datetime
    end: datetime
    check_in: date | None = None
    check_out: date | None = None


def now_utc() -> datetime:
    """The clock every booking use case reads when the caller names no `now`."""
    return datetime.now(UTC)


def booked_window(booking: Booking) -> Window:
    """The window a stored booking holds (its times were checked when it was made)."""
    return Window(utc(booking.start_time), utc(booking.end_time), booking.check_in, booking.check_out)


def window_of(resource: Resource, times: BookingTimes) -> Window:
    """The window of a request's times (start/end or check-in/out)."""
    return window_for(
        resource, start=times.start_time, end=times.end_time, check_in=times.check_in, check_out=times.check_out
    )


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
            local_instant(zone, check_in, parse_hhmm(policy.check_in_time)),
            local_instant(zone, check_out, parse_hhmm(policy.check_out_time)),
            check_in,
            check_out,
        )
    if check_in is not None or check_out is not None:
        fields = "startTime and endTime" if policy.unit == "minutes" else "no times (or exactly the fixed ones)"
        raise _wrong_fields(f"is booked by time, not by the night: send {fields}, not checkIn/checkOut")
    if policy.unit == "fixed":
        fixed_start, fixed_end = _fixed_window(policy)
        for given, fixed, name in ((start, fixed_start, "startTime"), (end, fixed_end, "endTime")):
            if given is not None and not (aware(given) and utc(given) == utc(fixed)):
                raise errors.ValidationFailed(
                    f"This resource has one bookable window, {local_text(resource.zone, fixed_start)} to "
                    f"{local_text(resource.zone, fixed_end)}; {name} must be omitted or equal it.",
                    code="not_the_fixed_window",
                )
        return Window(utc(fixed_start), utc(fixed_end))
    if start is None or end is None or not aware(start) or not aware(end):
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
    if utc(end) <= utc(start):
        raise errors.ValidationFailed("endTime must be after startTime.", code="end_before_start")
    return Window(utc(start), utc(end))


def nights_of(window: Window) -> tuple[date, date]:
    if window.check_in is None or window.check_out is None:
        raise errors.ValidationFailed("A stay names checkIn and checkOut dates.", code="missing_dates")
    return window.check_in, window.check_out


def local_instant(zone: ZoneInfo, day: date, at: time) -> datetime:
    # fold=0 resolves a repeated wall time to its first occurrence and moves one inside a gap forward past it.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _exists(value: datetime) -> bool:
    """False for a wall time in a spring-forward gap: it does not survive a round trip through UTC."""
    round_trip = value.astimezone(UTC).astimezone(value.tzinfo)
    return round_trip.replace(tzinfo=None) == value.replace(tzinfo=None)


def _wrong_fields(what: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(f"This resource {what}.", code="wrong_unit_fields")


def _fixed_window(policy: BookingPolicy) -> tuple[datetime, datetime]:
    if policy.fixed_start is None or policy.fixed_end is None:  # BookingPolicy refuses this; kept for the types
        raise ValueError("a fixed resource names fixedStart and fixedEnd")
    return policy.fixed_start, policy.fixed_end
