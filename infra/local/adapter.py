"""HTTP <-> API Gateway HTTP API (payload format 2.0), so the local runtime runs the Lambda handlers unchanged.

Shapes follow API Gateway's: lower-cased headers with repeated values joined by commas, cookies moved out of the
headers into `cookies`, repeated query parameters joined by commas, the raw query string kept as sent, bodies
base64-encoded unless they are text, path parameters from the matched route. A route match picks the function;
anything unmatched goes to the fallback function, which answers 404/405 as the API does in AWS.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.routes import LOCAL_ROUTES
from slotwise.api import routes

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/javascript",
)

Invoker = Callable[[str, dict[str, Any]], Any]


def _is_text(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith(_TEXT_TYPES) or media_type.endswith(("+json", "+xml"))


def _is_utf8(body: bytes) -> bool:
    """A body that claims to be text but is not UTF-8 travels base64-encoded, as API Gateway passes binary."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def build_event(
    *,
    method: str,
    raw_path: str,
    raw_query_string: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str = "127.0.0.1",
    route_key: str = "$default",
    path_parameters: dict[str, str] | None = None,
    domain_name: str = "127.0.0.1",
    now: datetime | None = None,
) -> dict[str, Any]:
    """One API Gateway HTTP API v2 request event."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value

    query: dict[str, str] = {}
    if raw_query_string:
        from urllib.parse import parse_qsl

        for name, value in parse_qsl(raw_query_string, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value

    now = now or datetime.now(UTC)
    request_id = str(uuid.uuid4())
    text = _is_text(joined.get("content-type", "application/json")) and _is_utf8(body)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query_string,
        "headers": joined,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", 1)[0],
            "http": {
                "method": method.upper(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": bool(body) and not text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = body.decode("utf-8") if text else base64.b64encode(body).decode("ascii")
    return event


def event_for(method: str, raw_path: str, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """The function group that serves this request and the event it receives (the deployed routes and, as only the
    local runtime has them, the development routes)."""
    found = routes.match(method, raw_path, LOCAL_ROUTES)
    if found is None:
        return routes.FALLBACK_GROUP, build_event(method=method, raw_path=raw_path, **kwargs)
    return found.route.group, build_event(
        method=method,
        raw_path=raw_path,
        route_key=found.route.route_key,
        path_parameters=found.path_parameters,
        **kwargs,
    )


def to_http(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """A Lambda proxy result -> status, headers, body. A bare value is JSON 200, as API Gateway treats it."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, [("content-type", "application/json")], json.dumps(result).encode()
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    headers.extend(("set-cookie", cookie) for cookie in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return int(result["statusCode"]), headers, body


class HttpApiAdapter:
    """A WSGI app that plays API Gateway in front of the function handlers."""

    def __init__(self, invoke: Invoker, log: Callable[[str], None] | None = None) -> None:
        self._invoke = invoke
        self._log = log

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        group, event = event_for(
            request.method,
            request.path,
            raw_query_string=request.query_string.decode("latin-1"),
            headers=request.headers.items(),
            body=request.get_data(),
            source_ip=request.remote_addr or "127.0.0.1",
            domain_name=request.host,
        )
        status, headers, body = to_http(self._invoke(group, event))
        response = Response(body, status=status)
        response.headers.clear()
        for name, value in headers:
            response.headers.add(name, value)
        if self._log:
            elapsed = (time.perf_counter() - started) * 1000
            self._log(f"{request.method} {request.full_path.rstrip('?')} -> {group} {status} {elapsed:.0f} ms")
        return response(environ, start_response)
