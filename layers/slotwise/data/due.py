"""Time-ordered sort keys and the sharded "due" index (GSI3) that bookings and payments share.

GSI3 partitions are `<kind>#<shard>` (HOLDS, TIMER, PAYDUE, REFUNDDUE) with sort keys `<due epoch>#<id>`: a job
finds what has come due with one Query per shard. Sort keys of listings are `<UTC time>#<id>`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from slotwise import aws
from slotwise.data.dynamo import table_name, translate_errors

SHARDS = 8


def shard_of(item_id: str) -> int:
    return int(hashlib.sha256(item_id.encode()).hexdigest(), 16) % SHARDS


def sort_time(value: datetime) -> str:
    """UTC, fixed width: sort keys order correctly across resources in different timezones."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sort_range(frm: datetime | None, to: datetime | None) -> tuple[str | None, str | None]:
    """Sort-key bounds of a `from`/`to` filter on `<time>#<id>` keys; one bound alone leaves the other side open."""
    low = sort_time(frm) if frm else None
    high = f"{sort_time(to)}~" if to else None
    if (low is None) != (high is None):
        low, high = low or "0", high or "~"
    return low, high


def due_ids(kind: str, before: str, limit: int) -> list[str]:
    """Ids of items in GSI3 partitions `<kind>#<shard>` whose sort key is below `before`, across every shard."""
    client = aws.dynamodb()
    found: list[str] = []
    with translate_errors("Query"):
        for shard in range(SHARDS):
            page = client.query(
                TableName=table_name(),
                IndexName="GSI3",
                KeyConditionExpression="GSI3PK = :pk AND GSI3SK < :before",
                ExpressionAttributeValues={":pk": {"S": f"{kind}#{shard}"}, ":before": {"S": before}},
                ProjectionExpression="id",
                Limit=limit,
            )
            found.extend(item["id"]["S"] for item in page.get("Items", []))
    return found
