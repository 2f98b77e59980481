"""The event types a webhook subscription may name, and which events reach a vendor's subscription.

The types are `slotwise.events.catalogue`'s, which the bus rule feeding the webhook queue uses as well. A
subscription names types from that list, or `*` for every type (including types added later).

A vendor's subscription receives an event only when the event's aggregate belongs to the vendor: a booking's
`data.vendorId`, a resource's `data.ownerId` (`OWNER_FIELDS`). An admin's subscription receives every event. An
event whose owner cannot be read reaches admins only (fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ALL_TYPES = "*"

# aggregate -> the field of `data` that names the vendor the event belongs to (payments will carry vendorId too).
OWNER_FIELDS: Mapping[str, str] = {"booking": "vendorId", "resource": "ownerId", "venue": "ownerId"}
DEFAULT_OWNER_FIELD = "vendorId"


def event_owner(aggregate: str, data: Mapping[str, Any]) -> str | None:
    """The user id of the vendor an event belongs to, or None when the event names none."""
    owner = data.get(OWNER_FIELDS.get(aggregate, DEFAULT_OWNER_FIELD))
    return owner if isinstance(owner, str) and owner else None


def matches(event_types: list[str] | tuple[str, ...], event_type: str) -> bool:
    return ALL_TYPES in event_types or event_type in event_types
