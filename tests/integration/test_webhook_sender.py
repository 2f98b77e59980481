"""The real webhook sender (http.client) against a local HTTP server, and the delivery records' conditions under
concurrency on DynamoDB Local."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from slotwise.webhooks import repository, sender, signing, urls

SECRET = "whsec_integration-test-secret"
BODY = b'{"id":"booking:b-1:2","type":"booking.confirmed","data":{"id":"b-1"},"metadata":{}}'


class Receiver(BaseHTTPRequestHandler):
    """Verifies like a subscriber would (the README's recipe) and answers with the status the test set."""

    answer = 200
    delay = 0.0
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        header = self.headers["Slotwise-Signature"]
        fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
        t = next((value for key, value in fields if key == "t"), "")
        expected = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        valid = any(key == "v1" and hmac.compare_digest(value, expected) for key, value in fields)
        Receiver.seen.append({"host": self.headers["Host"], "valid": valid, "body": body, "path": self.path})
        time.sleep(Receiver.delay)
        self.send_response(Receiver.answer)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[int]:
    Receiver.answer, Receiver.delay, Receiver.seen = 200, 0.0, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def post(port: int, host: str = "127.0.0.1") -> sender.Result:
    target = urls.parse(f"http://{host}:{port}/hooks?x=1", stage="test")
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.header([SECRET], int(time.time()), BODY),
    }
    return sender.post(target, "127.0.0.1", BODY, headers)


@pytest.mark.parametrize("status", [200, 204, 410, 500])
def test_the_receiver_verifies_the_signature_and_its_status_is_the_result(receiver: int, status: int) -> None:
    Receiver.answer = status
    result = post(receiver)
    assert (result.status_code, result.error) == (status, None)
    (seen,) = Receiver.seen
    assert seen["valid"] and seen["body"] == BODY and seen["path"] == "/hooks?x=1"


def test_the_connection_goes_to_the_checked_address_not_a_new_lookup(receiver: int) -> None:
    """The URL names a host that does not resolve at all; the socket still reaches the pinned address, and the
    request names the host (what TLS would verify)."""
    result = post(receiver, host="hooks.invalid")
    assert result.status_code == 200
    assert Receiver.seen[0]["host"] == f"hooks.invalid:{receiver}"


def test_a_slow_receiver_is_a_timeout(receiver: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sender, "TIMEOUT_SECONDS", 0.3)
    Receiver.delay = 1.0
    result = post(receiver)
    assert (result.status_code, result.error) == (None, "timeout")
    assert result.duration_ms < 1000


def test_nobody_listening_is_an_error_not_an_exception() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), Receiver) as closed:
        port = closed.server_address[1]
    result = post(port)
    assert result.status_code is None and result.error and "Connection" in result.error


@pytest.mark.dynamodb_local
def test_one_delivery_record_and_one_claim_whatever_the_race(local_table: str) -> None:
    """Twenty consumers see the same event for the same subscription: one creates the delivery; twenty racing
    claims of attempt 1 leave exactly one winner."""
    now = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    start = threading.Barrier(20, timeout=20)

    def create(_: int) -> bool:
        start.wait()
        return repository.create_delivery("sub-1", "booking:b-1:2", "booking.confirmed", BODY.decode(), now)

    with ThreadPoolExecutor(max_workers=20) as pool:
        created = list(pool.map(create, range(20)))
    assert created.count(True) == 1

    def claim(_: int) -> bool:
        start.wait()
        return repository.claim_attempt("sub-1", "booking:b-1:2", 1, now) is not None

    with ThreadPoolExecutor(max_workers=20) as pool:
        claimed = list(pool.map(claim, range(20)))
    assert claimed.count(True) == 1
    # Recording attempt 1 twice: only the first moves the delivery on.
    finish = {
        "status": "pending",
        "first_attempt_at": now,
        "next_attempt_at": now,
        "last_result": "HTTP 500",
    }
    assert repository.finish_attempt("sub-1", "booking:b-1:2", 1, **finish)  # type: ignore[arg-type]
    assert not repository.finish_attempt("sub-1", "booking:b-1:2", 1, **finish)  # type: ignore[arg-type]
    stored = repository.get_delivery("sub-1", "booking:b-1:2")
    assert stored is not None and stored["attempts"] == 1 and "leaseUntil" not in stored
