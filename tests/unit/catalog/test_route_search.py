"""Route search: fixed-window resources with a route, found by origin, destination and the origin's date through the
route index (`GET /resources?origin&destination&date`), and `GET /flights` with seats left and fares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotwise import aws
from slotwise.booking.flights import FlightSearch
from slotwise.booking.flights import search as search_flights
from slotwise.catalog import repository
from slotwise.catalog.models import Resource, Route
from slotwise.data.codec import from_item
from slotwise.data.dynamo import table_name
from slotwise.identity.models import Caller
from slotwise.models import iso
from tests.support.catalog import make_resource
from tests.support.http import call

VENDOR = "airline-1"
RESOURCES = "/api/v1/resources"
# Two months ahead (within the default booking horizon), 20:00 UTC: that day still in Lisbon (UTC+0/+1), the next
# morning in Tokyo (UTC+9).
DAY = date.today() + timedelta(days=60)
DEPARTURE = datetime(DAY.year, DAY.month, DAY.day, 20, 0, tzinfo=UTC)
NEXT_DAY = DAY + timedelta(days=1)


def as_vendor(method: str, path: str, **kwargs: Any) -> Any:
    return call(method, path, user=VENDOR, role="vendor", **kwargs)


def new_venue(timezone: str = "Europe/Lisbon") -> str:
    created = as_vendor("POST", "/api/v1/venues", body={"name": "Slotwise Air", "city": "Lisbon", "timezone": timezone})
    assert created.status == 201, created.body
    return str(created.body["id"])


def cabin_body(
    venue_id: str,
    *,
    name: str = "Economy",
    capacity: int = 150,
    departure: datetime = DEPARTURE,
    route: dict[str, Any] | None = None,
    unit_price: int = 42000,
) -> dict[str, Any]:
    return {
        "venueId": venue_id,
        "name": name,
        "type": "seat_pool",
        "capacity": capacity,
        "policy": {
            "unit": "fixed",
            "fixedStart": departure.isoformat(),
            "fixedEnd": (departure + timedelta(hours=7)).isoformat(),
            "confirmation": "auto",
        },
        "pricing": {"currency": "EUR", "unitPrice": unit_price},
        "route": route
        or {"origin": "LIS", "destination": "JFK", "flightNumber": "SW101", "destinationTimezone": "America/New_York"},
    }


def new_cabin(venue_id: str, **changes: Any) -> dict[str, Any]:
    created = as_vendor("POST", RESOURCES, body=cabin_body(venue_id, **changes))
    assert created.status == 201, created.body
    return dict(created.body)


def search(**query: Any) -> Any:
    return call("GET", RESOURCES, query=query)


def test_a_route_day_lists_its_departures_and_nothing_else(table: str) -> None:
    venue = new_venue()
    flight = new_cabin(venue)
    new_cabin(venue, route={"origin": "LHR", "destination": "JFK"})  # another origin
    new_cabin(venue, route={"origin": "JFK", "destination": "LIS"})  # the way back
    new_cabin(venue, departure=DEPARTURE + timedelta(days=1))  # the next day
    found = search(origin="LIS", destination="JFK", date=DAY.isoformat())
    assert found.status == 200
    assert [r["id"] for r in found.body["resources"]] == [flight["id"]]
    assert found.body["resources"][0]["route"] == {
        "origin": "LIS",
        "destination": "JFK",
        "flightNumber": "SW101",
        "destinationTimezone": "America/New_York",
    }
    every_day = search(origin="LIS", destination="JFK")
    assert len(every_day.body["resources"]) == 2


def test_the_date_is_the_origins_local_date(table: str) -> None:
    tokyo = new_venue("Asia/Tokyo")
    late = new_cabin(tokyo, route={"origin": "HND", "destination": "LAX"})  # 05:00 the next day in Tokyo
    assert search(origin="HND", destination="LAX", date=DAY.isoformat()).body["resources"] == []
    assert [r["id"] for r in search(origin="HND", destination="LAX", date=NEXT_DAY.isoformat()).body["resources"]] == [
        late["id"]
    ]


def test_an_archived_cabin_leaves_the_route(table: str) -> None:
    cabin = new_cabin(new_venue())
    assert as_vendor("DELETE", f"{RESOURCES}/{cabin['id']}").status == 204
    assert search(origin="LIS", destination="JFK", date=DAY.isoformat()).body["resources"] == []


def test_a_route_filter_combines_with_the_others(table: str) -> None:
    venue = new_venue()
    new_cabin(venue, capacity=10, name="Business")
    big = new_cabin(venue, capacity=150)
    found = search(origin="LIS", destination="JFK", date=DAY.isoformat(), minCapacity=100)
    assert [r["id"] for r in found.body["resources"]] == [big["id"]]
    assert search(origin="LIS", destination="JFK", venueId="other-venue").body["resources"] == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"origin": "LIS"}, "half_route"),
        ({"destination": "JFK"}, "half_route"),
        ({"date": DAY.isoformat()}, "date_needs_route"),
        ({"origin": "lis", "destination": "JFK"}, "validation_failed"),
        ({"origin": "LISB", "destination": "JFK"}, "validation_failed"),
    ],
)
def test_half_a_route_is_a_clear_422(table: str, query: dict[str, str], code: str) -> None:
    refused = search(**query)
    assert (refused.status, refused.code) == (422, code)


@pytest.mark.parametrize(
    "route",
    [
        {"origin": "LIS", "destination": "LIS"},
        {"origin": "LIS", "destination": "jfk"},
        {"origin": "LIS", "destination": "JFK", "flightNumber": "not a flight"},
        {"origin": "LIS", "destination": "JFK", "destinationTimezone": "Mars/Olympus"},
        {"origin": "LIS", "destination": "JFK", "gate": "B12"},
    ],
)
def test_a_bad_route_is_refused_and_nothing_is_written(table: str, route: dict[str, Any]) -> None:
    venue = new_venue()
    refused = as_vendor("POST", RESOURCES, body=cabin_body(venue, route=route))
    assert refused.status == 422, refused.body
    assert search(origin="LIS", destination="JFK").body["resources"] == []


def test_a_route_needs_a_fixed_window(table: str) -> None:
    venue = new_venue()
    body = {
        **cabin_body(venue),
        "type": "meeting_room",
        "policy": {"unit": "minutes", "granuleMinutes": 30},
    }
    refused = as_vendor("POST", RESOURCES, body=body)
    assert refused.status == 422
    assert "fixed" in refused.body["detail"] or "fixed" in str(refused.body.get("errors"))


# --------------------------------------------------------------------------------------------------- GET /flights


def flights(**query: Any) -> Any:
    return call("GET", "/api/v1/flights", query=query, user="traveller", role="customer")


def book(resource_id: str, quantity: int) -> None:
    made = call(
        "POST",
        "/api/v1/bookings",
        user="traveller",
        role="customer",
        body={"resourceId": resource_id, "quantity": quantity},
    )
    assert made.status == 201, made.body


def test_flights_group_cabins_by_departure_with_seats_left_and_fares(table: str) -> None:
    venue = new_venue()
    economy = new_cabin(venue, capacity=150, unit_price=42000)
    business = new_cabin(venue, name="Business", capacity=4, unit_price=189000)
    later = new_cabin(venue, departure=DEPARTURE + timedelta(hours=-6))
    book(business["id"], 3)
    found = flights(origin="LIS", destination="JFK", date=DAY.isoformat(), passengers=2)
    assert found.status == 200, found.body
    body = found.body
    lisbon, new_york = ZoneInfo("Europe/Lisbon"), ZoneInfo("America/New_York")
    assert [f["departureTime"] for f in body["flights"]] == [
        iso((DEPARTURE - timedelta(hours=6)).astimezone(lisbon)),
        iso(DEPARTURE.astimezone(lisbon)),
    ]
    evening = body["flights"][1]
    assert evening["flightNumber"] == "SW101"
    assert evening["arrivalTime"] == iso((DEPARTURE + timedelta(hours=7)).astimezone(new_york))
    # Business has 1 seat left: not enough for 2 passengers.
    assert [c["resourceId"] for c in evening["cabins"]] == [economy["id"]]
    assert evening["cabins"][0]["seatsLeft"] == 150
    assert evening["cabins"][0]["price"] == {"currency": "EUR", "amount": 84000, "perPassenger": 42000}
    assert [c["resourceId"] for c in body["flights"][0]["cabins"]] == [later["id"]]
    one = flights(origin="LIS", destination="JFK", date=DAY.isoformat())
    business_left = [c for f in one.body["flights"] for c in f["cabins"] if c["resourceId"] == business["id"]]
    assert business_left[0]["seatsLeft"] == 1


def test_departed_flights_are_not_offered(table: str) -> None:
    new_cabin(new_venue())
    query = FlightSearch(origin="LIS", destination="JFK", day=DAY)
    traveller = Caller(user_id="traveller", role="customer")
    assert len(search_flights(traveller, query, DEPARTURE - timedelta(minutes=1))["flights"]) == 1
    assert search_flights(traveller, query, DEPARTURE)["flights"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"origin": "LIS", "destination": "JFK"},
        {"origin": "LIS", "date": DAY.isoformat()},
        {"origin": "LIS", "destination": "JFK", "date": DAY.isoformat(), "passengers": 0},
        {"origin": "LIS", "destination": "JFK", "date": DAY.isoformat(), "passengers": 10},
        {"origin": "LIS", "destination": "JFK", "date": "tomorrow"},
    ],
)
def test_flight_search_bad_input_is_422(table: str, query: dict[str, Any]) -> None:
    assert flights(**query).status == 422


# ------------------------------------------------------------------------------------- against a brute-force filter

CODES = ("LIS", "JFK", "LHR")
ZONES = ("Europe/Lisbon", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati")

flight_specs = st.lists(
    st.tuples(
        st.sampled_from(CODES),
        st.sampled_from(CODES),
        st.integers(min_value=0, max_value=4 * 24 * 4),  # quarter hours over four days
        st.sampled_from(ZONES),
        st.booleans(),
    ),
    min_size=1,
    max_size=8,
)


def _store(origin: str, destination: str, quarter: int, zone: str, active: bool) -> None:
    start = datetime(2027, 5, 1, tzinfo=UTC) + timedelta(minutes=15 * quarter)
    cabin = make_resource(
        timezone=zone,
        kind="seat_pool",
        policy={"unit": "fixed", "fixedStart": start.isoformat(), "fixedEnd": (start + timedelta(hours=3)).isoformat()},
        store=False,
    )
    repository.save_resource(
        cabin.model_copy(update={"route": Route(origin=origin, destination=destination), "active": active})
    )


def _brute_force(origin: str, destination: str, day: date) -> set[str]:
    """Every stored resource, filtered in Python: the route index must agree with this."""
    scanned = aws.dynamodb().scan(TableName=table_name())["Items"]
    found = set()
    for item in scanned:
        if item["SK"]["S"] != "RESOURCE":
            continue
        resource = Resource.model_validate(from_item(item))
        if (
            resource.active
            and resource.route is not None
            and (resource.route.origin, resource.route.destination) == (origin, destination)
            and resource.departure_date == day
        ):
            found.add(resource.id)
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=flight_specs,
    origin=st.sampled_from(CODES),
    destination=st.sampled_from(CODES),
    day=st.dates(min_value=date(2027, 4, 30), max_value=date(2027, 5, 6)),
)
def test_route_search_equals_a_brute_force_filter(
    table: str, specs: list[tuple[str, str, int, str, bool]], origin: str, destination: str, day: date
) -> None:
    for spec in specs:
        if spec[0] != spec[1]:
            _store(*spec)
    if origin == destination:
        return
    found = search(origin=origin, destination=destination, date=day.isoformat(), limit=100)
    assert found.status == 200
    assert {r["id"] for r in found.body["resources"]} == _brute_force(origin, destination, day)
