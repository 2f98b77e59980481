"""Catalog: venues and their bookable resources (create, read, list with filters, replace, delete/archive), and
the resources' add-ons."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from slotwise.addons import service as addon_service
from slotwise.addons.models import Addon, AddonInput, AddonList, AddonUpdate
from slotwise.advisors.models import Advisor, AdvisorPage
from slotwise.api.app import create_app, lambda_entrypoint
from slotwise.api.context import caller
from slotwise.catalog import service
from slotwise.catalog.models import (
    Resource,
    ResourceInput,
    ResourcePage,
    ResourceType,
    ResourceUpdate,
    ScheduleChangeRequest,
    Venue,
    VenueInput,
    VenuePage,
    VenueUpdate,
)
from slotwise.favourites import service as favourites
from slotwise.favourites.models import Favourite, FavouritePage
from slotwise.identity.models import Caller
from slotwise.identity.permissions import route_doc
from slotwise.models import ID_PATTERN, MAX_ID_LENGTH, BoundedDate, BoundedDatetime, check_period
from slotwise.reviews import service as reviews
from slotwise.reviews.models import ReplyInput, ReviewPage
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

app = create_app()
VENUES, RESOURCES, REVIEWS, FAVOURITES = ["venues"], ["resources"], ["reviews"], ["favourites"]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]
City = Annotated[str | None, Query(min_length=1, max_length=100)]
Airport = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="IATA-style code, e.g. LIS")]
AmenityList = Annotated[str | None, Query(max_length=1000, pattern=r"^[a-z0-9_\-]+(,[a-z0-9_\-]+)*$")]


def _created(model: type[Any]) -> dict[int, Any]:
    return {201: {"description": "Created", "content": {"application/json": {"model": model}}}}


GONE: dict[int, Any] = {204: {"description": "Done"}}


def _caller() -> Caller:
    return caller(app)


def _if_match() -> str | None:
    return app.current_event.headers.get("if-match")


def _entity(entity: Venue | Resource, status: int = 200, location: str | None = None) -> Response[Any]:
    headers = {"ETag": entity.etag} | ({"Location": location} if location else {})
    return Response(status, "application/json", entity, headers)


@app.post(
    "/api/v1/venues",
    tags=VENUES,
    summary="Create a venue (you own it)",
    description=route_doc("venue.create"),
    responses=_created(Venue),
)
def create_venue(body: VenueInput) -> Response[Venue]:
    venue = service.create_venue(_caller(), body)
    return _entity(venue, 201, f"/api/v1/venues/{venue.id}")


@app.get(
    "/api/v1/venues",
    tags=VENUES,
    summary="List venues, by city (any case) or your own (mine=true)",
    description=route_doc("catalog.read"),
)
def list_venues(
    city: City = None, mine: Annotated[bool, Query()] = False, limit: Limit = 20, cursor: Cursor = None
) -> VenuePage:
    return service.list_venues(_caller(), city=city, mine=mine, limit=limit, cursor=cursor)


@app.get(
    "/api/v1/venues/<venueId>",
    tags=VENUES,
    summary="A venue, with its version as ETag",
    description=route_doc("catalog.read"),
)
def get_venue(venueId: str) -> Response[Venue]:
    return _entity(service.get_venue(_caller(), venueId))


@app.put(
    "/api/v1/venues/<venueId>",
    tags=VENUES,
    summary="Replace a venue (honours If-Match; timezone is fixed)",
    description=route_doc("venue.update"),
)
def update_venue(venueId: str, body: VenueUpdate) -> Response[Venue]:
    return _entity(service.update_venue(_caller(), venueId, body, if_match=_if_match()))


@app.delete(
    "/api/v1/venues/<venueId>",
    tags=VENUES,
    summary="Delete a venue with no active resources",
    description=route_doc("venue.delete"),
    responses=GONE,
)
def delete_venue(venueId: str) -> Response[None]:
    service.delete_venue(_caller(), venueId)
    return Response(204)


@app.post(
    "/api/v1/resources",
    tags=RESOURCES,
    summary="Create a resource in your venue",
    description=route_doc("resource.create"),
    responses=_created(Resource),
)
def create_resource(body: ResourceInput) -> Response[Resource]:
    resource = service.create_resource(_caller(), body)
    return _entity(resource, 201, f"/api/v1/resources/{resource.id}")


@app.get(
    "/api/v1/resources",
    tags=RESOURCES,
    summary="Search resources (cursor or page+limit paging)",
    description=route_doc("catalog.read"),
)
def list_resources(
    *,
    kind: Annotated[ResourceType | None, Query(alias="type")] = None,
    venue_id: Annotated[
        str | None, Query(alias="venueId", min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)
    ] = None,
    city: City = None,
    min_capacity: Annotated[int | None, Query(alias="minCapacity", ge=1, le=10_000)] = None,
    min_guests: Annotated[int | None, Query(alias="minGuests", ge=1, le=100_000)] = None,
    amenities: AmenityList = None,
    limit: Limit = 20,
    cursor: Cursor = None,
    page: Annotated[int | None, Query(ge=1, le=1000)] = None,
    available_from: Annotated[BoundedDatetime | None, Query(alias="availableFrom")] = None,
    available_to: Annotated[BoundedDatetime | None, Query(alias="availableTo")] = None,
    origin: Airport = None,
    destination: Airport = None,
    date: Annotated[BoundedDate | None, Query(description="departure date in the origin's time")] = None,
) -> ResourcePage:
    check_period(available_from, available_to)
    return service.list_resources(
        _caller(),
        kind=kind,
        venue_id=venue_id,
        city=city,
        min_capacity=min_capacity,
        min_guests=min_guests,
        amenities=amenities,
        limit=limit,
        cursor=cursor,
        page=page,
        available_from=available_from,
        available_to=available_to,
        is_free=_is_free,
        route=service.RouteSearch.of(origin, destination, date),
    )


def _is_free(resource: Resource, frm: datetime, to: datetime, now: datetime) -> bool:
    # Imported here: the catalog function only pays for the booking engine when a search asks about availability.
    from slotwise.booking.availability import is_free

    return is_free(resource, frm, to, now)


@app.get(
    "/api/v1/resources/<resourceId>",
    tags=RESOURCES,
    summary="A resource, with its version as ETag",
    description=route_doc("catalog.read"),
)
def get_resource(resourceId: str) -> Response[Resource]:
    return _entity(service.get_resource(_caller(), resourceId))


@app.put(
    "/api/v1/resources/<resourceId>",
    tags=RESOURCES,
    summary="Replace a resource (honours If-Match)",
    description=route_doc("resource.update"),
)
def update_resource(resourceId: str, body: ResourceUpdate) -> Response[Resource]:
    return _entity(service.update_resource(_caller(), resourceId, body, if_match=_if_match()))


@app.post(
    "/api/v1/resources/<resourceId>/schedule-change",
    tags=RESOURCES,
    summary="Move a fixed window (a departure) and every booking of it; customers are told and may cancel free",
    description=route_doc("resource.update"),
)
def change_schedule(resourceId: str, body: ScheduleChangeRequest) -> Response[Resource]:
    # Imported here: only this route needs the booking engine.
    from slotwise.booking.schedule_change import change_schedule

    return _entity(change_schedule(_caller(), resourceId, body))


@app.delete(
    "/api/v1/resources/<resourceId>",
    tags=RESOURCES,
    summary="Archive (kept for bookings)",
    description=route_doc("resource.delete"),
    responses=GONE,
)
def archive_resource(resourceId: str) -> Response[None]:
    service.archive_resource(_caller(), resourceId)
    return Response(204)


ADDONS = ["add-ons"]


@app.get(
    "/api/v1/resources/<resourceId>/addons",
    tags=ADDONS,
    summary="A resource's add-ons (archived ones only for its managers)",
    description=route_doc("catalog.read"),
)
def list_addons(resourceId: str) -> AddonList:
    return addon_service.list_addons(_caller(), resourceId)


@app.post(
    "/api/v1/resources/<resourceId>/addons",
    tags=ADDONS,
    summary="Add an add-on to your resource",
    description=route_doc("addon.manage"),
    responses=_created(Addon),
)
def create_addon(resourceId: str, body: AddonInput) -> Response[Addon]:
    addon = addon_service.create_addon(_caller(), resourceId, body)
    return Response(201, "application/json", addon, {"Location": f"/api/v1/resources/{resourceId}/addons/{addon.id}"})


@app.put(
    "/api/v1/resources/<resourceId>/addons/<addonId>",
    tags=ADDONS,
    summary="Replace an add-on (bookings made keep their terms)",
    description=route_doc("addon.manage"),
)
def update_addon(resourceId: str, addonId: str, body: AddonUpdate) -> Addon:
    return addon_service.update_addon(_caller(), resourceId, addonId, body)


@app.delete(
    "/api/v1/resources/<resourceId>/addons/<addonId>",
    tags=ADDONS,
    summary="Archive an add-on (bookings keep their lines)",
    description=route_doc("addon.manage"),
    responses=GONE,
)
def archive_addon(resourceId: str, addonId: str) -> Response[None]:
    addon_service.archive_addon(_caller(), resourceId, addonId)
    return Response(204)


@app.get(
    "/api/v1/resources/<resourceId>/reviews",
    tags=REVIEWS,
    summary="A resource's reviews, newest first (public)",
    description=route_doc("catalog.read"),
)
def list_reviews(resourceId: str, limit: Limit = 20, cursor: Cursor = None) -> ReviewPage:
    return reviews.list_reviews(_caller(), resourceId, limit=limit, cursor=cursor)


@app.post(
    "/api/v1/reviews/<reviewId>/reply",
    tags=REVIEWS,
    summary="Reply to a review of your resource (once)",
    description=route_doc("review.reply"),
)
def reply_to_review(reviewId: str, body: ReplyInput) -> Response[dict[str, Any]]:
    return Response(200, "application/json", reviews.reply(_caller(), reviewId, body).public())


@app.delete(
    "/api/v1/reviews/<reviewId>",
    tags=REVIEWS,
    summary="Remove a review (audited; it leaves the resource's rating)",
    description=route_doc("review.delete"),
    responses=GONE,
)
def delete_review(reviewId: str) -> Response[None]:
    reviews.delete_review(_caller(), reviewId)
    return Response(204)


@app.get(
    "/api/v1/users/me/favourites",
    tags=FAVOURITES,
    summary="Your favourite resources, newest first",
    description=route_doc("favourite.manage"),
)
def list_favourites(limit: Limit = 20, cursor: Cursor = None) -> FavouritePage:
    return favourites.list_favourites(_caller(), limit=limit, cursor=cursor)


@app.put(
    "/api/v1/users/me/favourites/<resourceId>",
    tags=FAVOURITES,
    summary="Save a resource as a favourite (idempotent: 201 saved, 200 already saved)",
    description=route_doc("favourite.manage"),
)
def add_favourite(resourceId: str) -> Response[Favourite]:
    favourite, created = favourites.add_favourite(_caller(), resourceId)
    return Response(201 if created else 200, "application/json", favourite)


@app.delete(
    "/api/v1/users/me/favourites/<resourceId>",
    tags=FAVOURITES,
    summary="Remove a favourite (idempotent)",
    description=route_doc("favourite.manage"),
    responses=GONE,
)
def remove_favourite(resourceId: str) -> Response[None]:
    favourites.remove_favourite(_caller(), resourceId)
    return Response(204)


# The advisors' directory (slotwise.advisors): imported per request, as it needs the booking engine's inventory.
ADVISORS = ["advisors"]
Tag = Annotated[str | None, Query(min_length=1, max_length=40)]


@app.get(
    "/api/v1/advisors",
    tags=ADVISORS,
    summary="Find advisors (approved, with an active resource): profile, price, rating and next free slot",
    description=route_doc("catalog.read"),
)
def list_advisors(
    *,
    expertise: Tag = None,
    language: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] = None,
    max_price: Annotated[int | None, Query(alias="maxPrice", ge=0, le=10**11, description="minor units")] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    available_from: Annotated[BoundedDatetime | None, Query(alias="availableFrom")] = None,
    available_to: Annotated[BoundedDatetime | None, Query(alias="availableTo")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> AdvisorPage:
    from slotwise.advisors import service as advisors

    check_period(available_from, available_to)
    filters = advisors.Filters(
        expertise=expertise,
        language=language,
        max_price=max_price,
        currency=currency,
        available_from=available_from,
        available_to=available_to,
    )
    return advisors.list_advisors(_caller(), filters, limit=limit, cursor=cursor)


@app.get(
    "/api/v1/advisors/<advisorId>",
    tags=ADVISORS,
    summary="One advisor of the directory",
    description=route_doc("catalog.read"),
)
def get_advisor(advisorId: str) -> Advisor:
    from slotwise.advisors import service as advisors

    return advisors.get_advisor(_caller(), advisorId)


lambda_handler = lambda_entrypoint(app)
