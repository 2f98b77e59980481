"""Keep the report aggregates from booking events (the `reports` queue; docs/reports.md).

Each booking event carries the booking as it is after the change (`data`) and its version. The aggregator reads
the contribution it applied last for that booking (`slotwise.reports.store`), and when the event's version is newer
adds the difference to the period items, in one transaction with the new state (conditional on the version read)
and the event's marker (only if new). So:

- a replayed event finds its version applied (or its marker written) and counts nothing;
- an event older than the one applied (out of order) is skipped: the newer version already holds the truth;
- two events of one booking applied at once: one transaction wins, the other re-reads and tries again.

One other event counts: `payment.refund_failed` of a card refund, whose money the payments domain credits to the
wallet instead without rewriting the booking; it adds to the booking's wallet credits once (its marker).
"""

from __future__ import annotations

from datetime import UTC, datetime

from slotwise.booking import store as booking_store
from slotwise.cache import TtlCache
from slotwise.catalog import repository as catalog
from slotwise.events.envelope import DomainEvent
from slotwise.observability import logger
from slotwise.reports import figures, store
from slotwise.transaction import TransactionFailed, backoff

ATTEMPTS = 5
# A resource's booking unit decides how its bookings count; units do not change once a resource sells.
_units: TtlCache[str] = TtlCache(300.0)


def unit_of(resource_id: str) -> str:
    """How the resource's bookings count (its policy's unit), read once and cached."""

    def read() -> str | None:
        resource = catalog.get_resource(resource_id)
        return resource.policy.unit if resource is not None else None

    return _units.get(resource_id, read) or "minutes"


def handle(event: DomainEvent, now: datetime | None = None) -> bool:
    """Apply one event; True when it changed the aggregates (False: not a report's event, stale or replayed)."""
    if event.type == "payment.refund_failed":
        return _card_refund_to_wallet(event, now or datetime.now(UTC))
    if event.aggregate != "booking" or event.qualifier:
        return False
    booking = event.data
    booking_id, resource_id = str(booking["id"]), str(booking["resourceId"])
    new = figures.contribution(booking, unit_of(resource_id))
    for attempt in range(ATTEMPTS):
        applied = store.applied_state(booking_id)
        if applied is not None and applied[0] >= event.aggregate_version:
            return False
        old = applied[1] if applied is not None else figures.empty()
        try:
            store.apply_change(
                booking_id=booking_id,
                resource_id=resource_id,
                event_id=event.id,
                read_version=applied[0] if applied is not None else None,
                version=event.aggregate_version,
                contribution=new,
                units=figures.units_delta(old, new),
                money=figures.money_delta(old, new),
                now=now or datetime.now(UTC),
            )
            return True
        except TransactionFailed as failed:
            if failed.of_kind("report") and any(f.tag.key.startswith("event:") for f in failed.of_kind("report")):
                return False  # this very event was applied already
            logger.info("report state moved meanwhile; reading it again", extra={"bookingId": booking_id})
            backoff(attempt)
    raise RuntimeError(f"could not apply {event.id} after {ATTEMPTS} attempts")


def _card_refund_to_wallet(event: DomainEvent, now: datetime) -> bool:
    """A card refund that failed was credited to the wallet instead (slotwise.payments): the booking's refunds do
    not change, its wallet credits grow by the amount. The booking is not rewritten for it, so this event adds
    it, once (its marker), on the booking's day. A refund of a payment the booking never kept (one that arrived
    after the hold lapsed) belongs to no sale and counts nothing, like that payment."""
    refund = event.data
    if refund.get("destination") != "card" or not refund.get("bookingId"):  # a top-up's refund has no booking
        return False
    found = booking_store.get_booking(str(refund["bookingId"]))
    if found is None or found.payment is None or found.payment.payment_id != refund.get("paymentId"):
        return False
    key = f"{figures.first_day(found.public())}#{found.payment.currency}"
    try:
        store.add_once(
            resource_id=found.resource_id,
            event_id=event.id,
            key=key,
            fields={"walletCredits": int(refund["amount"])},
            now=now,
        )
    except TransactionFailed as failed:
        if failed.of_kind("report"):
            return False  # applied already
        raise
    return True
