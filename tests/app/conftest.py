"""Fixtures of the web-app tests: the app served by uvicorn on a free localhost port (a real HTTP server, as a
user's browser sees it) and a headless Chromium page driven by Playwright.

The browser is the suite's (``browser`` in tests/conftest.py: Debian's ``chromium``, skipped with the reason
printed when missing, failed when missing on CI).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from mine2magnet.app import create_app

ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts" / "app"


@dataclass
class LiveApp:
    url: str
    folder: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0)

    def wait(self, job_id: str, timeout_s: float = 240.0) -> dict:
        """Poll ``GET /api/runs/JOB`` until the run is complete or failed."""
        deadline = time.monotonic() + timeout_s
        with self.client() as client:
            while time.monotonic() < deadline:
                job = client.get(f"/api/runs/{job_id}").json()
                if job["status"] in ("complete", "failed"):
                    return job
                time.sleep(0.3)
        raise AssertionError(f"run {job_id} did not finish within {timeout_s} s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app over a fresh store, served on localhost; runs skip the history backtest (speed)."""
    folder = tmp_path_factory.mktemp("app")
    app = create_app(folder / "results.duckdb", workers=2, run_args=("--no-backtest",))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start within 20 s")
        time.sleep(0.05)
    yield LiveApp(f"http://127.0.0.1:{port}", folder)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(browser):
    """A fresh page whose console errors and page errors are collected in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    opened.errors = errors  # type: ignore[attr-defined]
    yield opened
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot as a test artifact (tests/browser/artifacts/app/NAME.png) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
