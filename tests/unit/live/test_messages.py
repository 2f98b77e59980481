"""What each sample domain event becomes (slotwise.live.messages): public fields only for the parties, and
availability messages that name no booking, customer, agent or vendor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import events
from slotwise.events.catalogue import EVENT_TYPES, LIVE_EVENT_TYPES
from slotwise.events.envelope import DomainEvent
from slotwise.live import messages

SAMPLES = sorted(p.stem for p in (Path(events.__file__).parent / "domain").glob("*.json"))
PUBLIC = {
    "booking": set(messages.PUBLIC_BOOKING_FIELDS),
    "payment": set(messages.PUBLIC_PAYMENT_FIELDS),
    "refund": set(messages.PUBLIC_REFUND_FIELDS),
    "resource": set(messages.PUBLIC_RESOURCE_FIELDS),
    "review": set(messages.PUBLIC_REVIEW_FIELDS),
}


def test_the_live_events_are_the_catalogues_but_reminders_each_once() -> None:
    assert len(set(LIVE_EVENT_TYPES)) == len(LIVE_EVENT_TYPES)
    assert set(LIVE_EVENT_TYPES) == set(EVENT_TYPES) - {"booking.reminder"}


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_event_reaches_its_parties_with_public_fields_only(name: str) -> None:
    event = DomainEvent.from_bus_event(events.load(f"domain/{name}"))
    audience = messages.audience(event)
    assert audience.personal is not None
    assert audience.personal["type"] == event.type and audience.personal["id"] == event.id
    assert set(audience.personal["data"]) <= PUBLIC[event.aggregate]
    assert audience.users, "someone is told"
    if audience.availability is None:
        assert not audience.availability_topics
        return
    text = json.dumps(audience.availability)
    for private in (event.aggregate_id, *(str(event.data.get(k)) for k in ("customerId", "createdBy", "reference"))):
        if event.aggregate == "booking":
            assert private not in text, private
    assert audience.availability["type"] == "availability.changed"
    assert audience.availability_topics == {messages.resource_topic(audience.availability["data"]["resourceId"])}


def test_only_inventory_changes_tell_resource_watchers() -> None:
    for name in SAMPLES:
        event = DomainEvent.from_bus_event(events.load(f"domain/{name}"))
        told = messages.audience(event).availability is not None
        expected = event.type in messages.AVAILABILITY_EVENTS or event.type in ("resource.changed", "resource.archived")
        assert told == expected, name
