"""In-app notifications as stored and as the API shows them, and their deterministic ids."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from slotwise.models import DomainModel

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
