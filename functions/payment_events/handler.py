"""Stripe events from the `stripe-events` queue, each applied exactly once in effect (slotwise.payments.processor).

The ingress verified every event's signature before queueing it. Records are processed one by one with
Powertools' BatchProcessor and reported as partial batch failures: only a record that failed comes back, and after
the queue's max receives it waits in the DLQ for a replay. A body that is not JSON is dropped (it never will be).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise.observability import logger, metrics
from slotwise.payments import processor
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

batch = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    try:
        event = json.loads(record.body)
        if not isinstance(event, dict) or "id" not in event:
            raise ValueError("not a Stripe event")
    except ValueError as exc:
        logger.warning("not a Stripe event: dropped", extra={"messageId": record.message_id, "error": repr(exc)[:300]})
        metrics.add_metric(name="StripeEventsDropped", unit=MetricUnit.Count, value=1)
        return
    logger.append_keys(stripeEventId=event["id"], stripeEventType=event.get("type"))
    try:
        outcome = processor.handle(event)
        logger.info("stripe event applied", extra={"outcome": outcome})
        metrics.add_metric(name=f"StripeEvent_{outcome.split(',')[0]}", unit=MetricUnit.Count, value=1)
    finally:
        logger.remove_keys(["stripeEventId", "stripeEventType"])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=batch, context=context))
