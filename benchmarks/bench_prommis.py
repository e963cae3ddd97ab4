"""Timing of DOE PrOMMiS's steady SX case (12 species, 5 vol% DEHPA, sulfate leach liquor) with our engine.

Reads the shipped spec ``src/mine2magnet/separation/examples/prommis/sx_steady_1_1.yaml`` and solves it at
3 (PrOMMiS's test), 10 and 60 stages (the sizes of the issue's PrOMMiS timings: 4.6 s and 24.8 s end-to-end)
from a cold start with the stage-wise solver, sulfate speciation and the inlet-free extractant basis on.

    .venv/bin/python benchmarks/bench_prommis.py

Prints the median solve time and the end-to-end time of a fresh interpreter that imports mine2magnet and
solves the 10- and 60-stage cases (what "end-to-end" means for PrOMMiS: import, build, initialise, solve).
PrOMMiS itself is not run here (it needs IPOPT's executable, which cannot be installed on this machine), so
no ratio is printed: PrOMMiS's timings quoted beside ours come from another run (the issue's) and are
labelled so. A ratio is only meaningful for both measured in one run on one machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from mine2magnet.separation.equilibrium.distribution import EmpiricalPh
from mine2magnet.separation.solvers.steady.stagewise import StagewiseProblem, solve_stagewise

SPEC = Path(__file__).parents[1] / "src/mine2magnet/separation/examples/prommis/sx_steady_1_1.yaml"
#: PrOMMiS end to end as published in the issue (another run, not measured by this script)
PROMMIS_SECONDS = {10: 4.6, 60: 24.8}


def problem(stages: int) -> StagewiseProblem:
    """The shipped PrOMMiS spec as a stage-wise problem with `stages` extraction stages (feed at the last)."""
    d = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    comps = d["components"]
    z = np.array([d["charges"].get(c, 3) for c in comps], dtype=float)
    coef = d["model"]["coefficients"]
    ext = d["model"]["extractant"]

    def get(key: str) -> np.ndarray:
        return np.array([coef[c].get(key, 0.0) for c in comps], dtype=float)

    model = EmpiricalPh(
        a=get("a0"),
        b=get("b0"),
        a1=get("a1"),
        b1=get("b1"),
        constant=np.array([coef[c].get("D", np.inf) for c in comps], dtype=float),
        volume_percent=ext["volume_percent"],
        free_dosage=ext["free"],
        capacity=(z * ext["per_charge"], ext["concentration"]),
    )
    V, Vorg = d["feed"]["volume_flow"], d["organic"]["volume_flow"]
    C = len(comps)
    feed = np.zeros((stages, C))
    feed[-1] = [d["feed"]["concentration"][c] * V for c in comps]
    acid = np.zeros(stages)
    acid[-1] = d["feed"]["acid"] * V
    sulfate = np.zeros(stages)
    sulfate[-1] = d["feed"]["sulfate"] * V
    org_in = np.array([d["organic"]["concentration"][c] * Vorg for c in comps])  # mol/h
    inlet_basis = ext.get("basis") == "inlet"
    return StagewiseProblem(
        Va=np.full(stages, float(V)),
        Vo=np.full(stages, float(Vorg)),
        vo_in=float(Vorg),
        feed_aq=feed,
        feed_org=np.zeros((stages, C)),
        aq_inlet=np.zeros(C),
        org_inlet=org_in,
        acid_in=acid,
        base_in=np.zeros(stages),
        charge=z,
        model=model,
        proton_balance=True,
        sulfate_in=sulfate,
        bisulfate_ka=10.0 ** -d["model"]["bisulfate_pKa"],
        extra_extractant=float((z * org_in).sum()) / Vorg / ext["concentration"] if inlet_basis else 0.0,
    )


def median_seconds(stages: int, repeats: int = 30) -> tuple[float, int]:
    times = []
    iterations = 0
    for _ in range(repeats):
        pb = problem(stages)
        t0 = time.perf_counter()
        sol = solve_stagewise(pb)
        times.append(time.perf_counter() - t0)
        iterations = sol.iterations
        assert sol.mass_balance_error < 1e-9 and sol.proton_balance_error < 1e-9
    return statistics.median(times), iterations


def end_to_end(stages: int) -> float:
    """Wall time of a fresh interpreter: import mine2magnet, read the spec, solve once."""
    here = str(Path(__file__).parent)
    code = (
        f"import sys; sys.path.insert(0, {here!r}); import bench_prommis as b; "
        "from mine2magnet.separation.solvers.steady.stagewise import solve_stagewise; "
        f"solve_stagewise(b.problem({stages}))"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def main() -> None:
    import datetime
    import os
    import platform

    from machine import cpu_model, load

    print("command: .venv/bin/python benchmarks/bench_prommis.py")
    print(f"machine: {platform.machine()}, nproc {os.cpu_count()}, {cpu_model()}")
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; load average before: {load()}")
    for n in (3, 10, 60):
        t, it = median_seconds(n)
        line = f"PrOMMiS SX case, 12 species, {n:3d} stages: solve median {t * 1e3:7.2f} ms ({it} Newton its)"
        if n in PROMMIS_SECONDS:
            e2e = min(end_to_end(n) for _ in range(3))
            line += (
                f"; end-to-end {e2e:5.2f} s (PrOMMiS not run here; the issue's figure from another run: "
                f"{PROMMIS_SECONDS[n]} s end to end, no ratio)"
            )
        print(line)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
