"""Signing in when the sign-in throttle is busy: the whole browser suite signs in from one address (loopback), and the
API refuses a source's 21st sign-in in a minute (`slotwise.identity.throttle.LOGIN_PER_IP`, 429
`too_many_attempts`), so a sign-in refused that way is tried again once the minute has moved on, as a person would."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.console import SCREENSHOTS
from tests.e2e.runtime import Runtime

THROTTLE_WAIT_SECONDS = 75  # past the end of the throttle's one-minute window


def sign_in(page: Page, role: str, *, email: str | None = None, password: str | None = None) -> None:
    """The console's sign-in form as the demo user of `role` (or `email`/`password`), until the signed-in frame."""
    deadline = time.monotonic() + THROTTLE_WAIT_SECONDS
    while True:
        page.get_by_label("E-mail").fill(email or f"{role}@demo.slotwise.test")
        page.get_by_label("Password").fill(password or f"slotwise-demo-{role}")
        page.get_by_role("button", name="Sign in").click()
        signed_in = page.locator(".role")
        refused = page.get_by_role("alert").filter(has_text="Too many attempts")
        expect(signed_in.or_(refused)).to_be_visible()
        if signed_in.is_visible():
            expect(signed_in).to_have_text(role)
            return
        assert time.monotonic() < deadline, "the sign-in throttle did not let this sign-in through"
        page.wait_for_timeout(3_000)


@contextmanager
def signed_in_page(browser: Browser, runtime: Runtime, role: str) -> Iterator[Page]:
    """One browser context signed in once as `role`, for a module's tests to share (fewer sign-ins to throttle)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    context.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page = context.new_page()
    page.goto(f"{runtime.base}/console/")
    sign_in(page, role)
    try:
        yield page
    finally:
        context.close()


def shooter(page: Page, request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Like the conftest's `screenshot`, for a page the test did not get from the `page` fixture."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    taken: list[str] = []

    def take(name: str) -> None:
        taken.append(name)
        page.screenshot(path=SCREENSHOTS / f"{test}-{len(taken):02d}-{name}.png", full_page=True)

    return take
