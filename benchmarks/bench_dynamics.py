"""Dynamic cascade speed (`simulate_dynamic`): start-up of 60 stages x 12 components to steady state.

Usage: .venv/bin/python benchmarks/bench_dynamics.py
Runs on one core: BLAS/OpenMP threads are pinned to 1 before numpy loads (override by setting them). Prints
medians (and best) of repeated runs of whole `simulate_dynamic(spec)` calls (spec validation, the steady
state `simulate` gives as the reference, the integration, the outputs), the integrator's effort, how far
the end is from the steady state, the machine, its load average before and after, and the date.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import datetime  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from machine import cpu_model, load  # noqa: E402
from mine2magnet.separation import DynamicResult, load_spec, simulate, simulate_dynamic  # noqa: E402

STIFF = ["La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Y"]
EXAMPLE = (
    Path(__file__).resolve().parents[1] / "src/mine2magnet/separation/examples/prnd_mass_action_dynamics.yaml"
)


def stiff(dynamics: dict) -> dict:
    """bench_cascade.py's stiff case: empirical-pH with proton balance, 12 components x 60 stages, feed pH
    1.5 (log10 D = 3 pH - 1 + 0.25 i; 0.01 mol/L each at 1 L/h, 1 L/h organic)."""
    return {
        "components": STIFF,
        "model": {
            "type": "empirical-ph",
            "coefficients": {c: {"a": 3.0, "b": -1.0 + 0.25 * i} for i, c in enumerate(STIFF)},
        },
        "stages": {"extraction": 60},
        "feed": {"stage": 60, "volume_flow": 1.0, "concentration": {c: 0.01 for c in STIFF}, "pH": 1.5},
        "organic": {"volume_flow": 1.0},
        "dynamics": dynamics,
    }


def constant(dynamics: dict) -> dict:
    """The stiff case's D at pH 1 held constant (a linear cascade), 30 extraction + 30 scrub stages."""
    D = {c: 10.0 ** (3.0 * 1.0 - 1.0 + 0.25 * i - 2.5) for i, c in enumerate(STIFF)}
    return {
        "components": STIFF,
        "model": {"type": "constant-distribution", "distribution_ratios": D},
        "stages": {"extraction": 30, "scrub": 30},
        "feed": {"stage": 30, "volume_flow": 1.0, "concentration": {c: 0.01 for c in STIFF}},
        "organic": {"volume_flow": 1.0},
        "scrub": {"volume_flow": 0.3},
        "dynamics": dynamics,
    }


def p507(dynamics: dict) -> dict:
    """A hard physical case: P507 mass-action (shipped set), 12 rare earths x (30 + 30) stages, 0.5 mol/L
    (HA)2 20 % saponified, 1 mol/L HCl scrub at 0.3 L/h: metal trapped between the sections, where the
    steady engine itself needs its stage-dynamics fallback."""
    return {
        "components": STIFF,
        "model": {"type": "mass-action", "extractant": "P507", "concentration": 0.5, "saponification": 0.2},
        "stages": {"extraction": 30, "scrub": 30},
        "feed": {"stage": 30, "volume_flow": 1.0, "concentration": {c: 0.02 for c in STIFF}, "pH": 2.0},
        "organic": {"volume_flow": 2.0},
        "scrub": {"acid": 1.0, "volume_flow": 0.3},
        "dynamics": dynamics,
    }


def timed(fn, repeat: int) -> tuple[list[float], DynamicResult]:
    """Wall times of ``repeat`` calls (s) and the last result."""
    out = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter_ns()
        result = fn()
        out.append((time.perf_counter_ns() - t) * 1e-9)
    assert result is not None
    return out, result


def report(name: str, times: list[float], r: DynamicResult) -> None:
    s = r.solver
    tss = f"at {r.time_to_steady_state:.4g} h" if r.time_to_steady_state is not None else "not reached"
    print(
        f"{name}: median {statistics.median(times):.3f} s, best {min(times):.3f} s ({len(times)} runs); "
        f"{r.times[-1]:.4g} h simulated, steady within {r.tolerance:g} {tss}, end vs simulate "
        f"{r.steady_state_deviation:.1e}; {s['method']} rtol {s['rtol']:g}: {s['steps']} steps, "
        f"{s['rhs_evaluations']} evaluations, {s['jacobians']} Jacobians, {s['lu']} LU; "
        f"mass balance {r.mass_balance_error:.1e}"
    )


def main() -> int:
    print(f"command: {sys.executable} {' '.join(sys.argv)}")
    print(
        f"machine: {platform.machine()}, nproc {os.cpu_count()}, {cpu_model()}, python "
        f"{platform.python_version()}, numpy {np.__version__}, OMP/OPENBLAS threads "
        f"{os.environ['OMP_NUM_THREADS']}/{os.environ['OPENBLAS_NUM_THREADS']}"
    )
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; load average before: {load()}")
    simulate_dynamic(stiff({"mixer_volume": 1.0}))  # warm-up (imports, extractant tables)
    settlers = {"mixer_volume": 1.0, "settler_volume": {"aqueous": 2.0, "organic": 2.0}}
    cases = [
        (
            "start-up, empirical-pH 12 x 60, mixers only (1 L), fresh -> steady within 1e-4",
            stiff({"mixer_volume": 1.0}),
        ),
        (
            "start-up, empirical-pH 12 x 60, 1 L mixers + 2 L settlers per phase, fresh -> steady 1e-4",
            stiff(settlers),
        ),
        (
            "same, settlers as 4 cells in series (plug-flow approximation)",
            stiff(dict(settlers, settler_cells=4)),
        ),
        (
            "same as the second, steady within 1e-8 (rtol 1e-9)",
            stiff(dict(settlers, tolerance=1e-8, rtol=1e-9)),
        ),
        (
            "start-up, constant-distribution 12 x (30 + 30), 1 L mixers + 2 L settlers, fresh -> 1e-4",
            constant(settlers),
        ),
    ]
    for name, spec in cases:
        spec = load_spec(spec)
        times, r = timed(lambda s=spec: simulate_dynamic(s), 5)
        report(name, times, r)
    hard = load_spec(p507(settlers))
    steady_times, _ = timed(lambda: simulate(hard), 3)
    times, r = timed(lambda: simulate_dynamic(hard), 3)
    report(
        "start-up, P507 mass-action 12 x (30 + 30), trapped metal, 1 L mixers + 2 L settlers, -> 1e-4",
        times,
        r,
    )
    print(
        "  of which the steady reference (simulate of the same spec): "
        f"median {statistics.median(steady_times):.3f} s"
    )
    example = load_spec(EXAMPLE)
    times, r = timed(lambda: simulate_dynamic(example), 1)
    report("the shipped example (P507 mass-action Pr|Nd, 30 + 34 stages, 1000 h with a feed step)", times, r)
    print(f"load average after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
