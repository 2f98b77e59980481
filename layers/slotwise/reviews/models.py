"""Reviews: what a customer sends, what is stored, and what the API shows.

General on purpose: a review rates a resource through one booking of it, whatever the resource is (a hall, a room,
an advisor's hour), so the advisor marketplace rates advisors with the same model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, Strict

from slotwise.catalog.models import CursorPagination
from slotwise.models import ApiModel, DomainModel, OneLine

MIN_RATING = 1
MAX_RATING = 5
MAX_TITLE = 200
MAX_TEXT = 2000

ReviewStatus = Literal["published", "removed"]


class ReviewInput(ApiModel):
    """`POST /bookings/{id}/review`: a whole number of stars (a JSON integer: "5" or 4.5 is a 422)."""

    rating: Annotated[int, Strict(), Field(ge=MIN_RATING, le=MAX_RATING)]
    title: Annotated[OneLine, Field(max_length=MAX_TITLE)] = ""
    comment: Annotated[str, Field(max_length=MAX_TEXT)] = ""


class ReplyInput(ApiModel):
    """`POST /reviews/{id}/reply`: the vendor's one public answer."""

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class ReviewReply(DomainModel):
    text: str
    at: datetime


class Review(DomainModel):
    id: str
    resource_id: str
    venue_id: str
    vendor_id: str
    booking_id: str
    customer_id: str
    rating: int
    title: str = ""
    comment: str = ""
    # "Ana S.": the customer's first name and initial when they have a profile (None otherwise).
    author_name: str | None = None
    reply: ReviewReply | None = None
    # Who replied (the vendor, their staff or an admin): audited, not shown.
    reply_by: str | None = None
    status: ReviewStatus = "published"
    removed_at: datetime | None = None
    removed_by: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1
    # The API request that produced this version: the correlation id of its domain event.
    request_id: str | None = None

    def public(self) -> dict[str, Any]:
        """The review as anyone may read it: no booking, no customer id (a public listing says who booked what
        otherwise), no moderation bookkeeping."""
        return self.model_dump(mode="json", by_alias=True, exclude=set(PRIVATE_FIELDS))


PRIVATE_FIELDS = frozenset(
    {"booking_id", "customer_id", "reply_by", "status", "removed_at", "removed_by", "request_id"}
)


class ReviewPage(DomainModel):
    reviews: list[dict[str, Any]]
    pagination: CursorPagination
