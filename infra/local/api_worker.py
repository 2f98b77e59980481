"""One API worker process of the local runtime: `python -m infra.local.api_worker --fd N ...`.

The parent opens the API's listening socket once and hands the same socket to every worker (inherited file
descriptor); the kernel gives each new connection to one worker's `accept`, so N workers serve in parallel on N
cores, each with its own GIL, like Lambda execution environments on separate machines. Inside a worker, requests
run on threads, each borrowing its own warm copy of the function's handler (infra.local.functions).

`/@connections/{id}` (the WebSocket Management API, on the API port as in docs/live.md) belongs to the parent,
which holds the WebSocket connections: a worker forwards those requests to the parent's management endpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import unquote

from infra.local import call_counts, console, outbox
from infra.local.adapter import event_for, to_http

MANAGEMENT_PREFIX = "/@connections/"
Invoker = Callable[[str, dict[str, Any]], Any]
WARM_AFTER_SECONDS = 5.0
# Hop-by-hop and server-owned headers: this server writes its own.
_OWN_HEADERS = frozenset({"connection", "content-length", "transfer-encoding", "date", "server", "keep-alive"})


def relay_management(
    management_url: str, method: str, path: str, body: bytes, content_type: str | None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """`/@connections/...` answered by the parent's Management API endpoint (it holds the WebSocket connections)."""
    relayed = urllib.request.Request(  # noqa: S310 - a loopback URL the parent gave us
        management_url.rstrip("/") + path,
        data=body if method in ("POST", "PUT") else None,
        method=method,
        headers={"content-type": content_type or "application/octet-stream"},
    )
    try:
        with urllib.request.urlopen(relayed, timeout=10) as answer:  # noqa: S310 - a loopback URL we built
            return answer.status, list(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, list(refused.headers.items()), refused.read()


class ApiRequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive in front of the adapter: a client (a load generator, a browser) reuses its
    connection instead of paying a TCP handshake and a new thread per request. (werkzeug's development server closes
    every connection after one response.) Each request becomes an API Gateway event for the function its route
    names (infra.local.adapter), as in the single-process runtime."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: an answer goes out as two writes (headers, then body); with Nagle's algorithm the body waits for
    # the client's delayed ACK of the headers, about 40 ms per request on a kept-alive connection.
    disable_nagle_algorithm = True
    # An idle keep-alive connection gives its thread back after this long.
    timeout = 30
    # Set per server by `serve` (as static methods: plain functions, not bound to the handler).
    invoke: Invoker
    management_url: str = ""
    access_log: Callable[[str], None] | None = None

    def _serve(self) -> None:
        started = time.perf_counter()
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self._answer(411, [("content-type", "text/plain")], b"Content-Length required\n")
            return
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        raw_path, _, query = self.path.partition("?")
        path = unquote(raw_path)
        if path.startswith(MANAGEMENT_PREFIX):
            status, headers, data = relay_management(
                self.management_url, self.command, raw_path, body, self.headers.get("content-type")
            )
            self._answer(status, headers, data)
            return
        static = console.answer(self.command, path) or outbox.answer(self.command, path)  # local-only, never deployed
        if static is not None:
            self._answer(*static)
            return
        group, event = event_for(
            self.command,
            path,
            raw_query_string=query,
            headers=self.headers.items(),
            body=body,
            source_ip=self.client_address[0],
            domain_name=self.headers.get("host", "127.0.0.1"),
        )
        status, headers, data = to_http(self.invoke(group, event))
        self._answer(status, headers, data)
        if self.access_log is not None:
            elapsed = (time.perf_counter() - started) * 1000
            self.access_log(f"{self.command} {self.path.rstrip('?')} -> {group} {status} {elapsed:.0f} ms")

    def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in _OWN_HEADERS:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def __getattr__(self, name: str) -> Any:
        """Every method reaches the adapter (`do_GET`, `do_TRACE`, `do_QUERY`, ...), as every method reaches API
        Gateway: one that no route takes gets API Gateway's answer there. http.server answers a method without a
        `do_` attribute with a 501 of its own, a server error no deployed stack gives."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """The access log is the adapter-style line above; http.server's own lines would double it."""


def serve(
    fd: int, host: str, invoke: Invoker, management_url: str, access_log: Callable[[str], None] | None
) -> ThreadingHTTPServer:
    """The worker's server on the inherited listening socket (not yet serving: call serve_forever)."""
    handler = type(
        "Handler",
        (ApiRequestHandler,),
        {
            "invoke": staticmethod(invoke),
            "management_url": management_url,
            "access_log": staticmethod(access_log) if access_log else None,
        },
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = ThreadingHTTPServer((host, 0), handler, bind_and_activate=False)
    server.socket.close()  # the one the constructor made: this worker serves the parent's
    server.socket = socket.fromfd(fd, family, socket.SOCK_STREAM)
    server.server_address = server.socket.getsockname()
    server.daemon_threads = True
    return server


def _warm_every_group(warm: Callable[[str], None]) -> None:
    """One environment of every function group, loaded in the background once the worker serves: like
    provisioned concurrency, so the first request of each route (or a function calling the API itself, as the
    simulated payment provider posts its webhooks) does not wait for a cold start."""
    from devstack.routes import LOCAL_ROUTES

    time.sleep(WARM_AFTER_SECONDS)  # the first requests (a start-up health check) go before the imports
    for group in dict.fromkeys(route.group for route in LOCAL_ROUTES):
        if group != "health":
            with contextlib.suppress(Exception):  # a group that fails to load fails again, visibly, on its request
                warm(group)
            time.sleep(0.2)  # the GIL is shared with the requests being served meanwhile: let them through


def main(argv: list[str] | None = None) -> int:
    import devstack
    from infra.local.functions import invoke, warm

    parser = argparse.ArgumentParser(prog="python -m infra.local.api_worker")
    parser.add_argument("--fd", type=int, required=True, help="the listening socket inherited from the parent")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--management-url", required=True, help="the parent's WebSocket Management API endpoint")
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--name", default="api")
    args = parser.parse_args(argv)

    devstack.install()
    call_counts.install(args.name)

    def say(message: str) -> None:
        print(message, flush=True)

    # A first environment of the function clients poll while the runtime starts, then accept connections.
    warm("health")
    server = serve(args.fd, args.host, invoke, args.management_url, say if args.access_log else None)
    server.socket.listen(1024)  # the parent only bound it; the first worker to get here opens it for every worker
    threading.Thread(target=_warm_every_group, args=(warm,), name="warm", daemon=True).start()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        # Nothing here outlives a request (Lambda freezes or drops an environment the same way): leave at once,
        # cutting any request in flight as stopping the runtime would.
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
