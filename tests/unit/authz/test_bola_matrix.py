"""Object-level authorization (OWASP API1): every route that takes an id in its path, called on someone else's
object by a caller of every role, is refused and writes nothing.

The expected answer follows from the permission table alone (slotwise.identity.permissions):
  - the role may never perform the route's action  -> 403 (401 when anonymous)
  - the role may, but the object is not theirs      -> 404, exactly like a missing object
A route added to ROUTES with a path parameter and no case here fails `test_the_matrix_covers_every_object_route`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.routes import LOCAL_ROUTES as ROUTES  # the deployed routes and the local runtime's dev routes
from slotwise.catalog import repository
from slotwise.catalog.models import Venue
from slotwise.events.envelope import DomainEvent
from slotwise.identity.models import Caller, User
from slotwise.identity.permissions import PERMISSIONS, Action
from slotwise.identity.repository import put_user
from slotwise.notifications import service as notifications
from slotwise.notifications import store as notification_store
from slotwise.reviews import service as reviews
from slotwise.reviews.models import ReviewInput
from tests.support.http import call
from tests.unit.authz.world import snapshot

API = "/api/v1"
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
OWNER = "owner-v"
VENUE = {"name": "Hall", "city": "Lisbon", "timezone": "Europe/Lisbon"}

# Foreign callers: one of each role, none of them related to the world's objects (None: anonymous).
FOREIGN: list[tuple[str | None, str | None]] = [
    (None, None),
    ("guest-x", "guest"),
    ("cust-x", "customer"),
    ("agent-x", "agent"),
    ("adv-x", "advisor"),
    ("staff-x", "staff"),
    ("vendor-x", "vendor"),
]


def resource_body(venue_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "venueId": venue_id,
        "name": "Advisor hour",
        "type": "advisor",
        "policy": {"unit": "minutes", "granuleMinutes": 30, **changes.pop("policy", {})},
        "pricing": {"currency": "EUR", "unitPrice": 100},
        **changes,
    }


def times(hours: int = 0) -> dict[str, str]:
    start = START + timedelta(hours=hours)
    return {"startTime": start.isoformat(), "endTime": (start + timedelta(hours=1)).isoformat()}


@dataclass
class World:
    ids: dict[str, str] = field(default_factory=dict)
    # The table as the world left it; every case must leave it exactly so.
    baseline: list[str] = field(default_factory=list)


def ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status == status, response.body
    return dict(response.body)


@pytest.fixture(scope="module")
def world(module_table: str) -> World:
    found = World()
    owner = {"user": OWNER, "role": "vendor"}
    venue = ok(call("POST", f"{API}/venues", body=VENUE, **owner))
    advisor_room = ok(
        call(
            "POST",
            f"{API}/resources",
            body=resource_body(
                venue["id"], policy={"confirmation": "approval"}, attributes={"advisorUserId": "adv-own"}
            ),
            **owner,
        )
    )
    plain_room = ok(call("POST", f"{API}/resources", body=resource_body(venue["id"], name="Desk"), **owner))
    addon = ok(
        call("POST", f"{API}/resources/{advisor_room['id']}/addons", body={"name": "Notes", "price": 100}, **owner)
    )
    archived = ok(call("POST", f"{API}/resources", body=resource_body(venue["id"], name="Old"), **owner))
    assert call("DELETE", f"{API}/resources/{archived['id']}", **owner).status == 204
    hidden_venue = Venue.model_validate(
        {**VENUE, "id": "venue-hidden", "ownerId": OWNER, "active": False, "createdAt": START, "updatedAt": START}
    )
    repository.save_venue(hidden_venue)
    # An agent books the advisor for a customer: the request waits for the advisor's approval.
    booking = ok(
        call(
            "POST",
            f"{API}/bookings",
            body={"resourceId": advisor_room["id"], "customerId": "cust-own", **times()},
            user="agent-own",
            role="agent",
        )
    )
    assert booking["status"] == "awaiting_approval"
    series = ok(
        call(
            "POST",
            f"{API}/bookings/recurring",
            body={"resourceId": plain_room["id"], "recurrenceRule": "FREQ=WEEKLY;COUNT=3", **times()},
            user="cust-own",
            role="customer",
        )
    )
    # The request reaches the customer's (and the vendor's and advisor's) in-app notifications.
    notifications.handle(
        DomainEvent(
            type="booking.requested",
            aggregate="booking",
            aggregate_id=booking["id"],
            aggregate_version=booking["version"],
            occurred_at=START,
            data=booking,
        )
    )
    (notification,), _ = notification_store.list_page("cust-own", unread_only=False, limit=10, start_key=None)
    # The customer writes to the advisor about the request (the advisor is notified in-app).
    message = ok(call("POST", f"{API}/bookings/{booking['id']}/messages", body={"text": "Hello"}, user="cust-own"))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert put_user(
        User(id="pending-v", email="p@x.test", name="P", role="vendor", status="pending_approval", created_at=now)
    )
    assert put_user(User(id="active-c", email="c@x.test", name="C", role="customer", created_at=now))
    assert put_user(
        User(id="suspended-c", email="s@x.test", name="S", role="customer", status="suspended", created_at=now)
    )
    # The vendor's webhook subscription (a loopback URL passes the SSRF rules on the test stage only).
    webhook = ok(
        call(
            "POST",
            f"{API}/webhook-subscriptions",
            body={"url": "https://127.0.0.1:8443/hooks", "eventTypes": ["booking.confirmed"]},
            **owner,
        )
    )
    # A held booking of a room sold by payment, with a payment started (the simulated provider of the test stage).
    paid_room = ok(
        call(
            "POST",
            f"{API}/resources",
            body=resource_body(venue["id"], name="Paid desk", policy={"confirmation": "payment"}),
            **owner,
        )
    )
    held = ok(call("POST", f"{API}/bookings", body={"resourceId": paid_room["id"], **times(6)}, user="cust-own"))
    payment = ok(call("POST", f"{API}/bookings/{held['id']}/payment", body={}, user="cust-own"))["payment"]
    top_up = ok(call("POST", f"{API}/wallet/top-ups", body={"amount": 1000, "currency": "EUR"}, user="cust-own"))
    # The vendor's organisation has a staff member (an account of role staff, added by e-mail).
    assert put_user(User(id="staff-own", email="staff-own@x.test", name="S", role="staff", created_at=now))
    organisation = ok(call("GET", f"{API}/organisations/me", **owner), 200)["id"]
    ok(
        call(
            "POST",
            f"{API}/organisations/{organisation}/members",
            body={"email": "staff-own@x.test", "role": "staff"},
            **owner,
        )
    )
    found.ids = {
        "held": held["id"],
        "payment": payment["id"],
        "top_up": top_up["id"],
        "webhook": webhook["id"],
        "venue": venue["id"],
        "hidden_venue": hidden_venue.id,
        "advisor_room": advisor_room["id"],
        "addon": addon["id"],
        "archived": archived["id"],
        "booking": booking["id"],
        "reference": booking["reference"],
        "series": series["seriesId"],
        "first_occurrence_date": series["created"][0]["occurrenceDate"],
        "notification": notification.id,
        "message": message["id"],
        "organisation": organisation,
        "member": "staff-own",
    }
    # A review of the series' first occurrence, written once it is over (the service takes the clock).
    occurrence = series["created"][0]
    review = reviews.create_review(
        Caller(user_id="cust-own", role="customer"),
        occurrence["id"],
        ReviewInput(rating=4),
        now=datetime.fromisoformat(occurrence["endTime"]),
    )
    found.ids["review"] = review.id
    found.baseline = snapshot(module_table)
    return found


@dataclass(frozen=True)
class Case:
    action: Action
    path: Callable[[dict[str, str]], str]
    body: Callable[[dict[str, str]], Any] = lambda ids: None
    query: dict[str, str] = field(default_factory=dict)
    not_found: str = ""
    # The path names the caller's own object (`/users/me/...`): a permitted role gets this answer, and nothing is
    # written (removing a favourite one never saved is idempotent).
    own: tuple[int, None] | None = None


B = f"{API}/bookings/{{bookingId}}"
U = f"{API}/admin/users/{{userId}}"
N = f"{API}/notifications/{{notificationId}}"
W = f"{API}/webhook-subscriptions/{{subscriptionId}}"
WEBHOOK_NOT_FOUND = "webhook_subscription_not_found"
M = f"{API}/organisations/{{organisationId}}/members"
ORG_NOT_FOUND = "organisation_not_found"
SLOTS = {"from": START.isoformat(), "to": (START + timedelta(days=1)).isoformat()}

CASES: dict[str, Case] = {
    f"GET {API}/venues/{{venueId}}": Case(
        "catalog.read", lambda i: f"{API}/venues/{i['hidden_venue']}", not_found="venue_not_found"
    ),
    f"PUT {API}/venues/{{venueId}}": Case(
        "venue.update", lambda i: f"{API}/venues/{i['venue']}", lambda i: VENUE, not_found="venue_not_found"
    ),
    f"DELETE {API}/venues/{{venueId}}": Case(
        "venue.delete", lambda i: f"{API}/venues/{i['venue']}", not_found="venue_not_found"
    ),
    f"GET {API}/resources/{{resourceId}}": Case(
        "catalog.read", lambda i: f"{API}/resources/{i['archived']}", not_found="resource_not_found"
    ),
    f"PUT {API}/resources/{{resourceId}}": Case(
        "resource.update",
        lambda i: f"{API}/resources/{i['advisor_room']}",
        lambda i: resource_body(i["venue"]),
        not_found="resource_not_found",
    ),
    f"DELETE {API}/resources/{{resourceId}}": Case(
        "resource.delete", lambda i: f"{API}/resources/{i['advisor_room']}", not_found="resource_not_found"
    ),
    f"PUT {API}/resources/{{resourceId}}/availability": Case(
        "resource.availability",
        lambda i: f"{API}/resources/{i['advisor_room']}/availability",
        lambda i: {"openingHours": None},
        not_found="resource_not_found",
    ),
    f"POST {API}/resources/{{resourceId}}/schedule-change": Case(
        "resource.update",
        lambda i: f"{API}/resources/{i['advisor_room']}/schedule-change",
        lambda i: {
            "fixedStart": (START + timedelta(days=2)).isoformat(),
            "fixedEnd": (START + timedelta(days=2, hours=1)).isoformat(),
            "reason": "Moved",
        },
        not_found="resource_not_found",
    ),
    f"GET {API}/resources/{{resourceId}}/addons": Case(
        "catalog.read", lambda i: f"{API}/resources/{i['archived']}/addons", not_found="resource_not_found"
    ),
    f"POST {API}/resources/{{resourceId}}/addons": Case(
        "addon.manage",
        lambda i: f"{API}/resources/{i['advisor_room']}/addons",
        lambda i: {"name": "Mine now", "price": 1},
        not_found="resource_not_found",
    ),
    f"PUT {API}/resources/{{resourceId}}/addons/{{addonId}}": Case(
        "addon.manage",
        lambda i: f"{API}/resources/{i['advisor_room']}/addons/{i['addon']}",
        lambda i: {"name": "Mine now", "price": 1},
        not_found="resource_not_found",
    ),
    f"DELETE {API}/resources/{{resourceId}}/addons/{{addonId}}": Case(
        "addon.manage",
        lambda i: f"{API}/resources/{i['advisor_room']}/addons/{i['addon']}",
        not_found="resource_not_found",
    ),
    f"GET {API}/resources/{{resourceId}}/slots": Case(
        "availability.read",
        lambda i: f"{API}/resources/{i['archived']}/slots",
        query=SLOTS,
        not_found="resource_not_found",
    ),
    f"GET {API}/bookings/by-reference/{{code}}": Case(
        "booking.read", lambda i: f"{API}/bookings/by-reference/{i['reference']}", not_found="booking_not_found"
    ),
    f"GET {API}/bookings/series/{{seriesId}}": Case(
        "booking.read", lambda i: f"{API}/bookings/series/{i['series']}", not_found="series_not_found"
    ),
    f"GET {B}": Case("booking.read", lambda i: f"{API}/bookings/{i['booking']}", not_found="booking_not_found"),
    f"PUT {B}": Case(
        "booking.update",
        lambda i: f"{API}/bookings/{i['booking']}",
        lambda i: {"title": "mine now"},
        not_found="booking_not_found",
    ),
    f"DELETE {B}": Case("booking.cancel", lambda i: f"{API}/bookings/{i['booking']}", not_found="booking_not_found"),
    f"POST {B}/reschedule": Case(
        "booking.update",
        lambda i: f"{API}/bookings/{i['booking']}/reschedule",
        lambda i: times(4),
        not_found="booking_not_found",
    ),
    f"POST {B}/cancel": Case(
        "booking.cancel", lambda i: f"{API}/bookings/{i['booking']}/cancel", lambda i: {}, not_found="booking_not_found"
    ),
    f"POST {B}/confirm": Case(
        "booking.decide",
        lambda i: f"{API}/bookings/{i['booking']}/confirm",
        lambda i: {},
        not_found="booking_not_found",
    ),
    f"POST {B}/reject": Case(
        "booking.decide", lambda i: f"{API}/bookings/{i['booking']}/reject", lambda i: {}, not_found="booking_not_found"
    ),
    f"POST {B}/no-show": Case(
        "booking.decide",
        lambda i: f"{API}/bookings/{i['booking']}/no-show",
        lambda i: {},
        not_found="booking_not_found",
    ),
    # The session lifecycle (issue 15): only the session's advisor, vendor or an admin; nobody else sees it.
    f"POST {B}/check-in": Case(
        "booking.check_in", lambda i: f"{API}/bookings/{i['booking']}/check-in", not_found="booking_not_found"
    ),
    f"POST {B}/start": Case(
        "booking.session", lambda i: f"{API}/bookings/{i['booking']}/start", not_found="booking_not_found"
    ),
    f"POST {B}/complete": Case(
        "booking.session", lambda i: f"{API}/bookings/{i['booking']}/complete", not_found="booking_not_found"
    ),
    f"POST {B}/exceptions": Case(
        "booking.update",
        lambda i: f"{API}/bookings/{i['series']}/exceptions",
        lambda i: {"exceptionType": "cancelled", "exceptionDate": i["first_occurrence_date"]},
        not_found="series_not_found",
    ),
    f"GET {W}": Case(
        "webhook.manage", lambda i: f"{API}/webhook-subscriptions/{i['webhook']}", not_found=WEBHOOK_NOT_FOUND
    ),
    f"PUT {W}": Case(
        "webhook.manage",
        lambda i: f"{API}/webhook-subscriptions/{i['webhook']}",
        lambda i: {"description": "mine now", "active": False},
        not_found=WEBHOOK_NOT_FOUND,
    ),
    f"DELETE {W}": Case(
        "webhook.manage", lambda i: f"{API}/webhook-subscriptions/{i['webhook']}", not_found=WEBHOOK_NOT_FOUND
    ),
    f"POST {W}/rotate-secret": Case(
        "webhook.manage",
        lambda i: f"{API}/webhook-subscriptions/{i['webhook']}/rotate-secret",
        lambda i: {},
        not_found=WEBHOOK_NOT_FOUND,
    ),
    f"GET {W}/deliveries": Case(
        "webhook.manage",
        lambda i: f"{API}/webhook-subscriptions/{i['webhook']}/deliveries",
        not_found=WEBHOOK_NOT_FOUND,
    ),
    f"POST {N}/read": Case(
        "notification.update",
        lambda i: f"{API}/notifications/{i['notification']}/read",
        not_found="notification_not_found",
    ),
    f"DELETE {N}": Case(
        "notification.update", lambda i: f"{API}/notifications/{i['notification']}", not_found="notification_not_found"
    ),
    f"POST {B}/payment": Case(
        "payment.create", lambda i: f"{API}/bookings/{i['held']}/payment", lambda i: {}, not_found="booking_not_found"
    ),
    f"GET {B}/cancellation-quote": Case(
        "payment.read", lambda i: f"{API}/bookings/{i['held']}/cancellation-quote", not_found="booking_not_found"
    ),
    f"GET {API}/payments/{{paymentId}}": Case(
        "payment.read", lambda i: f"{API}/payments/{i['payment']}", not_found="payment_not_found"
    ),
    f"POST {API}/dev/payments/{{paymentId}}/{{outcome}}": Case(
        "payment.simulate",
        lambda i: f"{API}/dev/payments/{i['payment']}/fail",
        lambda i: {},
        not_found="payment_not_found",
    ),
    f"POST {B}/review": Case(
        "review.create",
        lambda i: f"{API}/bookings/{i['booking']}/review",
        lambda i: {"rating": 5},
        not_found="booking_not_found",
    ),
    f"GET {API}/resources/{{resourceId}}/reviews": Case(
        "catalog.read", lambda i: f"{API}/resources/{i['archived']}/reviews", not_found="resource_not_found"
    ),
    f"POST {API}/reviews/{{reviewId}}/reply": Case(
        "review.reply",
        lambda i: f"{API}/reviews/{i['review']}/reply",
        lambda i: {"text": "Thanks"},
        not_found="review_not_found",
    ),
    f"DELETE {API}/reviews/{{reviewId}}": Case("review.delete", lambda i: f"{API}/reviews/{i['review']}"),
    f"PUT {API}/users/me/favourites/{{resourceId}}": Case(
        "favourite.manage", lambda i: f"{API}/users/me/favourites/{i['archived']}", not_found="resource_not_found"
    ),
    f"DELETE {API}/users/me/favourites/{{resourceId}}": Case(
        "favourite.manage", lambda i: f"{API}/users/me/favourites/{i['archived']}", own=(204, None)
    ),
    f"GET {API}/wallet/top-ups/{{topUpId}}": Case(
        "wallet.read", lambda i: f"{API}/wallet/top-ups/{i['top_up']}", not_found="top_up_not_found"
    ),
    f"GET {B}/confirmation.pdf": Case(
        "booking.read", lambda i: f"{API}/bookings/{i['booking']}/confirmation.pdf", not_found="booking_not_found"
    ),
    f"GET {M}": Case(
        "organisation.read", lambda i: f"{API}/organisations/{i['organisation']}/members", not_found=ORG_NOT_FOUND
    ),
    f"POST {M}": Case(
        "organisation.manage_members",
        lambda i: f"{API}/organisations/{i['organisation']}/members",
        lambda i: {"email": "staff-own@x.test", "role": "staff"},
        not_found=ORG_NOT_FOUND,
    ),
    f"DELETE {M}/{{userId}}": Case(
        "organisation.manage_members",
        lambda i: f"{API}/organisations/{i['organisation']}/members/{i['member']}",
        not_found=ORG_NOT_FOUND,
    ),
    f"POST {U}/approve": Case("admin.approve", lambda i: f"{API}/admin/users/pending-v/approve", lambda i: {}),
    f"POST {U}/reject": Case("admin.approve", lambda i: f"{API}/admin/users/pending-v/reject", lambda i: {}),
    f"POST {U}/suspend": Case("admin.suspend", lambda i: f"{API}/admin/users/active-c/suspend", lambda i: {}),
    f"POST {U}/reinstate": Case("admin.suspend", lambda i: f"{API}/admin/users/suspended-c/reinstate", lambda i: {}),
    # advisors and their clients (issue 15): another customer, another advisor, a stranger get 404
    f"GET {B}/messages": Case(
        "message.read", lambda i: f"{API}/bookings/{i['booking']}/messages", not_found="booking_not_found"
    ),
    f"POST {B}/messages": Case(
        "message.create",
        lambda i: f"{API}/bookings/{i['booking']}/messages",
        lambda i: {"text": "Let me in"},
        not_found="booking_not_found",
    ),
    f"DELETE {B}/messages/{{messageId}}": Case(
        "message.delete", lambda i: f"{API}/bookings/{i['booking']}/messages/{i['message']}"
    ),
    # the world's advisor has no approved account: not in the directory, to anyone
    f"GET {API}/advisors/{{advisorId}}": Case(
        "catalog.read", lambda i: f"{API}/advisors/adv-own", not_found="advisor_not_found"
    ),
    # operators: a dead-letter redrive is an admin's alone (nothing moves, nothing is audited for anyone else)
    f"POST {API}/admin/queues/{{name}}/redrive": Case(
        "admin.queues_redrive", lambda i: f"{API}/admin/queues/notifications/redrive"
    ),
}


def expected(
    action: Action, role: str | None, not_found: str, own: tuple[int, None] | None = None
) -> tuple[int, str | None]:
    roles = PERMISSIONS[action]
    allowed = own or (404, not_found)
    if role is None:
        return allowed if "guest" in roles else (401, "authentication_required")
    return allowed if role in roles else (403, "permission_denied")


def test_the_matrix_covers_every_object_route() -> None:
    object_routes = {route.route_key for route in ROUTES if "{" in route.path}
    assert set(CASES) == object_routes, "add a case for each new route that takes an id"
    for key, case in CASES.items():
        assert case.action in PERMISSIONS, key
        # Every route an ordinary role may use names the 404 its foreign callers get.
        assert case.not_found or case.own or PERMISSIONS[case.action] == {"admin"}, key


MATRIX = [(key, user, role) for key in CASES for user, role in FOREIGN]


@pytest.mark.parametrize(
    ("route_key", "user", "role"), MATRIX, ids=[f"{k} as {r or 'anonymous'}" for k, _, r in MATRIX]
)
def test_a_foreign_caller_is_refused_and_writes_nothing(
    world: World, module_table: str, route_key: str, user: str | None, role: str | None
) -> None:
    case = CASES[route_key]
    method = route_key.split(" ", 1)[0]
    response = call(
        method, case.path(world.ids), body=case.body(world.ids), query=case.query or None, user=user, role=role
    )
    assert (response.status, response.code) == expected(case.action, role, case.not_found, case.own), response.body
    if response.status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    assert snapshot(module_table) == world.baseline


@pytest.mark.parametrize(("user", "role"), FOREIGN, ids=[r or "anonymous" for _, r in FOREIGN])
def test_a_foreign_caller_cannot_list_what_someone_else_made(
    world: World, module_table: str, user: str | None, role: str | None
) -> None:
    """Listing by creator (`createdBy`) is the caller's own or an admin's: another agent's id is refused, not
    emptied, and a foreign caller's own listing never holds the world's booking."""
    response = call("GET", f"{API}/bookings", query={"createdBy": "agent-own"}, user=user, role=role)
    assert (response.status, response.code) == expected("booking.view_any", role, ""), response.body
    if role is not None and role in PERMISSIONS["booking.read"]:
        for query in (None, {"createdBy": "me"}):
            listed = call("GET", f"{API}/bookings", query=query, user=user, role=role)
            assert listed.status == 200 and world.ids["booking"] not in [b["id"] for b in listed.body["bookings"]]
    if role is not None and role in PERMISSIONS["notification.read"]:
        # Someone else's notifications are never in one's own listing, nor in one's unread count.
        inbox = call("GET", f"{API}/notifications", user=user, role=role)
        assert inbox.status == 200 and world.ids["notification"] not in [n["id"] for n in inbox.body["notifications"]]
        assert call("GET", f"{API}/notifications/unread-count", user=user, role=role).body == {"unread": 0}
    if role is not None and role in PERMISSIONS["payment.read"]:
        # Nobody else's payment is in one's own listing, nor is anyone else's wallet shown.
        listed = call("GET", f"{API}/payments", user=user, role=role)
        assert listed.status == 200 and world.ids["payment"] not in [p["id"] for p in listed.body["payments"]]
        assert call("GET", f"{API}/wallet", user=user, role=role).body == {"balances": []}
        others = call("GET", f"{API}/payments", query={"vendorId": OWNER}, user=user, role=role)
        assert others.status == 403, others.body
    assert snapshot(module_table) == world.baseline


def test_the_objects_exist_for_their_owners(world: World) -> None:
    """The matrix's 404s are about who asks, not about missing objects: their owners reach every one of them."""
    ids = world.ids
    owner = {"user": OWNER, "role": "vendor"}
    assert call("GET", f"{API}/venues/{ids['hidden_venue']}", **owner).status == 200
    assert call("GET", f"{API}/resources/{ids['archived']}", **owner).status == 200
    assert call("GET", f"{API}/resources/{ids['archived']}/slots", query=SLOTS, **owner).status == 200
    assert call("GET", f"{API}/webhook-subscriptions/{ids['webhook']}", **owner).status == 200
    assert call("GET", f"{API}/webhook-subscriptions/{ids['webhook']}/deliveries", **owner).status == 200
    for user, role in [("cust-own", "customer"), ("agent-own", "agent"), (OWNER, "vendor"), ("adv-own", "advisor")]:
        assert call("GET", f"{API}/bookings/{ids['booking']}", user=user, role=role).status == 200, role
        found = call("GET", f"{API}/bookings/by-reference/{ids['reference']}", user=user, role=role)
        assert found.status == 200, role
    # The agent who made the booking lists it (their default listing), as does the customer it is for.
    for user, role in [("agent-own", "agent"), ("cust-own", "customer")]:
        listed = call("GET", f"{API}/bookings", user=user, role=role).body["bookings"]
        assert ids["booking"] in [b["id"] for b in listed], role
    # The payment, its quote and its booking are the customer's (reading them writes nothing).
    customer = {"user": "cust-own", "role": "customer"}
    assert call("GET", f"{API}/payments/{ids['payment']}", **customer).status == 200
    assert call("GET", f"{API}/bookings/{ids['held']}/cancellation-quote", **customer).status == 200
    assert call("GET", f"{API}/payments/{ids['payment']}", **owner).status == 200
    # The conversation is the customer's, the advisor's and the vendor's (reading it writes nothing).
    for user, role in [("cust-own", "customer"), (OWNER, "vendor"), ("adv-own", "advisor")]:
        talk = call("GET", f"{API}/bookings/{ids['booking']}/messages", user=user, role=role)
        assert [m["id"] for m in talk.body["messages"]] == [ids["message"]], role
    # The customer's notification is theirs (listing it writes nothing).
    inbox = call("GET", f"{API}/notifications", user="cust-own", role="customer").body["notifications"]
    assert ids["notification"] in [n["id"] for n in inbox]
    # The advisor sees the request but may not change it (403, not 404: it is visible to them).
    advisor_edit = call("PUT", f"{API}/bookings/{ids['booking']}", body={"title": "x"}, user="adv-own", role="advisor")
    assert (advisor_edit.status, advisor_edit.code) == (403, "permission_denied")
    # The customer sees their booking but may not approve it.
    own_confirm = call("POST", f"{API}/bookings/{ids['booking']}/confirm", body={}, user="cust-own", role="customer")
    assert (own_confirm.status, own_confirm.code) == (403, "permission_denied")
    assert (
        call("GET", f"{API}/admin/users", query={"status": "pending_approval"}, user="root", role="admin").status == 200
    )


# --- accounts made by others (POST /admin/users takes no id in its path, so it is outside CASES) ---------------

INVITE = {"email": "new-staff@x.test", "name": "New", "role": "admin"}


@pytest.mark.parametrize(("user", "role"), FOREIGN, ids=[r or "anonymous" for _, r in FOREIGN])
def test_a_foreign_caller_cannot_make_accounts(
    world: World, module_table: str, user: str | None, role: str | None
) -> None:
    response = call("POST", f"{API}/admin/users", body=INVITE, user=user, role=role)
    assert (response.status, response.code) == expected("user.invite", role, ""), response.body
    assert snapshot(module_table) == world.baseline


@pytest.mark.parametrize("address", ["c@x.test", "S@X.test", " p@x.test"])
def test_an_invitation_never_reaches_an_existing_account(world: World, module_table: str, address: str) -> None:
    """Even an admin cannot take over someone's account by inviting its e-mail: 409, nothing written."""
    body = {**INVITE, "email": address}
    response = call("POST", f"{API}/admin/users", body=body, user="root", role="admin")
    assert (response.status, response.code) == (409, "email_taken"), response.body
    assert snapshot(module_table) == world.baseline


# Reports name their objects in the query (`venueId`, `resourceId`), so the route matrix above does not reach them:
# another's venue or resource is a 404 for every role that may read reports, and reading writes nothing.
REPORT_QUERIES: list[tuple[str, Callable[[dict[str, str]], dict[str, str]], str]] = [
    ("occupancy", lambda i: {"venueId": i["venue"]}, "venue_not_found"),
    ("occupancy", lambda i: {"resourceId": i["advisor_room"]}, "resource_not_found"),
    ("revenue", lambda i: {"venueId": i["venue"]}, "venue_not_found"),
    ("revenue", lambda i: {"resourceId": i["archived"]}, "resource_not_found"),
]
REPORT_MATRIX = [(n, user, role) for n in range(len(REPORT_QUERIES)) for user, role in FOREIGN]


@pytest.mark.parametrize(
    ("n", "user", "role"), REPORT_MATRIX, ids=[f"report {n} as {r or 'anonymous'}" for n, _, r in REPORT_MATRIX]
)
def test_a_foreign_caller_reads_no_report_of_anothers_venue_or_resource(
    world: World, module_table: str, n: int, user: str | None, role: str | None
) -> None:
    report, scope, not_found = REPORT_QUERIES[n]
    query = {**scope(world.ids), "from": "2027-03-01", "to": "2027-03-31"}
    response = call("GET", f"{API}/reports/{report}", query=query, user=user, role=role)
    assert (response.status, response.code) == expected("report.read", role, not_found), response.body
    assert snapshot(module_table) == world.baseline


def test_the_owner_and_the_advisor_read_their_reports(world: World) -> None:
    days = {"from": "2027-03-01", "to": "2027-03-31"}
    owner = call(
        "GET", f"{API}/reports/occupancy", query={"venueId": world.ids["venue"], **days}, user=OWNER, role="vendor"
    )
    assert owner.status == 200
    assert world.ids["archived"] in [r["resourceId"] for r in owner.body["resources"]]  # its past still counts
    advisor = {"user": "adv-own", "role": "advisor"}
    mine = call("GET", f"{API}/reports/occupancy", query={"resourceId": world.ids["advisor_room"], **days}, **advisor)
    assert mine.status == 200
    # Their venue holds other resources of the vendor: the advisor's venue report shows only theirs.
    venue = call("GET", f"{API}/reports/occupancy", query={"venueId": world.ids["venue"], **days}, **advisor)
    assert [r["resourceId"] for r in venue.body["resources"]] == [world.ids["advisor_room"]]
