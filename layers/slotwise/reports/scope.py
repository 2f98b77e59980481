"""Which resources a caller's report covers: the one place that decides it.

The rules of `slotwise.booking.access`: an admin reaches every resource; a vendor and their organisation's staff
the organisation's resources (`same_organisation`, through `access.manages_resource`); an advisor the resources whose
`attributes.advisorUserId` they are. A resource or venue outside the caller's reach answers 404, like a missing one.
"""

from __future__ import annotations

from slotwise import errors
from slotwise.booking import access
from slotwise.catalog import repository as catalog
from slotwise.catalog.models import Resource
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.organisations import service as organisations

# A report covers at most this many resources (each costs one Query per month): narrow it with venueId/resourceId.
MAX_RESOURCES = 200
_PAGE = 100


def _reaches(caller: Caller, resource: Resource) -> bool:
    return (
        permissions.allows(caller, "report.view_any")
        or access.manages_resource(caller, resource)
        or access.advises(caller, resource)
    )


def _collect(venue_id: str | None, kind: str | None, caller: Caller) -> list[Resource]:
    found: list[Resource] = []
    cursor: str | None = None
    while True:
        page, cursor = catalog.list_resources(
            venue_id=venue_id,
            kind=kind,
            limit=_PAGE,
            cursor=cursor,
            select=lambda resource: resource if _reaches(caller, resource) else None,
        )
        found.extend(page)
        if len(found) > MAX_RESOURCES:
            raise errors.ValidationFailed(
                f"A report covers at most {MAX_RESOURCES} resources: name a venueId or a resourceId.",
                code="too_many_resources",
            )
        if cursor is None:
            return found


def _all_reachable(caller: Caller) -> list[Resource]:
    if permissions.allows(caller, "report.view_any"):
        return _collect(None, None, caller)
    if caller.role == "advisor":
        return _collect(None, "advisor", caller)
    # The organisation's venues are in its owner vendor's name (staff create them so): a staff member's report
    # lists the owner's venues.
    owner = organisations.owner_for_new_items(caller)
    venues, found, cursor = [], [], None
    while True:
        page, cursor = catalog.list_venues(owner_id=owner, city=None, limit=_PAGE, cursor=cursor, select=lambda v: v)
        venues.extend(page)
        if cursor is None:
            break
    for venue in venues:
        found.extend(_collect(venue.id, None, caller))
    return found


def resources_for(caller: Caller, venue_id: str | None, resource_id: str | None) -> list[Resource]:
    """The resources of the report (archived ones too: their past still counts), in a stable order."""
    permissions.require(caller, "report.read")
    if resource_id is not None:
        resource = catalog.get_resource(resource_id)
        if (
            resource is None
            or not _reaches(caller, resource)
            or (venue_id is not None and resource.venue_id != venue_id)
        ):
            raise errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")
        return [resource]
    if venue_id is not None:
        venue = catalog.get_venue(venue_id)
        found = _collect(venue_id, None, caller) if venue is not None else []
        owns = venue is not None and (permissions.allows(caller, "report.view_any") or venue.owner_id == caller.user_id)
        if not found and not owns:
            raise errors.NotFound(f"No venue {venue_id}.", code="venue_not_found")
        return sorted(found, key=lambda r: r.id)
    return sorted(_all_reachable(caller), key=lambda r: r.id)
