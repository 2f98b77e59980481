"""A user's account status, as the permission checks and the admin console need it.

  USER#<id> / PROFILE   status: active | pending_approval | rejected | suspended, version

`get_user_status` reads that one attribute (a projected GetItem, strongly consistent, so an approval or a
suspension counts from the next request). A user with no profile item counts as **active**: callers named by the
local runtime's identity headers (and by the tests) and users of an external OIDC provider have no profile here;
for them the status the edge put on the `Caller` (from the token) is what counts.

`change_status` moves a profile from one status to another, conditional on the status and version that were read,
in one TransactWriteItems with its audit entry.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from slotwise import aws, errors
from slotwise.audit.log import AuditEntry
from slotwise.data.codec import from_item
from slotwise.data.dynamo import table_name, translate_errors

ACTIVE = "active"
PENDING = "pending_approval"
REJECTED = "rejected"
SUSPENDED = "suspended"
STATUSES = (ACTIVE, PENDING, REJECTED, SUSPENDED)
_ATTEMPTS = 3


def _profile_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PROFILE"}}


def get_user_status(user_id: str) -> str | None:
    """The stored status, or None when there is no profile (callers treat that as active, see above)."""
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(
            TableName=table_name(),
            Key=_profile_key(user_id),
            ProjectionExpression="#status",
            ExpressionAttributeNames={"#status": "status"},
            ConsistentRead=True,
        )
    item = found.get("Item")
    if item is None:
        return None
    return str(item["status"]["S"]) if "status" in item else ACTIVE


def get_profile(user_id: str) -> dict[str, Any] | None:
    """The stored profile as plain data (tolerant of statuses and fields the User model may not know yet)."""
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=_profile_key(user_id), ConsistentRead=True)
    item = found.get("Item")
    return from_item(item) if item else None


def change_status(profile: dict[str, Any], to: str, audit: AuditEntry, *, now: datetime | None = None) -> int:
    """Set `status` on the profile as read (same status, same version) and write the audit entry, atomically.

    Returns the new version; 409 `version_conflict` when the profile changed since it was read.
    """
    current = str(profile.get("status", ACTIVE))
    version = int(profile.get("version", 1))
    # Profiles written before versions existed have none: they count as version 1 (as the identity repository does).
    was = "#status = :from" if "status" in profile else "attribute_not_exists(#status)"
    condition = f"{was} AND " + (
        "(attribute_not_exists(#version) OR #version = :version)" if version == 1 else "#version = :version"
    )
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    client = aws.dynamodb()
    request: dict[str, Any] = {
        "TransactItems": [
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": _profile_key(str(profile["id"])),
                    "UpdateExpression": "SET #status = :to, #version = :next, updatedAt = :now",
                    "ConditionExpression": f"attribute_exists(PK) AND {condition}",
                    "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
                    "ExpressionAttributeValues": {
                        **({":from": {"S": current}} if "status" in profile else {}),
                        ":to": {"S": to},
                        ":version": {"N": str(version)},
                        ":next": {"N": str(version + 1)},
                        ":now": {"S": stamp},
                    },
                }
            },
            audit.put(),
        ]
    }
    for attempt in range(_ATTEMPTS):
        with translate_errors("TransactWriteItems"):
            try:
                client.transact_write_items(**request)
                return version + 1
            except client.exceptions.TransactionCanceledException as exc:
                reasons = {r.get("Code") for r in exc.response.get("CancellationReasons", [])} - {None, "None"}
                # Only a lost race (nothing failed its condition) is worth running again.
                if reasons != {"TransactionConflict"} or attempt == _ATTEMPTS - 1:
                    raise errors.Conflict(
                        "The account changed since it was read; read it again and retry.", code="version_conflict"
                    ) from exc
        time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")
