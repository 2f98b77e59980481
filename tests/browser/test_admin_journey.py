"""An admin's day in the console: a vendor who registered waits for approval (and may not act until then); the
admin approves them on the approvals screen; the vendor can then act, and the approval is in the audit log."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.patient import shooter, sign_in, signed_in_page
from tests.e2e.runtime import Runtime

PASSWORD = "A-pending-vendor-42"
VENUE = {"name": "Harbour Kiosk", "city": "Porto", "timezone": "Europe/Lisbon"}


@pytest.fixture(scope="module")
def signed_in(browser: Browser, runtime: Runtime) -> Iterator[Page]:
    """The demo admin, signed in once for this module's tests (the suite's sign-ins share one throttle)."""
    with signed_in_page(browser, runtime, "admin") as page:
        yield page


@pytest.fixture
def admin(signed_in: Page, runtime: Runtime) -> Page:
    signed_in.goto(f"{runtime.base}/console/#/")
    expect(signed_in.locator(".role")).to_have_text("admin")
    return signed_in


@pytest.fixture
def snap(admin: Page, request: pytest.FixtureRequest) -> Screenshot:
    return shooter(admin, request)


@pytest.fixture
def pending_vendor(runtime: Runtime) -> dict[str, str]:
    """A vendor who registered through the API: signed in, pending approval, and refused any vendor action."""
    email = f"vendor-{uuid.uuid4().hex[:10]}@kiosk.test"
    body = {"email": email, "password": PASSWORD, "name": "Kiosk Owner", "role": "vendor"}
    registered = requests.post(f"{runtime.base}/api/v1/auth/register", json=body, timeout=30)
    assert registered.status_code == 201, registered.text
    signed_in = registered.json()
    assert signed_in["user"]["status"] == "pending_approval"
    bearer = {"Authorization": f"Bearer {signed_in['accessToken']}"}
    refused = requests.post(f"{runtime.base}/api/v1/venues", json=VENUE, headers=bearer, timeout=30)
    assert refused.status_code == 403, refused.text
    return {"id": signed_in["user"]["id"], "email": email}


@pytest.fixture
def second_page(browser: Browser, runtime: Runtime) -> Iterator[Page]:
    """Another browser context (its own session) on the console's sign-in page."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    opened.goto(f"{runtime.base}/console/")
    yield opened
    context.close()


def test_an_admin_approves_a_pending_vendor_who_can_then_act(
    admin: Page, second_page: Page, runtime: Runtime, pending_vendor: dict[str, str], snap: Screenshot
) -> None:
    page, screenshot, email = admin, snap, pending_vendor["email"]
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("link", name="Approvals").click()
    row = page.locator(f"tr[data-user='{email}']")
    expect(row).to_contain_text("vendor")
    expect(page.get_by_label("Status")).to_have_value("pending_approval")
    screenshot("pending-approvals")

    row.get_by_role("button", name=f"Approve {email}").click()
    expect(page.get_by_role("status").filter(has_text="approved")).to_contain_text(email)
    expect(row).to_have_count(0)
    screenshot("approved")

    # The vendor now signs in to the console as a vendor, and acts with that session's token.
    sign_in(second_page, "vendor", email=email, password=PASSWORD)
    token = second_page.evaluate("JSON.parse(sessionStorage.getItem('slotwise.console.session')).accessToken")
    bearer = {"Authorization": f"Bearer {token}"}
    venue = requests.post(f"{runtime.base}/api/v1/venues", json=VENUE, headers=bearer, timeout=30)
    assert venue.status_code == 201, venue.text

    # The approval is audited on the user: the admin finds it in the audit log.
    navigation.get_by_role("link", name="Audit log").click()
    page.get_by_label("Target type").select_option("user")
    page.get_by_label("Target id").fill(pending_vendor["id"])
    page.get_by_role("button", name="Show entries").click()
    entries = page.get_by_role("table")
    expect(entries.get_by_role("row").filter(has_text="demo-admin").filter(has_text="approve")).to_have_count(1)
    screenshot("audit-log")


def test_the_audit_log_needs_a_target_or_an_actor(admin: Page) -> None:
    page = admin
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    page.get_by_role("button", name="Show entries").click()
    expect(page.get_by_role("alert")).to_contain_text("target id or an actor")


def test_an_admin_sees_a_dead_letter_and_redrives_it(admin: Page, runtime: Runtime, snap: Screenshot) -> None:
    """A message dead-lettered on the `live` queue shows in the queue table; Redrive moves it back to its queue."""
    import boto3

    sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{runtime.moto_port}", region_name="us-east-1")
    dlq_url = sqs.get_queue_url(QueueName="live-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps({"id": str(uuid.uuid4()), "detail-type": "x.y"}))

    page, screenshot = admin, snap
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queues").click()
    row = page.locator("tr[data-queue='live']")
    expect(row.get_by_role("cell", name="live-dlq")).to_be_visible()
    expect(row.locator(".badge")).to_have_text("1")
    for quiet in ("notifications", "webhooks", "stripe-events", "reports"):
        expect(page.locator(f"tr[data-queue='{quiet}']")).to_be_visible()
    screenshot("queues-with-a-dead-letter")

    row.get_by_role("button", name="Redrive live").click()
    expect(page.get_by_role("status").filter(has_text="moved back")).to_have_text("live: 1 message moved back.")
    expect(row.locator(".badge")).to_have_count(0)
    screenshot("queues-redriven")
