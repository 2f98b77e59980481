"""Scheduled job: send the reminders that are due and mark finished bookings completed (slotwise.booking.timers)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise.booking.deadlines import run_timers
from slotwise.observability import logger, metrics
from slotwise.payments import settlement
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

# Completing a session marks its authorized payment for capture (the payments reconciler, which holds the Stripe
# key, sends it): the booking engine's money side.
settlement.install()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    outcomes = run_timers()
    for outcome, count in outcomes.items():
        metrics.add_metric(name=f"Timers_{outcome}", unit=MetricUnit.Count, value=count)
    logger.info("timers done", extra=outcomes)
    return outcomes
