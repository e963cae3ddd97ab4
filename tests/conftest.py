"""Suite-wide settings and fixtures: Hypothesis without per-example deadlines (timing belongs in benchmarks/),
derandomised on CI so that a CI run is reproducible (locally, examples stay random to find new cases); and the
headless Chromium every browser test drives (Playwright with Debian's ``chromium``).

The browser is found at ``$M2M_CHROMIUM``, ``/usr/bin/chromium`` or ``chromium`` on the PATH. When it (or
Playwright) is missing, the browser tests skip with the reason printed; on CI (``CI=true``), where ``make
test`` installs Debian's chromium, they fail instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("mine2magnet", deadline=None)
settings.register_profile("ci", parent=settings.get_profile("mine2magnet"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else "mine2magnet")


#: Chromium's command line for the browser tests (no network beyond localhost is reachable here).
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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
