"""An advisor's day in the console: a client's request (made through the API, as the client's app would) waits in
the advisor's bookings; the advisor accepts it, starts the session, answers the client's message and completes it.
The vendor lists the advisor on a resource of its own (as the marketplace does) with no notice, so the session can
start at once (from 15 minutes before)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.console import sign_in
from tests.e2e.journey import demo, demo_advisory_venue
from tests.e2e.runtime import Runtime

EVERY_DAY = {day: [{"start": "00:00", "end": "24:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _session_request(runtime: Runtime) -> dict[str, str]:
    """A resource the demo advisor is (decided by them), and a client's 30-minute request at the next quarter hour."""
    api = f"{runtime.base}/api/v1"
    created = requests.post(
        f"{api}/resources",
        json={
            "venueId": demo_advisory_venue(runtime)["id"],
            "name": "Dana Whitfield, quick questions",
            "type": "advisor",
            "capacity": 1,
            "attributes": {"advisorUserId": "demo-advisor", "expertise": "tax", "languages": "en"},
            "policy": {
                "unit": "minutes",
                "granuleMinutes": 15,
                "minUnits": 1,
                "maxUnits": 4,
                "minNoticeMinutes": 0,
                "confirmation": "approval",
                "openingHours": EVERY_DAY,
            },
            "pricing": {"currency": "USD", "unitPrice": 0},
        },
        headers=demo(runtime, "vendor"),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    start = datetime.fromtimestamp(math.ceil((datetime.now(UTC).timestamp() + 60) / 900) * 900, UTC)
    requested = requests.post(
        f"{api}/bookings",
        json={
            "resourceId": created.json()["id"],
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(minutes=30)).isoformat(),
        },
        headers=demo(runtime, "customer"),
        timeout=10,
    )
    assert requested.status_code == 201, requested.text
    booking: dict[str, str] = requested.json()
    assert booking["status"] == "awaiting_approval"
    return booking


def test_an_advisor_accepts_a_request_runs_the_session_and_answers_the_client(
    page: Page, runtime: Runtime, screenshot: Screenshot
) -> None:
    booking = _session_request(runtime)
    reference = booking["reference"]

    sign_in(page, "advisor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bookings").click()
    page.get_by_label("Status").select_option("awaiting_approval")
    page.get_by_role("button", name="Filter").click()
    row = page.locator(f'tr[data-booking-id="{booking["id"]}"]')
    # An advisor decides: accept, reject or cancel; never a check-in or a no-show.
    expect(row.get_by_role("button")).to_have_text(
        [re.compile("^Confirm"), re.compile("^Reject"), re.compile("^Cancel")]
    )
    screenshot("requests")
    row.get_by_role("button", name=f"Confirm {reference}").click()
    page.get_by_role("form", name=f"Confirm {reference}").get_by_role("button", name=re.compile("^Confirm")).click()
    expect(row.locator(".badge")).to_have_text("confirmed")

    row.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=f"Booking {reference}")).to_be_visible()
    # The advisor sees the session and its messages, not the vendor's payments.
    expect(page.get_by_role("heading", name="Payment and refunds")).to_have_count(0)
    expect(page.get_by_role("link", name="Its calendar")).to_have_count(0)
    page.get_by_role("button", name="Start session").click()
    expect(page.locator(".facts .badge")).to_have_text("in progress")

    said = requests.post(
        f"{runtime.base}/api/v1/bookings/{booking['id']}/messages",
        json={"text": "Here is my question about the pension form."},
        headers=demo(runtime, "customer"),
        timeout=10,
    )
    assert said.status_code == 201, said.text
    thread = page.get_by_role("list", name="Messages, oldest first")
    expect(thread).to_contain_text("Here is my question about the pension form.")  # read again every 5 s
    page.get_by_role("textbox", name="Message").fill("Happy to help: let's start with box 4.")
    page.get_by_role("button", name="Send").click()
    expect(thread.get_by_role("listitem")).to_have_count(2)
    expect(thread.get_by_role("listitem").last).to_contain_text("Happy to help")

    page.get_by_role("button", name="Complete session").click()
    expect(page.locator(".facts .badge")).to_have_text("completed")
    screenshot("session-completed")

    # The client reads the advisor's answer through the API: one thread for both.
    answer = requests.get(
        f"{runtime.base}/api/v1/bookings/{booking['id']}/messages", headers=demo(runtime, "customer"), timeout=10
    ).json()
    assert [m["authorRole"] for m in answer["messages"]] == ["customer", "advisor"]
