"""Browser contexts that modules share: one sign-in per module instead of one per test (the sign-in throttle counts
every sign-in of the suite, all from loopback)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.console import SCREENSHOTS, sign_in
from tests.e2e.runtime import Runtime

__all__ = ["shooter", "sign_in", "signed_in_page"]


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
