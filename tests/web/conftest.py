"""The browser UI in Debian's Chromium (Playwright, headless) against a live `sintonia serve`
over the tiny model; screenshots of each page go to test-artifacts/web/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from live import Server, live_server
from webui import ARTIFACTS, CHROMIUM, DESKTOP


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Iterator[Server]:
    with live_server(tmp_path_factory.mktemp("web-home"), tiny_model_dir) as live:
        yield live


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does this)")
    from playwright.sync_api import sync_playwright

    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # an earlier run's screenshots would mislead
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server: Server):
    """A fresh browser tab (its own sessionStorage) at the UI, not signed in; JavaScript
    errors on the page fail the test."""
    context = browser.new_context(viewport=DESKTOP)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(server.url + "/")
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
