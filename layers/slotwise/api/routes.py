"""The route table: every public route and the function group that serves it.

API Gateway's routes (CDK), the local runtime's dispatcher, the 405 logic and the OpenAPI completeness test all
read this table. A handler that serves a route not listed here, or misses one listed, fails `tests/unit/api`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

API_PREFIX = "/api/v1"
# Requests that match no route go to this group, which answers 404/405 as problem+json.
FALLBACK_GROUP = "health"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    group: str

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return path_pattern(self.path)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


def path_pattern(path: str) -> re.Pattern[str]:
    """`/venues/{id}` -> a regex with a named group per parameter; `{proxy+}` is greedy, as in API Gateway."""
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            regex += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


ROUTES: tuple[Route, ...] = (
    Route("GET", f"{API_PREFIX}/health", "health"),
    Route("GET", f"{API_PREFIX}/openapi.json", "health"),
    Route("GET", f"{API_PREFIX}/docs", "health"),
    # auth (identity: own issuer and the caller's profile)
    Route("POST", f"{API_PREFIX}/auth/register", "auth"),
    Route("POST", f"{API_PREFIX}/auth/login", "auth"),
    Route("POST", f"{API_PREFIX}/auth/refresh", "auth"),
    Route("POST", f"{API_PREFIX}/auth/logout", "auth"),
    Route("GET", f"{API_PREFIX}/users/me", "auth"),
    Route("PUT", f"{API_PREFIX}/users/me", "auth"),
    Route("POST", f"{API_PREFIX}/users/me/password", "auth"),
    Route("POST", f"{API_PREFIX}/auth/password/set", "auth"),
    Route("POST", f"{API_PREFIX}/auth/password/forgot", "auth"),
    Route("POST", f"{API_PREFIX}/auth/password/reset", "auth"),
    # organisations (identity: a vendor's organisation and its staff and agents)
    Route("GET", f"{API_PREFIX}/organisations/me", "auth"),
    Route("GET", f"{API_PREFIX}/organisations/{{organisationId}}/members", "auth"),
    Route("POST", f"{API_PREFIX}/organisations/{{organisationId}}/members", "auth"),
    Route("DELETE", f"{API_PREFIX}/organisations/{{organisationId}}/members/{{userId}}", "auth"),
    # catalog
    Route("GET", f"{API_PREFIX}/venues", "catalog"),
    Route("POST", f"{API_PREFIX}/venues", "catalog"),
    Route("GET", f"{API_PREFIX}/venues/{{venueId}}", "catalog"),
    Route("PUT", f"{API_PREFIX}/venues/{{venueId}}", "catalog"),
    Route("DELETE", f"{API_PREFIX}/venues/{{venueId}}", "catalog"),
    Route("GET", f"{API_PREFIX}/resources", "catalog"),
    Route("POST", f"{API_PREFIX}/resources", "catalog"),
    Route("GET", f"{API_PREFIX}/resources/{{resourceId}}", "catalog"),
    Route("PUT", f"{API_PREFIX}/resources/{{resourceId}}", "catalog"),
    Route("DELETE", f"{API_PREFIX}/resources/{{resourceId}}", "catalog"),
    Route("POST", f"{API_PREFIX}/resources/{{resourceId}}/schedule-change", "catalog"),
    Route("GET", f"{API_PREFIX}/resources/{{resourceId}}/addons", "catalog"),
    Route("POST", f"{API_PREFIX}/resources/{{resourceId}}/addons", "catalog"),
    Route("PUT", f"{API_PREFIX}/resources/{{resourceId}}/addons/{{addonId}}", "catalog"),
    Route("DELETE", f"{API_PREFIX}/resources/{{resourceId}}/addons/{{addonId}}", "catalog"),
    # reviews and favourites (slotwise.reviews, slotwise.favourites; reviewing a booking is in `bookings`)
    Route("GET", f"{API_PREFIX}/resources/{{resourceId}}/reviews", "catalog"),
    Route("POST", f"{API_PREFIX}/reviews/{{reviewId}}/reply", "catalog"),
    Route("DELETE", f"{API_PREFIX}/reviews/{{reviewId}}", "catalog"),
    Route("GET", f"{API_PREFIX}/users/me/favourites", "catalog"),
    Route("PUT", f"{API_PREFIX}/users/me/favourites/{{resourceId}}", "catalog"),
    Route("DELETE", f"{API_PREFIX}/users/me/favourites/{{resourceId}}", "catalog"),
    # availability
    Route("GET", f"{API_PREFIX}/availability", "availability"),
    Route("POST", f"{API_PREFIX}/availability/bulk", "availability"),
    Route("GET", f"{API_PREFIX}/resources/{{resourceId}}/slots", "availability"),
    Route("GET", f"{API_PREFIX}/conflicts", "availability"),
    Route("GET", f"{API_PREFIX}/flights", "availability"),
    Route("PUT", f"{API_PREFIX}/resources/{{resourceId}}/availability", "availability"),
    Route("POST", f"{API_PREFIX}/quotes", "availability"),
    # bookings
    Route("POST", f"{API_PREFIX}/bookings", "bookings"),
    Route("GET", f"{API_PREFIX}/bookings", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/recurring", "bookings"),
    Route("GET", f"{API_PREFIX}/bookings/series/{{seriesId}}", "bookings"),
    Route("GET", f"{API_PREFIX}/bookings/by-reference/{{code}}", "bookings"),
    Route("GET", f"{API_PREFIX}/bookings/{{bookingId}}", "bookings"),
    Route("GET", f"{API_PREFIX}/bookings/{{bookingId}}/confirmation.pdf", "bookings"),
    Route("PUT", f"{API_PREFIX}/bookings/{{bookingId}}", "bookings"),
    Route("DELETE", f"{API_PREFIX}/bookings/{{bookingId}}", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/reschedule", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/cancel", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/confirm", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/reject", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/no-show", "bookings"),
    # the session lifecycle (issue 15): started and completed by its advisor or vendor
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/start", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/check-in", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/complete", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/exceptions", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/review", "bookings"),
    # payments (slotwise.payments): paying for a hold, refund quotes, payments, the wallet (the simulated provider's
    # outcome switch is a development route: devstack.routes, served by the local runtime only, never deployed)
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/payment", "payments"),
    Route("GET", f"{API_PREFIX}/bookings/{{bookingId}}/cancellation-quote", "payments"),
    Route("GET", f"{API_PREFIX}/payments", "payments"),
    Route("GET", f"{API_PREFIX}/payments/{{paymentId}}", "payments"),
    Route("GET", f"{API_PREFIX}/wallet", "payments"),
    Route("GET", f"{API_PREFIX}/wallet/transactions", "payments"),
    Route("POST", f"{API_PREFIX}/wallet/top-ups", "payments"),
    Route("GET", f"{API_PREFIX}/wallet/top-ups", "payments"),
    Route("GET", f"{API_PREFIX}/wallet/top-ups/{{topUpId}}", "payments"),
    # Stripe's webhook calls: signature-verified and queued (its own function; no bearer token, the signature is
    # the authentication)
    Route("POST", f"{API_PREFIX}/webhooks/stripe", "stripe_webhooks"),
    # notifications (the caller's own in-app notifications)
    Route("GET", f"{API_PREFIX}/notifications", "notifications"),
    Route("GET", f"{API_PREFIX}/notifications/unread-count", "notifications"),
    Route("POST", f"{API_PREFIX}/notifications/read-all", "notifications"),
    Route("POST", f"{API_PREFIX}/notifications/{{notificationId}}/read", "notifications"),
    Route("DELETE", f"{API_PREFIX}/notifications/{{notificationId}}", "notifications"),
    # admin
    Route("GET", f"{API_PREFIX}/admin/users", "admin"),
    Route("POST", f"{API_PREFIX}/admin/users", "admin"),
    Route("POST", f"{API_PREFIX}/admin/users/{{userId}}/approve", "admin"),
    Route("POST", f"{API_PREFIX}/admin/users/{{userId}}/reject", "admin"),
    Route("POST", f"{API_PREFIX}/admin/users/{{userId}}/suspend", "admin"),
    Route("POST", f"{API_PREFIX}/admin/users/{{userId}}/reinstate", "admin"),
    Route("GET", f"{API_PREFIX}/admin/stats", "admin"),
    Route("GET", f"{API_PREFIX}/admin/audit", "admin"),
    # occupancy and revenue reports from the stream's aggregates (slotwise.reports)
    Route("GET", f"{API_PREFIX}/reports/occupancy", "reports"),
    Route("GET", f"{API_PREFIX}/reports/revenue", "reports"),
    # outbound webhooks: vendors' and admins' subscriptions (delivery is the `webhooks` queue consumer)
    Route("POST", f"{API_PREFIX}/webhook-subscriptions", "webhook_subscriptions"),
    Route("GET", f"{API_PREFIX}/webhook-subscriptions", "webhook_subscriptions"),
    Route("GET", f"{API_PREFIX}/webhook-subscriptions/{{subscriptionId}}", "webhook_subscriptions"),
    Route("PUT", f"{API_PREFIX}/webhook-subscriptions/{{subscriptionId}}", "webhook_subscriptions"),
    Route("DELETE", f"{API_PREFIX}/webhook-subscriptions/{{subscriptionId}}", "webhook_subscriptions"),
    Route("POST", f"{API_PREFIX}/webhook-subscriptions/{{subscriptionId}}/rotate-secret", "webhook_subscriptions"),
    Route("GET", f"{API_PREFIX}/webhook-subscriptions/{{subscriptionId}}/deliveries", "webhook_subscriptions"),
    # advisors and their clients (issue 15): a booking's messages (slotwise.messages), clearing one's notifications,
    # an admin's notice to a user or a role, finding advisors (slotwise.catalog.advisors)
    Route("GET", f"{API_PREFIX}/bookings/{{bookingId}}/messages", "bookings"),
    Route("POST", f"{API_PREFIX}/bookings/{{bookingId}}/messages", "bookings"),
    Route("DELETE", f"{API_PREFIX}/bookings/{{bookingId}}/messages/{{messageId}}", "bookings"),
    Route("DELETE", f"{API_PREFIX}/notifications", "notifications"),
    Route("POST", f"{API_PREFIX}/admin/notifications", "admin"),
    # operators: queue depths and dead-letter redrive (slotwise.ops.queues; the CLI's `slotwise dlq`)
    Route("GET", f"{API_PREFIX}/admin/queues", "admin"),
    Route("POST", f"{API_PREFIX}/admin/queues/{{name}}/redrive", "admin"),
    Route("GET", f"{API_PREFIX}/advisors", "catalog"),
    Route("GET", f"{API_PREFIX}/advisors/{{advisorId}}", "catalog"),
)


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


def match(method: str, path: str, routes: tuple[Route, ...] = ROUTES) -> RouteMatch | None:
    """The route for this method and path; static paths win over parameterised ones, as in API Gateway."""
    candidates = [r for r in routes if r.method == method.upper() and r.pattern.match(path)]
    if not candidates:
        return None
    best = min(candidates, key=lambda r: (r.path.count("{"), -len(r.path)))
    found = best.pattern.match(path)
    assert found is not None
    return RouteMatch(best, {k: v for k, v in found.groupdict().items() if v is not None})


def allowed_methods(path: str, routes: tuple[Route, ...] = ROUTES) -> list[str]:
    """Methods that some route accepts on this path (empty: the path is unknown)."""
    return sorted({r.method for r in routes if r.pattern.match(path)})


def groups(routes: tuple[Route, ...] = ROUTES) -> list[str]:
    return sorted({r.group for r in routes})
