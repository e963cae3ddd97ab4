"""Cold-start convergence of the physical cascade solver on hard 100-200-stage cascades with a scrub section.

A fixed, seeded set of physical cascades (``cases()``): mass-action with the P507, P204 and Cyanex 272 factors
and empirical-pH, 12-17 rare earths, 100-200 stages split between extraction and scrub, scrub acid 0.1-3 M,
saponification 0-40 %, with and without a strip section, aqueous and organic feed. Each case is solved once
from a cold start; the script prints per case whether it converged (and in how long), raised
``ConvergenceError`` or ``InputError``, then the counts and the time quantiles. Every converged answer is
checked from the result alone: each stage's metal balance, the model's distribution law at each stage's pH
and free extractant, and the relative mass balance (<= 1e-9).

Usage: .venv/bin/python benchmarks/bench_convergence.py [--quick] [--cases=0,3]   (--quick: the first 8
cases; --cases: those indices only)
Runs on one core: BLAS/OpenMP threads are pinned to 1 before numpy loads.
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
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from machine import cpu_model, load  # noqa: E402
from mine2magnet.errors import ConvergenceError, InputError  # noqa: E402
from mine2magnet.separation import simulate  # noqa: E402
from mine2magnet.separation.equilibrium.extractants import load_extractant  # noqa: E402

#: log10 Kex of Pr used to anchor the sourced separation factors into extraction constants (mol/L basis).
#: P507: the shipped sourced value; P204 (stronger) and Cyanex 272 (weaker): assumptions for this benchmark.
ANCHOR_PR = {"P507": -1.98, "P204": -0.8, "Cyanex272": -3.2}
#: extractant total dimer concentration, mol/L
DIMER = 0.5


def log10_kex(extractant: str, comps: list[str]) -> dict[str, float]:
    """log10 Kex per component from the shipped separation factors (Pm = sqrt(Nd Sm), Sc = 10 Lu assumed)."""
    ext = load_extractant(extractant)
    beta = ext.separation_factors(ext.order)
    beta["Pm"] = math.sqrt(beta["Nd"] * beta["Sm"])
    beta["Sc"] = 10.0 * beta["Lu"]
    return {c: ANCHOR_PR[extractant] + math.log10(beta[c] / beta["Pr"]) for c in comps}


def components(count: int) -> list[str]:
    """The first ``count`` of P507's extraction order (La ... Lu), plus Pm and Sc for 16-17."""
    order = list(load_extractant("P507").order)
    extra = ["Pm", "Sc"][: max(0, count - len(order))]
    return order[: min(count, len(order))] + extra


def cascade(
    model: str,
    count: int,
    extraction: int,
    scrub: int,
    scrub_acid: float,
    saponification: float = 0.0,
    strip: int = 0,
    phase: str = "aqueous",
    scrub_volume: float = 0.3,
    feed_pH: float = 1.5,
) -> dict[str, Any]:
    """A physical cascade spec (dict). ``model``: P507, P204, Cyanex272 (mass-action) or empirical-ph.

    Feed 1 L/h at 0.01 mol/L of each rare earth (organic feed: 0.005 mol/L in 1 L/h of loaded organic) into
    stage ``extraction``; organic 1 L/h, 0.5 M dimer; scrub liquor ``scrub_volume`` L/h of ``scrub_acid`` M
    H+; strip liquor 0.2 L/h of 4 M H+.
    """
    comps = components(count)
    kex = log10_kex("P507" if model == "empirical-ph" else model, comps)
    if model == "empirical-ph":  # log10 D = 3 pH + b: D(pH 1.5) 10^(b + 4.5)
        spec_model: dict[str, Any] = {
            "type": "empirical-ph",
            "coefficients": {c: {"a": 3.0, "b": round(kex[c] - 2.5, 6)} for c in comps},
        }
    else:
        extractant: Any = model if (model == "P507" and count <= 15) else {"log10_kex": kex}
        spec_model = {
            "type": "mass-action",
            "extractant": extractant,
            "concentration": DIMER,
            "saponification": saponification,
        }
    spec: dict[str, Any] = {
        "components": comps,
        "model": spec_model,
        "stages": {"extraction": extraction, "scrub": scrub, "strip": strip},
        "feed": {
            "stage": extraction,
            "phase": phase,
            "volume_flow": 1.0,
            "concentration": {c: (0.01 if phase == "aqueous" else 0.005) for c in comps},
        },
        "organic": {"volume_flow": 1.0},
        "scrub": {"volume_flow": scrub_volume, "acid": scrub_acid},
    }
    if phase == "aqueous":
        spec["feed"]["pH"] = feed_pH
    if strip:
        spec["strip"] = {"volume_flow": 0.2, "acid": 4.0}
    return spec


def cases(count: int = 40, seed: int = 2026) -> list[tuple[str, dict[str, Any]]]:
    """The named hard cases of docs/cascade-spec.md, then ``count`` seeded random ones."""
    out = [
        ("spec: P507 15 x (100+100), 1 M scrub", cascade("P507", 15, 100, 100, 1.0)),
        ("spec: P507 17 x (100+100) + strip 5", cascade("P507", 17, 100, 100, 1.0, strip=5)),
        ("P507 15 x (100+100), 3 M scrub", cascade("P507", 15, 100, 100, 3.0)),
        ("empirical-ph 15 x (100+100), 1 M scrub", cascade("empirical-ph", 15, 100, 100, 1.0)),
    ]
    rng = np.random.default_rng(seed)
    models = ["P507", "P204", "Cyanex272", "empirical-ph"]
    for j in range(count):
        model = models[j % 4]
        total = int(rng.integers(100, 201))
        n = int(rng.integers(total // 4, 3 * total // 4))
        kw = {
            "count": int(rng.integers(12, 18)),
            "extraction": n,
            "scrub": total - n,
            "scrub_acid": float(np.round(10.0 ** rng.uniform(-1.0, math.log10(3.0)), 3)),
            "saponification": float(rng.choice([0.0, 0.0, 0.1, 0.2, 0.4]))
            if model != "empirical-ph"
            else 0.0,
            "strip": int(rng.choice([0, 5])),
            "phase": str(rng.choice(["aqueous", "aqueous", "organic"])),
        }
        label = (
            f"{model} {kw['count']} x ({n}+{total - n}), scrub {kw['scrub_acid']} M, "
            f"sap {kw['saponification']}, strip {kw['strip']}, {kw['phase']} feed"
        )
        out.append((label, cascade(model, **kw)))
    return out


def cases_index(label: str) -> int:
    """Index of a case (by its label) in ``cases()``."""
    return [lab for lab, _ in cases()].index(label)


def check(spec: dict[str, Any], result: Any) -> tuple[float, float]:
    """(worst relative stage metal-balance error, worst |log10 D - law|) of a result, from its profiles."""
    comps = spec["components"]
    n, m = spec["stages"]["extraction"], spec["stages"]["scrub"]
    N = n + m
    aq, og = result.aqueous[:N], result.organic[:N]
    feed = np.zeros_like(aq)
    inflow = np.array([spec["feed"]["concentration"][c] * spec["feed"]["volume_flow"] for c in comps])
    aq_feed = spec["feed"]["phase"] == "aqueous"
    feed[n - 1] = inflow
    aq_next = np.vstack([aq[1:], np.zeros(len(comps))])
    og_prev = np.vstack([np.zeros(len(comps)), og[:-1]])
    r = aq + og - aq_next - og_prev - feed
    scale = aq + og + aq_next + og_prev + feed + 1e-30 * inflow.sum()
    balance = float(np.abs(r / scale).max())
    k = np.arange(1, N + 1)
    vs = spec["scrub"]["volume_flow"]
    va = vs + (np.where(k <= n, 1.0, 0.0) if aq_feed else np.zeros(N))
    vo = 1.0 + (np.zeros(N) if aq_feed else np.where(k >= n, 1.0, 0.0))
    model = spec["model"]
    with np.errstate(divide="ignore", invalid="ignore"):
        logd = np.log10((og / vo[:, None]) / (aq / va[:, None]))
    ph = result.pH[:N]
    if model["type"] == "empirical-ph":
        law = np.array(
            [[model["coefficients"][c]["a"] * p + model["coefficients"][c]["b"] for c in comps] for p in ph]
        )
    else:
        kex = (
            log10_kex("P507", comps)
            if isinstance(model["extractant"], str)
            else model["extractant"]["log10_kex"]
        )
        free = np.log10(DIMER * (1.0 - result.loading[:N]))
        law = np.array([kex[c] for c in comps])[None, :] + 3.0 * free[:, None] + 3.0 * ph[:, None]
    resolved = (aq > 1e-25 * inflow.sum()) & (og > 1e-25 * inflow.sum())
    law_err = float(np.abs(np.where(resolved, logd - law, 0.0)).max())
    return balance, law_err


def main() -> int:
    quick = "--quick" in sys.argv
    print(f"command: {sys.executable} {' '.join(sys.argv)}")
    print(
        f"machine: {platform.machine()}, nproc {os.cpu_count()}, {cpu_model()}, python "
        f"{platform.python_version()}, numpy {np.__version__}"
    )
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; load average before: {load()}")
    todo = cases()[:8] if quick else cases()
    for arg in sys.argv[1:]:
        if arg.startswith("--cases="):  # e.g. --cases=0,3,7: only those (indices into cases())
            todo = [todo[int(i)] for i in arg.split("=", 1)[1].split(",")]
    times: list[float] = []
    failed: list[str] = []
    bad: list[str] = []
    inputs = 0
    for label, spec in todo:
        label = f"[{cases_index(label)}] {label}"
        t = time.perf_counter()
        try:
            res = simulate(spec)
        except ConvergenceError as exc:
            dt = time.perf_counter() - t
            failed.append(label)
            print(f"FAIL  {dt:7.2f} s  {label}: {exc}", flush=True)
            continue
        except InputError as exc:
            inputs += 1
            print(f"INPUT {time.perf_counter() - t:7.2f} s  {label}: {exc}", flush=True)
            continue
        dt = time.perf_counter() - t
        times.append(dt)
        balance, law = check(spec, res)
        ok = res.mass_balance_error <= 1e-9 and balance < 1e-9 and law < 1e-8
        if not ok:
            bad.append(label)
        print(
            f"{'ok' if ok else 'WRONG'}    {dt:7.2f} s  {label}: iterations {res.iterations}, mass balance "
            f"{res.mass_balance_error:.1e}, stage balance {balance:.1e}, D law {law:.1e}",
            flush=True,
        )
    print(
        f"cases {len(todo)}: converged {len(times)} (checks failed {len(bad)}), ConvergenceError "
        f"{len(failed)}, InputError {inputs}"
    )
    if times:
        q = np.quantile(times, [0.5, 0.9])
        print(
            f"converged solve time: median {statistics.median(times):.2f} s, p90 {q[1]:.2f} s, "
            f"max {max(times):.2f} s, total {sum(times):.1f} s"
        )
    print(f"load average after: {load()}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
