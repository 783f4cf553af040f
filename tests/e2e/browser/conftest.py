"""A real headless Chromium, driven by Playwright, against the local API.

The browser is the machine's own (Debian's ``chromium`` package, or ``$CHROMIUM``): nothing is
downloaded at test time. Without one, these tests are skipped and ``scripts/check`` says so.
Screenshots go to ``.artifacts/screenshots/`` (not committed) for people to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import LocalApi
from .sdk_page import open_sdk_page

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
# Flags for a sandboxed machine without a display or a network: no GPU, no first-run screens,
# no background calls to Google's services (which would be refused, many at a time).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

pytestmark = pytest.mark.browser


def chromium_executable() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium on this machine (install Debian's chromium, or set CHROMIUM=/path)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save the page as ``.artifacts/screenshots/<name>.png`` and return the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def sdk(local_api: LocalApi, page: Any) -> Any:
    """A page of the API's origin with the SDK loaded, in a fresh browser profile (empty IndexedDB)."""
    return open_sdk_page(page, local_api)
