"""Webhook subscriptions as the API takes and shows them, and the stored subscription."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from slotwise.events.catalogue import EVENT_TYPES
from slotwise.models import ApiModel, DomainModel
from slotwise.webhooks.catalogue import ALL_TYPES

# `own`: a vendor's subscription, their own venues' events only; `all`: an admin's, every event.
Scope = Literal["own", "all"]


def _known_type(value: str) -> str:
    if value != ALL_TYPES and value not in EVENT_TYPES:
        raise ValueError(f"unknown event type {value!r}: use `*` or one of {', '.join(EVENT_TYPES)}")
    return value


def _normalised(values: list[str]) -> list[str]:
    """`*` alone stands for everything; otherwise the distinct types in catalogue order."""
    if ALL_TYPES in values:
        return [ALL_TYPES]
    return [t for t in EVENT_TYPES if t in values]


EventType = Annotated[str, AfterValidator(_known_type)]
EventTypes = Annotated[
    list[EventType],
    Field(
        min_length=1,
        max_length=50,
        description=f"`*` (every event, also types added later) or any of: {', '.join(EVENT_TYPES)}",
    ),
    AfterValidator(_normalised),
]
Url = Annotated[
    str,
    Field(
        min_length=10,
        max_length=2048,
        description="https only; the host must resolve to public addresses only (see docs/security.md, SSRF rules)",
    ),
]
Description = Annotated[str, Field(max_length=500)]


class SubscriptionCreate(ApiModel):
    url: Url
    event_types: EventTypes
    description: Description = ""


class SubscriptionUpdate(ApiModel):
    """Fields left out keep their value. `active: true` re-enables a subscription a 410 answer disabled."""

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> SubscriptionUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of url, eventTypes, description, active")
        return self


class SecretRotation(ApiModel):
    previous_secret_valid_hours: Annotated[
        int,
        Field(ge=0, le=72, description="how long deliveries keep a second signature made with the old secret"),
    ] = 24


class Subscription(DomainModel):
    id: str
    owner_id: str
    scope: Scope
    url: str
    event_types: list[str]
    description: str = ""
    active: bool = True
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    secret_hint: str
    previous_secret_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1
    # Never part of a dump: only the repository stores them and only the signer reads them.
    secret: str = Field(exclude=True, repr=False)
    previous_secret: str | None = Field(default=None, exclude=True, repr=False)

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, then the previous one while it is still valid."""
        found = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and now < expires:
            found.append(self.previous_secret)
        return found


def hint(secret: str) -> str:
    return f"…{secret[-4:]}"
