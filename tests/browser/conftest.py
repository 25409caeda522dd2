"""The browser tests' server and page. Every test here is skipped, with the reason shown,
where Chromium or Playwright is missing; .ci/run installs both."""

import pytest

from harness.browser import app_server, browser_page, unavailable
from tests.browser.support import SHOTS


def pytest_collection_modifyitems(config, items):
    missing = unavailable()
    if missing:
        for item in items:
            if "tests/browser/" in item.nodeid:
                item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session")
def server():
    """One app server for all the browser tests (as one class shares one server)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with app_server() as url:
        yield url


@pytest.fixture()
def page():
    with browser_page(1600, 2600) as p:  # tall: the whole page in one screenshot
        yield p
