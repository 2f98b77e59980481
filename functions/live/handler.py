"""The WebSocket API's routes (API Gateway WebSocket API, `live`): connect, disconnect, subscribe, unsubscribe.

API Gateway picks the route by the message's `action` (`$request.body.action`); unknown actions reach `$default`.
Each route is one call of slotwise.live.service; errors are mapped in slotwise.live.gateway (docs/live.md).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise.live import gateway, service
from slotwise.observability import logger
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

ROUTES: dict[str, gateway.Route] = {
    "$connect": service.connect,
    "$disconnect": service.disconnect,
    "subscribe": service.subscribe,
    "unsubscribe": service.unsubscribe,
    "$default": service.unknown_action,
}


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return gateway.dispatch(event, ROUTES)
