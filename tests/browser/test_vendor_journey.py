"""A vendor's day in the console: create a resource, watch a customer's booking (made through the API, as the
customer's own app would) appear on its calendar without reloading, open it, and cancel it."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.console import sign_in
from tests.e2e.journey import demo
from tests.e2e.runtime import Runtime

VENUE = "Canal Street Offices"  # the demo vendor's meeting rooms, in Europe/Amsterdam
ZONE = ZoneInfo("Europe/Amsterdam")


def test_a_vendor_creates_a_resource_and_sees_a_customers_booking_on_its_calendar(
    page: Page, runtime: Runtime, screenshot: Screenshot
) -> None:
    sign_in(page, "vendor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Venues").click()
    venue = page.get_by_role("article", name=VENUE)
    venue.get_by_role("link", name="New resource").click()

    name = f"Focus booth {uuid.uuid4().hex[:6]}"
    form = page.get_by_role("form", name="Resource")
    expect(form.get_by_label("Venue")).to_have_value(re.compile(".+"))
    form.get_by_label("Name").fill(name)
    form.get_by_label("Type").select_option("meeting_room")
    form.get_by_label("Capacity").fill("2")
    form.get_by_label("Booked by").select_option("minutes")
    form.get_by_label("Slot length (minutes)").fill("60")
    form.get_by_label("Confirmation").select_option("auto")
    form.get_by_label("Currency").fill("EUR")
    form.get_by_label("Price per slot").fill("30.00")
    screenshot("new-resource")
    form.get_by_role("button", name="Create resource").click()

    # The editor of the new resource: its id is in the address, its hours and add-ons can now be set.
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    resource_id = page.url.split("#/resources/")[1]
    expect(page.get_by_role("heading", name="Opening hours")).to_be_visible()
    expect(page.get_by_role("heading", name="Add-ons")).to_be_visible()

    # The calendar of tomorrow (Amsterdam's), empty for now.
    tomorrow = (datetime.now(ZONE) + timedelta(days=1)).date()
    page.get_by_role("link", name="Open its calendar").click()
    expect(page.get_by_role("heading", level=1, name=f"Calendar: {name}")).to_be_visible()
    page.get_by_label("View").select_option("day")
    page.get_by_label("Date").fill(tomorrow.isoformat())
    expect(page.get_by_text(f"Times in {ZONE.key}. Capacity 2. 0 confirmed, 0 on hold in view.")).to_be_visible()

    # A customer books tomorrow 10:00 to 11:00 there, through the API.
    booking = _book(runtime, resource_id, tomorrow)
    entry = page.locator(f'.calendar [data-booking-id="{booking["id"]}"]')
    expect(entry).to_be_visible(timeout=30_000)  # the calendar re-reads the bookings on its own
    expect(entry).to_contain_text(booking["reference"])
    expect(entry).to_contain_text("10:00")
    expect(entry).to_have_class(re.compile(r"\bconfirmed\b"))
    expect(page.locator('.calendar [data-hour="10:00"]').get_by_role("img", name="1 of 2 taken")).to_be_visible()
    screenshot("calendar-with-booking")

    # Its page offers what a confirmed booking allows (not confirm or reject), and cancelling it frees the slot.
    entry.click()
    expect(page.get_by_role("heading", level=1, name=f"Booking {booking['reference']}")).to_be_visible()
    actions = page.get_by_role("group", name=f"Actions for {booking['reference']}")
    expect(actions.get_by_role("button")).to_have_text(["Cancel", "Check in", "No-show"])
    actions.get_by_role("button", name="Cancel").click()
    page.get_by_label("Reason").fill("The room is being repainted")
    page.get_by_role("button", name=f"Cancel {booking['reference']}").click()
    expect(page.locator(".facts .badge").first).to_have_text("cancelled")
    screenshot("booking-cancelled")

    page.get_by_role("link", name="Its calendar").click()
    expect(page.get_by_text(f"Times in {ZONE.key}. Capacity 2.")).to_be_visible()
    expect(page.locator(f'.calendar [data-booking-id="{booking["id"]}"]')).to_have_count(0)


def _book(runtime: Runtime, resource_id: str, day: date) -> dict[str, str]:
    start = datetime.combine(day, datetime.min.time(), ZONE).replace(hour=10)
    made = requests.post(
        f"{runtime.base}/api/v1/bookings",
        json={
            "resourceId": resource_id,
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(hours=1)).isoformat(),
        },
        headers={**demo(runtime, "customer"), "Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "confirmed"
    return {"id": made.json()["id"], "reference": made.json()["reference"]}
