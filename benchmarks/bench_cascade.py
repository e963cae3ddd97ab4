"""Cascade solver speed: single LSF solves, the stiff 12-component empirical-pH case, batch throughput.

Usage: .venv/bin/python benchmarks/bench_cascade.py
Prints medians (and best) of repeated runs; single-threaded numpy/LAPACK is what one core gives.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time

import numpy as np

from mine2magnet.separation import load_spec, simulate, simulate_batch

STIFF = ["La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Y"]


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def report(name: str, times: list[float], unit: float = 1e3, label: str = "ms") -> None:
    print(
        f"{name}: median {statistics.median(times) * unit:.3f} {label}, best {min(times) * unit:.3f} {label}"
    )


def main() -> int:
    print(f"command: {sys.executable} {' '.join(sys.argv)}")
    print(f"machine: {platform.machine()}, nproc {os.cpu_count()}, python {platform.python_version()}")
    lsf = load_spec(
        {
            "components": ["Pr", "Nd"],
            "model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0, "Nd": 1.5}},
            "stages": {"extraction": 25, "scrub": 20},
            "feed": {"stage": 25, "flow": {"Pr": 0.25, "Nd": 0.75}},
            "organic": {"ree_flow": 3.0},
            "scrub": {"ree_flow": 2.4},
        }
    )
    simulate(lsf)
    report("LSF 2 components x 45 stages, simulate(spec)", timed(lambda: simulate(lsf), 300))

    stiff = load_spec(
        {
            "components": STIFF,
            "model": {
                "type": "empirical-ph",
                "coefficients": {c: {"a": 3.0, "b": -1.0 + 0.25 * i} for i, c in enumerate(STIFF)},
            },
            "stages": {"extraction": 60},
            "feed": {"stage": 60, "volume_flow": 1.0, "concentration": {c: 0.01 for c in STIFF}, "pH": 1.5},
            "organic": {"volume_flow": 1.0},
        }
    )
    res = simulate(stiff)
    print(f"  stiff case: raffinate pH {res.outlet_pH['raffinate']:.3f}, iterations {res.iterations}")
    report(
        "empirical-pH 12 components x 60 stages, proton balance, cold start",
        timed(lambda: simulate(stiff), 30),
    )
    stiff2 = load_spec(
        {
            "components": STIFF,
            "model": {
                "type": "empirical-ph",
                "coefficients": {c: {"a": 3.0, "b": -2.0 + 0.25 * i} for i, c in enumerate(STIFF)},
            },
            "stages": {"extraction": 60},
            "feed": {"stage": 60, "volume_flow": 1.0, "concentration": {c: 0.01 for c in STIFF}, "pH": 1.5},
            "organic": {"volume_flow": 1.0},
        }
    )
    res2 = simulate(stiff2)
    print(
        f"  harder variant (b0 = -2): raffinate pH {res2.outlet_pH['raffinate']:.3f}, "
        f"iterations {res2.iterations}"
    )
    report("empirical-pH 12 x 60, b0 = -2 variant", timed(lambda: simulate(stiff2), 30))

    rng = np.random.default_rng(0)
    B = 20000
    beta = {"Pr": np.ones(B), "Nd": rng.uniform(1.3, 2.0, B)}
    simulate_batch(lsf, separation_factors={"Pr": np.ones(64), "Nd": np.full(64, 1.5)})
    times = timed(lambda: simulate_batch(lsf, separation_factors=beta), 3)
    batch = simulate_batch(lsf, separation_factors=beta)
    print(
        f"batch LSF 2 x 45, {B} cases (beta Nd/Pr 1.3-2.0): median {B / statistics.median(times):,.0f} "
        f"cases/s, best {B / min(times):,.0f} cases/s; converged {batch.converged.mean():.4f}, "
        f"max mass-balance error {np.nanmax(batch.mass_balance_error):.1e}"
    )

    comps = [
        "La",
        "Ce",
        "Pr",
        "Nd",
        "Sm",
        "Eu",
        "Gd",
        "Tb",
        "Dy",
        "Ho",
        "Er",
        "Tm",
        "Yb",
        "Lu",
        "Y",
        "Sc",
        "Pm",
    ]
    big = load_spec(
        {
            "components": comps,
            "model": {
                "type": "loaded-separation-factor",
                "separation_factors": {c: 1.05**i for i, c in enumerate(comps)},
            },
            "stages": {"extraction": 100, "scrub": 100},
            "feed": {"stage": 100, "flow": {c: 1.0 / 17 for c in comps}},
            "organic": {"ree_flow": 1.5},
            "scrub": {"ree_flow": 1.0},
        }
    )
    rb = simulate(big)
    print(f"  17 x 200: iterations {rb.iterations}, mass-balance error {rb.mass_balance_error:.1e}")
    report("LSF 17 components x 200 stages (adjacent beta 1.05)", timed(lambda: simulate(big), 5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
