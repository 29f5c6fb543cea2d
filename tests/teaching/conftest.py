"""Fixtures of the teaching tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.teaching import page_driver


@pytest.fixture(scope="module")
def browser_and_url():
    """A Chromium browser and the URL of a page server, for one test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(page_driver.CHROMIUM).exists():
        pytest.skip("needs Debian's Chromium: apt-get install chromium")
    with page_driver.app_server() as (url, _), sync_api.sync_playwright() as p:
        browser = page_driver.launch(p)
        try:
            yield browser, url
        finally:
            browser.close()
