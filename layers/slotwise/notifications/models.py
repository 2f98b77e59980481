"""In-app notifications as stored and as the API shows them, and their deterministic ids."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from slotwise.models import ApiModel, DomainModel, Id, OneLine

# `<yyyymmddHHMMSSmmm>-<20 hex>`: the creation instant (the event's occurred-at, UTC, milliseconds), then a hash of
# the event and the recipient. The same event for the same recipient always makes the same id, hence the same key.
_ID = re.compile(r"^(\d{17})-([0-9a-f]{20})$")


class Notification(DomainModel):
    id: str
    user_id: str
    event_id: str
    event_type: str
    booking_id: str | None = None
    booking_reference: str | None = None
    title: str
    body: str
    locale: str = "en"
    read: bool = False
    read_at: datetime | None = None
    created_at: datetime

    def public(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude={"user_id", "locale"})


def notification_id(created_at: datetime, delivery_key: str, recipient: str) -> str:
    stamp = created_at.astimezone(UTC)
    digest = hashlib.sha256(f"{delivery_key}\n{recipient}".encode()).hexdigest()[:20]
    return f"{stamp:%Y%m%d%H%M%S}{stamp.microsecond // 1000:03d}-{digest}"


def created_at_of(notification_id: str) -> datetime | None:
    """The creation instant an id carries, or None when the string is not a notification id."""
    found = _ID.match(notification_id)
    if found is None:
        return None
    digits = found.group(1)
    try:
        whole = datetime.strptime(digits[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return whole.replace(microsecond=int(digits[14:]) * 1000)


def sort_time(value: datetime) -> str:
    """ISO 8601 UTC with milliseconds: sorts as text in time order."""
    stamp = value.astimezone(UTC)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.microsecond // 1000:03d}Z"


# --- an admin's notice to one user or to every user of a role (slotwise.notifications.notices) -----------------

NOTICE_EVENT_TYPE = "admin.notice"
NoticeRole = Literal["admin", "vendor", "staff", "agent", "advisor", "customer"]


class NoticeInput(ApiModel):
    """To one user (`userId`) or to every user of a role (`role`): exactly one of them."""

    user_id: Id | None = None
    role: NoticeRole | None = None
    title: Annotated[OneLine, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1, max_length=2000)]

    @model_validator(mode="after")
    def _one_audience(self) -> NoticeInput:
        if (self.user_id is None) == (self.role is None):
            raise ValueError("name exactly one of userId and role")
        return self


class Notice(DomainModel):
    """A notice to a role, delivered page by page: each page of the role's users is one `notice.page` event (the
    item's stream record), and the page's delivery moves `page` and `cursor` on, which is the next event."""

    id: str
    role: str
    title: str
    body: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    status: Literal["sending", "done"] = "sending"
    page: int = 0
    # The GSI1 key of the last user delivered to (plain values), None before the first page.
    cursor: dict[str, str] | None = None
    delivered: int = 0
