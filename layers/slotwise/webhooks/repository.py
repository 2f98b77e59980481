"""Webhook subscriptions, deliveries and delivery attempts in the single table.

  WEBHOOK#<sub> / SUBSCRIPTION            the subscription     GSI1: WEBHOOKS#<owner> / <created>#<sub>
                                                               GSI2 (admins' only): WEBHOOKS#ALL / <sub>
  WEBHOOK#<sub> / DELIVERY#<event id>     one per (event, subscription), created by a conditional put
  WEBHOOK#<sub> / ATTEMPT#<time>#<n>      one per HTTP attempt, never updated

A vendor's subscriptions are found for an event through GSI1 (the event's vendor); admins' subscriptions, which
receive every event, through GSI2's single `WEBHOOKS#ALL` partition (a handful of items). Deliveries and attempts
expire 30 days after they were written (TTL). Subscription writes are TransactWriteItems with their audit entry.

The signing secret is stored as is in the `secret` attribute (HMAC needs the secret itself, so it cannot be
hashed): the table is encrypted at rest and only this module reads the attribute; no API answer returns it after
creation or rotation. Hardening for AWS: encrypt the attribute with a KMS key the delivery function alone may
use for Decrypt (client-side envelope encryption), so a table export or a read-only table role cannot sign.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slotwise import aws, errors
from slotwise.audit.log import stamp
from slotwise.data.codec import from_item, to_item, to_value
from slotwise.data.dynamo import table_name, translate_errors
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.webhooks.models import Subscription

if TYPE_CHECKING:
    from slotwise.audit.log import AuditEntry

ALL_PARTITION = "WEBHOOKS#ALL"
RECORD_TTL = timedelta(days=30)
# A claim on an attempt lasts longer than one attempt (5 s timeout) and less than the queue's visibility timeout.
LEASE = timedelta(seconds=60)
MAX_PAGE = 100
MAX_FANOUT_PAGES = 20


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def subscription_key(subscription_id: str) -> dict[str, Any]:
    return _key(f"WEBHOOK#{subscription_id}", "SUBSCRIPTION")


def delivery_key(subscription_id: str, event_id: str) -> dict[str, Any]:
    return _key(f"WEBHOOK#{subscription_id}", f"DELIVERY#{event_id}")


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _subscription_item(sub: Subscription) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": f"WEBHOOK#{sub.id}",
        "SK": "SUBSCRIPTION",
        "type": "webhook_subscription",
        "GSI1PK": f"WEBHOOKS#{sub.owner_id}",
        "GSI1SK": f"{stamp(sub.created_at)}#{sub.id}",
        **sub.model_dump(mode="json", by_alias=True),
        "secret": sub.secret,
        "previousSecret": sub.previous_secret,
    }
    if sub.scope == "all":
        item.update(GSI2PK=ALL_PARTITION, GSI2SK=sub.id)
    return item


def _subscription(item: dict[str, Any]) -> Subscription:
    return Subscription.model_validate(from_item(item))


def _transact(steps: list[dict[str, Any]], audit: AuditEntry | None) -> bool:
    """The steps and their audit entry as one transaction; False when a condition failed (nothing written)."""
    items: list[Any] = [*steps, *([audit.put()] if audit is not None else [])]
    client = aws.dynamodb()
    with translate_errors("TransactWriteItems"):
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as exc:
            codes = {r.get("Code") for r in exc.response.get("CancellationReasons", [])}
            if "ConditionalCheckFailed" in codes:
                return False
            raise errors.Conflict("The subscription changed meanwhile; read it again and retry.") from exc
    return True


def _put_step(sub: Subscription, expected_version: int | None) -> dict[str, Any]:
    # None: a new subscription (its id is a fresh uuid, so only the owner's cap can refuse its creation).
    step: dict[str, Any] = {"TableName": table_name(), "Item": to_item(_subscription_item(sub))}
    if expected_version is None:
        step["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        step["ConditionExpression"] = "version = :v"
        step["ExpressionAttributeValues"] = {":v": to_value(expected_version)}
    return {"Put": step}


def save_subscription(sub: Subscription, expected_version: int, *, audit: AuditEntry | None) -> bool:
    """Replace the version read; False when it changed or vanished meanwhile."""
    return _transact([_put_step(sub, expected_version)], audit)


def _owned_count_step(owner_id: str, delta: int, cap: int | None = None) -> dict[str, Any]:
    """The owner's count of subscriptions, moved in the transaction that creates or deletes one; an increase is
    refused at `cap`, so concurrent creations can never pass it."""
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": {"PK": {"S": f"WEBHOOKS#{owner_id}"}, "SK": {"S": "COUNT"}},
        "UpdateExpression": "SET #type = :type ADD subscriptions :delta",
        "ExpressionAttributeNames": {"#type": "type"},
        "ExpressionAttributeValues": {":type": to_value("webhook_count"), ":delta": to_value(delta)},
    }
    if cap is not None:
        update["ConditionExpression"] = "attribute_not_exists(subscriptions) OR subscriptions < :cap"
        update["ExpressionAttributeValues"][":cap"] = to_value(cap)
    return {"Update": update}


def create_subscription(sub: Subscription, *, cap: int, audit: AuditEntry | None) -> bool:
    """A new subscription, if its owner holds fewer than `cap` (False: the cap is reached; nothing written)."""
    return _transact([_put_step(sub, None), _owned_count_step(sub.owner_id, 1, cap)], audit)


def delete_subscription(sub: Subscription, *, audit: AuditEntry | None) -> bool:
    step = {
        "Delete": {
            "TableName": table_name(),
            "Key": subscription_key(sub.id),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": to_value(sub.version)},
        }
    }
    return _transact([step, _owned_count_step(sub.owner_id, -1)], audit)


def disable_subscription(sub_id: str, reason: str, at: datetime, *, audit: AuditEntry | None) -> bool:
    """Turn an active subscription off (a 410 answer); False when it is already off or gone."""
    step = {
        "Update": {
            "TableName": table_name(),
            "Key": subscription_key(sub_id),
            "UpdateExpression": "SET active = :off, disabledReason = :reason, disabledAt = :at, updatedAt = :at, "
            "version = version + :one",
            "ConditionExpression": "attribute_exists(PK) AND active = :on",
            "ExpressionAttributeValues": {
                ":off": to_value(False),
                ":on": to_value(True),
                ":reason": to_value(reason),
                ":at": to_value(stamp(at)),
                ":one": to_value(1),
            },
        }
    }
    return _transact([step], audit)


def get_subscription(subscription_id: str) -> Subscription | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(
            TableName=table_name(), Key=subscription_key(subscription_id), ConsistentRead=True
        )
    item = found.get("Item")
    return _subscription(item) if item else None


def _checked_start(cursor: str | None, attribute: str, partition: str) -> dict[str, Any] | None:
    start = decode_cursor(cursor, scope=f"webhooks:{attribute}:{partition}")
    if start is not None and from_item(start).get(attribute) != partition:
        raise errors.ValidationFailed("cursor belongs to another listing", code="invalid_cursor")
    return start


def list_owned(owner_id: str, *, limit: int, cursor: str | None) -> tuple[list[Subscription], str | None]:
    partition = f"WEBHOOKS#{owner_id}"
    request: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": partition}},
        "Limit": min(limit, MAX_PAGE),
    }
    start = _checked_start(cursor, "GSI1PK", partition)
    if start is not None:
        request["ExclusiveStartKey"] = start
    with translate_errors("Query"):
        page = aws.dynamodb().query(**request)
    found = [_subscription(item) for item in page.get("Items", [])]
    return found, encode_cursor(page.get("LastEvaluatedKey"), scope=f"webhooks:GSI1PK:{partition}")


def _active_in(index: str, partition: str) -> list[Subscription]:
    pk = f"{index}PK"
    request: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": index,
        "KeyConditionExpression": f"{pk} = :pk",
        "FilterExpression": "active = :on",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":on": {"BOOL": True}},
    }
    found: list[Subscription] = []
    with translate_errors("Query"):
        for _ in range(MAX_FANOUT_PAGES):
            page = aws.dynamodb().query(**request)
            found += [_subscription(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found


def active_subscriptions(owner_id: str | None) -> list[Subscription]:
    """Active subscriptions that may receive an event of this vendor: admins' (every event) and the vendor's own.

    Read from the indexes (eventually consistent: a subscription saved a moment ago may miss an event)."""
    found = {sub.id: sub for sub in _active_in("GSI2", ALL_PARTITION)}
    if owner_id is not None:
        found.update({sub.id: sub for sub in _active_in("GSI1", f"WEBHOOKS#{owner_id}") if sub.scope == "own"})
    return list(found.values())


# --- deliveries -----------------------------------------------------------------------------------------------------


def create_delivery(sub_id: str, event_id: str, event_type: str, body: str, now: datetime) -> bool:
    """The delivery of one event to one subscription, once: False when it already exists (a redelivered event)."""
    item = {
        "PK": f"WEBHOOK#{sub_id}",
        "SK": f"DELIVERY#{event_id}",
        "type": "webhook_delivery",
        "subscriptionId": sub_id,
        "eventId": event_id,
        "eventType": event_type,
        "body": body,
        "status": "pending",
        "attempts": 0,
        "createdAt": stamp(now),
        "nextAttemptAt": stamp(now),
        "ttl": _epoch(now + RECORD_TTL),
    }
    client = aws.dynamodb()
    with translate_errors("PutItem"):
        try:
            client.put_item(TableName=table_name(), Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")
        except client.exceptions.ConditionalCheckFailedException:
            return False
    return True


def get_delivery(sub_id: str, event_id: str) -> dict[str, Any] | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=delivery_key(sub_id, event_id), ConsistentRead=True)
    item = found.get("Item")
    return from_item(item) if item else None


def claim_attempt(sub_id: str, event_id: str, attempt: int, now: datetime) -> dict[str, Any] | None:
    """Take the right to make attempt `attempt` (1-based): the delivery must be pending (or failed: a message
    redriven from the DLQ), have made exactly `attempt - 1` attempts, and nobody may hold a live claim.
    Returns the delivery, or None when another consumer has it or it is no longer due."""
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            result = client.update_item(
                TableName=table_name(),
                Key=delivery_key(sub_id, event_id),
                UpdateExpression="SET leaseUntil = :lease",
                ConditionExpression="attribute_exists(PK) AND #status IN (:pending, :failed) AND attempts = :made "
                "AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":lease": to_value(_epoch(now + LEASE)),
                    ":pending": to_value("pending"),
                    ":failed": to_value("failed"),
                    ":made": to_value(attempt - 1),
                    ":now": to_value(_epoch(now)),
                },
                ReturnValues="ALL_NEW",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return None
    return from_item(result["Attributes"])


def finish_attempt(
    sub_id: str,
    event_id: str,
    attempt: int,
    *,
    status: str,
    first_attempt_at: datetime,
    next_attempt_at: datetime | None,
    last_result: str,
) -> bool:
    """Record where the delivery stands after attempt `attempt`; False when someone else recorded it first."""
    values: dict[str, Any] = {
        ":made": to_value(attempt - 1),
        ":n": to_value(attempt),
        ":status": to_value(status),
        ":first": to_value(stamp(first_attempt_at)),
        ":last": to_value(last_result),
    }
    sets = (
        "attempts = :n, #status = :status, firstAttemptAt = if_not_exists(firstAttemptAt, :first), lastResult = :last"
    )
    removes = ["leaseUntil"]
    if next_attempt_at is not None:
        sets += ", nextAttemptAt = :next"
        values[":next"] = to_value(stamp(next_attempt_at))
    else:
        removes.append("nextAttemptAt")
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            client.update_item(
                TableName=table_name(),
                Key=delivery_key(sub_id, event_id),
                UpdateExpression=f"SET {sets} REMOVE {', '.join(removes)}",
                ConditionExpression="attribute_exists(PK) AND attempts = :made",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
    return True


def cancel_delivery(sub_id: str, event_id: str, reason: str) -> None:
    """A pending delivery whose subscription is gone or off: no further attempts."""
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            client.update_item(
                TableName=table_name(),
                Key=delivery_key(sub_id, event_id),
                UpdateExpression="SET #status = :cancelled, lastResult = :reason REMOVE leaseUntil, nextAttemptAt",
                ConditionExpression="attribute_exists(PK) AND #status IN (:pending, :failed)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":cancelled": to_value("cancelled"),
                    ":reason": to_value(reason),
                    ":pending": to_value("pending"),
                    ":failed": to_value("failed"),
                },
            )
        except client.exceptions.ConditionalCheckFailedException:
            return


def record_attempt(sub_id: str, attempt: dict[str, Any], at: datetime) -> None:
    """One HTTP attempt, as the deliveries listing shows it (written before the delivery moves on)."""
    item = {
        "PK": f"WEBHOOK#{sub_id}",
        "SK": f"ATTEMPT#{stamp(at)}#{uuid.uuid4().hex[:8]}",
        "type": "webhook_attempt",
        **attempt,
        "ttl": _epoch(at + RECORD_TTL),
    }
    with translate_errors("PutItem"):
        aws.dynamodb().put_item(TableName=table_name(), Item=to_item(item))


_ATTEMPT_FIELDS = (
    "eventId",
    "eventType",
    "attempt",
    "outcome",
    "statusCode",
    "error",
    "durationMs",
    "attemptedAt",
    "nextAttemptAt",
)


def list_attempts(sub_id: str, *, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first."""
    partition = f"WEBHOOK#{sub_id}"
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": "ATTEMPT#"}},
        "ScanIndexForward": False,
        "Limit": min(limit, MAX_PAGE),
    }
    start = _checked_start(cursor, "PK", partition)
    if start is not None:
        request["ExclusiveStartKey"] = start
    with translate_errors("Query"):
        page = aws.dynamodb().query(**request)
    rows = []
    for raw in page.get("Items", []):
        item = from_item(raw)
        rows.append({name: item.get(name) for name in _ATTEMPT_FIELDS})
    return rows, encode_cursor(page.get("LastEvaluatedKey"), scope=f"webhooks:PK:{partition}")
