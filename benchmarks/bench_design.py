"""Benchmark of cascade design: wall time of design(spec), 2- to 6-component loaded-separation-factor cuts,
and the physical models (constant-distribution, empirical-ph, mass-action: the shipped design examples and a
4-component P507 mass-action cut).

Usage: .venv/bin/python benchmarks/bench_design.py [--lsf | --physical]
Prints the median and spread of several runs per case (one run per physical case: they take seconds), the
search effort (stage-wise solves or simulations) and the verifying solver used.
"""

from __future__ import annotations

import statistics
import sys
import time
from importlib import resources

import yaml

from mine2magnet.separation import DesignResult, design
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


EXAMPLES = resources.files("mine2magnet.separation") / "examples"


def example(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text())


PHYSICAL = {
    "constant-D Pr|Nd 99.9/99.9 (example)": example("prnd_constant_d_design.yaml"),
    "empirical-ph Dy|Ho 99.9/99 (example)": example("dyho_empirical_ph_design.yaml"),
    "mass-action P507 Pr|Nd 99.9/99.9 (example)": example("prnd_mass_action_design.yaml"),
    "mass-action P507 La,Ce|Pr,Nd 99.9/99.9": {
        **example("prnd_mass_action_design.yaml"),
        "components": ["La", "Ce", "Pr", "Nd"],
        "feed": {
            "phase": "aqueous",
            "volume_flow": 1.0,
            "concentration": {"La": 0.125, "Ce": 0.25, "Pr": 0.03, "Nd": 0.095},
            "pH": 2.0,
        },
        "cut": "Ce|Pr",
    },
}


def timed_design(spec: dict, repeats: int) -> tuple[DesignResult, list[float]]:
    """The design of `spec` and the wall times (s) of `repeats` complete `design` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = design(spec)
        times.append(time.perf_counter() - t0)
    return r, times


def physical(repeats: int = 1) -> None:
    for name, spec in PHYSICAL.items():
        r, times = timed_design(spec, repeats)
        s = r.search
        print(
            f"{name:44s} {statistics.median(times):7.2f} s  stages {r.stages_extraction}+{r.stages_scrub}  "
            f"organic {r.organic_volume_flow:.4g} L/h  scrub {r.scrub_volume_flow:.4g} L/h  "
            f"simulations {s['simulations']:4d} ({s['simulation_seconds']:.2f} s)  "
            f"verified by {r.verification['solver']}"
        )


def main(repeats: int = 3) -> int:
    print(f"command: {sys.executable} benchmarks/bench_design.py {' '.join(sys.argv[1:])}")
    if "--physical" not in sys.argv[1:]:
        lsf_cases(repeats)
    if "--lsf" not in sys.argv[1:]:
        physical()
    return 0


def lsf_cases(repeats: int) -> None:
    for name, spec in CASES.items():
        r, times = timed_design(spec, repeats)
        s = r.search
        print(
            f"{name:40s} median {statistics.median(times) * 1e3:8.1f} ms  (min {min(times) * 1e3:7.1f}, "
            f"max {max(times) * 1e3:7.1f})  stages {r.stages_extraction}+{r.stages_scrub}  "
            f"solves {s['cascades_solved']:4d}  verified by {r.verification['solver']}"
        )


if __name__ == "__main__":
    sys.exit(main())
