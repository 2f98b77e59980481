"""The admin console's use cases: users by role and status, approvals and suspensions, platform counters, the
audit log. Admins only (permission table: `admin.*`).

User status moves (each conditional on the status and version read, in one transaction with its audit entry):

  approve     pending_approval | rejected  -> active
  reject      pending_approval             -> rejected
  suspend     active | pending_approval    -> suspended
  reinstate   suspended                    -> active

An admin cannot change their own status (another admin must). Suspending or rejecting an account also revokes
every sign-in it has (its refresh-token families), after the status change commits: an access token already issued
is refused from its next request anyway (permission checks read the stored status), and no refresh can mint a new
one. The response says how many sign-ins were revoked.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.audit import stats
from slotwise.booking.models import EXPIRING, BookingStatus
from slotwise.data.codec import from_item, to_item
from slotwise.identity import auth_service, permissions, repository
from slotwise.identity import status as accounts
from slotwise.identity.models import ROLES, Caller
from slotwise.models import ApiModel

StatusMove = Literal["approve", "reject", "suspend", "reinstate"]
AccountStatus = Literal["active", "pending_approval", "rejected", "suspended"]
MOVES: dict[StatusMove, tuple[frozenset[str], str]] = {
    "approve": (frozenset({accounts.PENDING, accounts.REJECTED}), accounts.ACTIVE),
    "reject": (frozenset({accounts.PENDING}), accounts.REJECTED),
    "suspend": (frozenset({accounts.ACTIVE, accounts.PENDING}), accounts.SUSPENDED),
    "reinstate": (frozenset({accounts.SUSPENDED}), accounts.ACTIVE),
}
_MOVE_ACTION: dict[StatusMove, permissions.Action] = {
    "approve": "admin.approve",
    "reject": "admin.approve",
    "suspend": "admin.suspend",
    "reinstate": "admin.suspend",
}
# Statuses that end every sign-in of the account.
LOCKED_OUT = frozenset({accounts.SUSPENDED, accounts.REJECTED})
USER_ROLES = tuple(role for role in ROLES if role != "guest")
# One listing reads at most this many users, however selective the status filter; then it returns a cursor.
MAX_LISTED_SCAN = 1_000
# The users part of the stats reads at most this many profiles (projected to their status) per request.
MAX_COUNTED_USERS = 2_000
_PUBLIC_USER = ("id", "email", "name", "role", "status", "locale", "createdAt", "updatedAt", "version")


class StatusChange(ApiModel):
    reason: Annotated[str, Field(max_length=500)] = ""


def _public_user(item: dict[str, Any]) -> dict[str, Any]:
    """What the console shows of a user: never the password hash or anything else the profile may hold."""
    return {name: item[name] for name in _PUBLIC_USER if name in item}


# --- users ------------------------------------------------------------------------------------------------------


def _encode(role: str, key: dict[str, Any]) -> str:
    raw = json.dumps({"r": role, "k": from_item(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str | None, roles: tuple[str, ...]) -> tuple[str, dict[str, Any]] | None:
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        role, key = raw["r"], raw["k"]
        valid = (
            role in roles
            and isinstance(key, dict)
            and set(key) == {"PK", "SK", "GSI1PK", "GSI1SK"}
            and all(isinstance(v, str) for v in key.values())
            and key["GSI1PK"] == f"ROLE#{role}"
        )
    except (ValueError, TypeError, KeyError, binascii.Error):
        valid = False
    if not valid:
        raise errors.ValidationFailed("cursor is not one this listing returned", code="invalid_cursor")
    return role, to_item(key)


def list_users(
    caller: Caller, *, role: str | None, status: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Users of one role (or of every role, role by role), optionally of one status, through GSI1 ROLE#<role>."""
    permissions.require(caller, "admin.users")
    roles = (role,) if role else USER_ROLES
    start = _decode(cursor, roles)
    first = roles.index(start[0]) if start else 0
    found: list[dict[str, Any]] = []
    scanned = 0
    for current in roles[first:]:
        key = start[1] if start and current == start[0] else None
        while True:
            users, key, read = repository.users_page(current, status=status, limit=min(100, limit + 1), start_key=key)
            scanned += read
            for position, user in enumerate(users):
                found.append(_public_user(user))
                if len(found) == limit:
                    more = position + 1 < len(users) or key is not None or current != roles[-1]
                    last = repository.user_index_key(user)
                    return _page(found, limit, _encode(current, last) if more else None)
            if not key:
                break
            if scanned >= MAX_LISTED_SCAN:
                return _page(found, limit, _encode(current, key))
    return _page(found, limit, None)


def _page(users: list[dict[str, Any]], limit: int, next_cursor: str | None) -> dict[str, Any]:
    return {"users": users, "pagination": {"limit": limit, "nextCursor": next_cursor}}


def change_status(
    caller: Caller, user_id: str, move: StatusMove, data: StatusChange, *, now: datetime | None = None
) -> dict[str, Any]:
    permissions.require(caller, _MOVE_ACTION[move])
    profile = accounts.get_profile(user_id)
    if profile is None:
        raise errors.NotFound(f"No user {user_id}.", code="user_not_found")
    if user_id == caller.user_id:
        raise errors.PermissionDenied("Another admin must change your own account's status.", code="own_account")
    sources, target = MOVES[move]
    current = str(profile.get("status", accounts.ACTIVE))
    if current not in sources:
        raise errors.Conflict(
            f"A {current} account cannot be {move}d; it must be {' or '.join(sorted(sources))}.",
            code="invalid_transition",
            extra={"accountStatus": current},
        )
    entry = audit.entry(
        caller,
        f"user.{move}",
        "user",
        user_id,
        at=now,
        detail={"from": current, "to": target, "role": profile.get("role"), "reason": data.reason or None},
    )
    version = accounts.change_status(profile, target, entry, now=entry.at)
    changed = _public_user({**profile, "status": target, "version": version, "updatedAt": audit.stamp(entry.at)})
    if target in LOCKED_OUT:
        changed["revokedSessions"] = auth_service.revoke_sessions(user_id, reason=target, now=entry.at)
    return changed


# --- stats ------------------------------------------------------------------------------------------------------


def _count_users() -> dict[str, Any]:
    """Users by role and status: one Query per role on GSI1, projected to the status, at most MAX_COUNTED_USERS."""
    by_role: dict[str, dict[str, int]] = {}
    read = 0
    complete = True
    for role in USER_ROLES:
        counts: dict[str, int] = {}
        key: dict[str, Any] | None = None
        while True:
            statuses, key = repository.statuses_page(
                role, default=accounts.ACTIVE, limit=min(1_000, MAX_COUNTED_USERS - read), start_key=key
            )
            for value in statuses:
                counts[value] = counts.get(value, 0) + 1
            read += len(statuses)
            if not key:
                break
            if read >= MAX_COUNTED_USERS:
                complete = False
                break
        by_role[role] = counts
        if not complete:
            break
    by_status: dict[str, int] = {}
    for counts in by_role.values():
        for value, count in counts.items():
            by_status[value] = by_status.get(value, 0) + count
    return {
        "byRole": {role: sum(counts.values()) for role, counts in by_role.items()},
        "byStatus": by_status,
        "byRoleAndStatus": by_role,
        "complete": complete,
    }


def platform_stats(caller: Caller) -> dict[str, Any]:
    permissions.require(caller, "admin.stats")
    counters = stats.read()
    bookings = {status: counters.get(stats.booking_counter(status), 0) for status in get_args(BookingStatus)}
    return {
        "users": _count_users(),
        "venues": counters.get("venues", 0),
        "resources": {
            "active": counters.get("resources_active", 0),
            "archived": counters.get("resources_archived", 0),
        },
        "bookings": {"byStatus": bookings, "activeHolds": sum(bookings[s] for s in EXPIRING)},
    }


# --- audit ------------------------------------------------------------------------------------------------------


def audit_log(
    caller: Caller,
    *,
    target: str | None,
    actor: str | None,
    frm: datetime | None,
    to: datetime | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    permissions.require(caller, "admin.audit")
    for name, value in (("from", frm), ("to", to)):
        if value is not None and value.tzinfo is None:
            raise errors.ValidationFailed(f"`{name}` carries a UTC offset.", code="missing_offset")
    entries, next_cursor = audit.query(target=target, actor=actor, frm=frm, to=to, limit=limit, cursor=cursor)
    return {"entries": entries, "pagination": {"limit": limit, "nextCursor": next_cursor}}
