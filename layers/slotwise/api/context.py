"""The caller of the current request, with the API Gateway request id the audit log records.

Handlers call `caller(app)` instead of `caller_from(app.current_event)`: the same Caller, plus `request_id`.
"""

from __future__ import annotations

from dataclasses import replace

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from slotwise.api.caller import caller_from
from slotwise.identity.models import Caller


def caller(app: APIGatewayHttpResolver) -> Caller:
    event = app.current_event
    return replace(caller_from(event), request_id=event.request_context.request_id)
