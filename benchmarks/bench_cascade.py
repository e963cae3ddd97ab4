"""Cascade solver speed: single LSF solves, the stiff 12-component empirical-pH case, batch throughput,
17 rare earths x 200 stages with the P507 separation factors.

Usage: .venv/bin/python benchmarks/bench_cascade.py [--cold-start]
  --cold-start: only the saponified P507 mass-action cold starts (12 rare earths x 40-120 extraction stages,
  and the 64-stage Pr|Nd example), the cliff of issue 16 item 7.
Runs on one core: BLAS/OpenMP threads are pinned to 1 before numpy loads (override by setting them). Prints
medians (and best) of repeated runs, the machine, its load average before and after, and the date.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import datetime  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from machine import cpu_model, load  # noqa: E402
from mine2magnet.separation import load_spec, simulate, simulate_batch  # noqa: E402
from mine2magnet.separation.equilibrium.extractants import load_extractant  # noqa: E402

STIFF = ["La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Y"]


def timed(fn, repeat: int) -> list[float]:
    """Wall times of ``repeat`` calls, seconds (perf_counter_ns)."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t) * 1e-9)
    return out


def report(name: str, times: list[float], unit: float = 1e3, label: str = "ms") -> None:
    print(
        f"{name}: median {statistics.median(times) * unit:.3f} {label}, best {min(times) * unit:.3f} {label} "
        f"({len(times)} runs)"
    )


def p507_spec(cut: str, n: int, m: int) -> dict:
    """15 P507 elements + Pm, Sc (test assumptions: Pm = sqrt(Nd Sm), Sc = 10 Lu), equal feeds, sharp cut."""
    ext = load_extractant("P507")
    beta = ext.separation_factors(ext.order)
    beta["Pm"] = math.sqrt(beta["Nd"] * beta["Sm"])
    beta["Sc"] = 10.0 * beta["Lu"]
    order = sorted(beta, key=beta.get)
    heavy = order.index(cut.split("|")[1])
    feed = {c: 1.0 / len(order) for c in order}
    return {
        "components": order,
        "model": {"type": "loaded-separation-factor", "separation_factors": beta},
        "stages": {"extraction": n, "scrub": m},
        "feed": {"stage": n, "flow": feed},
        "organic": {"ree_flow": 1.0 + sum(feed[c] for c in order[heavy:])},
        "scrub": {"ree_flow": 1.0},
    }


def p507_saponified(stages: int) -> dict:
    """12 rare earths, P507 mass-action (shipped set), 0.5 mol/L (HA)2 20 % saponified, extraction only:
    feed 1 L/h of 0.02 mol/L each at pH 2 into the last stage, organic 2 L/h."""
    return {
        "components": STIFF,
        "model": {"type": "mass-action", "extractant": "P507", "concentration": 0.5, "saponification": 0.2},
        "stages": {"extraction": stages},
        "feed": {"stage": stages, "volume_flow": 1.0, "concentration": {c: 0.02 for c in STIFF}, "pH": 2.0},
        "organic": {"volume_flow": 2.0},
    }


def cold_starts() -> None:
    """Cold-start solves of saponified P507 cascades (median of 3 after one warm-up call)."""
    from pathlib import Path

    import yaml

    example = Path(__file__).resolve().parents[1] / "src/mine2magnet/separation/examples"
    dyn = yaml.safe_load((example / "prnd_mass_action_dynamics.yaml").read_text())
    dyn.pop("dynamics")
    simulate(load_spec(p507_saponified(20)))  # imports, parameter sets
    for n in (40, 60, 90, 120):
        spec = load_spec(p507_saponified(n))
        r = simulate(spec)
        report(
            f"P507 mass-action 12 x {n}, 20 % saponified, cold ({r.iterations} iterations)",
            timed(lambda s=spec: simulate(s), 3),
        )
    spec = load_spec(dyn)
    r = simulate(spec)
    report(
        f"P507 Pr|Nd example 30 + 34 stages, 36 % saponified, cold ({r.iterations} iterations)",
        timed(lambda: simulate(spec), 3),
    )


def main() -> int:
    print(f"command: {sys.executable} {' '.join(sys.argv)}")
    print(
        f"machine: {platform.machine()}, nproc {os.cpu_count()}, {cpu_model()}, python "
        f"{platform.python_version()}, numpy {np.__version__}, OMP/OPENBLAS threads "
        f"{os.environ['OMP_NUM_THREADS']}/{os.environ['OPENBLAS_NUM_THREADS']}"
    )
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; load average before: {load()}")
    if "--cold-start" in sys.argv:
        cold_starts()
        print(f"load average after: {load()}")
        return 0
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
    res = simulate(lsf)
    print(f"  2 x 45: Newton iterations {res.iterations}, feed-stage mismatch {res.residual:.1e}")
    timed(lambda: simulate(lsf), 200)  # warm-up
    report("LSF 2 components x 45 stages, simulate(spec)", timed(lambda: simulate(lsf), 3000))
    report("  same with to_dict() (the JSON contract)", timed(lambda: simulate(lsf).to_dict(), 500))

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

    rng = np.random.default_rng(0)
    B = 20000
    beta = {"Pr": np.ones(B), "Nd": rng.uniform(1.3, 2.0, B)}
    simulate_batch(lsf, separation_factors={"Pr": np.ones(64), "Nd": np.full(64, 1.5)})
    times = timed(lambda: simulate_batch(lsf, separation_factors=beta), 7)
    batch = simulate_batch(lsf, separation_factors=beta)
    print(
        f"batch LSF 2 x 45, {B} cases (beta Nd/Pr 1.3-2.0), one core: "
        f"median {B / statistics.median(times):,.0f} cases/s, best {B / min(times):,.0f} cases/s; "
        f"converged {batch.converged.mean():.4f}, "
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
    print(
        f"  17 x 200 (beta 1.05^i): iterations {rb.iterations}, "
        f"mass-balance error {rb.mass_balance_error:.1e}"
    )
    report("LSF 17 components x 200 stages (adjacent beta 1.05)", timed(lambda: simulate(big), 5))
    for cut in ("Nd|Pm", "Gd|Tb", "Ce|Pr"):
        spec = load_spec(p507_spec(cut, 100, 100))
        rp = simulate(spec)
        print(
            f"  17 x 200 P507 {cut}: iterations {rp.iterations}, residual {rp.residual:.1e}, "
            f"mass-balance error {rp.mass_balance_error:.1e}"
        )
        report(
            f"LSF 17 x 200, P507 factors, sharp cut {cut}, cold start", timed(lambda s=spec: simulate(s), 3)
        )
    print(f"load average after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
