"""Message use cases: post to a booking's conversation, read it, and (admins) delete one message.

**Who takes part.** The booking's customer, the advisor who is its resource (`attributes.advisorUserId`), its
vendor, and admins. Anyone else (a stranger, another advisor, another customer, the agent who made the booking)
gets 404 `booking_not_found`, exactly as for a missing booking, and nothing is written.

**Who is told.** A message from the customer notifies the advisor (the vendor when the resource has no advisor); a
message from the advisor, the vendor or an admin notifies the customer. The notification is in-app only, written in
the message's own transaction (`slotwise.messages.store`), so there is no event to lose or deliver twice; its text
names the booking, never the message (an admin's deletion must not leave the words behind in someone's inbox).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from slotwise import errors, ratelimit
from slotwise.audit import log as audit
from slotwise.booking import access
from slotwise.booking import store as bookings
from slotwise.booking.models import Booking
from slotwise.catalog import repository as catalog
from slotwise.catalog.models import Resource
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.identity import permissions
from slotwise.identity import repository as users
from slotwise.identity.models import Caller
from slotwise.messages import store
from slotwise.messages.models import Message, MessageInput, MessagePage, is_message_id, new_message_id
from slotwise.notifications import store as notification_store
from slotwise.notifications.models import Notification, notification_id
from slotwise.notifications.templates import MessageFacts, render
from slotwise.transaction import Transaction

Part = Literal["customer", "advisor", "vendor", "admin"]
EVENT_TYPE = "message.posted"


def _advisor_of(resource: Resource | None) -> str | None:
    advisor = resource.attributes.get("advisorUserId") if resource is not None else None
    return advisor if isinstance(advisor, str) and advisor else None


def _part(caller: Caller, booking: Booking, resource: Resource | None) -> Part | None:
    if caller.user_id is None:
        return None
    if caller.user_id == booking.customer_id:
        return "customer"
    if access.advises(caller, resource):
        return "advisor"
    if caller.user_id == booking.vendor_id:
        return "vendor"
    if permissions.allows(caller, "booking.manage_any"):
        return "admin"
    return None


def _conversation(caller: Caller, booking_id: str) -> tuple[Booking, Resource | None, Part]:
    """The booking and the caller's part in it; 404 for anyone who takes no part, as for a missing booking."""
    booking = bookings.get_booking(booking_id, consistent=False)
    resource = catalog.get_resource(booking.resource_id) if booking is not None else None
    part = _part(caller, booking, resource) if booking is not None else None
    if booking is None or part is None:
        raise errors.NotFound(f"No booking {booking_id}.", code="booking_not_found")
    return booking, resource, part


def recipients(booking: Booking, resource: Resource | None, author: str, part: Part) -> list[str]:
    """Who a message from `author` notifies: the other side of the conversation, never the author."""
    if part == "customer":
        provider = _advisor_of(resource) or booking.vendor_id
        found = [provider] if provider else []
    else:
        found = [booking.customer_id]
    return [user for user in found if user and user != author]


def _notification(booking: Booking, resource: Resource | None, message: Message, user_id: str) -> Notification:
    user = users.get_user(user_id)
    facts = MessageFacts(
        reference=booking.reference or booking.id,
        resource=(resource.name if resource is not None else "") or booking.reference or booking.id,
        timezone=resource.timezone if resource is not None else "UTC",
        start=booking.start_time,
        end=booking.end_time,
    )
    rendered = render("message", facts, locale=user.locale if user else None, name=user.name if user else None)
    return Notification(
        id=notification_id(message.created_at, f"{EVENT_TYPE}|{message.id}", user_id),
        user_id=user_id,
        event_id=message.id,
        event_type=EVENT_TYPE,
        booking_id=booking.id,
        booking_reference=booking.reference,
        title=rendered.title,
        body=rendered.body,
        locale=rendered.locale,
        created_at=message.created_at,
    )


def _charge(tx: Transaction) -> None:
    # The request's quota token, when its function leaves it to the write's own transaction (the bookings group).
    tx.charge_quota(ratelimit.pending_charge())


def post_message(caller: Caller, booking_id: str, data: MessageInput, now: datetime | None = None) -> Message:
    permissions.require(caller, "message.create")
    booking, resource, part = _conversation(caller, booking_id)
    author = access.require_user(caller)
    at = now or datetime.now(UTC)
    message = Message(
        id=new_message_id(at), booking_id=booking.id, author_id=author, author_role=part, text=data.text, created_at=at
    )
    steps: list[dict[str, Any]] = []
    for user_id in recipients(booking, resource, author, part):
        steps += notification_store.creation_steps(_notification(booking, resource, message, user_id))
    store.post(message, notifications=steps, charge=_charge)
    return message


def list_messages(caller: Caller, booking_id: str, *, limit: int, cursor: str | None) -> MessagePage:
    """Oldest first, newest last; deleted messages stay in place as tombstones (no text)."""
    permissions.require(caller, "message.read")
    booking, _, _ = _conversation(caller, booking_id)
    # The cursor pages this booking's conversation for this caller only.
    scope = f"messages:{booking.id}:{caller.user_id}"
    start = decode_cursor(cursor, scope=scope)
    found, last = store.page(booking.id, limit=limit, start_key=start)
    return MessagePage(messages=found, next_cursor=encode_cursor(last, scope=scope))


def delete_message(caller: Caller, booking_id: str, message_id: str, now: datetime | None = None) -> None:
    """Admins only: the text goes, a tombstone stays, audited. Deleting a deleted message again is a no-op."""
    permissions.require(caller, "message.delete")
    booking, _, _ = _conversation(caller, booking_id)
    found = store.get(booking.id, message_id) if is_message_id(message_id) else None
    if found is None:
        raise errors.NotFound(f"No message {message_id}.", code="message_not_found")
    if found.deleted:
        return
    at = now or datetime.now(UTC)
    entry = audit.entry(caller, "message.delete", "message", message_id, at=at, detail={"bookingId": booking.id})
    store.tombstone(booking.id, message_id, now=at, audit=entry, charge=_charge)
