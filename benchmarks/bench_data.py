"""Benchmark of the sourced-data layer: reading and validating the package dataset, and finding conflicts.

Usage: .venv/bin/python benchmarks/bench_data.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from mine2magnet.data import PACKAGE_DATA, read_dataset


def _time(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    ds = read_dataset(PACKAGE_DATA)
    n_values = len(ds.entries())
    n_comps = len(ds.composition_entries())
    load = _time(lambda: read_dataset(PACKAGE_DATA), repeat=10)
    conflicts = _time(ds.conflicts, repeat=20)
    print(f"command: {sys.executable} benchmarks/bench_data.py")
    print(f"dataset: {n_values} values, {n_comps} compositions, {len(ds.sources)} sources")
    print(
        f"read + validate package data (uncached): median {statistics.median(load) * 1e3:.1f} ms "
        f"(min {min(load) * 1e3:.1f} ms, 10 runs)"
    )
    print(
        f"conflicts(): median {statistics.median(conflicts) * 1e3:.2f} ms "
        f"over {len(ds.conflicts())} conflicts (20 runs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
