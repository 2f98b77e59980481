"""An organisation's staff and agents as accounts: adding a member by an e-mail no account uses makes the account
(`POST /organisations/{id}/members`), and `POST /admin/users` with `organisationId` makes one that is a member from
the start. Either way the account, its set-password link and the membership are one transaction.

Here rather than in `slotwise.organisations` because making an account sends mail (`slotwise.notifications`),
which reads bookings, whose access rules ask the organisations domain: accounts may depend on organisations, not
the other way round.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slotwise import errors
from slotwise.accounts import invitations
from slotwise.identity import repository as users
from slotwise.identity.models import Caller, InviteRequest, User
from slotwise.organisations import service as organisations
from slotwise.organisations.service import Member, MemberInput, MemberRole, Organisation


def _invite_member(
    caller: Caller, organisation: Organisation, *, email: str, name: str, role: MemberRole, locale: str
) -> tuple[User, Member]:
    now = datetime.now(UTC)
    made: list[Member] = []

    def joins(user: User) -> list[Any]:
        member, writes = organisations.membership_writes(caller, organisation, user, role, now)
        made.append(member)
        return writes

    user = invitations.invite_account(
        email=email,
        name=name,
        role=role,
        invited_by=caller,
        organisation_id=organisation.id,
        locale=locale,
        joins=joins,
    )
    return user, made[-1]


def add_member(caller: Caller, organisation_id: str, data: MemberInput) -> Member:
    """An existing staff or agent account joins; an e-mail no account uses gets a new account of that role, a
    member at once, whose holder chooses a password through the e-mailed link."""
    organisation = organisations.managed(caller, organisation_id)
    if users.get_user_by_email(data.email) is not None:
        return organisations.add_member(caller, organisation_id, data)
    name = data.name or data.email.split("@", 1)[0]
    return _invite_member(caller, organisation, email=data.email, name=name, role=data.role, locale=data.locale)[1]


def create_user(caller: Caller, data: InviteRequest) -> User:
    """POST /admin/users. Without `organisationId`: an admin makes an account of any role. With it: the
    organisation's owner vendor (or an admin) makes a staff or agent account that is a member from the start;
    another organisation is a 404, another role a 422."""
    if data.organisation_id is None:
        return invitations.create_user(caller, data)
    organisation = organisations.managed(caller, data.organisation_id)
    if data.role not in ("staff", "agent"):
        raise errors.ValidationFailed(
            "An organisation's accounts are staff or agents; make other roles without organisationId.",
            code="member_role_mismatch",
        )
    role: MemberRole = "staff" if data.role == "staff" else "agent"
    return _invite_member(caller, organisation, email=data.email, name=data.name, role=role, locale=data.locale)[0]
