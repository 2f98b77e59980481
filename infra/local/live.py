"""The local WebSocket endpoint: API Gateway's WebSocket API played by `websockets`, for the same `live` handlers.

- `ws://<host>:<ws port>/ws` accepts WebSocket clients. The handshake is held until the `$connect` route answered:
  a status other than 2xx refuses it with that status, as API Gateway does; a `Sec-WebSocket-Protocol` header in
  the route's answer names the subprotocol the handshake accepts.
- Each text message goes to the route its `action` names (`$request.body.action`), else `$default`; the answer's
  `body` of a route with a route response (subscribe, unsubscribe, $default) is sent back to the client.
- When a client goes, `$disconnect` runs.
- `POST /@connections/{id}` (and `GET`, `DELETE`) on the API port is the Management API, on the path API Gateway
  uses, so the boto3 `apigatewaymanagementapi` client works unchanged (SLOTWISE_LIVE_ENDPOINT_URL is the API's
  base URL); a connection the endpoint does not hold answers 410 `GoneException`.

Events have API Gateway's WebSocket shapes: `requestContext` with `routeKey`, `eventType` (CONNECT, MESSAGE,
DISCONNECT), `connectionId`, `messageDirection`, `connectedAt`, `requestTimeEpoch`, `identity.sourceIp`,
`apiId`, `stage`, `domainName`; `$connect` also has `headers`, `multiValueHeaders`, `queryStringParameters` and
`multiValueQueryStringParameters` (none when the URL has no query).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from werkzeug.wrappers import Request as HttpRequest
from werkzeug.wrappers import Response as HttpResponse

from slotwise.topology import WebSocketSpec

Invoker = Callable[[str, dict[str, Any]], Any]
WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]
PATH = "/ws"
MANAGEMENT_PREFIX = "/@connections/"
STAGE = "local"
# How long a Management API call waits for the frame to be handed to the socket.
SEND_TIMEOUT_SECONDS = 5.0


def _epoch_ms(now: datetime | None = None) -> int:
    return int((now or datetime.now(UTC)).timestamp() * 1000)


def new_connection_id() -> str:
    """An id shaped like API Gateway's (16 characters of base64, e.g. `L0SM9cOFvHcCIhw=`)."""
    return base64.b64encode(os.urandom(11)).decode("ascii")


def _request_context(
    route_key: str, event_type: str, connection_id: str, connected_at: int, source_ip: str, domain: str
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": uuid.uuid4().hex,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": connected_at,
        "requestTimeEpoch": _epoch_ms(now),
        "identity": {"sourceIp": source_ip},
        "requestId": uuid.uuid4().hex,
        "domainName": domain,
        "connectionId": connection_id,
        "apiId": "local",
    }


def connect_event(
    connection_id: str, *, path: str, headers: Iterable[tuple[str, str]], source_ip: str, connected_at: int
) -> dict[str, Any]:
    """API Gateway's `$connect` event: headers as sent (first value in `headers`, all in `multiValueHeaders`)."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single.setdefault(name, value)
        multi.setdefault(name, []).append(value)
    query_single: dict[str, str] = {}
    query_multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(urlsplit(path).query, keep_blank_values=True):
        query_single[name] = value  # API Gateway keeps the last value
        query_multi.setdefault(name, []).append(value)
    event: dict[str, Any] = {
        "headers": single,
        "multiValueHeaders": multi,
        "requestContext": _request_context(
            "$connect", "CONNECT", connection_id, connected_at, source_ip, single.get("Host", "127.0.0.1")
        ),
        "isBase64Encoded": False,
    }
    if query_single:
        event["queryStringParameters"] = query_single
        event["multiValueQueryStringParameters"] = query_multi
    return event


def route_key_of(body: str, spec: WebSocketSpec) -> str:
    """`$request.body.action`: the message's `action` when a route has that key, else `$default`."""
    try:
        action = json.loads(body).get("action")
    except (ValueError, AttributeError):
        return "$default"
    if isinstance(action, str) and action in spec.routes and not action.startswith("$"):
        return action
    return "$default"


def message_event(
    connection_id: str, body: str, *, spec: WebSocketSpec, source_ip: str, connected_at: int
) -> dict[str, Any]:
    context = _request_context(route_key_of(body, spec), "MESSAGE", connection_id, connected_at, source_ip, "local")
    context["messageId"] = uuid.uuid4().hex
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(connection_id: str, *, source_ip: str, connected_at: int, code: int | None) -> dict[str, Any]:
    context = _request_context("$disconnect", "DISCONNECT", connection_id, connected_at, source_ip, "local")
    context["disconnectStatusCode"] = code if code is not None else 1006
    context["disconnectReason"] = ""
    return {"headers": {}, "multiValueHeaders": {}, "requestContext": context, "isBase64Encoded": False}


class _Open:
    """One accepted client: its socket, when it connected and from where."""

    def __init__(self, connection: ServerConnection, connected_at: int, source_ip: str) -> None:
        self.connection = connection
        self.connected_at = connected_at
        self.source_ip = source_ip
        self.last_active = connected_at


class LiveGateway:
    """Serves the WebSocket endpoint on its own event loop thread; `management` wraps the API's WSGI app."""

    def __init__(
        self,
        invoke: Invoker,
        spec: WebSocketSpec,
        log: Callable[[str], None] | None = None,
        *,
        access_log: bool = False,
    ) -> None:
        self._invoke = invoke
        self._spec = spec
        self._log = log
        self._access_log = access_log
        self._open: dict[str, _Open] = {}
        # Accepted by $connect, handshake not finished: weak, so a handshake that fails later leaves nothing behind.
        self._pending: weakref.WeakKeyDictionary[ServerConnection, tuple[str, int, str, str | None]] = (
            weakref.WeakKeyDictionary()
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # --- the WebSocket side (event loop thread) -----------------------------------------------------------------

    async def _call(self, event: dict[str, Any]) -> dict[str, Any]:
        result = await asyncio.to_thread(self._invoke, self._spec.group, event)
        return result if isinstance(result, dict) else {"statusCode": 200}

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if urlsplit(request.path).path != PATH:
            return connection.respond(404, f"WebSocket endpoint is {PATH}\n")
        connection_id = new_connection_id()
        connected_at = _epoch_ms()
        remote = connection.remote_address
        source_ip = str(remote[0]) if remote else "127.0.0.1"
        headers = [(name, value) for name, value in request.headers.raw_items()]
        event = connect_event(
            connection_id, path=request.path, headers=headers, source_ip=source_ip, connected_at=connected_at
        )
        try:
            result = await self._call(event)
        except Exception as exc:
            self._say(f"WS $connect -> {self._spec.group} failed: {exc!r}")
            return connection.respond(500, "Internal server error\n")
        status = int(result.get("statusCode", 200))
        if not 200 <= status < 300:
            self._say(f"WS $connect -> {self._spec.group} {status}")
            return Response(status, _reason(status), Headers(), str(result.get("body") or "").encode())
        answer = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        self._pending[connection] = (connection_id, connected_at, source_ip, answer.get("sec-websocket-protocol"))
        return None

    def _select_subprotocol(self, connection: ServerConnection, offered: Any) -> Any:
        pending = self._pending.get(connection)
        chosen = pending[3] if pending else None
        return chosen if chosen in offered else None

    async def _handler(self, connection: ServerConnection) -> None:
        connection_id, connected_at, source_ip, _ = self._pending.pop(connection)
        opened = _Open(connection, connected_at, source_ip)
        self._open[connection_id] = opened
        try:
            async for frame in connection:
                body = frame if isinstance(frame, str) else frame.decode("utf-8", errors="replace")
                opened.last_active = _epoch_ms()
                event = message_event(
                    connection_id, body, spec=self._spec, source_ip=source_ip, connected_at=connected_at
                )
                route = event["requestContext"]["routeKey"]
                try:
                    result = await self._call(event)
                except Exception as exc:
                    self._say(f"WS {route} -> {self._spec.group} failed: {exc!r}")
                    await connection.send(json.dumps({"message": "Internal server error"}))
                    continue
                if route in self._spec.answered_routes and result.get("body") is not None:
                    await connection.send(str(result["body"]))
        finally:
            self._open.pop(connection_id, None)
            code = connection.close_code
            event = disconnect_event(connection_id, source_ip=source_ip, connected_at=connected_at, code=code)
            try:
                await self._call(event)
            except Exception as exc:
                self._say(f"WS $disconnect -> {self._spec.group} failed: {exc!r}")

    async def _serve(self, host: str, port: int, ready: threading.Event) -> None:
        self._server = await serve(
            self._handler,
            host,
            port,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            # API Gateway's own frame limit; it pings idle clients itself, and so does websockets.
            max_size=128 * 1024,
        )
        ready.set()
        await self._server.wait_closed()

    def start(self, host: str, port: int) -> None:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        loop = self._loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            # Handlers run on the loop's executor; API Gateway calls $connect for every client at once, so a burst
            # of connections must not queue behind asyncio's default handful of threads (min(32, cores + 4)).
            loop.set_default_executor(ThreadPoolExecutor(max_workers=64, thread_name_prefix="live"))
            loop.run_until_complete(self._serve(host, port, ready))

        self._thread = threading.Thread(target=run, name="live-websocket", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"the WebSocket endpoint did not start on {host}:{port}")

    def stop(self, timeout: float = 5.0) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return
        loop.call_soon_threadsafe(server.close)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    # --- the Management API (WSGI threads) ----------------------------------------------------------------------

    def _run(self, coroutine: Any) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(SEND_TIMEOUT_SECONDS)

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send `data` to the connection (text when it is UTF-8, as API Gateway does); False when it is gone."""
        opened = self._open.get(connection_id)
        if opened is None:
            return False
        try:
            text: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data
        try:
            self._run(opened.connection.send(text))
        except Exception:
            return False  # closed while sending: gone, as API Gateway would say
        return True

    def close(self, connection_id: str) -> bool:
        opened = self._open.get(connection_id)
        if opened is None:
            return False
        with contextlib.suppress(Exception):
            self._run(opened.connection.close())
        return True

    def management(self, app: WSGIApp) -> WSGIApp:
        """`app` with `/@connections/{id}` answered here (API Gateway's Management API paths)."""

        def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if not path.startswith(MANAGEMENT_PREFIX):
                return app(environ, start_response)
            request = HttpRequest(environ)
            connection_id = path[len(MANAGEMENT_PREFIX) :]
            response = self._manage(request.method, connection_id, request.get_data())
            return response(environ, start_response)

        return wsgi

    def _manage(self, method: str, connection_id: str, data: bytes) -> HttpResponse:
        started = time.perf_counter()
        opened = self._open.get(connection_id)
        if method == "POST":
            done = self.post(connection_id, data)
        elif method == "DELETE":
            done = self.close(connection_id)
        elif method == "GET":
            done = opened is not None
        else:
            return HttpResponse(status=405)
        if not done:
            if self._access_log:
                self._say(f"{method} /@connections/{connection_id} -> 410 gone")
            return HttpResponse(
                json.dumps({"message": None}),
                status=410,
                headers={"x-amzn-ErrorType": "GoneException", "content-type": "application/json"},
            )
        if method == "GET" and opened is not None:
            body = {
                "connectedAt": datetime.fromtimestamp(opened.connected_at / 1000, UTC).isoformat(),
                "identity": {"sourceIp": opened.source_ip},
                "lastActiveAt": datetime.fromtimestamp(opened.last_active / 1000, UTC).isoformat(),
            }
            return HttpResponse(json.dumps(body), status=200, content_type="application/json")
        elapsed = (time.perf_counter() - started) * 1000
        if self._access_log and method == "POST":
            self._say(f"POST /@connections/{connection_id} {len(data)} bytes {elapsed:.0f} ms")
        return HttpResponse(status=200 if method == "POST" else 204)

    def _say(self, message: str) -> None:
        if self._log:
            self._log(message)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Refused"
