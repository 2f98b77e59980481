"""Review use cases: review a booking, list a resource's reviews, reply to one, remove one. The caller arrives as
an argument and the permission table comes first (`slotwise.identity.permissions`).

Object level, as everywhere (docs/api.md, "403 or 404"): a booking the caller cannot see is 404
`booking_not_found`; one they see but are not the customer of (its vendor, the agent who made it, an admin) is 403
`not_the_customer`. A review of a resource the caller does not manage is 404 `review_not_found` to them for a
reply, like a missing one. The rating moves in the review's own transaction (`slotwise.reviews.store`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from slotwise import errors, ratelimit
from slotwise.audit import log as audit
from slotwise.booking import access
from slotwise.booking import store as bookings
from slotwise.catalog import repository as catalog
from slotwise.catalog.models import CursorPagination, Resource
from slotwise.identity import permissions
from slotwise.identity import repository as users
from slotwise.identity.models import Caller
from slotwise.reviews import store
from slotwise.reviews.models import ReplyInput, Review, ReviewInput, ReviewPage, ReviewReply
from slotwise.transaction import Transaction


def author_name(user_id: str) -> str | None:
    """ "Ana S." from the profile's "Ana Sousa" (one GetItem); None without a profile."""
    user = users.get_user(user_id)
    if user is None or not user.name.strip():
        return None
    first, *rest = user.name.split()
    return f"{first} {rest[-1][0]}." if rest else first


def check_reviewable(booking_status: str, end: datetime, now: datetime) -> None:
    """A booking that took place: completed, or confirmed and over (the timers job may not have run yet)."""
    if booking_status == "completed" or (booking_status == "confirmed" and end <= now):
        return
    if booking_status in ("confirmed", "held", "awaiting_approval", "payment_pending"):
        raise errors.Conflict(
            "A booking can be reviewed once it is over.",
            code="booking_not_finished",
            extra={"bookingStatus": booking_status},
        )
    raise errors.Conflict(
        f"A {booking_status} booking cannot be reviewed.",
        code="booking_not_reviewable",
        extra={"bookingStatus": booking_status},
    )


def _charge(tx: Transaction) -> None:
    # The request's quota token, when its function leaves it to the write's own transaction (the bookings group).
    tx.charge_quota(ratelimit.pending_charge())


def create_review(caller: Caller, booking_id: str, data: ReviewInput, now: datetime | None = None) -> Review:
    permissions.require(caller, "review.create")
    booking = access.visible(caller, bookings.get_booking(booking_id), booking_id)
    if booking.customer_id != caller.user_id:
        raise errors.PermissionDenied("Only the booking's customer may review it.", code="not_the_customer")
    now = now or datetime.now(UTC)
    check_reviewable(booking.status, booking.end_time, now)
    review = Review(
        id=str(uuid.uuid4()),
        resource_id=booking.resource_id,
        venue_id=booking.venue_id,
        vendor_id=booking.vendor_id,
        booking_id=booking.id,
        customer_id=booking.customer_id,
        rating=data.rating,
        title=data.title,
        comment=data.comment,
        author_name=author_name(booking.customer_id),
        created_at=now,
        updated_at=now,
        request_id=caller.request_id,
    )
    entry = audit.entry(
        caller,
        "review.create",
        "review",
        review.id,
        at=now,
        detail={"bookingId": booking.id, "resourceId": review.resource_id, "rating": review.rating},
    )
    store.create(review, audit=entry, charge=_charge)
    return review


def list_reviews(caller: Caller, resource_id: str, *, limit: int, cursor: str | None) -> ReviewPage:
    """A resource's published reviews, newest first: public, for resources visible under catalog.read."""
    permissions.require(caller, "catalog.read")
    access.resource_visible(caller, catalog.get_resource(resource_id), resource_id)
    reviews, next_cursor = store.page(resource_id, limit=limit, cursor=cursor)
    return ReviewPage(
        reviews=[review.public() for review in reviews],
        pagination=CursorPagination(limit=limit, next_cursor=next_cursor),
    )


def _published(review_id: str) -> Review:
    review = store.get(review_id)
    if review is None or review.status != "published":
        raise errors.NotFound(f"No review {review_id}.", code="review_not_found")
    return review


def reply(caller: Caller, review_id: str, data: ReplyInput, now: datetime | None = None) -> Review:
    """The resource's vendor (or their staff acting on what they own, or an admin) answers once."""
    permissions.require(caller, "review.reply")
    review = _published(review_id)
    resource: Resource | None = catalog.get_resource(review.resource_id)
    if resource is None or not access.manages_resource(caller, resource):
        raise errors.NotFound(f"No review {review_id}.", code="review_not_found")
    if review.reply is not None:
        raise errors.Conflict("This review has a reply already.", code="already_replied")
    now = now or datetime.now(UTC)
    replied = review.model_copy(
        update={
            "reply": ReviewReply(text=data.text, at=now),
            "reply_by": caller.user_id,
            "updated_at": now,
            "version": review.version + 1,
            "request_id": caller.request_id,
        }
    )
    entry = audit.entry(caller, "review.reply", "review", review_id, at=now, detail={"version": replied.version})
    store.reply(review, replied, audit=entry)
    return replied


def delete_review(caller: Caller, review_id: str, now: datetime | None = None) -> None:
    """An admin takes a review down: out of the listing and out of the rating, audited in the same transaction.
    The booking stays reviewed (the review cannot be posted again)."""
    permissions.require(caller, "review.delete")
    review = _published(review_id)
    now = now or datetime.now(UTC)
    removed = review.model_copy(
        update={
            "status": "removed",
            "removed_at": now,
            "removed_by": caller.user_id,
            "updated_at": now,
            "version": review.version + 1,
            "request_id": caller.request_id,
        }
    )
    entry = audit.entry(
        caller,
        "review.delete",
        "review",
        review_id,
        at=now,
        detail={"resourceId": review.resource_id, "bookingId": review.booking_id, "rating": review.rating},
    )
    store.remove(review, removed, audit=entry)
