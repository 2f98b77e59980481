"""The one permission table: which role may attempt which action. Services call `require` before anything else.

Two levels, always in this order:

1. **Role level (this table).** An action the caller's role can never perform is refused before any object is
   read: 401 `authentication_required` for an anonymous caller, 403 `permission_denied` for a signed-in one. The
   answer is the same whatever id was asked for, so it reveals nothing about ids.
2. **Object level (the services).** On an action the role may perform, an object the caller may not see (someone
   else's booking, venue, archived resource, series) answers **404** exactly like a missing one: ids are not an
   oracle. An object the caller may see but not change in that way (a customer's own booking they try to
   approve, an advisor's request they try to cancel) answers 403. `OBJECT_RULES` says who "owns" what.

Approval gate: actions in `NEEDS_ACTIVE_ACCOUNT` also need the account's stored status to be `active`, read from
the user's profile (`slotwise.identity.status`) on each such call, so an admin's approval or suspension counts from
the next request. A caller with no profile (identity headers, an external OIDC provider) has the status the edge
put on the Caller. Every other action only refuses callers whose token says `suspended`.

Organisations (`slotwise.organisations.service`, ADR 0011): a vendor's venues, resources and bookings belong to
the vendor's organisation, and its staff act on them as the vendor does. "Own" in `OBJECT_RULES` means "of the
caller's organisation" for vendors and staff; the one check is `organisations.same_organisation`. Agents of an
organisation book for customers and act on the bookings they made; admins act on everything.
"""

from __future__ import annotations

from typing import Literal, get_args

from slotwise import errors
from slotwise.identity.models import ROLES, Caller, Role
from slotwise.observability import logger

Action = Literal[
    "catalog.read",
    "availability.read",
    "venue.create",
    "venue.update",
    "venue.delete",
    "resource.create",
    "resource.update",
    "resource.availability",
    "resource.delete",
    "catalog.manage_any",
    "addon.manage",
    "quote.create",
    "booking.create",
    "booking.create_for_other",
    "booking.read",
    "booking.update",
    "booking.cancel",
    "booking.decide",
    "booking.session",
    "booking.check_in",
    "booking.view_any",
    "booking.manage_any",
    "notification.read",
    "notification.update",
    "payment.create",
    "payment.read",
    "payment.view_any",
    "payment.simulate",
    "wallet.read",
    "wallet.top_up",
    "webhook.manage",
    "webhook.manage_any",
    "admin.users",
    "admin.approve",
    "admin.suspend",
    "admin.stats",
    "admin.audit",
    "review.create",
    "review.reply",
    "review.delete",
    "favourite.manage",
    "user.invite",
    "report.read",
    "report.view_any",
    "message.read",
    "message.create",
    "message.delete",
    "admin.notify",
    "organisation.read",
    "organisation.manage_members",
    "organisation.manage_any",
    # operators: work queues, their dead-letter queues and the redrive (slotwise.ops.queues)
    "admin.queues",
    "admin.queues_redrive",
]
ACTIONS: tuple[Action, ...] = get_args(Action)

_USERS: tuple[Role, ...] = ("admin", "vendor", "staff", "agent", "advisor", "customer")
_EVERYONE: tuple[Role, ...] = (*_USERS, "guest")
_CATALOG: tuple[Role, ...] = ("admin", "vendor", "staff")
_ADMIN: tuple[Role, ...] = ("admin",)

# role x action: the roles that may attempt each action.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    "catalog.read": frozenset(_EVERYONE),
    "availability.read": frozenset(_EVERYONE),
    "venue.create": frozenset(_CATALOG),
    "venue.update": frozenset(_CATALOG),
    "venue.delete": frozenset(_CATALOG),
    "resource.create": frozenset(_CATALOG),
    "resource.update": frozenset(_CATALOG),
    "resource.availability": frozenset({*_CATALOG, "advisor"}),
    "resource.delete": frozenset(_CATALOG),
    "catalog.manage_any": frozenset(_ADMIN),
    "addon.manage": frozenset(_CATALOG),
    "quote.create": frozenset(_EVERYONE),
    "booking.create": frozenset(_USERS),
    "booking.create_for_other": frozenset({"admin", "vendor", "staff", "agent"}),
    "booking.read": frozenset(_USERS),
    "booking.update": frozenset(_USERS),
    "booking.cancel": frozenset(_USERS),
    "booking.decide": frozenset({"admin", "vendor", "staff", "advisor"}),
    "booking.session": frozenset({"admin", "vendor", "staff", "advisor"}),
    "booking.check_in": frozenset({"admin", "vendor", "staff"}),
    "booking.view_any": frozenset(_ADMIN),
    "booking.manage_any": frozenset(_ADMIN),
    "notification.read": frozenset(_USERS),
    "notification.update": frozenset(_USERS),
    "payment.create": frozenset(_USERS),
    "payment.read": frozenset(_USERS),
    "payment.view_any": frozenset(_ADMIN),
    "payment.simulate": frozenset(_USERS),
    "wallet.read": frozenset(_USERS),
    "wallet.top_up": frozenset(_USERS),
    "webhook.manage": frozenset({"admin", "vendor"}),
    "webhook.manage_any": frozenset(_ADMIN),
    "admin.users": frozenset(_ADMIN),
    "admin.approve": frozenset(_ADMIN),
    "admin.suspend": frozenset(_ADMIN),
    "admin.stats": frozenset(_ADMIN),
    "admin.audit": frozenset(_ADMIN),
    "review.create": frozenset(_USERS),
    "review.reply": frozenset(_CATALOG),
    "review.delete": frozenset(_ADMIN),
    "favourite.manage": frozenset(_USERS),
    "user.invite": frozenset(_ADMIN),
    "report.read": frozenset({*_CATALOG, "advisor"}),
    "report.view_any": frozenset(_ADMIN),
    "message.read": frozenset(_USERS),
    "message.create": frozenset(_USERS),
    "message.delete": frozenset(_ADMIN),
    "admin.notify": frozenset(_ADMIN),
    "organisation.read": frozenset({"admin", "vendor", "staff", "agent"}),
    "organisation.manage_members": frozenset({"admin", "vendor"}),
    "organisation.manage_any": frozenset(_ADMIN),
    "admin.queues": frozenset(_ADMIN),
    "admin.queues_redrive": frozenset(_ADMIN),
}

# Actions that need an account an admin approved and nobody suspended (checked against the stored profile).
NEEDS_ACTIVE_ACCOUNT: frozenset[Action] = frozenset(
    {
        "venue.create",
        "venue.update",
        "venue.delete",
        "resource.create",
        "resource.update",
        "resource.availability",
        "resource.delete",
        "addon.manage",
        "booking.decide",
        "booking.session",
        "booking.check_in",
        "webhook.manage",
        "admin.users",
        "admin.approve",
        "admin.suspend",
        "admin.stats",
        "admin.audit",
        "review.reply",
        "review.delete",
        "user.invite",
        "report.read",
        "message.delete",
        "admin.notify",
        "organisation.manage_members",
        "admin.queues",
        "admin.queues_redrive",
    }
)

# What each action is, for error messages and documentation.
DESCRIPTIONS: dict[Action, str] = {
    "catalog.read": "browse venues and resources",
    "availability.read": "check availability, free slots and conflicts",
    "venue.create": "create a venue (the caller owns it)",
    "venue.update": "replace a venue",
    "venue.delete": "delete a venue",
    "resource.create": "create a resource in a venue",
    "resource.update": "replace a resource",
    "resource.availability": "replace a resource's opening hours, date overrides and blackout dates (nothing else)",
    "resource.delete": "archive a resource",
    "catalog.manage_any": "manage any owner's venues and resources",
    "addon.manage": "create, replace and archive a resource's add-ons",
    "quote.create": "price a booking before making it (lines, cancellation terms, availability)",
    "booking.create": "book (single or recurring)",
    "booking.create_for_other": "book on behalf of another customer (customerId)",
    "booking.read": "read and list bookings",
    "booking.update": "change a booking's details, reschedule it, add series exceptions",
    "booking.cancel": "cancel a booking (or a series from an occurrence on)",
    "booking.decide": "confirm or reject a booking that waits for approval or payment",
    "booking.session": "start a session (from 15 minutes before it) and complete it, capturing an authorized payment",
    "booking.check_in": "check a guest in (from the day of arrival): the stay is in progress",
    "booking.view_any": "read any booking, list any customer's bookings or the bookings anyone made",
    "booking.manage_any": "change, cancel or decide any booking",
    "notification.read": "list your in-app notifications and count the unread ones",
    "notification.update": "mark your in-app notifications read, or delete them",
    "payment.create": "pay for a held booking (card, wallet, or both)",
    "payment.read": "read payments and refund quotes",
    "payment.view_any": "list and read every payment",
    "payment.simulate": "make the simulated provider succeed or fail a payment (local runtime only)",
    "wallet.read": "read your wallet balance and its transactions",
    "wallet.top_up": "add money to your wallet through the payment provider (within per-top-up and daily limits)",
    "webhook.manage": "register, change, rotate and delete webhook subscriptions and read their deliveries",
    "webhook.manage_any": "manage any owner's webhook subscriptions",
    "admin.users": "list users by role and status",
    "admin.approve": "approve or reject vendors and advisors",
    "admin.suspend": "suspend or reinstate users",
    "admin.stats": "read platform counters",
    "admin.audit": "read the audit log",
    "review.create": "review a booking of yours once it is over",
    "review.reply": "reply once to a review of a resource",
    "review.delete": "remove a review (it leaves the resource's rating)",
    "favourite.manage": "save, list and remove your favourite resources",
    "user.invite": "make an account of any role, which the invitee activates with an e-mailed set-password link",
    "report.read": "read occupancy and revenue reports (JSON or CSV)",
    "report.view_any": "read reports of every resource",
    "message.read": "read a booking's messages",
    "message.create": "send a message about a booking",
    "message.delete": "delete a message (its text goes, a tombstone stays; audited)",
    "admin.notify": "send an in-app notification to one user or to every user of a role",
    "organisation.read": "read your organisation and its members",
    "organisation.manage_members": "add staff and agents to your organisation by e-mail, and remove them",
    "organisation.manage_any": "read and change the members of any organisation",
    "admin.queues": "read the work queues' and their dead-letter queues' depths",
    "admin.queues_redrive": "move a dead-letter queue's messages back to its work queue (audited)",
}

# Which objects a permitted role may act on (the services enforce these; others get 404, or 403 when visible).
OBJECT_RULES: dict[Action, str] = {
    "catalog.read": "active venues and resources; archived ones only for their owner and admins",
    "availability.read": "resources visible under catalog.read",
    "venue.update": "own venues (admin: any)",
    "venue.delete": "own venues (admin: any)",
    "resource.create": "in own venues (admin: any)",
    "resource.update": "own resources (admin: any)",
    "resource.availability": "own resources (admin: any), or the resource whose advisor the caller is",
    "resource.delete": "own resources (admin: any)",
    "addon.manage": "add-ons of own resources (admin: any)",
    "quote.create": "resources visible under catalog.read",
    "booking.check_in": "bookings of the caller's organisation's resources",
    "booking.session": "bookings of the caller's organisation's resources, or of the resource whose advisor the "
    "caller is",
    "booking.read": "bookings where the caller is the customer, the creator (agent), the vendor or its "
    "organisation's staff, or the resource's advisor (`attributes.advisorUserId`); a resource's bookings for its "
    "vendor, their staff and its advisor; every booking of the organisation for its vendor and staff",
    "booking.update": "bookings where the caller is the customer, the creator, or the vendor or its staff",
    "booking.cancel": "bookings where the caller is the customer, the creator, or the vendor or its staff; a "
    "confirmed session for the resource's advisor (the customer is refunded in full)",
    "booking.decide": "bookings of the caller's organisation's resources, or of the resource whose advisor the "
    "caller is",
    "webhook.manage": "own subscriptions (admin: any); a vendor's receive only the events of their venues, "
    "resources and bookings, an admin's every event",
    "notification.read": "the caller's own notifications only",
    "notification.update": "the caller's own notifications only",
    "payment.create": "bookings where the caller is the customer or the creator (an agent paying for a customer)",
    "payment.read": "payments of the caller's bookings (as customer or creator) and of their venues' bookings "
    "(vendor); a booking's quote for whoever may cancel it",
    "payment.simulate": "payments of the caller's bookings, only with the simulated provider outside AWS",
    "wallet.read": "the caller's own wallet only",
    "review.create": "bookings where the caller is the customer, once completed (or confirmed and over); one "
    "review per booking",
    "review.reply": "reviews of own resources (admin: any); one reply per review",
    "favourite.manage": "the caller's own favourites, of resources visible under catalog.read",
    "wallet.top_up": "the caller's own wallet only; another user's top-up is a 404",
    "user.invite": "a new account for an e-mail address no account uses (409 otherwise); never an existing one",
    "report.read": "own resources and venues (admin: any), or the resources whose advisor the caller is; another's "
    "resource or venue is a 404",
    "message.read": "bookings where the caller is the customer, the resource's advisor or the vendor (admin: any)",
    "message.create": "bookings where the caller is the customer, the resource's advisor or the vendor (admin: any)",
    "message.delete": "any booking's messages",
    "organisation.read": "the caller's own organisation (vendor: the one they own; staff and agents: the one they "
    "are a member of); its members for its vendor and staff (admin: any organisation's)",
    "organisation.manage_members": "members of the organisation the caller owns (admin: any); staff or agent "
    "accounts that are in no organisation yet",
}


def allows(caller: Caller, action: Action) -> bool:
    """Role level only: may this caller attempt the action at all (no status lookup)?"""
    roles = PERMISSIONS[action]
    if caller.user_id is None:
        return "guest" in roles
    return caller.role in roles


def _refuse(caller: Caller, action: Action, error: errors.SlotwiseError) -> errors.SlotwiseError:
    logger.info(
        "authorization refused",
        extra={"action": action, "role": caller.role, "user": caller.user_id, "code": error.code},
    )
    return error


def require(caller: Caller, action: Action) -> None:
    """Refuse the call unless the caller's role may attempt `action` (and, where needed, the account is active)."""
    roles = PERMISSIONS[action]
    if caller.user_id is None:
        if "guest" in roles:
            return
        raise _refuse(caller, action, errors.AuthenticationRequired(f"Sign in to {DESCRIPTIONS[action]}."))
    if caller.role not in roles:
        raise _refuse(
            caller, action, errors.PermissionDenied(f"A {caller.role} may not {DESCRIPTIONS[action]} ({action}).")
        )
    if caller.status == "suspended":
        raise _refuse(caller, action, errors.PermissionDenied("This account is suspended.", code="account_suspended"))
    if action in NEEDS_ACTIVE_ACCOUNT:
        from slotwise.identity.status import get_user_status  # one GetItem, only for gated actions

        status = get_user_status(caller.user_id) or caller.status
        if status == "suspended":
            raise _refuse(
                caller, action, errors.PermissionDenied("This account is suspended.", code="account_suspended")
            )
        if status != "active":
            raise _refuse(
                caller,
                action,
                errors.PermissionDenied(
                    f"An admin must approve this account before it may {DESCRIPTIONS[action]} (status {status}).",
                    code="account_not_approved",
                ),
            )


def route_doc(*actions: Action) -> str:
    """The OpenAPI description of a route: which action(s) it needs, who may attempt them, on which objects."""
    parts = []
    for action in actions:
        roles = PERMISSIONS[action]
        who = "anyone, signed in or not" if "guest" in roles else ", ".join(r for r in ROLES if r in roles)
        text = f"Permission `{action}` ({DESCRIPTIONS[action]}): {who}."
        if action in NEEDS_ACTIVE_ACCOUNT:
            text += " Needs an approved, active account."
        if action in OBJECT_RULES:
            text += f" Objects: {OBJECT_RULES[action]}."
        parts.append(text)
    parts.append(
        "A role without the permission gets 403 (401 when anonymous); an object outside the caller's reach is "
        "404, like a missing one."
    )
    return " ".join(parts)


def markdown_table() -> str:
    """The table as docs/api.md shows it (a test keeps docs/api.md and this table equal)."""
    header = "| action | " + " | ".join(ROLES) + " |"
    rule = "|---|" + "---|" * len(ROLES)
    rows = []
    for action in ACTIONS:
        marks = " | ".join("✓" if role in PERMISSIONS[action] else "" for role in ROLES)
        gate = " ¹" if action in NEEDS_ACTIVE_ACCOUNT else ""
        rows.append(f"| `{action}`{gate} | {marks} |")
    return "\n".join([header, rule, *rows])
