"""What one booking contributes (slotwise.reports.figures), as properties: units are never lost or invented at
local midnights or clock changes, and moving between any two versions by their differences lands on the newest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from slotwise.reports import figures

# Around Lisbon's spring-forward (2027-03-28) and fall-back (2027-10-31) nights.
STARTS = st.sampled_from([datetime(2027, 3, 27, 20, tzinfo=UTC), datetime(2027, 10, 30, 20, tzinfo=UTC)])
STATUSES = st.sampled_from(["held", "confirmed", "completed", "no_show", "cancelled", "expired"])


def timed(start: datetime, minutes: int, quantity: int, status: str = "confirmed") -> dict[str, Any]:
    return {
        "id": "b",
        "resourceId": "r",
        "timezone": "Europe/Lisbon",
        "status": status,
        "quantity": quantity,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(minutes=minutes)).isoformat(),
        "price": {"currency": "EUR"},
        "payment": {"state": "paid", "currency": "EUR", "amountPaid": 100, "amountRefunded": 40, "walletRefunded": 40},
        "cancellation": {"by": "cust"},
    }


@settings(deadline=None)  # the machine is shared: timing is not what these test
@given(STARTS, st.integers(0, 60 * 12), st.integers(1, 60 * 30), st.integers(1, 5))
def test_minutes_split_at_local_midnight_add_up_to_the_booking(
    start: datetime, shift: int, minutes: int, qty: int
) -> None:
    split = figures.units_by_day(timed(start + timedelta(minutes=shift), minutes, qty), "minutes")
    assert sum(split.values()) == minutes * qty
    assert all(0 < value <= 25 * 60 * qty for value in split.values())


@settings(deadline=None)  # the machine is shared: timing is not what these test
@given(st.integers(0, 400), st.integers(1, 30), st.integers(1, 4))
def test_nights_are_one_unit_per_night_and_bed(offset: int, nights: int, qty: int) -> None:
    check_in = date(2027, 1, 1) + timedelta(days=offset)
    stay = {"timezone": "Europe/Lisbon", "quantity": qty, "checkIn": check_in.isoformat()}
    stay["checkOut"] = (check_in + timedelta(days=nights)).isoformat()
    split = figures.units_by_day(stay, "night")
    assert sorted(split) == [(check_in + timedelta(days=n)).isoformat() for n in range(nights)]
    assert set(split.values()) == {qty}


@settings(deadline=None)  # the machine is shared: timing is not what these test
@given(st.lists(st.tuples(STATUSES, st.integers(0, 72), st.integers(30, 600)), min_size=1, max_size=6))
def test_adding_the_differences_of_successive_versions_gives_the_last_one(versions: list[tuple[str, int, int]]) -> None:
    """The aggregator applies only newer versions, each as the difference to the one applied: whatever subset of
    versions arrives (in version order), the totals are the last one's contribution."""
    units: dict[str, int] = {}
    money: dict[str, dict[str, int]] = {}
    applied = figures.empty()
    for status, hours, minutes in versions:
        new = figures.contribution(
            timed(datetime(2027, 3, 27, tzinfo=UTC) + timedelta(hours=hours), minutes, 2, status), "minutes"
        )
        for day, delta in figures.units_delta(applied, new).items():
            units[day] = units.get(day, 0) + delta
        for key, fields in figures.money_delta(applied, new).items():
            for name, delta in fields.items():
                money.setdefault(key, {})[name] = money.setdefault(key, {}).get(name, 0) + delta
        applied = new
    assert {day: n for day, n in units.items() if n} == applied["units"]
    assert {k: {n: v for n, v in f.items() if v} for k, f in money.items() if any(f.values())} == applied["money"]
