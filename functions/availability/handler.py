"""Availability: one window, many windows, the free start-time grid, and conflicts of a (recurring) request."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from slotwise.api.app import create_app, lambda_entrypoint
from slotwise.api.context import caller
from slotwise.booking import availability, flights, hours, quotes, series
from slotwise.booking.models import BookingTimes
from slotwise.booking.requests import BulkAvailabilityRequest
from slotwise.booking.windows import now_utc
from slotwise.catalog.models import HoursUpdate
from slotwise.identity.permissions import route_doc
from slotwise.models import ID_PATTERN, MAX_ID_LENGTH, BoundedDate, BoundedDatetime, check_period
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

app = create_app()
TAGS = ["availability"]
Json = dict[str, Any]
Quantity = Annotated[int, Query(ge=1, le=10_000)]
DOC = route_doc("availability.read")


@app.get("/api/v1/availability", tags=TAGS, summary="Is this window free? Conflicts and a price quote", description=DOC)
def check(
    resource_id: Annotated[str, Query(alias="resourceId", min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)],
    start_time: Annotated[BoundedDatetime | None, Query(alias="startTime")] = None,
    end_time: Annotated[BoundedDatetime | None, Query(alias="endTime")] = None,
    check_in: Annotated[BoundedDate | None, Query(alias="checkIn")] = None,
    check_out: Annotated[BoundedDate | None, Query(alias="checkOut")] = None,
    quantity: Quantity = 1,
) -> Json:
    times = BookingTimes(start_time=start_time, end_time=end_time, check_in=check_in, check_out=check_out)
    return availability.check(caller(app), resource_id, times, quantity, now_utc())


@app.post(
    "/api/v1/availability/bulk", tags=TAGS, summary="Availability of many windows of one resource", description=DOC
)
def bulk(body: BulkAvailabilityRequest) -> Json:
    return availability.check_many(caller(app), body.resource_id, body.time_slots, body.quantity, now_utc())


@app.get(
    "/api/v1/resources/<resourceId>/slots", tags=TAGS, summary="Free start times between two instants", description=DOC
)
def slots(
    resourceId: str,
    frm: Annotated[BoundedDatetime, Query(alias="from")],
    to: Annotated[BoundedDatetime, Query()],
    quantity: Quantity = 1,
) -> Json:
    check_period(frm, to)
    return availability.free_slots(caller(app), resourceId, frm, to, quantity, now_utc())


@app.get("/api/v1/conflicts", tags=TAGS, summary="Conflicts of a single or recurring request", description=DOC)
def conflicts(
    resource_id: Annotated[str, Query(alias="resourceId", min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)],
    start_time: Annotated[BoundedDatetime, Query(alias="startTime")],
    end_time: Annotated[BoundedDatetime, Query(alias="endTime")],
    recurrence_rule: Annotated[str | None, Query(alias="recurrenceRule", max_length=500)] = None,
) -> Json:
    times = BookingTimes(start_time=start_time, end_time=end_time)
    return series.conflicts(caller(app), resource_id, times, recurrence_rule, now_utc())


Airport = Annotated[str, Query(pattern=r"^[A-Z]{3}$", description="IATA-style code, e.g. LIS")]


@app.get(
    "/api/v1/flights",
    tags=TAGS,
    summary="Departures on a route and day (the origin's date), each cabin with seats left and fare",
    description=route_doc("catalog.read"),
)
def search_flights(
    origin: Airport,
    destination: Airport,
    date: Annotated[BoundedDate, Query(description="departure date in the origin's time")],
    passengers: Annotated[int, Query(ge=1, le=9)] = 1,
) -> Json:
    query = flights.FlightSearch(origin=origin, destination=destination, day=date, passengers=passengers)
    return flights.search(caller(app), query, now_utc())


@app.post(
    "/api/v1/quotes",
    tags=["quotes"],
    summary="Price a booking: lines with add-ons, cancellation deadlines, and whether it can be booked now",
    description=route_doc("quote.create"),
)
def quote(body: quotes.QuoteRequest) -> quotes.Quote:
    return quotes.quote(caller(app), body, now_utc())


@app.put(
    "/api/v1/resources/<resourceId>/availability",
    tags=TAGS,
    summary="Replace a resource's opening hours, date overrides and blackout dates (vendor or its advisor)",
    description=route_doc("resource.availability"),
)
def change_hours(resourceId: str, body: HoursUpdate) -> Json:
    return hours.change_hours(caller(app), resourceId, body, if_match=app.current_event.headers.get("if-match"))


lambda_handler = lambda_entrypoint(app)
