"""Outbound webhooks on the local runtime: a booking made over HTTP reaches the vendor's endpoint as a signed POST
(stream -> publisher -> bus -> rule -> webhook queue -> consumer), and a 410 answer disables the subscription."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.runtime import Runtime, running

pytestmark = pytest.mark.e2e
VENDOR = {"x-slotwise-user-id": "demo-vendor", "x-slotwise-role": "vendor"}
OTHER_VENDOR = {"x-slotwise-user-id": "other-vendor", "x-slotwise-role": "vendor"}
CUSTOMER = {"x-slotwise-user-id": "demo-customer", "x-slotwise-role": "customer"}


class Receiver(BaseHTTPRequestHandler):
    answer = 200
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self.send_response(Receiver.answer)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture(scope="module")
def receiver() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(tmp_path_factory.mktemp("webhooks-runtime")) as started:
        yield started


def documented_verify() -> Callable[..., bool]:
    """The verification example of docs/webhooks.md, as a subscriber would paste it."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text(encoding="utf-8")
    code = doc.split("## Outbound webhooks", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # our own documentation
    verify: Callable[..., bool] = namespace["verify"]
    return verify


def wait_for(check: Callable[[], Any], timeout: float = 45) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_a_booking_reaches_the_vendors_endpoint_signed_and_a_410_disables_it(runtime: Runtime, receiver: int) -> None:
    api = f"{runtime.base}/api/v1"
    hooks = f"{api}/webhook-subscriptions"
    mine = requests.post(
        hooks, json={"url": f"http://127.0.0.1:{receiver}/hook", "eventTypes": ["*"]}, headers=VENDOR, timeout=10
    )
    assert mine.status_code == 201, mine.text
    secret, sub_id = mine.json()["secret"], mine.json()["id"]
    other = requests.post(
        hooks, json={"url": f"http://127.0.0.1:{receiver}/other", "eventTypes": ["*"]}, headers=OTHER_VENDOR, timeout=10
    )
    assert other.status_code == 201, other.text

    rooms = requests.get(f"{api}/resources", params={"type": "meeting_room"}, timeout=10).json()["resources"]
    room = next(r for r in rooms if r["ownerId"] == "demo-vendor")
    body = {"resourceId": room["id"], "startTime": "2027-04-05T10:00:00+01:00", "endTime": "2027-04-05T11:00:00+01:00"}
    booking = requests.post(f"{api}/bookings", json=body, headers=CUSTOMER, timeout=10)
    assert booking.status_code == 201, booking.text

    booking_id = booking.json()["id"]

    def about_the_booking() -> list[dict[str, Any]]:
        return [
            r for r in Receiver.received if r["path"] == "/hook" and json.loads(r["body"])["data"]["id"] == booking_id
        ]

    # (The catalog's own events, resource.created from the demo data, may arrive too: the vendor owns them.)
    first = wait_for(about_the_booking)[0]
    headers = {k.lower(): v for k, v in first["headers"].items()}
    assert documented_verify()(secret, headers["slotwise-signature"], first["body"])
    assert not documented_verify()(secret, headers["slotwise-signature"], first["body"] + b" ")
    event = json.loads(first["body"])
    assert event["data"]["vendorId"] == "demo-vendor"
    assert headers["slotwise-event-id"] == event["id"] == event["metadata"]["eventId"]
    assert headers["slotwise-event-type"] == event["type"] and event["type"].startswith("booking.")

    Receiver.answer = 410
    cancelled = requests.post(f"{api}/bookings/{booking_id}/cancel", json={}, headers=CUSTOMER, timeout=10)
    assert cancelled.status_code == 200, cancelled.text

    def disabled() -> bool:
        shown = requests.get(f"{hooks}/{sub_id}", headers=VENDOR, timeout=10).json()
        return shown["active"] is False

    wait_for(disabled)
    rows = requests.get(f"{hooks}/{sub_id}/deliveries", headers=VENDOR, timeout=10).json()["deliveries"]
    assert rows[0]["outcome"] == "gone" and rows[0]["statusCode"] == 410
    assert "delivered" in [r["outcome"] for r in rows]
    # The other vendor's subscription never received this vendor's events.
    assert [r for r in Receiver.received if r["path"] == "/other"] == []
