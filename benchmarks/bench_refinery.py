"""Refinery flowsheet run times (cold: SX cuts designed from scratch; warm: designs cached), and the
one-at-a-time residue sensitivity of lynas-malaysia used in docs/validation.md.

Usage: .venv/bin/python benchmarks/bench_refinery.py [--sensitivity]
"""

from __future__ import annotations

import statistics
import sys
import time

from mine2magnet.data import load_dataset
from mine2magnet.process import list_flowsheets, run_flowsheet
from mine2magnet.process.sensitivity import CALIBRATED, LYNAS_RESIDUE_PARAMETERS, one_at_a_time
from mine2magnet.process.separation_train import _design_cached

CASES = [(name, None) for name in list_flowsheets()] + [("lynas-malaysia", "kalgoorlie-mrec")]


def timing() -> None:
    load_dataset()
    run_flowsheet("hre-circuit")  # imports and first-call set-up, not counted
    print("| flowsheet (feed) | cuts designed | cold run | warm run (median of 5) | warm, 2x rate |")
    print("|---|---|---|---|---|")
    for name, feed in CASES:
        _design_cached.cache_clear()
        t0 = time.perf_counter()
        r = run_flowsheet(name, feed)
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(5):
            t0 = time.perf_counter()
            run_flowsheet(name, feed)
            warm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_flowsheet(name, feed, 2 * r.feed_reo_t_per_yr)
        scaled = time.perf_counter() - t0
        n = sum(1 for c in r.circuits if not c.get("skipped"))
        print(
            f"| {name} ({r.feed}) | {n} | {cold:.2f} s | {statistics.median(warm) * 1000:.0f} ms | "
            f"{scaled * 1000:.0f} ms |"
        )


def sensitivity() -> None:
    sens = one_at_a_time("lynas-malaysia", LYNAS_RESIDUE_PARAMETERS)
    figures = ("WLP", "NUF", "FGD", "total", "WLP Th-232 Bq/g")

    def row(f: dict) -> str:
        return " ".join(f"{k} {f[k]:.2f}" for k in figures)

    print("central: " + row(sens.central))
    for (key, v), f in sens.runs.items():
        print(f"{key} = {v}: " + row(f))
    print(
        "combined relative uncertainty (root-sum-square of the largest deviation per parameter): "
        + " ".join(f"{k} {sens.combined(k):.0%}" for k in figures)
    )
    print(
        "the same without the calibrated off-gas share (the validation tolerance): "
        + " ".join(f"{k} {sens.combined(k, exclude=CALIBRATED):.0%}" for k in figures)
    )


if __name__ == "__main__":
    print("command: .venv/bin/python benchmarks/bench_refinery.py " + " ".join(sys.argv[1:]))
    if "--sensitivity" in sys.argv:
        sensitivity()
    else:
        timing()
