"""What the browser tests share: launching Debian's chromium (never a Playwright browser download) and signing in
to the console as a demo user (`infra/local/demo_data.py`: `<role>@demo.slotwise.test`, `slotwise-demo-<role>`)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that talks to the network on its own (updates, sync, QUIC probes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "test-output" / "screenshots"
DIST_INDEX = ROOT / "infra" / "console" / "dist" / "index.html"
THROTTLE_WAIT_SECONDS = 75  # past the end of the sign-in throttle's one-minute window


def sign_in(page: Page, role: str, *, email: str | None = None, password: str | None = None) -> None:
    """Sign in on the console's form as the demo user of `role` (or `email`/`password`) and wait for the signed-in
    frame (the Sign out button: at phone width the navigation itself is folded behind its Menu button).

    The whole suite signs in from one address (loopback), and the API refuses a source's 21st sign-in in a minute
    (`slotwise.identity.throttle.LOGIN_PER_IP`, 429 `too_many_attempts`): a sign-in refused that way is tried again
    once the minute has moved on, as a person would."""
    deadline = time.monotonic() + THROTTLE_WAIT_SECONDS
    while True:
        page.get_by_label("E-mail").fill(email or f"{role}@demo.slotwise.test")
        page.get_by_label("Password").fill(password or f"slotwise-demo-{role}")
        page.get_by_role("button", name="Sign in").click()
        signed_in = page.get_by_role("button", name="Sign out")
        refused = page.get_by_role("alert").filter(has_text="Too many attempts")
        expect(signed_in.or_(refused)).to_be_visible()
        if signed_in.is_visible():
            return
        assert time.monotonic() < deadline, "the sign-in throttle did not let this sign-in through"
        page.wait_for_timeout(3_000)


@contextmanager
def console_page(browser: Browser, base: str) -> Iterator[Page]:
    """A fresh browser context (its own sessionStorage, so its own sign-in) on the console's sign-in page."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    context.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page = context.new_page()
    page.goto(f"{base}/console/")
    try:
        yield page
    finally:
        context.close()


def shooter(page: Page, request: pytest.FixtureRequest) -> Callable[[str], None]:
    """`take("calendar")` saves build/test-output/screenshots/<test>-<n>-calendar.png (full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    taken: list[str] = []

    def take(name: str) -> None:
        taken.append(name)
        page.screenshot(path=SCREENSHOTS / f"{test}-{len(taken):02d}-{name}.png", full_page=True)

    return take
