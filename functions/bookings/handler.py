"""Bookings: create (single and recurring), read, list, change details, reschedule, cancel, approve/reject."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from slotwise.api.app import create_app, lambda_entrypoint
from slotwise.api.context import caller
from slotwise.booking import lifecycle, queries, series, series_changes, sessions
from slotwise.booking.create import create_booking
from slotwise.booking.models import (
    BookingCreate,
    BookingStatus,
    BookingUpdate,
    CancelRequest,
    DecisionRequest,
    ExceptionCreate,
    RecurringCreate,
    RescheduleRequest,
)
from slotwise.booking.reschedule import reschedule as reschedule_booking
from slotwise.identity.permissions import route_doc
from slotwise.messages import service as messages
from slotwise.messages.models import MessageInput
from slotwise.models import ID_PATTERN, MAX_ID_LENGTH, BoundedDatetime, check_period, idempotency_key
from slotwise.payments import settlement
from slotwise.reviews.models import ReviewInput
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

# Cancelling refunds a paid booking and voids an open payment in the same transaction: the booking engine's
# money side.
settlement.install()
# Every write route commits one booking transaction that takes the request-quota token (`charge_request`).
app = create_app(writes_in_transaction=True)
TAGS = ["bookings"]
Json = dict[str, Any]


def _caller() -> Any:
    return caller(app)


@app.post(
    "/api/v1/bookings",
    tags=TAGS,
    summary="Book a resource (honours Idempotency-Key)",
    description=route_doc("booking.create"),
)
def create(
    body: BookingCreate,
    notify_attendees: Annotated[
        bool, Query(alias="notifyAttendees", description="E-mail the attendees a calendar invitation (default true)")
    ] = True,
) -> Response[Json]:
    key = idempotency_key(app.current_event.headers.get("idempotency-key"))
    created = create_booking(_caller(), body, idempotency_key=key, notify_attendees=notify_attendees)
    headers = {"Location": f"/api/v1/bookings/{created.booking.id}"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(201, "application/json", created.booking.public(), headers)


@app.post(
    "/api/v1/bookings/recurring",
    tags=TAGS,
    summary="Book a recurring series (RRULE; honours Idempotency-Key)",
    description=route_doc("booking.create"),
)
def create_recurring(body: RecurringCreate) -> Response[Json]:
    key = idempotency_key(app.current_event.headers.get("idempotency-key"))
    result = series.create_series(_caller(), body, idempotency_key=key)
    replayed = result.pop("replayed")
    result["created"] = [b.public() for b in result["created"]]
    headers = {"Location": f"/api/v1/bookings/series/{result['seriesId']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(201, "application/json", result, headers)


@app.get(
    "/api/v1/bookings/series/<seriesId>",
    tags=TAGS,
    summary="A recurring series and its occurrences",
    description=route_doc("booking.read"),
)
def get_series(seriesId: str) -> Json:
    return series.get_series(_caller(), seriesId)


@app.get(
    "/api/v1/bookings",
    tags=TAGS,
    summary="List bookings (yours, those you made for others, a resource's, or your organisation's)",
    description=route_doc("booking.read", "booking.view_any"),
)
def list_bookings(
    resource_id: Annotated[str | None, Query(alias="resourceId", max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)] = None,
    venue_id: Annotated[str | None, Query(alias="venueId", max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)] = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)] = None,
    created_by: Annotated[
        str | None,
        Query(alias="createdBy", max_length=128, description='"me" or a user id: the bookings they made for others'),
    ] = None,
    status: Annotated[BookingStatus | None, Query()] = None,
    frm: Annotated[BoundedDatetime | None, Query(alias="from")] = None,
    to: Annotated[BoundedDatetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Json:
    check_period(frm, to)
    found, next_cursor = queries.list_bookings(
        _caller(),
        resource_id=resource_id,
        venue_id=venue_id,
        customer_id=customer_id,
        created_by=created_by,
        status=status,
        frm=frm,
        to=to,
        limit=limit,
        cursor=cursor,
    )
    return {"bookings": [b.public() for b in found], "pagination": {"limit": limit, "nextCursor": next_cursor}}


@app.get(
    "/api/v1/bookings/by-reference/<code>",
    tags=TAGS,
    summary="Find a booking by its 6-character reference",
    description=route_doc("booking.read"),
)
def by_reference(code: str) -> Json:
    return queries.get_by_reference(_caller(), code).public()


@app.get("/api/v1/bookings/<bookingId>", tags=TAGS, summary="A booking", description=route_doc("booking.read"))
def get(bookingId: str) -> Json:
    return queries.get_booking(_caller(), bookingId).public()


@app.get(
    "/api/v1/bookings/<bookingId>/confirmation.pdf",
    tags=TAGS,
    summary="The booking's confirmation as a PDF (times in the venue's time zone, price lines, payments, terms)",
    description=route_doc("booking.read"),
)
def confirmation_pdf(bookingId: str) -> Response[str]:
    # Imported on the first confirmation, not at cold start (its templates and the ledger it reads): few requests
    # ask for one.
    from slotwise.notifications import pdf

    name, document = pdf.for_caller(_caller(), bookingId)
    headers = {"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"}
    # Binary through API Gateway: a base64 body flagged isBase64Encoded, which API Gateway decodes for the client.
    # Encoded here, not by Powertools from bytes, because response validation would first read bytes as UTF-8.
    response = Response(200, pdf.MEDIA_TYPE, base64.b64encode(document).decode("ascii"), headers)
    response.base64_encoded = True
    return response


@app.put(
    "/api/v1/bookings/<bookingId>",
    tags=TAGS,
    summary="Change details (times change through reschedule)",
    description=route_doc("booking.update"),
)
def update(bookingId: str, body: BookingUpdate) -> Json:
    return lifecycle.update_details(_caller(), bookingId, body).public()


@app.post(
    "/api/v1/bookings/<bookingId>/reschedule",
    tags=TAGS,
    summary="Move a booking in one transaction",
    description=route_doc("booking.update"),
)
def reschedule(bookingId: str, body: RescheduleRequest) -> Json:
    return reschedule_booking(_caller(), bookingId, body, reason=body.reason).public()


@app.post(
    "/api/v1/bookings/<bookingId>/cancel",
    tags=TAGS,
    summary="Cancel (one occurrence or all following)",
    description=route_doc("booking.cancel"),
)
def cancel(bookingId: str, body: CancelRequest) -> Json:
    cancelled = series_changes.cancel(_caller(), bookingId, body)
    return {"cancelled": [b.public() for b in cancelled]}


@app.delete(
    "/api/v1/bookings/<bookingId>", tags=TAGS, summary="Cancel a booking", description=route_doc("booking.cancel")
)
def delete(
    bookingId: str,
    reason: Annotated[str, Query(max_length=500)] = "",
    notify_attendees: Annotated[
        bool, Query(alias="notifyAttendees", description="E-mail the attendees a calendar cancellation (default true)")
    ] = True,
) -> Json:
    return lifecycle.cancel_booking(_caller(), bookingId, reason, notify_attendees=notify_attendees).public()


@app.post(
    "/api/v1/bookings/<bookingId>/confirm",
    tags=TAGS,
    summary="Approve a booking that waits on approval",
    description=route_doc("booking.decide"),
)
def confirm(bookingId: str, body: DecisionRequest) -> Json:
    return lifecycle.decide(_caller(), bookingId, approve=True, reason=body.reason).public()


@app.post(
    "/api/v1/bookings/<bookingId>/reject",
    tags=TAGS,
    summary="Reject a booking that waits on approval",
    description=route_doc("booking.decide"),
)
def reject(bookingId: str, body: DecisionRequest) -> Json:
    return lifecycle.decide(_caller(), bookingId, approve=False, reason=body.reason).public()


@app.post(
    "/api/v1/bookings/<bookingId>/no-show",
    tags=TAGS,
    summary="Mark that the customer did not come (after the start)",
    description=route_doc("booking.decide"),
)
def no_show(bookingId: str, body: DecisionRequest) -> Json:
    return lifecycle.mark_no_show(_caller(), bookingId, reason=body.reason).public()


@app.post(
    "/api/v1/bookings/<bookingId>/start",
    tags=TAGS,
    summary="Start a session (its advisor or vendor; from 15 minutes before its start)",
    description=route_doc("booking.session"),
)
def start(bookingId: str) -> Json:
    return sessions.start_session(_caller(), bookingId).public()


@app.post(
    "/api/v1/bookings/<bookingId>/check-in",
    tags=TAGS,
    summary="Check the guest in (the vendor or its staff; from the day of arrival): the stay is in progress",
    description=route_doc("booking.check_in"),
)
def check_in(bookingId: str) -> Json:
    return sessions.check_in(_caller(), bookingId).public()


@app.post(
    "/api/v1/bookings/<bookingId>/complete",
    tags=TAGS,
    summary="Complete a session (captures an authorized payment)",
    description=route_doc("booking.session"),
)
def complete(bookingId: str) -> Json:
    return sessions.complete_session(_caller(), bookingId).public()


@app.post(
    "/api/v1/bookings/<bookingId>/exceptions",
    tags=TAGS,
    summary="Cancel or modify one occurrence",
    description=route_doc("booking.update"),
)
def add_exception(bookingId: str, body: ExceptionCreate) -> Response[Json]:
    result = series_changes.add_exception(_caller(), bookingId, body)
    result["booking"] = result["booking"].public()
    return Response(201, "application/json", result)


@app.post(
    "/api/v1/bookings/<bookingId>/review",
    tags=["reviews"],
    summary="Review your booking once it is over (one review per booking)",
    description=route_doc("review.create"),
)
def review_booking(bookingId: str, body: ReviewInput) -> Response[Json]:
    from slotwise.reviews import service as reviews  # first review only: few booking requests are reviews

    review = reviews.create_review(_caller(), bookingId, body)
    return Response(201, "application/json", review.public())


# A booking's conversation (slotwise.messages): its customer, the resource's advisor, the vendor and admins.
MESSAGES = "/api/v1/bookings/<bookingId>/messages"


@app.get(
    MESSAGES,
    tags=["messages"],
    summary="A booking's messages, oldest first (newest last)",
    description=route_doc("message.read"),
)
def list_messages(
    bookingId: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Json:
    found = messages.list_messages(_caller(), bookingId, limit=limit, cursor=cursor)
    return {
        "messages": [m.public() for m in found.messages],
        "pagination": {"limit": limit, "nextCursor": found.next_cursor},
    }


@app.post(
    MESSAGES,
    tags=["messages"],
    summary="Send a message about a booking (the other party is notified in-app)",
    description=route_doc("message.create"),
)
def post_message(bookingId: str, body: MessageInput) -> Response[Json]:
    message = messages.post_message(_caller(), bookingId, body)
    return Response(201, "application/json", message.public())


@app.delete(
    f"{MESSAGES}/<messageId>",
    tags=["messages"],
    summary="Delete a message (admins; its text goes, a tombstone stays)",
    description=route_doc("message.delete"),
    responses={204: {"description": "Deleted"}},
)
def delete_message(bookingId: str, messageId: str) -> Response[None]:
    messages.delete_message(_caller(), bookingId, messageId)
    return Response(204)


lambda_handler = lambda_entrypoint(app)
