"""Which domain events reach which connections, and what is pushed: plain functions of the event.

Every message has one shape: `{"type", "id", "occurredAt", "data"}`. `id` is the domain event's id (for
`availability.changed`, a digest of it that does not name the booking): a client that sees one id twice has seen
one change, as pushes are at least once.

- The parties of a booking, a payment or a refund (its customer, whoever made it (`createdBy`, an agent), and the
  vendor) get the event itself on every connection of theirs, with its public fields.
- Subscribers of the booking (`booking#<id>`, who may see it: checked when they subscribed) get the booking events.
- Subscribers of a resource (`resource#<id>`) get `availability.changed` for events that take or release its
  inventory: resource id and times, no personal data.
- A resource's owner gets its `resource.*` events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from slotwise.events.envelope import DomainEvent

AVAILABILITY_CHANGED = "availability.changed"
# Booking events that take or give back a resource's inventory (a held or requested booking holds it too).
AVAILABILITY_EVENTS = frozenset(
    {
        "booking.held",
        "booking.requested",
        "booking.confirmed",
        "booking.cancelled",
        "booking.rescheduled",
        "booking.expired",
        "booking.rejected",
        "booking.schedule_changed",
    }
)
# What a party sees of a booking over the socket: enough to update a screen; the rest is a GET away. Left out:
# attendees' addresses, free text, metadata and history.
PUBLIC_BOOKING_FIELDS = (
    "id",
    "reference",
    "resourceId",
    "resourceName",
    "resourceType",
    "venueId",
    "vendorId",
    "customerId",
    "createdBy",
    "timezone",
    "startTime",
    "endTime",
    "checkIn",
    "checkOut",
    "quantity",
    "status",
    "version",
    "expiresAt",
    "price",
    "title",
    "seriesId",
    "occurrenceDate",
    "cancellation",
    "createdAt",
    "updatedAt",
)
PUBLIC_PAYMENT_FIELDS = (
    "id",
    "bookingId",
    "bookingReference",
    "resourceId",
    "status",
    "currency",
    "amount",
    "walletAmount",
    "cardAmount",
    "amountRefunded",
    "version",
    "createdAt",
    "updatedAt",
)
PUBLIC_REFUND_FIELDS = (
    "id",
    "paymentId",
    "bookingId",
    "currency",
    "amount",
    "destination",
    "status",
    "version",
    "createdAt",
    "updatedAt",
)
PUBLIC_RESOURCE_FIELDS = ("id", "venueId", "ownerId", "name", "type", "active", "version", "updatedAt")
# A review as the public listing shows it (never the booking or the customer behind it).
PUBLIC_REVIEW_FIELDS = ("id", "resourceId", "venueId", "rating", "title", "comment", "authorName", "reply", "createdAt")


def booking_topic(booking_id: str) -> str:
    return f"booking#{booking_id}"


def resource_topic(resource_id: str) -> str:
    return f"resource#{resource_id}"


def _iso(event: DomainEvent) -> str:
    return event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _pick(data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: data[name] for name in fields if name in data}


def message(
    event: DomainEvent, message_type: str, data: dict[str, Any], message_id: str | None = None
) -> dict[str, Any]:
    return {"type": message_type, "id": message_id or event.id, "occurredAt": _iso(event), "data": data}


def availability_id(event: DomainEvent, resource_id: str) -> str:
    """A stable id for the availability message of an event that does not reveal the booking's id (event ids name
    their aggregate): `availability:<resource id>:<digest of the event id>`."""
    digest = hashlib.sha256(event.id.encode("utf-8")).hexdigest()[:20]
    return f"availability:{resource_id}:{digest}"


@dataclass(frozen=True)
class Audience:
    """Who gets what for one event: users (every connection of theirs) and topics' subscribers, each with its
    message. A connection reached both ways gets the personal message once."""

    personal: dict[str, Any] | None = None
    users: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()  # subscribers of these get `personal`
    availability: dict[str, Any] | None = None
    availability_topics: frozenset[str] = field(default_factory=frozenset)


def _ids(*values: Any) -> frozenset[str]:
    return frozenset(str(value) for value in values if isinstance(value, str) and value)


def availability_message(event: DomainEvent, resource_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceId": resource_id,
        "startTime": event.data.get("startTime"),
        "endTime": event.data.get("endTime"),
    }
    previous = event.previous
    if previous.get("startTime") or previous.get("endTime"):
        data["previousStartTime"] = previous.get("startTime")
        data["previousEndTime"] = previous.get("endTime")
    return message(event, AVAILABILITY_CHANGED, data, availability_id(event, resource_id))


def audience(event: DomainEvent) -> Audience:
    """Who is told of this event, and with which message (an empty Audience: nobody)."""
    data = event.data
    if event.aggregate == "booking":
        resource_id = data.get("resourceId")
        reaches_resource = event.type in AVAILABILITY_EVENTS and isinstance(resource_id, str) and resource_id
        return Audience(
            personal=message(event, event.type, _pick(data, PUBLIC_BOOKING_FIELDS)),
            users=_ids(data.get("customerId"), data.get("createdBy"), data.get("vendorId")),
            topics=frozenset({booking_topic(event.aggregate_id)}),
            availability=availability_message(event, str(resource_id)) if reaches_resource else None,
            availability_topics=frozenset({resource_topic(str(resource_id))}) if reaches_resource else frozenset(),
        )
    if event.aggregate in ("payment", "refund"):
        fields = PUBLIC_PAYMENT_FIELDS if event.aggregate == "payment" else PUBLIC_REFUND_FIELDS
        return Audience(
            personal=message(event, event.type, _pick(data, fields)),
            users=_ids(data.get("customerId"), data.get("createdBy"), data.get("vendorId")),
        )
    if event.aggregate == "resource":
        # A changed or archived resource may have changed what is free (hours, capacity, gone): subscribers look
        # again; no times means "the whole calendar".
        changes_calendar = event.type != "resource.created"
        return Audience(
            personal=message(event, event.type, _pick(data, PUBLIC_RESOURCE_FIELDS)),
            users=_ids(data.get("ownerId")),
            availability=message(
                event, AVAILABILITY_CHANGED, {"resourceId": event.aggregate_id, "startTime": None, "endTime": None}
            )
            if changes_calendar
            else None,
            availability_topics=frozenset({resource_topic(event.aggregate_id)}) if changes_calendar else frozenset(),
        )
    if event.aggregate == "review":
        # The vendor hears of reviews of their resources as they come (and of replies and removals).
        return Audience(
            personal=message(event, event.type, _pick(data, PUBLIC_REVIEW_FIELDS)),
            users=_ids(data.get("vendorId")),
        )
    return Audience()
