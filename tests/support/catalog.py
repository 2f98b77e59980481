"""Resources for booking tests, stored through the catalog repository (no HTTP needed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from slotwise.catalog import repository
from slotwise.catalog.models import BookingPolicy, Pricing, Resource, Venue

VENDOR = "vendor-1"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def make_resource(
    *,
    capacity: int = 1,
    timezone: str = "Europe/Lisbon",
    policy: dict[str, Any] | None = None,
    pricing: dict[str, Any] | None = None,
    kind: str = "meeting_room",
    attributes: dict[str, Any] | None = None,
    store: bool = True,
) -> Resource:
    venue = Venue(
        id=str(uuid.uuid4()),
        owner_id=VENDOR,
        name="Venue",
        city="Lisbon",
        timezone=timezone,
        created_at=EPOCH,
        updated_at=EPOCH,
    )
    resource = Resource(
        id=str(uuid.uuid4()),
        venue_id=venue.id,
        owner_id=VENDOR,
        name="Room",
        type=kind,
        capacity=capacity,
        timezone=timezone,
        city="Lisbon",
        attributes=attributes or {},
        policy=BookingPolicy.model_validate({"unit": "minutes", "granuleMinutes": 30, **(policy or {})}),
        pricing=Pricing.model_validate(pricing or {"currency": "EUR", "unitPrice": 1000}),
        created_at=EPOCH,
        updated_at=EPOCH,
    )
    if store:
        repository.save_venue(venue)
        repository.create_resource(resource)
    return resource
