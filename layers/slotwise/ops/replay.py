"""Re-publish the domain events of a time window from the table's stream (the outbox): `slotwise events replay`.

Each stream record written in the window is read back and turned into its event by the publisher's own derivation
(`slotwise.events.changes.event_of`), so a replayed event has the id, type and body the first publication had.
Consumers deduplicate on the event id: a replay delivers again what a consumer missed (it was down, its message
dead-lettered and expired) and adds nothing to what it had handled. Only the records the deployed publisher reads
(its event source filter: `StreamConsumerSpec.sort_keys`) are replayed.

The stream keeps a record 24 hours, so the window must lie within the last day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slotwise import errors
from slotwise.data.dynamo import stream_arn
from slotwise.events.changes import event_of
from slotwise.events.envelope import DomainEvent
from slotwise.events.publisher import publish
from slotwise.ops import stream
from slotwise.topology import TOPOLOGY

_PUBLISH_CHUNK = 100


@dataclass
class ReplayReport:
    records: int = 0
    events: int = 0
    published: int = 0
    refused: list[str] = field(default_factory=list)
    by_type: Counter[str] = field(default_factory=Counter)

    def public(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "events": self.events,
            "published": self.published,
            "refused": self.refused,
            "byType": dict(sorted(self.by_type.items())),
        }


def _published_sort_keys() -> frozenset[str]:
    return frozenset(key for consumer in TOPOLOGY.stream_consumers for key in consumer.sort_keys)


def _in_window(record: dict[str, Any], start: datetime, end: datetime) -> bool:
    created = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    return isinstance(created, datetime) and start <= created < end


def _sort_key(record: dict[str, Any]) -> str:
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    return str((keys.get("SK") or {}).get("S", ""))


def replay(
    start: datetime,
    end: datetime,
    *,
    dry_run: bool = False,
    on_shards: Callable[[int], None] | None = None,
    on_shard_done: Callable[[], None] | None = None,
) -> ReplayReport:
    """Publish again every event whose stream record was written in [start, end); `dry_run` only counts them."""
    if end <= start:
        raise errors.ValidationFailed("the window's end must be after its start", code="invalid_window")
    arn = stream_arn()
    if arn is None:
        raise errors.DependencyUnavailable("the table has no stream", code="no_stream")
    shards = stream.shard_ids(arn)
    if on_shards is not None:
        on_shards(len(shards))
    wanted = _published_sort_keys()
    report = ReplayReport()
    pending: list[DomainEvent] = []

    def flush() -> None:
        if pending and not dry_run:
            refused = publish(pending)
            report.refused.extend(event.id for event in refused)
            report.published += len(pending) - len(refused)
        pending.clear()

    for shard_id in shards:
        for record in stream.records(arn, shard_id, until=end):
            if not _in_window(record, start, end) or _sort_key(record) not in wanted:
                continue
            report.records += 1
            event = event_of(record)
            if event is None:
                continue
            report.events += 1
            report.by_type[event.type] += 1
            pending.append(event)
            if len(pending) >= _PUBLISH_CHUNK:
                flush()
        if on_shard_done is not None:
            on_shard_done()
    flush()
    return report
