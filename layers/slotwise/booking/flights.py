"""Flight search: the departures on a route and day, each with its cabins' seats left and fare.

A flight is the set of fixed-window resources (cabins) of one venue that leave at the same instant on one route.
One Query of the route index (a route-day is one page) and one BatchGetItem of the cabins' inventory answer it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slotwise import errors
from slotwise.booking import inventory
from slotwise.booking.availability import key_states
from slotwise.booking.keys import FIXED_KEY
from slotwise.booking.pricing import price_of
from slotwise.booking.windows import window_for
from slotwise.catalog import service as catalog
from slotwise.catalog.models import Resource
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.models import iso

# Cabins of one route-day read at once: far above any real schedule; 99 so that one Query page of 100 also tells
# whether more follow.
MAX_CABINS = 99


@dataclass(frozen=True)
class FlightSearch:
    origin: str
    destination: str
    day: date
    passengers: int = 1


def search(caller: Caller, query: FlightSearch, now: datetime) -> dict[str, Any]:
    permissions.require(caller, "catalog.read")
    page = catalog.list_resources(
        caller,
        limit=MAX_CABINS,
        route=catalog.RouteSearch(query.origin, query.destination, query.day),
    )
    cabins = [r for r in page.resources if r.active]
    if page.pagination.next_cursor is not None:
        # Never a silent cut: a schedule this dense is refused whole rather than shown in part.
        raise errors.ValidationFailed(
            f"More than {MAX_CABINS} cabins depart on this route and day; search the resources instead.",
            code="too_many_results",
        )
    holders = inventory.holders_by_resource([c.id for c in cabins], FIXED_KEY)
    now_epoch = int(now.timestamp())
    flights: dict[tuple[str, str], list[dict[str, Any]]] = {}
    first: dict[tuple[str, str], Resource] = {}
    for cabin in sorted(cabins, key=lambda c: (c.policy.fixed_start, c.venue_id, c.pricing.unit_price)):
        start = cabin.policy.fixed_start
        if start is None or start <= now:  # departed (the route index holds fixed-window resources only)
            continue
        taken = key_states({FIXED_KEY: holders[cabin.id]}, [FIXED_KEY], now_epoch)[FIXED_KEY].taken
        seats_left = max(cabin.capacity - taken, 0)
        if seats_left < query.passengers:
            continue
        fare = price_of(cabin, window_for(cabin), query.passengers)
        key = (cabin.venue_id, iso(start))
        first.setdefault(key, cabin)
        flights.setdefault(key, []).append(
            {
                "resourceId": cabin.id,
                "name": cabin.name,
                "seatsLeft": seats_left,
                "price": {
                    "currency": fare.currency,
                    "amount": fare.amount,
                    "perPassenger": fare.amount // fare.quantity,
                },
            }
        )
    return {
        "origin": query.origin,
        "destination": query.destination,
        "date": query.day.isoformat(),
        "passengers": query.passengers,
        "flights": [_flight(first[key], cabins_of) for key, cabins_of in flights.items()],
    }


def _flight(cabin: Resource, cabins: list[dict[str, Any]]) -> dict[str, Any]:
    route, start, end = cabin.route, cabin.policy.fixed_start, cabin.policy.fixed_end
    if route is None or start is None or end is None:  # pragma: no cover - the route index guarantees them
        raise ValueError(f"resource {cabin.id} on the route index has no route or window")
    arrival_zone = route.destination_timezone or cabin.timezone
    return {
        "flightNumber": route.flight_number,
        "venueId": cabin.venue_id,
        "departureTime": iso(cabin.local_time(start)),
        "arrivalTime": iso(end.astimezone(ZoneInfo(arrival_zone))),
        "timezone": cabin.timezone,
        "arrivalTimezone": arrival_zone,
        "cabins": cabins,
    }
