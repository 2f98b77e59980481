"""In-app notifications and each user's unread counter in the single table.

Longer than 400 lines because the notification item, its counter and an admin's notice to a role move together in
transactions that must stay next to each other (the counter is only exact if every write of it is here).

  NOTIF#<user>       / <created-at ISO>#<id>   a notification (newest first is a reverse Query on the partition)
  NOTIFCOUNT#<user>  / UNREAD                  `unread`: how many of the user's notifications are unread
  NOTICE#<id>        / NOTICE                  an admin's notice to every user of a role, and how far its
                                               delivery got (`page`, `cursor`: slotwise.notifications.notices)

The counter is exact because it only ever moves in the same TransactWriteItems as the notification whose state it
counts, and each of those writes is conditional on that state: creation (`attribute_not_exists`, +1), marking read
(`read = false`, -1), read-all (each item `read = false`, -n for the n items of the transaction), deletion of an
unread one (`read = false`, -1). A condition that fails cancels the whole transaction, counter included.

A deleted notification stays as a tombstone (`deleted`, text removed) for `TOMBSTONE_DAYS`, then TTL removes it:
while it exists, a late redelivery of its event finds the key taken and cannot bring the notification back.

E-mail state lives on the notification item (`emailStatus`): `pending` (created with an e-mail to send) ->
`sending` (claimed by one delivery, with `emailSendingSince`) -> `sent`; `failed` after an SES error. See
slotwise.notifications.service for why a claim may be taken over once its lease lapses.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slotwise import aws, errors
from slotwise.audit.log import AuditEntry
from slotwise.data.codec import from_item, to_item
from slotwise.data.dynamo import table_name, translate_errors
from slotwise.notifications.models import Notice, Notification, created_at_of, sort_time

TOMBSTONE_DAYS = 30
# One TransactWriteItems takes 100 items: 99 notifications and the counter.
READ_ALL_CHUNK = 98  # + the counter + the audit entry = DynamoDB's 100 items per transaction
READ_ALL_MAX_CHUNKS = 50
_ATTEMPTS = 6
# Pages a filtered listing reads at most per request before it returns a short page with a cursor.
_MAX_ROUNDS = 10
_UNREAD_SK = "UNREAD"

Key = dict[str, Any]


def partition(user_id: str) -> str:
    return f"NOTIF#{user_id}"


def counter_key(user_id: str) -> Key:
    return {"PK": {"S": f"NOTIFCOUNT#{user_id}"}, "SK": {"S": _UNREAD_SK}}


def item_key(user_id: str, notification_id: str) -> Key | None:
    """The key of a notification by its id (the id carries its creation instant); None for a malformed id."""
    created = created_at_of(notification_id)
    if created is None:
        return None
    return {"PK": {"S": partition(user_id)}, "SK": {"S": f"{sort_time(created)}#{notification_id}"}}


def _counter_step(user_id: str, delta: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table_name(),
            "Key": counter_key(user_id),
            "UpdateExpression": "ADD unread :delta SET #type = :type",
            "ExpressionAttributeNames": {"#type": "type"},
            "ExpressionAttributeValues": {":delta": {"N": str(delta)}, ":type": {"S": "notification_counter"}},
        }
    }


def _transact(items: list[Any]) -> list[str] | None:
    """Run the transaction; None on success, else each step's cancellation code when a condition failed.
    Lost races (TransactionConflict: another transaction touched the counter at that moment) run again."""
    client = aws.dynamodb()
    for attempt in range(_ATTEMPTS):
        with translate_errors("TransactWriteItems"):
            try:
                client.transact_write_items(TransactItems=items)
                return None
            except client.exceptions.TransactionCanceledException as exc:
                codes = [reason.get("Code", "None") for reason in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in codes:
                    return codes
                if "TransactionConflict" not in codes:
                    raise
        time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not security
    raise errors.DependencyUnavailable("DynamoDB TransactWriteItems failed: TransactionConflict")


def create(notification: Notification, *, email_pending: bool, claimed_at: datetime | None = None) -> bool:
    """Store the notification and count it unread, in one transaction; False when its key exists already (this
    event was delivered to this user before, or the notification was deleted since).

    With `claimed_at` (and an e-mail pending) the item is born with its e-mail claimed, as `claim_email` would
    leave it (`sending` since then, one attempt): the first delivery needs no UpdateItem of its own to claim, and
    a duplicate that loses the create finds a fresh claim, exactly as before."""
    return _transact(creation_steps(notification, email_pending=email_pending, claimed_at=claimed_at)) is None


def creation_steps(
    notification: Notification, *, email_pending: bool = False, claimed_at: datetime | None = None
) -> list[dict[str, Any]]:
    """The two items that create a notification (conditional on its key being new) and count it unread, for a
    transaction of another domain (a booking message) to carry, so both commit together or neither does."""
    key = item_key(notification.user_id, notification.id)
    assert key is not None, "notification ids come from models.notification_id"
    email: dict[str, Any] = {"emailStatus": "pending" if email_pending else None}
    if email_pending and claimed_at is not None:
        email = {"emailStatus": "sending", "emailSendingSince": int(claimed_at.timestamp()), "emailAttempts": 1}
    item = {
        "PK": key["PK"]["S"],
        "SK": key["SK"]["S"],
        "type": "notification",
        **notification.model_dump(mode="json", by_alias=True),
        **email,
    }
    put = {"Put": {"TableName": table_name(), "Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}}
    return [put, _counter_step(notification.user_id, 1)]


def _update(key: Key, expression: str, condition: str, values: dict[str, Any], names: dict[str, str] | None) -> bool:
    client = aws.dynamodb()
    request: dict[str, Any] = {
        "TableName": table_name(),
        "Key": key,
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": values,
    }
    if names:
        request["ExpressionAttributeNames"] = names
    with translate_errors("UpdateItem"):
        try:
            client.update_item(**request)
        except client.exceptions.ConditionalCheckFailedException:
            return False
    return True


def claim_email(user_id: str, notification_id: str, *, now: datetime, lease_seconds: int) -> bool:
    """Take the right to send this notification's e-mail: when it is pending, failed, or claimed by a delivery
    whose lease lapsed (it crashed). False when it was sent, is being sent right now, or has no e-mail."""
    key = item_key(user_id, notification_id)
    assert key is not None
    epoch = int(now.timestamp())
    return _update(
        key,
        "SET emailStatus = :sending, emailSendingSince = :now ADD emailAttempts :one",
        "attribute_exists(PK) AND (emailStatus IN (:pending, :failed) "
        "OR (emailStatus = :sending AND emailSendingSince < :stale))",
        {
            ":sending": {"S": "sending"},
            ":pending": {"S": "pending"},
            ":failed": {"S": "failed"},
            ":now": {"N": str(epoch)},
            ":stale": {"N": str(epoch - lease_seconds)},
            ":one": {"N": "1"},
        },
        None,
    )


def email_sent(user_id: str, notification_id: str, *, message_id: str, now: datetime) -> None:
    key = item_key(user_id, notification_id)
    assert key is not None
    _update(
        key,
        "SET emailStatus = :sent, emailMessageId = :id, emailSentAt = :at REMOVE emailSendingSince, emailError",
        "attribute_exists(PK)",
        {":sent": {"S": "sent"}, ":id": {"S": message_id}, ":at": {"S": sort_time(now)}},
        None,
    )


def email_failed(user_id: str, notification_id: str, *, error: str) -> None:
    """Release the claim so the retry of this message may send (only if no other delivery sent it meanwhile)."""
    key = item_key(user_id, notification_id)
    assert key is not None
    _update(
        key,
        "SET emailStatus = :failed, emailError = :error REMOVE emailSendingSince",
        "attribute_exists(PK) AND emailStatus = :sending",
        {":failed": {"S": "failed"}, ":error": {"S": error[:500]}, ":sending": {"S": "sending"}},
        None,
    )


def get(user_id: str, notification_id: str) -> dict[str, Any] | None:
    """The stored item (e-mail state included), or None when missing or deleted."""
    key = item_key(user_id, notification_id)
    if key is None:
        return None
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=key, ConsistentRead=True)
    item = found.get("Item")
    if not item:
        return None
    plain = from_item(item)
    return None if plain.get("deleted") else plain


def list_page(
    user_id: str, *, unread_only: bool, limit: int, start_key: Key | None
) -> tuple[list[Notification], Key | None]:
    """Newest first. Deleted (and, with `unread_only`, read) ones are filtered out, so one page may take several
    Query calls; it stops after a few and returns a cursor even when the page is short."""
    condition = "attribute_not_exists(deleted)"
    values: dict[str, Any] = {":pk": {"S": partition(user_id)}}
    names: dict[str, str] = {}
    if unread_only:
        condition += " AND #read = :false"
        values[":false"] = {"BOOL": False}
        names["#read"] = "read"
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk",
        "FilterExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
    }
    if names:
        request["ExpressionAttributeNames"] = names
    found: list[Notification] = []
    last = start_key
    for _ in range(_MAX_ROUNDS):
        request["Limit"] = limit - len(found)
        if last is not None:
            request["ExclusiveStartKey"] = last
        with translate_errors("Query"):
            page = aws.dynamodb().query(**request)
        found += [Notification.model_validate(from_item(item)) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        if last is None or len(found) >= limit:
            break
    return found, last


def unread_count(user_id: str) -> int:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=counter_key(user_id), ConsistentRead=True)
    item = found.get("Item")
    return max(0, int(item["unread"]["N"])) if item and "unread" in item else 0


def _set_read_step(key: Key, now: datetime) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key,
            "UpdateExpression": "SET #read = :true, readAt = :at",
            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(deleted) AND #read = :false",
            "ExpressionAttributeNames": {"#read": "read"},
            "ExpressionAttributeValues": {
                ":true": {"BOOL": True},
                ":false": {"BOOL": False},
                ":at": {"S": sort_time(now)},
            },
        }
    }


def mark_read(user_id: str, notification_id: str, *, now: datetime, audit: AuditEntry) -> Notification | None:
    """Mark it read (the counter drops by one only if it was unread; the audit entry only if it changed); None when
    there is no such notification."""
    key = item_key(user_id, notification_id)
    if key is None:
        return None
    # A failed condition means it was read already (nothing to count) or is missing or deleted: the read says which.
    _transact([_set_read_step(key, now), _counter_step(user_id, -1), audit.put()])
    stored = get(user_id, notification_id)
    return Notification.model_validate(stored) if stored else None


def _unread_keys(user_id: str, limit: int) -> list[Key]:
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk",
        "FilterExpression": "attribute_not_exists(deleted) AND #read = :false",
        "ProjectionExpression": "PK, SK",
        "ExpressionAttributeNames": {"#read": "read"},
        "ExpressionAttributeValues": {":pk": {"S": partition(user_id)}, ":false": {"BOOL": False}},
    }
    keys: list[Key] = []
    while len(keys) < limit:
        with translate_errors("Query"):
            page = aws.dynamodb().query(**request)
        keys += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return keys[:limit]


def mark_all_read(user_id: str, *, now: datetime, audit: Callable[[int], AuditEntry]) -> int:
    """Mark unread notifications read, 99 per transaction with the counter moved by exactly that many; returns
    how many this call marked. A transaction that lost a race (one of its notifications was read or deleted
    meanwhile) wrote nothing: the unread ones are read again and the chunk retried. One call marks at most
    `READ_ALL_MAX_CHUNKS` chunks (the answer's unread count shows what is left). Each chunk writes its own audit
    entry, `audit(how many)`."""
    marked = 0
    chunks = lost = 0
    while chunks < READ_ALL_MAX_CHUNKS:
        keys = _unread_keys(user_id, READ_ALL_CHUNK)
        if not keys:
            break
        steps: list[Any] = [_set_read_step({"PK": k["PK"], "SK": k["SK"]}, now) for k in keys]
        if _transact([*steps, _counter_step(user_id, -len(keys)), audit(len(keys)).put()]) is None:
            marked += len(keys)
            chunks += 1
            continue
        lost += 1
        if lost >= _ATTEMPTS:
            raise errors.DependencyUnavailable("Notifications kept changing while being marked read; try again.")
    return marked


def delete(user_id: str, notification_id: str, *, now: datetime, audit: AuditEntry) -> bool:
    """Delete (tombstone) the notification, counting it out if it was unread; False when there is none."""
    key = item_key(user_id, notification_id)
    if key is None:
        return False
    ttl = int((now + timedelta(days=TOMBSTONE_DAYS)).timestamp())
    for _ in range(_ATTEMPTS):
        stored = get(user_id, notification_id)
        if stored is None:
            return False
        was_read = bool(stored.get("read"))
        step: dict[str, Any] = {
            "Update": {
                "TableName": table_name(),
                "Key": key,
                "UpdateExpression": "SET deleted = :true, deletedAt = :at, #ttl = :ttl REMOVE title, body",
                "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(deleted) AND #read = :was",
                "ExpressionAttributeNames": {"#read": "read", "#ttl": "ttl"},
                "ExpressionAttributeValues": {
                    ":true": {"BOOL": True},
                    ":was": {"BOOL": was_read},
                    ":at": {"S": sort_time(now)},
                    ":ttl": {"N": str(ttl)},
                },
            }
        }
        items: list[Any] = [step, audit.put()] if was_read else [step, _counter_step(user_id, -1), audit.put()]
        if _transact(items) is None:
            return True
        # Read, deleted or marked read between the GetItem and the write: look again.
    raise errors.DependencyUnavailable("The notification kept changing; try again.")


def _live_keys(user_id: str, limit: int) -> list[dict[str, Any]]:
    """Keys (and read state) of the user's notifications not deleted yet, oldest first."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk",
        "FilterExpression": "attribute_not_exists(deleted)",
        "ProjectionExpression": "PK, SK, #read",
        "ExpressionAttributeNames": {"#read": "read"},
        "ExpressionAttributeValues": {":pk": {"S": partition(user_id)}},
    }
    found: list[dict[str, Any]] = []
    while len(found) < limit:
        with translate_errors("Query"):
            page = aws.dynamodb().query(**request)
        found += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found[:limit]


def _tombstone_step(key: Key, *, was_read: bool, now: datetime) -> dict[str, Any]:
    ttl = int((now + timedelta(days=TOMBSTONE_DAYS)).timestamp())
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key,
            "UpdateExpression": "SET deleted = :true, deletedAt = :at, #ttl = :ttl REMOVE title, body",
            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(deleted) AND #read = :was",
            "ExpressionAttributeNames": {"#read": "read", "#ttl": "ttl"},
            "ExpressionAttributeValues": {
                ":true": {"BOOL": True},
                ":was": {"BOOL": was_read},
                ":at": {"S": sort_time(now)},
                ":ttl": {"N": str(ttl)},
            },
        }
    }


def delete_all(user_id: str, *, now: datetime, audit: Callable[[int], AuditEntry]) -> tuple[int, bool]:
    """Delete (tombstone) the user's notifications, `READ_ALL_CHUNK` per transaction with the unread counter moved
    by exactly the unread ones among them; only this user's partition is read, so nobody else's is touched.
    Returns how many this call deleted and whether some are left (one call does at most `READ_ALL_MAX_CHUNKS`
    chunks: the caller asks again). A chunk that lost a race (a notification read, deleted or created meanwhile)
    wrote nothing and is read again."""
    deleted = chunks = lost = 0
    while chunks < READ_ALL_MAX_CHUNKS:
        found = _live_keys(user_id, READ_ALL_CHUNK)
        if not found:
            return deleted, False
        unread = sum(1 for item in found if not item.get("read", {}).get("BOOL", False))
        steps: list[Any] = [
            _tombstone_step(
                {"PK": item["PK"], "SK": item["SK"]}, was_read=item.get("read", {}).get("BOOL", False), now=now
            )
            for item in found
        ]
        if unread:
            steps.append(_counter_step(user_id, -unread))
        if _transact([*steps, audit(len(found)).put()]) is None:
            deleted += len(found)
            chunks += 1
            continue
        lost += 1
        if lost >= _ATTEMPTS:
            raise errors.DependencyUnavailable("Notifications kept changing while being deleted; try again.")
    return deleted, bool(_live_keys(user_id, 1))


# --- an admin's notices ------------------------------------------------------------------------------------------


def send_one(notification: Notification, *, audit: AuditEntry) -> bool:
    """Create one notification with the audit entry of the admin who sent it; False if its key exists."""
    return _transact([*creation_steps(notification), audit.put()]) is None


def notice_key(notice_id: str) -> Key:
    return {"PK": {"S": f"NOTICE#{notice_id}"}, "SK": {"S": "NOTICE"}}


def create_notice(notice: Notice, *, audit: AuditEntry) -> None:
    """Store a new notice to a role with its audit entry; its stream record is the first page's event."""
    item = {
        "PK": f"NOTICE#{notice.id}",
        "SK": "NOTICE",
        "type": "notice",
        **notice.model_dump(mode="json", by_alias=True),
    }
    put = {"Put": {"TableName": table_name(), "Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}}
    if _transact([put, audit.put()]) is not None:
        raise errors.Conflict("A notice with this id exists.", code="notice_exists")


def get_notice(notice_id: str) -> Notice | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=notice_key(notice_id), ConsistentRead=True)
    item = found.get("Item")
    return Notice.model_validate(from_item(item)) if item else None


def advance_notice(notice_id: str, *, page: int, cursor: dict[str, str] | None, delivered: int, now: datetime) -> bool:
    """Record that page `page` was delivered: the next page starts after `cursor` (None: that was the last page,
    the notice is done). Conditional on the notice still being at `page`, so a redelivered page event moves it
    once; its new version is the next page's event. False when another delivery moved it first."""
    values: dict[str, Any] = {
        ":page": {"N": str(page)},
        ":next": {"N": str(page + 1)},
        ":one": {"N": "1"},
        ":n": {"N": str(delivered)},
        ":sending": {"S": "sending"},
        ":now": {"S": sort_time(now)},
    }
    names = {"#status": "status", "#cursor": "cursor", "#page": "page"}
    if cursor is None:
        expression = "SET #page = :next, #status = :done, updatedAt = :now REMOVE #cursor"
        values[":done"] = {"S": "done"}
    else:
        expression = "SET #page = :next, #cursor = :cursor, updatedAt = :now"
        values[":cursor"] = {"M": {k: {"S": v} for k, v in cursor.items()}}
    return _update(
        notice_key(notice_id),
        expression + " ADD version :one, delivered :n",
        "#page = :page AND #status = :sending",
        values,
        names,
    )
