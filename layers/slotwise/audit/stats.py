"""Platform counters for `GET /admin/stats`, kept by the writes themselves and read with one BatchGetItem.

  STATS#<0-99> / COUNTS    venues, resources_active, resources_archived, bookings_<status>

Every transaction that creates, deletes or moves a venue, resource or booking between states also ADDs its deltas
to one of a hundred shard items (chosen from the id it changes), in the same TransactWriteItems: the counts are exact
and never drift from the items they count. Sharding keeps the counters from serialising unrelated bookings (two
transactions touching one item conflict: with eight shards, 16 concurrent booking clients collided often enough to
halve their throughput); reading sums every shard with one BatchGetItem, whose limit of 100 keys is why there are
100. Shards 0-7 are the eight of the first layout, so counts written then are still summed (a booking counted in
one shard and moved in another sums the same). docs/adr/0012-stats-counters-sharded-wide.md says why not the stream.

Counting starts with this code: items written before it are not counted (there was no data to backfill).
Users are counted with bounded queries instead (the identity core writes them; see `slotwise.admin`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from slotwise.audit import store
from slotwise.data.dynamo import table_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# At most 100: `read` fetches every shard in one BatchGetItem (DynamoDB's limit per call).
SHARDS = 100


def shard_of(seed: str) -> int:
    return int(hashlib.sha256(seed.encode()).hexdigest(), 16) % SHARDS


def key(shard: int) -> dict[str, Any]:
    return {"PK": {"S": f"STATS#{shard}"}, "SK": {"S": "COUNTS"}}


def booking_counter(status: str) -> str:
    return f"bookings_{status}"


def update(seed: str, deltas: Mapping[str, int]) -> TransactWriteItemTypeDef | None:
    """One unconditional ADD of every non-zero delta to the shard of `seed`; None when nothing changes."""
    changes = {name: delta for name, delta in deltas.items() if delta}
    if not changes:
        return None
    names = {f"#c{i}": name for i, name in enumerate(sorted(changes))}
    values: dict[str, Any] = {f":c{i}": {"N": str(changes[name])} for i, name in enumerate(sorted(changes))}
    values[":type"] = {"S": "stats"}
    names["#type"] = "type"
    additions = ", ".join(f"#c{i} :c{i}" for i in range(len(changes)))
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key(shard_of(seed)),
            "UpdateExpression": f"SET #type = :type ADD {additions}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def read() -> dict[str, int]:
    """The sum of every counter over the shards (one BatchGetItem of a hundred small items)."""
    totals: dict[str, int] = {}
    for item in store.read_items([key(shard) for shard in range(SHARDS)]):
        for name, value in item.items():
            if isinstance(value, int) and name not in ("PK", "SK"):
                totals[name] = totals.get(name, 0) + value
    return totals
