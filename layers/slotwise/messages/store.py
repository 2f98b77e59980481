"""A booking's messages in the single table.

  MESSAGES#<booking> / MSG#<message id>   a message; ids begin with the instant they were posted (microseconds,
                                          UTC), so the partition read forwards is the conversation oldest first

The messages have their own partition rather than the booking's (`BOOKING#<id>`): the booking item is read and
written by every lifecycle transaction and the conversation grows without bound; a partition per booking keeps a
page of messages one Query and never makes the booking's reads larger. The booking's id in the key is what binds a
message to its booking: a message id is only ever looked up under the booking the path names.

Posting is one TransactWriteItems: the message (`attribute_not_exists`), a ConditionCheck that the booking exists,
and the in-app notification of each other party with its unread counter (`slotwise.notifications.store`), so a
message and its notifications exist together or not at all. An admin's deletion removes the text and leaves a
tombstone (`deleted`, `deletedAt`), conditional on the message not being deleted yet, with its audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slotwise import aws, errors
from slotwise.audit.log import AuditEntry
from slotwise.data.codec import from_item, to_value
from slotwise.data.dynamo import get_item, table_name, translate_errors
from slotwise.messages.models import Message
from slotwise.models import iso
from slotwise.transaction import Tag, Transaction, TransactionFailed, backoff, execute

# Attempts of a post that loses races on the recipient's unread counter (full-jitter backoff up to 0.5 s).
ATTEMPTS = 12
_MESSAGE = "message"
_BOOKING = "message_booking"


def partition(booking_id: str) -> str:
    return f"MESSAGES#{booking_id}"


def message_key(booking_id: str, message_id: str) -> dict[str, Any]:
    return {"PK": {"S": partition(booking_id)}, "SK": {"S": f"MSG#{message_id}"}}


def message_item(message: Message) -> dict[str, Any]:
    return {
        "PK": partition(message.booking_id),
        "SK": f"MSG#{message.id}",
        "type": "message",
        **message.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def _run(tx: Transaction) -> None:
    for attempt in range(ATTEMPTS):
        try:
            execute(tx)
            return
        except TransactionFailed as failed:
            if not failed.only_contention or attempt == ATTEMPTS - 1:
                raise
        backoff(attempt)


def _failed(failed: TransactionFailed, key: str) -> bool:
    return any(f.tag.key == key and f.code == "ConditionalCheckFailed" for f in failed.failures)


def post(message: Message, *, notifications: list[dict[str, Any]], charge: Callable[[Transaction], None]) -> None:
    """Store a new message with the notifications it sends (their creation steps), in one transaction."""
    tx = Transaction()
    tx.put_new(Tag("other", _MESSAGE), message_item(message))
    check = {
        "TableName": table_name(),
        "Key": {"PK": {"S": f"BOOKING#{message.booking_id}"}, "SK": {"S": "BOOKING"}},
        "ConditionExpression": "attribute_exists(PK)",
    }
    tx.add(Tag("other", _BOOKING), {"ConditionCheck": check})  # type: ignore[typeddict-item]
    for position, step in enumerate(notifications):
        tx.add(Tag("other", f"notification:{position}"), step)  # type: ignore[arg-type]
    charge(tx)
    try:
        _run(tx)
    except TransactionFailed as failed:
        if _failed(failed, _BOOKING):
            raise errors.NotFound(f"No booking {message.booking_id}.", code="booking_not_found") from failed
        # The id is new randomness and the notification's key derives from it: a taken key is a bug, not a race.
        raise errors.Conflict("The message could not be stored; send it again.", code="message_conflict") from failed


def get(booking_id: str, message_id: str) -> Message | None:
    item = get_item(message_key(booking_id, message_id))
    return Message.model_validate(from_item(item)) if item else None


def tombstone(
    booking_id: str,
    message_id: str,
    *,
    now: datetime,
    audit: AuditEntry,
    charge: Callable[[Transaction], None] = lambda tx: None,
) -> bool:
    """Remove the text and mark the message deleted, with the audit entry; False when it was deleted already (or
    meanwhile): nothing written."""
    update = {
        "TableName": table_name(),
        "Key": message_key(booking_id, message_id),
        "UpdateExpression": "SET deleted = :true, deletedAt = :at REMOVE #text",
        "ConditionExpression": "attribute_exists(PK) AND (attribute_not_exists(deleted) OR deleted = :false)",
        "ExpressionAttributeNames": {"#text": "text"},
        "ExpressionAttributeValues": {":true": to_value(True), ":false": to_value(False), ":at": to_value(iso(now))},
    }
    tx = Transaction()
    tx.add(Tag("other", _MESSAGE), {"Update": update})  # type: ignore[typeddict-item]
    tx.audit(audit)
    charge(tx)
    try:
        _run(tx)
    except TransactionFailed as failed:
        if _failed(failed, _MESSAGE):
            return False
        raise
    return True


def page(booking_id: str, *, limit: int, start_key: dict[str, Any] | None) -> tuple[list[Message], Any]:
    """Oldest first: one Query of the booking's partition, and the key to go on from (None at the end)."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :msg)",
        "ExpressionAttributeValues": {":pk": {"S": partition(booking_id)}, ":msg": {"S": "MSG#"}},
        "Limit": limit,
        "ScanIndexForward": True,
    }
    if start_key:
        request["ExclusiveStartKey"] = start_key
    with translate_errors("Query"):
        found = aws.dynamodb().query(**request)
    return [Message.model_validate(from_item(i)) for i in found.get("Items", [])], found.get("LastEvaluatedKey")
