"""Benchmark of cascade design: wall time of design(spec), 2- to 6-component loaded-separation-factor cuts.

Usage: .venv/bin/python benchmarks/bench_design.py
Prints the median and spread of several runs per case, the search effort (stage-wise solves) and the verifying
solver used.
"""

from __future__ import annotations

import statistics
import sys
import time

from mine2magnet.separation import design
from mine2magnet.separation.extractants import load_extractant

P507 = load_extractant("P507")


def lsf(components: list[str], flows: dict[str, float], cut: str, targets: dict) -> dict:
    return {
        "components": components,
        "model": {
            "type": "loaded-separation-factor",
            "separation_factors": P507.separation_factors(components),
        },
        "feed": {"phase": "aqueous", "flow": flows},
        "cut": cut,
        "targets": targets,
    }


T999 = {"raffinate": {"purity": 0.999}, "extract": {"purity": 0.999}}
CASES = {
    "2 comp Pr|Nd 99.9/99.9": lsf(["Pr", "Nd"], {"Pr": 0.25, "Nd": 0.75}, "Pr|Nd", T999),
    "3 comp Sm|Eu (V3 feed) 99.99 @ 99.9 %": {
        "components": ["Sm", "Eu", "Gd"],
        "model": {
            "type": "loaded-separation-factor",
            "separation_factors": {"Sm": 1.0, "Eu": 2.0, "Gd": 2.8},
        },
        "feed": {"phase": "aqueous", "flow": {"Gd": 0.39, "Eu": 0.10, "Sm": 0.51}},
        "cut": "Sm|Eu",
        "targets": {"raffinate": {"purity": 0.9999, "recovery": 0.999}},
    },
    "4 comp La Ce | Pr Nd 99.9/99.9": lsf(
        ["La", "Ce", "Pr", "Nd"], {"La": 0.25, "Ce": 0.5, "Pr": 0.06, "Nd": 0.19}, "Ce|Pr", T999
    ),
    "5 comp LaCePrNd | Sm 99.9/99.9": lsf(
        ["La", "Ce", "Pr", "Nd", "Sm"],
        {"La": 0.25, "Ce": 0.45, "Pr": 0.05, "Nd": 0.2, "Sm": 0.05},
        "Nd|Sm",
        T999,
    ),
    "6 comp LaCePr | NdSmGd 99.9/99.9": lsf(
        ["La", "Ce", "Pr", "Nd", "Sm", "Gd"],
        {"La": 0.25, "Ce": 0.45, "Pr": 0.05, "Nd": 0.18, "Sm": 0.04, "Gd": 0.03},
        "Pr|Nd",
        T999,
    ),
}


def main(repeats: int = 3) -> int:
    print(f"command: {sys.executable} benchmarks/bench_design.py")
    for name, spec in CASES.items():
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            r = design(spec)
            times.append(time.perf_counter() - t0)
        s = r.search
        print(
            f"{name:40s} median {statistics.median(times) * 1e3:8.1f} ms  (min {min(times) * 1e3:7.1f}, "
            f"max {max(times) * 1e3:7.1f})  stages {r.stages_extraction}+{r.stages_scrub}  "
            f"solves {s['cascades_solved']:4d}  verified by {r.verification['solver']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
