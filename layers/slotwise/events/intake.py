"""Domain events as queue consumers receive them: an SQS record's body, read into a `DomainEvent`."""

from __future__ import annotations

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
