"""Organisations and their members in the single table, and the identity domain's only DynamoDB calls for them.

  ORG#<organisation id> / ORG                  the organisation: id, ownerId (its vendor), name, createdAt
  ORG#<organisation id> / MEMBER#<user id>     a member: userId, email, name, role (staff | agent), addedAt, addedBy
  USER#<user id>        / ORGMEMBER            the member's one membership: organisationId, ownerId, role

The `ORGMEMBER` item is the guard that a user belongs to at most one organisation: adding a member puts it with
`attribute_not_exists(PK)` in the same transaction as the member item and the audit entry, so of two concurrent
adds of one user (to the same organisation or to two) exactly one commits. Removing deletes both, conditional on
the guard naming this organisation. Members of an organisation are one Query on its partition (no index).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slotwise import aws, errors
from slotwise.data.codec import from_item, to_item
from slotwise.data.dynamo import get_item, table_name, translate_errors
from slotwise.transaction import Tag, Transaction, TransactionFailed, backoff, execute

if TYPE_CHECKING:
    from slotwise.audit.log import AuditEntry


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def organisation_key(organisation_id: str) -> dict[str, Any]:
    return _key(f"ORG#{organisation_id}", "ORG")


def member_key(organisation_id: str, user_id: str) -> dict[str, Any]:
    return _key(f"ORG#{organisation_id}", f"MEMBER#{user_id}")


def membership_key(user_id: str) -> dict[str, Any]:
    return _key(f"USER#{user_id}", "ORGMEMBER")


_ATTEMPTS = 5


def _execute(tx: Transaction) -> None:
    """Run the transaction; one cancelled only because another touched the same keys at that moment runs again
    (it then commits or fails its condition)."""
    for attempt in range(_ATTEMPTS):
        try:
            execute(tx)
            return
        except TransactionFailed as failed:
            if not failed.only_contention or attempt == _ATTEMPTS - 1:
                raise
            backoff(attempt)


def get_organisation(organisation_id: str) -> dict[str, Any] | None:
    item = get_item(organisation_key(organisation_id))
    return from_item(item) if item else None


def put_organisation_if_absent(organisation: dict[str, Any]) -> dict[str, Any]:
    """Create the organisation item unless it exists; either way answer the stored one (two first uses race
    harmlessly: one writes, the other reads what it wrote)."""
    item = {"PK": f"ORG#{organisation['id']}", "SK": "ORG", "type": "organisation", **organisation}
    client = aws.dynamodb()
    try:
        with translate_errors("PutItem"):
            client.put_item(TableName=table_name(), Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")
    except client.exceptions.ConditionalCheckFailedException:
        stored = get_organisation(str(organisation["id"]))
        if stored is None:  # pragma: no cover - organisations are never deleted
            raise errors.Conflict("The organisation changed meanwhile; retry.", code="version_conflict") from None
        return stored
    return item


def get_membership(user_id: str) -> dict[str, Any] | None:
    """The user's membership guard, strongly consistent: a removal counts from the member's next request."""
    item = get_item(membership_key(user_id))
    return from_item(item) if item else None


def membership_puts(member: dict[str, Any], owner_id: str) -> list[Any]:
    """The member item and the user's guard (one organisation per user), each only if absent: the writes of a
    membership, for this module's transaction or an account's creation (`accounts.invitations`)."""
    organisation_id, user_id = str(member["organisationId"]), str(member["userId"])
    guard = {
        "PK": f"USER#{user_id}",
        "SK": "ORGMEMBER",
        "type": "organisation_membership",
        "organisationId": organisation_id,
        "ownerId": owner_id,
        "role": member["role"],
    }
    stored = {**member_key_plain(organisation_id, user_id), "type": "organisation_member", **member}
    return [
        {"Put": {"TableName": table_name(), "Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}}
        for item in (guard, stored)
    ]


def add_member(member: dict[str, Any], owner_id: str, audit: AuditEntry) -> str | None:
    """Add the member, its guard and the audit entry in one transaction. None when it committed; otherwise why
    not: `member` (the user is in an organisation already, this one or another) or `profile` (the account changed
    role or disappeared since it was read)."""
    organisation_id, user_id = str(member["organisationId"]), str(member["userId"])
    tx = Transaction()
    guard_put, member_put = membership_puts(member, owner_id)
    tx.add(Tag("membership", user_id), guard_put)
    tx.add(Tag("membership", f"{organisation_id}/{user_id}"), member_put)
    tx.add(
        Tag("other", f"profile:{user_id}"),
        {
            "ConditionCheck": {
                "TableName": table_name(),
                "Key": _key(f"USER#{user_id}", "PROFILE"),
                "ConditionExpression": "#role = :role",
                "ExpressionAttributeNames": {"#role": "role"},
                "ExpressionAttributeValues": {":role": {"S": str(member["role"])}},
            }
        },
    )
    tx.audit(audit)
    try:
        _execute(tx)
    except TransactionFailed as failed:
        if failed.of_kind("membership"):
            return "member"
        if failed.of_kind("other"):
            return "profile"
        raise
    return None


def member_key_plain(organisation_id: str, user_id: str) -> dict[str, str]:
    return {"PK": f"ORG#{organisation_id}", "SK": f"MEMBER#{user_id}"}


def remove_member(organisation_id: str, user_id: str, audit: AuditEntry) -> bool:
    """Delete the member and its guard (and write the audit entry) in one transaction; False when the user is
    not a member of this organisation (nothing written)."""
    tx = Transaction()
    tx.add(
        Tag("membership", f"{organisation_id}/{user_id}"),
        {
            "Delete": {
                "TableName": table_name(),
                "Key": member_key(organisation_id, user_id),
                "ConditionExpression": "attribute_exists(PK)",
            }
        },
    )
    tx.add(
        Tag("membership", user_id),
        {
            "Delete": {
                "TableName": table_name(),
                "Key": membership_key(user_id),
                "ConditionExpression": "organisationId = :org",
                "ExpressionAttributeValues": {":org": {"S": organisation_id}},
            }
        },
    )
    tx.audit(audit)
    try:
        _execute(tx)
    except TransactionFailed as failed:
        if failed.of_kind("membership"):
            return False
        raise
    return True


def members_page(
    organisation_id: str, *, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :member)",
        "ExpressionAttributeValues": {":pk": {"S": f"ORG#{organisation_id}"}, ":member": {"S": "MEMBER#"}},
        "Limit": limit,
    }
    if start_key:
        request["ExclusiveStartKey"] = start_key
    with translate_errors("Query"):
        page = aws.dynamodb().query(**request)
    return [from_item(i) for i in page.get("Items", [])], page.get("LastEvaluatedKey")
