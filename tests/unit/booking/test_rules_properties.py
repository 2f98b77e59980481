"""Properties of the booking rules, checked against brute-force oracles around the 2026 DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from slotwise import errors
from slotwise.booking.keys import day_key_range, lock_keys, span_key_range
from slotwise.booking.policy import candidate_windows, check_policy
from slotwise.booking.pricing import quote
from slotwise.booking.windows import Window, window_for
from slotwise.catalog.bookable import MAX_LOCK_KEYS
from slotwise.catalog.models import (
    WEEKDAYS,
    BookingPolicy,
    DateOverride,
    PriceRule,
    Pricing,
    Resource,
    TimeRange,
    Weekday,
)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CREATED = datetime(2025, 1, 1, tzinfo=UTC)
# Far enough before every generated window that notice, past and horizon never interfere.
NOW = datetime(2025, 6, 1, tzinfo=UTC)

ZONES = [
    "Europe/Lisbon",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
    "Australia/Lord_Howe",  # 30-minute DST shift: granules up to 30 minutes
    "Asia/Kathmandu",  # +05:45: an hour grid sits at quarter past in UTC
]
# The 2026 clock changes of each zone; zones without any get an ordinary date too.
CHANGES: dict[str, list[date]] = {
    "Europe/Lisbon": [date(2026, 3, 29), date(2026, 10, 25)],
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
    "Australia/Sydney": [date(2026, 4, 5), date(2026, 10, 4)],
    "Australia/Lord_Howe": [date(2026, 4, 5), date(2026, 10, 4)],
}
DST_DAYS = sorted({day for days in CHANGES.values() for day in days} | {date(2026, 6, 15)})


def days_near_changes(tz: str) -> st.SearchStrategy[date]:
    """Mostly the zone's own change dates (the day before, of, after), sometimes any other zone's."""
    own = st.sampled_from(CHANGES.get(tz, DST_DAYS))
    return st.builds(
        lambda day, shift: day + timedelta(days=shift), own | st.sampled_from(DST_DAYS), st.integers(-1, 1)
    )


def make_resource(tz: str, policy: BookingPolicy, rules_: list[PriceRule] | None = None, price: int = 100) -> Resource:
    return Resource(
        id="res-1",
        venue_id="venue-1",
        owner_id="owner-1",
        name="Room",
        type="meeting_room",
        capacity=1,
        timezone=tz,
        city="Somewhere",
        policy=policy,
        pricing=Pricing(currency="EUR", unit_price=price, rules=rules_ or []),
        created_at=CREATED,
        updated_at=CREATED,
    )


def fits(tz: str, granule: int) -> bool:
    return not (tz == "Australia/Lord_Howe" and granule == 60)


@st.composite
def zone_and_granule(draw: st.DrawFn) -> tuple[str, int]:
    tz = draw(st.sampled_from(ZONES))
    granule = draw(st.sampled_from([g for g in (15, 30, 60) if fits(tz, g)]))
    return tz, granule


@st.composite
def local_start(draw: st.DrawFn, tz: str, granule: int) -> datetime:
    """A wall-clock start on the local grid near a DST change; skipped-over wall times are discarded."""
    zone = ZoneInfo(tz)
    day = draw(days_near_changes(tz))
    # Clocks change between 00:00 and 03:00 local, so starts there are drawn more often.
    hour = draw(st.integers(0, 23) | st.integers(0, 3))
    wall = time(hour, draw(st.integers(0, 60 // granule - 1)) * granule)
    value = datetime.combine(day, wall, tzinfo=zone).replace(fold=draw(st.integers(0, 1)))
    assume(value.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == value.replace(tzinfo=None))
    return value


@st.composite
def timed_windows(draw: st.DrawFn, tz: str, granule: int, max_granules: int) -> Window:
    """A grid-aligned window near a clock change: half of them start before a change and end after it."""
    step = timedelta(minutes=granule)
    if tz in CHANGES and draw(st.booleans()):
        change = draw(st.sampled_from(clock_changes(tz)))
        before = draw(st.integers(0, min(8, max_granules - 1)))
        start = change - before * step
        return Window(start, start + draw(st.integers(before + 1, max_granules)) * step)
    start = draw(local_start(tz, granule)).astimezone(UTC)
    return Window(start, start + draw(st.integers(1, min(8, max_granules)) | st.integers(1, max_granules)) * step)


@lru_cache
def clock_changes(tz: str) -> list[datetime]:
    """The UTC instants at which the zone's offset changes on its 2026 change dates (found minute by minute)."""
    zone = ZoneInfo(tz)
    found = []
    for day in CHANGES[tz]:
        minutes = utc_minutes(datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC), day_after(zone, day))
        found += [b for a, b in pairwise(minutes) if a.astimezone(zone).utcoffset() != b.astimezone(zone).utcoffset()]
    assert len(found) == len(CHANGES[tz])
    return found


def day_after(zone: ZoneInfo, day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def utc_minutes(start: datetime, end: datetime) -> list[datetime]:
    count = (end - start) // timedelta(minutes=1)
    return [start + timedelta(minutes=n) for n in range(count)]


# ------------------------------------------------------------------------------------------- (1) timed lock keys


@PROPERTY
@given(data=st.data(), zg=zone_and_granule(), before=st.integers(0, 3), after=st.integers(0, 3))
def test_timed_keys_overlap_exactly_when_buffered_intervals_overlap(
    data: st.DataObject, zg: tuple[str, int], before: int, after: int
) -> None:
    tz, granule = zg
    policy = BookingPolicy(
        granule_minutes=granule, buffer_before_minutes=before * granule, buffer_after_minutes=after * granule
    )
    resource = make_resource(tz, policy)
    first, second = (
        window_for(resource, start=w.start.astimezone(ZoneInfo(tz)), end=w.end)
        for w in (data.draw(timed_windows(tz, granule, 24)), data.draw(timed_windows(tz, granule, 24)))
    )
    keys_first, keys_second = lock_keys(resource, first), lock_keys(resource, second)

    pad_before, pad_after = timedelta(minutes=before * granule), timedelta(minutes=after * granule)
    a0, a1 = first.start - pad_before, first.end + pad_after
    b0, b1 = second.start - pad_before, second.end + pad_after
    event(f"overlap={a0 < b1 and b0 < a1}")
    assert bool(set(keys_first) & set(keys_second)) == (a0 < b1 and b0 < a1)
    span_low, span_high = span_key_range(resource, [first, second])
    for keys, (low, high) in ((keys_first, (a0, a1)), (keys_second, (b0, b1))):
        assert keys == sorted(set(keys))
        assert len(keys) == (high - low) // timedelta(minutes=granule)
        assert span_low <= keys[0] and keys[-1] <= span_high


@PROPERTY
@given(zg=zone_and_granule(), data=st.data())
def test_every_key_of_a_booking_starting_on_a_day_is_in_its_day_range(zg: tuple[str, int], data: st.DataObject) -> None:
    tz, granule = zg
    before, after = data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))
    policy = BookingPolicy(
        granule_minutes=granule, buffer_before_minutes=before * granule, buffer_after_minutes=after * granule
    )
    resource = make_resource(tz, policy)
    window = data.draw(timed_windows(tz, granule, 1))
    low, high = day_key_range(resource, window.start.astimezone(ZoneInfo(tz)).date())
    assert all(low <= key <= high for key in lock_keys(resource, window))


# ---------------------------------------------------------------------------------------------------- (2) nights


@PROPERTY
@given(
    first_in=st.integers(0, 120),
    first_nights=st.integers(1, 30),
    second_in=st.integers(0, 120),
    second_nights=st.integers(1, 30),
    tz=st.sampled_from(ZONES),
)
def test_night_keys_overlap_exactly_when_stays_share_a_night(
    first_in: int, first_nights: int, second_in: int, second_nights: int, tz: str
) -> None:
    resource = make_resource(tz, BookingPolicy(unit="night", buffer_before_minutes=60))
    base = date(2026, 2, 1)
    stays = [
        (base + timedelta(days=first_in), base + timedelta(days=first_in + first_nights)),
        (base + timedelta(days=second_in), base + timedelta(days=second_in + second_nights)),
    ]
    keys = [set(lock_keys(resource, window_for(resource, check_in=a, check_out=b))) for a, b in stays]
    (a0, a1), (b0, b1) = stays
    assert bool(keys[0] & keys[1]) == (a0 < b1 and b0 < a1)
    assert [len(k) for k in keys] == [first_nights, second_nights]


# ----------------------------------------------------------------------------------------------------- (3) price

HHMM = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def price_rules(draw: st.DrawFn) -> PriceRule:
    # Built by hand: st.builds would also fill the camelCase aliases pydantic puts in the signature.
    return PriceRule(
        name=draw(st.sampled_from(["Peak", "Weekend", "Night", "Early"])),
        unit_price=draw(st.integers(0, 10**6)),
        weekdays=draw(st.none() | st.lists(st.sampled_from(WEEKDAYS), unique=True)),
        start=draw(st.none() | HHMM),
        end=draw(st.none() | HHMM | st.just("24:00")),
    )


def oracle_unit_price(resource: Resource, weekday: Weekday, wall: time) -> int:
    """The price of one unit by reading the rules literally (a range with start >= end wraps past midnight)."""
    for rule in resource.pricing.rules:
        if rule.weekdays is not None and weekday not in rule.weekdays:
            continue
        start = time.fromisoformat(rule.start) if rule.start else time(0)
        if rule.end in (None, "24:00"):
            inside = wall >= start
        else:
            end = time.fromisoformat(rule.end)
            inside = start <= wall < end if start < end else (wall >= start or wall < end)
        if inside:
            return rule.unit_price
    return resource.pricing.unit_price


@PROPERTY
@given(data=st.data(), zg=zone_and_granule(), priced=st.lists(price_rules(), max_size=4), nights=st.booleans())
def test_quote_adds_up(data: st.DataObject, zg: tuple[str, int], priced: list[PriceRule], nights: bool) -> None:
    tz, granule = zg
    zone = ZoneInfo(tz)
    base, quantity = data.draw(st.integers(0, 10**6)), data.draw(st.integers(1, 50))
    if nights:
        resource = make_resource(tz, BookingPolicy(unit="night", check_in_time="14:30"), priced, base)
        check_in = data.draw(days_near_changes(tz))
        check_out = check_in + timedelta(days=data.draw(st.integers(1, 20)))
        window = window_for(resource, check_in=check_in, check_out=check_out)
        nights_dates = [check_in + timedelta(days=n) for n in range((check_out - check_in).days)]
        unit_prices = [oracle_unit_price(resource, WEEKDAYS[d.weekday()], time(14, 30)) for d in nights_dates]
    else:
        resource = make_resource(tz, BookingPolicy(granule_minutes=granule), priced, base)
        window = data.draw(timed_windows(tz, granule, 48))
        unit_prices = []
        for instant in utc_minutes(window.start, window.end)[::granule]:
            local = instant.astimezone(zone)
            unit_prices.append(oracle_unit_price(resource, WEEKDAYS[local.weekday()], local.time()))

    price = quote(resource, window, quantity)
    assert price.amount == sum(line.amount for line in price.lines) == quantity * sum(unit_prices)
    assert price.amount >= 0
    assert sum(line.units for line in price.lines) == len(unit_prices)
    assert len({line.unit_price for line in price.lines}) == len(price.lines)
    assert all(line.amount == line.unit_price * line.units * quantity for line in price.lines)
    assert (price.currency, price.quantity) == ("EUR", quantity)


# ------------------------------------------------------------------------ (5) opening hours, (4) candidate windows


@st.composite
def opening_hours(draw: st.DrawFn) -> list[TimeRange]:
    """Hours as a day cut into open and closed stretches; neighbouring open stretches touch (09-12 + 12-17)."""
    # Cuts fall around the clock changes (00:00-04:00 local) more often than elsewhere.
    marks = st.integers(0, 48) | st.integers(0, 8)
    cuts = sorted({n * 30 for n in draw(st.lists(marks, min_size=2, max_size=6))})
    # Two in three stretches open, so neighbouring open stretches (touching ranges) are common.
    ranges = [TimeRange(start=_hhmm(low), end=_hhmm(high)) for low, high in pairwise(cuts) if draw(st.integers(0, 2))]
    if draw(st.booleans()):  # sometimes one more, overlapping others anywhere
        low, high = sorted(draw(st.lists(st.integers(0, 48), min_size=2, max_size=2, unique=True)))
        ranges.append(TimeRange(start=_hhmm(low * 30), end=_hhmm(high * 30)))
    return ranges


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def open_policies(draw: st.DrawFn, /, granule: int, weekly_odds: int = 4, **extra: Any) -> BookingPolicy:
    weekly: dict[Weekday, list[TimeRange]] | None = None
    if draw(st.integers(0, weekly_odds)):  # around the clock is the easy case: mostly weekly hours
        days = draw(st.lists(st.sampled_from(WEEKDAYS), unique=True))
        weekly = {day: draw(opening_hours()) for day in days}
    override_days = draw(st.lists(st.sampled_from(DST_DAYS), unique=True, max_size=3))
    overrides = [DateOverride(date=day, hours=draw(opening_hours())) for day in override_days]
    return BookingPolicy(granule_minutes=granule, opening_hours=weekly, date_overrides=overrides, **extra)


def open_at(resource: Resource, instant: datetime) -> bool:
    """Brute force: is the resource open in the local minute at `instant`?"""
    local = instant.astimezone(resource.zone)
    policy = resource.policy
    override = next((o for o in policy.date_overrides if o.date == local.date()), None)
    if override is not None:
        ranges = override.hours
    elif policy.opening_hours is None:
        return True
    else:
        ranges = policy.opening_hours.get(WEEKDAYS[local.weekday()], [])
    minute = local.hour * 60 + local.minute
    return any(r.start_minute <= minute < r.end_minute for r in ranges)


def policy_problem(resource: Resource, window: Window, now: datetime = NOW) -> str | None:
    try:
        check_policy(resource, window, 1, now)
    except errors.ValidationFailed as problem:
        return problem.code
    return None


@PROPERTY
@given(zg=zone_and_granule(), data=st.data())
def test_opening_hours_agree_with_a_minute_by_minute_check(zg: tuple[str, int], data: st.DataObject) -> None:
    tz, granule = zg
    resource = make_resource(tz, data.draw(open_policies(granule, max_horizon_days=1100)))
    window = data.draw(timed_windows(tz, granule, MAX_LOCK_KEYS))
    expected = all(open_at(resource, minute) for minute in utc_minutes(window.start, window.end))
    event(f"open={expected}")
    assert (policy_problem(resource, window) is None) == expected
    if not expected:
        assert policy_problem(resource, window) == "outside_opening_hours"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zg=zone_and_granule(), data=st.data())
def test_candidate_windows_are_exactly_the_valid_grid_starts(zg: tuple[str, int], data: st.DataObject) -> None:
    tz, granule = zg
    zone = ZoneInfo(tz)
    policy = data.draw(
        open_policies(
            granule,
            weekly_odds=1,
            min_units=data.draw(st.integers(1, 4)),
            min_notice_minutes=data.draw(st.sampled_from([0, 45, 24 * 60])),
            max_horizon_days=data.draw(st.integers(1, 5)),
            blackout_dates=data.draw(st.lists(st.sampled_from(DST_DAYS), max_size=2)),
        )
    )
    resource = make_resource(tz, policy)
    day = data.draw(days_near_changes(tz))
    frm = datetime.combine(day - timedelta(days=1), time(0), tzinfo=zone) + timedelta(
        minutes=data.draw(st.integers(0, 24 * 60))
    )
    to = frm + timedelta(minutes=data.draw(st.integers(0, 2 * 24 * 60)))
    now = frm + timedelta(minutes=data.draw(st.integers(-2 * 24 * 60, 6 * 60)))

    found = candidate_windows(resource, frm, to, now)

    length = timedelta(minutes=policy.min_units * granule)
    expected = []
    for instant in utc_minutes(frm.astimezone(UTC), to.astimezone(UTC)):
        local = instant.astimezone(zone)
        if (local.hour * 60 + local.minute) % granule == 0:
            window = Window(instant, instant + length)
            if policy_problem(resource, window, now) is None:
                expected.append(window)
    event(f"found={bool(found)}")
    assert found == expected
    for window in found:
        check_policy(resource, window, 1, now)


@PROPERTY
@given(tz=st.sampled_from(ZONES), data=st.data())
def test_candidate_stays_are_exactly_the_valid_check_ins(tz: str, data: st.DataObject) -> None:
    zone = ZoneInfo(tz)
    first_day = data.draw(days_near_changes(tz)) - timedelta(days=5)
    policy = BookingPolicy(
        unit="night",
        check_in_time=data.draw(HHMM),
        min_units=data.draw(st.integers(1, 4)),
        min_notice_minutes=data.draw(st.sampled_from([0, 600, 2 * 24 * 60])),
        max_horizon_days=data.draw(st.integers(1, 20)),
        blackout_dates=data.draw(st.lists(st.integers(0, 20).map(lambda n: first_day + timedelta(days=n)))),
    )
    resource = make_resource(tz, policy)
    frm = datetime.combine(first_day, time(0), tzinfo=zone) + timedelta(minutes=data.draw(st.integers(0, 5 * 1440)))
    to = frm + timedelta(minutes=data.draw(st.integers(0, 12 * 1440)))
    now = frm + timedelta(minutes=data.draw(st.integers(-5 * 1440, 1440)))

    found = candidate_windows(resource, frm, to, now)

    expected = []
    for offset in range(-1, (to.date() - frm.date()).days + 2):
        check_in = frm.date() + timedelta(days=offset)
        window = window_for(resource, check_in=check_in, check_out=check_in + timedelta(days=policy.min_units))
        if frm <= window.start < to and policy_problem(resource, window, now) is None:
            expected.append(window)
    event(f"found={bool(found)}")
    assert found == expected
    for window in found:
        check_policy(resource, window, 1, now)
