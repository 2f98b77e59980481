"""Domain events as queue consumers receive them: an SQS record's body, read into a `DomainEvent`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from slotwise.events.envelope import DomainEvent, UnknownEnvelope
from slotwise.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def queued_event(record: SQSRecord, *, dropped_metric: str) -> DomainEvent | None:
    """The event the record carries, or None for a body that is not a Slotwise event: logged, counted under
    `dropped_metric` and dropped (no retry can make it one, so it must not go back to the queue)."""
    try:
        return DomainEvent.from_sqs_body(record.body)
    except (UnknownEnvelope, ValueError, KeyError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
        logger.warning(
            "not a Slotwise event: dropped", extra={"messageId": record.message_id, "error": repr(exc)[:500]}
        )
        metrics.add_metric(name=dropped_metric, unit=MetricUnit.Count, value=1)
        return None


def handle_queued(record: SQSRecord, handle: Callable[[DomainEvent], object], *, dropped_metric: str) -> None:
    """A queue consumer's record handler: read the event (dropping what is not one), then `handle` it with the
    event's id and type on every log line it writes. An exception propagates, so the batch reports the record
    as failed and SQS delivers it again."""
    event = queued_event(record, dropped_metric=dropped_metric)
    if event is None:
        return
    logger.append_keys(eventId=event.id, eventType=event.type)
    try:
        handle(event)
    finally:
        logger.remove_keys(["eventId", "eventType"])
