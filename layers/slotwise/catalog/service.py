"""Catalog use cases: create and change venues and resources. The caller arrives as an argument."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from slotwise import errors
from slotwise.catalog import repository
from slotwise.catalog.models import Resource, ResourceInput, Venue, VenueInput
from slotwise.identity.models import Caller

_CATALOG_WRITERS = frozenset({"admin", "vendor", "staff"})


def _require_writer(caller: Caller) -> str:
    if caller.user_id is None:
        raise errors.AuthenticationRequired("Sign in to manage venues and resources.")
    if caller.role not in _CATALOG_WRITERS:
        raise errors.PermissionDenied(f"A {caller.role} cannot manage venues or resources.")
    return caller.user_id


def _owned_venue(caller: Caller, venue_id: str) -> Venue:
    venue = repository.get_venue(venue_id)
    if venue is None or (caller.role != "admin" and venue.owner_id != caller.user_id):
        # Someone else's venue looks exactly like a missing one: ids are not an oracle.
        raise errors.NotFound(f"No venue {venue_id}.", code="venue_not_found")
    return venue


def create_venue(caller: Caller, data: VenueInput, now: datetime | None = None) -> Venue:
    owner = _require_writer(caller)
    now = now or datetime.now(UTC)
    venue = Venue(id=str(uuid.uuid4()), owner_id=owner, created_at=now, updated_at=now, **data.model_dump())
    repository.save_venue(venue)
    return venue


def create_resource(caller: Caller, data: ResourceInput, now: datetime | None = None) -> Resource:
    _require_writer(caller)
    venue = _owned_venue(caller, data.venue_id)
    now = now or datetime.now(UTC)
    resource = Resource(
        id=str(uuid.uuid4()),
        owner_id=venue.owner_id,
        timezone=venue.timezone,
        city=venue.city,
        created_at=now,
        updated_at=now,
        **data.model_dump(),
    )
    repository.save_resource(resource)
    return resource
