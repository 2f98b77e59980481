"""Who is calling, and the users Slotwise knows. Services receive a `Caller` as an argument; how it was
authenticated (a verified JWT, or headers in the local runtime and tests) is the edge's business."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from slotwise.models import ApiModel, DomainModel

Role = Literal["admin", "vendor", "staff", "agent", "advisor", "customer", "guest"]
ROLES: tuple[Role, ...] = ("admin", "vendor", "staff", "agent", "advisor", "customer", "guest")
# `rejected`: an admin turned down a vendor/advisor registration (slotwise.identity.status). Rejected and
# suspended accounts cannot sign in or refresh (403 account_rejected / account_suspended).
UserStatus = Literal["active", "pending_approval", "rejected", "suspended"]
USER_STATUSES: tuple[UserStatus, ...] = ("active", "pending_approval", "rejected", "suspended")
# Roles anyone may pick when registering; vendors and advisors then wait for an admin's approval.
# Admins, staff and agents are created by an admin (never through /auth/register).
SelfServiceRole = Literal["customer", "vendor", "advisor"]
NEEDS_APPROVAL: frozenset[str] = frozenset({"vendor", "advisor"})

_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
# Deliberately simple: one @, no spaces, a dot in the domain. Ownership is what matters, not RFC 5322.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Caller:
    user_id: str | None
    role: Role
    # From the access token (own issuer) or "active" (identity headers, external OIDC). A vendor or advisor
    # who registered carries "pending_approval" until an admin approves them and they refresh their token.
    status: UserStatus = "active"
    # The API Gateway request id of the call, for the audit log (set by slotwise.api.context; None off the API).
    request_id: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None


ANONYMOUS = Caller(user_id=None, role="guest")

ORGANISATION_PREFIX = "org-"


def organisation_id_of(owner_id: str) -> str:
    """The organisation a vendor owns, and so that of everything they own or are the vendor of: derived, never
    looked up, so items older than organisations belong to one too (slotwise.organisations.service)."""
    return f"{ORGANISATION_PREFIX}{owner_id}"


class User(DomainModel):
    id: str
    email: str
    name: str
    role: Role
    status: UserStatus = "active"
    locale: str = "en"
    created_at: datetime
    updated_at: datetime | None = None
    version: int = 1
    # scrypt hash (slotwise.identity.passwords). Excluded from every dump: only the repository writes it.
    password_hash: str | None = Field(default=None, exclude=True, repr=False)

    def public(self) -> dict[str, Any]:
        """What the API shows of a user (never the password hash)."""
        return self.model_dump(mode="json", by_alias=True)


def normalise_email(value: str) -> str:
    return value.strip().lower()


def _email(value: str) -> str:
    value = normalise_email(value)
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not an e-mail address")
    return value


def _locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise ValueError("not a language tag such as 'en' or 'pt-BR'")
    return value


class RegisterRequest(ApiModel):
    """Anything else in the body (status, id, passwordHash…) is a 422: a client never sets those."""

    email: str = Field(max_length=254)
    password: str = Field(min_length=1, max_length=256, repr=False)
    name: str = Field(min_length=1, max_length=100)
    role: SelfServiceRole = "customer"
    locale: str = Field(default="en", max_length=35)

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str) -> str:
        return _email(value)

    @field_validator("locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        return _locale(value)


class LoginRequest(ApiModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256, repr=False)


class PasswordChange(ApiModel):
    """POST /users/me/password: the current password proves it is the account holder, not a stolen token."""

    current_password: str = Field(min_length=1, max_length=256, repr=False)
    new_password: str = Field(min_length=1, max_length=256, repr=False)


class RefreshRequest(ApiModel):
    refresh_token: str = Field(min_length=1, max_length=200, repr=False)


class ProfileUpdate(ApiModel):
    """PUT /users/me: only these; role, status, email or anything else is a 422."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    locale: str | None = Field(default=None, max_length=35)

    @field_validator("locale")
    @classmethod
    def _check_locale(cls, value: str | None) -> str | None:
        return None if value is None else _locale(value)


class TokenPair(DomainModel):
    """An access token (a JWT, 15 minutes) and an opaque refresh token (30 days, single use)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int
    refresh_token: str = Field(repr=False)
    refresh_expires_in: int


# --- accounts made by others, set-password and reset links (slotwise.accounts) -----------------------------------

# The roles an admin may give an account it makes (every role but the anonymous `guest`).
InvitableRole = Literal["staff", "agent", "advisor", "vendor", "customer", "admin"]
# An organisation's id as the organisations domain mints them (shape only: membership is that domain's business).
_ORGANISATION_ID = r"^[A-Za-z0-9_-]{1,64}$"


class InviteRequest(ApiModel):
    """POST /admin/users. The account is made active and without a password; status, id, owner or a password are
    not fields (422): the invitee chooses the password through the e-mailed link."""

    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=100)
    role: InvitableRole
    organisation_id: str | None = Field(default=None, pattern=_ORGANISATION_ID)
    locale: str = Field(default="en", max_length=35)

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str) -> str:
        return _email(value)

    @field_validator("locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        return _locale(value)


class PasswordTokenRequest(ApiModel):
    """POST /auth/password/set and /auth/password/reset: the link's token and the new password."""

    token: str = Field(min_length=1, max_length=200, repr=False)
    password: str = Field(min_length=1, max_length=256, repr=False)


class ForgotRequest(ApiModel):
    """POST /auth/password/forgot. Any string up to an e-mail's length: a malformed address is answered like an
    unknown one (202), so the answer never tells which addresses exist."""

    email: str = Field(min_length=1, max_length=254)
