"""Physical cascades of 100-200 stages with a strongly scrubbing scrub section, from a cold start.

These raised ``ConvergenceError`` before the cancellation-free start and the scrub-acid homotopy
(``stagewise._acid_continuation``). Each answer is checked from the result alone (every stage's metal balance,
the mass-action law at every stage's pH and free extractant, loading within capacity) and against a second
solve by another path (the acid homotopy run directly, or the components in another order). The property
test draws random physical cascades: each solve converges with its balances closed or raises
``ConvergenceError`` / ``InputError``, never returns unconverged numbers. The heavy sweep (44 cases) is
``benchmarks/bench_convergence.py``.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mine2magnet.errors import ConvergenceError, InputError
from mine2magnet.separation import simulate
from mine2magnet.separation.equilibrium.extractants import load_extractant
from mine2magnet.separation.solvers.steady import stagewise as sw

simulate_module = importlib.import_module("mine2magnet.separation.solvers.steady.simulate")

ALL17 = ["La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y", "Sc"]
DIMER = 0.5  # mol/L (HA)2


def p507_log10_kex(comps: list[str]) -> dict[str, float]:
    """log10 Kex from the shipped P507 factors, anchored at Pr = -1.98 (Pm = sqrt(Nd Sm), Sc = 10 Lu)."""
    ext = load_extractant("P507")
    beta = ext.separation_factors(ext.order)
    beta["Pm"] = math.sqrt(beta["Nd"] * beta["Sm"])
    beta["Sc"] = 10.0 * beta["Lu"]
    return {c: -1.98 + math.log10(beta[c] / beta["Pr"]) for c in comps}


def cascade(comps, n, m, scrub_acid=1.0, sap=0.0, strip=0, phase="aqueous", named=False, empirical=False):
    """Feed 1 L/h, 0.01 mol/L each (organic feed 0.005) at stage n; organic 1 L/h; scrub 0.3 L/h of acid."""
    kex = p507_log10_kex(comps)
    if empirical:
        model = {"type": "empirical-ph", "coefficients": {c: {"a": 3.0, "b": kex[c] - 2.5} for c in comps}}
    else:
        model = {
            "type": "mass-action",
            "extractant": "P507" if named else {"log10_kex": kex},
            "concentration": DIMER,
            "saponification": sap,
        }
    spec = {
        "components": comps,
        "model": model,
        "stages": {"extraction": n, "scrub": m, "strip": strip},
        "feed": {
            "stage": n,
            "phase": phase,
            "volume_flow": 1.0,
            "concentration": {c: 0.01 if phase == "aqueous" else 0.005 for c in comps},
        },
        "organic": {"volume_flow": 1.0},
        "scrub": {"volume_flow": 0.3, "acid": scrub_acid},
    }
    if phase == "aqueous":
        spec["feed"]["pH"] = 1.5
    if strip:
        spec["strip"] = {"volume_flow": 0.2, "acid": 4.0}
    return spec


def independent_checks(spec, result) -> None:
    """Stage balances, the distribution law and the loading, recomputed from the result's profiles."""
    comps = spec["components"]
    n, m = spec["stages"]["extraction"], spec["stages"]["scrub"]
    N = n + m
    aq, og = result.aqueous[:N], result.organic[:N]
    inflow = np.array([spec["feed"]["concentration"][c] * spec["feed"]["volume_flow"] for c in comps])
    feed = np.zeros_like(aq)
    feed[n - 1] = inflow
    aq_next = np.vstack([aq[1:], np.zeros(len(comps))])
    og_prev = np.vstack([np.zeros(len(comps)), og[:-1]])
    r = aq + og - aq_next - og_prev - feed
    scale = aq + og + aq_next + og_prev + feed + 1e-30 * inflow.sum()
    assert float(np.abs(r / scale).max()) < 1e-9
    assert result.mass_balance_error <= 1e-9
    k = np.arange(1, N + 1)
    aq_feed = spec["feed"]["phase"] == "aqueous"
    va = 0.3 + (np.where(k <= n, 1.0, 0.0) if aq_feed else 0.0)
    vo = 1.0 + (0.0 if aq_feed else np.where(k >= n, 1.0, 0.0))
    va, vo = np.broadcast_to(va, (N,)), np.broadcast_to(vo, (N,))
    resolved = (aq > 1e-25 * inflow.sum()) & (og > 1e-25 * inflow.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        logd = np.log10((og / vo[:, None]) / (aq / va[:, None]))
    ph = result.pH[:N]
    model = spec["model"]
    if model["type"] == "empirical-ph":
        a = np.array([model["coefficients"][c]["a"] for c in comps])
        b = np.array([model["coefficients"][c]["b"] for c in comps])
        law = a[None, :] * ph[:, None] + b[None, :]
    else:  # D = Kex [(HA)2]free^3 / [H+]^3 (sx_theory.md a1)
        kex = (
            p507_log10_kex(comps)
            if isinstance(model["extractant"], str)
            else model["extractant"]["log10_kex"]
        )
        loading = result.loading[:N]
        assert np.all((loading > -1e-12) & (loading < 1.0))
        held = (3.0 * og / vo[:, None]).sum(1) / DIMER  # 3 dimers per RE3+ bound
        np.testing.assert_allclose(held, loading, rtol=1e-8, atol=1e-12)
        free = np.log10(DIMER * (1.0 - loading))
        law = np.array([kex[c] for c in comps])[None, :] + 3.0 * free[:, None] + 3.0 * ph[:, None]
    assert float(np.abs(np.where(resolved, logd - law, 0.0)).max()) < 1e-8


def simulate_capturing(spec, monkeypatch):
    """``simulate(spec)`` and the stage-wise problems it handed to the solver (main section, then strip)."""
    seen: list[sw.StagewiseProblem] = []

    def grab(pb):
        seen.append(pb)
        return sw.solve_stagewise(pb)

    monkeypatch.setattr(simulate_module, "solve_stagewise", grab)
    result = simulate(spec)
    monkeypatch.undo()
    return result, seen


def test_p507_fifteen_elements_100_plus_100_stages_1M_scrub(monkeypatch):
    """The documented limit: P507, 15 rare earths, 100 + 100 stages, 1 M scrub acid at 0.3 L/h, no
    saponification. Checked from the result and against the acid homotopy run on its own."""
    comps = list(load_extractant("P507").order)
    spec = cascade(comps, 100, 100, 1.0, named=True)
    result, (pb,) = simulate_capturing(spec, monkeypatch)
    assert result.converged
    independent_checks(spec, result)
    # strong scrub: the light end leaves in the raffinate, the heavy end in the loaded organic
    rec = result.recovery()
    assert rec["La"]["raffinate"] > 0.99 and rec["Lu"]["loaded_organic"] > 0.99
    with np.errstate(all="ignore"):
        x, ok, _, res = sw._acid_continuation(pb)
        assert ok and res < sw.TOLERANCE
        system = sw._System(pb)
        x, res, _ = sw._polish(system, x, res)  # as solve_stagewise finishes every solve
    c_path = system.split(x)[0] * pb.Va[:, None]
    aq = result.aqueous
    big = aq > 1e-20 * aq.sum()
    np.testing.assert_allclose(c_path[big], aq[big], rtol=1e-10)


def test_seventeen_elements_200_stages_with_strip_any_component_order():
    """17 elements (P507 Kex), 100 + 100 stages, 1 M scrub, strip section; the same answer with the
    components in reverse order (another pivot order and solver path)."""
    spec = cascade(ALL17, 100, 100, 1.0, strip=5)
    result = simulate(spec)
    independent_checks(spec, result)
    rev = cascade(ALL17[::-1], 100, 100, 1.0, strip=5)
    other = simulate(rev)
    independent_checks(rev, other)
    a, b = result.aqueous, other.aqueous[:, ::-1]
    big = a > 1e-20 * a.sum()
    np.testing.assert_allclose(b[big], a[big], rtol=1e-10)
    recovered = sum(result.recovery()["Lu"][t] for t in ("raffinate", "strip_liquor", "stripped_organic"))
    assert recovered == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    count=st.integers(2, 17),
    extraction=st.integers(5, 120),
    scrub=st.integers(1, 80),
    scrub_acid=st.floats(0.1, 3.0),
    sap=st.sampled_from([0.0, 0.1, 0.2, 0.4]),
    strip=st.sampled_from([0, 3]),
    phase=st.sampled_from(["aqueous", "organic"]),
    empirical=st.booleans(),
)
def test_random_physical_cascades_converge_or_raise(
    count, extraction, scrub, scrub_acid, sap, strip, phase, empirical
):
    """Every solve converges with its balances and distribution law closed, or raises; never bad numbers."""
    spec = cascade(ALL17[:count], extraction, scrub, scrub_acid, sap, strip, phase, empirical=empirical)
    try:
        result = simulate(spec)
    except (ConvergenceError, InputError):
        return
    assert result.converged
    independent_checks(spec, result)


def test_strip_fed_an_organic_with_nil_metal():
    """A strong scrub sends La-Pr to the raffinate: the loaded organic carries < 1e-250 mol/h, below what
    the strip's concentrations can balance; that metal is nil and the strip section carries none."""
    spec = cascade(ALL17[:3], 59, 66, 0.907, strip=3, empirical=True)
    result = simulate(spec)
    independent_checks(spec, result)
    assert result.outlets["strip_liquor"].sum() == 0.0
    assert sum(result.recovery()["La"].values()) == pytest.approx(1.0, abs=1e-12)


def test_murphree_stages_in_a_200_stage_strong_scrub_cascade():
    """The documented limit with organic-phase Murphree efficiency 0.8 in every stage: balances closed and
    y_k = y_k-1 + E (y*_k - y_k-1) with y*_k = D(pH_k, free extractant_k) c_k at every stage."""
    comps = list(load_extractant("P507").order)
    spec = cascade(comps, 100, 100, 1.0, named=True)
    spec["efficiency"] = 0.8
    result = simulate(spec)
    N = 200
    aq, og = result.aqueous[:N], result.organic[:N]
    inflow = 0.01 * len(comps)
    feed = np.zeros_like(aq)
    feed[99] = 0.01
    aq_next = np.vstack([aq[1:], np.zeros(len(comps))])
    og_prev = np.vstack([np.zeros(len(comps)), og[:-1]])
    r = aq + og - aq_next - og_prev - feed
    assert float(np.abs(r / (aq + og + aq_next + og_prev + feed + 1e-30 * inflow)).max()) < 1e-9
    assert result.mass_balance_error <= 1e-9
    kex = np.array([p507_log10_kex(comps)[c] for c in comps])
    va = 0.3 + np.where(np.arange(1, N + 1) <= 100, 1.0, 0.0)
    free = DIMER * (1.0 - result.loading[:N])
    log_d = kex[None, :] + 3.0 * np.log10(free)[:, None] + 3.0 * result.pH[:N, None]
    y_star = 10.0**log_d * aq / va[:, None]  # organic (1 L/h) in equilibrium with the outgoing aqueous
    expected = og_prev + 0.8 * (y_star - og_prev)
    resolved = og > 1e-25 * inflow
    assert float(np.abs(np.where(resolved, expected / og - 1.0, 0.0)).max()) < 1e-8
