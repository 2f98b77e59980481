"""The catalogue a subscription may name, the bus rule that feeds the webhook queue, and the events the publisher
derives must stay one list."""

from __future__ import annotations

from slotwise.events.catalogue import EVENT_TYPES
from slotwise.topology import TOPOLOGY
from slotwise.webhooks import catalogue, queue, sender


def test_the_rule_routes_every_event_type_to_the_webhook_queue() -> None:
    (rule,) = [r for r in TOPOLOGY.rules if r.target_queue == queue.QUEUE_NAME]
    assert set(rule.detail_types) == set(EVENT_TYPES)
    assert rule.sources == ("slotwise",)
    spec = TOPOLOGY.queue(queue.QUEUE_NAME)
    assert spec.consumer_group == "webhooks"
    # Each message may be one HTTP attempt (5 s timeout): a batch fits the consumer's 30 s with room to spare
    # (an attempt that could overrun is handed back to SQS by the handler's time check).
    assert spec.batch_size * sender.TIMEOUT_SECONDS <= 20


def test_every_event_the_publisher_can_derive_is_in_the_catalogue() -> None:
    """The publisher names a status change `booking.<new status>`: every reachable status must be catalogued."""
    from slotwise.booking.models import TRANSITIONS
    from slotwise.events import changes

    reachable = {
        changes._BECAME.get(status, f"booking.{status}") for targets in TRANSITIONS.values() for status in targets
    }
    created = set(changes._CREATED_AS.values())
    derived = reachable | created | {"booking.rescheduled", "booking.updated", "booking.reminder"}
    derived |= {"booking.approval_reminder", "payment.authorized", "payment.captured", "payment.voided"}
    assert derived <= set(EVENT_TYPES), "add the new types to slotwise.events.catalogue"


def test_owners_are_read_from_the_aggregates_owner_field() -> None:
    assert catalogue.event_owner("booking", {"vendorId": "v-1", "ownerId": "x"}) == "v-1"
    assert catalogue.event_owner("resource", {"vendorId": "x", "ownerId": "v-2"}) == "v-2"
    assert catalogue.event_owner("payment", {"vendorId": "v-3"}) == "v-3"
    assert catalogue.event_owner("booking", {}) is None
    assert catalogue.event_owner("booking", {"vendorId": ""}) is None
    assert catalogue.event_owner("booking", {"vendorId": 7}) is None
