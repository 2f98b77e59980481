"""The seed businesses' journeys, end to end on the local runtime (`make dev`'s demo data, over HTTP and WebSocket).

- The hall site: search by city, guests, amenities and free dates; a quote with add-ons; book and pay; reschedule;
  the PDF; cancel with the tiered refund to the wallet; top the wallet up; review the past event; a favourite.
- The airline desk: flights by route and date; an agent books two economy seats for a customer; the PNR; the
  operator delays the flight and the passenger is moved and told, live and in-app, once; a cancellation gives the
  seats back.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from pypdf import PdfReader
from websockets.asyncio.client import connect

from tests.e2e.journey import demo, until
from tests.e2e.runtime import Runtime, running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(tmp_path_factory.mktemp("journeys-runtime")) as started:
        yield started


def test_the_hall_sites_journey(runtime: Runtime) -> None:
    api = f"{runtime.base}/api/v1"
    customer = demo(runtime, "customer")
    kolkata = ZoneInfo("Asia/Kolkata")
    day = (datetime.now(UTC) + timedelta(days=60)).astimezone(kolkata).date()
    start = datetime.combine(day, datetime.min.time(), kolkata).replace(hour=18)
    end = start + timedelta(hours=5)

    # Search: city, seats for 300, a stage, free that evening.
    found = requests.get(
        f"{api}/resources",
        params={
            "city": "mumbai",
            "minGuests": 300,
            "amenities": "stage",
            "availableFrom": start.isoformat(),
            "availableTo": end.isoformat(),
        },
        timeout=10,
    )
    assert found.status_code == 200, found.text
    [hall] = found.json()["resources"]
    assert hall["name"] == "Lotus Hall" and hall["maxGuests"] >= 300
    assert (
        requests.get(f"{api}/resources", params={"city": "mumbai", "minGuests": 5000}, timeout=10).json()["resources"]
        == []
    )

    # A quote with add-ons, then the booking it becomes, at the same price.
    offered = requests.get(f"{api}/resources/{hall['id']}/addons", timeout=10).json()["addons"]
    engineer = next(a for a in offered if a.get("stock"))
    per_booking = next(a for a in offered if a["pricing"] == "per_booking" and not a.get("stock"))
    chosen = [{"addonId": engineer["id"], "quantity": 1}, {"addonId": per_booking["id"], "quantity": 1}]
    request = {"resourceId": hall["id"], "startTime": start.isoformat(), "endTime": end.isoformat(), "guests": 300}
    quote = requests.post(f"{api}/quotes", json={**request, "addons": chosen}, timeout=10)
    assert quote.status_code == 200, quote.text
    assert quote.json()["available"] is True
    booked = requests.post(f"{api}/bookings", json={**request, "addons": chosen}, headers=customer, timeout=10)
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booking["price"] == quote.json()["price"]
    assert {line.get("addonId") for line in booking["price"]["lines"]} >= {engineer["id"], per_booking["id"]}

    # Pay (the simulated provider's webhook confirms it).
    paid = requests.post(f"{api}/bookings/{booking['id']}/payment", json={}, headers=customer, timeout=10)
    assert paid.status_code == 201, paid.text
    payment = paid.json()["payment"]
    assert payment["amount"] == booking["price"]["amount"]
    succeeded = requests.post(f"{api}/dev/payments/{payment['id']}/succeed", json={}, headers=customer, timeout=10)
    assert succeeded.status_code == 200, succeeded.text

    def booking_now() -> dict[str, Any]:
        return dict(requests.get(f"{api}/bookings/{booking['id']}", headers=customer, timeout=10).json())

    until(lambda: booking_now()["status"] == "confirmed")

    # Reschedule to the next evening: the stocked add-on moves with it.
    later = {"startTime": (start + timedelta(days=1)).isoformat(), "endTime": (end + timedelta(days=1)).isoformat()}
    moved = requests.post(f"{api}/bookings/{booking['id']}/reschedule", json=later, headers=customer, timeout=10)
    assert moved.status_code == 200, moved.text
    assert [h["action"] for h in moved.json()["history"]][-1] == "rescheduled"

    # The confirmation as a PDF, with the local times and the reference.
    pdf = requests.get(f"{api}/bookings/{booking['id']}/confirmation.pdf", headers=customer, timeout=30)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert booking["reference"] in text and "Asia/Kolkata" in text

    # Cancelled two months ahead: the first tier, everything back, to the wallet (the hall's default).
    wallet_before = requests.get(f"{api}/wallet", headers=customer, timeout=10).json()
    cancelled = requests.post(f"{api}/bookings/{booking['id']}/cancel", json={}, headers=customer, timeout=10)
    assert cancelled.status_code == 200, cancelled.text

    def inr(wallet: dict[str, Any]) -> int:
        return sum(b["balance"] for b in wallet["balances"] if b["currency"] == "INR")

    refunded = until(
        lambda: (
            (w := requests.get(f"{api}/wallet", headers=customer, timeout=10).json())
            and inr(w) > inr(wallet_before)
            and w
        )
    )
    assert inr(refunded) - inr(wallet_before) == payment["amount"]

    # Top the wallet up; the provider's event credits it once.
    topped = requests.post(
        f"{api}/wallet/top-ups", json={"amount": 50_000, "currency": "INR"}, headers=customer, timeout=10
    )
    assert topped.status_code == 201, topped.text
    top_up_id = topped.json()["topUp"]["id"] if "topUp" in topped.json() else topped.json()["id"]
    credited = requests.post(f"{api}/dev/payments/{top_up_id}/succeed", json={}, headers=customer, timeout=10)
    assert credited.status_code == 200, credited.text
    until(lambda: inr(requests.get(f"{api}/wallet", headers=customer, timeout=10).json()) == inr(refunded) + 50_000)

    # Review the event that already took place (the demo data's), and keep the hall as a favourite.
    past = requests.get(f"{api}/bookings", params={"status": "completed"}, headers=customer, timeout=10).json()
    [event] = [b for b in past["bookings"] if b["resourceId"] == hall["id"]]
    review = {"rating": 5, "title": "A wonderful evening", "comment": "Staff and food were excellent."}
    reviewed = requests.post(f"{api}/bookings/{event['id']}/review", json=review, headers=customer, timeout=10)
    assert reviewed.status_code == 201, reviewed.text
    again = requests.post(f"{api}/bookings/{event['id']}/review", json=review, headers=customer, timeout=10)
    assert again.status_code == 409
    listed = requests.get(f"{api}/resources/{hall['id']}/reviews", timeout=10).json()["reviews"]
    assert [r["title"] for r in listed] == ["A wonderful evening"]
    assert requests.get(f"{api}/resources/{hall['id']}", timeout=10).json()["rating"] == {"average": 5, "count": 1}
    saved = requests.put(f"{api}/users/me/favourites/{hall['id']}", headers=customer, timeout=10)
    assert saved.status_code == 201, saved.text
    favourites = requests.get(f"{api}/users/me/favourites", headers=customer, timeout=10).json()
    assert [f["resourceId"] for f in favourites["favourites"]] == [hall["id"]]


def test_the_airline_desks_journey(runtime: Runtime) -> None:
    api = f"{runtime.base}/api/v1"
    agent, customer, operator = (demo(runtime, role) for role in ("agent", "customer", "vendor"))
    found = requests.get(f"{api}/resources", params={"origin": "LHR", "destination": "JFK"}, timeout=10).json()
    economy = next(r for r in found["resources"] if r["name"] == "Economy")
    departure = datetime.fromisoformat(economy["policy"]["fixedStart"])
    day: date = departure.astimezone(ZoneInfo("Europe/London")).date()

    def seats_left() -> int:
        flights = requests.get(
            f"{api}/flights", params={"origin": "LHR", "destination": "JFK", "date": day.isoformat()}, timeout=10
        )
        assert flights.status_code == 200, flights.text
        # After the delay, economy leaves two hours after business: two departures of SW101.
        cabins = [c | {"flight": f["flightNumber"]} for f in flights.json()["flights"] for c in f["cabins"]]
        [cabin] = [c for c in cabins if c["resourceId"] == economy["id"]]
        assert cabin["flight"] == "SW101"
        return int(cabin["seatsLeft"])

    before = seats_left()
    me = requests.get(f"{api}/users/me", headers=customer, timeout=10).json()
    made = requests.post(
        f"{api}/bookings",
        json={"resourceId": economy["id"], "quantity": 2, "customerId": me["id"]},
        headers=agent,
        timeout=10,
    )
    assert made.status_code == 201, made.text
    booking = made.json()
    assert len(booking["reference"]) == 6 and seats_left() == before - 2
    pnr = requests.get(f"{api}/bookings/by-reference/{booking['reference']}", headers=customer, timeout=10)
    assert pnr.status_code == 200 and pnr.json()["id"] == booking["id"]

    async def delay_and_listen() -> list[dict[str, Any]]:
        bearer = customer["Authorization"].removeprefix("Bearer ")
        async with connect(f"{runtime.ws}?token={bearer}") as socket:
            delayed = departure + timedelta(hours=2)
            body = {
                "fixedStart": delayed.isoformat(),
                "fixedEnd": (datetime.fromisoformat(economy["policy"]["fixedEnd"]) + timedelta(hours=2)).isoformat(),
                "reason": "Late inbound aircraft",
            }
            changed = await asyncio.to_thread(
                requests.post,
                f"{api}/resources/{economy['id']}/schedule-change",
                json=body,
                headers=operator,
                timeout=30,
            )
            assert changed.status_code == 200, changed.text
            assert changed.json()["scheduleChange"]["status"] == "done"
            heard: list[dict[str, Any]] = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    message = json.loads(await asyncio.wait_for(socket.recv(), deadline - time.monotonic()))
                except TimeoutError:
                    break
                heard.append(message)
                if message["type"] == "booking.schedule_changed":
                    break
            return heard

    heard = asyncio.run(delay_and_listen())
    live = [m for m in heard if m["type"] == "booking.schedule_changed"]
    assert live and live[0]["data"]["id"] == booking["id"], heard
    moved = requests.get(f"{api}/bookings/{booking['id']}", headers=customer, timeout=10).json()
    assert datetime.fromisoformat(moved["startTime"]) == departure + timedelta(hours=2)
    assert moved["fullRefundUntil"] is not None

    def notices() -> list[dict[str, Any]]:
        page = requests.get(f"{api}/notifications", headers=customer, timeout=10).json()["notifications"]
        return [n for n in page if n["eventType"] == "booking.schedule_changed" and n.get("bookingId") == booking["id"]]

    until(notices)
    time.sleep(1.0)  # any duplicate would have arrived by now
    assert len(notices()) == 1

    cancelled = requests.post(f"{api}/bookings/{booking['id']}/cancel", json={}, headers=customer, timeout=10)
    assert cancelled.status_code == 200, cancelled.text
    assert seats_left() == before
