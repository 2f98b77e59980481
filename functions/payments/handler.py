"""Payments: pay for a held booking, quote a cancellation, list and read payments, the caller's wallet and its
top-ups. (The
simulated provider's outcome switch is the development stack's: `devstack/handler.py`, never deployed.)"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from slotwise.api.app import BEARER, create_app, lambda_entrypoint
from slotwise.api.context import caller
from slotwise.identity.permissions import route_doc
from slotwise.models import ID_PATTERN, MAX_ID_LENGTH, BoundedDatetime, check_period, idempotency_key
from slotwise.payments import service, topups
from slotwise.payments.models import PaymentCreate, PaymentStatus, TopUpCreate
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

app = create_app()
TAGS = ["payments"]
Json = dict[str, Any]
Cursor = Annotated[str | None, Query(max_length=2000)]
Limit = Annotated[int, Query(ge=1, le=100)]


@app.post(
    "/api/v1/bookings/<bookingId>/payment",
    tags=TAGS,
    summary="Pay for a held booking: a client secret or checkout URL for the card share (wallet optional)",
    description=route_doc("payment.create"),
    security=BEARER,
)
def pay(bookingId: str, body: PaymentCreate) -> Response[Json]:
    started = service.start_payment(caller(app), bookingId, body)
    status = 200 if started.resumed else 201
    return Response(
        status, "application/json", started.public(), {"Location": f"/api/v1/payments/{started.payment.id}"}
    )


@app.get(
    "/api/v1/bookings/<bookingId>/cancellation-quote",
    tags=TAGS,
    summary="What cancelling now would refund (tier, fee, amount, until when)",
    description=route_doc("payment.read", "booking.cancel"),
    security=BEARER,
)
def cancellation_quote(bookingId: str) -> Json:
    return service.cancellation_quote(caller(app), bookingId).model_dump(mode="json", by_alias=True)


@app.get(
    "/api/v1/payments",
    tags=TAGS,
    summary="Payments, newest first: all (admins), your venues' (vendors), or your own",
    description=route_doc("payment.read", "payment.view_any"),
    security=BEARER,
)
def list_payments(
    vendor_id: Annotated[str | None, Query(alias="vendorId", max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)] = None,
    status: Annotated[PaymentStatus | None, Query()] = None,
    frm: Annotated[BoundedDatetime | None, Query(alias="from")] = None,
    to: Annotated[BoundedDatetime | None, Query()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Json:
    check_period(frm, to)
    found, next_cursor = service.list_payments(
        caller(app), vendor_id=vendor_id, status=status, frm=frm, to=to, limit=limit, cursor=cursor
    )
    return {"payments": [p.public() for p in found], "pagination": {"limit": limit, "nextCursor": next_cursor}}


@app.get(
    "/api/v1/payments/<paymentId>",
    tags=TAGS,
    summary="A payment with its refunds",
    description=route_doc("payment.read"),
    security=BEARER,
)
def get_payment(paymentId: str) -> Json:
    return service.get_payment(caller(app), paymentId)


@app.get(
    "/api/v1/wallet", tags=TAGS, summary="Your wallet's balances", description=route_doc("wallet.read"), security=BEARER
)
def wallet() -> Json:
    return service.wallet(caller(app))


@app.get(
    "/api/v1/wallet/transactions",
    tags=TAGS,
    summary="Your wallet's ledger, newest first",
    description=route_doc("wallet.read"),
    security=BEARER,
)
def wallet_transactions(limit: Limit = 20, cursor: Cursor = None) -> Json:
    entries, next_cursor = service.wallet_transactions(caller(app), limit=limit, cursor=cursor)
    return {"transactions": [e.public() for e in entries], "pagination": {"limit": limit, "nextCursor": next_cursor}}


@app.post(
    "/api/v1/wallet/top-ups",
    tags=TAGS,
    summary="Top up your wallet: a client secret or checkout URL to pay it (honours Idempotency-Key)",
    description=route_doc("wallet.top_up"),
    security=BEARER,
)
def top_up(body: TopUpCreate) -> Response[Json]:
    key = idempotency_key(app.current_event.headers.get("idempotency-key"))
    started = topups.start_top_up(caller(app), body, idempotency_key=key)
    return Response(
        200 if started.replayed else 201,
        "application/json",
        started.public(),
        {"Location": f"/api/v1/wallet/top-ups/{started.top_up.id}"},
    )


@app.get(
    "/api/v1/wallet/top-ups",
    tags=TAGS,
    summary="Your wallet top-ups, newest first",
    description=route_doc("wallet.read"),
    security=BEARER,
)
def list_top_ups(limit: Limit = 20, cursor: Cursor = None) -> Json:
    found, next_cursor = topups.list_top_ups(caller(app), limit=limit, cursor=cursor)
    return {"topUps": [t.public() for t in found], "pagination": {"limit": limit, "nextCursor": next_cursor}}


@app.get(
    "/api/v1/wallet/top-ups/<topUpId>",
    tags=TAGS,
    summary="One of your wallet top-ups",
    description=route_doc("wallet.read"),
    security=BEARER,
)
def get_top_up(topUpId: str) -> Json:
    return topups.get_top_up(caller(app), topUpId).public()


lambda_handler = lambda_entrypoint(app)
