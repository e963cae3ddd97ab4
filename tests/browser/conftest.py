"""Pages opened in headless Chromium: the ``browser`` fixture of tests/conftest.py (Playwright driving
Debian's ``chromium``; skipped with the reason printed when it is missing, failed when it is missing on CI).
Screenshots go to ``tests/browser/artifacts/`` (ignored by git); each test prints the path of its
screenshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AUDIT_JS = (Path(__file__).resolve().parent / "audit.js").read_text(encoding="utf-8")


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
