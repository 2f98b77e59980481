"""Reviews in the single table, and the transactions that keep each resource's rating exact.

  REVIEW#<id>          / REVIEW     the review        GSI1 RESREVIEWS#<resource> / <created, UTC>#<id>
                                                      (published reviews only: the public listing, newest first)
  REVIEWED#<booking>   / REVIEWED   the booking was reviewed (-> review id): at most one review per booking, by
                                    the condition on its creation, whatever the concurrency; kept when an admin
                                    removes the review, so a removed review cannot be posted again
  RESOURCE#<id>        / RESOURCE   `ratingSum`, `ratingCount`: ADD in the review's own transaction (a removal
                                    subtracts), without a new version (see `slotwise.catalog.models.Resource`)

Every change is one TransactWriteItems (`slotwise.transaction`) with its audit entry. Reviews of one resource all
move its item, so concurrent ones contend on it: a transaction cancelled only by `TransactionConflict` is run again
with bounded, jittered backoff (`ATTEMPTS`); a failed condition is never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slotwise import errors
from slotwise.audit.log import AuditEntry, stamp
from slotwise.data.codec import from_item, to_item, to_value
from slotwise.data.dynamo import get_item, index_page, table_name
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.models import iso
from slotwise.reviews.models import Review
from slotwise.transaction import Tag, Transaction, TransactionFailed, backoff, execute

# Attempts of one review transaction that loses races on its resource's item (full-jitter backoff up to 0.5 s).
ATTEMPTS = 12
# Booking statuses a review may be written for: `confirmed` only once its end has passed (the service checks the
# time; the condition keeps a booking cancelled or marked no-show meanwhile from being reviewed).
REVIEWABLE = ("completed", "confirmed")

GUARD = "review_guard"
RATING = "rating"
BOOKING = "booking"


def review_key(review_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"REVIEW#{review_id}"}, "SK": {"S": "REVIEW"}}


def _resource_key(resource_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"RESOURCE#{resource_id}"}, "SK": {"S": "RESOURCE"}}


def listing_partition(resource_id: str) -> str:
    return f"RESREVIEWS#{resource_id}"


def review_item(review: Review) -> dict[str, Any]:
    values: dict[str, Any] = {
        "PK": f"REVIEW#{review.id}",
        "SK": "REVIEW",
        "type": "review",
        **review.model_dump(mode="json", by_alias=True),
    }
    if review.status == "published":
        values["GSI1PK"] = listing_partition(review.resource_id)
        values["GSI1SK"] = f"{stamp(review.created_at)}#{review.id}"
    return values


def _rating_step(resource_id: str, rating: int, count: int) -> dict[str, Any]:
    """Move a resource's review counters; an addition needs the resource, a subtraction a review to subtract."""
    condition = "attribute_exists(PK)" if count > 0 else "ratingCount >= :one"
    values = {":rating": to_value(rating), ":count": to_value(count)}
    if count < 0:
        values[":one"] = to_value(1)
    return {
        "Update": {
            "TableName": table_name(),
            "Key": _resource_key(resource_id),
            "UpdateExpression": "ADD ratingSum :rating, ratingCount :count",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _run(tx: Transaction) -> None:
    """Execute, running again while the only reason it was cancelled is a lost race (nothing was written)."""
    for attempt in range(ATTEMPTS):
        try:
            execute(tx)
            return
        except TransactionFailed as failed:
            if not failed.only_contention or attempt == ATTEMPTS - 1:
                raise
        backoff(attempt)


def _failed(failed: TransactionFailed, key: str) -> bool:
    return any(f.tag.key == key and f.code == "ConditionalCheckFailed" for f in failed.failures)


def create(review: Review, *, audit: AuditEntry, charge: Callable[[Transaction], None]) -> None:
    """Store a new review and add it to its resource's rating, in one transaction: only if the booking has no
    review yet (409 `already_reviewed`) and is still completed or confirmed (409 `booking_not_reviewable`)."""
    tx = Transaction()
    tx.put_new(
        Tag("other", GUARD),
        {
            "PK": f"REVIEWED#{review.booking_id}",
            "SK": "REVIEWED",
            "type": GUARD,
            "reviewId": review.id,
            "resourceId": review.resource_id,
        },
    )
    tx.put_new(Tag("other", review.id), review_item(review))
    check = {
        "TableName": table_name(),
        "Key": {"PK": {"S": f"BOOKING#{review.booking_id}"}, "SK": {"S": "BOOKING"}},
        "ConditionExpression": "#status IN (:completed, :confirmed)",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":completed": {"S": REVIEWABLE[0]}, ":confirmed": {"S": REVIEWABLE[1]}},
    }
    tx.add(Tag("other", BOOKING), {"ConditionCheck": check})  # type: ignore[typeddict-item]
    tx.add(Tag("other", RATING), _rating_step(review.resource_id, review.rating, 1))  # type: ignore[arg-type]
    tx.audit(audit)
    charge(tx)
    try:
        _run(tx)
    except TransactionFailed as failed:
        if _failed(failed, GUARD):
            raise errors.Conflict("This booking has been reviewed already.", code="already_reviewed") from failed
        if _failed(failed, BOOKING):
            raise errors.Conflict(
                "The booking changed meanwhile and can no longer be reviewed.", code="booking_not_reviewable"
            ) from failed
        if _failed(failed, RATING):
            raise errors.NotFound(f"No resource {review.resource_id}.", code="resource_not_found") from failed
        raise _contended() from failed


def _contended() -> errors.Conflict:
    return errors.Conflict("Too many changes to this resource at once; try again.", code="review_contended")


def reply(before: Review, after: Review, *, audit: AuditEntry) -> None:
    """Set the review's one reply: only on a published review that has none (409 `already_replied`)."""
    assert after.reply is not None
    update = {
        "TableName": table_name(),
        "Key": review_key(after.id),
        "UpdateExpression": "SET reply = :reply, replyBy = :by, updatedAt = :now, version = :version, "
        "requestId = :request",
        "ConditionExpression": "#status = :published AND attribute_not_exists(reply) AND version = :read",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":reply": to_value(after.reply.model_dump(mode="json", by_alias=True)),
            ":by": to_value(after.reply_by),
            ":now": to_value(iso(after.updated_at)),
            ":version": to_value(after.version),
            ":read": to_value(before.version),
            ":request": to_value(after.request_id) if after.request_id else {"NULL": True},
            ":published": to_value("published"),
        },
    }
    tx = Transaction()
    tx.add(Tag("other", after.id), {"Update": update})  # type: ignore[typeddict-item]
    tx.audit(audit)
    try:
        _run(tx)
    except TransactionFailed as failed:
        if _failed(failed, after.id):
            raise errors.Conflict("This review has a reply already.", code="already_replied") from failed
        raise _contended() from failed


def remove(before: Review, after: Review, *, audit: AuditEntry) -> None:
    """Take a published review down (kept, out of the listing) and out of its resource's rating, in one
    transaction; a review removed meanwhile is 404 `review_not_found`."""
    put = {
        "TableName": table_name(),
        "Item": to_item(review_item(after)),
        "ConditionExpression": "#status = :published AND version = :read",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":published": to_value("published"), ":read": to_value(before.version)},
    }
    tx = Transaction()
    tx.add(Tag("other", after.id), {"Put": put})  # type: ignore[typeddict-item]
    tx.add(Tag("other", RATING), _rating_step(after.resource_id, -after.rating, -1))  # type: ignore[arg-type]
    tx.audit(audit)
    try:
        _run(tx)
    except TransactionFailed as failed:
        if _failed(failed, after.id):
            raise errors.Conflict("The review changed meanwhile; fetch it again.", code="version_conflict") from failed
        raise _contended() from failed


def get(review_id: str) -> Review | None:
    item = get_item(review_key(review_id))
    return Review.model_validate(from_item(item)) if item else None


def page(resource_id: str, *, limit: int, cursor: str | None) -> tuple[list[Review], str | None]:
    """A page of a resource's published reviews, newest first, and the cursor of the next (None at the end)."""
    partition = listing_partition(resource_id)
    scope = f"reviews:{partition}"
    start = decode_cursor(cursor, scope=scope)
    if start is not None and start.get("GSI1PK") != {"S": partition}:
        raise errors.ValidationFailed("cursor belongs to another listing", code="invalid_cursor")
    items, last = index_page("GSI1", partition, low=None, high=None, limit=limit, start_key=start, newest_first=True)
    return [Review.model_validate(item) for item in items], encode_cursor(last, scope=scope)
