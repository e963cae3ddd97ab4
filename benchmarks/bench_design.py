"""Benchmark of cascade design: wall time of design(spec), 2- to 6-component loaded-separation-factor cuts,
and the physical models (constant-distribution, empirical-ph, mass-action: the shipped design examples and a
4-component P507 mass-action cut); the refinery's SX cuts cold and from the persistent design cache; the
block-tridiagonal size cliff of a long constant-distribution cascade.

Usage: .venv/bin/python benchmarks/bench_design.py [--lsf | --physical | --refinery | --cliff]
Prints the median and spread of several runs per case (one run per physical case: they take seconds), the
search effort (stage-wise solves or simulations) and the verifying solver used.

--refinery: runs every shipped flowsheet (and lynas-malaysia on the Kalgoorlie MREC) with the design cache in
a fresh temporary folder, reads the cut design requests back from the cache files, then times each cut's
cold design (``design``, median of 3, CPU and wall) and its warm read (``design_cache.cached_design`` from
the file). --cliff: ``simulate`` of a constant-distribution cascade of 12 components at 60-400 stages.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import yaml

from mine2magnet.separation import DesignResult, design
from mine2magnet.separation.equilibrium.extractants import load_extractant

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


def refinery_cuts(repeats: int = 3) -> None:
    """Cold design time of every refinery SX cut, and the warm read from the persistent cache."""
    from mine2magnet.data import load_dataset
    from mine2magnet.process import list_flowsheets, run_flowsheet
    from mine2magnet.process.separation_train import REFINERY_FLOW_LADDER, _design_cached
    from mine2magnet.separation import design_cache

    load_dataset()
    with tempfile.TemporaryDirectory() as tmp:
        saved = os.environ.get(design_cache.CACHE_ENV)
        os.environ[design_cache.CACHE_ENV] = tmp
        try:
            _design_cached.cache_clear()
            for name, feed in [(n, None) for n in list_flowsheets()] + [
                ("lynas-malaysia", "kalgoorlie-mrec")
            ]:
                run_flowsheet(name, feed)
            folder = design_cache.cache_folder()
            assert folder is not None
            entries = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(folder).glob("*.json"))]
            print(f"{len(entries)} distinct SX cut designs (flow ladder {REFINERY_FLOW_LADDER})")
            print("| cut | components | stages | cold design, CPU (median of 3) | wall | warm read |")
            print("|---|---|---|---|---|---|")
            cpu_all, wall_all, warm_all = [], [], []
            for entry in entries:
                spec, options = entry["request"]["spec"], entry["request"]["options"]
                options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
                cpu, wall = [], []
                for _ in range(repeats):
                    c0, w0 = time.process_time(), time.perf_counter()
                    r = design(spec, **options)
                    cpu.append(time.process_time() - c0)
                    wall.append(time.perf_counter() - w0)
                w0 = time.perf_counter()
                hit = design_cache.cached_design(spec, **options)
                warm = time.perf_counter() - w0
                assert hit["stages"] == r.to_dict()["stages"]
                cpu_all.append(statistics.median(cpu))
                wall_all.append(statistics.median(wall))
                warm_all.append(warm)
                print(
                    f"| {spec['cut']} | {len(spec['components'])} | {r.stages_extraction}+{r.stages_scrub} | "
                    f"{cpu_all[-1] * 1e3:.0f} ms | {wall_all[-1] * 1e3:.0f} ms | {warm * 1e3:.1f} ms |"
                )
            print(
                f"cold: median {statistics.median(cpu_all) * 1e3:.0f} ms CPU "
                f"({statistics.median(wall_all) * 1e3:.0f} ms wall), max {max(cpu_all) * 1e3:.0f} ms, "
                f"total {sum(cpu_all):.2f} s CPU; "
                f"warm read: median {statistics.median(warm_all) * 1e3:.1f} ms"
            )
        finally:
            if saved is None:
                os.environ.pop(design_cache.CACHE_ENV, None)
            else:
                os.environ[design_cache.CACHE_ENV] = saved
            _design_cached.cache_clear()


def cliff(repeats: int = 20) -> None:
    """simulate of a constant-distribution cascade, 12 components: smooth in the stage count (no size
    threshold sending one cascade to the stage loop of block elimination)."""
    from mine2magnet.separation import load_spec, simulate

    comps = ["La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Y"]
    ratios = {c: 0.3 * 1.4**i for i, c in enumerate(comps)}
    for n in (60, 160, 166, 167, 200, 240, 400):
        spec = load_spec(
            {
                "components": comps,
                "model": {"type": "constant-distribution", "distribution_ratios": ratios},
                "stages": {"extraction": n // 2, "scrub": n - n // 2},
                "feed": {
                    "phase": "aqueous",
                    "stage": n // 2,
                    "volume_flow": 1.0,
                    "concentration": {c: 0.01 for c in comps},
                },
                "organic": {"volume_flow": 2.0},
                "scrub": {"volume_flow": 1.0, "acid": 1.0},
            }
        )
        simulate(spec)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            simulate(spec)
            times.append(time.perf_counter() - t0)
        median = statistics.median(times) * 1e3
        print(f"constant-distribution 12 components x {n:3d} stages: median {median:.2f} ms")


def main(repeats: int = 3) -> int:
    from machine import cpu_model, load

    args = sys.argv[1:]
    print(f"command: {sys.executable} benchmarks/bench_design.py {' '.join(args)}")
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, load average {load()}")
    only = {a for a in args if a in ("--lsf", "--physical", "--refinery", "--cliff")}
    if not only or "--lsf" in only:
        lsf_cases(repeats)
    if not only or "--physical" in only:
        physical()
    if not only or "--refinery" in only:
        refinery_cuts(repeats)
    if not only or "--cliff" in only:
        cliff()
    print(f"load average after: {load()}")
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
