"""A booking's messages as stored and as the API shows them, and their time-ordered ids."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from slotwise.models import ApiModel, DomainModel

MAX_TEXT = 4000
# `<yyyymmddHHMMSSffffff>-<12 hex>`: the instant it was posted (UTC, microseconds), then randomness. Ids sort as
# text in posting order, so the id alone is the message's sort key within its booking (`store.message_key`).
_ID = re.compile(r"^\d{20}-[0-9a-f]{12}$")


def new_message_id(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y%m%d%H%M%S%f}-{secrets.token_hex(6)}"


def is_message_id(value: str) -> bool:
    return _ID.match(value) is not None


class MessageInput(ApiModel):
    # Surrounding whitespace is stripped (ApiModel), so whitespace alone arrives as "" and min_length refuses it.
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="1 to 4000 characters")]


class Message(DomainModel):
    id: str
    booking_id: str
    author_id: str
    author_role: str = Field(description="customer, advisor, vendor or admin: the author's part in the booking")
    text: str | None = Field(default=None, description="null once an admin deleted the message")
    created_at: datetime
    deleted: bool = False
    deleted_at: datetime | None = None

    def public(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)


class MessagePage(DomainModel):
    messages: list[Message]
    next_cursor: str | None = None
