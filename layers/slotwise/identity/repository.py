"""Users in the single table.

  USER#<id>     / PROFILE      the user (password hash included; GSI1 ROLE#<role>/USER#<id>)
  EMAIL#<email> / EMAIL        e-mail -> user id; written with the profile in one transaction, so e-mails are unique

Every change of a profile is conditioned on the version read, never check-then-write.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slotwise import aws, errors
from slotwise.data.codec import from_item, to_item
from slotwise.data.dynamo import table_name, translate_errors
from slotwise.identity.models import User, UserStatus, normalise_email

if TYPE_CHECKING:
    from slotwise.audit.log import AuditEntry


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def profile_key(user_id: str) -> dict[str, Any]:
    return _key(f"USER#{user_id}", "PROFILE")


def _profile_item(user: User) -> dict[str, Any]:
    return {
        "PK": f"USER#{user.id}",
        "SK": "PROFILE",
        "type": "user",
        "GSI1PK": f"ROLE#{user.role}",
        "GSI1SK": f"USER#{user.id}",
        **user.model_dump(mode="json", by_alias=True),
        # Excluded from every dump of the model; stored here only.
        "passwordHash": user.password_hash,
    }


def put_user(user: User, *, audit: AuditEntry | None = None, attempts: int = 5) -> bool:
    """Store a new user (and its audit entry, in the same transaction); False when the id or e-mail is taken.

    A transaction cancelled only because another one touched the same keys at the same moment is run again:
    it then either succeeds or fails its condition (the other one took the e-mail).
    """
    client = aws.dynamodb()
    email = to_item({"PK": f"EMAIL#{normalise_email(user.email)}", "SK": "EMAIL", "type": "email", "userId": user.id})
    items: list[Any] = [
        {
            "Put": {
                "TableName": table_name(),
                "Item": to_item(_profile_item(user)),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {"Put": {"TableName": table_name(), "Item": email, "ConditionExpression": "attribute_not_exists(PK)"}},
    ]
    if audit is not None:
        items.append(audit.put())
    for attempt in range(attempts):
        with translate_errors("TransactWriteItems"):
            try:
                client.transact_write_items(TransactItems=items)
                return True
            except client.exceptions.TransactionCanceledException as exc:
                codes = {r.get("Code") for r in exc.response.get("CancellationReasons", [])}
                if "ConditionalCheckFailed" in codes or "TransactionConflict" not in codes:
                    return False
        time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not security
    raise errors.DependencyUnavailable("DynamoDB TransactWriteItems failed: TransactionConflict")


def get_user(user_id: str) -> User | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=profile_key(user_id), ConsistentRead=True)
    item = found.get("Item")
    return User.model_validate(from_item(item)) if item else None


def get_user_by_email(email: str) -> User | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(
            TableName=table_name(), Key=_key(f"EMAIL#{normalise_email(email)}", "EMAIL"), ConsistentRead=True
        )
    item = found.get("Item")
    if not item:
        return None
    return get_user(item["userId"]["S"])


def _versioned_update(user: User, sets: dict[str, Any], now: datetime | None, audit: AuditEntry | None = None) -> User:
    """SET these attributes, bump the version and updatedAt, only if the stored version is the one read.

    With an audit entry the update and the entry are one TransactWriteItems: the entry exists iff the change does.
    """
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    sets = {**sets, "updatedAt": stamp}
    names = {f"#a{i}": name for i, name in enumerate(sets)}
    values: dict[str, Any] = {f":a{i}": to_item({"v": value})["v"] for i, value in enumerate(sets.values())}
    values.update({":version": {"N": str(user.version)}, ":one": {"N": "1"}})
    assignments = [f"#a{i} = :a{i}" for i in range(len(sets))]
    # Users written before versions existed have no attribute: they count as version 1.
    condition = "#version = :version"
    if user.version == 1:
        condition = "(attribute_not_exists(#version) OR #version = :version)"
    names["#version"] = "version"
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": profile_key(user.id),
        "UpdateExpression": "SET " + ", ".join(assignments) + ", #version = if_not_exists(#version, :one) + :one",
        "ConditionExpression": f"attribute_exists(PK) AND {condition}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    client = aws.dynamodb()
    if audit is None:
        with translate_errors("UpdateItem"):
            try:
                result = client.update_item(**update, ReturnValues="ALL_NEW")
            except client.exceptions.ConditionalCheckFailedException as exc:
                raise _changed_meanwhile() from exc
        return User.model_validate(from_item(result["Attributes"]))
    with translate_errors("TransactWriteItems"):
        try:
            client.transact_write_items(TransactItems=[{"Update": update}, audit.put()])  # type: ignore[typeddict-item]
        except client.exceptions.TransactionCanceledException as exc:
            raise _changed_meanwhile() from exc
    changes = {**sets, "version": user.version + 1, "passwordHash": sets.get("passwordHash", user.password_hash)}
    return User.model_validate({**user.model_dump(mode="json", by_alias=True), **changes})


def _changed_meanwhile() -> errors.Conflict:
    return errors.Conflict(
        "The account changed while this request was being handled; read it again and retry.",
        code="concurrent_update",
    )


def update_profile(
    user: User, *, name: str | None, locale: str | None, now: datetime | None = None, audit: AuditEntry | None = None
) -> User:
    """Change name and/or locale of the user as read (409 `concurrent_update` if it changed since)."""
    sets: dict[str, Any] = {}
    if name is not None:
        sets["name"] = name
    if locale is not None:
        sets["locale"] = locale
    if not sets:
        return user
    return _versioned_update(user, sets, now, audit)


def set_status(user: User, status: UserStatus, *, now: datetime | None = None) -> User:
    """Approve (active), suspend or reinstate the user as read (for the admin service)."""
    return _versioned_update(user, {"status": status}, now)


def set_password_hash(
    user: User, password_hash: str, *, now: datetime | None = None, audit: AuditEntry | None = None
) -> User:
    return _versioned_update(user, {"passwordHash": password_hash}, now, audit)
