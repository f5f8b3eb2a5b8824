"""Helpers for the browser tests (tests/web): where Chromium is, page sizes, sign-in and
screenshots."""

from __future__ import annotations

from pathlib import Path

from live import Server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "web"
DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}


def sign_in(page, server: Server, role: str = "owner") -> None:
    page.get_by_label("API key").fill(server.keys[role])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="My Library").wait_for()


def screenshot(page, name: str) -> None:
    """Full-page PNGs at desktop width and at 390 px (a phone), then back to desktop."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    page.set_viewport_size(NARROW)
    page.wait_for_timeout(100)  # one layout pass
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=ARTIFACTS / f"{name}-390px.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    assert overflow <= NARROW["width"], f"{name} scrolls sideways at 390 px ({overflow} px wide)"
