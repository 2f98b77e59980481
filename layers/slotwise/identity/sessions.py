"""Refresh tokens: opaque, single use, stored only as a SHA-256 hash, grouped in families (one per sign-in).

  REFRESH#<sha256 of the token> / REFRESH      userId, familyId, status active|rotated|revoked, expiresEpoch, ttl
  USER#<user id> / FAMILY#<family id>           status active|revoked, ttl (the newest token's expiry)

Rotation is one TransactWriteItems: the presented token becomes `rotated` only if it is still `active` and not
expired, the family stays `active` (condition) and the new token is put with `attribute_not_exists`. Whoever
presents a token that is no longer active (a stolen copy, or the loser of two concurrent refreshes) gets the
whole family revoked: every later refresh of that sign-in fails. Access tokens already issued live out their
15 minutes. Rotated tokens are kept until their own expiry (TTL) so that reuse can still be recognised.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from slotwise import aws
from slotwise.data.codec import from_item, to_item
from slotwise.data.dynamo import table_name, translate_errors

if TYPE_CHECKING:
    from slotwise.audit.log import AuditEntry

REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
TOKEN_BYTES = 32

TokenStatus = Literal["active", "rotated", "revoked"]
Outcome = Literal["rotated", "not_active", "family_revoked", "contention"]


@dataclass(frozen=True)
class RefreshRecord:
    token_hash: str
    user_id: str
    family_id: str
    status: TokenStatus
    expires_epoch: int


@dataclass(frozen=True)
class Issued:
    token: str
    family_id: str
    expires_epoch: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _token_key(hashed: str) -> dict[str, Any]:
    return {"PK": {"S": f"REFRESH#{hashed}"}, "SK": {"S": "REFRESH"}}


def _family_key(user_id: str, family_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": f"FAMILY#{family_id}"}}


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _new_token_put(user_id: str, family_id: str, now: int) -> tuple[Issued, dict[str, Any]]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + REFRESH_TOKEN_SECONDS
    item = to_item(
        {
            "PK": f"REFRESH#{token_hash(token)}",
            "SK": "REFRESH",
            "type": "refresh_token",
            "userId": user_id,
            "familyId": family_id,
            "status": "active",
            "createdAt": _iso(now),
            "expiresEpoch": expires,
            "ttl": expires,
        }
    )
    put = {"Put": {"TableName": table_name(), "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}
    return Issued(token, family_id, expires), put


def start(user_id: str, now: int, audit: AuditEntry | None = None) -> Issued:
    """A new family (a sign-in) and its first refresh token, with the sign-in's audit entry, in one transaction."""
    family_id = uuid.uuid4().hex
    issued, put_token = _new_token_put(user_id, family_id, now)
    family = to_item(
        {
            "PK": f"USER#{user_id}",
            "SK": f"FAMILY#{family_id}",
            "type": "refresh_family",
            "userId": user_id,
            "familyId": family_id,
            "status": "active",
            "createdAt": _iso(now),
            "ttl": issued.expires_epoch,
        }
    )
    with translate_errors("TransactWriteItems"):
        aws.dynamodb().transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table_name(), "Item": family, "ConditionExpression": "attribute_not_exists(PK)"}},
                put_token,  # type: ignore[list-item]
                *([audit.put()] if audit is not None else []),
            ]
        )
    return issued


def find(token: str) -> RefreshRecord | None:
    hashed = token_hash(token)
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=_token_key(hashed), ConsistentRead=True)
    item = found.get("Item")
    if not item:
        return None
    plain = from_item(item)
    return RefreshRecord(
        token_hash=hashed,
        user_id=plain["userId"],
        family_id=plain["familyId"],
        status=plain["status"],
        expires_epoch=int(plain["expiresEpoch"]),
    )


def rotate(record: RefreshRecord, now: int, audit: AuditEntry | None = None) -> tuple[Outcome, Issued | None]:
    """Swap the presented token for a new one of the same family (and write the audit entry), in one transaction."""
    issued, put_token = _new_token_put(record.user_id, record.family_id, now)
    items: list[Any] = [
        {
            "Update": {
                "TableName": table_name(),
                "Key": _token_key(record.token_hash),
                "UpdateExpression": "SET #status = :rotated, rotatedAt = :at",
                "ConditionExpression": "#status = :active AND expiresEpoch > :now",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":rotated": {"S": "rotated"},
                    ":active": {"S": "active"},
                    ":at": {"S": _iso(now)},
                    ":now": {"N": str(now)},
                },
            }
        },
        {
            "Update": {
                "TableName": table_name(),
                "Key": _family_key(record.user_id, record.family_id),
                "UpdateExpression": "SET #ttl = :ttl, rotatedAt = :at",
                "ConditionExpression": "#status = :active",
                "ExpressionAttributeNames": {"#status": "status", "#ttl": "ttl"},
                "ExpressionAttributeValues": {
                    ":active": {"S": "active"},
                    ":ttl": {"N": str(issued.expires_epoch)},
                    ":at": {"S": _iso(now)},
                },
            }
        },
        put_token,
    ]
    if audit is not None:
        items.append(audit.put())
    client = aws.dynamodb()
    with translate_errors("TransactWriteItems"):
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(codes) > 1 and codes[0] == "ConditionalCheckFailed":
                return "not_active", None
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return "family_revoked", None
            if "TransactionConflict" in codes:
                return "contention", None
            raise
    return "rotated", issued


def revoke_family(user_id: str, family_id: str, now: int, reason: str, audit: AuditEntry | None = None) -> None:
    """Mark the family revoked (idempotent; nothing is created if it has expired away).

    With an audit entry, the revocation and the entry are one transaction; a family that is gone records nothing.
    """
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": _family_key(user_id, family_id),
        "UpdateExpression": "SET #status = :revoked, revokedAt = if_not_exists(revokedAt, :at), "
        "revokedReason = if_not_exists(revokedReason, :reason)",
        "ConditionExpression": "attribute_exists(PK)",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":revoked": {"S": "revoked"},
            ":at": {"S": _iso(now)},
            ":reason": {"S": reason},
        },
    }
    client = aws.dynamodb()
    if audit is None:
        with translate_errors("UpdateItem"):
            try:
                client.update_item(**update)
            except client.exceptions.ConditionalCheckFailedException:
                return
        return
    with translate_errors("TransactWriteItems"):
        try:
            client.transact_write_items(TransactItems=[{"Update": update}, audit.put()])  # type: ignore[typeddict-item]
        except client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                return
            raise


def family_status(user_id: str, family_id: str) -> str | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(
            TableName=table_name(), Key=_family_key(user_id, family_id), ConsistentRead=True
        )
    item = found.get("Item")
    return item["status"]["S"] if item else None


def revoke_all(user_id: str, now: int, reason: str) -> int:
    """Revoke every active sign-in of a user (suspension, password change); returns how many were active."""
    client = aws.dynamodb()
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :family)",
        "FilterExpression": "#status = :active",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":pk": {"S": f"USER#{user_id}"},
            ":family": {"S": "FAMILY#"},
            ":active": {"S": "active"},
        },
        "ProjectionExpression": "familyId",
        "ConsistentRead": True,
    }
    revoked = 0
    with translate_errors("Query"):
        while True:
            page = client.query(**request)
            for item in page.get("Items", []):
                revoke_family(user_id, item["familyId"]["S"], now, reason)
                revoked += 1
            if "LastEvaluatedKey" not in page:
                return revoked
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
