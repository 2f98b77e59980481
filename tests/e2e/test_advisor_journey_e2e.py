"""The advisor marketplace's journey, end to end on the local runtime (`make dev`'s demo data, over HTTP):

an advisor registers and an admin approves them; the vendor lists them as a bookable person; the advisor sets
their own hours; a client finds them in the directory and requests a session; the advisor accepts; the client pays
(the simulated provider); the session starts, they exchange messages, the advisor completes it; the client rates
it; the advisor's revenue report shows the money.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.journey import demo, demo_advisory_venue, sign_in, until
from tests.e2e.runtime import Runtime, running

pytestmark = pytest.mark.e2e

PASSWORD = "Advisor-journey-42"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(tmp_path_factory.mktemp("advisor-runtime")) as started:
        yield started


def test_the_advisor_marketplaces_journey(runtime: Runtime) -> None:
    api = f"{runtime.base}/api/v1"
    admin, vendor, client = demo(runtime, "admin"), demo(runtime, "vendor"), demo(runtime, "customer")

    # An advisor registers; until an admin approves them they are not listed.
    registered = requests.post(
        f"{api}/auth/register",
        json={"email": "rosa@advisors.test", "password": PASSWORD, "name": "Rosa Lima", "role": "advisor"},
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    advisor_id = registered.json()["user"]["id"]
    approved = requests.post(f"{api}/admin/users/{advisor_id}/approve", json={}, headers=admin, timeout=10)
    assert approved.status_code == 200, approved.text
    advisor = sign_in(runtime, "rosa@advisors.test", PASSWORD)

    # The marketplace (the demo vendor) lists Rosa as a bookable person in its New York venue.
    northstar = demo_advisory_venue(runtime)
    created = requests.post(
        f"{api}/resources",
        json={
            "venueId": northstar["id"],
            "name": "Rosa Lima, pensions advisor",
            "type": "advisor",
            "capacity": 1,
            "attributes": {
                "advisorUserId": advisor_id,
                "headline": "Pensions and retirement plans",
                "expertise": "pensions, retirement",
                "languages": "en, pt",
            },
            "policy": {
                "unit": "minutes",
                "granuleMinutes": 15,
                "minUnits": 2,
                "maxUnits": 8,
                "confirmation": "approval_then_payment",
                "approvalTtlHours": 48,
                "paymentDueMinutes": 60,
            },
            "pricing": {"currency": "USD", "unitPrice": 2500},
        },
        headers=vendor,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    resource = created.json()

    # Rosa sets her own hours (around the clock today for the test; closed on a holiday) — nothing else.
    every_day = {day: [{"start": "00:00", "end": "24:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    holiday = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    hours = requests.put(
        f"{api}/resources/{resource['id']}/availability",
        json={"openingHours": every_day, "dateOverrides": [], "blackoutDates": [holiday]},
        headers=advisor,
        timeout=10,
    )
    assert hours.status_code == 200, hours.text
    assert hours.json()["resource"]["policy"]["blackoutDates"] == [holiday]

    # The client finds her in the directory by expertise and language.
    found = requests.get(f"{api}/advisors", params={"expertise": "pensions", "language": "pt"}, timeout=10)
    assert found.status_code == 200, found.text
    listed = [a for a in found.json()["advisors"] if a["advisorId"] == advisor_id]
    assert listed and listed[0]["name"] == "Rosa Lima"

    # A 30-minute session at the next quarter hour (so that it may start at once: from 15 minutes before).
    now = datetime.now(UTC)
    start = datetime.fromtimestamp(math.ceil((now.timestamp() + 60) / 900) * 900, UTC)
    request = requests.post(
        f"{api}/bookings",
        json={
            "resourceId": resource["id"],
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(minutes=30)).isoformat(),
        },
        headers=client,
        timeout=10,
    )
    assert request.status_code == 201, request.text
    booking = request.json()
    assert booking["status"] == "awaiting_approval" and booking["price"]["amount"] == 5000

    # Rosa sees it in her own list without naming a resource, and accepts: it is held for payment.
    mine = requests.get(f"{api}/bookings", params={"status": "awaiting_approval"}, headers=advisor, timeout=10)
    assert booking["id"] in [b["id"] for b in mine.json()["bookings"]]
    accepted = requests.post(f"{api}/bookings/{booking['id']}/confirm", json={}, headers=advisor, timeout=10)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "held"

    # The client pays; the simulated provider's webhook confirms it, and Rosa is told she was paid.
    paid = requests.post(f"{api}/bookings/{booking['id']}/payment", json={}, headers=client, timeout=10)
    assert paid.status_code == 201, paid.text
    payment = paid.json()["payment"]
    succeeded = requests.post(f"{api}/dev/payments/{payment['id']}/succeed", json={}, headers=client, timeout=10)
    assert succeeded.status_code == 200, succeeded.text

    def status() -> str:
        return str(requests.get(f"{api}/bookings/{booking['id']}", headers=client, timeout=10).json()["status"])

    until(lambda: status() == "confirmed")

    # The session starts (Rosa), they talk, Rosa completes it.
    def started() -> bool:
        attempt = requests.post(f"{api}/bookings/{booking['id']}/start", json={}, headers=advisor, timeout=10)
        return attempt.status_code == 200

    until(started, seconds=90)
    assert status() == "in_progress"
    said = requests.post(
        f"{api}/bookings/{booking['id']}/messages", json={"text": "Here is my pension statement."}, headers=client
    )
    assert said.status_code == 201, said.text
    answered = requests.post(
        f"{api}/bookings/{booking['id']}/messages", json={"text": "Thanks, let's go through it."}, headers=advisor
    )
    assert answered.status_code == 201, answered.text
    thread = requests.get(f"{api}/bookings/{booking['id']}/messages", headers=advisor, timeout=10).json()
    assert [m["text"] for m in thread["messages"]] == ["Here is my pension statement.", "Thanks, let's go through it."]
    stranger = requests.get(f"{api}/bookings/{booking['id']}/messages", headers=demo(runtime, "agent"), timeout=10)
    assert stranger.status_code == 404

    completed = requests.post(f"{api}/bookings/{booking['id']}/complete", json={}, headers=advisor, timeout=10)
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "completed"

    # Rosa heard of the payment and of the message, in-app.
    def advisor_heard() -> set[str]:
        listed = requests.get(f"{api}/notifications", headers=advisor, timeout=10).json()["notifications"]
        return {n["title"].split(":")[0] for n in listed if booking["reference"] in n["title"]}

    until(lambda: {"Booking paid", "New message"} <= advisor_heard())

    # The client rates the session; it shows on her directory entry.
    review = requests.post(
        f"{api}/bookings/{booking['id']}/review", json={"rating": 5, "comment": "Clear and kind."}, headers=client
    )
    assert review.status_code == 201, review.text
    profile = requests.get(f"{api}/advisors/{advisor_id}", timeout=10).json()
    assert profile["rating"] == {"average": 5.0, "count": 1}

    # Her revenue report shows the session's money (kept from the event stream).
    local_day = start.astimezone(ZoneInfo(northstar["timezone"])).date()
    span = {"from": (local_day - timedelta(days=1)).isoformat(), "to": (local_day + timedelta(days=1)).isoformat()}

    def revenue() -> dict[str, Any] | None:
        report = requests.get(f"{api}/reports/revenue", params={**span, "groupBy": "advisor"}, headers=advisor)
        assert report.status_code == 200, report.text
        totals = [t for t in report.json()["totals"] if t["currency"] == "USD"]
        # Money and counts arrive with different events (the payment, the booking's changes): wait for all three.
        return totals[0] if totals and (totals[0]["gross"], totals[0]["bookings"]) == (5000, 1) else None

    totals = until(revenue)
    assert (totals["gross"], totals["net"], totals["bookings"]) == (5000, 5000, 1)
