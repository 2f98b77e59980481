"""The notifier (booking and refund events in, in-app notifications and e-mail out) and the caller's own notifications.

**Who is told.** The booking's customer, of every booking event, and the refund's customer of a refund that
completed (`payment.refunded`) or of a card refund that failed (`payment.refund_failed`: the processor credited
the wallet instead). A refund event carries the Refund, which names its booking but not the booking's reference,
resource or time zone: those are read from the booking itself. The vendor (`vendorId`) and, when the resource
names one (`attributes.advisorUserId`), the advisor are told of a request that waits for their approval
(`booking.requested`) and of cancellations, unless they cancelled it themselves; the advisor alone is told when a
session of theirs is paid (`booking.confirmed` from `held` or `payment_pending`). Messages about a booking and an
admin's notices are written elsewhere (`slotwise.messages`, `slotwise.notifications.notices`). Each recipient's
language and address come from their profile; a user with no profile gets the in-app notification only.

**What they get.** An in-app notification for every event, and an e-mail for confirmation, change (reschedule or
details), cancellation, expiry, rejection, reminder, approval request and completed refund; the customer's e-mails
about a booking's time carry an `.ics` (REQUEST, or CANCEL when the booking is gone; slotwise.notifications.ics).

**Exactly once in effect, per event and recipient.** SQS delivers at least once, and EventBridge may too. The
notification's key is derived from the event and the recipient (`models.notification_id`: the event's id, type and
reminder tag, hashed with the user id, behind the event's occurred-at), and it is created with
`attribute_not_exists` together with its unread count in one transaction (slotwise.notifications.store). A
redelivery, or a concurrent duplicate, finds the key taken: no second notification, no second count.

The e-mail cannot be in that transaction (SES is not DynamoDB), so its state is a field of the same item, and the
choice is **at least once for e-mail, exactly once for the in-app notification**:

  1. claim: `emailStatus` pending|failed -> `sending`, conditionally (or take over a `sending` whose lease of
     `EMAIL_LEASE_SECONDS` lapsed: its delivery crashed); the first delivery creates the notification already
     claimed, inside its create transaction, so only a redelivery pays a claim of its own;
  2. send through SES;
  3. mark `sent` (on an SES error: `failed`, and the record fails, so SQS retries it and the retry claims again).

Duplicates that arrive while one delivery holds a fresh claim do nothing, and once `sent` nothing sends again. The
only double send is a crash (or timeout) between SES accepting the message and step 3: the retry finds a lapsed
claim and sends again. The alternative, marking `sent` before sending, turns that crash into an e-mail never sent,
and for a booking confirmation or a cancellation a lost message is worse than a duplicate one; a duplicate
`.ics` is harmless besides, since its UID and SEQUENCE make calendars apply it once. The lease (120 s) is longer
than the consumer's timeout (30 s), so a live delivery is never taken over, and shorter than the queue's
visibility timeout (180 s), so the crashed delivery's retry finds the claim lapsed.

**Attendees.** A booking's `attendees` are e-mail addresses, not users: unless the change that made the event said
`notifyAttendees=false` (stored on the booking, so the event carries it), each gets an e-mail with the `.ics` (the
booking's UID, the attendee listed) when the booking is confirmed (REQUEST) and when a confirmed booking is cancelled
(CANCEL, with the higher SEQUENCE of the cancelled version). They have no profile and no in-app notification, hence
no claim: their e-mail is at least once per delivery of the event (a redelivery sends again; calendars apply a
repeated UID and SEQUENCE once).

Longer than 400 lines because the notifier's recipients (customer, providers, attendees) share one delivery path
and its failure rule (every recipient is tried, then the record fails); the API half below is small.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.booking import store as bookings
from slotwise.catalog.models import NEEDS_DECISION
from slotwise.catalog.repository import get_resource
from slotwise.data.codec import from_item
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.events.catalogue import NOTICE_PAGE
from slotwise.events.envelope import DomainEvent
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.identity.repository import get_user
from slotwise.notifications import ics, mail, notices, pdf, store
from slotwise.notifications.models import Notification, notification_id
from slotwise.notifications.templates import Kind, MessageFacts, Rendered, render
from slotwise.observability import logger, metrics
from slotwise.settings import get_settings

EMAIL_LEASE_SECONDS = 120
Now = Callable[[], datetime]


@dataclass(frozen=True)
class Plan:
    """What one recipient gets for one event."""

    kind: Kind
    email: bool
    calendar: ics.Method | None = None


# The customer's message per event type.
CUSTOMER_PLANS: dict[str, Plan] = {
    "booking.held": Plan("held", email=False),
    "booking.requested": Plan("requested", email=False),
    "booking.confirmed": Plan("confirmed", email=True, calendar="REQUEST"),
    "booking.rescheduled": Plan("rescheduled", email=True, calendar="REQUEST"),
    "booking.schedule_changed": Plan("schedule_changed", email=True, calendar="REQUEST"),
    "booking.updated": Plan("updated", email=True, calendar="REQUEST"),
    "booking.cancelled": Plan("cancelled", email=True, calendar="CANCEL"),
    "booking.expired": Plan("expired", email=True, calendar="CANCEL"),
    "booking.rejected": Plan("rejected", email=True, calendar="CANCEL"),
    "booking.completed": Plan("completed", email=False),
    "booking.no_show": Plan("no_show", email=False),
    "booking.reminder": Plan("reminder", email=True, calendar="REQUEST"),
    "booking.payment_pending": Plan("payment_pending", email=False),
    "booking.started": Plan("started", email=False),
    # Money back is worth an e-mail; a failed card refund lost the customer nothing (the wallet got the amount),
    # so an in-app notice is enough.
    "payment.refunded": Plan("refunded", email=True),
    "payment.refund_failed": Plan("refund_failed", email=False),
}
# What the operator changes is told to the agent who made the booking too (they answer to the customer).
AGENT_EVENT_TYPES: frozenset[str] = frozenset({"booking.schedule_changed"})
# Events of the "refund" aggregate the notifier reads (the others are booking events).
REFUND_EVENT_TYPES: tuple[str, ...] = ("payment.refunded", "payment.refund_failed")
# What attendees get (the customer's message and calendar, without a profile: English, no name).
ATTENDEE_PLANS: dict[str, Plan] = {
    "booking.confirmed": Plan("confirmed", email=True, calendar="REQUEST"),
    "booking.cancelled": Plan("cancelled", email=True, calendar="CANCEL"),
}
# Only a booking the attendees were invited to is cancelled in their calendars.
_INVITED_STATUSES = frozenset({"confirmed"})
# The vendor's and the advisor's (no calendar: the event is in their schedule, not their calendar).
PROVIDER_PLANS: dict[str, Plan] = {
    "booking.requested": Plan("approval_request", email=True),
    "booking.cancelled": Plan("cancelled", email=True),
    # issue 15: a request still waiting half-way through its wait, and a request or accepted hold that lapsed.
    "booking.approval_reminder": Plan("approval_reminder", email=True),
    "booking.expired": Plan("lapsed", email=False),
}

# The advisor's alone: a session they are the resource of was paid (confirmed from a hold awaiting payment). Not the
# vendor's: a venue's every paid booking would be noise there, and the vendor has the payments listing.
ADVISOR_PLANS: dict[str, Plan] = {"booking.confirmed": Plan("payment_received", email=True)}
_PAID_FROM = frozenset({"held", "payment_pending"})


class MalformedEvent(ValueError):
    """An event whose data, or the booking it names, lacks what a notification needs (dropped, never retried)."""


@dataclass(frozen=True)
class Recipient:
    user_id: str
    plan: Plan


@dataclass(frozen=True)
class BookingFacts:
    id: str
    reference: str
    customer_id: str
    vendor_id: str | None
    resource_id: str | None
    resource_name: str
    timezone: str
    start: datetime
    end: datetime
    status: str
    version: int
    title: str
    cancelled_by: str | None
    reason: str
    # Who made the booking when it is not the customer's own (an agent's): told of what the operator changes.
    created_by: str | None = None
    change_note: str = ""


@dataclass(frozen=True)
class RefundMoney:
    amount: int  # minor units
    currency: str
    destination: Literal["card", "wallet"]


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def booking_facts(event: DomainEvent) -> BookingFacts:
    return _facts_of_booking(event.data, event, default_version=event.aggregate_version)


def _facts_of_booking(data: dict[str, Any], event: DomainEvent, *, default_version: int) -> BookingFacts:
    try:
        cancellation = data.get("cancellation") or {}
        return BookingFacts(
            id=str(data["id"]),
            reference=str(data.get("reference") or data["id"]),
            customer_id=str(data["customerId"]),
            vendor_id=str(data["vendorId"]) if data.get("vendorId") else None,
            resource_id=str(data["resourceId"]) if data.get("resourceId") else None,
            resource_name=str(data.get("resourceName") or ""),
            timezone=str(data.get("timezone") or "UTC"),
            start=_time(data["startTime"]),
            end=_time(data["endTime"]),
            status=str(data.get("status") or ""),
            version=int(data.get("version") or default_version),
            title=str(data.get("title") or ""),
            cancelled_by=cancellation.get("by"),
            reason=str(cancellation.get("reason") or ""),
            created_by=str(data["createdBy"]) if data.get("createdBy") else None,
            change_note=str((data.get("history") or [{}])[-1].get("note") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedEvent(f"{event.type} {event.id}: {exc!r}") from exc


def refund_facts(event: DomainEvent) -> tuple[BookingFacts, RefundMoney]:
    """The refunded booking's facts (read from the table: a refund does not carry them) and the refund's money."""
    data = event.data
    try:
        destination = data["destination"]
        if destination not in ("card", "wallet"):
            raise ValueError(f"destination {destination!r}")
        money = RefundMoney(amount=int(data["amount"]), currency=str(data["currency"]), destination=destination)
        booking_id, customer_id = str(data["bookingId"]), str(data["customerId"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedEvent(f"{event.type} {event.id}: {exc!r}") from exc
    booking = bookings.get_booking(booking_id)
    if booking is None:  # a refund is written after its booking and bookings are never deleted: never coming
        raise MalformedEvent(f"{event.type} {event.id}: booking {booking_id} not found")
    facts = _facts_of_booking(booking.model_dump(mode="json", by_alias=True), event, default_version=booking.version)
    # The money went to the refund's customer (the payer's wallet or card): they are the one told.
    return replace(facts, customer_id=customer_id), money


def delivery_key(event: DomainEvent) -> str:
    """What makes a delivery distinct: the event (a reminder's id carries its own `:reminder-<minutes>`)."""
    return f"{event.type}|{event.id}"


# Reminder lengths the templates name; any other says "soon".
_REMINDER_TAGS = {1440: "24h", 60: "1h"}


def _advisor_of(resource_id: str | None) -> str | None:
    if not resource_id:
        return None
    resource = get_resource(resource_id)
    advisor = resource.attributes.get("advisorUserId") if resource is not None else None
    return advisor if isinstance(advisor, str) and advisor else None


def recipients(event: DomainEvent, facts: BookingFacts) -> list[Recipient]:
    found: dict[str, Recipient] = {}
    customer_plan = CUSTOMER_PLANS.get(event.type)
    if customer_plan is not None:
        found[facts.customer_id] = Recipient(facts.customer_id, customer_plan)
    agent = facts.created_by
    if event.type in AGENT_EVENT_TYPES and customer_plan is not None and agent and agent not in found:
        found[agent] = Recipient(agent, customer_plan)
    provider_plan = PROVIDER_PLANS.get(event.type)
    if event.type == "booking.expired" and event.data.get("confirmation") not in NEEDS_DECISION:
        provider_plan = None  # a lapsed payment hold is the customer's business; a lapsed request is theirs too
    if provider_plan is not None:
        for provider in (facts.vendor_id, _advisor_of(facts.resource_id)):
            if provider and provider not in found and provider != facts.cancelled_by:
                found[provider] = Recipient(provider, provider_plan)
    advisor_plan = ADVISOR_PLANS.get(event.type)
    if advisor_plan is not None and event.previous.get("status") in _PAID_FROM:
        advisor = _advisor_of(facts.resource_id)
        if advisor and advisor not in found:
            found[advisor] = Recipient(advisor, advisor_plan)
    return list(found.values())


def _message_facts(event: DomainEvent, facts: BookingFacts, money: RefundMoney | None) -> MessageFacts:
    previous = event.previous
    moved = (
        event.type in ("booking.rescheduled", "booking.schedule_changed")
        and previous.get("startTime")
        and previous.get("endTime")
    )
    reminder = _REMINDER_TAGS.get(int(previous.get("reminderMinutes") or 0))
    return MessageFacts(
        reference=facts.reference,
        resource=facts.resource_name or facts.reference,
        timezone=facts.timezone,
        start=facts.start,
        end=facts.end,
        title=facts.title,
        previous_start=_time(previous["startTime"]) if moved else None,
        previous_end=_time(previous["endTime"]) if moved else None,
        reason=_reason_of(event, facts),
        reminder=reminder,
        amount=money.amount if money else None,
        currency=money.currency if money else "",
        refund_to=money.destination if money else None,
    )


def _reason_of(event: DomainEvent, facts: BookingFacts) -> str:
    if event.type in ("booking.cancelled", "booking.rejected"):
        return facts.reason
    return facts.change_note if event.type == "booking.schedule_changed" else ""


def calendar_for(
    facts: BookingFacts, rendered: Rendered, method: ics.Method, *, attendee: str | None, stamp: datetime
) -> str:
    return ics.render(
        ics.CalendarEvent(
            booking_id=facts.id,
            sequence=facts.version,
            start=facts.start,
            end=facts.end,
            summary=facts.title or facts.resource_name or facts.reference,
            location=facts.resource_name,
            description=rendered.body,
            organizer=get_settings().email_from,
            attendee=attendee,
            booking_status=facts.status,
            stamp=stamp,
        ),
        method,
    )


def handle(event: DomainEvent, *, now: Now | None = None) -> int:
    """Notify everyone this event concerns; returns how many new in-app notifications it made. Raises when a
    recipient's delivery failed (after trying every recipient), so the SQS record is retried."""
    clock = now or (lambda: datetime.now(UTC))
    if event.type == NOTICE_PAGE:
        return notices.deliver_page(event, now=clock())
    money: RefundMoney | None = None
    try:
        if event.aggregate == "booking" and event.type.startswith("booking."):
            facts = booking_facts(event)
        elif event.aggregate == "refund" and event.type in REFUND_EVENT_TYPES:
            facts, money = refund_facts(event)
        else:
            logger.info("event not notified", extra={"eventType": event.type, "eventId": event.id})
            return 0
    except MalformedEvent as exc:
        logger.warning("event without what a notification needs: dropped", extra={"error": str(exc)})
        return 0
    created = 0
    failure: Exception | None = None
    for recipient in recipients(event, facts):
        try:
            created += _deliver(event, facts, money, recipient, clock)
        except Exception as exc:  # one recipient's failure must not keep the others waiting
            logger.exception("notification failed", extra={"eventId": event.id, "recipient": recipient.user_id})
            failure = failure or exc
    if money is None:
        try:
            _notify_attendees(event, facts, clock)
        except Exception as exc:
            logger.exception("attendee e-mail failed", extra={"eventId": event.id})
            failure = failure or exc
    if failure is not None:
        raise failure
    return created


def attendee_addresses(event: DomainEvent) -> list[str]:
    """Who among the booking's attendees this event e-mails (none when the change said notifyAttendees=false)."""
    data = event.data
    if event.type not in ATTENDEE_PLANS or data.get("notifyAttendees") is False:
        return []
    if event.type == "booking.cancelled" and event.previous.get("status", "confirmed") not in _INVITED_STATUSES:
        return []
    raw = data.get("attendees") or []
    found = {str(a).strip().lower() for a in raw if isinstance(a, str)}
    # Stored before addresses were validated, or tampered with: only what looks like an address is mailed.
    return sorted(a for a in found if "@" in a and not any(c.isspace() for c in a) and len(a) <= 254)


def _notify_attendees(event: DomainEvent, facts: BookingFacts, clock: Now) -> int:
    plan = ATTENDEE_PLANS.get(event.type)
    addresses = attendee_addresses(event)
    if plan is None or plan.calendar is None or not addresses:
        return 0
    rendered = render(plan.kind, _message_facts(event, facts, None), locale=None, name=None)
    for address in addresses:
        calendar = calendar_for(facts, rendered, plan.calendar, attendee=address, stamp=clock())
        message = mail.build_message(
            to_address=address, to_name=None, rendered=rendered, calendar=calendar, method=plan.calendar
        )
        mail.send(message)
        metrics.add_metric(name="AttendeeEmailsSent", unit=MetricUnit.Count, value=1)
    return len(addresses)


def _deliver(
    event: DomainEvent, facts: BookingFacts, money: RefundMoney | None, recipient: Recipient, clock: Now
) -> int:
    user = get_user(recipient.user_id)
    rendered = render(
        recipient.plan.kind,
        _message_facts(event, facts, money),
        locale=user.locale if user else None,
        name=user.name if user else None,
    )
    notification = Notification(
        id=notification_id(event.occurred_at, delivery_key(event), recipient.user_id),
        user_id=recipient.user_id,
        event_id=event.id,
        event_type=event.type,
        booking_id=facts.id,
        booking_reference=facts.reference,
        title=rendered.title,
        body=rendered.body,
        locale=rendered.locale,
        created_at=event.occurred_at,
    )
    wants_email = recipient.plan.email and user is not None and bool(user.email)
    now = clock()
    # A new notification is created with its e-mail claimed (one transaction); a redelivery claims as before.
    created = store.create(notification, email_pending=wants_email, claimed_at=now)
    if created:
        metrics.add_metric(name="NotificationsCreated", unit=MetricUnit.Count, value=1)
    else:
        logger.info("notification exists: redelivery", extra={"notificationId": notification.id})
    if not wants_email or user is None:
        return int(created)
    if not created and not store.claim_email(user.id, notification.id, now=now, lease_seconds=EMAIL_LEASE_SECONDS):
        return int(created)  # sent already, or another delivery is sending it right now
    method = recipient.plan.calendar
    calendar = calendar_for(facts, rendered, method, attendee=user.email, stamp=now) if method else None
    message = mail.build_message(
        to_address=user.email,
        to_name=user.name,
        rendered=rendered,
        calendar=calendar,
        method=method,
        pdf=confirmation_pdf(facts) if recipient.plan.kind == "confirmed" else None,
    )
    try:
        message_id = mail.send(message)
    except Exception as exc:
        store.email_failed(user.id, notification.id, error=f"{type(exc).__name__}: {exc}")
        raise
    store.email_sent(user.id, notification.id, message_id=message_id, now=clock())
    metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=1)
    return int(created)


def confirmation_pdf(facts: BookingFacts) -> mail.PdfAttachment | None:
    """The customer's confirmation e-mail carries the booking's PDF (attendees get the .ics alone: the PDF shows
    payments). The booking as it is now: the event may be a little older, the PDF says what holds."""
    booking = bookings.get_booking(facts.id)
    if booking is None:
        return None
    return mail.PdfAttachment(pdf.filename(booking), pdf.of_booking(booking))


# --- the caller's own notifications (API) ----------------------------------------------------------------------


def _user(caller: Caller, action: permissions.Action) -> str:
    permissions.require(caller, action)
    if caller.user_id is None:  # require() refuses anonymous callers of these actions; this is for the type checker
        raise errors.AuthenticationRequired("Sign in to read your notifications.")
    return caller.user_id


def _not_found(notification_id: str) -> errors.NotFound:
    return errors.NotFound(f"No notification {notification_id}.", code="notification_not_found")


def list_notifications(
    caller: Caller, *, unread_only: bool, limit: int, cursor: str | None
) -> tuple[list[Notification], str | None]:
    user = _user(caller, "notification.read")
    scope = f"notifications:{user}"
    start = decode_cursor(cursor, scope=scope)
    if start is not None:
        plain = from_item(start)
        # A cursor names a key: it must be one of this caller's, never a way into someone else's partition.
        if set(plain) != {"PK", "SK"} or plain["PK"] != store.partition(user):
            raise errors.ValidationFailed("cursor belongs to another listing", code="invalid_cursor")
    found, last = store.list_page(user, unread_only=unread_only, limit=limit, start_key=start)
    return found, encode_cursor(last, scope=scope)


def unread_count(caller: Caller) -> int:
    return store.unread_count(_user(caller, "notification.read"))


def mark_read(caller: Caller, notification_id: str, *, now: datetime | None = None) -> Notification:
    user = _user(caller, "notification.update")
    at = now or datetime.now(UTC)
    entry = audit.entry(caller, "notification.read", "notification", notification_id, at=at)
    found = store.mark_read(user, notification_id, now=at, audit=entry)
    if found is None:
        raise _not_found(notification_id)
    return found


def mark_all_read(caller: Caller, *, now: datetime | None = None) -> dict[str, int]:
    user = _user(caller, "notification.update")
    at = now or datetime.now(UTC)

    def entry(count: int) -> audit.AuditEntry:
        return audit.entry(caller, "notification.read_all", "user", user, at=at, detail={"marked": count})

    marked = store.mark_all_read(user, now=at, audit=entry)
    return {"marked": marked, "unread": store.unread_count(user)}


def delete(caller: Caller, notification_id: str, *, now: datetime | None = None) -> None:
    user = _user(caller, "notification.update")
    at = now or datetime.now(UTC)
    entry = audit.entry(caller, "notification.delete", "notification", notification_id, at=at)
    if not store.delete(user, notification_id, now=at, audit=entry):
        raise _not_found(notification_id)


def delete_all(caller: Caller, *, now: datetime | None = None) -> dict[str, int | bool]:
    """Delete the caller's notifications (tombstones, as one by one), in bounded transactions; `more` says some
    are left for another call (one call deletes at most `store.READ_ALL_MAX_CHUNKS` chunks)."""
    user = _user(caller, "notification.update")
    at = now or datetime.now(UTC)

    def entry(count: int) -> audit.AuditEntry:
        return audit.entry(caller, "notification.delete_all", "user", user, at=at, detail={"deleted": count})

    deleted, more = store.delete_all(user, now=at, audit=entry)
    return {"deleted": deleted, "more": more}
