"""What the browser tests share: launching Debian's chromium (never a Playwright browser download) and signing in
to the console as a demo user (`infra/local/demo_data.py`: `<role>@demo.slotwise.test`, `slotwise-demo-<role>`)."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Page, expect

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
