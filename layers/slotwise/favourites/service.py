"""Favourite use cases: save a resource, remove it, list what the caller saved. Always the caller's own.

Saving needs a resource the caller can see (an unknown or archived one is 404 `resource_not_found`); saving again
and removing what is not saved change nothing (idempotent). A user keeps at most `MAX_FAVOURITES` (422 beyond).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.booking import access
from slotwise.catalog import repository as catalog
from slotwise.catalog.models import CursorPagination, Resource, Venue
from slotwise.favourites import store
from slotwise.favourites.models import Favourite, FavouritePage
from slotwise.identity import permissions
from slotwise.identity.models import Caller

MAX_FAVOURITES = 500


def _user(caller: Caller) -> str:
    permissions.require(caller, "favourite.manage")
    if caller.user_id is None:  # pragma: no cover - require() refuses anonymous callers
        raise errors.AuthenticationRequired("Sign in to keep favourites.")
    return caller.user_id


def _entry(item: dict[str, Any], resource: Resource | None, venue: Venue | None, caller: Caller) -> Favourite:
    added_at = datetime.fromisoformat(str(item["addedAt"]))
    if resource is None or not (resource.active or access.manages_resource(caller, resource)):
        return Favourite(resource_id=str(item["resourceId"]), added_at=added_at, available=False)
    return Favourite(
        resource_id=resource.id,
        added_at=added_at,
        available=resource.active,
        name=resource.name,
        type=resource.type,
        venue_id=resource.venue_id,
        venue_name=venue.name if venue is not None else None,
        city=resource.city,
        rating=resource.rating,
    )


def add_favourite(caller: Caller, resource_id: str, now: datetime | None = None) -> tuple[Favourite, bool]:
    """The favourite, and whether this call saved it (False: it was saved already)."""
    user_id = _user(caller)
    resource = access.resource_visible(caller, catalog.get_resource(resource_id), resource_id)
    now = now or datetime.now(UTC)
    entry = audit.entry(caller, "favourite.add", "user", user_id, at=now, detail={"resourceId": resource_id})
    created = store.add(user_id, resource_id, now, cap=MAX_FAVOURITES, audit=entry)
    stored = store.get(user_id, resource_id) if not created else None
    item = stored or {"resourceId": resource_id, "addedAt": now.isoformat()}
    venue = catalog.get_venue(resource.venue_id)
    return _entry(item, resource, venue, caller), created


def remove_favourite(caller: Caller, resource_id: str, now: datetime | None = None) -> None:
    user_id = _user(caller)
    entry = audit.entry(caller, "favourite.remove", "user", user_id, at=now, detail={"resourceId": resource_id})
    store.remove(user_id, resource_id, audit=entry)


def list_favourites(caller: Caller, *, limit: int, cursor: str | None) -> FavouritePage:
    user_id = _user(caller)
    items, next_cursor = store.page(user_id, limit=limit, cursor=cursor)
    resources, venues = store.resources_and_venues([str(item["resourceId"]) for item in items])
    favourites = []
    for item in items:
        resource = resources.get(str(item["resourceId"]))
        favourites.append(_entry(item, resource, venues.get(resource.venue_id) if resource else None, caller))
    return FavouritePage(favourites=favourites, pagination=CursorPagination(limit=limit, next_cursor=next_cursor))
