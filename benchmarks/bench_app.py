"""Benchmark: the web app — home page load, and a run of a scenario from the app against the same run from
the command line.

Usage: .venv/bin/python benchmarks/bench_app.py [SCENARIO] [--repeat N]
Prints, best and median of N repeats: the home page's HTTP load (HTML + script + style + plotly.js), its
load in headless Chromium when one is installed (navigation start to the `load` event), and the wall time of
`POST /api/runs` until the run is complete beside `mine2magnet run SCENARIO` in a fresh process. Targets
(issue 15): home page < 1 s; a run from the app no slower than the CLI plus 2 s.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from machine import cpu_model, load
from mine2magnet.app import create_app

ASSETS = ("/", "/static/app.js", "/static/style.css", "/vendor/plotly.min.js")


def _serve(folder: Path) -> tuple[str, uvicorn.Server, threading.Thread]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(folder / "results.duckdb"), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def http_home(url: str) -> float:
    t0 = time.perf_counter()
    with httpx.Client(base_url=url) as client:
        for asset in ASSETS:
            client.get(asset).raise_for_status()
        client.get("/api/scenarios").raise_for_status()
        client.get("/api/runs").raise_for_status()
    return time.perf_counter() - t0


def browser_home(url: str) -> float | None:
    path = shutil.which("chromium")
    if path is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=path, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_function("() => !/Loading/.test(document.querySelector('#briefing-note').textContent)")
        elapsed = page.evaluate("() => performance.now()") / 1000.0
        browser.close()
    return elapsed


def app_run(url: str, scenario: str) -> float:
    t0 = time.perf_counter()
    with httpx.Client(base_url=url, timeout=30) as client:
        job = client.post("/api/runs", json={"scenario": scenario}).json()
        while True:
            state = client.get(f"/api/runs/{job['id']}").json()
            if state["status"] in ("complete", "failed"):
                break
            time.sleep(0.1)
    if state["status"] != "complete":
        raise RuntimeError(state["error"])
    return time.perf_counter() - t0


def cli_run(scenario: str, folder: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [Path(sys.executable).with_name("mine2magnet"), "run", scenario, "--out", str(folder), "--quiet"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def _fmt(values: list[float]) -> str:
    return f"best {min(values):.3f} s, median {statistics.median(values):.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="malaysia-base")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {cpu_model()}, load {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        url, server, thread = _serve(Path(tmp) / "app")
        http = [http_home(url) for _ in range(args.repeat)]
        print(f"home page over HTTP (HTML, JS, CSS, plotly.js, 2 API calls): {_fmt(http)}")
        browser = [b for b in (browser_home(url) for _ in range(args.repeat)) if b is not None]
        print(
            "home page in headless Chromium (navigation to the briefing shown): "
            + (_fmt(browser) if browser else "n/a (no chromium)")
        )
        app, cli = [], []
        for i in range(args.repeat):  # interleaved, so a change in the machine's load hits both alike
            app.append(app_run(url, args.scenario))
            cli.append(cli_run(args.scenario, Path(tmp) / f"cli{i}"))
        print(f"run {args.scenario} from the app (POST to complete): {_fmt(app)}")
        print(f"run {args.scenario} from the CLI (fresh process):     {_fmt(cli)}")
        print(f"app - CLI (medians): {statistics.median(app) - statistics.median(cli):+.3f} s")
        server.should_exit = True
        thread.join(timeout=10)
    print(f"command: .venv/bin/python benchmarks/bench_app.py {args.scenario} --repeat {args.repeat}")


if __name__ == "__main__":
    main()
