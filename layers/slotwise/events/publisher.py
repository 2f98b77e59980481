"""Put the domain events of a DynamoDB stream batch on the EventBridge bus, losing none.

One PutEvents call carries up to 10 entries. Entries PutEvents reports as failed (throttling, internal errors)
are sent again, up to `ATTEMPTS` times with backoff; a record whose event still failed is returned, and the
stream handler reports it in `batchItemFailures`, so Lambda retries the batch from that record on (with
bisection, then the stream's on-failure destination, a DLQ, after the event source's retry limit). Records that
come round again are published again: consumers deduplicate on the deterministic event id, so "at least once on
the bus" is "exactly once in effect" for them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from slotwise import aws, errors
from slotwise.data.dynamo import translate_errors
from slotwise.events.changes import event_of
from slotwise.events.envelope import DomainEvent
from slotwise.observability import logger, metrics
from slotwise.settings import get_settings

ENTRIES_PER_CALL = 10
ATTEMPTS = 4


def _put(entries: Sequence[dict[str, Any]]) -> list[int]:
    """Indexes of the entries PutEvents did not accept."""
    with translate_errors("PutEvents", service="EventBridge"):
        result = aws.events().put_events(Entries=list(entries))  # type: ignore[arg-type]
    if not result.get("FailedEntryCount"):
        return []
    return [i for i, outcome in enumerate(result.get("Entries", [])) if outcome.get("ErrorCode")]


def ping_bus() -> None:
    """Health probe (local stage only, see slotwise.health.service): the bus answers DescribeEventBus. A missing bus
    or an unreachable endpoint is DependencyUnavailable."""
    try:
        aws.events().describe_event_bus(Name=get_settings().event_bus_name)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise errors.DependencyUnavailable(f"EventBridge DescribeEventBus failed: {code}") from exc
    except BotoCoreError as exc:
        raise errors.DependencyUnavailable(f"EventBridge DescribeEventBus failed: {type(exc).__name__}") from exc


def publish(events: Sequence[DomainEvent]) -> list[DomainEvent]:
    """Publish these events; the ones still refused after every attempt are returned."""
    bus = get_settings().event_bus_name
    pending = list(events)
    for attempt in range(ATTEMPTS):
        failed: list[DomainEvent] = []
        for start in range(0, len(pending), ENTRIES_PER_CALL):
            chunk = pending[start : start + ENTRIES_PER_CALL]
            failed.extend(chunk[i] for i in _put([event.entry(bus) for event in chunk]))
        if not failed:
            return []
        pending = failed
        if attempt < ATTEMPTS - 1:
            time.sleep(random.uniform(0, 0.1 * 2**attempt))  # noqa: S311 - jitter, not security
    return pending


def publish_stream_batch(records: Sequence[dict[str, Any]]) -> list[str]:
    """Sequence numbers of the records whose events could not be published (empty: all done)."""
    by_record: list[tuple[str, DomainEvent]] = []
    for record in records:
        event = event_of(record)
        if event is not None:
            by_record.append((record["dynamodb"]["SequenceNumber"], event))
    if not by_record:
        return []
    refused = {event.id for event in publish([event for _, event in by_record])}
    published = len(by_record) - len(refused)
    metrics.add_metric(name="DomainEventsPublished", unit=MetricUnit.Count, value=published)
    if refused:
        metrics.add_metric(name="DomainEventsRefused", unit=MetricUnit.Count, value=len(refused))
        logger.warning("events not accepted by EventBridge", extra={"eventIds": sorted(refused)})
    return [sequence for sequence, event in by_record if event.id in refused]
