"""The console is served by the local runtime, signs in with the API's own tokens and shows the role's screens."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.console import sign_in
from tests.e2e.runtime import Runtime


def test_the_runtime_serves_the_console_with_a_single_page_fallback(runtime: Runtime) -> None:
    index = requests.get(f"{runtime.base}/console/", timeout=10)
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert '<div id="root">' in index.text
    # A deep link names no file: the same index.html, which routes on the hash.
    deep = requests.get(f"{runtime.base}/console/calendar/anything", timeout=10)
    assert deep.status_code == 200
    assert deep.text == index.text
    # The API is still the API.
    assert requests.get(f"{runtime.base}/api/v1/health", timeout=10).status_code == 200


def test_a_wrong_password_is_shown_as_the_problem(page: Page) -> None:
    page.get_by_label("E-mail").fill("vendor@demo.slotwise.test")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_the_demo_vendor_signs_in_and_sees_the_navigation(page: Page, screenshot: Screenshot) -> None:
    sign_in(page, "vendor")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Home")).to_be_visible()
    expect(page.get_by_role("heading", name="Welcome, Demo Vendor")).to_be_visible()
    expect(page.locator(".role")).to_have_text("vendor")
    screenshot("signed-in")
    # The session survives a reload (sessionStorage), and signing out ends it.
    page.reload()
    expect(navigation).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_signing_in_and_moving_around_work_from_the_keyboard(page: Page) -> None:
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_label("E-mail")).to_be_focused()
    page.keyboard.type("vendor@demo.slotwise.test")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("slotwise-demo-vendor")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The new screen has the focus (as after a page load), so the next Tab is into its content.
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    first_link = page.locator("main").get_by_role("link", name="Calendar")
    expect(first_link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=re.compile("^Calendar"))).to_be_visible()
    expect(page.locator("main")).to_be_focused()
    # The skip link, first in the page, moves focus past the navigation to the screen.
    page.get_by_role("link", name="Skip to content").focus()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
