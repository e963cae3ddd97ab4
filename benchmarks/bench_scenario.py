"""Benchmark: the flagship scenario end to end — load, run, store, report — as `mine2magnet run` does it.

Usage: .venv/bin/python benchmarks/bench_scenario.py [SCENARIO] [--repeat N]
Prints the wall time of each step (best and median of N repeats) and the command that produced them.
Target (issue 5): malaysia-base under 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mine2magnet.report import write_report
from mine2magnet.scenario import load_scenario, run_scenario
from mine2magnet.store import ResultsStore


def one_pass(name: str, directory: Path) -> dict[str, float]:
    """Seconds spent in each step of one end-to-end run into ``directory``."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    scenario = load_scenario(name)
    t1 = time.perf_counter()
    result = run_scenario(scenario)
    t2 = time.perf_counter()
    store = ResultsStore(directory / "results.duckdb")
    run_id = store.save(result)
    t3 = time.perf_counter()
    write_report([store.get(run_id)], directory / "report.html")
    t4 = time.perf_counter()
    times["load"], times["run"], times["store"], times["report"] = t1 - t0, t2 - t1, t3 - t2, t4 - t3
    times["total"] = t4 - t0
    times["years"] = len(result.years)
    times["flow_rows"] = len(result.tables["flows"])
    return times


def cli_wall_time(name: str, directory: Path, *extra: str) -> float | None:
    """Wall time of ``mine2magnet run NAME --out DIR [EXTRA...]`` in a fresh process (imports included)."""
    command = Path(sys.executable).parent / "mine2magnet"
    if not command.exists():
        return None
    t0 = time.perf_counter()
    subprocess.run(
        [str(command), "run", name, "--out", str(directory), "-q", *extra], check=True, capture_output=True
    )
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="malaysia-base")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    passes = []
    with tempfile.TemporaryDirectory() as tmp:
        cli = cli_wall_time(args.scenario, Path(tmp) / "cli")
        main_job = cli_wall_time(args.scenario, Path(tmp) / "main", "--compare", "all")
        for i in range(args.repeat):
            passes.append(one_pass(args.scenario, Path(tmp) / f"pass{i}"))
    first = passes[0]
    command = f"benchmarks/bench_scenario.py {args.scenario} --repeat {args.repeat}"
    print(f"command: .venv/bin/python {command}")
    cpu = platform.processor() or platform.machine()
    print(f"machine: {os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}")
    print(f"scenario: {args.scenario}, {first['years']:.0f} years, {first['flow_rows']:.0f} flow rows")
    print(f"{'step':<8}{'best s':>10}{'median s':>10}{'first s':>10}")
    for step in ("load", "run", "store", "report", "total"):
        values = [p[step] for p in passes]
        print(f"{step:<8}{min(values):>10.2f}{statistics.median(values):>10.2f}{values[0]:>10.2f}")
    verdict = "within" if first["total"] < 30.0 else "OVER"
    print(f"first pass in this process (cold caches) {first['total']:.1f} s: {verdict} the 30 s target")
    if cli is not None:
        verdict = "within" if cli < 30.0 else "OVER"
        label = f"`mine2magnet run {args.scenario}` (fresh process, with imports)"
        print(f"{label}: {cli:.1f} s wall: {verdict} the 30 s target")
    if main_job is not None:
        print(f"`mine2magnet run {args.scenario} --compare all` (`make run`): {main_job:.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
