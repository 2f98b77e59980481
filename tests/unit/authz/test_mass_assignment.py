"""Mass assignment (OWASP API3): a client can never set price, status, owner, role or version. Every POST/PUT body
of the catalog, availability, bookings and admin functions refuses each such field with 422 and writes nothing.

The auth group's bodies (register, login, profile) belong to the identity core and are tested there: `role` is a
legitimate field of /auth/register (a self-service role), so the list below does not apply to it as is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devstack.routes import LOCAL_ROUTES as ROUTES  # the deployed routes and the local runtime's dev routes
from slotwise.api.routes import API_PREFIX
from tests.support.http import call
from tests.unit.authz.world import snapshot

CHECKED_GROUPS = frozenset({"catalog", "availability", "bookings", "admin", "webhook_subscriptions", "payments", "dev"})
FORBIDDEN = ["price", "status", "owner", "ownerId", "vendorId", "role", "version"]
TIMES = {"startTime": "2027-03-01T09:00:00Z", "endTime": "2027-03-01T10:00:00Z"}
VENUE = {"name": "Hall", "city": "Lisbon", "timezone": "Europe/Lisbon"}
RESOURCE = {
    "venueId": "v-1",
    "name": "Room",
    "type": "meeting_room",
    "pricing": {"currency": "EUR", "unitPrice": 100},
}
B = f"{API_PREFIX}/bookings/{{bookingId}}"
U = f"{API_PREFIX}/admin/users/{{userId}}"
W = f"{API_PREFIX}/webhook-subscriptions"
HOOK = {"url": "https://127.0.0.1:8443/hooks", "eventTypes": ["*"]}

# A body each route accepts as far as validation goes; the forbidden field is added to it.
BODIES: dict[str, Callable[[], dict[str, Any]]] = {
    f"POST {API_PREFIX}/venues": lambda: dict(VENUE),
    f"PUT {API_PREFIX}/venues/{{venueId}}": lambda: dict(VENUE),
    f"POST {API_PREFIX}/resources": lambda: dict(RESOURCE),
    f"PUT {API_PREFIX}/resources/{{resourceId}}": lambda: dict(RESOURCE),
    f"PUT {API_PREFIX}/resources/{{resourceId}}/availability": lambda: {"openingHours": None},
    f"POST {API_PREFIX}/resources/{{resourceId}}/schedule-change": lambda: {
        "fixedStart": "2027-03-01T11:00:00Z",
        "fixedEnd": "2027-03-01T12:00:00Z",
        "reason": "Crew rest",
    },
    # An add-on's `price` is its vendor's own field (like a resource's pricing): refused here only as "x" is no
    # amount; its other server-owned fields (status, version, owner) are refused as extra fields.
    f"POST {API_PREFIX}/resources/{{resourceId}}/addons": lambda: {"name": "Projector", "price": 500},
    f"PUT {API_PREFIX}/resources/{{resourceId}}/addons/{{addonId}}": lambda: {"name": "Projector", "price": 500},
    f"POST {API_PREFIX}/quotes": lambda: {"resourceId": "r-1", **TIMES},
    f"POST {API_PREFIX}/availability/bulk": lambda: {"resourceId": "r-1", "timeSlots": [TIMES]},
    f"POST {API_PREFIX}/bookings": lambda: {"resourceId": "r-1", **TIMES},
    f"POST {API_PREFIX}/bookings/recurring": lambda: {
        "resourceId": "r-1",
        "recurrenceRule": "FREQ=DAILY;COUNT=2",
        **TIMES,
    },
    f"PUT {B}": lambda: {"title": "New title"},
    f"POST {B}/reschedule": lambda: dict(TIMES),
    f"POST {B}/cancel": lambda: {"reason": "plans changed"},
    f"POST {B}/confirm": lambda: {},
    f"POST {B}/reject": lambda: {},
    f"POST {B}/no-show": lambda: {},
    f"POST {B}/exceptions": lambda: {"exceptionType": "cancelled", "exceptionDate": "2027-03-01"},
    f"POST {B}/review": lambda: {"rating": 5},
    f"POST {API_PREFIX}/reviews/{{reviewId}}/reply": lambda: {"text": "Thanks"},
    # `role` is a field of this body: refused above only because "x" is no role (and a guest is nobody's account).
    f"POST {API_PREFIX}/admin/users": lambda: {"email": "new@x.test", "name": "New", "role": "staff"},
    f"POST {U}/approve": lambda: {},
    f"POST {U}/reject": lambda: {},
    f"POST {U}/suspend": lambda: {},
    f"POST {U}/reinstate": lambda: {},
    f"POST {W}": lambda: dict(HOOK),
    f"PUT {W}/{{subscriptionId}}": lambda: {"description": "Orders"},
    f"POST {W}/{{subscriptionId}}/rotate-secret": lambda: {},
    f"POST {B}/payment": lambda: {"walletAmount": 0},
    f"POST {API_PREFIX}/dev/payments/{{paymentId}}/{{outcome}}": lambda: {},
    f"POST {API_PREFIX}/wallet/top-ups": lambda: {"amount": 1000, "currency": "EUR"},
    # advisors and their clients (issue 15); `role` on a notice names its audience and accepts only a role name
    f"POST {B}/messages": lambda: {"text": "Hello"},
    f"POST {API_PREFIX}/admin/notifications": lambda: {"userId": "u-1", "title": "Hi", "body": "Maintenance at 2"},
}


# Routes that take no body at all: what they change is named by the path alone.
WITHOUT_BODY = frozenset(
    {
        f"PUT {API_PREFIX}/users/me/favourites/{{resourceId}}",
        # A session's start and completion take no body: nothing a client sends reaches the booking.
        f"POST {API_PREFIX}/bookings/{{bookingId}}/start",
        f"POST {API_PREFIX}/bookings/{{bookingId}}/check-in",
        f"POST {API_PREFIX}/bookings/{{bookingId}}/complete",
        # A redrive takes no body: which queue is the path, how many is the dead-letter queue's content.
        f"POST {API_PREFIX}/admin/queues/{{name}}/redrive",
    }
)


def concrete(path: str) -> str:
    for name in (
        "venueId",
        "resourceId",
        "addonId",
        "bookingId",
        "userId",
        "subscriptionId",
        "paymentId",
        "outcome",
        "reviewId",
    ):
        path = path.replace(f"{{{name}}}", "some-id")
    return path


def test_every_body_route_is_covered() -> None:
    with_bodies = {r.route_key for r in ROUTES if r.method in ("POST", "PUT") and r.group in CHECKED_GROUPS}
    assert set(BODIES) == with_bodies - WITHOUT_BODY, "add a body for each new POST/PUT route"
    other = {r.group for r in ROUTES if r.method in ("POST", "PUT")} - CHECKED_GROUPS
    # notifications: its POST routes (read, read-all) take no body, so there is nothing to assign.
    # stripe_webhooks: the body is Stripe's event, accepted only with a valid signature (tests/unit/payments).
    assert other <= {"auth", "notifications", "stripe_webhooks"}, (
        f"decide how the mass-assignment matrix covers {other}"
    )


@pytest.mark.parametrize("route_key", sorted(BODIES))
def test_the_plain_body_passes_validation(module_table: str, route_key: str) -> None:
    """The control: without the forbidden field, the body is not refused by validation (the 422s below are about
    the field alone)."""
    method, path = route_key.split(" ", 1)
    response = call(method, concrete(path), body=BODIES[route_key](), user="root", role="admin")
    assert response.code != "validation_failed", response.body


CASES = [(route_key, name) for route_key in sorted(BODIES) for name in FORBIDDEN]


@pytest.mark.parametrize(("route_key", "field"), CASES, ids=[f"{k} +{f}" for k, f in CASES])
def test_server_owned_fields_are_refused(module_table: str, route_key: str, field: str) -> None:
    method, path = route_key.split(" ", 1)
    before = snapshot(module_table)
    body = {**BODIES[route_key](), field: "x" if field != "version" else 7}
    response = call(method, concrete(path), body=body, user="root", role="admin")
    assert (response.status, response.code) == (422, "validation_failed"), response.body
    assert ["body", field] in [error["location"] for error in response.body["errors"]]
    assert snapshot(module_table) == before


# The organisation routes live in the auth group; their one body names an account and a role (`role` is the
# membership's, staff or agent, and must be the account's own; `name` and `locale` only name a new account), so
# every other server-owned field is checked here.
MEMBERS = f"{API_PREFIX}/organisations/org-owner-v/members"
MEMBER_FORBIDDEN = ["organisationId", "userId", "ownerId", "status", "addedBy", "addedAt", "version", "password"]


@pytest.mark.parametrize("field", MEMBER_FORBIDDEN)
def test_member_bodies_refuse_server_owned_fields(module_table: str, field: str) -> None:
    before = snapshot(module_table)
    body = {"email": "someone@x.test", "role": "staff", field: "x" if field != "version" else 7}
    response = call("POST", MEMBERS, body=body, user="owner-v", role="vendor")
    assert (response.status, response.code) == (422, "validation_failed"), response.body
    assert ["body", field] in [error["location"] for error in response.body["errors"]]
    assert snapshot(module_table) == before


def test_member_roles_are_staff_or_agent_only(module_table: str) -> None:
    before = snapshot(module_table)
    for role in ("vendor", "admin", "customer", "owner"):
        body = {"email": "someone@x.test", "role": role}
        response = call("POST", MEMBERS, body=body, user="owner-v", role="vendor")
        assert (response.status, response.code) == (422, "validation_failed"), role
    assert snapshot(module_table) == before
