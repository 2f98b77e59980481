"""The first admin of a stack, made by an operator (`slotwise users create-admin`): admins are never self-service
(sign-up offers customer, vendor and advisor), and the admin route that makes accounts needs an admin already."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import Field, field_validator

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.identity import passwords, repository
from slotwise.identity.models import User, _email
from slotwise.models import ApiModel


class AdminInput(ApiModel):
    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=256, repr=False)

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str) -> str:
        return _email(value)


def create_admin(data: AdminInput, *, operator: str, now: datetime | None = None) -> User:
    """An active admin with this password (the sign-up's password policy), audited as the operator's; a Conflict
    (`email_taken`) when an account has the address."""
    passwords.check_policy(data.password, email=data.email, name=data.name)
    at = now or datetime.now(UTC)
    user = User(
        id=uuid.uuid4().hex,
        email=data.email,
        name=data.name,
        role="admin",
        status="active",
        created_at=at,
        password_hash=passwords.hash_password(data.password),
    )
    entry = audit.system_entry(operator, "user.create_admin", "user", user.id, at=at, detail={"email": user.email})
    if not repository.put_user(user, audit=entry):
        raise errors.Conflict("An account with this e-mail address already exists.", code="email_taken")
    return user
