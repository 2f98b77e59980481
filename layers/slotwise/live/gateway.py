"""API Gateway WebSocket events in, route answers out: what the `live` function's routes read and return.

API Gateway (and the local runtime, which builds the same events) invokes the function with
`requestContext.routeKey` (`$connect`, `$disconnect`, or the message's `action`), `requestContext.eventType`
(CONNECT, MESSAGE, DISCONNECT), `requestContext.connectionId`, and on `$connect` the handshake's `headers` (as sent,
any case) and `queryStringParameters`; a message's text is `body`.

A route answers `{"statusCode", "headers"?, "body"?}`. On `$connect` a status other than 2xx refuses the handshake
with that status; on a message route with a route response, `body` is sent back to the client. Domain errors are
mapped here, in one place: the status is the HTTP API's for the same error (slotwise.api.problems) and the body
`{"type": "error", "status", "code", "message"}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slotwise import errors
from slotwise.observability import logger

# The biggest message a client may send (API Gateway's own frame limit is 32 KB; a subscription is a few bytes).
MAX_MESSAGE_BYTES = 4096


@dataclass(frozen=True)
class LiveRequest:
    route_key: str
    event_type: str
    connection_id: str
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    query: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    request_time_epoch_ms: int = 0

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> LiveRequest:
        context = event.get("requestContext") or {}
        connection_id = context.get("connectionId")
        if not isinstance(connection_id, str) or not connection_id:
            raise errors.BadRequest("Not a WebSocket event: no requestContext.connectionId.")
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
        return cls(
            route_key=str(context.get("routeKey", "$default")),
            event_type=str(context.get("eventType", "MESSAGE")),
            connection_id=connection_id,
            headers=headers,
            query=query,
            body=event.get("body") if isinstance(event.get("body"), str) else None,
            request_time_epoch_ms=int(context.get("requestTimeEpoch") or context.get("connectedAt") or 0),
        )

    def json_body(self) -> dict[str, Any]:
        """The message as a JSON object (400 `bad_request` otherwise)."""
        text = self.body or ""
        if len(text.encode("utf-8")) > MAX_MESSAGE_BYTES:
            raise errors.PayloadTooLarge(f"A message is at most {MAX_MESSAGE_BYTES} bytes.")
        try:
            found = json.loads(text)
        except ValueError as exc:
            raise errors.BadRequest("A message is a JSON object with an `action`.") from exc
        if not isinstance(found, dict):
            raise errors.BadRequest("A message is a JSON object with an `action`.")
        return found


Route = Callable[[LiveRequest], dict[str, Any]]


def reply(
    status: int = 200, body: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    answer: dict[str, Any] = {"statusCode": status}
    if headers:
        answer["headers"] = dict(headers)
    if body is not None:
        answer["body"] = json.dumps(body, separators=(",", ":"), default=str)
    return answer


def error_reply(error: errors.SlotwiseError) -> dict[str, Any]:
    from slotwise.api.problems import status_for  # the HTTP API's mapping; loaded only when a route fails

    status = int(status_for(error))
    return reply(status, {"type": "error", "status": status, "code": error.code, "message": error.detail})


def dispatch(event: Mapping[str, Any], routes: Mapping[str, Route]) -> dict[str, Any]:
    """Run the route the event names (unknown keys go to `$default`) and map a domain error to its answer."""
    try:
        request = LiveRequest.from_event(event)
        route = routes.get(request.route_key) or routes["$default"]
        return route(request)
    except errors.SlotwiseError as error:
        logger.info(
            "live route refused",
            extra={"code": error.code, "routeKey": (event.get("requestContext") or {}).get("routeKey")},
        )
        return error_reply(error)
