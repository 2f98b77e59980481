"""Bookings and inventory in the single table, and the transactions that make double-booking impossible.

  BOOKING#<id>   / BOOKING        the booking    GSI1 USER#<customer>/<start>#<id>
                                                 GSI2 RESBOOK#<resource>/<start>#<id>
                                                 GSI3 HOLDS#<shard>/<expires>#<id>  (only while a hold can lapse)
  REF#<code>     / REF            reference -> booking id (its uniqueness is a condition in the same transaction)
  IDEMP#<caller>#<key> / IDEMP    Idempotency-Key -> booking id + request hash (same transaction, TTL 24 h)
  RESOURCE#<id>  / SLOT#<lockkey> inventory: `used` and one `h_<bookingId>` = {q: quantity, x: expiry epoch, 0 = firm}

A claim is an Update per lock key conditioned on `used <= capacity - quantity` (plus the removal of holders
seen expired, conditioned on their exact expiry), in the same TransactWriteItems as the booking's
`attribute_not_exists` Put. Nothing is ever checked first and written later.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from slotwise import aws, errors
from slotwise.booking.models import EXPIRING, Booking
from slotwise.data.codec import from_item, to_item
from slotwise.data.dynamo import table_name, translate_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

HOLD_SHARDS = 8
MAX_TRANSACTION_ITEMS = 100

TagKind = Literal["booking", "reference", "idempotency", "slot", "evicted", "other"]


@dataclass(frozen=True)
class Tag:
    """What one item of a transaction is, so a cancellation reason can be read back in domain terms."""

    kind: TagKind
    key: str = ""


@dataclass(frozen=True)
class Holder:
    booking_id: str
    quantity: int
    expires_epoch: int

    def live(self, now_epoch: int) -> bool:
        return self.expires_epoch == 0 or self.expires_epoch > now_epoch


@dataclass(frozen=True)
class Failure:
    tag: Tag
    code: str
    item: dict[str, Any] | None


class TransactionFailed(Exception):
    def __init__(self, failures: list[Failure]) -> None:
        super().__init__(", ".join(f"{f.tag.kind}:{f.tag.key}={f.code}" for f in failures))
        self.failures = failures

    @property
    def only_contention(self) -> bool:
        return all(f.code == "TransactionConflict" for f in self.failures)

    def of_kind(self, kind: TagKind) -> list[Failure]:
        return [f for f in self.failures if f.tag.kind == kind and f.code == "ConditionalCheckFailed"]


def holder_attribute(booking_id: str) -> str:
    return f"h_{booking_id}"


def holders_of(slot_item: dict[str, Any] | None) -> list[Holder]:
    if not slot_item:
        return []
    plain = from_item(slot_item)
    return [
        Holder(booking_id=name[2:], quantity=int(value["q"]), expires_epoch=int(value["x"]))
        for name, value in plain.items()
        if name.startswith("h_") and isinstance(value, dict)
    ]


def booking_key(booking_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"BOOKING#{booking_id}"}, "SK": {"S": "BOOKING"}}


def slot_key(resource_id: str, lock_key: str) -> dict[str, Any]:
    return {"PK": {"S": f"RESOURCE#{resource_id}"}, "SK": {"S": f"SLOT#{lock_key}"}}


def _shard(booking_id: str) -> int:
    return int(hashlib.sha256(booking_id.encode()).hexdigest(), 16) % HOLD_SHARDS


def sort_time(value: datetime) -> str:
    """UTC, fixed width: sort keys order correctly across resources in different timezones."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        "expiresEpoch": booking.expires_epoch,
        **booking.model_dump(mode="json", by_alias=True),
    }
    if booking.status in EXPIRING and booking.expires_at is not None:
        values["GSI3PK"] = f"HOLDS#{_shard(booking.id)}"
        values["GSI3SK"] = f"{booking.expires_epoch:012d}#{booking.id}"
    return values


@dataclass
class Transaction:
    """A TransactWriteItems request being assembled, each item tagged with what it is."""

    items: list[TransactWriteItemTypeDef] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def _add(self, tag: Tag, item: TransactWriteItemTypeDef) -> None:
        self.items.append(item)
        self.tags.append(tag)

    def put_new(self, tag: Tag, item: dict[str, Any]) -> None:
        self._add(
            tag,
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(PK)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )

    def replace_booking(self, before: Booking, after: Booking) -> None:
        """The new state of a booking, only if nobody moved it since `before` was read."""
        self._add(
            Tag("booking", after.id),
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(booking_item(after)),
                    "ConditionExpression": "version = :version AND #status = :status",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":version": {"N": str(before.version)},
                        ":status": {"S": before.status},
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )

    def delete_booking(self, booking: Booking) -> None:
        self._add(
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

    def delete_key(self, tag: Tag, pk: str, sk: str) -> None:
        self._add(tag, {"Delete": {"TableName": table_name(), "Key": {"PK": {"S": pk}, "SK": {"S": sk}}}})

    def claim(
        self,
        resource_id: str,
        lock_key: str,
        *,
        booking_id: str,
        quantity: int,
        capacity: int,
        expires_epoch: int,
        evict: Sequence[Holder] = (),
    ) -> None:
        """Take `quantity` of this lock key, evicting holders that were seen expired (only if still so)."""
        names = {"#mine": holder_attribute(booking_id)}
        values: dict[str, Any] = {
            ":hold": {"M": {"q": {"N": str(quantity)}, "x": {"N": str(expires_epoch)}}},
            ":zero": {"N": "0"},
            ":delta": {"N": str(quantity - sum(h.quantity for h in evict))},
            ":limit": {"N": str(capacity - quantity + sum(h.quantity for h in evict))},
            ":resource": {"S": resource_id},
        }
        conditions = ["(attribute_not_exists(used) OR used <= :limit)", "attribute_not_exists(#mine)"]
        removals = []
        for index, holder in enumerate(evict):
            names[f"#e{index}"] = holder_attribute(holder.booking_id)
            values[f":x{index}"] = {"N": str(holder.expires_epoch)}
            conditions.append(f"#e{index}.x = :x{index}")
            removals.append(f"#e{index}")
        update = "SET #mine = :hold, used = if_not_exists(used, :zero) + :delta, resourceId = :resource"
        if removals:
            update += " REMOVE " + ", ".join(removals)
        self._add(
            Tag("slot", lock_key),
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": slot_key(resource_id, lock_key),
                    "UpdateExpression": update,
                    "ConditionExpression": " AND ".join(conditions),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )

    def release(self, resource_id: str, lock_key: str, *, booking_id: str, quantity: int) -> None:
        self._add(
            Tag("slot", lock_key),
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": slot_key(resource_id, lock_key),
                    "UpdateExpression": "SET used = used - :q REMOVE #mine",
                    "ConditionExpression": "attribute_exists(#mine)",
                    "ExpressionAttributeNames": {"#mine": holder_attribute(booking_id)},
                    "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )

    def set_expiry(self, resource_id: str, lock_key: str, *, booking_id: str, expires_epoch: int) -> None:
        """Change when this booking's claim on a lock key lapses (0 makes it firm: confirmed)."""
        self._add(
            Tag("slot", lock_key),
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": slot_key(resource_id, lock_key),
                    "UpdateExpression": "SET #mine.x = :x",
                    "ConditionExpression": "attribute_exists(#mine)",
                    "ExpressionAttributeNames": {"#mine": holder_attribute(booking_id)},
                    "ExpressionAttributeValues": {":x": {"N": str(expires_epoch)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )

    def expire_evicted(self, booking_id: str, expires_epoch: int, now_iso: str) -> None:
        """Mark a lapsed hold `expired` as its inventory is taken (or accept that it already is)."""
        self._add(
            Tag("evicted", booking_id),
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": booking_key(booking_id),
                    "UpdateExpression": "SET #status = :expired, version = version + :one, updatedAt = :now "
                    "REMOVE GSI3PK, GSI3SK",
                    "ConditionExpression": "(#status IN (:held, :awaiting) AND expiresEpoch = :x) "
                    "OR #status = :expired",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":expired": {"S": "expired"},
                        ":held": {"S": "held"},
                        ":awaiting": {"S": "awaiting_approval"},
                        ":x": {"N": str(expires_epoch)},
                        ":one": {"N": "1"},
                        ":now": {"S": now_iso},
                    },
                }
            },
        )


def execute(transaction: Transaction) -> None:
    """Run the transaction once; raise TransactionFailed with the reason per item when it is cancelled."""
    if len(transaction) > MAX_TRANSACTION_ITEMS:
        raise errors.ValidationFailed(
            f"This change touches {len(transaction)} items; DynamoDB commits at most {MAX_TRANSACTION_ITEMS} "
            "in one transaction.",
            code="too_many_items",
        )
    client = aws.dynamodb()
    with translate_errors("TransactWriteItems"):
        try:
            # A token per attempt makes botocore's own network retries idempotent (AWS honours it for 10 minutes).
            client.transact_write_items(TransactItems=transaction.items, ClientRequestToken=str(uuid.uuid4()))
        except client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            failures = [
                Failure(tag, reason.get("Code", ""), dict(reason["Item"]) if "Item" in reason else None)
                for tag, reason in zip(transaction.tags, reasons, strict=False)
                if reason.get("Code") not in (None, "None")
            ]
            raise TransactionFailed(failures) from exc


def backoff(attempt: int, base: float = 0.01, cap: float = 0.5) -> None:
    """Full-jitter exponential backoff before retrying a transaction that lost a race (never a failed condition)."""
    time.sleep(random.uniform(0, min(cap, base * 2**attempt)))  # noqa: S311 - jitter, not security


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


def slot_items(resource_id: str, low: str, high: str) -> dict[str, list[Holder]]:
    """Holders of every lock key in [low, high] of one resource: one Query (paged only past 1 MB)."""
    client = aws.dynamodb()
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": {
            ":pk": {"S": f"RESOURCE#{resource_id}"},
            ":low": {"S": f"SLOT#{low}"},
            ":high": {"S": f"SLOT#{high}"},
        },
        "ConsistentRead": True,
    }
    result: dict[str, list[Holder]] = {}
    with translate_errors("Query"):
        while True:
            page = client.query(**request)
            for item in page.get("Items", []):
                result[item["SK"]["S"].removeprefix("SLOT#")] = holders_of(item)
            if "LastEvaluatedKey" not in page:
                return result
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def query_bookings(
    index: str, partition: str, *, low: str | None, high: str | None, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[Booking], dict[str, Any] | None]:
    condition = f"{index}PK = :pk"
    values: dict[str, Any] = {":pk": {"S": partition}}
    if low is not None and high is not None:
        condition += f" AND {index}SK BETWEEN :low AND :high"
        values.update({":low": {"S": low}, ":high": {"S": high}})
    request: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "Limit": limit,
    }
    if start_key:
        request["ExclusiveStartKey"] = start_key
    with translate_errors("Query"):
        page = aws.dynamodb().query(**request)
    bookings = [Booking.model_validate(from_item(i)) for i in page.get("Items", [])]
    return bookings, page.get("LastEvaluatedKey")


def lapsed_holds(now_epoch: int, limit: int = 100) -> list[str]:
    """Ids of bookings whose hold deadline has passed, across every shard of the sparse holds index."""
    client = aws.dynamodb()
    found: list[str] = []
    with translate_errors("Query"):
        for shard in range(HOLD_SHARDS):
            page = client.query(
                TableName=table_name(),
                IndexName="GSI3",
                KeyConditionExpression="GSI3PK = :pk AND GSI3SK < :now",
                ExpressionAttributeValues={":pk": {"S": f"HOLDS#{shard}"}, ":now": {"S": f"{now_epoch:012d}#"}},
                ProjectionExpression="id",
                Limit=limit,
            )
            found.extend(item["id"]["S"] for item in page.get("Items", []))
    return found


def slot_holders(resource_id: str, lock_keys: Sequence[str], booking_id: str) -> set[str]:
    """The lock keys on which this booking still holds inventory (BatchGetItem, projected to its holder entry)."""
    client = aws.dynamodb()
    attribute = holder_attribute(booking_id)
    held: set[str] = set()
    pending: list[Any] = [slot_key(resource_id, key) for key in lock_keys]
    with translate_errors("BatchGetItem"):
        while pending:
            batch, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {
                table_name(): {
                    "Keys": batch,
                    "ProjectionExpression": "SK, #h",
                    "ExpressionAttributeNames": {"#h": attribute},
                    "ConsistentRead": True,
                }
            }
            while request:
                page = client.batch_get_item(RequestItems=request)
                for item in page["Responses"].get(table_name(), []):
                    if attribute in item:
                        held.add(item["SK"]["S"].removeprefix("SLOT#"))
                request = page.get("UnprocessedKeys") or {}
    return held
