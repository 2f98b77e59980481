"""Live push on the local runtime (docs/live.md): WebSocket clients signed in as the demo customer and as another
user; the payment webhook confirms the customer's booking (stream -> publisher -> bus -> `events-to-live` -> `live`
queue -> pusher -> `POST /@connections/{id}` -> the socket) and only the customer hears of it; tokens are required;
500 connections are held open at once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.e2e.runtime import Runtime, running

pytestmark = pytest.mark.e2e
CUSTOMER = {"email": "customer@demo.slotwise.test", "password": "slotwise-demo-customer"}
# The per-user cap (slotwise.live.service.MAX_CONNECTIONS_PER_USER).
CAP = 10


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(tmp_path_factory.mktemp("live-runtime")) as started:
        yield started


def sign_in(runtime: Runtime, credentials: dict[str, str]) -> str:
    answer = requests.post(f"{runtime.base}/api/v1/auth/login", json=credentials, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["accessToken"])


def register(runtime: Runtime) -> tuple[str, str]:
    """A new customer: (user id, access token)."""
    email = f"live-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": "plum-orchard-lantern-42", "name": "Live listener"}
    made = requests.post(f"{runtime.base}/api/v1/auth/register", json=body, timeout=30)
    assert made.status_code == 201, made.text
    return str(made.json()["id"] if "id" in made.json() else made.json()["user"]["id"]), sign_in(
        runtime, {"email": email, "password": body["password"]}
    )


async def drain(socket: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every message the socket receives within `seconds`."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            found.append(json.loads(await asyncio.wait_for(socket.recv(), left)))
        except TimeoutError:
            break
    return found


async def ask(socket: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    await socket.send(json.dumps(message))
    answer: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 10))
    return answer


def test_the_customer_hears_of_the_confirmation_within_2_s_and_another_user_hears_nothing(runtime: Runtime) -> None:
    api = f"{runtime.base}/api/v1"
    token = sign_in(runtime, CUSTOMER)
    auth = {"Authorization": f"Bearer {token}"}
    other_id, other_token = register(runtime)
    rooms = requests.get(f"{api}/resources", params={"type": "room"}, timeout=10).json()
    room = next(r for r in rooms["resources"] if r["name"] == "Private double")

    async def scenario() -> None:
        async with (
            connect(f"{runtime.ws}?token={token}") as customer,
            connect(runtime.ws, subprotocols=["slotwise.v1", f"bearer.{other_token}"]) as other,  # type: ignore[list-item]
        ):
            assert other.subprotocol == "slotwise.v1"
            # The other user follows the room's availability: changes reach them without anyone's details.
            assert await ask(other, {"action": "subscribe", "resourceId": room["id"]}) == {
                "type": "subscribed",
                "resourceId": room["id"],
            }
            body = {"resourceId": room["id"], "checkIn": "2027-06-07", "checkOut": "2027-06-09"}
            held = await asyncio.to_thread(requests.post, f"{api}/bookings", json=body, headers=auth, timeout=10)
            assert held.status_code == 201, held.text
            booking = held.json()
            refused = await ask(other, {"action": "subscribe", "bookingId": booking["id"]})
            assert (refused["status"], refused["code"]) == (404, "booking_not_found")
            paid = await asyncio.to_thread(
                requests.post, f"{api}/bookings/{booking['id']}/payment", json={}, headers=auth, timeout=10
            )
            assert paid.status_code == 201, paid.text
            payment_id = paid.json()["payment"]["id"]
            await drain(customer, 1.0)  # booking.held and payment events so far

            started = time.monotonic()
            outcome = await asyncio.to_thread(
                requests.post, f"{api}/dev/payments/{payment_id}/succeed", json={}, headers=auth, timeout=10
            )
            assert outcome.status_code == 200, outcome.text
            confirmed = None
            while confirmed is None and time.monotonic() - started < 2.0:
                for message in await drain(customer, 0.1):
                    if message["type"] == "booking.confirmed" and message["data"]["id"] == booking["id"]:
                        confirmed = message
            elapsed = time.monotonic() - started
            assert confirmed is not None, f"no booking.confirmed within 2 s of the webhook ({elapsed:.2f} s)"
            print(f"booking.confirmed reached the customer {elapsed:.2f} s after the webhook was sent")
            assert confirmed["id"] == f"booking:{booking['id']}:{confirmed['data']['version']}"
            assert confirmed["data"]["status"] == "confirmed"
            assert confirmed["data"]["customerId"] == booking["customerId"]
            assert "attendees" not in confirmed["data"] and "history" not in confirmed["data"]

            heard = await drain(other, 1.5)
            text = json.dumps(heard)
            assert booking["id"] not in text and booking["customerId"] not in text and payment_id not in text
            assert heard, "the room's subscriber hears that its availability changed"
            for message in heard:
                assert message["type"] == "availability.changed"
                assert message["data"]["resourceId"] == room["id"]
                assert set(message["data"]) <= {
                    "resourceId",
                    "startTime",
                    "endTime",
                    "previousStartTime",
                    "previousEndTime",
                }
            assert other_id not in json.dumps(await drain(customer, 0.2))

    asyncio.run(scenario())


def test_a_connection_without_a_valid_token_is_refused(runtime: Runtime) -> None:
    async def refused(url: str, **options: Any) -> int:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(url, **options):
                pass
        return int(caught.value.response.status_code)

    async def scenario() -> None:
        assert await refused(runtime.ws) == 401
        assert await refused(f"{runtime.ws}?token=not-a-token") == 401
        assert await refused(runtime.ws, subprotocols=["slotwise.v1", "bearer.eyJhbGciOiJIUzI1NiJ9.e30.x"]) == 401
        # Not the WebSocket path at all.
        assert await refused(runtime.ws.replace("/ws", "/elsewhere")) == 404

    asyncio.run(scenario())


def test_500_connections_are_held_open_and_the_eleventh_of_a_user_is_refused(runtime: Runtime) -> None:
    """50 users x the cap of 10 (named by the local identity headers, as on the HTTP API), all open at once."""
    users = [f"live-load-{uuid.uuid4().hex[:8]}" for _ in range(50)]

    async def open_one(user: str) -> ClientConnection:
        return await connect(runtime.ws, additional_headers={"x-slotwise-user-id": user}, open_timeout=30)

    async def scenario() -> float:
        started = time.monotonic()
        semaphore = asyncio.Semaphore(50)

        async def limited(user: str) -> ClientConnection:
            async with semaphore:
                return await open_one(user)

        sockets = await asyncio.gather(*(limited(user) for user in users for _ in range(CAP)))
        opened = time.monotonic() - started
        try:
            assert len(sockets) == 500
            # Every one is alive: it answers a ping and the route answers a message.
            pongs = await asyncio.gather(*(socket.ping() for socket in sockets))
            await asyncio.wait_for(asyncio.gather(*pongs), 15)
            replies = await asyncio.gather(*(ask(socket, {"action": "hello"}) for socket in sockets[::50]))
            assert {r["code"] for r in replies} == {"unknown_action"}
            with pytest.raises(InvalidStatus) as caught:
                await open_one(users[0])
            assert caught.value.response.status_code == 429
        finally:
            await asyncio.gather(*(socket.close() for socket in sockets))
        # $disconnect gave the places back: the user connects again.
        for _ in range(50):
            try:
                again = await open_one(users[0])
            except InvalidStatus:
                await asyncio.sleep(0.1)
                continue
            await again.close()
            break
        else:
            raise AssertionError("closed connections were not given back")
        return opened

    started = time.monotonic()
    opened = asyncio.run(scenario())
    total = time.monotonic() - started
    print(f"500 connections opened in {opened:.1f} s; the whole test took {total:.1f} s")
    assert total < 30
    log = (Path(runtime.state_dir).parent / "runtime.log").read_text(encoding="utf-8")
    # The WebSocket endpoint reports a handler that raised as `WS <route> -> live failed: …`.
    failures = [line for line in log.splitlines() if line.startswith("WS ") and "failed" in line]
    assert not failures and "Traceback" not in log, log[-3000:]
