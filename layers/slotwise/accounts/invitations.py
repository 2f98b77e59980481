"""Accounts made by someone else: an admin today (`POST /admin/users`); an organisation's owner inviting staff and
agents calls `invite_account` too.

The account is stored `active` with no password, so it cannot sign in (a login against it fails like a wrong
password) until its holder chooses one through the set-password link e-mailed to them: single use, 24 hours
(slotwise.identity.account_links). The profile, its e-mail claim, the link's hashed token and the audit entry are
one TransactWriteItems: an e-mail already in use (409 `email_taken`) leaves nothing behind. A link that expired
unused is replaced through `POST /auth/password/forgot`, which works for an account without a password as well.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from slotwise import errors
from slotwise.accounts import messages
from slotwise.audit import log as audit
from slotwise.identity import account_links, permissions, repository
from slotwise.identity.models import Caller, InviteRequest, Role, User, normalise_email
from slotwise.settings import get_settings

# The time source of requests that bring no `now` (the tests move it to expire links).
clock: Callable[[], float] = time.time


def _own_issuer_only() -> None:
    if get_settings().auth_mode != "own":
        raise errors.NotFound(
            "This deployment signs users in with an external identity provider; make accounts there.",
            code="auth_endpoint_disabled",
        )


def invite_account(
    *,
    email: str,
    name: str,
    role: Role,
    invited_by: Caller,
    organisation_id: str | None = None,
    locale: str = "en",
    now: datetime | None = None,
    joins: Callable[[User], Sequence[Any]] | None = None,
) -> User:
    """Make the account and e-mail its set-password link; the caller has been authorised already.

    Raises Conflict `email_taken` when the address has an account. `organisation_id` is recorded in the audit
    entry; membership itself is the organisations domain's to write: `joins` gives its writes for the new user,
    which go into the account's own transaction (an account and its membership exist together or not at all).
    """
    _own_issuer_only()
    if role == "guest":
        raise errors.ValidationFailed("A guest is nobody's account.", code="invalid_role")
    epoch = int(now.timestamp()) if now is not None else int(clock())
    user = User(
        id=uuid.uuid4().hex,
        email=normalise_email(email),
        name=name,
        role=role,
        status="active",
        locale=locale,
        created_at=datetime.fromtimestamp(epoch, UTC),
    )
    minted = account_links.mint(user.id, epoch)
    token = account_links.put_item(minted, user_id=user.id, purpose="set", user_version=user.version, now=epoch)
    entry = audit.entry(
        invited_by,
        "user.invite",
        "user",
        user.id,
        detail={"role": role, "organisationId": organisation_id, "linkExpiresEpoch": minted.expires_epoch},
    )
    extra = [token, *(joins(user) if joins is not None else ())]
    if not repository.put_user(user, audit=entry, extra=extra):
        raise errors.Conflict("An account with this e-mail address already exists.", code="email_taken")
    rendered = messages.render(
        "set", token=minted.token, name=user.name, email=user.email, role=user.role, locale=user.locale
    )
    messages.send(rendered, to_address=user.email, to_name=user.name)
    return user


def create_user(caller: Caller, data: InviteRequest) -> User:
    """POST /admin/users: an admin makes an account of any role."""
    permissions.require(caller, "user.invite")
    return invite_account(
        email=data.email,
        name=data.name,
        role=data.role,
        invited_by=caller,
        organisation_id=data.organisation_id,
        locale=data.locale,
    )
