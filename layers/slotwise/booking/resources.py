"""The resource a booking is for, read through a short cache: its rules and capacity on every claim."""

from __future__ import annotations

from slotwise import errors
from slotwise.cache import TtlCache
from slotwise.catalog import repository as catalog
from slotwise.catalog.models import Resource

# Booking reads a resource's rules and capacity on every claim; a warm function keeps them this long, so a
# catalog change (capacity, hours, price) reaches new bookings within these seconds.
RESOURCE_CACHE_SECONDS = 10.0
_resources: TtlCache[Resource] = TtlCache(RESOURCE_CACHE_SECONDS)


def bookable_resource(resource_id: str) -> Resource:
    resource = _resources.get(resource_id, lambda: catalog.get_resource(resource_id))
    if resource is None:
        raise errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")
    return resource


def forget(resource_id: str) -> None:
    """Drop the cached copy: the resource is known to have changed (a booking's window check failed on it)."""
    _resources.forget(resource_id)
