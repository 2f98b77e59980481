"""Queue consumer: each domain event from the `live` queue is posted to the WebSocket connections allowed to see it
(slotwise.live.service.deliver). Partial batch failures: only a failed message comes back, and after the queue's
max receives it moves to the DLQ. A body that is not a Slotwise event is logged and dropped."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise.events.intake import queued_event
from slotwise.live import service
from slotwise.observability import logger, metrics
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name", "live_endpoint_url")

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    event = queued_event(record, dropped_metric="LiveEventsDropped")
    if event is None:
        return
    counts = service.deliver(event)
    metrics.add_metric(name="LivePushSent", unit=MetricUnit.Count, value=counts["sent"])
    metrics.add_metric(name="LivePushGone", unit=MetricUnit.Count, value=counts["gone"])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event, record_handler, processor, context))
