"""Scheduled job: void payments of bookings that ended unpaid and retry card refunds (slotwise.payments.reconcile)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise.observability import logger, metrics
from slotwise.payments import reconcile, settlement
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

# The reconciler expires lapsed holds through the booking engine, which voids their payments with them.
settlement.install()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    outcomes = reconcile.run()
    for outcome, count in outcomes.items():
        metrics.add_metric(name=f"PaymentsReconcile_{outcome}", unit=MetricUnit.Count, value=count)
    logger.info("payments reconciled", extra=outcomes)
    return outcomes
