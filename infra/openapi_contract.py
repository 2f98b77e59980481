"""What every operation of the merged OpenAPI document answers: its success code and schema, and its problems.

Powertools documents a route from its signature: a `dict` return is a bare `object`, a `Response` is always 200,
and validation errors are `application/json` `HTTPValidationError`, none of which is what the API sends. This module
is the one place that corrects that, applied by `infra.openapi.build_spec` to each function's schema:

- success: `SUCCESS` names each route's code and schema (the entities' `public()` shapes, generated from their
  models, and the envelopes the routes build around them); 204 has no content.
- errors: one `Problem` schema under `application/problem+json`, documented by rule (`error_codes`): 400 (malformed
  request, unknown query parameter), 401/403 (a token, a permission), 404 (an id in the path, a filter or the body),
  409 (writes), 413/415 (bodies), 422 (validation), 429 (the request quota), 500 and 503.

`tests/support/contract.py` checks every response of the test suite against the result, so drift fails the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from slotwise.booking.models import Booking
from slotwise.favourites.models import Favourite
from slotwise.identity.models import TokenPair, User
from slotwise.messages.models import Message
from slotwise.notifications.models import Notification
from slotwise.organisations.service import Member, MyOrganisation
from slotwise.payments.models import Payment, Refund, RefundQuote, TopUp, WalletEntry
from slotwise.reviews.models import PRIVATE_FIELDS, Review
from slotwise.webhooks.models import Subscription

Schema = dict[str, Any]
PROBLEM_CONTENT_TYPE = "application/problem+json"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Schema], *, required: Iterable[str] | None = None, extra: bool = False) -> Schema:
    """An object with these properties (all required unless `required` says which)."""
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties if required is None else required),
        "additionalProperties": extra,
    }


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


PAGINATION = obj({"limit": {"type": "integer"}, "nextCursor": nullable({"type": "string"})})


def page(key: str, items: Schema, **more: Schema) -> Schema:
    """A cursor page: the items under `key` and `pagination`."""
    return obj({key: array(items), "pagination": ref("CursorPagination"), **more})


ANY_OBJECT: Schema = {"type": "object", "additionalProperties": True}
STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
COUNTS: Schema = {"type": "object", "additionalProperties": {"type": "integer"}}
NUMBER: Schema = {"type": "number"}
# A revenue row's figures: money in minor units of the row's currency, counts of bookings.
REVENUE_FIGURES: dict[str, Schema] = dict.fromkeys(
    ("gross", "refunds", "walletCredits", "net", "bookings", "cancellations", "noShows"), INT
)
REASON: Schema = obj({"code": STR, "detail": STR})
# One inventory slot in the way, in the resource's time: a granule or the fixed window (startTime/endTime with
# offset) or a night (its date); never the storage key.
SLOT_CONFLICT: Schema = obj(
    {
        "startTime": STR,
        "endTime": STR,
        "night": {"type": "string", "format": "date"},
        "bookingIds": array(STR),
        "available": INT,
    },
    required=["bookingIds", "available"],
)
# One occurrence of a recurring request that cannot be booked: its local date, times and why.
OCCURRENCE_CONFLICT: Schema = obj(
    {
        "date": {"type": "string", "format": "date"},
        "available": BOOL,
        "startTime": STR,
        "endTime": STR,
        "remaining": INT,
        "conflicts": array(SLOT_CONFLICT),
        "reasons": array(REASON),
    },
    required=["date", "available", "startTime", "endTime", "reasons"],
)
SERIES_EXCEPTION: Schema = obj(
    {
        "exceptionType": STR,
        "exceptionDate": {"type": "string", "format": "date"},
        "reason": nullable(STR),
        "bookingId": STR,
        "at": STR,
        "by": nullable(STR),
    }
)

PROBLEM = obj(
    {
        "type": {"type": "string", "description": "urn:slotwise:problem:<code>"},
        "title": {"type": "string", "description": "the HTTP status phrase"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable and machine-readable"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the request path"},
        "requestId": {"type": "string"},
        "errors": array(
            obj(
                {
                    "location": array({"type": "string"}),
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
                required=["location", "message", "type"],
                extra=True,
            )
        ),
        "conflicts": array(ANY_OBJECT),
        "retryAfterSeconds": {"type": "integer"},
    },
    required=["type", "title", "status", "code", "detail"],
    extra=True,  # a problem may carry more members of its own (RFC 9457 extensions)
)

# Entities as `public()` shows them: the model's serialised shape without what `public()` leaves out.
ENTITIES: dict[str, tuple[type[BaseModel], frozenset[str]]] = {
    "Booking": (Booking, frozenset({"lockKeys", "stockClaims", "requestId"})),
    "User": (User, frozenset()),
    "Notification": (Notification, frozenset({"userId", "locale"})),
    "Payment": (Payment, frozenset({"events"})),
    "Refund": (Refund, frozenset()),
    "WalletEntry": (WalletEntry, frozenset({"userId"})),
    "TopUp": (TopUp, frozenset({"userId", "day", "version"})),
    "RefundQuote": (RefundQuote, frozenset()),
    "Subscription": (Subscription, frozenset()),
    "TokenPair": (TokenPair, frozenset()),
    "Review": (Review, frozenset(to_camel(name) for name in PRIVATE_FIELDS)),
    "Favourite": (Favourite, frozenset()),
    "Message": (Message, frozenset()),
    "MyOrganisation": (MyOrganisation, frozenset()),
    "Member": (Member, frozenset()),
}

# Envelopes and hand-built answers, by name.
SCHEMAS: dict[str, Schema] = {
    "Problem": PROBLEM,
    "CursorPagination": PAGINATION,
    "BookingList": page("bookings", ref("Booking")),
    "MemberList": obj({"members": array(ref("Member")), "nextCursor": nullable(STR)}),
    "CancelledBookings": obj({"cancelled": array(ref("Booking"))}),
    "BookingSeries": obj(
        {"seriesId": STR, "created": array(ref("Booking")), "conflicts": array(OCCURRENCE_CONFLICT)},
        required=["seriesId", "created"],
    ),
    "Series": obj(
        {
            "id": STR,
            "resourceId": STR,
            "customerId": STR,
            "createdBy": STR,
            "vendorId": STR,
            "recurrenceRule": STR,
            "mode": STR,
            "timezone": STR,
            "status": STR,
            "exceptions": array(SERIES_EXCEPTION),
            "conflicts": array(OCCURRENCE_CONFLICT),
            "createdAt": STR,
            "occurrences": array(ref("Booking")),
        },
        extra=True,
    ),
    "SeriesException": obj({"seriesId": STR, "exception": SERIES_EXCEPTION, "booking": ref("Booking")}),
    "PaymentStarted": obj(
        {
            "payment": ref("Payment"),
            "booking": ref("Booking"),
            "clientSecret": nullable(STR),
            "checkoutUrl": nullable(STR),
        }
    ),
    "PaymentDetail": {"allOf": [ref("Payment")], "properties": {"refunds": array(ref("Refund"))}},
    "PaymentList": page("payments", ref("Payment")),
    "Wallet": obj({"balances": array(obj({"currency": STR, "balance": INT}))}),
    "WalletTransactions": page("transactions", ref("WalletEntry")),
    "TopUpStarted": {
        "allOf": [ref("TopUp")],
        "properties": {"clientSecret": nullable(STR), "checkoutUrl": nullable(STR)},
        "required": ["clientSecret", "checkoutUrl"],
    },
    "TopUpList": page("topUps", ref("TopUp")),
    "NotificationList": {**page("notifications", ref("Notification")), "additionalProperties": True},
    "UnreadCount": obj({"unread": INT}),
    "ReadAll": obj({"marked": INT, "unread": INT}),
    "SubscriptionWithSecret": {"allOf": [ref("Subscription")], "properties": {"secret": STR}, "required": ["secret"]},
    "SubscriptionList": page("subscriptions", ref("Subscription")),
    # one HTTP attempt of one event's delivery, newest first (nulls where the attempt had no answer or no retry)
    "DeliveryList": page(
        "deliveries",
        obj(
            {
                "eventId": STR,
                "eventType": STR,
                "attempt": INT,
                "outcome": {"type": "string", "enum": ["delivered", "gone", "retrying", "failed"]},
                "statusCode": nullable(INT),
                "error": nullable(STR),
                "durationMs": nullable(INT),
                "attemptedAt": STR,
                "nextAttemptAt": nullable(STR),
            }
        ),
    ),
    "UserList": page("users", ref("User")),
    "UserStatusChange": {"allOf": [ref("User")], "properties": {"revokedSessions": INT}},
    "AuditEntry": obj(
        {
            "id": STR,
            "at": STR,
            "actor": STR,
            "role": STR,
            "action": STR,
            "targetType": STR,
            "targetId": STR,
            "result": STR,
            "requestId": nullable(STR),
            "detail": ANY_OBJECT,
        },
        required=["id", "at", "actor", "action", "targetType", "targetId", "result"],
        extra=True,
    ),
    "AuditLog": page("entries", ref("AuditEntry")),
    "PlatformStats": obj(
        {
            "users": obj(
                {
                    "byRole": COUNTS,
                    "byStatus": COUNTS,
                    "byRoleAndStatus": {"type": "object", "additionalProperties": COUNTS},
                    "complete": BOOL,
                },
                extra=True,
            ),
            "venues": INT,
            "resources": obj({"active": INT, "archived": INT}, extra=True),
            "bookings": obj({"byStatus": COUNTS, "activeHolds": INT}, required=["byStatus"], extra=True),
        },
        extra=True,
    ),
    # a sign-in: the account and its token pair
    "SignedIn": {"allOf": [ref("TokenPair")], "properties": {"user": ref("User")}, "required": ["user"]},
    # GET /users/me of an external provider's user with no stored profile: what the token says
    "Me": {"anyOf": [ref("User"), obj({"id": STR, "role": STR, "status": STR})]},
    # POST /auth/password/forgot: the one answer, whether or not an account uses the address.
    "ForgotAccepted": obj({"detail": STR}),
    "WindowReport": obj(
        {
            "available": BOOL,
            "startTime": STR,
            "endTime": STR,
            "remaining": INT,
            "conflicts": array(SLOT_CONFLICT),
            "reasons": array(REASON),
        },
        extra=True,
    ),
    "Availability": {
        "allOf": [ref("WindowReport")],
        "properties": {
            "resourceId": STR,
            "resourceName": STR,
            "quantity": INT,
            "duration": {"type": "integer", "description": "minutes"},
            "price": ref("Price"),
            # the bookings in the way: titles only to the resource's vendor or an admin
            "conflictingBookings": array(
                obj(
                    {"id": STR, "startTime": STR, "endTime": STR, "title": STR}, required=["id", "startTime", "endTime"]
                )
            ),
        },
        "required": ["resourceId", "quantity"],
    },
    "BulkAvailability": obj({"resourceId": STR, "quantity": INT, "results": array(ref("WindowReport"))}),
    "FreeSlots": obj(
        {
            "resourceId": STR,
            "timezone": STR,
            "quantity": INT,
            "slots": array(obj({"startTime": STR, "endTime": STR, "remaining": INT})),
        }
    ),
    "Conflicts": obj(
        {"resourceId": STR, "occurrences": INT, "hasConflicts": BOOL, "conflicts": array(OCCURRENCE_CONFLICT)}
    ),
    "WebhookAccepted": obj({"received": BOOL, "id": STR}),
    "HoursChanged": obj(
        {
            "resource": ref("Resource"),
            # kept, with their claims: the calendar decides new bookings only
            "bookingsOutsideHours": array(
                obj(
                    {
                        "id": STR,
                        "reference": STR,
                        "status": STR,
                        "startTime": STR,
                        "endTime": STR,
                        "reason": STR,
                    }
                )
            ),
            "complete": {"type": "boolean", "description": "false: more future bookings exist than were checked"},
        }
    ),
    "FlightList": obj(
        {
            "origin": STR,
            "destination": STR,
            "date": {"type": "string", "format": "date"},
            "passengers": INT,
            "flights": array(
                obj(
                    {
                        "flightNumber": nullable(STR),
                        "venueId": STR,
                        "departureTime": {"type": "string", "description": "in the origin's time, with offset"},
                        "arrivalTime": {"type": "string", "description": "in the destination's time, with offset"},
                        "timezone": STR,
                        "arrivalTimezone": STR,
                        "cabins": array(
                            obj(
                                {
                                    "resourceId": STR,
                                    "name": STR,
                                    "seatsLeft": INT,
                                    "price": obj(
                                        {
                                            "currency": STR,
                                            "amount": {"type": "integer", "description": "all passengers, minor units"},
                                            "perPassenger": INT,
                                        }
                                    ),
                                }
                            )
                        ),
                    }
                )
            ),
        }
    ),
    "ReviewList": page("reviews", ref("Review")),
    # a binary document (API Gateway delivers the bytes: the function sends them base64 with isBase64Encoded)
    "PdfDocument": {"type": "string", "format": "binary", "contentMediaType": "application/pdf"},
    # reports (slotwise.reports, docs/reports.md): hours are numbers with two decimals, nights and seats integers
    "OccupancyReport": obj(
        {
            "from": STR,
            "to": STR,
            "granularity": {"enum": ["day", "week", "month"]},
            "resources": array(
                obj(
                    {
                        "resourceId": STR,
                        "resourceName": STR,
                        "venueId": STR,
                        "unit": {"enum": ["nights", "seats", "hours"]},
                        "periods": array(
                            obj(
                                {
                                    "period": {"type": "string", "description": "YYYY-MM-DD, YYYY-Www or YYYY-MM"},
                                    "from": STR,
                                    "to": STR,
                                    "sold": NUMBER,
                                    "sellable": NUMBER,
                                    "rate": nullable(NUMBER),
                                }
                            )
                        ),
                        "sold": NUMBER,
                        "sellable": NUMBER,
                        "rate": nullable(
                            {"type": "number", "description": "sold / sellable; null when nothing sellable"}
                        ),
                    }
                )
            ),
        }
    ),
    "RevenueReport": obj(
        {
            "from": STR,
            "to": STR,
            "groupBy": {"enum": ["day", "month", "resource", "venue", "advisor"]},
            "rows": array(obj({"group": STR, "currency": STR, **REVENUE_FIGURES})),
            "totals": array(obj({"currency": STR, **REVENUE_FIGURES})),
        }
    ),
    "CsvDocument": {"type": "string", "contentMediaType": "text/csv", "description": "a header row, then one row each"},
    # advisors and their clients (issue 15)
    "MessageList": page("messages", ref("Message")),
    "NotificationsDeleted": obj({"deleted": INT, "more": BOOL}),
    "AdminNotice": obj({"id": STR, "target": STR, "recipients": INT}, required=["id", "target"]),
    # operators' queue depths and dead-letter redrive (slotwise.ops.queues)
    "QueueList": obj(
        {
            "items": array(
                obj(
                    {
                        "name": STR,
                        "visible": INT,
                        "inFlight": INT,
                        "deadLetter": obj({"name": STR, "visible": INT}),
                    }
                )
            )
        }
    ),
    "Redriven": obj({"moved": INT}),
}

# Route key → (success code, schema name or None for no content). Routes not named keep Powertools' answer
# (their return annotation is already a model: the catalog, health).
SUCCESS: dict[str, tuple[int, str | None]] = {
    "POST /api/v1/bookings": (201, "Booking"),
    "POST /api/v1/bookings/recurring": (201, "BookingSeries"),
    "GET /api/v1/bookings": (200, "BookingList"),
    "GET /api/v1/bookings/series/{seriesId}": (200, "Series"),
    "GET /api/v1/bookings/by-reference/{code}": (200, "Booking"),
    "GET /api/v1/bookings/{bookingId}": (200, "Booking"),
    "PUT /api/v1/bookings/{bookingId}": (200, "Booking"),
    "POST /api/v1/bookings/{bookingId}/reschedule": (200, "Booking"),
    "POST /api/v1/bookings/{bookingId}/cancel": (200, "CancelledBookings"),
    "DELETE /api/v1/bookings/{bookingId}": (200, "Booking"),
    "POST /api/v1/bookings/{bookingId}/confirm": (200, "Booking"),
    "POST /api/v1/bookings/{bookingId}/reject": (200, "Booking"),
    "POST /api/v1/bookings/{bookingId}/no-show": (200, "Booking"),
    "POST /api/v1/bookings/{bookingId}/start": (200, "Booking"),
    "POST /api/v1/bookings/{bookingId}/check-in": (200, "Booking"),
    "POST /api/v1/bookings/{bookingId}/complete": (200, "Booking"),
    "POST /api/v1/bookings/{bookingId}/exceptions": (201, "SeriesException"),
    "POST /api/v1/bookings/{bookingId}/payment": (201, "PaymentStarted"),
    "GET /api/v1/bookings/{bookingId}/cancellation-quote": (200, "RefundQuote"),
    "GET /api/v1/payments": (200, "PaymentList"),
    "GET /api/v1/payments/{paymentId}": (200, "PaymentDetail"),
    "GET /api/v1/wallet": (200, "Wallet"),
    "GET /api/v1/wallet/transactions": (200, "WalletTransactions"),
    "POST /api/v1/wallet/top-ups": (201, "TopUpStarted"),
    "GET /api/v1/wallet/top-ups": (200, "TopUpList"),
    "GET /api/v1/wallet/top-ups/{topUpId}": (200, "TopUp"),
    "GET /api/v1/notifications": (200, "NotificationList"),
    "GET /api/v1/notifications/unread-count": (200, "UnreadCount"),
    "POST /api/v1/notifications/read-all": (200, "ReadAll"),
    "POST /api/v1/notifications/{notificationId}/read": (200, "Notification"),
    "DELETE /api/v1/notifications/{notificationId}": (204, None),
    "POST /api/v1/webhook-subscriptions": (201, "SubscriptionWithSecret"),
    "GET /api/v1/webhook-subscriptions": (200, "SubscriptionList"),
    "GET /api/v1/webhook-subscriptions/{subscriptionId}": (200, "Subscription"),
    "PUT /api/v1/webhook-subscriptions/{subscriptionId}": (200, "Subscription"),
    "DELETE /api/v1/webhook-subscriptions/{subscriptionId}": (204, None),
    "POST /api/v1/webhook-subscriptions/{subscriptionId}/rotate-secret": (200, "SubscriptionWithSecret"),
    "GET /api/v1/webhook-subscriptions/{subscriptionId}/deliveries": (200, "DeliveryList"),
    "GET /api/v1/admin/users": (200, "UserList"),
    "POST /api/v1/admin/users/{userId}/approve": (200, "UserStatusChange"),
    "POST /api/v1/admin/users/{userId}/reject": (200, "UserStatusChange"),
    "POST /api/v1/admin/users/{userId}/suspend": (200, "UserStatusChange"),
    "POST /api/v1/admin/users/{userId}/reinstate": (200, "UserStatusChange"),
    "GET /api/v1/admin/stats": (200, "PlatformStats"),
    "GET /api/v1/admin/audit": (200, "AuditLog"),
    "POST /api/v1/auth/register": (201, "SignedIn"),
    "POST /api/v1/auth/login": (200, "SignedIn"),
    "POST /api/v1/auth/refresh": (200, "TokenPair"),
    "POST /api/v1/auth/logout": (204, None),
    "GET /api/v1/users/me": (200, "Me"),
    "PUT /api/v1/users/me": (200, "User"),
    "POST /api/v1/users/me/password": (200, "SignedIn"),
    "POST /api/v1/auth/password/set": (204, None),
    "POST /api/v1/auth/password/forgot": (202, "ForgotAccepted"),
    "POST /api/v1/auth/password/reset": (204, None),
    "POST /api/v1/admin/users": (201, "User"),
    "GET /api/v1/availability": (200, "Availability"),
    "POST /api/v1/availability/bulk": (200, "BulkAvailability"),
    "GET /api/v1/resources/{resourceId}/slots": (200, "FreeSlots"),
    "GET /api/v1/conflicts": (200, "Conflicts"),
    "GET /api/v1/flights": (200, "FlightList"),
    "PUT /api/v1/resources/{resourceId}/availability": (200, "HoursChanged"),
    "POST /api/v1/resources/{resourceId}/schedule-change": (200, "Resource"),
    "POST /api/v1/webhooks/stripe": (200, "WebhookAccepted"),
    "DELETE /api/v1/venues/{venueId}": (204, None),
    "DELETE /api/v1/resources/{resourceId}": (204, None),
    "DELETE /api/v1/resources/{resourceId}/addons/{addonId}": (204, None),
    "POST /api/v1/bookings/{bookingId}/review": (201, "Review"),
    "GET /api/v1/resources/{resourceId}/reviews": (200, "ReviewList"),
    "POST /api/v1/reviews/{reviewId}/reply": (200, "Review"),
    "DELETE /api/v1/reviews/{reviewId}": (204, None),
    "PUT /api/v1/users/me/favourites/{resourceId}": (201, "Favourite"),
    "DELETE /api/v1/users/me/favourites/{resourceId}": (204, None),
    # advisors and their clients (issue 15)
    "GET /api/v1/bookings/{bookingId}/messages": (200, "MessageList"),
    "POST /api/v1/bookings/{bookingId}/messages": (201, "Message"),
    "DELETE /api/v1/bookings/{bookingId}/messages/{messageId}": (204, None),
    "DELETE /api/v1/notifications": (200, "NotificationsDeleted"),
    "POST /api/v1/admin/notifications": (202, "AdminNotice"),
    "GET /api/v1/organisations/me": (200, "MyOrganisation"),
    "GET /api/v1/organisations/{organisationId}/members": (200, "MemberList"),
    "POST /api/v1/organisations/{organisationId}/members": (201, "Member"),
    "DELETE /api/v1/organisations/{organisationId}/members/{userId}": (204, None),
    "GET /api/v1/admin/queues": (200, "QueueList"),
    "POST /api/v1/admin/queues/{name}/redrive": (200, "Redriven"),
}

# Routes whose success has more than one media type: route key → content.
CONTENT: dict[str, Schema] = {
    "GET /api/v1/openapi.json": {"application/json": {"schema": ANY_OBJECT}},
    # Swagger UI, or the document itself with `?format=json`
    "GET /api/v1/docs": {"text/html": {"schema": STR}, "application/json": {"schema": ANY_OBJECT}},
    # the booking's confirmation, binary
    "GET /api/v1/bookings/{bookingId}/confirmation.pdf": {"application/pdf": {"schema": ref("PdfDocument")}},
    # reports: JSON, or CSV with `Accept: text/csv`
    "GET /api/v1/reports/occupancy": {
        "application/json": {"schema": ref("OccupancyReport")},
        "text/csv": {"schema": ref("CsvDocument")},
    },
    "GET /api/v1/reports/revenue": {
        "application/json": {"schema": ref("RevenueReport")},
        "text/csv": {"schema": ref("CsvDocument")},
    },
}

# A route answering more than one success code: (extra code, schema name).
ALSO: dict[str, list[tuple[int, str | None]]] = {
    # an open payment asked for again answers 200 with the same shape
    "POST /api/v1/bookings/{bookingId}/payment": [(200, "PaymentStarted")],
    # a favourite saved already answers 200 with the same shape (idempotent)
    "PUT /api/v1/users/me/favourites/{resourceId}": [(200, "Favourite")],
    # the same Idempotency-Key again: the top-up it made
    "POST /api/v1/wallet/top-ups": [(200, "TopUpStarted")],
}

# Routes outside the problem rules (they answer no problem of their own or none at all).
PLATFORM = frozenset({"GET /api/v1/openapi.json", "GET /api/v1/docs", "GET /api/v1/health"})


# Powertools' own error schemas: the API never answers them (problems replace them).
REPLACED = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def entity_schemas() -> dict[str, Schema]:
    """The entities' serialised schemas and the models they nest, as named components."""
    found: dict[str, Schema] = {}
    for name, (model, excluded) in ENTITIES.items():
        schema = model.model_json_schema(
            mode="serialization", by_alias=True, ref_template="#/components/schemas/{model}"
        )
        for nested_name, nested in schema.pop("$defs", {}).items():
            found.setdefault(nested_name, nested)  # a request model's schema of the same name wins (`components`)
        for field in excluded:
            schema.get("properties", {}).pop(field, None)
        schema["required"] = [f for f in schema.get("required", []) if f not in excluded]
        schema["title"] = name
        found[name] = schema
    return found


def error_codes(route_key: str, operation: Schema, *, request_quota: bool) -> list[int]:
    """The problems an operation can answer, by rule."""
    if route_key in PLATFORM:
        return []
    method = route_key.partition(" ")[0]
    # 404: an id in the path, or one a filter or body names (resourceId, the caller's own profile)
    codes = {400, 401, 404, 422, 500, 503}
    description = operation.get("description") or ""
    if operation.get("security") or "Permission `" in description:
        codes.add(403)
    if method in {"POST", "PUT", "DELETE", "PATCH"}:
        codes.add(409)
    if "requestBody" in operation:
        codes |= {413, 415}
    if request_quota:
        codes.add(429)
    return sorted(codes)


def _response_name(code: int) -> str:
    return "".join(word.capitalize() for word in HTTPStatus(code).phrase.replace("-", " ").split())


def _problem_response(code: int) -> Schema:
    return {"$ref": f"#/components/responses/{_response_name(code)}"}


def problem_responses() -> dict[str, Schema]:
    """The shared problem responses operations refer to (`#/components/responses/NotFound`...)."""
    return {
        _response_name(code): {
            "description": f"{HTTPStatus(code).phrase}: a problem (RFC 9457) with a stable `code`",
            "content": {PROBLEM_CONTENT_TYPE: {"schema": ref("Problem")}},
        }
        for code in (400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503)
    }


def _success_response(code: int, schema_name: str | None) -> Schema:
    if schema_name is None:
        return {"description": HTTPStatus(code).phrase}
    return {"description": HTTPStatus(code).phrase, "content": {"application/json": {"schema": ref(schema_name)}}}


def apply(spec: Schema, *, request_quota: bool) -> Schema:
    """Correct one function's schema in place (and return it)."""
    for replaced in REPLACED:
        spec.get("components", {}).get("schemas", {}).pop(replaced, None)
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            route_key = f"{method.upper()} {path}"
            responses: dict[str, Schema] = operation.setdefault("responses", {})
            if route_key in SUCCESS:
                for documented in [c for c in responses if c.startswith("2")]:
                    del responses[documented]
                for status, name in [SUCCESS[route_key], *ALSO.get(route_key, [])]:
                    responses[str(status)] = _success_response(status, name)
            if route_key in CONTENT:
                responses["200"] = {"description": "OK", "content": CONTENT[route_key]}
            for code in list(responses):
                content = responses[code].get("content") or {}
                if any("HTTPValidationError" in str(c.get("schema")) for c in content.values()):
                    del responses[code]
            for status in error_codes(route_key, operation, request_quota=request_quota):
                responses.setdefault(str(status), _problem_response(status))
    return spec


def add_components(spec: Schema) -> None:
    """The shared schemas and responses every corrected function schema refers to, into the merged document."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in REPLACED:
        schemas.pop(name, None)
    for name, schema in entity_schemas().items():
        if name in ENTITIES:
            schemas[name] = schema
        else:
            schemas.setdefault(name, schema)
    schemas.update(SCHEMAS)
    spec["components"].setdefault("responses", {}).update(problem_responses())
