"""The reports through their real handler (moto): figures from applied booking events, periods, units, CSV, scope
and bounds. The aggregator's conditions and a whole random workload are judged on DynamoDB Local
(tests/integration/test_report_aggregates.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from slotwise.events.envelope import DomainEvent
from slotwise.reports import aggregator
from tests.support import catalog as catalog_support
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import ApiResponse, call

OCCUPANCY = "/api/v1/reports/occupancy"
REVENUE = "/api/v1/reports/revenue"
AT = datetime(2027, 3, 1, tzinfo=UTC)


def booking(resource_id: str, booking_id: str = "b-1", **fields: Any) -> dict[str, Any]:
    """A booking as its events carry it (the fields the aggregates read)."""
    return {
        "id": booking_id,
        "resourceId": resource_id,
        "timezone": "Europe/Lisbon",
        "status": "confirmed",
        "quantity": 1,
        "price": {"currency": "EUR", "amount": 0, "quantity": 1},
        "payment": None,
        "cancellation": None,
        **fields,
    }


def apply(data: dict[str, Any], version: int) -> bool:
    event = DomainEvent(
        type="booking.updated",
        aggregate="booking",
        aggregate_id=str(data["id"]),
        aggregate_version=version,
        occurred_at=AT,
        data=data,
    )
    return aggregator.handle(event, now=AT)


def paid(amount: int, refunded: int = 0, wallet: int = 0, currency: str = "EUR") -> dict[str, Any]:
    return {
        "paymentId": "p-1",
        "state": "paid",
        "currency": currency,
        "amountPaid": amount,
        "amountRefunded": refunded,
        "walletRefunded": wallet,
    }


def vendor(method: str, path: str, **kwargs: Any) -> ApiResponse:
    return call(method, path, user=VENDOR, role="vendor", **kwargs)


@pytest.fixture
def dorm(table: str) -> str:
    return make_resource(capacity=4, policy={"unit": "night"}, kind="dorm").id


def test_nights_sold_against_beds_per_day_week_and_month(dorm: str) -> None:
    apply(booking(dorm, quantity=2, checkIn="2027-03-01", checkOut="2027-03-03"), 1)
    apply(booking(dorm, "b-2", status="cancelled", checkIn="2027-03-02", checkOut="2027-03-04"), 2)
    query = {"resourceId": dorm, "from": "2027-03-01", "to": "2027-03-07", "granularity": "day"}
    answer = vendor("GET", OCCUPANCY, query=query)
    assert answer.status == 200, answer.body
    (row,) = answer.body["resources"]
    assert row["unit"] == "nights"
    assert [(p["period"], p["sold"], p["sellable"]) for p in row["periods"][:3]] == [
        ("2027-03-01", 2, 4),
        ("2027-03-02", 2, 4),
        ("2027-03-03", 0, 4),
    ]
    assert (row["sold"], row["sellable"], row["rate"]) == (4, 28, round(4 / 28, 4))
    weekly = vendor("GET", OCCUPANCY, query={**query, "granularity": "week"}).body["resources"][0]["periods"]
    # 2027-03-01 is a Monday: one ISO week, Monday to Sunday.
    assert [(p["period"], p["from"], p["to"], p["sold"]) for p in weekly] == [
        ("2027-W09", "2027-03-01", "2027-03-07", 4)
    ]
    monthly = vendor("GET", OCCUPANCY, query={**query, "to": "2027-04-02", "granularity": "month"}).body
    assert [(p["period"], p["sold"], p["sellable"]) for p in monthly["resources"][0]["periods"]] == [
        ("2027-03", 4, 124),
        ("2027-04", 0, 8),
    ]


def test_replayed_and_older_versions_count_once_and_the_newest_wins(dorm: str) -> None:
    first = booking(dorm, quantity=1, checkIn="2027-03-01", checkOut="2027-03-02", payment=paid(5000))
    moved = {**first, "checkIn": "2027-03-05", "checkOut": "2027-03-07"}
    assert apply(first, 1)
    assert apply(moved, 2)  # rescheduled: its night and its money move to the new days
    assert not apply(first, 1)  # older, arriving again late
    assert not apply(moved, 2)  # replayed
    days = vendor("GET", OCCUPANCY, query={"resourceId": dorm, "from": "2027-03-01", "to": "2027-03-07"}).body
    sold = {p["period"]: p["sold"] for p in days["resources"][0]["periods"] if p["sold"]}
    assert sold == {"2027-03-05": 1, "2027-03-06": 1}
    revenue = vendor("GET", REVENUE, query={"from": "2027-03-01", "to": "2027-03-31", "groupBy": "day"}).body
    assert [(r["group"], r["gross"], r["bookings"]) for r in revenue["rows"]] == [("2027-03-05", 5000, 1)]


def test_revenue_nets_refunds_and_counts_cancellations_and_no_shows(dorm: str) -> None:
    stay = {"checkIn": "2027-03-10", "checkOut": "2027-03-12"}
    apply(booking(dorm, "b-1", payment=paid(10000), status="no_show", **stay), 3)
    cancelled = booking(
        dorm,
        "b-2",
        status="cancelled",
        payment=paid(8000, refunded=4000, wallet=4000),
        cancellation={"by": "cust", "reason": "", "at": AT.isoformat()},
        **stay,
    )
    apply(cancelled, 4)
    # The system cancelled it because its payment failed: neither a booking nor a cancellation.
    apply(booking(dorm, "b-3", status="cancelled", cancellation={"by": None, "at": AT.isoformat()}, **stay), 3)
    apply(booking(dorm, "b-4", payment=paid(700, currency="USD"), **stay), 2)
    answer = vendor("GET", REVENUE, query={"from": "2027-03-01", "to": "2027-03-31", "groupBy": "month"})
    assert answer.status == 200, answer.body
    eur = answer.body["rows"][0]
    assert eur == {
        "group": "2027-03",
        "currency": "EUR",
        "gross": 18000,
        "refunds": 4000,
        "walletCredits": 4000,
        "net": 14000,
        "bookings": 2,
        "cancellations": 1,
        "noShows": 1,
    }
    assert [(t["currency"], t["net"], t["bookings"]) for t in answer.body["totals"]] == [
        ("EUR", 14000, 2),
        ("USD", 700, 1),
    ]


def test_hours_sold_against_opening_hours_split_at_local_midnight(table: str) -> None:
    hours = {"mon": [{"start": "09:00", "end": "17:00"}], "tue": [{"start": "09:00", "end": "12:00"}]}
    room = make_resource(capacity=2, policy={"openingHours": hours}).id
    # 22:00-02:00 Lisbon (UTC+0 in March before the 28th): two hours on each side of midnight.
    apply(booking(room, startTime="2027-03-01T22:00:00Z", endTime="2027-03-02T02:00:00Z", quantity=1), 1)
    body = vendor("GET", OCCUPANCY, query={"resourceId": room, "from": "2027-03-01", "to": "2027-03-03"}).body
    row = body["resources"][0]
    assert row["unit"] == "hours"
    assert [(p["sold"], p["sellable"]) for p in row["periods"]] == [(2, 16), (2, 6), (0, 0)]
    assert row["periods"][2]["rate"] is None


def test_seats_are_sold_on_the_departure_day_only(table: str) -> None:
    policy = {"unit": "fixed", "fixedStart": "2027-03-02T08:00:00Z", "fixedEnd": "2027-03-02T10:00:00Z"}
    cabin = make_resource(capacity=180, policy=policy, kind="seat_pool").id
    apply(booking(cabin, quantity=3, startTime="2027-03-02T08:00:00Z", endTime="2027-03-02T10:00:00Z"), 1)
    row = vendor("GET", OCCUPANCY, query={"resourceId": cabin, "from": "2027-03-01", "to": "2027-03-03"}).body
    periods = row["resources"][0]["periods"]
    assert [(p["sold"], p["sellable"]) for p in periods] == [(0, 0), (3, 180), (0, 0)]


def test_csv_on_request_with_formula_cells_neutralised(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    resource = make_resource(capacity=1, policy={"unit": "night"})
    from slotwise.catalog import repository

    repository.save_resource(resource.model_copy(update={"name": "=HYPERLINK(1)", "version": 2}), 1)
    apply(booking(resource.id, checkIn="2027-03-01", checkOut="2027-03-02", payment=paid(900)), 1)
    query = {"venueId": resource.venue_id, "from": "2027-03-01", "to": "2027-03-02"}
    answer = vendor("GET", OCCUPANCY, query=query, headers={"accept": "text/csv"})
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.body)))
    assert [(r["period"], r["sold"], r["sellable"], r["rate"]) for r in rows] == [
        ("2027-03-01", "1", "1", "1.0"),
        ("2027-03-02", "0", "1", "0.0"),
    ]
    assert rows[0]["resourceName"] == "'=HYPERLINK(1)"
    money = vendor("GET", REVENUE, query={**query, "groupBy": "resource"}, headers={"accept": "text/csv"})
    lines = list(csv.reader(io.StringIO(money.body)))
    assert lines[0] == [
        "group",
        "currency",
        "gross",
        "refunds",
        "walletCredits",
        "bookings",
        "cancellations",
        "noShows",
        "net",
    ]
    assert lines[1] == [resource.id, "EUR", "900", "0", "0", "1", "0", "0", "900"]


def test_another_vendors_resource_or_venue_is_missing(dorm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_support, "VENDOR", "vendor-2")
    theirs = make_resource(policy={"unit": "night"})
    apply(booking(theirs.id, "b-9", checkIn="2027-03-01", checkOut="2027-03-02", payment=paid(100)), 1)
    days = {"from": "2027-03-01", "to": "2027-03-02"}
    for query in ({"resourceId": theirs.id}, {"venueId": theirs.venue_id}, {"resourceId": "nope"}):
        answer = vendor("GET", OCCUPANCY, query={**query, **days})
        assert answer.status == 404, (query, answer.body)
        assert vendor("GET", REVENUE, query={**query, **days}).status == 404
    # Their money never shows in the vendor's all-resources revenue; the admin sees both vendors'.
    assert vendor("GET", REVENUE, query=days).body["rows"] == []
    everyone = call("GET", REVENUE, query={**days, "groupBy": "resource"}, user="root", role="admin").body
    assert [r["group"] for r in everyone["rows"]] == [theirs.id]
    assert call("GET", OCCUPANCY, query={"resourceId": dorm, **days}, user="c", role="customer").status == 403


def test_the_advisor_reads_their_own_resource_only(table: str) -> None:
    mine = make_resource(attributes={"advisorUserId": "adv-1"}, kind="advisor")
    other = make_resource(attributes={"advisorUserId": "adv-2"}, kind="advisor")
    apply(booking(mine.id, startTime="2027-03-01T10:00:00Z", endTime="2027-03-01T11:00:00Z", payment=paid(300)), 1)
    days = {"from": "2027-03-01", "to": "2027-03-01"}
    advisor = {"user": "adv-1", "role": "advisor"}
    assert call("GET", OCCUPANCY, query={"resourceId": mine.id, **days}, **advisor).status == 200
    assert call("GET", OCCUPANCY, query={"resourceId": other.id, **days}, **advisor).status == 404
    by_advisor = call("GET", REVENUE, query={**days, "groupBy": "advisor"}, **advisor).body
    assert [(r["group"], r["gross"]) for r in by_advisor["rows"]] == [("adv-1", 300)]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"from": "2027-01-01", "to": "2028-01-02"}, "range_too_long"),
        ({"from": "2027-03-02", "to": "2027-03-01"}, "end_before_start"),
    ],
)
def test_ranges_are_bounded(dorm: str, query: dict[str, str], code: str) -> None:
    for path in (OCCUPANCY, REVENUE):
        answer = vendor("GET", path, query={"resourceId": dorm, **query})
        assert answer.status == 422
        assert answer.body["code"] == code


def test_occupancy_names_a_venue_or_a_resource(dorm: str) -> None:
    answer = vendor("GET", OCCUPANCY, query={"from": "2027-03-01", "to": "2027-03-02"})
    assert answer.status == 422
    assert answer.body["code"] == "missing_scope"
    assert vendor("GET", OCCUPANCY, query={"resourceId": dorm, "from": "2027-03-01", "to": "x"}).status == 422
