"""Queue consumer: fans domain events out to webhook subscriptions and makes the signed delivery attempts
(slotwise.webhooks.delivery). Partial batch failures: only a failed message comes back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise.observability import logger, metrics
from slotwise.settings import require_settings
from slotwise.webhooks import delivery

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name", "webhook_queue_url", "webhook_dlq_url")

processor = BatchProcessor(event_type=EventType.SQS)
# One attempt takes at most about twice the sender's 5 s timeout; with less time left the message is handed back.
MIN_REMAINING_MS = 11_000
OUTCOME_METRICS = {
    "delivered": "WebhookDelivered",
    "retrying": "WebhookRetrying",
    "failed": "WebhookFailed",
    "gone": "WebhookGone",
}


class OutOfTime(RuntimeError):
    """Too little of the invocation is left for an HTTP attempt; SQS brings the message back."""


def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> str:
    if lambda_context is not None and lambda_context.get_remaining_time_in_millis() < MIN_REMAINING_MS:
        raise OutOfTime("not enough time left in this invocation")
    outcome = delivery.handle(record.body, datetime.now(UTC))
    if outcome in OUTCOME_METRICS:
        metrics.add_metric(name=OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event, record_handler, processor, context))
