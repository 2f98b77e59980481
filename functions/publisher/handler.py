"""The outbox publisher: the table's DynamoDB stream in, domain events on the EventBridge bus out.

The event source mapping reports batch item failures: a record whose event EventBridge would not take is named,
and Lambda retries from it (earlier records are done). See slotwise.events.publisher.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise.events.publisher import publish_stream_batch
from slotwise.observability import logger, metrics
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("event_bus_name")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failed = publish_stream_batch(event.get("Records", []))
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
