"""The caller of the current request, with the API Gateway request id the audit log records.

Handlers call `caller(app)` instead of `caller_from(app.current_event)`: the same Caller, plus `request_id`. It is
worked out once per request (the token verified once) and kept in the resolver's context, which Powertools
empties after every request.
"""

from __future__ import annotations

from dataclasses import replace

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from slotwise.api.caller import caller_from
from slotwise.identity.models import Caller


def caller(app: APIGatewayHttpResolver) -> Caller:
    known = app.context.get("caller")
    if isinstance(known, Caller):
        return known
    event = app.current_event
    found = replace(caller_from(event), request_id=event.request_context.request_id)
    app.append_context(caller=found)  # type: ignore[no-untyped-call]
    return found
