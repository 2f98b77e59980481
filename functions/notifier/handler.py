"""The notifier: booking and refund events from the `notifications` queue -> in-app notifications and e-mail.

Each SQS record is one EventBridge event (slotwise.events.envelope). Records are processed one by one with
Powertools' BatchProcessor and reported as partial batch failures, so a record that fails is the only one SQS
delivers again (and moves to the DLQ after the queue's max receives). A body that is not a Slotwise event, or one
of an envelope version this code does not read, is logged and dropped: retrying it could never succeed.
Redeliveries are harmless: slotwise.notifications.service makes each (event, recipient) count once.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise.events.intake import handle_queued
from slotwise.notifications import service
from slotwise.observability import logger, metrics
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    handle_queued(record, service.handle, dropped_metric="NotificationEventsDropped")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
