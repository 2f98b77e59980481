"""The report aggregator: booking events from the `reports` queue -> the occupancy and revenue period items.

Each SQS record is one EventBridge event (slotwise.events.envelope), processed one by one with Powertools'
BatchProcessor and reported as partial batch failures, so a failing record is the only one delivered again (and
goes to the DLQ after the queue's max receives). A body that is not a Slotwise event is logged and dropped.
Redeliveries, replays and events out of order are harmless: slotwise.reports.aggregator applies each booking
version at most once and never an older one after a newer.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise.events.intake import handle_queued
from slotwise.observability import logger, metrics
from slotwise.reports import aggregator
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    handle_queued(record, aggregator.handle, dropped_metric="ReportEventsDropped")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
