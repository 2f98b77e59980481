"""A user's account status, as the permission checks and the admin console need it.

  USER#<id> / PROFILE   status: active | pending_approval | rejected | suspended, version

`get_user_status` reads that one attribute (a projected GetItem, strongly consistent, so an approval or a
suspension counts from the next request). A user with no profile item counts as **active**: callers named by the
local runtime's identity headers (and by the tests) and users of an external OIDC provider have no profile here;
for them the status the edge put on the `Caller` (from the token) is what counts.

`change_status` moves a profile from one status to another, conditional on the status and version that were read,
in one TransactWriteItems with its audit entry. The reads and the write are `slotwise.identity.repository`'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from slotwise.identity import repository

if TYPE_CHECKING:
    from slotwise.audit.log import AuditEntry

ACTIVE = "active"
PENDING = "pending_approval"
REJECTED = "rejected"
SUSPENDED = "suspended"
STATUSES = (ACTIVE, PENDING, REJECTED, SUSPENDED)


def get_user_status(user_id: str) -> str | None:
    """The stored status, or None when there is no profile (callers treat that as active, see above)."""
    item = repository.get_status_item(user_id)
    if item is None:
        return None
    return str(item.get("status", ACTIVE))


def get_profile(user_id: str) -> dict[str, Any] | None:
    """The stored profile as plain data (tolerant of statuses and fields the User model may not know yet)."""
    return repository.get_profile(user_id)


def change_status(profile: dict[str, Any], to: str, audit: AuditEntry, *, now: datetime | None = None) -> int:
    """Set `status` on the profile as read (same status, same version) and write the audit entry, atomically.

    Returns the new version; 409 `version_conflict` when the profile changed since it was read.
    """
    return repository.change_status(profile, to, ACTIVE, audit, now=now)
