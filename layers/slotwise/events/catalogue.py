"""Every domain event type Slotwise publishes: one list for the publisher, the bus rules and webhook subscriptions.

Plain data with no imports, so `slotwise.topology` (read by the CDK app) can use it without loading the domain.
"""

from __future__ import annotations

BOOKING_EVENT_TYPES: tuple[str, ...] = (
    "booking.held",
    "booking.requested",
    "booking.confirmed",
    "booking.cancelled",
    "booking.rescheduled",
    "booking.schedule_changed",
    "booking.expired",
    "booking.rejected",
    "booking.payment_pending",
    "booking.completed",
    "booking.no_show",
    "booking.updated",
    "booking.reminder",
    # Session lifecycle and requests that wait days (issue 15): a session started by its advisor or vendor, and
    # the decider's half-way reminder of a request still waiting for them.
    "booking.started",
    "booking.approval_reminder",
)
RESOURCE_EVENT_TYPES: tuple[str, ...] = ("resource.created", "resource.changed", "resource.archived")
PAYMENT_EVENT_TYPES: tuple[str, ...] = (
    "payment.succeeded",
    "payment.failed",
    "payment.canceled",
    "payment.refunded",
    "payment.refund_failed",
    # authorize_then_capture: the card authorized (the booking confirmed), the authorization captured on
    # completion, or voided (cancelled before the start, or released by the reconciler).
    "payment.authorized",
    "payment.captured",
    "payment.voided",
)
# A review is published, answered by the vendor, or removed by an admin (`slotwise.reviews`).
REVIEW_EVENT_TYPES: tuple[str, ...] = ("review.created", "review.replied", "review.deleted")
EVENT_TYPES: tuple[str, ...] = BOOKING_EVENT_TYPES + RESOURCE_EVENT_TYPES + PAYMENT_EVENT_TYPES + REVIEW_EVENT_TYPES
# Internal events: the platform's own work items on the bus, routed to one consumer and never offered to webhook
# subscribers or live clients. `notice.page`: one page of an admin's notice to every user of a role (the notifier
# delivers it; slotwise.notifications.notices).
NOTICE_PAGE = "notice.page"
INTERNAL_EVENT_TYPES: tuple[str, ...] = (NOTICE_PAGE,)

# Pushed to WebSocket clients (slotwise.live, docs/live.md): every change of a booking's or a payment's state, of a
# resource and of a review (to the resource's vendor). Not `booking.reminder` (a notice, not a change: the
# notifier's).
LIVE_EVENT_TYPES: tuple[str, ...] = tuple(
    name
    for name in (*BOOKING_EVENT_TYPES, *RESOURCE_EVENT_TYPES, *PAYMENT_EVENT_TYPES, *REVIEW_EVENT_TYPES)
    if name != "booking.reminder"
)
