"""What the browser tests share: launching Debian's chromium (never a Playwright browser download) and signing in
to the console as a demo user (`infra/local/demo_data.py`: `<role>@demo.slotwise.test`, `slotwise-demo-<role>`)."""

from __future__ import annotations

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


def sign_in(page: Page, role: str) -> None:
    """Sign in on the console's form as the demo user of `role` and wait for the signed-in frame."""
    page.get_by_label("E-mail").fill(f"{role}@demo.slotwise.test")
    page.get_by_label("Password").fill(f"slotwise-demo-{role}")
    page.get_by_role("button", name="Sign in").click()
    # The signed-in frame (at phone width the navigation itself is folded behind its Menu button).
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
