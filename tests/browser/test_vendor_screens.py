"""The vendor's other screens against the local runtime: hours and add-ons of a resource, a request on hold
confirmed from the bookings list (and redrawn as confirmed on the calendar), the reports, the session's background
refresh, and the navigation at phone width."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.console import sign_in
from tests.e2e.journey import demo, until
from tests.e2e.runtime import Runtime

ZONE = ZoneInfo("Europe/Amsterdam")


def _resource(runtime: Runtime, confirmation: str) -> dict[str, Any]:
    """A meeting room of the demo vendor's Amsterdam venue, made through the API (this file tests other screens)."""
    vendor = demo(runtime, "vendor")
    venues = requests.get(f"{runtime.base}/api/v1/venues", params={"mine": "true"}, headers=vendor, timeout=30)
    venue = next(v for v in venues.json()["venues"] if v["timezone"] == ZONE.key)
    made = requests.post(
        f"{runtime.base}/api/v1/resources",
        json={
            "venueId": venue["id"],
            "name": f"Room {uuid.uuid4().hex[:6]}",
            "type": "meeting_room",
            "capacity": 1,
            "pricing": {"currency": "EUR", "unitPrice": 2500},
            "policy": {"unit": "minutes", "granuleMinutes": 60, "confirmation": confirmation},
        },
        headers=vendor,
        timeout=30,
    )
    assert made.status_code == 201, made.text
    resource: dict[str, Any] = made.json()
    return resource


def _request_booking(runtime: Runtime, resource_id: str) -> dict[str, Any]:
    start = datetime.combine((datetime.now(ZONE) + timedelta(days=2)).date(), datetime.min.time(), ZONE)
    start = start.replace(hour=14)
    made = requests.post(
        f"{runtime.base}/api/v1/bookings",
        json={
            "resourceId": resource_id,
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(hours=2)).isoformat(),
        },
        headers={**demo(runtime, "customer"), "Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    assert made.status_code == 201, made.text
    booking: dict[str, Any] = made.json()
    return booking


def test_hours_and_add_ons_are_edited_on_the_resource(page: Page, runtime: Runtime, screenshot: Screenshot) -> None:
    resource = _resource(runtime, "auto")
    sign_in(page, "vendor")
    page.goto(f"{runtime.base}/console/#/resources/{resource['id']}")
    expect(page.get_by_role("heading", level=1, name=resource["name"])).to_be_visible()

    hours = page.get_by_role("form", name="Opening hours")
    hours.get_by_label("Open around the clock").uncheck()
    for day in ("Saturday", "Sunday"):
        hours.get_by_label(f"Open on {day}").uncheck()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        hours.get_by_label(f"Open on {day}").check()
        hours.get_by_label(f"{day} opens").fill("08:30")
        hours.get_by_label(f"{day} closes").fill("18:00")
    hours.get_by_role("button", name="Save hours").click()
    expect(page.get_by_text("Hours saved. No future booking falls outside them.")).to_be_visible()
    saved = requests.get(f"{runtime.base}/api/v1/resources/{resource['id']}", timeout=30).json()
    assert saved["policy"]["openingHours"]["mon"] == [{"start": "08:30", "end": "18:00"}]
    assert saved["policy"]["openingHours"]["sat"] == []

    addons = page.get_by_role("region", name="Add-ons")
    addons.get_by_label("Add-on name").fill("Projector")
    addons.get_by_label("Add-on price (EUR)").fill("5.00")
    addons.get_by_role("button", name="Add add-on").click()
    row = addons.get_by_role("row").filter(has_text="Projector")
    expect(row).to_contain_text("€5.00")
    row.get_by_role("button", name="Edit Projector").click()
    editing = addons.get_by_role("form", name="Edit Projector")
    editing.get_by_label("Add-on price (EUR)").fill("7.50")
    editing.get_by_role("button", name="Save add-on").click()
    expect(addons.get_by_role("row").filter(has_text="Projector")).to_contain_text("€7.50")
    screenshot("hours-and-add-ons")
    addons.get_by_role("button", name="Archive Projector").click()
    expect(addons.get_by_role("row").filter(has_text="Projector")).to_contain_text("archived")

    # The customer's refund tiers, a cancellation fee and a blackout date, saved with the hours kept.
    form = page.get_by_role("form", name="Resource")
    defaults = form.get_by_role("group", name=re.compile("^Refund tier"))
    expect(defaults.first).to_be_visible()  # the policy's default tiers, as the API made them
    for _ in range(defaults.count()):
        form.get_by_role("button", name="Remove tier 1").click()
    expect(defaults).to_have_count(0)
    form.get_by_role("button", name="Add refund tier").click()
    form.get_by_role("button", name="Add refund tier").click()
    second = form.get_by_role("group", name="Refund tier 2")
    second.get_by_label("At least (hours before)").fill("2")
    second.get_by_label("Refund (%)").fill("50")
    form.get_by_label("Cancellation fee (EUR)").fill("1.50")
    form.get_by_label("Blackout dates").fill("2030-12-25")
    form.get_by_role("button", name="Save resource").click()
    expect(page.get_by_role("status").filter(has_text=re.compile(r"^Saved\.$"))).to_be_visible()
    policy = requests.get(f"{runtime.base}/api/v1/resources/{resource['id']}", timeout=30).json()["policy"]
    assert policy["cancellation"]["tiers"] == [
        {"minHoursBefore": 24, "percent": 100},
        {"minHoursBefore": 2, "percent": 50},
    ]
    assert policy["cancellation"]["fee"] == 150
    assert policy["blackoutDates"] == ["2030-12-25"]
    assert policy["openingHours"]["mon"] == [{"start": "08:30", "end": "18:00"}]

    # A price that is not an amount is refused before any call, in the alert region.
    form = page.get_by_role("form", name="Resource")
    form.get_by_label("Price per slot").fill("twelve")
    form.get_by_role("button", name="Save resource").click()
    expect(form.get_by_role("alert")).to_contain_text("The price must be an amount in EUR")


def test_a_request_on_hold_is_confirmed_from_the_list_and_turns_solid_on_the_calendar(
    page: Page, runtime: Runtime, screenshot: Screenshot
) -> None:
    resource = _resource(runtime, "approval")
    booking = _request_booking(runtime, resource["id"])
    assert booking["status"] == "awaiting_approval"
    day = booking["startTime"][:10]

    sign_in(page, "vendor")
    page.goto(f"{runtime.base}/console/#/calendar?resourceId={resource['id']}&view=week&date={day}")
    entry = page.locator(f'.calendar [data-booking-id="{booking["id"]}"]')
    expect(entry).to_have_class(re.compile(r"\bhold\b"))
    expect(entry).to_contain_text("hold (awaiting approval)")
    expect(page.locator(f'.calendar [data-day="{day}"][data-hour="15:00"]').get_by_role("img")).to_have_attribute(
        "aria-label", "1 of 1 taken"
    )
    screenshot("calendar-hold")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bookings").click()
    page.get_by_label("Status").select_option("awaiting_approval")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=awaiting_approval"))
    row = page.locator(f'tr[data-booking-id="{booking["id"]}"]')
    expect(row).to_be_visible()
    # A range that ends the day before leaves it out; one that ends on its day (inclusive) has it.
    before = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
    page.get_by_label("From").fill(before)
    page.get_by_label("To").fill(before)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(f"to={before}"))
    expect(row).to_have_count(0)
    page.get_by_label("To").fill(day)
    page.get_by_role("button", name="Filter").click()
    expect(row).to_contain_text("awaiting approval")
    expect(row.get_by_role("button")).to_have_text(
        [re.compile("^Confirm"), re.compile("^Reject"), re.compile("^Cancel")]
    )
    row.get_by_role("button", name=f"Confirm {booking['reference']}").click()
    page.get_by_role("form", name=f"Confirm {booking['reference']}").get_by_role(
        "button", name=re.compile("^Confirm")
    ).click()
    expect(row.locator(".badge")).to_have_text("confirmed")
    screenshot("bookings-confirmed")

    page.goto(f"{runtime.base}/console/#/calendar?resourceId={resource['id']}&view=week&date={day}")
    expect(page.locator(f'.calendar [data-booking-id="{booking["id"]}"]')).to_have_class(re.compile(r"\bconfirmed\b"))

    # The venue's view: a row per resource, the booking in its resource's row on its day.
    page.get_by_label("Resource").select_option(f"venue:{resource['venueId']}")
    cell = page.locator(f'.calendar [data-resource-id="{resource["id"]}"][data-day="{day}"]')
    expect(cell.locator(f'[data-booking-id="{booking["id"]}"]')).to_have_class(re.compile(r"\bconfirmed\b"))
    expect(page.get_by_role("link", name=resource["name"])).to_be_visible()
    screenshot("venue-calendar")


def test_the_reports_show_occupancy_and_revenue(page: Page, runtime: Runtime, screenshot: Screenshot) -> None:
    sign_in(page, "vendor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    occupancy = page.get_by_role("region", name="Occupancy")
    expect(occupancy.locator("figure").first).to_be_visible()
    expect(occupancy.locator("svg[role=img]").first).to_have_attribute("aria-label", re.compile(r"\d+ %"))
    expect(page.get_by_role("region", name="Revenue")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshot("reports")


def test_the_session_refreshes_its_tokens_in_the_background(page: Page) -> None:
    sign_in(page, "vendor")
    key = "slotwise.console.session"
    first = page.evaluate(f"JSON.parse(sessionStorage.getItem('{key}'))")
    # Pretend the access token expires in 61 s: the console refreshes a minute ahead, so within seconds.
    page.evaluate(
        f"(() => {{ const s = JSON.parse(sessionStorage.getItem('{key}')); s.expiresAt = Date.now() + 61000;"
        f" sessionStorage.setItem('{key}', JSON.stringify(s)); }})()"
    )
    page.reload()
    page.wait_for_function(
        f"JSON.parse(sessionStorage.getItem('{key}') || 'null')?.refreshToken !== {first['refreshToken']!r}",
        timeout=20_000,
    )
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bookings").click()
    expect(page.get_by_role("heading", level=1, name="Bookings")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_a_refused_token_is_refreshed_and_the_call_retried_once(page: Page) -> None:
    sign_in(page, "vendor")
    key = "slotwise.console.session"
    first = page.evaluate(f"JSON.parse(sessionStorage.getItem('{key}'))")
    # An access token the API refuses (as after a laptop slept past its expiry) with a valid refresh token.
    page.evaluate(
        f"(() => {{ const s = JSON.parse(sessionStorage.getItem('{key}')); s.accessToken = 'expired.token.here';"
        f" sessionStorage.setItem('{key}', JSON.stringify(s)); }})()"
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bookings").click()
    page.wait_for_function(
        f"JSON.parse(sessionStorage.getItem('{key}') || 'null')?.refreshToken !== {first['refreshToken']!r}",
        timeout=20_000,
    )
    # The list came (the retried call), not an error.
    expect(page.locator("main table, main p:has-text('No bookings match.')").first).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    assert page.evaluate(f"JSON.parse(sessionStorage.getItem('{key}')).accessToken") != "expired.token.here"

    # A revoked session (the refresh token refused too) ends on the sign-in form, not in a screen of errors.
    page.evaluate(
        f"(() => {{ const s = JSON.parse(sessionStorage.getItem('{key}')); s.accessToken = 'expired.token.here';"
        f" s.refreshToken = 'revoked'; sessionStorage.setItem('{key}', JSON.stringify(s)); }})()"
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Venues").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{key}')") is None


def test_the_console_works_at_phone_width(page: Page, screenshot: Screenshot) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "vendor")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(navigation.get_by_role("link", name="Calendar")).to_be_visible()
    navigation.get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("^Calendar"))).to_be_visible()
    expect(navigation).to_be_hidden()  # the menu folds again on the new screen
    expect(page.locator(".calendar")).to_be_visible()
    # The week's grid scrolls inside its own box; the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot("phone-calendar")


def test_staff_see_the_hostels_nights(page: Page, screenshot: Screenshot) -> None:
    sign_in(page, "staff")
    navigation = page.get_by_role("navigation", name="Main")
    for screen in ("Calendar", "Bookings", "Venues", "Reports"):
        expect(navigation.get_by_role("link", name=screen, exact=True)).to_be_visible()
    navigation.get_by_role("link", name="Calendar").click()
    page.get_by_label("Resource").select_option(label="Private double")
    expect(page.get_by_role("heading", level=1, name="Calendar: Private double")).to_be_visible()
    # A nightly resource: a cell per night of the week, each with its rooms sold out of the capacity.
    expect(page.locator(".calendar .head").filter(has_text="Night of")).to_have_count(7)
    expect(page.locator(".calendar").get_by_role("img", name=re.compile(r"^\d+ of 1 taken$"))).to_have_count(7)
    expect(page.get_by_text("Times in Europe/Lisbon.")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshot("staff-nights")


def test_a_paid_booking_shows_its_payment_and_the_refund_after_the_vendor_cancels(
    page: Page, runtime: Runtime, screenshot: Screenshot
) -> None:
    resource = _resource(runtime, "payment")
    booking = _request_booking(runtime, resource["id"])
    customer = demo(runtime, "customer")
    paying = requests.post(
        f"{runtime.base}/api/v1/bookings/{booking['id']}/payment", json={}, headers=customer, timeout=30
    )
    assert paying.status_code == 201, paying.text
    payment_id = paying.json()["payment"]["id"]
    succeeded = requests.post(
        f"{runtime.base}/api/v1/dev/payments/{payment_id}/succeed", json={}, headers=customer, timeout=30
    )
    assert succeeded.status_code == 200, succeeded.text
    until(
        lambda: (
            requests.get(f"{runtime.base}/api/v1/bookings/{booking['id']}", headers=customer, timeout=10).json()[
                "status"
            ]
            == "confirmed"
        )
    )

    sign_in(page, "vendor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payments").click()
    row = page.locator(f'tr[data-payment-id="{payment_id}"]')
    expect(row).to_contain_text(booking["reference"])
    expect(row).to_contain_text("succeeded")
    expect(row).to_contain_text("€50.00")  # two hours at €25.00
    screenshot("payments")

    row.get_by_role("link", name=booking["reference"]).click()
    payment = page.get_by_role("region", name="Payment and refunds")
    expect(payment).to_contain_text("Paid€50.00")
    actions = page.get_by_role("group", name=f"Actions for {booking['reference']}")
    actions.get_by_role("button", name="Cancel").click()
    page.get_by_label("Refund to").select_option("card")
    page.get_by_role("button", name=f"Cancel {booking['reference']}").click()
    expect(page.locator(".facts .badge").first).to_have_text("cancelled")
    # A vendor's cancellation refunds everything paid: the refund is listed with the payment.
    refunds = payment.get_by_role("table", name="Refunds")
    expect(refunds.get_by_role("row").filter(has_text="€50.00")).to_contain_text("card")
    screenshot("refunded")


def test_a_venue_is_created_refused_with_the_apis_reason_and_edited(page: Page, screenshot: Screenshot) -> None:
    sign_in(page, "vendor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Venues").click()
    page.get_by_role("button", name="New venue").click()
    form = page.get_by_role("form", name="New venue")
    name = f"Riverside Loft {uuid.uuid4().hex[:6]}"
    form.get_by_label("Venue name").fill(name)
    form.get_by_label("City").fill("Porto")
    form.get_by_label("Country").fill("pt")
    form.get_by_label("Timezone").fill("Mars/Olympus_Mons")
    form.get_by_role("button", name="Create venue").click()
    # The API refuses the zone; its problem+json is the message, and nothing was created.
    expect(form.get_by_role("alert")).to_contain_text(re.compile("timezone", re.IGNORECASE))
    screenshot("venue-refused")
    form.get_by_label("Timezone").fill("Europe/Lisbon")
    form.get_by_role("button", name="Create venue").click()

    venue = page.get_by_role("article", name=name)
    expect(venue).to_contain_text("Porto, PT · Europe/Lisbon")
    expect(venue).to_contain_text("No resources yet.")
    venue.get_by_role("button", name="Edit venue").click()
    editing = page.get_by_role("form", name="Edit venue")
    editing.get_by_label("City").fill("Braga")
    editing.get_by_role("button", name="Save venue").click()
    expect(venue).to_contain_text("Braga, PT · Europe/Lisbon")
    expect(page.get_by_role("form", name="Edit venue")).to_have_count(0)
