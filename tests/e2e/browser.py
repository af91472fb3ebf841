"""Headless Chromium for the console's tests: Debian's `chromium` driven by Python Playwright.

Where either is missing the browser tests are skipped, and the run says so loudly at its end;
with TASKLANE_REQUIRE_BROWSER=1 (as .ci/run sets) they fail instead, so CI always runs them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = os.environ.get("TASKLANE_CHROMIUM", "/usr/bin/chromium")
# No sandbox (CI containers run as root), and nothing that reaches beyond the local stack.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIPPED: list[str] = []  # why the browser tests did not run, for the end of the report


def missing() -> str | None:
    """Why no browser test can run here, or None."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed (pip install -r requirements.txt)"
    return None


class Browser:
    """One Chromium: pages that record what the browser console says."""

    def __init__(self, chromium: Any) -> None:
        self._chromium = chromium
        self._errors: dict[int, list[str]] = {}

    def new_page(self, width: int = 1440, height: int = 900) -> Any:
        """A page in a window `width` pixels wide (1440: a laptop; 390: a phone)."""
        # A context per page: sessionStorage (the API key) is the page's own. The clipboard: the
        # console's copy buttons.
        context = self._chromium.new_context(viewport={"width": width, "height": height})
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        errors = self._errors.setdefault(id(page), [])
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
        page.set_default_timeout(30_000)
        return page

    def errors(self, page: Any) -> list[str]:
        return list(self._errors.get(id(page), []))

    def assert_no_errors(self, page: Any) -> None:
        assert self.errors(page) == [], self.errors(page)


@contextmanager
def launch_browser() -> Iterator[Browser]:
    reason = missing()
    if reason:
        if os.environ.get("TASKLANE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser tests must run here, but {reason}")
        SKIPPED.append(reason)
        pytest.skip(f"BROWSER TESTS NOT RUN: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield Browser(chromium)
        finally:
            chromium.close()
