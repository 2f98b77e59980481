"""Catalog use cases: create, read, list, change and retire venues and resources. The caller arrives as an argument.

Every use case starts with the permission table (`slotwise.identity.permissions`): roles that may never write the
catalog get 403 (401 anonymous), and vendors must be approved. Then the object level: someone else's venue or
resource, and an archived resource the caller does not own, look exactly like missing ones (404): ids are not an
oracle. Changes are conditional on the version read, or on the ETag the client sent, and each carries its audit
entry in the same transaction.

Longer than 400 lines because every catalog use case shares the same ownership and visibility checks (venues,
resources, search by place, route and availability, schedule changes); splitting them would export those checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.catalog import bookable, repository
from slotwise.catalog.models import (
    BookingPolicy,
    CursorPagination,
    HoursUpdate,
    PagePagination,
    Resource,
    ResourceInput,
    ResourcePage,
    ResourceType,
    ResourceUpdate,
    ScheduleChange,
    ScheduleChangeRequest,
    Venue,
    VenueInput,
    VenuePage,
    VenueUpdate,
)
from slotwise.identity import permissions
from slotwise.identity.models import Caller, organisation_id_of
from slotwise.models import iso
from slotwise.organisations import service as organisations

# Page-number paging is implemented by reading and skipping; this bounds what one request may skip.
MAX_PAGED_ITEMS = 1_000


def _require_writer(caller: Caller, action: permissions.Action) -> str:
    permissions.require(caller, action)
    assert caller.user_id is not None  # require() refuses anonymous callers for every write
    return caller.user_id


def _manages(caller: Caller, owner_id: str, organisation_id: str | None = None) -> bool:
    """Admins, and the owner's organisation (the vendor and its staff: `organisations.same_organisation`)."""
    return permissions.allows(caller, "catalog.manage_any") or organisations.same_organisation(
        caller, owner_id, organisation_id
    )


def _owned_venue(caller: Caller, venue_id: str) -> Venue:
    venue = repository.get_venue(venue_id)
    if venue is None or not _manages(caller, venue.owner_id, venue.organisation_id):
        # Someone else's venue looks exactly like a missing one: ids are not an oracle.
        raise errors.NotFound(f"No venue {venue_id}.", code="venue_not_found")
    return venue


def _owned_resource(caller: Caller, resource_id: str) -> Resource:
    resource = repository.get_resource(resource_id)
    if resource is None or not _manages(caller, resource.owner_id, resource.organisation_id):
        raise errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")
    return resource


def _require_match(if_match: str | None, current_etag: str) -> None:
    """Honour an If-Match header: `*` or any listed tag equal to the current ETag."""
    if if_match is None:
        return
    # W/ is tolerated because intermediaries that re-encode bodies weaken ETags; the version behind it is the same.
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in tags and current_etag not in tags:
        raise errors.Conflict(
            f"If-Match {if_match} does not match the current ETag {current_etag}; fetch it again and retry.",
            code="version_conflict",
            extra={"currentETag": current_etag},
        )


def _immutable(field: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(
        f"{field} cannot change once created.", code="immutable_field", extra={"field": field}
    )


def create_venue(caller: Caller, data: VenueInput, now: datetime | None = None) -> Venue:
    _require_writer(caller, "venue.create")
    # Staff create in their organisation owner's name: the venue is the vendor's business, not the employee's.
    owner = organisations.owner_for_new_items(caller)
    now = now or datetime.now(UTC)
    venue = Venue(
        id=str(uuid.uuid4()),
        owner_id=owner,
        organisation_id=organisation_id_of(owner),
        created_at=now,
        updated_at=now,
        **data.model_dump(),
    )
    repository.save_venue(
        venue, audit=audit.entry(caller, "venue.create", "venue", venue.id, at=now, detail={"name": venue.name})
    )
    return venue


def get_venue(caller: Caller, venue_id: str) -> Venue:
    permissions.require(caller, "catalog.read")
    venue = repository.get_venue(venue_id)
    if venue is None or not (venue.active or _manages(caller, venue.owner_id, venue.organisation_id)):
        raise errors.NotFound(f"No venue {venue_id}.", code="venue_not_found")
    return venue


def list_venues(caller: Caller, *, city: str | None, mine: bool, limit: int, cursor: str | None) -> VenuePage:
    permissions.require(caller, "catalog.read")
    owner_id = None
    if mine:
        if caller.user_id is None:
            raise errors.AuthenticationRequired("Sign in to list your own venues.")
        owner_id = organisations.owner_for_new_items(caller)
    wanted_city = city.strip().casefold() if city and city.strip() else None

    def select(venue: Venue) -> Venue | None:
        if wanted_city is not None and venue.city.casefold() != wanted_city:
            return None
        return venue if venue.active or _manages(caller, venue.owner_id, venue.organisation_id) else None

    venues, next_cursor = repository.list_venues(
        owner_id=owner_id, city=wanted_city, limit=limit, cursor=cursor, select=select
    )
    return VenuePage(venues=venues, pagination=CursorPagination(limit=limit, next_cursor=next_cursor))


def update_venue(
    caller: Caller, venue_id: str, data: VenueUpdate, *, if_match: str | None = None, now: datetime | None = None
) -> Venue:
    _require_writer(caller, "venue.update")
    current = _owned_venue(caller, venue_id)
    _require_match(if_match, current.etag)
    if data.timezone is not None and data.timezone != current.timezone:
        raise _immutable("timezone")
    now = now or datetime.now(UTC)
    changes = data.model_dump(exclude={"timezone"})
    updated = Venue.model_validate(
        {**current.model_dump(), **changes, "updated_at": now, "version": current.version + 1}
    )
    repository.save_venue(
        updated,
        expected_version=current.version,
        audit=audit.entry(caller, "venue.update", "venue", venue_id, at=now, detail={"version": updated.version}),
    )
    if updated.city != current.city:
        repository.set_resources_city(venue_id, updated.city, now)
    return updated


def delete_venue(caller: Caller, venue_id: str) -> None:
    _require_writer(caller, "venue.delete")
    venue = _owned_venue(caller, venue_id)
    has_resources = errors.Conflict(
        "Archive (DELETE) the venue's resources first; bookings keep referring to archived ones.",
        code="venue_has_resources",
    )
    if venue.active_resources > 0:
        raise has_resources
    # The delete is conditional on the count, which a resource created since the read would have raised.
    if not repository.delete_venue(venue_id, audit=audit.entry(caller, "venue.delete", "venue", venue_id)):
        if repository.get_venue(venue_id) is None:
            raise errors.NotFound(f"No venue {venue_id}.", code="venue_not_found")
        raise has_resources


def create_resource(caller: Caller, data: ResourceInput, now: datetime | None = None) -> Resource:
    _require_writer(caller, "resource.create")
    venue = _owned_venue(caller, data.venue_id)
    now = now or datetime.now(UTC)
    resource = Resource(
        id=str(uuid.uuid4()),
        owner_id=venue.owner_id,
        organisation_id=venue.organisation_id,
        timezone=venue.timezone,
        city=venue.city,
        created_at=now,
        updated_at=now,
        **data.model_dump(),
    )
    bookable.check_bookable(resource)
    repository.create_resource(
        resource,
        audit=audit.entry(
            caller,
            "resource.create",
            "resource",
            resource.id,
            at=now,
            detail={"venueId": venue.id, "name": resource.name},
        ),
    )
    return resource


def get_resource(caller: Caller, resource_id: str) -> Resource:
    permissions.require(caller, "catalog.read")
    resource = repository.get_resource(resource_id)
    if resource is None or not (resource.active or _manages(caller, resource.owner_id, resource.organisation_id)):
        raise errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")
    return resource


MAX_AVAILABILITY_PAGE = 50


# Could a resource take one booking covering [from, to) at `now`? The booking engine answers
# (`slotwise.booking.availability.is_free`); the catalog function passes it in, as the catalog sits below bookings.
FreeCheck = Callable[[Resource, datetime, datetime, datetime], bool]


def _availability_filter(
    frm: datetime | None, to: datetime | None, limit: int, is_free: FreeCheck | None
) -> Callable[[Resource], bool] | None:
    if frm is None and to is None:
        return None
    if frm is None or to is None:
        raise errors.ValidationFailed("availableFrom and availableTo go together.", code="incomplete_window")
    if frm.tzinfo is None or to.tzinfo is None:
        raise errors.ValidationFailed("availableFrom/availableTo carry a UTC offset.", code="missing_offset")
    if to <= frm:
        raise errors.ValidationFailed("availableTo comes after availableFrom.", code="end_before_start")
    if limit > MAX_AVAILABILITY_PAGE:
        raise errors.ValidationFailed(
            f"With an availability window, limit is at most {MAX_AVAILABILITY_PAGE}.", code="limit_too_high"
        )
    if is_free is None:
        raise ValueError("an availability search needs the booking engine's is_free")
    now = datetime.now(UTC)
    return lambda resource: is_free(resource, frm, to, now)


@dataclass(frozen=True)
class RouteSearch:
    """Resources departing from `origin` to `destination`, on the local date `day` (of the origin) or any day."""

    origin: str
    destination: str
    day: date | None = None

    @classmethod
    def of(cls, origin: str | None, destination: str | None, day: date | None) -> RouteSearch | None:
        if origin is None and destination is None:
            if day is not None:
                raise errors.ValidationFailed(
                    "`date` searches departures: name `origin` and `destination` too.", code="date_needs_route"
                )
            return None
        if origin is None or destination is None:
            raise errors.ValidationFailed("Search a route by `origin` and `destination` together.", code="half_route")
        return cls(origin, destination, day)


def list_resources(
    caller: Caller,
    *,
    kind: ResourceType | None = None,
    venue_id: str | None = None,
    city: str | None = None,
    min_capacity: int | None = None,
    min_guests: int | None = None,
    amenities: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
    page: int | None = None,
    available_from: datetime | None = None,
    available_to: datetime | None = None,
    is_free: FreeCheck | None = None,
    route: RouteSearch | None = None,
) -> ResourcePage:
    """Public listing; archived resources appear only to their owner and admins. `amenities` is "a,b": all of them.
    `minCapacity` counts overlapping bookings; `minGuests` keeps resources that seat that many (their maxGuests,
    none meaning no limit, at least it, and their minGuests, if any, at most it).

    With availableFrom/availableTo, only resources that could take one booking covering that window are kept
    (one inventory Query per candidate that passes the other filters, so such pages are capped at 50).
    """
    permissions.require(caller, "catalog.read")
    free = _availability_filter(available_from, available_to, limit, is_free)
    if page is not None and cursor is not None:
        raise errors.ValidationFailed("Page by `cursor` or by `page`, not both.", code="page_and_cursor")
    if page is not None and page * limit > MAX_PAGED_ITEMS:
        raise errors.ValidationFailed(
            f"page x limit is at most {MAX_PAGED_ITEMS}; use `cursor` to go further.", code="page_too_deep"
        )
    wanted_city = city.strip().casefold() if city and city.strip() else None
    wanted_amenities = {tag.strip() for tag in (amenities or "").split(",") if tag.strip()}

    def select(resource: Resource) -> Resource | None:
        keep = (
            (resource.active or _manages(caller, resource.owner_id, resource.organisation_id))
            and (kind is None or resource.type == kind)
            and (venue_id is None or resource.venue_id == venue_id)
            and (wanted_city is None or resource.city.casefold() == wanted_city)
            and (min_capacity is None or resource.capacity >= min_capacity)
            and (min_guests is None or seats(resource, min_guests))
            and wanted_amenities <= set(resource.amenities)
            and (free is None or free(resource))
        )
        return resource if keep else None

    skip = (page - 1) * limit if page is not None else 0
    if route is not None:
        # The route index holds active resources only: it serves the public search, not an owner's archive.
        found, next_cursor = repository.list_on_route(
            route.origin, route.destination, route.day, limit=skip + limit, cursor=cursor, select=select
        )
    else:
        found, next_cursor = repository.list_resources(
            venue_id=venue_id, kind=kind, limit=skip + limit, cursor=cursor, select=select
        )
    if page is None:
        return ResourcePage(resources=found, pagination=CursorPagination(limit=limit, next_cursor=next_cursor))
    return ResourcePage(
        resources=found[skip:], pagination=PagePagination(limit=limit, page=page, next_cursor=next_cursor)
    )


def seats(resource: Resource, guests: int) -> bool:
    """Could one booking of this resource bring `guests`?"""
    return (resource.max_guests is None or resource.max_guests >= guests) and (
        resource.min_guests is None or resource.min_guests <= guests
    )


def update_resource(
    caller: Caller,
    resource_id: str,
    data: ResourceUpdate,
    *,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Resource:
    """Replace every mutable field. `active: true` revives an archived resource, if its venue still exists."""
    _require_writer(caller, "resource.update")
    current = _owned_resource(caller, resource_id)
    _require_match(if_match, current.etag)
    if data.venue_id is not None and data.venue_id != current.venue_id:
        raise _immutable("venueId")
    # Existing bookings and slot claims are laid on the unit and granule grid.
    if data.policy.unit != current.policy.unit:
        raise _immutable("policy.unit")
    if data.policy.granule_minutes != current.policy.granule_minutes:
        raise _immutable("policy.granuleMinutes")
    if (data.policy.fixed_start, data.policy.fixed_end) != (current.policy.fixed_start, current.policy.fixed_end):
        # Its bookings were sold for that window: only the operation that moves them with it may change it.
        raise errors.Conflict(
            "A fixed window moves with its bookings: use POST /api/v1/resources/{id}/schedule-change.",
            code="schedule_change_required",
        )
    now = now or datetime.now(UTC)
    changes = data.model_dump(exclude={"venue_id"})
    updated = Resource.model_validate(
        {**current.model_dump(), **changes, "updated_at": now, "version": current.version + 1}
    )
    # The answer shows the rating as read (the write leaves the review counters alone).
    updated = updated.model_copy(update={"rating_sum": current.rating_sum, "rating_count": current.rating_count})
    bookable.check_bookable(updated)
    repository.replace_resource(
        updated,
        current.version,
        _venue_delta(current, updated),
        was_active=current.active,
        audit=audit.entry(
            caller, "resource.update", "resource", resource_id, at=now, detail={"version": updated.version}
        ),
    )
    return updated


def replace_calendar(
    caller: Caller, resource_id: str, data: HoursUpdate, *, if_match: str | None = None, now: datetime | None = None
) -> Resource:
    """Replace a resource's opening hours, date overrides and blackout dates, and nothing else: for its owner, an
    admin, or the advisor who is the resource (`attributes.advisorUserId`); conditional on the version read."""
    permissions.require(caller, "resource.availability")
    current = repository.get_resource(resource_id)
    advisor = (
        current is not None
        and caller.role == "advisor"
        and current.attributes.get("advisorUserId") == (caller.user_id or "")
    )
    if current is None or not (advisor or _manages(caller, current.owner_id, current.organisation_id)):
        raise errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")
    _require_match(if_match, current.etag)
    now = now or datetime.now(UTC)
    policy = BookingPolicy.model_validate({**current.policy.model_dump(), **data.model_dump()})
    updated = current.model_copy(update={"policy": policy, "updated_at": now, "version": current.version + 1})
    bookable.check_bookable(updated)
    repository.replace_resource(
        updated,
        current.version,
        0,
        was_active=current.active,
        audit=audit.entry(
            caller,
            "resource.availability",
            "resource",
            resource_id,
            at=now,
            detail={"version": updated.version, "blackoutDates": len(data.blackout_dates)},
        ),
    )
    return updated


def start_schedule_change(
    caller: Caller,
    resource_id: str,
    data: ScheduleChangeRequest,
    now: datetime | None = None,
    *,
    can_move: Callable[[Resource, ScheduleChangeRequest], None] | None = None,
) -> Resource:
    """Move a fixed window: the resource takes the new times and a `moving` schedule change in one conditional
    write; its bookings follow (`slotwise.booking.schedule_change`). One change at a time. `can_move` raises when
    what the bookings hold cannot follow (asked once the caller is known to own the resource)."""
    _require_writer(caller, "resource.update")
    current = _owned_resource(caller, resource_id)
    now = now or datetime.now(UTC)
    policy = current.policy
    if policy.unit != "fixed" or policy.fixed_start is None or policy.fixed_end is None:
        raise errors.ValidationFailed(
            "Only a fixed-window resource (a departure, a session) has a schedule to change.", code="not_fixed"
        )
    running = current.schedule_change
    if running is not None and running.status == "moving":
        raise errors.Conflict(
            "The previous schedule change is still moving bookings; try again in a minute.",
            code="schedule_change_running",
        )
    if data.fixed_start <= now:
        raise errors.ValidationFailed("The new window starts in the future.", code="start_in_past")
    if (data.fixed_start, data.fixed_end) == (policy.fixed_start, policy.fixed_end):
        raise errors.ValidationFailed("That is the current window.", code="no_change")
    if can_move is not None:
        can_move(current, data)
    change = ScheduleChange(
        id=str(uuid.uuid4()),
        status="moving",
        from_start=policy.fixed_start,
        from_end=policy.fixed_end,
        to_start=data.fixed_start,
        to_end=data.fixed_end,
        reason=data.reason,
        requested_by=caller.user_id,
        started_at=now,
    )
    moved_policy = policy.model_copy(update={"fixed_start": data.fixed_start, "fixed_end": data.fixed_end})
    updated = Resource.model_validate(
        {
            **current.model_dump(),
            "policy": BookingPolicy.model_validate(moved_policy.model_dump()),
            "schedule_change": change,
            "updated_at": now,
            "version": current.version + 1,
        }
    )
    bookable.check_bookable(updated)
    repository.replace_resource(
        updated,
        current.version,
        0,
        was_active=current.active,
        audit=audit.entry(
            caller,
            "resource.schedule_change",
            "resource",
            resource_id,
            at=now,
            detail={
                "changeId": change.id,
                "fromStart": iso(change.from_start),
                "toStart": iso(change.to_start),
                "reason": change.reason,
            },
        ),
    )
    return updated


def archive_resource(caller: Caller, resource_id: str, now: datetime | None = None) -> None:
    """DELETE keeps the item (bookings refer to it) and hides it from everyone but its owner and admins."""
    _require_writer(caller, "resource.delete")
    current = _owned_resource(caller, resource_id)
    if not current.active:
        return
    now = now or datetime.now(UTC)
    archived = current.model_copy(update={"active": False, "updated_at": now, "version": current.version + 1})
    repository.replace_resource(
        archived,
        current.version,
        _venue_delta(current, archived),
        was_active=True,
        audit=audit.entry(caller, "resource.archive", "resource", resource_id, at=now),
    )


def _venue_delta(before: Resource, after: Resource) -> int:
    if before.active == after.active:
        return 0
    venue = repository.get_venue(after.venue_id)
    if after.active:
        if venue is None:
            raise errors.Conflict("Its venue was deleted, so it cannot be bookable again.", code="venue_deleted")
        return 1
    # Nothing to count down when the venue is gone or never counted it (written outside this service).
    return -1 if venue is not None and venue.active_resources > 0 else 0
