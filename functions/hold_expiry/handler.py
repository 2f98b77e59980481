"""Scheduled job: release holds whose deadline passed and that no new claim has already reclaimed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise.booking.deadlines import expire_lapsed
from slotwise.observability import logger, metrics
from slotwise.payments import settlement
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

# An expiring hold voids its open payment in the same transaction: the booking engine's money side.
settlement.install()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    expired = expire_lapsed()
    metrics.add_metric(name="HoldsExpired", unit=MetricUnit.Count, value=expired)
    logger.info("hold sweep done", extra={"expired": expired})
    return {"expired": expired}
