"""Inventory keys shown to people: conflicts name local times and nights, never `T#…`, `N#…` or `F#`."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from slotwise.booking.keys import key_span, key_text, keys_text, lock_keys
from slotwise.booking.windows import window_for
from tests.support.catalog import make_resource


def test_a_granule_is_its_local_start_and_end_with_offset() -> None:
    room = make_resource(timezone="Europe/Berlin", store=False)
    assert key_span(room, "T#2027-01-04T10:30Z") == {
        "startTime": "2027-01-04T11:30:00+01:00",
        "endTime": "2027-01-04T12:00:00+01:00",
    }
    assert key_text(room, "T#2027-01-04T10:30Z") == "2027-01-04 11:30 to 12:00 Europe/Berlin time"


def test_a_night_is_its_date() -> None:
    dorm = make_resource(policy={"unit": "night"}, store=False)
    assert key_span(dorm, "N#2026-12-29") == {"night": "2026-12-29"}
    assert key_text(dorm, "N#2026-12-29") == "the night of 2026-12-29"


def test_the_fixed_window_is_the_departure_in_local_time() -> None:
    start, end = datetime(2027, 3, 1, 8, 0, tzinfo=UTC), datetime(2027, 3, 1, 11, 0, tzinfo=UTC)
    cabin = make_resource(
        timezone="America/New_York",
        policy={"unit": "fixed", "fixedStart": start.isoformat(), "fixedEnd": end.isoformat()},
        store=False,
    )
    assert key_span(cabin, "F#") == {"startTime": "2027-03-01T03:00:00-05:00", "endTime": "2027-03-01T06:00:00-05:00"}
    assert key_text(cabin, "F#") == "the window 2027-03-01 03:00 to 2027-03-01 06:00 America/New_York time"


def test_consecutive_granules_read_as_one_span_and_gaps_split_it() -> None:
    room = make_resource(timezone="Europe/Lisbon", store=False)
    keys = ["T#2027-01-04T10:00Z", "T#2027-01-04T10:30Z", "T#2027-01-04T12:00Z"]
    assert keys_text(room, keys) == (
        "2027-01-04 10:00 to 11:00 Europe/Lisbon time, 2027-01-04 12:00 to 12:30 Europe/Lisbon time"
    )


@given(
    start_slot=st.integers(min_value=0, max_value=2 * 48 * 365),
    slots=st.integers(min_value=1, max_value=12),
    zone=st.sampled_from(["Europe/Lisbon", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]),
)
def test_no_wording_leaks_a_storage_key_and_a_whole_booking_is_one_span(start_slot: int, slots: int, zone: str) -> None:
    room = make_resource(timezone=zone, store=False)
    start = datetime.fromtimestamp(datetime(2027, 1, 1, tzinfo=UTC).timestamp() + start_slot * 1800, UTC)
    end = datetime.fromtimestamp(start.timestamp() + slots * 1800, UTC)
    keys = lock_keys(room, window_for(room, start=start, end=end))
    text = keys_text(room, keys)
    assert "#" not in text
    assert text.count(",") == 0, text  # one booking's granules are consecutive
    first, last = key_span(room, keys[0]), key_span(room, keys[-1])
    assert datetime.fromisoformat(first["startTime"]) == start
    assert datetime.fromisoformat(last["endTime"]) == end
