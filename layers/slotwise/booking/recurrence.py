"""RRULE expansion for recurring bookings, in the wall-clock time of the resource's timezone.

Only the subset of RFC 5545 a booking series needs is accepted (FREQ DAILY/WEEKLY/MONTHLY, COUNT or UNTIL, INTERVAL,
BYDAY, BYMONTHDAY, WKST), and every series is bounded: an open-ended rule could not be claimed as inventory.

Choices worth knowing (each has a test):

* Recurrence runs on the local wall clock: dateutil expands a naive local DTSTART, so a 09:00 Europe/London meeting
  stays at 09:00 local when the clocks change and its UTC offset moves instead.
* A local start that does not exist (spring-forward gap) is shifted forward by the length of the gap, as RFC 5545
  §3.3.5 and most calendars do: 02:30 on the night New York jumps from 02:00 to 03:00 becomes 03:30 EDT. Skipping it
  would silently shorten a COUNT series.
* An ambiguous local start (fall-back) is the earlier of the two instants (fold=0), except the first occurrence
  when it is `first_start` itself: the caller named that instant exactly, so it is kept as given.
* The end is wall-clock too: (local start + duration) on the clock, so 09:00-10:00 stays 09:00-10:00 local, and a
  meeting across a transition covers the wall-clock span (one hour more or less of real time). Only when that end
  would not come after the start (the start was shifted out of a gap past it) is the duration kept in real time.
* `first_start` is an occurrence only if it matches the rule. RFC 5545 makes DTSTART the first instance regardless;
  dateutil includes it only when it matches the BYxxx parts, and we follow dateutil so that every occurrence obeys
  the rule (WEEKLY;BYDAY=MO from a Tuesday starts the following Monday).
* `local_date` is the date the rule produced, before any gap shift, so an exception always names the date the
  series shows even if a shift were to move the start past midnight.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slotwise import errors
from slotwise.models import MAX_YEAR, MIN_YEAR

MAX_OCCURRENCES = 366
MAX_INTERVAL = 366
# Far longer than any rule the parts below can spell (BYDAY with ordinals for all seven days, every BYMONTHDAY);
# it only keeps pathological input from costing parse time.
MAX_RULE_LENGTH = 1_000

RULE_CODE = "invalid_recurrence_rule"

_FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY"})
_OTHER_FREQUENCIES = frozenset({"YEARLY", "HOURLY", "MINUTELY", "SECONDLY"})
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SUPPORTED_PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTHDAY", "BYDAY", "WKST")
_UNSUPPORTED_PARTS = frozenset({"BYSETPOS", "BYHOUR", "BYMINUTE", "BYSECOND", "BYYEARDAY", "BYWEEKNO", "BYMONTH"})
# A month has at most five of any weekday, so a larger ordinal could never match.
_MAX_WEEKDAY_ORDINAL = 5

# re.ASCII: str.isdigit() and int() also accept non-ASCII digits, which no RRULE contains.
_KEY = re.compile(r"[A-Z]+", re.ASCII)
_NUMBER = re.compile(r"[0-9]{1,4}", re.ASCII)
_SIGNED = re.compile(r"([+-]?)([0-9]{1,2})", re.ASCII)
_BYDAY_ITEM = re.compile(r"([+-]?)([0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)", re.ASCII)
_UNTIL_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})", re.ASCII)
_UNTIL_UTC = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z", re.ASCII)


@dataclass(frozen=True)
class Occurrence:
    start: datetime  # aware, in the resource's timezone (ZoneInfo)
    end: datetime  # aware, in the same zone
    local_date: date  # the date the rule produced; identifies the occurrence for exceptions


@dataclass(frozen=True)
class _Rule:
    freq: str
    interval: int
    count: int | None
    until: date | datetime | None  # a datetime is always UTC
    bymonthday: tuple[int, ...]
    byday: tuple[tuple[int, int | None], ...]  # (weekday 0=MO, ordinal or None)
    wkst: int

    def text(self) -> str:
        """The canonical spelling: fixed part order, defaults left out, lists sorted and deduplicated."""
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if isinstance(self.until, datetime):
            parts.append(f"UNTIL={self.until:%Y%m%dT%H%M%SZ}")
        elif self.until is not None:
            parts.append(f"UNTIL={self.until:%Y%m%d}")
        if self.bymonthday:
            parts.append("BYMONTHDAY=" + ",".join(str(day) for day in self.bymonthday))
        if self.byday:
            parts.append("BYDAY=" + ",".join(f"{'' if n is None else n}{_WEEKDAYS[wd]}" for wd, n in self.byday))
        if self.wkst != 0:
            parts.append(f"WKST={_WEEKDAYS[self.wkst]}")
        return ";".join(parts)


def parse_rule(rule: str) -> str:
    """Validate an RRULE and return its canonical spelling (what a series stores and echoes back)."""
    return _parse(rule).text()


def expand(  # noqa: PLR0912 - each branch is one documented rule of RRULE expansion
    rule: str,
    first_start: datetime,
    duration: timedelta,
    timezone: str,
    *,
    excluded_dates: Collection[date] = (),
    limit: int = MAX_OCCURRENCES,
    not_after: datetime | None = None,
) -> list[Occurrence]:
    """The occurrences of `rule` from `first_start`, in order, without those on `excluded_dates` (local dates).

    COUNT counts occurrences before exclusions, and `limit` bounds them before exclusions too: the cap is on the
    series the rule describes, and excluded dates still have to be generated to be removed. An excluded date no
    occurrence falls on is ignored. The result may be empty (UNTIL before the first match, everything excluded).
    """
    parsed = _parse(rule)
    if first_start.tzinfo is None or first_start.utcoffset() is None:
        raise errors.ValidationFailed(
            "The first start needs a UTC offset (e.g. 2026-03-02T09:00:00+00:00).", code="missing_offset"
        )
    if duration <= timedelta(0):
        raise errors.ValidationFailed("An occurrence must last longer than zero.", code="invalid_duration")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    if any(isinstance(day, datetime) for day in excluded_dates):
        # datetime is a date subclass that never equals one, so it would silently exclude nothing.
        raise TypeError("excluded_dates holds local dates, not datetimes")
    if parsed.count is not None and parsed.count > limit:
        raise _too_many(limit, f"the rule asks for {parsed.count}")
    zone = _zone(timezone)

    first_local = first_start.astimezone(zone)
    # dateutil drops microseconds from DTSTART, so they are put back on each occurrence below.
    dtstart = first_local.replace(tzinfo=None, fold=0)
    until_instant: datetime | None = None
    if isinstance(parsed.until, datetime):
        until_instant = parsed.until
        # dateutil only compares naive local times; that bound is loose by design and the exact instant is
        # checked per occurrence, which also gets gap shifts and repeated hours right. A day of slack covers
        # any UTC offset change between the two.
        naive_until = until_instant.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    elif parsed.until is not None:
        naive_until = datetime.combine(parsed.until, time.max)  # a date UNTIL includes the whole local day
    else:
        naive_until = None
    if not_after is not None:
        # A rule that never matches would make dateutil search to the year 9999 (about half a second of a
        # Lambda's time); nothing past the resource's booking horizon can be booked anyway.
        horizon = not_after.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
        naive_until = horizon if naive_until is None else min(naive_until, horizon)

    # Imported here: only expansion needs dateutil's rrule, and every function that merely imports this module
    # (availability, bookings) would otherwise pay for it at cold start.
    from dateutil import rrule as du

    frequencies: dict[str, Literal[1, 2, 3]] = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY}
    # dateutil stops by itself at datetime.MAXYEAR, so even a rule that never matches ends (in under a second);
    # otherwise generation stops at COUNT, at UNTIL or one past `limit`, whichever comes first.
    with warnings.catch_warnings():
        # dateutil frowns on COUNT together with UNTIL (RFC 5545 forbids it in a rule); here UNTIL is only the
        # horizon guard above, never part of the stored rule.
        warnings.simplefilter("ignore", DeprecationWarning)
        generator = du.rrule(
            frequencies[parsed.freq],
            dtstart=dtstart,
            interval=parsed.interval,
            wkst=parsed.wkst,
            count=parsed.count,
            until=naive_until,
            bymonthday=parsed.bymonthday or None,
            byweekday=[du.weekdays[wd] if n is None else du.weekdays[wd](n) for wd, n in parsed.byday] or None,
        )
    occurrences: list[Occurrence] = []
    for produced in generator:
        if produced.year > MAX_YEAR:
            raise errors.ValidationFailed(
                f"The series runs past the year {MAX_YEAR}, the furthest anything can be booked.",
                code="date_out_of_range",
            )
        naive = produced.replace(microsecond=dtstart.microsecond)
        occurrence = _occurrence(naive, first_local if naive == dtstart else None, duration, zone)
        # Starts strictly increase (occurrences are at least a day apart on the clock, more than any offset
        # change), so the first one past UNTIL ends the series.
        if until_instant is not None and occurrence.start > until_instant:
            break
        occurrences.append(occurrence)
        if len(occurrences) > limit:
            raise _too_many(limit, "the rule produces more than that")
    if not_after is not None and _runs_past(parsed, occurrences, not_after, zone):
        raise errors.ValidationFailed(
            f"The series runs past {not_after.astimezone(zone):%Y-%m-%d}, the furthest this resource can be booked.",
            code="beyond_horizon",
        )
    excluded = frozenset(excluded_dates)
    return [o for o in occurrences if o.local_date not in excluded]


def _runs_past(parsed: _Rule, occurrences: list[Occurrence], not_after: datetime, zone: ZoneInfo) -> bool:
    if occurrences and occurrences[-1].start > not_after:
        return True
    if parsed.count is not None:
        return len(occurrences) < parsed.count
    if isinstance(parsed.until, datetime):
        return parsed.until > not_after
    if parsed.until is not None:
        return parsed.until > not_after.astimezone(zone).date()
    return False


def _occurrence(naive: datetime, exact_start: datetime | None, duration: timedelta, zone: ZoneInfo) -> Occurrence:
    start = exact_start if exact_start is not None else _on_the_clock(naive, zone)
    end = _on_the_clock(naive + duration, zone)
    # Compared in UTC: aware datetimes sharing a tzinfo compare by wall clock, ignoring fold.
    if end.astimezone(UTC) <= start.astimezone(UTC):
        end = (start.astimezone(UTC) + duration).astimezone(zone)
    return Occurrence(start=start, end=end, local_date=naive.date())


def _on_the_clock(naive: datetime, zone: ZoneInfo) -> datetime:
    """The instant a local wall-clock time names: fold=0 picks the earlier of a repeated hour and, in a gap, reads
    the time with the offset before it, which lands as far past the gap as the time was into it. The UTC round trip
    turns that into a real local time with the right offset."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def _too_many(limit: int, produced: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(
        f"A series has at most {limit} occurrences; {produced}.",
        code="too_many_occurrences",
        extra={"limit": limit},
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise errors.ValidationFailed(f"{name!r} is not an IANA timezone.", code="invalid_timezone") from exc


def _invalid(detail: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(detail, code=RULE_CODE)


def _parse(rule: str) -> _Rule:
    text = rule.strip().upper()
    if not text:
        raise _invalid("The recurrence rule is empty.")
    if len(text) > MAX_RULE_LENGTH:
        raise _invalid(f"The recurrence rule is longer than {MAX_RULE_LENGTH} characters.")
    text = text.removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for part in text.split(";"):
        key, equals, value = part.partition("=")
        if not equals or not _KEY.fullmatch(key) or not value:
            raise _invalid(f"{part!r} is not a NAME=VALUE rule part.")
        if key in parts:
            raise _invalid(f"{key} appears more than once.")
        if key in _UNSUPPORTED_PARTS:
            raise _invalid(f"{key} is not supported; use {', '.join(_SUPPORTED_PARTS)}.")
        if key not in _SUPPORTED_PARTS:
            raise _invalid(f"{key} is not a recurrence rule part.")
        parts[key] = value

    freq = parts.get("FREQ")
    if freq is None:
        raise _invalid("FREQ is required (DAILY, WEEKLY or MONTHLY).")
    if freq not in _FREQUENCIES:
        kind = "is not supported" if freq in _OTHER_FREQUENCIES else "is not a frequency"
        raise _invalid(f"FREQ={freq} {kind}; use DAILY, WEEKLY or MONTHLY.")
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise _invalid("Give exactly one of COUNT or UNTIL: a series must end, and only one way.")

    count = _number(parts, "COUNT", MAX_OCCURRENCES)
    interval = _number(parts, "INTERVAL", MAX_INTERVAL)
    bymonthday = _bymonthday(parts.get("BYMONTHDAY"), freq)
    byday = _byday(parts.get("BYDAY"), freq)
    wkst = _weekday(parts["WKST"], "WKST") if "WKST" in parts else 0
    until = _bounded_until(parts["UNTIL"]) if "UNTIL" in parts else None
    return _Rule(freq, interval or 1, count, until, bymonthday, byday, wkst)


def _number(parts: dict[str, str], key: str, highest: int) -> int | None:
    if key not in parts:
        return None
    value = parts[key]
    if not _NUMBER.fullmatch(value) or not 1 <= int(value) <= highest:
        raise _invalid(f"{key}={value} is not a whole number from 1 to {highest}.")
    return int(value)


def _items(value: str, key: str) -> list[str]:
    items = value.split(",")
    if "" in items:
        raise _invalid(f"{key}={value} has an empty item.")
    return items


def _bymonthday(value: str | None, freq: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if freq == "WEEKLY":
        # RFC 5545 forbids it: a weekly period is not a month.
        raise _invalid("BYMONTHDAY cannot be used with FREQ=WEEKLY.")
    days = set()
    for item in _items(value, "BYMONTHDAY"):
        match = _SIGNED.fullmatch(item)
        if match is None or not 1 <= int(match[2]) <= 31:
            raise _invalid(f"BYMONTHDAY {item!r} is not a day of the month (1 to 31, or -31 to -1 from the end).")
        days.add(-int(match[2]) if match[1] == "-" else int(match[2]))
    return tuple(sorted(days))


def _byday(value: str | None, freq: str) -> tuple[tuple[int, int | None], ...]:
    if value is None:
        return ()
    days: set[tuple[int, int | None]] = set()
    for item in _items(value, "BYDAY"):
        match = _BYDAY_ITEM.fullmatch(item)
        if match is None:
            raise _invalid(f"BYDAY {item!r} is not a weekday (MO to SU, or like 1MO or -1FR with FREQ=MONTHLY).")
        sign, number, weekday = match.groups()
        if number is None:
            if sign:
                raise _invalid(f"BYDAY {item!r} has a sign but no number.")
            days.add((_WEEKDAYS.index(weekday), None))
            continue
        if freq != "MONTHLY":
            # RFC 5545: a numbered weekday is only meaningful within a month (or year).
            raise _invalid(f"BYDAY {item!r}: numbered weekdays need FREQ=MONTHLY.")
        if not 1 <= int(number) <= _MAX_WEEKDAY_ORDINAL:
            raise _invalid(f"BYDAY {item!r}: a month has at most {_MAX_WEEKDAY_ORDINAL} of any weekday.")
        days.add((_WEEKDAYS.index(weekday), -int(number) if sign == "-" else int(number)))
    return tuple(sorted(days, key=lambda day: (day[0], 0 if day[1] is None else day[1])))


def _weekday(value: str, key: str) -> int:
    if value not in _WEEKDAYS:
        raise _invalid(f"{key}={value} is not a weekday (MO to SU).")
    return _WEEKDAYS.index(value)


def _until(value: str) -> date | datetime:
    shape = "UNTIL must be a date (YYYYMMDD) or a UTC date-time (YYYYMMDDTHHMMSSZ)"
    try:
        if match := _UNTIL_DATE.fullmatch(value):
            return date(*(int(group) for group in match.groups()))
        if match := _UNTIL_UTC.fullmatch(value):
            year, month, day, hour, minute, second = (int(group) for group in match.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise _invalid(f"UNTIL={value} is not a real date or time.") from exc
    raise _invalid(f"{shape}, not {value!r}.")


def _bounded_until(value: str) -> date | datetime:
    until = _until(value)
    if not MIN_YEAR <= until.year <= MAX_YEAR:
        raise _invalid(f"UNTIL={value} is not between the years {MIN_YEAR} and {MAX_YEAR}.")
    return until
