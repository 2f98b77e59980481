"""Browser tests: the console in headless chromium against the local runtime (`make dev`) on free ports with its demo
data. One runtime and one browser for the session; each test gets a fresh browser context (its own sessionStorage,
so its own sign-in) on the console's sign-in page, and a `screenshot` callable that saves under
build/test-output/screenshots/."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.browser.console import CHROMIUM, CHROMIUM_ARGS, DIST_INDEX, console_page, shooter
from tests.e2e.runtime import Runtime, running

Screenshot = Callable[[str], None]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


# Package scope, not session: Playwright's sync API keeps an event loop running on the main thread while it is
# open, and the tests that run after this package (e2e, integration) call asyncio.run(), which refuses to start
# inside a running loop. The runtime and the browser stop with the package's last test too.
@pytest.fixture(scope="package")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    if not DIST_INDEX.is_file():
        pytest.fail("the console is not built: run `make console` (make install does)")
    with running(tmp_path_factory.mktemp("console-runtime")) as started:
        yield started


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (make install does)")
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, runtime: Runtime) -> Iterator[Page]:
    with console_page(browser, runtime.base) as opened:
        yield opened


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Screenshot:
    """`screenshot("calendar")` saves build/test-output/screenshots/<test>-<n>-calendar.png (full page)."""
    return shooter(page, request)
