"""Call the API in-process exactly as API Gateway would: route by the route table, build a v2 event, invoke the
function's real `lambda_handler`. The caller is named by the local runtime's identity headers."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from infra.local.adapter import event_for
from infra.local.functions import invoke
from slotwise.api import routes
from tests.support import contract

# The development routes (devstack) are not part of the deployed API's document.
_DOCUMENTED_GROUPS = frozenset(routes.groups())


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any = field(default=None)

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


def call(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict[str, Any] | None = None,
    user: str | None = None,
    role: str | None = None,
    headers: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> ApiResponse:
    sent = dict(headers or {})
    if user is not None:
        sent["x-slotwise-user-id"] = user
    if role is not None:
        sent["x-slotwise-role"] = role
    raw_body = b""
    if body is not None:
        raw_body = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent.setdefault("content-type", "application/json")
    group, event = event_for(
        method,
        path,
        raw_query_string=urlencode(query or {}, doseq=True),
        headers=list(sent.items()),
        body=raw_body,
        source_ip=source_ip,
    )
    result = invoke(group, event)
    response_headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    text = result.get("body") or ""
    parsed: Any
    if result.get("isBase64Encoded"):
        parsed = base64.b64decode(text)  # a binary body (a PDF), as API Gateway hands it to the client
    else:
        parsed = json.loads(text) if text and "json" in response_headers.get("content-type", "") else text
    if group in _DOCUMENTED_GROUPS:
        contract.check(event["routeKey"], result["statusCode"], response_headers.get("content-type", ""), parsed)
    return ApiResponse(result["statusCode"], response_headers, parsed)
