"""Connection push: API Gateway Management API `PostToConnection`, the only call slotwise.live makes to it.

The endpoint is the WebSocket stage's callback URL (SLOTWISE_LIVE_ENDPOINT_URL: set by the CDK stack; locally the
runtime's own `/@connections` endpoint, which answers as API Gateway does). A connection API Gateway no longer holds
answers 410 `GoneException`: that is `Gone`, for the caller to forget the connection. Throttling and transport
failures are DependencyUnavailable (the queue delivers the event again); anything else is a bug and propagates.
"""

from __future__ import annotations

import json
from typing import Any

from slotwise import aws, errors
from slotwise.data.dynamo import translate_errors
from slotwise.settings import get_settings


class Gone(Exception):
    """API Gateway holds no such connection any more (closed, or never completed)."""


class NotConfigured(RuntimeError):
    """The function lacks SLOTWISE_LIVE_ENDPOINT_URL: a stack bug."""


def endpoint() -> str:
    url: str | None = get_settings().live_endpoint_url
    if not url:
        raise NotConfigured("SLOTWISE_LIVE_ENDPOINT_URL is not set: the pusher cannot reach the WebSocket API")
    return url


def post(connection_id: str, message: dict[str, Any]) -> None:
    """Send one JSON message to one connection; Gone when API Gateway no longer holds it."""
    client = aws.management_api(endpoint())
    data = json.dumps(message, separators=(",", ":"), default=str).encode("utf-8")
    with translate_errors("PostToConnection", service="API Gateway"):
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
        except client.exceptions.GoneException as exc:
            raise Gone(connection_id) from exc
        except client.exceptions.LimitExceededException as exc:
            raise errors.DependencyUnavailable("API Gateway PostToConnection is throttled") from exc
