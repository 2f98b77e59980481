"""Booking records in the single table: their items, the transaction steps that change them, and their reads.

  BOOKING#<id>   / BOOKING        the booking    GSI1 USER#<customer>/<start>#<id>
                                                 GSI2 RESBOOK#<resource>/<start>#<id>
                                                 GSI3 HOLDS#<shard>/<expires>#<id>  (only while a hold can lapse)
                                                      TIMER#<shard>/<due>#<id>  (a confirmed booking's next
                                                      reminder or completion: slotwise.booking.timers)
                                                 GSI4 CREATOR#<created by>/<start>#<id>  (only when made for
                                                      someone else: the bookings an agent made)
                                                 GSI5 ORGBOOK#<organisation>/<start>#<id>  (every booking: the
                                                      vendor's organisation's listing, newest first)
  REF#<code>     / REF            reference -> booking id (its uniqueness is a condition in the same transaction)
  IDEMP#<caller>#<key> / IDEMP    Idempotency-Key -> booking id + request hash (same transaction, TTL 24 h)
  USERHOLDS#<user> / HOLDS        how many bookings this user made are in held/awaiting_approval (the hold cap,
                                  kept by `slotwise.transaction.Transaction.holds`)

Inventory items are in `slotwise.booking.inventory`; the transaction builder, its side items (audit entry,
stats shard, hold counters, quota token) and its 100-item budget in `slotwise.transaction`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from slotwise import aws
from slotwise.audit import stats
from slotwise.booking import timers
from slotwise.booking.models import EXPIRING, Booking
from slotwise.data.codec import from_item, to_item
from slotwise.data.due import due_ids, shard_of, sort_time
from slotwise.data.dynamo import index_page, table_name, translate_errors
from slotwise.identity.models import organisation_id_of
from slotwise.transaction import Tag, Transaction


def booking_key(booking_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"BOOKING#{booking_id}"}, "SK": {"S": "BOOKING"}}


def org_partition(organisation_id: str) -> str:
    return f"ORGBOOK#{organisation_id}"


def opens_hold(booking: Booking) -> bool:
    """Bookings in these states count toward their creator's active holds."""
    return booking.status in EXPIRING


def booking_item(booking: Booking) -> dict[str, Any]:
    start = sort_time(booking.start_time)
    values: dict[str, Any] = {
        "PK": f"BOOKING#{booking.id}",
        "SK": "BOOKING",
        "type": "booking",
        "GSI1PK": f"USER#{booking.customer_id}",
        "GSI1SK": f"{start}#{booking.id}",
        "GSI2PK": f"RESBOOK#{booking.resource_id}",
        "GSI2SK": f"{start}#{booking.id}",
        "GSI5PK": org_partition(organisation_id_of(booking.vendor_id)),
        "GSI5SK": f"{start}#{booking.id}",
        "expiresEpoch": booking.expires_epoch,
        **booking.model_dump(mode="json", by_alias=True),
    }
    if booking.status in EXPIRING and booking.expires_at is not None:
        # A request's decider is reminded half-way through its wait: the sweeper finds it at that moment first.
        due = booking.expires_epoch
        reminder = approval_reminder_due(booking)
        if reminder is not None:
            due = min(due, int(reminder.timestamp()))
        values["GSI3PK"] = f"HOLDS#{shard_of(booking.id)}"
        values["GSI3SK"] = f"{due:012d}#{booking.id}"
    timer = timers.next_timer(booking)
    if timer is not None:
        values["GSI3PK"] = f"TIMER#{shard_of(booking.id)}"
        values["GSI3SK"] = f"{int(timer.due.timestamp()):012d}#{booking.id}"
    if booking.created_by != booking.customer_id:
        values["GSI4PK"] = f"CREATOR#{booking.created_by}"
        values["GSI4SK"] = f"{start}#{booking.id}"
    return values


def approval_reminder_due(booking: Booking) -> datetime | None:
    """When the decider of a waiting request is to be reminded, if that is still to do."""
    if booking.status != "awaiting_approval" or booking.approval_reminded:
        return None
    return booking.approval_reminder_at


# ------------------------------------------------------------------------------------------- transaction steps


def move_status(tx: Transaction, before: str | None, after: str | None) -> None:
    """A booking leaves `before` and enters `after` (None: it did not exist / no longer exists)."""
    if before is not None:
        tx.count(stats.booking_counter(before), -1)
    if after is not None:
        tx.count(stats.booking_counter(after), 1)


def _booking_as_read(before: Booking) -> dict[str, Any]:
    """The condition that the booking is still the version and status `before` was read with."""
    return {
        "ConditionExpression": "version = :version AND #status = :status",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":version": {"N": str(before.version)}, ":status": {"S": before.status}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def check_booking(tx: Transaction, booking: Booking) -> None:
    """Write nothing to the booking, but commit only if nobody moved it since it was read (a payment starts
    for the hold that was read, not for whatever it became)."""
    check = {"TableName": table_name(), "Key": booking_key(booking.id), **_booking_as_read(booking)}
    tx.add(Tag("booking", booking.id), {"ConditionCheck": check})  # type: ignore[typeddict-item]


def replace_booking(tx: Transaction, before: Booking, after: Booking) -> None:
    """The new state of a booking, only if nobody moved it since `before` was read."""
    put = {"TableName": table_name(), "Item": to_item(booking_item(after)), **_booking_as_read(before)}
    tx.add(Tag("booking", after.id), {"Put": put})  # type: ignore[typeddict-item]


def mark_timers(tx: Transaction, before: Booking, after: Booking) -> None:
    """Timer bookkeeping (`timersDone`, `lastReminder`) without a new version. The version alone cannot tell
    two runs of the timers job apart, so the condition also names how many timers were done when read: of
    concurrent runs exactly one marks a reminder (and so sends it)."""
    done = len(before.timers_done)
    was = "size(timersDone) = :done" if done else "(attribute_not_exists(timersDone) OR size(timersDone) = :done)"
    tx.add(
        Tag("booking", after.id),
        {
            "Put": {
                "TableName": table_name(),
                "Item": to_item(booking_item(after)),
                "ConditionExpression": f"version = :version AND #status = :status AND {was}",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":version": {"N": str(before.version)},
                    ":status": {"S": before.status},
                    ":done": {"N": str(done)},
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    )


def mark_reminded(tx: Transaction, before: Booking, after: Booking) -> None:
    """The decider's reminder, without a new version (the publisher makes it `booking.approval_reminder`): only
    if the request is still the one read and nobody reminded them meanwhile, so it is sent once."""
    tx.add(
        Tag("booking", after.id),
        {
            "Put": {
                "TableName": table_name(),
                "Item": to_item(booking_item(after)),
                "ConditionExpression": "version = :version AND #status = :status AND approvalReminded = :no",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":version": {"N": str(before.version)},
                    ":status": {"S": before.status},
                    ":no": {"BOOL": False},
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    )


def delete_booking(tx: Transaction, booking: Booking) -> None:
    tx.add(
        Tag("booking", booking.id),
        {
            "Delete": {
                "TableName": table_name(),
                "Key": booking_key(booking.id),
                "ConditionExpression": "version = :version",
                "ExpressionAttributeValues": {":version": {"N": str(booking.version)}},
            }
        },
    )


def expire_evicted(tx: Transaction, booking_id: str, expires_epoch: int, now_iso: str) -> None:
    """Mark a lapsed hold `expired` as its inventory is taken. Only if it still is that hold: one already
    expired (by another claimant, on another key) fails here and the claim loop leaves it out next time, so
    its counters are closed exactly once."""
    tx.add(
        Tag("evicted", booking_id),
        {
            "Update": {
                "TableName": table_name(),
                "Key": booking_key(booking_id),
                # No request made this version (the evicting request is another booking's): no correlation id.
                "UpdateExpression": "SET #status = :expired, version = version + :one, updatedAt = :now "
                "REMOVE GSI3PK, GSI3SK, requestId",
                "ConditionExpression": "#status IN (:held, :awaiting) AND expiresEpoch = :x",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":expired": {"S": "expired"},
                    ":held": {"S": "held"},
                    ":awaiting": {"S": "awaiting_approval"},
                    ":x": {"N": str(expires_epoch)},
                    ":one": {"N": "1"},
                    ":now": {"S": now_iso},
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    )


# -------------------------------------------------------------------------------------------------------- reads


def get_booking(booking_id: str, *, consistent: bool = True) -> Booking | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=booking_key(booking_id), ConsistentRead=consistent)
    item = found.get("Item")
    return Booking.model_validate(from_item(item)) if item else None


def get_plain(pk: str, sk: str) -> dict[str, Any] | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(
            TableName=table_name(), Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True
        )
    item = found.get("Item")
    return from_item(item) if item else None


def get_bookings(booking_ids: Iterable[str]) -> list[Booking]:
    """Up to 100 bookings in one BatchGetItem (used to describe conflicts)."""
    ids = sorted(set(booking_ids))[:100]
    if not ids:
        return []
    client = aws.dynamodb()
    keys: list[Any] = [booking_key(i) for i in ids]
    found: list[Booking] = []
    with translate_errors("BatchGetItem"):
        while keys:
            page = client.batch_get_item(RequestItems={table_name(): {"Keys": keys}})
            found.extend(Booking.model_validate(from_item(i)) for i in page["Responses"].get(table_name(), []))
            unprocessed = page.get("UnprocessedKeys") or {}
            keys = list(unprocessed[table_name()]["Keys"]) if table_name() in unprocessed else []
    return found


def query_bookings(
    index: str, partition: str, *, low: str | None, high: str | None, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[Booking], dict[str, Any] | None]:
    items, last = index_page(index, partition, low=low, high=high, limit=limit, start_key=start_key)
    return [Booking.model_validate(i) for i in items], last


# How many index pages one organisation listing request may read while its filters leave a page short.
MAX_FILTERED_PAGES = 5


def query_organisation(
    organisation_id: str,
    *,
    low: str | None,
    high: str | None,
    filters: dict[str, str],
    limit: int,
    start_key: dict[str, Any] | None,
) -> tuple[list[Booking], dict[str, Any] | None]:
    """Newest first, an organisation's bookings (GSI5) between two start sort keys, with equality filters on
    booking attributes (`venueId`, `resourceId`, `status`, `customerId`). One Query page per round, at most
    MAX_FILTERED_PAGES rounds: a page that filters left short goes on from where DynamoDB stopped, and the key
    returned is always where the next page starts, so no booking is skipped or repeated."""
    condition = "GSI5PK = :pk"
    values: dict[str, Any] = {":pk": {"S": org_partition(organisation_id)}}
    if low is not None and high is not None:
        condition += " AND GSI5SK BETWEEN :low AND :high"
        values.update({":low": {"S": low}, ":high": {"S": high}})
    names: dict[str, str] = {}
    clauses = []
    for position, (attribute, value) in enumerate(sorted(filters.items())):
        names[f"#f{position}"] = attribute
        values[f":f{position}"] = {"S": value}
        clauses.append(f"#f{position} = :f{position}")
    request: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": "GSI5",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
    }
    if clauses:
        request["FilterExpression"] = " AND ".join(clauses)
        request["ExpressionAttributeNames"] = names
    found: list[Booking] = []
    last = start_key
    client = aws.dynamodb()
    with translate_errors("Query"):
        for _ in range(MAX_FILTERED_PAGES):
            page_request = {**request, "Limit": limit - len(found)}
            if last:
                page_request["ExclusiveStartKey"] = last
            page = client.query(**page_request)
            found.extend(Booking.model_validate(from_item(i)) for i in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if last is None or len(found) >= limit:
                break
    return found, last


def lapsed_holds(now_epoch: int, limit: int = 100) -> list[str]:
    """Ids of bookings whose hold deadline has passed (strictly), across every shard of the sparse holds index."""
    return due_ids("HOLDS", f"{now_epoch:012d}#", limit)


def due_timers(now_epoch: int, limit: int = 100) -> list[str]:
    """Ids of confirmed bookings whose next deadline (reminder or completion) has come, across every shard."""
    return due_ids("TIMER", f"{now_epoch:012d}#~", limit)


# ------------------------------------------------------------------------ the organisation index backfill (GSI5)

BACKFILL_STATE = {"PK": {"S": "MIGRATION#organisation-index"}, "SK": {"S": "STATE"}}


def resource_bookings_page(
    resource_id: str, *, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a resource's booking items as stored (GSI2), keys included."""
    return index_page("GSI2", f"RESBOOK#{resource_id}", low=None, high=None, limit=limit, start_key=start_key)


def add_organisation_keys(item: dict[str, Any]) -> bool:
    """Give a booking stored before GSI5 existed its organisation listing keys; False when it has them already
    (any write since carries them) or is gone. Conditional, so it never overwrites a newer version."""
    client = aws.dynamodb()
    try:
        with translate_errors("UpdateItem"):
            client.update_item(
                TableName=table_name(),
                Key=booking_key(str(item["id"])),
                UpdateExpression="SET GSI5PK = :pk, GSI5SK = :sk",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(GSI5PK)",
                ExpressionAttributeValues={
                    ":pk": {"S": org_partition(organisation_id_of(str(item["vendorId"])))},
                    ":sk": {"S": str(item["GSI2SK"])},
                },
            )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def backfill_state() -> dict[str, Any] | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=BACKFILL_STATE, ConsistentRead=True)
    item = found.get("Item")
    return from_item(item) if item else None


def save_backfill_state(*, done: bool, cursor: str | None) -> None:
    values: dict[str, Any] = {**from_item(BACKFILL_STATE), "type": "migration", "done": done}
    if cursor is not None:
        values["cursor"] = cursor
    with translate_errors("PutItem"):
        aws.dynamodb().put_item(TableName=table_name(), Item=to_item(values))
