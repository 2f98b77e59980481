"""The HTTP parts of the multi-process local runtime, on loopback sockets: the API worker's keep-alive server, its
relay of the WebSocket Management API to the parent, and the load generator's client (bench/loadgen.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bench.loadgen import Connection, HttpError
from infra.local.api_worker import relay_management, serve
from infra.local.ports import free_port, free_ports, is_free

pytestmark = pytest.mark.e2e


@pytest.fixture
def worker() -> Iterator[tuple[int, list[tuple[str, dict[str, Any]]]]]:
    """An API worker's server on a socket bound as the parent binds it, with a recording stand-in for the
    functions: each answer names the client port the request came from."""
    invoked: list[tuple[str, dict[str, Any]]] = []

    def invoke(group: str, event: dict[str, Any]) -> dict[str, Any]:
        invoked.append((group, event))
        if event["rawPath"].endswith("/gone"):
            return {"statusCode": 410, "headers": {"x-amzn-ErrorType": "GoneException"}, "body": "{}"}
        body = {"path": event["rawPath"], "body": event.get("body"), "query": event.get("rawQueryString")}
        return {
            "statusCode": 201 if event["requestContext"]["http"]["method"] == "POST" else 200,
            "headers": {"content-type": "application/json", "x-answered": group},
            "body": json.dumps(body),
        }

    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    port = bound.getsockname()[1]
    server = serve(bound.fileno(), "127.0.0.1", invoke, "http://127.0.0.1:1", None)
    server.socket.listen(16)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port, invoked
    finally:
        server.shutdown()
        server.server_close()
        bound.close()


def test_requests_reach_the_functions_on_one_kept_alive_connection(worker: tuple[int, list[Any]]) -> None:
    port, invoked = worker

    async def talk() -> list[Any]:
        connection = Connection("127.0.0.1", port)
        answers = [
            await connection.request("GET", "/api/v1/health"),
            await connection.request("POST", "/api/v1/bookings", body={"a": 1}),
            await connection.request("GET", "/api/v1/availability?resourceId=r%201"),
        ]
        connection.close()
        return answers

    answers = asyncio.run(talk())
    assert [a.status for a in answers] == [200, 201, 200]
    assert answers[1].json() == {"path": "/api/v1/bookings", "body": '{"a": 1}', "query": ""}
    assert answers[2].json()["query"] == "resourceId=r%201"
    assert [group for group, _ in invoked] == ["health", "bookings", "availability"]
    assert {event["requestContext"]["http"]["sourceIp"] for _, event in invoked} == {"127.0.0.1"}


def test_the_connection_is_kept_alive(worker: tuple[int, list[Any]]) -> None:
    """Three requests, one TCP connection: the server answers HTTP/1.1 without closing."""
    port, _ = worker
    with socket.create_connection(("127.0.0.1", port)) as client:
        stream = client.makefile("rwb")
        for _ in range(3):
            stream.write(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            stream.flush()
            assert stream.readline().startswith(b"HTTP/1.1 200")
            headers = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.lower()] = value.strip()
            assert headers.get("connection", "keep-alive").lower() != "close"
            assert headers["x-answered"] == "health"
            stream.read(int(headers["content-length"]))


def test_every_method_reaches_the_adapter(worker: tuple[int, list[Any]]) -> None:
    """Methods no route takes (TRACE, QUERY, as a fuzzer sends) are API Gateway's to answer through the route table,
    never http.server's own 501."""
    port, invoked = worker
    for method in (b"TRACE", b"QUERY"):
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(method + b" /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            status_line = client.makefile("rb").readline()
        assert not status_line.startswith(b"HTTP/1.1 501"), status_line
    assert [event["requestContext"]["http"]["method"] for _, event in invoked] == ["TRACE", "QUERY"]


def test_a_refused_connection_is_an_http_error() -> None:
    async def talk() -> None:
        await Connection("127.0.0.1", free_port(), timeout=2).request("GET", "/")

    with pytest.raises(HttpError):
        asyncio.run(talk())


@pytest.fixture
def parent() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """A stand-in for the parent's Management API: 200 for a held connection, 410 GoneException otherwise."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[tuple[str, str, bytes]] = []

    class Management(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("content-length") or 0))
            seen.append((self.command, self.path, data))
            held = self.path == "/@connections/abc%3D"
            self.send_response(200 if held else 410)
            if not held:
                self.send_header("x-amzn-ErrorType", "GoneException")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Management)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_management_api_is_relayed_to_the_parent(parent: tuple[str, list[Any]]) -> None:
    """Method, path and body travel as sent; a refusal (410 for a gone connection) comes back as it was."""
    url, seen = parent
    status, _, _ = relay_management(url, "POST", "/@connections/abc%3D", b'{"hello": 1}', "application/json")
    assert status == 200
    assert seen[-1] == ("POST", "/@connections/abc%3D", b'{"hello": 1}')
    gone, headers, _ = relay_management(url, "POST", "/@connections/other", b"{}", None)
    assert gone == 410 and dict(headers)["x-amzn-ErrorType"] == "GoneException"


def test_the_worker_relays_management_calls_instead_of_routing_them(
    parent: tuple[str, list[Any]],
) -> None:
    url, seen = parent
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    server = serve(bound.fileno(), "127.0.0.1", lambda group, event: {"statusCode": 500}, url, None)
    server.socket.listen(4)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(bound.getsockname()) as client:
            client.sendall(b"POST /@connections/abc%3D HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            assert client.recv(64).startswith(b"HTTP/1.1 200")
        assert seen[-1] == ("POST", "/@connections/abc%3D", b"hi")
    finally:
        server.shutdown()
        server.server_close()
        bound.close()


def test_ports_picked_together_are_different_and_free() -> None:
    # One at a time, the OS once gave DynamoDB Local and moto of one runtime the same port.
    ports = free_ports(64)
    assert len(set(ports)) == 64
    assert all(is_free(port) for port in ports)
