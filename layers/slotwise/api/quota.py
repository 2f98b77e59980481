"""Requests per minute per caller on every route of a function: the middleware in front of the route handlers.

Who counts: a signed-in caller by user id, anyone else by source address (a bad token is counted by address too,
before the route refuses it). The tier, the limit and how tokens are counted are `slotwise.ratelimit`'s.
Requests refused by validation (422) or routing (404/405) never reach the middleware: they cost no DynamoDB call.

The leases are the process's (`PROCESS_LEASES`), shared by every resolver in it. On Lambda that is the same as one
per function instance (an execution environment runs one function). The local runtime runs many warm copies of
each handler module in one worker process, one per request in flight (infra.local.functions): with leases per
resolver a caller's requests were spread over all of them, each copy leasing 1/20 of the limit for itself, so a
read paid an UpdateItem almost every time (0.93 per availability request under `python -m bench load`) and the
unspent tokens of the other copies could refuse a caller well under the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from slotwise import errors, ratelimit
from slotwise.api.context import caller
from slotwise.identity.models import ANONYMOUS

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
Middleware = Callable[[APIGatewayHttpResolver, NextMiddleware], Response[Any]]
# One process's leases (emptied by reset_caches, and after a SnapStart restore: slotwise.runtime_hooks).
PROCESS_LEASES = ratelimit.RequestQuota()


def request_quota_middleware(*, writes_in_transaction: bool = False) -> Middleware:
    """The request-quota middleware, spending the process's leases (`PROCESS_LEASES`).

    `writes_in_transaction`: the function's write routes commit booking transactions that take the token
    (`slotwise.booking.changes.charge_request`), so a write that finds no local lease lets its own transaction take
    it instead of a call of its own.
    """
    leases = PROCESS_LEASES

    def request_quota(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        try:
            found = caller(app)
        except errors.AuthenticationRequired:
            found = ANONYMOUS
        subject = found.user_id or f"ip:{app.current_event.request_context.http.source_ip or 'unknown'}"
        in_transaction = writes_in_transaction and app.current_event.http_method not in _READS
        charge = leases.admit(subject, ratelimit.tier_of(found), in_transaction=in_transaction)
        if charge is None:
            return next_middleware(app)
        with leases.charging(charge):
            return next_middleware(app)

    return request_quota
