"""The catalogue a subscription may name, the bus rule that feeds the webhook queue, and the events the publisher
derives must stay one list."""

from __future__ import annotations

from slotwise.topology import TOPOLOGY
from slotwise.webhooks import catalogue, queue, sender


def test_the_rule_routes_exactly_the_catalogue_to_the_webhook_queue() -> None:
    (rule,) = [r for r in TOPOLOGY.rules if r.target_queue == queue.QUEUE_NAME]
    assert rule.detail_types == catalogue.EVENT_TYPES
    assert rule.sources == ("slotwise",)
    spec = TOPOLOGY.queue(queue.QUEUE_NAME)
    assert spec.consumer_group == "webhooks"
    # Each message may be one HTTP attempt (5 s timeout): a batch fits the consumer's 30 s with room to spare
    # (an attempt that could overrun is handed back to SQS by the handler's time check).
    assert spec.batch_size * sender.TIMEOUT_SECONDS <= 20


def test_every_event_the_publisher_derives_can_be_subscribed_to() -> None:
    from slotwise.events import changes

    derived = set(changes.BOOKING_EVENT_TYPES) | set(changes.RESOURCE_EVENT_TYPES)
    assert derived <= set(catalogue.EVENT_TYPES), "add the new types to the catalogue and the webhooks rule"


def test_owners_are_read_from_the_aggregates_owner_field() -> None:
    assert catalogue.event_owner("booking", {"vendorId": "v-1", "ownerId": "x"}) == "v-1"
    assert catalogue.event_owner("resource", {"vendorId": "x", "ownerId": "v-2"}) == "v-2"
    assert catalogue.event_owner("payment", {"vendorId": "v-3"}) == "v-3"
    assert catalogue.event_owner("booking", {}) is None
    assert catalogue.event_owner("booking", {"vendorId": ""}) is None
    assert catalogue.event_owner("booking", {"vendorId": 7}) is None
