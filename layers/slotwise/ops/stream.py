"""The table's stream read back for a replay (DynamoDB Streams): every record of every shard, oldest first.

A stream keeps each record 24 hours (in AWS and in DynamoDB Local), so a replay window must lie within the last day;
the items themselves keep only their latest version. The stream's ARN comes from the table
(`slotwise.data.dynamo.stream_arn`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from slotwise import aws
from slotwise.data.dynamo import translate_errors

_PAGE = 1000  # GetRecords' most per call
_SERVICE = "DynamoDB Streams"


def shard_ids(arn: str) -> list[str]:
    client = aws.dynamodb_streams()
    shards: list[str] = []
    start: str | None = None
    while True:
        request: dict[str, Any] = {"StreamArn": arn}
        if start:
            request["ExclusiveStartShardId"] = start
        with translate_errors("DescribeStream", service=_SERVICE):
            description = client.describe_stream(**request)["StreamDescription"]
        shards.extend(shard["ShardId"] for shard in description.get("Shards", []))
        start = description.get("LastEvaluatedShardId")
        if not start:
            return shards


def _created(record: dict[str, Any]) -> datetime | None:
    value = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    return value if isinstance(value, datetime) else None


def records(arn: str, shard_id: str, until: datetime) -> Iterator[dict[str, Any]]:
    """The shard's records from its oldest on, up to the first one written after `until` (a shard is in order)."""
    client = aws.dynamodb_streams()
    with translate_errors("GetShardIterator", service=_SERVICE):
        iterator: str | None = client.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        ).get("ShardIterator")
    while iterator:
        with translate_errors("GetRecords", service=_SERVICE):
            page = client.get_records(ShardIterator=iterator, Limit=_PAGE)
        found: list[dict[str, Any]] = page.get("Records", [])
        if not found:
            return  # an open shard answers an empty page at its end; a closed one has no next iterator
        for record in found:
            created = _created(record)
            if created is not None and created > until:
                return
            yield record
        iterator = page.get("NextShardIterator")
