"""Organisations: a vendor's business, whose staff act on its catalog and bookings and whose agents book for it.

Each vendor owns exactly one organisation, `org-<vendor id>`. The id is derived, never stored on a user, so every
venue, resource and booking written before organisations existed belongs to one without a migration: its
organisation is its owner's (`organisation_id_of`). The organisation item itself is created on first use
(`GET /organisations/me`, a member added), for old vendors and new ones alike. Staff create catalog items in the
owner's name, so `ownerId`/`vendorId` keep naming the vendor (webhooks, payments and notifications keep working).

Members are staff or agents, each in at most one organisation (slotwise.organisations.store). Who may act on what
is decided here, in one place: `same_organisation(caller, owner_id, organisation_id)` is true for the owner
vendor and that organisation's staff. Agents are members too, but they book for customers and act only on the
bookings they made (slotwise.booking.access), not on the catalog. Membership is read from the table on the
request that needs it (strongly consistent, remembered for that request only): no token carries it, so a removal
counts from the removed member's next request. Design: docs/adr/0011-organisations.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.audit.log import AuditEntry
from slotwise.cache import TtlCache
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.identity import permissions
from slotwise.identity import repository as users
from slotwise.identity.models import (
    ORGANISATION_PREFIX,
    Caller,
    User,
    normalise_email,
    organisation_id_of,
)
from slotwise.models import ApiModel, DomainModel
from slotwise.organisations import store as org_store

MemberRole = Literal["staff", "agent"]
OrganisationRole = Literal["owner", "staff", "agent"]
_EMAIL_MAX = 254


class Organisation(DomainModel):
    id: str
    owner_id: str = Field(description="the vendor who owns the organisation")
    name: str
    created_at: datetime


class MyOrganisation(Organisation):
    role: OrganisationRole = Field(description="the caller's place in it: owner (its vendor), staff or agent")


class Member(DomainModel):
    organisation_id: str
    user_id: str
    email: str
    name: str
    role: MemberRole
    added_at: datetime
    added_by: str


class MemberPage(DomainModel):
    members: list[Member]
    next_cursor: str | None = None


class MemberInput(ApiModel):
    """POST /organisations/{id}/members: a staff or agent account, by e-mail; an address no account uses gets a new
    account (`name` and `locale` are for it, ignored otherwise) and a set-password link. Nothing else (an id, an
    organisation, a status) is accepted: the path names the organisation, the account names the user."""

    email: str = Field(min_length=3, max_length=_EMAIL_MAX)
    role: MemberRole
    name: str | None = Field(default=None, min_length=1, max_length=100)
    locale: str = Field(default="en", min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")

    @field_validator("email")
    @classmethod
    def _normalised(cls, value: str) -> str:
        value = normalise_email(value)
        if "@" not in value or any(c.isspace() for c in value):
            raise ValueError("not an e-mail address")
        return value


@dataclass(frozen=True)
class Membership:
    """Where a caller stands: the organisation, its owner, and the caller's role in it."""

    organisation_id: str
    owner_id: str
    role: OrganisationRole


# Per request only (the key names the request): several checks in one request read the membership once, and the
# next request reads it again, so a removal is never served from a cache. One second bounds the memory.
_REQUEST_MEMO: TtlCache[dict[str, Membership | None]] = TtlCache(seconds=1.0, max_entries=256)


def membership_of(caller: Caller) -> Membership | None:
    """The caller's organisation: a vendor's own; a staff member's or agent's from the table; nobody else's."""
    user = caller.user_id
    if user is None:
        return None
    if caller.role == "vendor":
        return Membership(organisation_id_of(user), user, "owner")
    if caller.role not in ("staff", "agent"):
        return None

    member_role: MemberRole = "staff" if caller.role == "staff" else "agent"

    def load() -> dict[str, Membership | None]:
        item = org_store.get_membership(user)
        if item is None or item.get("role") != member_role:
            return {"membership": None}
        return {"membership": Membership(str(item["organisationId"]), str(item["ownerId"]), member_role)}

    if caller.request_id is None:
        return load()["membership"]
    found = _REQUEST_MEMO.get(f"{caller.request_id}:{user}", load)
    return found["membership"] if found else None


def same_organisation(caller: Caller, owner_id: str, organisation_id: str | None = None) -> bool:
    """The caller operates for this owner's organisation: they are its owner vendor, or one of its staff.

    The one organisation check: catalog ownership, a booking's vendor side and its decisions all ask it. Items
    carry their owner's id (`ownerId`, a booking's `vendorId`) and may store their `organisation_id` (otherwise it
    is the owner's, derived). A caller who is the owner themselves (vendors; staff who created items before
    organisations existed) needs no read."""
    user = caller.user_id
    if user is None:
        return False
    if user == owner_id:
        return True
    wanted = organisation_id or organisation_id_of(owner_id)
    membership = membership_of(caller)
    return membership is not None and membership.role in ("owner", "staff") and membership.organisation_id == wanted


def owner_for_new_items(caller: Caller) -> str:
    """Whose name a new venue is created in: a staff member's organisation owner, otherwise the caller."""
    assert caller.user_id is not None  # every catalog write refuses anonymous callers first
    membership = membership_of(caller)
    if membership is not None and membership.role == "staff":
        return membership.owner_id
    return caller.user_id


# --------------------------------------------------------------------------------------------- organisations


def _not_found(organisation_id: str) -> errors.NotFound:
    return errors.NotFound(f"No organisation {organisation_id}.", code="organisation_not_found")


def _ensure(owner: User | None, owner_id: str) -> Organisation:
    """The vendor's organisation, created on its first use (older vendors' too)."""
    name = owner.name if owner is not None else owner_id
    stored = org_store.put_organisation_if_absent(
        {
            "id": organisation_id_of(owner_id),
            "ownerId": owner_id,
            "name": name,
            "createdAt": datetime.now(UTC).isoformat(),
        }
    )
    return Organisation.model_validate(stored)


def _organisation(organisation_id: str) -> Organisation | None:
    """The organisation by id: stored, or derived for a vendor whose organisation was never used yet."""
    stored = org_store.get_organisation(organisation_id)
    if stored is not None:
        return Organisation.model_validate(stored)
    owner_id = organisation_id.removeprefix(ORGANISATION_PREFIX)
    if owner_id == organisation_id or not owner_id:
        return None
    owner = users.get_user(owner_id)
    if owner is None or owner.role != "vendor":
        return None
    return _ensure(owner, owner_id)


def get_my_organisation(caller: Caller) -> MyOrganisation:
    permissions.require(caller, "organisation.read")
    membership = membership_of(caller)
    if membership is None:
        raise errors.NotFound("You are not a member of an organisation.", code="organisation_not_found")
    if membership.role == "owner":
        organisation = _ensure(users.get_user(membership.owner_id), membership.owner_id)
    else:
        found = _organisation(membership.organisation_id)
        if found is None:  # pragma: no cover - members are added only to an organisation that exists
            raise _not_found(membership.organisation_id)
        organisation = found
    return MyOrganisation(**organisation.model_dump(), role=membership.role)


def _reachable(caller: Caller, organisation_id: str, *, manage: bool) -> Organisation:
    """The organisation if the caller may read (or, with `manage`, change) its members; 404 otherwise, exactly as
    for a missing one. Admins reach every organisation; its owner reaches it; its staff may read its members."""
    if not permissions.allows(caller, "organisation.manage_any"):
        membership = membership_of(caller)
        allowed = ("owner",) if manage else ("owner", "staff")
        if membership is None or membership.organisation_id != organisation_id or membership.role not in allowed:
            raise _not_found(organisation_id)
        if membership.role == "owner":
            # Its owner reaches it even with no stored profile (identity headers, an external OIDC provider).
            return _ensure(users.get_user(membership.owner_id), membership.owner_id)
    organisation = _organisation(organisation_id)
    if organisation is None:
        raise _not_found(organisation_id)
    return organisation


def list_members(caller: Caller, organisation_id: str, *, limit: int, cursor: str | None) -> MemberPage:
    permissions.require(caller, "organisation.read")
    _reachable(caller, organisation_id, manage=False)
    scope = f"members:{organisation_id}:{caller.user_id}"
    items, last = org_store.members_page(organisation_id, limit=limit, start_key=decode_cursor(cursor, scope=scope))
    return MemberPage(members=[Member.model_validate(i) for i in items], next_cursor=encode_cursor(last, scope=scope))


def _member(organisation: Organisation, account: User, role: MemberRole, caller: Caller, now: datetime) -> Member:
    return Member(
        organisation_id=organisation.id,
        user_id=account.id,
        email=account.email,
        name=account.name,
        role=role,
        added_at=now,
        added_by=caller.user_id or "",
    )


def _member_added(caller: Caller, organisation: Organisation, user_id: str, role: str, now: datetime) -> AuditEntry:
    return audit.entry(
        caller,
        "organisation.member_add",
        "organisation",
        organisation.id,
        at=now,
        detail={"userId": user_id, "role": role},
    )


def managed(caller: Caller, organisation_id: str) -> Organisation:
    """The organisation whose members the caller may change (its owner vendor, an admin); 404 otherwise."""
    permissions.require(caller, "organisation.manage_members")
    return _reachable(caller, organisation_id, manage=True)


def membership_writes(
    caller: Caller, organisation: Organisation, account: User, role: MemberRole, now: datetime
) -> tuple[Member, list[Any]]:
    """A new account's membership as transaction items (member, guard, audit entry), for the transaction that
    creates the account (`slotwise.accounts.members`): the account and its membership exist together or not at
    all."""
    member = _member(organisation, account, role, caller, now)
    puts = org_store.membership_puts(member.model_dump(mode="json", by_alias=True), organisation.owner_id)
    return member, [*puts, _member_added(caller, organisation, account.id, role, now).put()]


def account_for_member(email: str) -> User:
    """The existing account a new member is, by e-mail. An address no account uses is made into an account by
    `slotwise.accounts.members` (which the route calls) before this is reached."""
    account = users.get_user_by_email(email)
    if account is None:
        raise errors.NotFound("No account has this e-mail address.", code="account_not_found")
    return account


def add_member(caller: Caller, organisation_id: str, data: MemberInput, now: datetime | None = None) -> Member:
    """An existing staff or agent account joins (one organisation per account)."""
    organisation = managed(caller, organisation_id)
    now = now or datetime.now(UTC)
    account = account_for_member(data.email)
    if account.role != data.role:
        raise errors.ValidationFailed(
            f"This account is not a {data.role} account; only staff and agent accounts join an organisation, "
            "in the role they were created with.",
            code="member_role_mismatch",
        )
    member = _member(organisation, account, data.role, caller, now)
    entry = _member_added(caller, organisation, account.id, data.role, now)
    refused = org_store.add_member(member.model_dump(mode="json", by_alias=True), organisation.owner_id, entry)
    if refused == "member":
        raise errors.Conflict(
            "This account is already a member of an organisation; remove it there first.", code="already_member"
        )
    if refused == "profile":
        raise errors.Conflict("The account changed meanwhile; retry.", code="version_conflict")
    return member


def remove_member(caller: Caller, organisation_id: str, user_id: str) -> None:
    permissions.require(caller, "organisation.manage_members")
    organisation = _reachable(caller, organisation_id, manage=True)
    entry = audit.entry(
        caller, "organisation.member_remove", "organisation", organisation.id, detail={"userId": user_id}
    )
    if not org_store.remove_member(organisation.id, user_id, entry):
        raise errors.NotFound(f"No member {user_id} in organisation {organisation_id}.", code="member_not_found")


def public(value: DomainModel) -> dict[str, Any]:
    return value.model_dump(mode="json", by_alias=True)
