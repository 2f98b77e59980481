"""Browser contexts that modules share: one sign-in per module instead of one per test (the sign-in throttle counts
every sign-in of the suite, all from loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page

from tests.browser.console import console_page, shooter, sign_in
from tests.e2e.runtime import Runtime

__all__ = ["shooter", "sign_in", "signed_in_page"]


@contextmanager
def signed_in_page(browser: Browser, runtime: Runtime, role: str) -> Iterator[Page]:
    """One browser context signed in once as `role`, for a module's tests to share (fewer sign-ins to throttle)."""
    with console_page(browser, runtime.base) as page:
        sign_in(page, role)
        yield page
