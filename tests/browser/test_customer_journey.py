"""A customer's day in the console: search, the availability grid, a quote, booking, paying with the simulated
provider (the local runtime's payment outcome switch), the booking confirmed in "My bookings", its confirmation
e-mail with the `.ics` in the outbox viewer, and cancelling with the refund shown first."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.patient import shooter, sign_in, signed_in_page
from tests.e2e.runtime import Runtime

EN_DASH = "\u2013"  # how the console writes a time range (ui/time.ts formatRange)
PAYMENT_SECONDS = 45_000
# The local runtime trusts identity headers (SLOTWISE_TRUST_IDENTITY_HEADERS): API calls made by the tests
# themselves use them, leaving the sign-in throttle's budget to the console's own sign-ins.
CUSTOMER = {"x-slotwise-user-id": "demo-customer", "x-slotwise-role": "customer"}
AGENT = {
    "x-slotwise-user-id": "demo-agent",
    "x-slotwise-role": "agent",
}  # the webhook goes through the queue and the processor before the booking is confirmed


@pytest.fixture(scope="module")
def signed_in(browser: Browser, runtime: Runtime) -> Iterator[Page]:
    """The demo customer, signed in once for this module's tests (the suite's sign-ins share one throttle)."""
    with signed_in_page(browser, runtime, "customer") as page:
        yield page


@pytest.fixture
def customer(signed_in: Page, runtime: Runtime) -> Page:
    signed_in.set_viewport_size({"width": 1280, "height": 860})
    signed_in.goto(f"{runtime.base}/console/#/")
    expect(signed_in.locator(".role")).to_have_text("customer")
    return signed_in


@pytest.fixture
def snap(customer: Page, request: pytest.FixtureRequest) -> Screenshot:
    return shooter(customer, request)


def _main_link(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


def _book_first_free_night(page: Page, screenshot: Screenshot) -> str:
    """From the search screen: Lisbon's private double, its first free night, priced, booked; its reference."""
    _main_link(page, "Search").click()
    page.get_by_label("City").fill("Lisbon")
    page.get_by_role("button", name="Search", exact=True).click()
    results = page.get_by_role("list", name="Places found")
    expect(results.get_by_role("heading", name="Private double")).to_be_visible()
    screenshot("search-results")
    results.get_by_role("link", name="See availability of Private double").click()

    nights = page.get_by_role("list", name="Nights")
    expect(nights.get_by_role("button").first).to_be_visible()
    free = nights.locator("button:enabled")
    expect(free.first).to_contain_text("1 free")
    free.first.click()
    expect(free.first).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Price and terms").click()
    quote = page.locator(".quote")
    expect(quote).to_contain_text("€")
    expect(quote).to_contain_text("confirmed once paid")
    expect(quote).to_contain_text("If you cancel")
    screenshot("availability-and-quote")

    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("heading", name="Booked: Private double")).to_be_visible()
    made = page.get_by_role("status").filter(has_text="Reference")
    expect(made).to_contain_text("held")
    return made.locator("strong").inner_text()


def _open_outbox_mail(page: Page, subject: str, reference: str) -> None:
    """The outbox's newest e-mail with `subject` whose HTML names `reference` (the notifier sends it after the
    booking event has gone through the stream and the queue: refreshed until it is there)."""
    _main_link(page, "Outbox").click()
    deadline = time.monotonic() + 45
    while True:
        links = page.get_by_role("list", name="E-mail, newest first").get_by_role("link", name=re.compile(subject))
        for index in range(links.count()):
            links.nth(index).click()
            frame = page.frame_locator("iframe.mail-html")
            try:
                expect(frame.locator("body")).to_contain_text(reference, timeout=3_000)
                return
            except AssertionError:
                continue
        assert time.monotonic() < deadline, f"no {subject!r} e-mail for {reference} in the outbox"
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(1_000)


def test_a_customer_searches_books_pays_and_finds_the_confirmation(customer: Page, snap: Screenshot) -> None:
    page, screenshot = customer, snap
    navigation = page.get_by_role("navigation", name="Main")
    # The local runtime answers GET /local/outbox, so the viewer is in the navigation.
    expect(navigation.get_by_role("link", name="Outbox")).to_be_visible()
    expect(navigation.get_by_role("link", name="Approvals")).to_have_count(0)  # an admin's screen

    reference = _book_first_free_night(page, screenshot)
    pay = page.locator(".pay")
    pay.get_by_role("button", name=re.compile(r"^Pay €")).click()
    expect(pay).to_contain_text("simulated provider")
    screenshot("pay-with-the-simulated-provider")
    pay.get_by_role("button", name="Payment succeeds").click()
    expect(pay.get_by_text("Paid. The booking is confirmed.")).to_be_visible(timeout=PAYMENT_SECONDS)
    expect(page.get_by_role("status").filter(has_text="Reference")).to_contain_text("confirmed")
    screenshot("paid")

    _main_link(page, "My bookings").click()
    card = page.locator(f"li[data-reference='{reference}']")
    expect(card.locator(".badge")).to_have_text("confirmed")
    expect(card).to_contain_text("payment paid")
    screenshot("my-bookings")

    _open_outbox_mail(page, "Booking confirmed: Private double", reference)
    mail = page.locator("article.mail")
    expect(mail).to_contain_text("customer@demo.slotwise.test")
    ics = mail.get_by_label("booking.ics as text")
    expect(ics).to_contain_text("BEGIN:VCALENDAR")
    expect(ics).to_contain_text("METHOD:REQUEST")
    expect(ics).to_contain_text(reference)
    download = mail.get_by_role("link", name="Download booking.ics")
    with page.expect_download() as started:
        download.click()
    saved = started.value.path().read_text(encoding="utf-8")
    assert "BEGIN:VCALENDAR" in saved and reference in saved
    # The mail's HTML is shown in a frame that runs no script and cannot reach the console.
    expect(page.locator("iframe.mail-html")).to_have_attribute("sandbox", "")
    screenshot("outbox")

    # Cancelling shows what comes back before anything is cancelled.
    _main_link(page, "My bookings").click()
    card = page.locator(f"li[data-reference='{reference}']")
    card.get_by_role("button", name="Cancel…").click()
    offer = card.locator(".cancel")
    expect(offer).to_contain_text(re.compile(r"Cancelling now refunds €[\d.]+ of €[\d.]+ paid"))
    expect(card.locator(".badge")).to_have_text("confirmed")  # still: only the quote so far
    screenshot("cancellation-quote")
    offer.get_by_role("button", name="Confirm cancellation").click()
    expect(card.locator(".badge")).to_have_text("cancelled")
    screenshot("cancelled")


def test_a_declined_card_is_reported(customer: Page, snap: Screenshot) -> None:
    page, screenshot = customer, snap
    _book_first_free_night(page, screenshot)
    pay = page.locator(".pay")
    pay.get_by_role("button", name=re.compile(r"^Pay €")).click()
    pay.get_by_role("button", name="Payment fails").click()
    expect(pay.get_by_text(re.compile(r"The payment failed: card_declined"))).to_be_visible(timeout=PAYMENT_SECONDS)
    screenshot("declined")


def test_a_customer_reschedules_a_meeting_room_booking(customer: Page, runtime: Runtime, snap: Screenshot) -> None:
    """A booking made through the API (an auto-confirmed meeting room) moved an hour later from "My bookings"."""
    rooms = requests.get(f"{runtime.base}/api/v1/resources", params={"type": "meeting_room"}, timeout=10).json()
    body = {
        "resourceId": rooms["resources"][0]["id"],
        "startTime": "2027-06-08T10:00:00+02:00",
        "endTime": "2027-06-08T11:00:00+02:00",
    }
    made = requests.post(f"{runtime.base}/api/v1/bookings", json=body, headers=CUSTOMER, timeout=30)
    assert made.status_code == 201, made.text
    reference = made.json()["reference"]

    page, screenshot = customer, snap
    _main_link(page, "My bookings").click()
    card = page.locator(f"li[data-reference='{reference}']")
    expect(card).to_contain_text(f"10:00{EN_DASH}11:00")  # the room's own zone (Europe/Amsterdam)
    card.get_by_role("button", name="Reschedule").click()
    card.get_by_label(re.compile("^Start")).fill("11:00")
    card.get_by_role("button", name="Move booking").click()
    expect(card).to_contain_text(f"11:00{EN_DASH}12:00")
    screenshot("rescheduled")
    moved = requests.get(f"{runtime.base}/api/v1/bookings/{made.json()['id']}", headers=CUSTOMER, timeout=10).json()
    assert moved["startTime"].startswith("2027-06-08T11:00:00")


def test_an_agent_books_a_meeting_room_for_a_customer(page: Page, runtime: Runtime, screenshot: Screenshot) -> None:
    sign_in(page, "agent")
    _main_link(page, "Search").click()
    page.get_by_label("City").fill("Amsterdam")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name="See availability of Conference Room A").click()
    page.get_by_label("Day").fill("2027-06-09")  # a Wednesday: the room's business hours
    times = page.get_by_role("list", name=re.compile("Free start times"))
    times.get_by_role("button", name=re.compile("^14:00")).click()
    page.get_by_label("Length").select_option(label="60 minutes")
    page.get_by_label(re.compile("Customer's user id")).fill("demo-customer")
    page.get_by_role("button", name="Book", exact=True).click()
    made = page.get_by_role("status").filter(has_text="Reference")
    expect(made).to_contain_text("confirmed")
    expect(made).to_contain_text(f"14:00{EN_DASH}15:00")
    reference = made.locator("strong").inner_text()
    screenshot("agent-booked")

    _main_link(page, "My bookings").click()
    expect(page.get_by_role("heading", name="Bookings I made")).to_be_visible()
    expect(page.locator(f"li[data-reference='{reference}'] .badge")).to_have_text("confirmed")
    found = requests.get(f"{runtime.base}/api/v1/bookings/by-reference/{reference}", headers=AGENT, timeout=10)
    assert found.status_code == 200, found.text
    assert (found.json()["customerId"], found.json()["createdBy"]) == ("demo-customer", "demo-agent")


def test_a_customer_finds_a_flight_by_route_and_books_two_seats(customer: Page, snap: Screenshot) -> None:
    # The demo departure leaves London 30 days after the runtime loaded its data (infra/local/demo_data.py).
    day = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    page, screenshot = customer, snap
    _main_link(page, "Search").click()
    page.get_by_role("button", name="Flights").click()
    page.get_by_label(re.compile("^From")).fill("LHR")
    page.get_by_label(re.compile("^To")).fill("JFK")
    page.get_by_label(re.compile("^Date")).fill(day)
    page.get_by_label("Passengers").fill("2")
    page.get_by_role("button", name="Find flights").click()
    departures = page.get_by_role("list", name="Departures")
    expect(departures).to_contain_text("SW101")
    screenshot("flights")
    departures.get_by_role("link", name="Choose Economy").click()

    expect(page.get_by_label("Seats")).to_have_value("2")
    page.get_by_role("button", name=re.compile("seats left: choose")).click()
    page.get_by_role("button", name="Book", exact=True).click()
    made = page.get_by_role("status").filter(has_text="Reference")
    expect(made).to_contain_text("£840.00")  # two economy seats at £420
    pay = page.locator(".pay")
    pay.get_by_role("button", name="Pay £840.00").click()
    pay.get_by_role("button", name="Payment succeeds").click()
    expect(pay.get_by_text("Paid. The booking is confirmed.")).to_be_visible(timeout=PAYMENT_SECONDS)
    screenshot("flight-paid")


def test_the_customer_screens_work_at_phone_width(customer: Page, snap: Screenshot) -> None:
    page, screenshot = customer, snap
    page.set_viewport_size({"width": 375, "height": 812})
    page.get_by_role("button", name="Menu").click()
    _main_link(page, "Search").click()
    page.get_by_label("City").fill("Lisbon")
    page.get_by_role("button", name="Search", exact=True).click()
    results = page.get_by_role("list", name="Places found")
    results.get_by_role("link", name="See availability of 8-bed dorm").click()
    nights = page.get_by_role("list", name="Nights")
    expect(nights.locator("button:enabled").first).to_be_visible()
    # Nothing wider than the phone: the grid wraps instead of scrolling sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot("phone-availability")
