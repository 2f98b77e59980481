"""What Slotwise's AWS resources are, as plain data: one source of truth for the CDK app and the local runtime.

The CDK stacks (`infra/`) and the local provisioner (`infra/local/provision.py`) both read these definitions, so
the key schema, indexes, stream settings, queue names and schedules cannot drift between AWS and a laptop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from slotwise.events.catalogue import BOOKING_EVENT_TYPES, EVENT_TYPES, INTERNAL_EVENT_TYPES, LIVE_EVENT_TYPES

StreamView = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableSpec:
    """The single table. All keys are strings; items are typed by their key prefixes."""

    logical_name: str
    partition_key: str
    sort_key: str
    global_indexes: tuple[Index, ...]
    stream_view: StreamView
    ttl_attribute: str


@dataclass(frozen=True)
class QueueSpec:
    """An SQS queue, its dead-letter queue and the function group that consumes it."""

    name: str
    consumer_group: str
    max_receive_count: int = 5
    batch_size: int = 10
    # Must stay >= 6 x the consumer's timeout (AWS guidance for SQS event sources).
    visibility_timeout_seconds: int = 180
    dlq_retention_days: int = 14

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"


@dataclass(frozen=True)
class EventRuleSpec:
    """An EventBridge rule on the Slotwise bus routing matching events to a queue."""

    name: str
    detail_types: tuple[str, ...]
    target_queue: str
    sources: tuple[str, ...] = ("slotwise",)


@dataclass(frozen=True)
class ScheduleSpec:
    """A recurring job: AWS runs it from EventBridge Scheduler; the local runtime runs it itself."""

    name: str
    group: str
    every_seconds: int
    description: str = ""

    @property
    def rate_expression(self) -> str:
        minutes, seconds = divmod(self.every_seconds, 60)
        if seconds:
            raise ValueError("EventBridge rates are whole minutes")
        return f"rate({minutes} minute{'s' if minutes != 1 else ''})"


@dataclass(frozen=True)
class StreamConsumerSpec:
    """A function reading the table's stream. Lambda retries a failed batch from the failed record, bisecting,
    up to `max_retries` times or `max_record_age_seconds`; then the batch's description goes to the DLQ."""

    consumer_group: str
    batch_size: int = 100
    max_retries: int = 10
    max_record_age_seconds: int = 24 * 3600
    # Only items with these sort keys make domain events (a filter on the event source: others never invoke it).
    sort_keys: tuple[str, ...] = ("BOOKING", "RESOURCE", "PAYMENT", "REFUND", "REVIEW", "NOTICE")

    @property
    def dlq_name(self) -> str:
        return f"{self.consumer_group}-stream-dlq"


@dataclass(frozen=True)
class WebSocketSpec:
    """The WebSocket API (slotwise.live): one function group serves its routes, picked by the message's `action`."""

    name: str
    group: str
    routes: tuple[str, ...] = ("$connect", "$disconnect", "subscribe", "unsubscribe", "$default")
    route_selection_expression: str = "$request.body.action"
    # Routes whose function's answer API Gateway sends back to the client (a route response).
    answered_routes: tuple[str, ...] = ("subscribe", "unsubscribe", "$default")


@dataclass(frozen=True)
class Topology:
    table: TableSpec
    event_bus_name: str
    queues: tuple[QueueSpec, ...] = field(default=())
    rules: tuple[EventRuleSpec, ...] = field(default=())
    schedules: tuple[ScheduleSpec, ...] = field(default=())
    stream_consumers: tuple[StreamConsumerSpec, ...] = field(default=())
    websocket: WebSocketSpec | None = None

    def queue(self, name: str) -> QueueSpec:
        for queue in self.queues:
            if queue.name == name:
                return queue
        raise KeyError(name)


TABLE = TableSpec(
    logical_name="slotwise",
    partition_key="PK",
    sort_key="SK",
    # Overloaded indexes serve every secondary access pattern (single-table design). GSI3 is sparse: only
    # bookings that hold inventory until a deadline carry it, so the hold sweeper reads exactly those. GSI4 is
    # sparse too: only bookings made for someone else (an agent's) carry it, listed by whoever made them.
    # GSI5 holds every booking under its vendor's organisation, so vendors and staff list all of theirs newest
    # first without a scan (ADR 0011). The throttle alarms sum these metrics in expressions of at most 10
    # (CloudWatch's limit): one for the table, one per five indexes (infra/components/ops.py).
    global_indexes=(
        Index(name="GSI1", partition_key="GSI1PK", sort_key="GSI1SK"),
        Index(name="GSI2", partition_key="GSI2PK", sort_key="GSI2SK"),
        Index(name="GSI3", partition_key="GSI3PK", sort_key="GSI3SK"),
        Index(name="GSI4", partition_key="GSI4PK", sort_key="GSI4SK"),
        Index(name="GSI5", partition_key="GSI5PK", sort_key="GSI5SK"),
    ),
    stream_view="NEW_AND_OLD_IMAGES",
    ttl_attribute="ttl",
)

TOPOLOGY = Topology(
    table=TABLE,
    event_bus_name="slotwise",
    queues=(
        # In-app notifications and e-mail (slotwise.notifications): one queue, every booking event and refunds.
        QueueSpec(name="notifications", consumer_group="notifier"),
        # Outbound webhooks (slotwise.webhooks): events to fan out, and the consumer's own attempt messages. A batch
        # is small because each message may be one HTTP attempt of up to 5 s within the consumer's 30 s.
        QueueSpec(name="webhooks", consumer_group="webhooks", batch_size=4),
        # Verified Stripe webhook events (slotwise.payments): the ingress answers Stripe at once and this queue's
        # consumer applies each event exactly once in effect. Stripe events may be retried for days, so a message
        # that keeps failing is kept 14 days in the DLQ for a replay.
        # A batch is small because an event may call Stripe (a refund, a void) within the consumer's 30 s.
        QueueSpec(name="stripe-events", consumer_group="payment_events", max_receive_count=8, batch_size=5),
        # Live push (slotwise.live): each event posted to the WebSocket connections allowed to see it. Pushes are
        # worth little late, so a message that keeps failing goes to the DLQ after 3 receives.
        QueueSpec(name="live", consumer_group="live_push", max_receive_count=3),
        # Report aggregates (slotwise.reports): each booking event's difference added to the period items once.
        QueueSpec(name="reports", consumer_group="report_aggregates"),
    ),
    # The transactional outbox: every committed booking/resource change is one stream record, one domain event.
    stream_consumers=(StreamConsumerSpec(consumer_group="publisher"),),
    rules=(
        EventRuleSpec(
            name="booking-events-to-notifications",
            # Every booking event, and the refund events the customer is told of (slotwise.notifications.service).
            # And the pages of an admin's notice to a role (internal: slotwise.notifications.notices).
            detail_types=(*BOOKING_EVENT_TYPES, "payment.refunded", "payment.refund_failed", *INTERNAL_EVENT_TYPES),
            target_queue="notifications",
        ),
        EventRuleSpec(
            name="events-to-webhooks",
            detail_types=EVENT_TYPES,
            target_queue="webhooks",
        ),
        EventRuleSpec(name="events-to-live", detail_types=LIVE_EVENT_TYPES, target_queue="live"),
        EventRuleSpec(
            name="booking-events-to-reports",
            # Every change of a booking (a reminder changes nothing the reports count), and a card refund that went
            # to the wallet instead (its booking is not rewritten for it).
            detail_types=(
                *(name for name in BOOKING_EVENT_TYPES if name != "booking.reminder"),
                "payment.refund_failed",
            ),
            target_queue="reports",
        ),
    ),
    websocket=WebSocketSpec(name="live", group="live"),
    schedules=(
        ScheduleSpec(
            name="hold-expiry",
            group="hold_expiry",
            every_seconds=60,
            description="Release lapsed holds that no new claim has reclaimed (claims evict them on their own).",
        ),
        ScheduleSpec(
            name="booking-timers",
            group="timers",
            every_seconds=60,
            description="Send due booking reminders and mark finished bookings completed.",
        ),
        ScheduleSpec(
            name="payments-reconcile",
            group="payment_jobs",
            every_seconds=60,
            description="Retry provider refunds not yet accepted; release wallet money of bookings that ended unpaid.",
        ),
    ),
)
