"""Which domain event a committed change is, read from the change itself: the DynamoDB stream record of the item.

Every booking change writes the booking item exactly once, with its version raised by one, in the transaction
that makes the change (creation, confirmation, cancellation, reschedule, expiry by the sweeper or by a claim that
evicts a lapsed hold, details). So the stream carries exactly one record per committed change, and the event is
derived from that record's old and new images — there is no second write that could be lost, and no outbox item
to clean up. The same holds for resources (catalog writes put the item with a new version).

  booking INSERT                       booking.held | booking.requested | booking.confirmed   (by status)
  booking MODIFY, status changed       booking.<new status>  (confirmed, cancelled, expired, rejected, completed,
                                       no_show), booking.started (in_progress)
  booking MODIFY, same version,        booking.approval_reminder (the decider reminded half-way through a request's
    approvalReminded set               wait)
  booking MODIFY, times changed        booking.rescheduled   (metadata.previous: the old startTime/endTime), or
                                       booking.schedule_changed when the operator moved the window
  booking MODIFY, anything else        booking.updated
  booking MODIFY, same version,        booking.reminder      (the timers job marked a reminder sent; the event id
    new lastReminder                                         ends in `:reminder-<minutes>`)
  resource INSERT / MODIFY             resource.created / resource.archived (active -> false) / resource.changed
  payment INSERT / MODIFY, status      payment.succeeded | payment.failed | payment.canceled (a voided payment);
    changed to one of those            a payment refunded because it could not confirm its booking is
                                       payment.succeeded then, by its refund, payment.refunded;
                                       payment.authorized (a card authorized), then payment.captured or
                                       payment.voided (authorize_then_capture)
  refund INSERT / MODIFY, status       payment.refunded (the money is back: a wallet refund at once, a card refund
    changed to succeeded / failed      when the provider says so) | payment.refund_failed
  review INSERT / MODIFY               review.created / review.deleted (removed by an admin) / review.replied
                                       (`data`: the review as the API shows it, with its `vendorId`)
  notice INSERT / MODIFY, new version, notice.page (internal: one page of an admin's notice to a role, for the
    still sending                      notifier only; slotwise.notifications.notices)

Other records whose version did not move (timer bookkeeping, index-only rewrites) and REMOVE records are not
domain events.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from slotwise.booking.models import Booking, SentReminder
from slotwise.catalog.models import Resource
from slotwise.data.codec import from_item
from slotwise.events.catalogue import NOTICE_PAGE
from slotwise.events.envelope import DomainEvent
from slotwise.reviews.models import Review

_CREATED_AS = {"held": "booking.held", "awaiting_approval": "booking.requested", "confirmed": "booking.confirmed"}


def _typed(value: Any) -> Any:
    """An attribute value as DynamoDB writes it. DynamoDB Local's stream images show an empty map as `{}` instead
    of `{"M": {}}` (measured with 3.3.0); read both."""
    if value == {}:
        return {"M": {}}
    if isinstance(value, dict) and "M" in value:
        return {"M": {k: _typed(v) for k, v in value["M"].items()}}
    if isinstance(value, dict) and "L" in value:
        return {"L": [_typed(v) for v in value["L"]]}
    return value


def _image(record: dict[str, Any], name: str) -> dict[str, Any] | None:
    image = (record.get("dynamodb") or {}).get(name)
    return from_item({k: _typed(v) for k, v in image.items()}) if image else None


# A status whose event is named for the change rather than the state.
_BECAME = {"in_progress": "booking.started"}


def _booking_type(old: Booking | None, new: Booking) -> str:
    if old is None:
        return _CREATED_AS.get(new.status, f"booking.{new.status}")
    if new.status != old.status:
        return _BECAME.get(new.status, f"booking.{new.status}")
    if (new.start_time, new.end_time) != (old.start_time, old.end_time):
        moved_by_operator = bool(new.history) and new.history[-1].action == "schedule_changed"
        return "booking.schedule_changed" if moved_by_operator else "booking.rescheduled"
    return "booking.updated"


def _reminder_event(new: Booking, sent: SentReminder) -> DomainEvent:
    minutes = sent.minutes
    return DomainEvent(
        type="booking.reminder",
        aggregate="booking",
        aggregate_id=new.id,
        aggregate_version=new.version,
        occurred_at=sent.at,
        data=new.public(),
        qualifier=f"reminder-{minutes}",
        previous={"reminderMinutes": minutes},
    )


def _booking_event(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> DomainEvent | None:
    new = Booking.model_validate(new_image)
    old = Booking.model_validate(old_image) if old_image else None
    if old is not None and old.version == new.version:
        # Timer bookkeeping rewrites the item without a new version; a newly sent reminder is an event.
        if new.last_reminder is not None and new.last_reminder != old.last_reminder:
            return _reminder_event(new, new.last_reminder)
        if new.approval_reminded and not old.approval_reminded:
            return DomainEvent(
                type="booking.approval_reminder",
                aggregate="booking",
                aggregate_id=new.id,
                aggregate_version=new.version,
                occurred_at=new.approval_reminder_at or new.updated_at,
                data=new.public(),
                qualifier="approval-reminder",
            )
        return None
    kind = _booking_type(old, new)
    previous: dict[str, Any] = {}
    if old is not None:
        previous["status"] = old.status
        if kind in ("booking.rescheduled", "booking.schedule_changed"):
            old_public = old.public()
            previous.update(startTime=old_public["startTime"], endTime=old_public["endTime"])
    return DomainEvent(
        type=kind,
        aggregate="booking",
        aggregate_id=new.id,
        aggregate_version=new.version,
        occurred_at=new.updated_at,
        data=new.public(),
        correlation_id=new_image.get("requestId"),
        previous=previous,
    )


def _resource_event(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> DomainEvent | None:
    new = Resource.model_validate(new_image)
    if old_image is not None and old_image.get("version") == new.version:
        return None
    if old_image is None:
        kind = "resource.created"
    elif old_image.get("active", True) and not new.active:
        kind = "resource.archived"
    else:
        kind = "resource.changed"
    return DomainEvent(
        type=kind,
        aggregate="resource",
        aggregate_id=new.id,
        aggregate_version=new.version,
        occurred_at=new.updated_at,
        data=new.model_dump(mode="json", by_alias=True),
        correlation_id=new_image.get("requestId"),
    )


_PAYMENT_TYPES = {
    "succeeded": "payment.succeeded",
    "failed": "payment.failed",
    "canceled": "payment.canceled",
    "refunded_unconfirmed": "payment.succeeded",
    "authorized": "payment.authorized",
}
# An authorization's end (authorize_then_capture) is named for what happened to it.
_AUTHORIZATION_ENDS = {"payment.succeeded": "payment.captured", "payment.canceled": "payment.voided"}
_REFUND_TYPES = {"succeeded": "payment.refunded", "failed": "payment.refund_failed"}


def _status_event(
    aggregate: str, types: dict[str, str], old_image: dict[str, Any] | None, new_image: dict[str, Any]
) -> DomainEvent | None:
    """A payment or refund reaching a status that is an event (each status once: its version moved with it)."""
    status = str(new_image.get("status"))
    if old_image is not None and (
        old_image.get("version") == new_image.get("version") or old_image.get("status") == status
    ):
        return None
    kind = types.get(status)
    if kind is None or (old_image is not None and types.get(str(old_image.get("status"))) == kind):
        return None
    data = {k: v for k, v in new_image.items() if k not in ("PK", "SK", "type", "events") and not k.startswith("GSI")}
    return DomainEvent(
        type=kind,
        aggregate=aggregate,
        aggregate_id=str(new_image["id"]),
        aggregate_version=int(new_image["version"]),
        occurred_at=datetime.fromisoformat(str(new_image["updatedAt"])),
        data=data,
        previous={"status": old_image.get("status")} if old_image else {},
    )


def _payment_event(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> DomainEvent | None:
    event = _status_event("payment", _PAYMENT_TYPES, old_image, new_image)
    if event is not None and old_image is not None and old_image.get("status") in ("authorized", "capturing"):
        return replace(event, type=_AUTHORIZATION_ENDS.get(event.type, event.type))
    return event


def _refund_event(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> DomainEvent | None:
    return _status_event("refund", _REFUND_TYPES, old_image, new_image)


def _review_event(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> DomainEvent | None:
    new = Review.model_validate(new_image)
    old = Review.model_validate(old_image) if old_image else None
    if old is not None and old.version == new.version:
        return None
    if old is None:
        kind = "review.created"
    elif new.status == "removed" and old.status != "removed":
        kind = "review.deleted"
    elif new.reply is not None and old.reply is None:
        kind = "review.replied"
    else:
        return None
    return DomainEvent(
        type=kind,
        aggregate="review",
        aggregate_id=new.id,
        aggregate_version=new.version,
        occurred_at=new.updated_at,
        data=new.public(),
        correlation_id=new.request_id,
        previous={"status": old.status} if old is not None else {},
    )


def _notice_event(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> DomainEvent | None:
    """Read from the plain image (`slotwise.notifications.models.Notice` is its shape; the events package sits
    below notifications and does not import it)."""
    version = int(new_image.get("version") or 0)
    if new_image.get("status") != "sending" or (old_image is not None and old_image.get("version") == version):
        return None
    return DomainEvent(
        type=NOTICE_PAGE,
        aggregate="notice",
        aggregate_id=str(new_image["id"]),
        aggregate_version=version,
        occurred_at=datetime.fromisoformat(str(new_image["updatedAt"]).replace("Z", "+00:00")),
        data={k: v for k, v in new_image.items() if k not in ("PK", "SK", "type")},
    )


# Aggregates by their item's sort key (an item's `type` attribute is not enough: a resource's own field `type`,
# its kind such as `meeting_room`, is stored under the same name).
_AGGREGATES = {
    "BOOKING": _booking_event,
    "RESOURCE": _resource_event,
    "PAYMENT": _payment_event,
    "REFUND": _refund_event,
    "REVIEW": _review_event,
    "NOTICE": _notice_event,
}


def event_of(record: dict[str, Any]) -> DomainEvent | None:
    """The domain event a stream record is, or None when it is not one."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    new_image = _image(record, "NewImage")
    if not new_image:
        return None
    derive = _AGGREGATES.get(str(new_image.get("SK", "")))
    if derive is None:
        return None
    return derive(_image(record, "OldImage"), new_image)
