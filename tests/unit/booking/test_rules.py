"""Examples for the booking rules: lock keys, policy checks, prices, key ranges and the start-time grid."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from slotwise import errors
from slotwise.booking.keys import day_key_range, lock_keys, span_key_range
from slotwise.booking.policy import MAX_CANDIDATE_WINDOWS, candidate_windows, check_policy
from slotwise.booking.pricing import PriceLine, PriceQuote, quote
from slotwise.booking.windows import Window, window_for
from slotwise.catalog.bookable import MAX_LOCK_KEYS, check_granule_fits_timezone
from slotwise.catalog.models import BookingPolicy, DateOverride, PriceRule, Pricing, Resource, TimeRange

CREATED = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
LISBON = ZoneInfo("Europe/Lisbon")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")


def make_resource(
    *,
    tz: str = "Europe/Berlin",
    capacity: int = 1,
    active: bool = True,
    unit_price: int = 1000,
    price_rules: list[PriceRule] | None = None,
    **policy: Any,
) -> Resource:
    policy.setdefault("max_horizon_days", 1100)
    return Resource(
        id="res-1",
        venue_id="venue-1",
        owner_id="owner-1",
        name="Room",
        type="meeting_room",
        capacity=capacity,
        timezone=tz,
        city="Lisbon",
        active=active,
        policy=BookingPolicy(**policy),
        pricing=Pricing(currency="EUR", unit_price=unit_price, rules=price_rules or []),
        created_at=CREATED,
        updated_at=CREATED,
    )


def meeting_room(**policy: Any) -> Resource:
    """15-minute granules, a 15-minute buffer before and 30 after (cleaning), Berlin time."""
    defaults: dict[str, Any] = {"granule_minutes": 15, "buffer_before_minutes": 15, "buffer_after_minutes": 30}
    return make_resource(**(defaults | policy))


def hostel(**policy: Any) -> Resource:
    return make_resource(tz="Europe/Lisbon", capacity=6, unit="night", **policy)


FLIGHT_START = datetime(2026, 6, 1, 8, 30, tzinfo=LISBON)
FLIGHT_END = datetime(2026, 6, 1, 11, 45, tzinfo=LISBON)


def flight(**policy: Any) -> Resource:
    return make_resource(
        tz="Europe/Lisbon", capacity=180, unit="fixed", fixed_start=FLIGHT_START, fixed_end=FLIGHT_END, **policy
    )


def at(zone: ZoneInfo, day: str, hhmm: str, fold: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), tzinfo=zone).replace(fold=fold)


def timed(resource: Resource, zone: ZoneInfo, day: str, start: str, end: str, *, end_day: str | None = None) -> Window:
    return window_for(resource, start=at(zone, day, start), end=at(zone, end_day or day, end))


def code_of(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(errors.ValidationFailed) as caught:
        call(*args, **kwargs)
    return caught.value.code


def policy_code(resource: Resource, window: Window, quantity: int = 1, now: datetime = NOW) -> str:
    return code_of(check_policy, resource, window, quantity, now)


def hours(*ranges: tuple[str, str]) -> list[TimeRange]:
    return [TimeRange(start=start, end=end) for start, end in ranges]


# ---------------------------------------------------------------------------------------------------- window_for


class TestWindowFor:
    def test_timed_window_is_the_same_instants_in_utc(self) -> None:
        window = timed(meeting_room(), BERLIN, "2026-03-02", "10:00", "10:30")
        assert window == Window(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
        assert window.start.utcoffset() == timedelta(0)

    @pytest.mark.parametrize(
        "times",
        [
            {"start": datetime(2026, 3, 2, 10, tzinfo=UTC)},
            {"end": datetime(2026, 3, 2, 10, tzinfo=UTC)},
            {"start": datetime(2026, 3, 2, 10), "end": datetime(2026, 3, 2, 11)},  # naive
        ],
    )
    def test_timed_window_needs_both_aware_times(self, times: dict[str, datetime]) -> None:
        assert code_of(window_for, meeting_room(), **times) == "missing_times"

    @pytest.mark.parametrize("end", ["10:00", "09:45"])
    def test_end_must_follow_start(self, end: str) -> None:
        assert code_of(timed, meeting_room(), BERLIN, "2026-03-02", "10:00", end) == "end_before_start"

    def test_a_fall_back_end_that_reads_earlier_on_the_clock_is_still_later(self) -> None:
        room = make_resource(tz="America/New_York", granule_minutes=15)
        window = window_for(
            room, start=at(NEW_YORK, "2026-11-01", "01:45"), end=at(NEW_YORK, "2026-11-01", "01:15", fold=1)
        )
        assert window.end - window.start == timedelta(minutes=30)

    def test_a_wall_time_inside_the_spring_forward_gap_is_refused(self) -> None:
        room = make_resource(tz="America/New_York", granule_minutes=30)
        gap = at(NEW_YORK, "2026-03-08", "02:30")
        assert code_of(window_for, room, start=gap, end=gap + timedelta(hours=2)) == "nonexistent_local_time"

    def test_stay_runs_from_check_in_time_to_check_out_time(self) -> None:
        window = window_for(hostel(), check_in=date(2026, 7, 10), check_out=date(2026, 7, 13))
        assert window.start == at(LISBON, "2026-07-10", "15:00")
        assert window.end == at(LISBON, "2026-07-13", "11:00")
        assert (window.check_in, window.check_out) == (date(2026, 7, 10), date(2026, 7, 13))

    def test_stay_needs_both_dates_in_order(self) -> None:
        assert code_of(window_for, hostel(), check_in=date(2026, 7, 10)) == "missing_dates"
        assert (
            code_of(window_for, hostel(), check_in=date(2026, 7, 10), check_out=date(2026, 7, 10)) == "end_before_start"
        )

    def test_fields_of_another_unit_are_refused(self) -> None:
        times = {"start": at(LISBON, "2026-07-10", "15:00"), "end": at(LISBON, "2026-07-11", "11:00")}
        dates = {"check_in": date(2026, 7, 10), "check_out": date(2026, 7, 11)}
        assert code_of(window_for, hostel(), **times, **dates) == "wrong_unit_fields"
        assert code_of(window_for, meeting_room(), **times, **dates) == "wrong_unit_fields"
        assert code_of(window_for, flight(), **dates) == "wrong_unit_fields"

    def test_fixed_window_is_the_only_window(self) -> None:
        expected = Window(FLIGHT_START.astimezone(UTC), FLIGHT_END.astimezone(UTC))
        assert window_for(flight()) == expected
        # The same instants written with another offset are the same window.
        same = window_for(flight(), start=FLIGHT_START.astimezone(UTC), end=FLIGHT_END.astimezone(BERLIN))
        assert same == expected
        later = FLIGHT_START + timedelta(hours=1)
        assert code_of(window_for, flight(), start=later) == "not_the_fixed_window"
        assert code_of(window_for, flight(), end=FLIGHT_START) == "not_the_fixed_window"


# ----------------------------------------------------------------------------------------------------- lock_keys


class TestLockKeys:
    def test_meeting_room_claims_its_granules_and_buffers_in_utc(self) -> None:
        window = timed(meeting_room(), BERLIN, "2026-03-02", "10:00", "10:30")
        assert lock_keys(meeting_room(), window) == [
            "T#2026-03-02T08:45Z",  # buffer before
            "T#2026-03-02T09:00Z",
            "T#2026-03-02T09:15Z",
            "T#2026-03-02T09:30Z",  # buffer after
            "T#2026-03-02T09:45Z",
        ]

    def test_back_to_back_meetings_collide_only_through_their_buffers(self) -> None:
        room = meeting_room()
        first = lock_keys(room, timed(room, BERLIN, "2026-03-02", "10:00", "10:30"))
        second = lock_keys(room, timed(room, BERLIN, "2026-03-02", "10:30", "11:00"))
        assert set(first) & set(second)
        unbuffered = make_resource(granule_minutes=15)
        first = lock_keys(unbuffered, timed(unbuffered, BERLIN, "2026-03-02", "10:00", "10:30"))
        second = lock_keys(unbuffered, timed(unbuffered, BERLIN, "2026-03-02", "10:30", "11:00"))
        assert not set(first) & set(second)

    @pytest.mark.parametrize(("start", "end"), [("10:07", "10:30"), ("10:00", "10:20"), ("10:00:30", "10:30")])
    def test_times_off_the_local_grid_are_misaligned(self, start: str, end: str) -> None:
        room = meeting_room()
        window = timed(room, BERLIN, "2026-03-02", start, end)
        assert code_of(lock_keys, room, window) == "misaligned"

    def test_hostel_stay_claims_one_key_per_night(self) -> None:
        window = window_for(hostel(), check_in=date(2026, 7, 10), check_out=date(2026, 7, 13))
        assert lock_keys(hostel(), window) == ["N#2026-07-10", "N#2026-07-11", "N#2026-07-12"]

    def test_flight_claims_the_one_fixed_key(self) -> None:
        assert lock_keys(flight(), window_for(flight())) == ["F#"]

    def test_more_keys_than_a_transaction_holds_is_too_long_and_says_the_limit(self) -> None:
        room = meeting_room()
        window = timed(room, BERLIN, "2026-03-02", "00:00", "00:00", end_day="2026-03-03")
        with pytest.raises(errors.ValidationFailed) as caught:
            lock_keys(room, window)
        assert caught.value.code == "too_long"
        # 90 slots of 15 minutes, 45 of them spent on buffers.
        assert "21 hours 45 minutes" in caught.value.detail
        assert "transaction" in caught.value.detail
        longest = timed(room, BERLIN, "2026-03-02", "00:00", "21:45")
        assert len(lock_keys(room, longest)) == MAX_LOCK_KEYS

    def test_a_stay_longer_than_the_transaction_limit_is_too_long(self) -> None:
        window = window_for(hostel(), check_in=date(2026, 1, 1), check_out=date(2026, 4, 2))
        with pytest.raises(errors.ValidationFailed) as caught:
            lock_keys(hostel(), window)
        assert caught.value.code == "too_long"
        assert "90 nights" in caught.value.detail

    def test_half_hour_zone_with_hour_granules_has_no_false_overlap(self) -> None:
        room = make_resource(tz="Asia/Kolkata", granule_minutes=60)
        ten = lock_keys(room, timed(room, KOLKATA, "2026-03-02", "10:00", "11:00"))
        eleven = lock_keys(room, timed(room, KOLKATA, "2026-03-02", "11:00", "12:00"))
        both = lock_keys(room, timed(room, KOLKATA, "2026-03-02", "10:00", "12:00"))
        assert ten == ["T#2026-03-02T04:30Z"]
        assert eleven == ["T#2026-03-02T05:30Z"]
        assert set(both) == set(ten) | set(eleven)
        assert code_of(lock_keys, room, timed(room, KOLKATA, "2026-03-02", "10:30", "11:30")) == "misaligned"

    def test_lord_howe_half_hour_dst_refuses_hour_granules(self) -> None:
        assert code_of(check_granule_fits_timezone, 60, "Australia/Lord_Howe") == ("granule_incompatible_with_timezone")
        check_granule_fits_timezone(30, "Australia/Lord_Howe")
        room = make_resource(tz="Australia/Lord_Howe", granule_minutes=60)
        zone = ZoneInfo("Australia/Lord_Howe")
        window = timed(room, zone, "2026-03-02", "10:00", "11:00")
        assert code_of(lock_keys, room, window) == "granule_incompatible_with_timezone"
        assert policy_code(room, window) == "granule_incompatible_with_timezone"
        with pytest.raises(errors.ValidationFailed) as caught:
            check_granule_fits_timezone(60, "Australia/Lord_Howe")
        assert "30 minutes" in caught.value.detail

    @pytest.mark.parametrize("granule", [7, 45, 90, 120, 1440])
    def test_granules_that_do_not_divide_an_hour_are_refused(self, granule: int) -> None:
        assert code_of(check_granule_fits_timezone, granule, "UTC") == "granule_incompatible_with_timezone"

    @pytest.mark.parametrize("granule", [5, 10, 15, 20, 30, 60])
    @pytest.mark.parametrize("tz", ["UTC", "Europe/Lisbon", "America/New_York", "Asia/Kolkata", "Australia/Sydney"])
    def test_hour_divisors_fit_whole_hour_dst_zones(self, granule: int, tz: str) -> None:
        check_granule_fits_timezone(granule, tz)

    @pytest.mark.parametrize(
        ("tz", "day", "expected"),
        [
            ("Europe/Lisbon", "2026-03-29", 23),
            ("Europe/Lisbon", "2026-10-25", 25),
            ("America/New_York", "2026-03-08", 23),
            ("America/New_York", "2026-11-01", 25),
            ("America/New_York", "2026-03-09", 24),
        ],
    )
    def test_a_whole_local_day_on_a_dst_change_has_23_or_25_hour_keys(self, tz: str, day: str, expected: int) -> None:
        zone = ZoneInfo(tz)
        room = make_resource(tz=tz, granule_minutes=60, opening_hours={"sun": hours(("00:00", "24:00"))})
        next_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        window = timed(room, zone, day, "00:00", "00:00", end_day=next_day)
        keys = lock_keys(room, window)
        assert len(keys) == expected == len(set(keys))
        assert keys == sorted(keys)
        if date.fromisoformat(day).weekday() == 6:
            check_policy(room, window, 1, NOW)
        low, high = day_key_range(room, date.fromisoformat(day))
        assert (keys[0], keys[-1]) == (low, high[:-3] + "00Z")

    def test_the_repeated_fall_back_hour_is_two_different_hours(self) -> None:
        room = make_resource(tz="America/New_York", granule_minutes=60)
        first = window_for(
            room, start=at(NEW_YORK, "2026-11-01", "01:00"), end=at(NEW_YORK, "2026-11-01", "01:00", fold=1)
        )
        second = window_for(
            room, start=at(NEW_YORK, "2026-11-01", "01:00", fold=1), end=at(NEW_YORK, "2026-11-01", "02:00")
        )
        assert lock_keys(room, first) == ["T#2026-11-01T05:00Z"]
        assert lock_keys(room, second) == ["T#2026-11-01T06:00Z"]


# -------------------------------------------------------------------------------------------------- check_policy


class TestCheckPolicy:
    def test_a_booking_that_obeys_everything_passes(self) -> None:
        room = meeting_room(opening_hours={"mon": hours(("09:00", "17:00"))}, min_units=2, max_units=8)
        check_policy(room, timed(room, BERLIN, "2026-03-02", "09:00", "11:00"), 1, NOW)

    def test_inactive_resource(self) -> None:
        room = make_resource(active=False)
        assert policy_code(room, timed(room, BERLIN, "2026-03-02", "10:00", "11:00")) == "resource_inactive"

    @pytest.mark.parametrize("quantity", [0, -1, 4])
    def test_quantity_within_capacity(self, quantity: int) -> None:
        room = make_resource(capacity=3)
        window = timed(room, BERLIN, "2026-03-02", "10:00", "11:00")
        assert policy_code(room, window, quantity) == "invalid_quantity"
        check_policy(room, window, 3, NOW)

    def test_misaligned(self) -> None:
        room = meeting_room()
        with pytest.raises(errors.ValidationFailed) as caught:
            check_policy(room, timed(room, BERLIN, "2026-03-02", "10:10", "11:00"), 1, NOW)
        assert caught.value.code == "misaligned"
        assert "10:00 and 10:15" in caught.value.detail
        assert "Europe/Berlin" in caught.value.detail

    def test_too_short_and_too_long_count_granules_without_buffers(self) -> None:
        room = meeting_room(min_units=2, max_units=4)
        assert policy_code(room, timed(room, BERLIN, "2026-03-02", "10:00", "10:15")) == "too_short"
        check_policy(room, timed(room, BERLIN, "2026-03-02", "10:00", "10:30"), 1, NOW)
        check_policy(room, timed(room, BERLIN, "2026-03-02", "10:00", "11:00"), 1, NOW)
        with pytest.raises(errors.ValidationFailed) as caught:
            check_policy(room, timed(room, BERLIN, "2026-03-02", "10:00", "11:15"), 1, NOW)
        assert caught.value.code == "too_long"
        assert "1 hour (4 slots of 15 minutes)" in caught.value.detail

    def test_more_keys_than_a_transaction_holds_is_too_long(self) -> None:
        room = meeting_room()
        window = timed(room, BERLIN, "2026-03-02", "00:00", "22:00")
        assert policy_code(room, window) == "too_long"

    def test_nights_count_as_units(self) -> None:
        stay = hostel(min_units=2, max_units=3)
        one = window_for(stay, check_in=date(2026, 7, 10), check_out=date(2026, 7, 11))
        four = window_for(stay, check_in=date(2026, 7, 10), check_out=date(2026, 7, 14))
        assert policy_code(stay, one) == "too_short"
        assert policy_code(stay, four) == "too_long"

    def test_a_fixed_window_is_one_unit(self) -> None:
        check_policy(flight(), window_for(flight()), 180, NOW)
        assert policy_code(flight(min_units=2), window_for(flight(min_units=2))) == "too_short"

    def test_in_the_past(self) -> None:
        room = make_resource()
        window = timed(room, BERLIN, "2026-03-02", "10:00", "11:00")
        assert policy_code(room, window, now=window.start + timedelta(minutes=1)) == "in_the_past"
        check_policy(room, window, 1, window.start)

    def test_insufficient_notice_names_the_earliest_local_start(self) -> None:
        room = make_resource(min_notice_minutes=120)
        window = timed(room, BERLIN, "2026-03-02", "10:00", "11:00")
        with pytest.raises(errors.ValidationFailed) as caught:
            check_policy(room, window, 1, window.start - timedelta(minutes=119))
        assert caught.value.code == "insufficient_notice"
        assert "2 hours" in caught.value.detail
        assert "2026-03-02 10:01 Europe/Berlin" in caught.value.detail
        check_policy(room, window, 1, window.start - timedelta(minutes=120))

    def test_beyond_horizon(self) -> None:
        room = make_resource(max_horizon_days=30)
        window = timed(room, BERLIN, "2026-03-02", "10:00", "11:00")
        assert policy_code(room, window, now=window.start - timedelta(days=30, minutes=1)) == "beyond_horizon"
        check_policy(room, window, 1, window.start - timedelta(days=30))

    def test_blackout_dates_are_local_dates_the_booked_time_touches(self) -> None:
        room = make_resource(blackout_dates=[date(2026, 3, 3)])
        # 23:00-01:00 Berlin reaches into the blackout date; ending at midnight does not.
        into_blackout = timed(room, BERLIN, "2026-03-02", "23:00", "01:00", end_day="2026-03-03")
        assert policy_code(room, into_blackout) == "blackout_date"
        check_policy(room, timed(room, BERLIN, "2026-03-02", "23:00", "00:00", end_day="2026-03-03"), 1, NOW)
        # In UTC this booking is on the 2nd; locally it is on the 3rd.
        assert policy_code(room, timed(room, BERLIN, "2026-03-03", "00:00", "01:00")) == "blackout_date"

    def test_blackout_for_nights_is_each_nights_date(self) -> None:
        stay = hostel(blackout_dates=[date(2026, 7, 12)])
        assert (
            policy_code(stay, window_for(stay, check_in=date(2026, 7, 10), check_out=date(2026, 7, 13)))
            == "blackout_date"
        )
        # Leaving on the blackout date is fine: no night is spent on it.
        check_policy(stay, window_for(stay, check_in=date(2026, 7, 10), check_out=date(2026, 7, 12)), 1, NOW)

    def test_checks_run_in_order(self) -> None:
        room = make_resource(blackout_dates=[date(2026, 3, 2)], active=False)
        window = timed(room, BERLIN, "2026-03-02", "10:00", "11:00")
        assert policy_code(room, window, quantity=5, now=datetime(2027, 1, 1, tzinfo=UTC)) == "resource_inactive"
        room = make_resource(blackout_dates=[date(2026, 3, 2)])
        assert policy_code(room, window, now=datetime(2027, 1, 1, tzinfo=UTC)) == "in_the_past"
        assert policy_code(room, window) == "blackout_date"


WEEKDAYS_9_TO_17 = {day: hours(("09:00", "12:00"), ("12:00", "17:00")) for day in ("mon", "tue", "wed", "thu", "fri")}


class TestOpeningHours:
    def room(self, **policy: Any) -> Resource:
        return make_resource(granule_minutes=30, opening_hours=WEEKDAYS_9_TO_17, **policy)

    def test_inside_touching_intervals_is_open(self) -> None:
        room = self.room()
        check_policy(room, timed(room, BERLIN, "2026-03-02", "09:00", "17:00"), 1, NOW)
        check_policy(room, timed(room, BERLIN, "2026-03-02", "11:30", "12:30"), 1, NOW)

    def test_running_past_closing_time_says_the_hours(self) -> None:
        room = self.room()
        with pytest.raises(errors.ValidationFailed) as caught:
            check_policy(room, timed(room, BERLIN, "2026-03-02", "16:30", "17:30"), 1, NOW)
        assert caught.value.code == "outside_opening_hours"
        assert "Mon 2026-03-02" in caught.value.detail
        assert "open 09:00-17:00" in caught.value.detail
        assert "16:30-17:30" in caught.value.detail

    def test_buffers_may_fall_outside_opening_hours(self) -> None:
        room = self.room(buffer_before_minutes=30, buffer_after_minutes=60)
        check_policy(room, timed(room, BERLIN, "2026-03-02", "09:00", "17:00"), 1, NOW)

    def test_a_weekday_missing_from_the_map_is_closed(self) -> None:
        room = self.room()
        with pytest.raises(errors.ValidationFailed) as caught:
            check_policy(room, timed(room, BERLIN, "2026-03-07", "10:00", "11:00"), 1, NOW)
        assert caught.value.code == "outside_opening_hours"
        assert "closed" in caught.value.detail

    def test_a_date_override_replaces_the_weekly_hours(self) -> None:
        overrides = [
            DateOverride(date=date(2026, 3, 2), hours=[]),  # a closed Monday
            DateOverride(date=date(2026, 3, 3), hours=hours(("13:00", "15:00"))),
            DateOverride(date=date(2026, 3, 7), hours=hours(("10:00", "12:00"))),  # an open Saturday
        ]
        room = self.room(date_overrides=overrides)
        assert policy_code(room, timed(room, BERLIN, "2026-03-02", "10:00", "11:00")) == "outside_opening_hours"
        assert policy_code(room, timed(room, BERLIN, "2026-03-03", "10:00", "11:00")) == "outside_opening_hours"
        check_policy(room, timed(room, BERLIN, "2026-03-03", "13:00", "15:00"), 1, NOW)
        check_policy(room, timed(room, BERLIN, "2026-03-07", "10:00", "12:00"), 1, NOW)
        check_policy(room, timed(room, BERLIN, "2026-03-04", "10:00", "11:00"), 1, NOW)

    def test_overrides_apply_to_a_resource_open_around_the_clock(self) -> None:
        room = make_resource(date_overrides=[DateOverride(date=date(2026, 3, 2), hours=hours(("08:00", "20:00")))])
        assert policy_code(room, timed(room, BERLIN, "2026-03-02", "07:00", "09:00")) == "outside_opening_hours"
        check_policy(room, timed(room, BERLIN, "2026-03-03", "01:00", "03:00"), 1, NOW)

    def test_a_booking_may_span_midnight_when_both_days_are_open_across_it(self) -> None:
        late = {"fri": hours(("18:00", "24:00")), "sat": hours(("00:00", "02:00"), ("18:00", "24:00"))}
        room = make_resource(granule_minutes=30, opening_hours=late)
        check_policy(room, timed(room, BERLIN, "2026-03-06", "23:00", "01:30", end_day="2026-03-07"), 1, NOW)
        window = timed(room, BERLIN, "2026-03-07", "23:00", "00:30", end_day="2026-03-08")
        assert policy_code(room, window) == "outside_opening_hours"

    def test_hours_around_the_spring_forward_gap_are_real_hours(self) -> None:
        room = make_resource(
            tz="America/New_York", granule_minutes=60, opening_hours={"sun": hours(("00:00", "03:00"))}
        )
        # 00:00-03:00 local on 2026-03-08 is two real hours (02:00-03:00 does not exist) and inside the hours.
        window = timed(room, NEW_YORK, "2026-03-08", "00:00", "03:00")
        assert window.end - window.start == timedelta(hours=2)
        check_policy(room, window, 1, NOW)
        assert policy_code(room, timed(room, NEW_YORK, "2026-03-08", "00:00", "04:00")) == "outside_opening_hours"

    def test_the_repeated_hour_on_the_fall_back_date_is_inside_its_hours(self) -> None:
        room = make_resource(
            tz="America/New_York", granule_minutes=30, opening_hours={"sun": hours(("01:00", "02:00"))}
        )
        window = window_for(room, start=at(NEW_YORK, "2026-11-01", "01:00"), end=at(NEW_YORK, "2026-11-01", "02:00"))
        assert window.end - window.start == timedelta(hours=2)
        check_policy(room, window, 1, NOW)


# --------------------------------------------------------------------------------------------------------- quote


class TestQuote:
    WEEKEND = PriceRule(name="Weekend", unit_price=1500, weekdays=["sat", "sun"])
    EVENING = PriceRule(name="Evening", unit_price=1200, start="18:00", end="22:00")

    def test_weekend_rule_prices_the_granules_that_start_on_the_weekend(self) -> None:
        room = make_resource(granule_minutes=30, price_rules=[self.WEEKEND], buffer_after_minutes=60)
        window = timed(room, BERLIN, "2026-03-06", "23:00", "01:00", end_day="2026-03-07")  # Friday night into Saturday
        price = quote(room, window, 2)
        assert price == PriceQuote(
            currency="EUR",
            amount=(2 * 1000 + 2 * 1500) * 2,
            quantity=2,
            lines=(
                PriceLine(description="Standard rate", unit_price=1000, units=2, amount=4000),
                PriceLine(description="Weekend", unit_price=1500, units=2, amount=6000),
            ),
        )

    def test_the_first_matching_rule_wins(self) -> None:
        room = make_resource(granule_minutes=60, price_rules=[self.WEEKEND, self.EVENING])
        saturday_evening = quote(room, timed(room, BERLIN, "2026-03-07", "18:00", "19:00"), 1)
        assert [(line.description, line.units) for line in saturday_evening.lines] == [("Weekend", 1)]
        monday = quote(room, timed(room, BERLIN, "2026-03-02", "17:00", "23:00"), 1)
        assert [(line.description, line.unit_price, line.units) for line in monday.lines] == [
            ("Standard rate", 1000, 2),
            ("Evening", 1200, 4),
        ]
        assert monday.amount == 2 * 1000 + 4 * 1200

    def test_a_time_range_may_run_across_midnight(self) -> None:
        night = PriceRule(name="Night", unit_price=500, start="22:00", end="06:00")
        room = make_resource(granule_minutes=60, price_rules=[night])
        price = quote(room, timed(room, BERLIN, "2026-03-02", "21:00", "07:00", end_day="2026-03-03"), 1)
        assert price.amount == 2 * 1000 + 8 * 500

    def test_rules_with_the_same_price_share_a_line(self) -> None:
        same = [PriceRule(name="Saturday", unit_price=1500, weekdays=["sat"]), self.WEEKEND]
        room = make_resource(granule_minutes=60, price_rules=same)
        price = quote(room, timed(room, BERLIN, "2026-03-07", "23:00", "01:00", end_day="2026-03-08"), 1)
        assert price.lines == (PriceLine("Saturday / Weekend", 1500, 2, 3000),)

    def test_hostel_prices_each_night_by_its_date(self) -> None:
        stay = hostel(
            unit_price=3000, price_rules=[PriceRule(name="Weekend", unit_price=4500, weekdays=["fri", "sat"])]
        )
        window = window_for(stay, check_in=date(2026, 7, 9), check_out=date(2026, 7, 13))  # Thu-Mon
        price = quote(stay, window, 2)
        assert price.amount == (2 * 3000 + 2 * 4500) * 2
        assert [(line.unit_price, line.units) for line in price.lines] == [(3000, 2), (4500, 2)]

    def test_a_fixed_window_is_one_unit_per_seat(self) -> None:
        seats = flight(unit_price=12_000)
        assert quote(seats, window_for(seats), 3).amount == 36_000

    def test_quantity_below_one_is_refused(self) -> None:
        room = make_resource()
        assert code_of(quote, room, timed(room, BERLIN, "2026-03-02", "10:00", "11:00"), 0) == "invalid_quantity"


# ---------------------------------------------------------------------------------------------------- key ranges


class TestKeyRanges:
    def test_day_range_covers_the_local_day_widened_by_the_buffers(self) -> None:
        room = meeting_room()
        low, high = day_key_range(room, date(2026, 3, 2))
        # Berlin midnight is 23:00Z the day before; 15 minutes of buffer before, 30 after.
        assert (low, high) == ("T#2026-03-01T22:45Z", "T#2026-03-02T23:29Z")
        first = lock_keys(room, timed(room, BERLIN, "2026-03-02", "00:00", "00:15"))
        last = lock_keys(room, timed(room, BERLIN, "2026-03-02", "23:45", "00:00", end_day="2026-03-03"))
        assert low == first[0]
        assert last[-1] <= high
        assert lock_keys(room, timed(room, BERLIN, "2026-03-03", "00:45", "01:00"))[0] > high

    def test_day_range_of_nights_and_fixed(self) -> None:
        assert day_key_range(hostel(), date(2026, 7, 10)) == ("N#2026-07-10", "N#2026-07-10")
        assert day_key_range(flight(), date(2026, 6, 1)) == ("F#", "F#")

    def test_span_range_covers_every_key_of_every_window(self) -> None:
        room = meeting_room()
        windows = [
            timed(room, BERLIN, "2026-03-04", "10:00", "11:00"),
            timed(room, BERLIN, "2026-03-02", "09:00", "09:30"),
            timed(room, BERLIN, "2026-03-03", "18:00", "19:00"),
        ]
        low, high = span_key_range(room, windows)
        keys = [key for window in windows for key in lock_keys(room, window)]
        assert low == min(keys)
        assert high >= max(keys)
        assert high < "T#2026-03-04T10:30Z"

    def test_span_range_of_a_window_inside_one_minute_is_not_inverted(self) -> None:
        """Found by schema fuzzing on DynamoDB Local: 16:04:22.3-16:04:22.6 gave T#…16:04 > T#…16:03, a 500
        (BETWEEN needs low <= high; moto does not check it)."""
        room = meeting_room(buffer_before_minutes=0, buffer_after_minutes=0)
        start = datetime(2026, 12, 6, 16, 4, 22, 321855, tzinfo=UTC)
        window = Window(start=start, end=start + timedelta(milliseconds=300))
        low, high = span_key_range(room, [window])
        assert low <= high
        assert low == "T#2026-12-06T16:04Z"

    def test_span_range_of_nights_fixed_and_nothing(self) -> None:
        stay = hostel()
        windows = [
            window_for(stay, check_in=date(2026, 7, 10), check_out=date(2026, 7, 12)),
            window_for(stay, check_in=date(2026, 7, 8), check_out=date(2026, 7, 9)),
        ]
        assert span_key_range(stay, windows) == ("N#2026-07-08", "N#2026-07-11")
        assert span_key_range(flight(), [window_for(flight())]) == ("F#", "F#")
        low, high = span_key_range(meeting_room(), [])
        assert low == high == "T#"


# --------------------------------------------------------------------------------------------- candidate_windows


class TestCandidateWindows:
    def test_grid_of_open_hours_at_the_minimum_length(self) -> None:
        room = make_resource(granule_minutes=30, min_units=2, opening_hours={"mon": hours(("09:00", "12:00"))})
        found = candidate_windows(room, at(BERLIN, "2026-03-02", "00:00"), at(BERLIN, "2026-03-09", "00:00"), NOW)
        starts = [w.start.astimezone(BERLIN).strftime("%a %H:%M") for w in found]
        assert starts == ["Mon 09:00", "Mon 09:30", "Mon 10:00", "Mon 10:30", "Mon 11:00"]
        assert all(w.end - w.start == timedelta(hours=1) for w in found)

    def test_notice_blackouts_and_range_edges_are_respected(self) -> None:
        room = make_resource(granule_minutes=60, min_notice_minutes=90, blackout_dates=[date(2026, 3, 3)])
        now = at(BERLIN, "2026-03-02", "20:10")
        found = candidate_windows(room, at(BERLIN, "2026-03-02", "00:00"), at(BERLIN, "2026-03-04", "02:00"), now)
        starts = [w.start.astimezone(BERLIN).strftime("%d %H:%M") for w in found]
        # 23:00-24:00 on the 2nd ends as the blackout date begins, so it does not touch it.
        assert starts == ["02 22:00", "02 23:00", "04 00:00", "04 01:00"]

    def test_unaligned_from_rounds_up_to_the_local_grid(self) -> None:
        room = make_resource(tz="Asia/Kolkata", granule_minutes=60)
        found = candidate_windows(room, at(KOLKATA, "2026-03-02", "10:20"), at(KOLKATA, "2026-03-02", "12:00"), NOW)
        assert [w.start.astimezone(KOLKATA).strftime("%H:%M") for w in found] == ["11:00"]

    def test_every_start_of_a_short_dst_day(self) -> None:
        room = make_resource(tz="Europe/Lisbon", granule_minutes=60)
        found = candidate_windows(room, at(LISBON, "2026-03-29", "00:00"), at(LISBON, "2026-03-30", "00:00"), NOW)
        assert len(found) == 23
        assert "01:00" not in [w.start.astimezone(LISBON).strftime("%H:%M") for w in found]

    def test_result_is_capped(self) -> None:
        room = make_resource(granule_minutes=5)
        found = candidate_windows(room, at(BERLIN, "2026-03-01", "00:00"), at(BERLIN, "2026-03-31", "00:00"), NOW)
        assert len(found) == MAX_CANDIDATE_WINDOWS

    def test_one_stay_per_check_in_date(self) -> None:
        stay = hostel(min_units=2, blackout_dates=[date(2026, 7, 12)])
        found = candidate_windows(stay, at(LISBON, "2026-07-08", "00:00"), at(LISBON, "2026-07-15", "00:00"), NOW)
        assert [(w.check_in, w.check_out) for w in found] == [
            (date(2026, 7, d), date(2026, 7, d + 2)) for d in (8, 9, 10, 13, 14)
        ]

    def test_the_fixed_window_when_in_range(self) -> None:
        window = window_for(flight())
        assert candidate_windows(flight(), FLIGHT_START, FLIGHT_END, NOW) == [window]
        assert candidate_windows(flight(), FLIGHT_END, FLIGHT_END + timedelta(days=1), NOW) == []
        assert candidate_windows(flight(), FLIGHT_START, FLIGHT_END, FLIGHT_END) == []
