"""Inventory records: one item per resource and lock key, holding `used` and one entry per booking that holds it.

  RESOURCE#<id>  / SLOT#<lockkey> `used` and one `h_<bookingId>` = {q: quantity, x: expiry epoch, 0 = firm,
                                 and for a hold that can lapse u: who made it, s: its status}

  RESOURCE#<id>  / STOCK#<stockkey> the same shape for an add-on's stock (`slotwise.booking.addons`): `used` and
                                 one holder entry per booking, capped by the add-on's stock instead of the
                                 resource's capacity

A claim is an Update per lock key (or stock key) conditioned on `used <= capacity - quantity` (plus the removal of
holders seen expired, conditioned on their exact expiry), in the same TransactWriteItems as the booking's
`attribute_not_exists` Put. Nothing is ever checked first and written later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slotwise import aws
from slotwise.data.codec import from_item
from slotwise.data.dynamo import table_name, translate_errors
from slotwise.transaction import Tag, Transaction


@dataclass(frozen=True)
class Holder:
    booking_id: str
    quantity: int
    expires_epoch: int
    # Recorded on holds that can lapse, so whoever evicts one can close its hold count and status counter.
    user: str | None = None
    status: str | None = None

    def live(self, now_epoch: int) -> bool:
        return self.expires_epoch == 0 or self.expires_epoch > now_epoch


def holder_attribute(booking_id: str) -> str:
    return f"h_{booking_id}"


def holders_of(slot_item: dict[str, Any] | None) -> list[Holder]:
    if not slot_item:
        return []
    plain = from_item(slot_item)
    return [
        Holder(
            booking_id=name[2:],
            quantity=int(value["q"]),
            expires_epoch=int(value["x"]),
            user=value.get("u"),
            status=value.get("s"),
        )
        for name, value in plain.items()
        if name.startswith("h_") and isinstance(value, dict)
    ]


def slot_key(resource_id: str, lock_key: str) -> dict[str, Any]:
    return {"PK": {"S": f"RESOURCE#{resource_id}"}, "SK": {"S": f"SLOT#{lock_key}"}}


def stock_key(resource_id: str, key: str) -> dict[str, Any]:
    """An add-on's stock counter: beside the resource's slots, outside every `SLOT#` range a read covers."""
    return {"PK": {"S": f"RESOURCE#{resource_id}"}, "SK": {"S": f"STOCK#{key}"}}


def _item_key(resource_id: str, key: str, stock: bool) -> dict[str, Any]:
    return stock_key(resource_id, key) if stock else slot_key(resource_id, key)


def _tag(key: str, stock: bool) -> Tag:
    return Tag("stock", key) if stock else Tag("slot", key)


# ------------------------------------------------------------------------------------------------------- writes


def claim(
    tx: Transaction,
    resource_id: str,
    lock_key: str,
    *,
    booking_id: str,
    quantity: int,
    capacity: int,
    expires_epoch: int,
    evict: Sequence[Holder] = (),
    holder_user: str | None = None,
    holder_status: str | None = None,
    stock: bool = False,
) -> None:
    """Take `quantity` of this lock key, evicting holders that were seen expired (only if still so).

    `stock`: the key is an add-on's stock key and `capacity` its stock; the condition and the evictions are the
    same."""
    names = {"#mine": holder_attribute(booking_id)}
    hold: dict[str, Any] = {"q": {"N": str(quantity)}, "x": {"N": str(expires_epoch)}}
    if expires_epoch and holder_user is not None and holder_status is not None:
        hold.update({"u": {"S": holder_user}, "s": {"S": holder_status}})
    values: dict[str, Any] = {
        ":hold": {"M": hold},
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
    tx.add(
        _tag(lock_key, stock),
        {
            "Update": {
                "TableName": table_name(),
                "Key": _item_key(resource_id, lock_key, stock),
                "UpdateExpression": update,
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    )


def release(
    tx: Transaction, resource_id: str, lock_key: str, *, booking_id: str, quantity: int, stock: bool = False
) -> None:
    tx.add(
        _tag(lock_key, stock),
        {
            "Update": {
                "TableName": table_name(),
                "Key": _item_key(resource_id, lock_key, stock),
                "UpdateExpression": "SET used = used - :q REMOVE #mine",
                "ConditionExpression": "attribute_exists(#mine)",
                "ExpressionAttributeNames": {"#mine": holder_attribute(booking_id)},
                "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    )


def set_expiry(
    tx: Transaction, resource_id: str, lock_key: str, *, booking_id: str, expires_epoch: int, stock: bool = False
) -> None:
    """Change when this booking's claim on a lock key lapses (0 makes it firm: confirmed)."""
    tx.add(
        _tag(lock_key, stock),
        {
            "Update": {
                "TableName": table_name(),
                "Key": _item_key(resource_id, lock_key, stock),
                "UpdateExpression": "SET #mine.x = :x",
                "ConditionExpression": "attribute_exists(#mine)",
                "ExpressionAttributeNames": {"#mine": holder_attribute(booking_id)},
                "ExpressionAttributeValues": {":x": {"N": str(expires_epoch)}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    )


# -------------------------------------------------------------------------------------------------------- reads


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


def stock_items(resource_id: str, keys: Sequence[str]) -> dict[str, list[Holder]]:
    """Holders of each of these stock keys (BatchGetItem, strongly consistent); a key never claimed is absent."""
    client = aws.dynamodb()
    result: dict[str, list[Holder]] = {}
    pending: list[Any] = [stock_key(resource_id, key) for key in dict.fromkeys(keys)]
    with translate_errors("BatchGetItem"):
        while pending:
            batch, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {table_name(): {"Keys": batch, "ConsistentRead": True}}
            while request:
                page = client.batch_get_item(RequestItems=request)
                for item in page["Responses"].get(table_name(), []):
                    result[item["SK"]["S"].removeprefix("STOCK#")] = holders_of(item)
                request = page.get("UnprocessedKeys") or {}
    return result


def slot_holders(resource_id: str, lock_keys: Sequence[str], booking_id: str, *, stock: bool = False) -> set[str]:
    """The lock keys (or, `stock`, stock keys) on which this booking still holds inventory (BatchGetItem,
    projected to its holder entry)."""
    client = aws.dynamodb()
    attribute = holder_attribute(booking_id)
    prefix = "STOCK#" if stock else "SLOT#"
    held: set[str] = set()
    pending: list[Any] = [_item_key(resource_id, key, stock) for key in lock_keys]
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
                        held.add(item["SK"]["S"].removeprefix(prefix))
                request = page.get("UnprocessedKeys") or {}
    return held


def holders_by_resource(resource_ids: Sequence[str], lock_key: str) -> dict[str, list[Holder]]:
    """Holders of one lock key (e.g. the fixed window `F#`) of many resources: BatchGetItem, eventually consistent
    (a search result, not a claim: the booking's transaction decides)."""
    client = aws.dynamodb()
    found: dict[str, list[Holder]] = {resource_id: [] for resource_id in resource_ids}
    pending: list[Any] = [slot_key(resource_id, lock_key) for resource_id in dict.fromkeys(resource_ids)]
    with translate_errors("BatchGetItem"):
        while pending:
            batch, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {table_name(): {"Keys": batch}}
            while request:
                page = client.batch_get_item(RequestItems=request)
                for item in page["Responses"].get(table_name(), []):
                    found[item["PK"]["S"].removeprefix("RESOURCE#")] = holders_of(item)
                request = page.get("UnprocessedKeys") or {}
    return found
