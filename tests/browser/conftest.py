"""Headless Chromium for the browser tests (Playwright driving Debian's ``chromium``).

The browser is found at ``$M2M_CHROMIUM``, ``/usr/bin/chromium`` or ``chromium`` on the PATH. When it (or
Playwright) is missing, the tests skip with the reason printed; on CI (``CI=true``), where ``make test``
installs Debian's chromium, they fail instead. Screenshots go to ``tests/browser/artifacts/`` (ignored by
git); each test prints the path of its screenshots.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AUDIT_JS = (Path(__file__).resolve().parent / "audit.js").read_text(encoding="utf-8")


def _on_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if _on_ci():
        pytest.fail(f"browser tests cannot run on CI: {reason}", pytrace=False)
    print(f"skipping browser tests: {reason}")
    pytest.skip(reason)


def chromium_path() -> str | None:
    """The Chromium executable to drive, or None."""
    for candidate in (os.environ.get("M2M_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium (Playwright Browser), shared by the session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"Playwright for Python is not installed ({exc}); pip install -e '.[dev]'")
    executable = chromium_path()
    if executable is None:
        _unavailable("no chromium found (apt-get install chromium, or set M2M_CHROMIUM)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


class OpenedPage:
    """A page opened in the browser, with the console errors and uncaught exceptions it raised."""

    def __init__(self, page: object) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def audit(self) -> list[dict]:
        """Every plotly chart's traces, legend entries, tick labels and x range (see audit.js)."""
        return self.page.evaluate(AUDIT_JS)

    def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page, timeout=90_000)
        print(f"screenshot: {path}")
        return path


@pytest.fixture
def open_page(browser) -> Iterator[object]:
    """``open_page(path)`` opens a local HTML file in a fresh 1280x900 page and returns an OpenedPage."""
    pages = []

    def opener(path: Path) -> OpenedPage:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        opened = OpenedPage(page)
        page.goto(Path(path).resolve().as_uri())
        pages.append(page)
        return opened

    yield opener
    for page in pages:
        page.close()
