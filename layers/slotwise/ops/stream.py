"""The table's stream read back for a replay (DynamoDB Streams): every record of every shard, oldest first.

A stream keeps each record 24 hours (in AWS and in DynamoDB Local), so a replay window must lie within the last day;
the items themselves keep only their latest version. The stream's ARN comes from the table
(`slotwise.data.dynamo.stream_arn`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slotwise import aws
from slotwise.data.dynamo import translate_errors

_PAGE = 1000  # GetRecords' most per call
_SERVICE = "DynamoDB Streams"
_EMPTY_AT_TAIL = 3


@dataclass(frozen=True)
class Shard:
    shard_id: str
    # A closed shard (it has an ending sequence number) is read to its end; an open one to its current tail.
    closed: bool


def shards(arn: str) -> list[Shard]:
    client = aws.dynamodb_streams()
    found: list[Shard] = []
    start: str | None = None
    while True:
        request: dict[str, Any] = {"StreamArn": arn}
        if start:
            request["ExclusiveStartShardId"] = start
        with translate_errors("DescribeStream", service=_SERVICE):
            description = client.describe_stream(**request)["StreamDescription"]
        for shard in description.get("Shards", []):
            ending = (shard.get("SequenceNumberRange") or {}).get("EndingSequenceNumber")
            found.append(Shard(shard_id=shard["ShardId"], closed=bool(ending)))
        start = description.get("LastEvaluatedShardId")
        if not start:
            return found


def _created(record: dict[str, Any]) -> datetime | None:
    value = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    return value if isinstance(value, datetime) else None


def records(arn: str, shard: Shard, until: datetime) -> Iterator[dict[str, Any]]:
    """The shard's records from its oldest on, up to the first one written after `until` (a shard is in order).

    GetRecords may answer an empty page before a later part of a shard that has records, so a closed shard is read
    until it has no next iterator; an open one has no end, and is read until `_EMPTY_AT_TAIL` empty pages in a row
    (its tail, as far as this replay is concerned: records written meanwhile are after the window's end anyway)."""
    client = aws.dynamodb_streams()
    with translate_errors("GetShardIterator", service=_SERVICE):
        iterator: str | None = client.get_shard_iterator(
            StreamArn=arn, ShardId=shard.shard_id, ShardIteratorType="TRIM_HORIZON"
        ).get("ShardIterator")
    empty = 0
    while iterator:
        with translate_errors("GetRecords", service=_SERVICE):
            page = client.get_records(ShardIterator=iterator, Limit=_PAGE)
        found: list[dict[str, Any]] = page.get("Records", [])
        empty = 0 if found else empty + 1
        if not shard.closed and empty >= _EMPTY_AT_TAIL:
            return
        for record in found:
            created = _created(record)
            if created is not None and created > until:
                return
            yield record
        iterator = page.get("NextShardIterator")
