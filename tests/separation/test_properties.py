"""Invariants of the cascade solvers on random specs (hypothesis): mass balance, permutation invariance,
monotone scrub effect, recoveries in [0, 1], and batch == single."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mine2magnet.separation import simulate, simulate_batch

COMPS = ["La", "Ce", "Pr", "Nd", "Sm", "Gd", "Dy", "Y"]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def lsf_specs(draw, max_components=5):
    # Separation factors up to 20 and 60 stages per section: trace outlets far below 1e-100 of the feed
    # (the two-component and shooting solvers resolve them; every case must converge).
    C = draw(st.integers(2, max_components))
    comps = COMPS[:C]
    betas = draw(st.lists(st.floats(1.0, 20.0), min_size=C, max_size=C))
    feed = draw(st.lists(st.floats(0.01, 1.0), min_size=C, max_size=C))
    n = draw(st.integers(1, 60))
    m = draw(st.integers(0, 60))
    F = sum(feed)
    W = draw(st.floats(0.05, 5.0)) if m > 0 else 0.0
    # S between W and W + F (both outlets positive)
    S = W + F * draw(st.floats(0.05, 0.95))
    stage = draw(st.integers(1, n + m)) if m > 0 else n
    phase = draw(st.sampled_from(["aqueous", "organic"])) if m > 0 else "aqueous"
    if phase == "organic":
        S = max(S, F * 1.05)  # the organic below an organic feed must carry metal
        if S - W <= 0 or W + F - S <= 0:
            phase = "aqueous"
            S = W + 0.5 * F
    return {
        "components": comps,
        "model": {
            "type": "loaded-separation-factor",
            "separation_factors": dict(zip(comps, betas, strict=True)),
        },
        "stages": {"extraction": n, "scrub": m},
        "feed": {"stage": stage, "phase": phase, "flow": dict(zip(comps, feed, strict=True))},
        "organic": {"ree_flow": S},
        "scrub": {"ree_flow": W},
    }


@FAST
@given(lsf_specs())
def test_lsf_mass_balance_and_recovery_bounds(spec):
    res = simulate(spec)
    assert res.mass_balance_error <= 1e-9
    rec = res.recovery()
    for comp in spec["components"]:
        for v in rec[comp].values():
            assert -1e-12 <= v <= 1 + 1e-12
        assert sum(rec[comp].values()) == pytest.approx(1.0, abs=1e-9)
    assert np.all(res.aqueous >= 0) and np.all(res.organic >= 0)


@FAST
@given(lsf_specs(), st.randoms(use_true_random=False))
def test_lsf_component_order_does_not_matter(spec, rnd):
    res = simulate(spec)
    perm = list(spec["components"])
    rnd.shuffle(perm)
    res2 = simulate(dict(spec, components=perm))
    for i, comp in enumerate(spec["components"]):
        j = perm.index(comp)
        for name in res.outlets:
            assert res2.outlets[name][j] == pytest.approx(res.outlets[name][i], rel=1e-8, abs=1e-13)


@FAST
@given(
    beta=st.floats(1.2, 3.0),
    fa=st.floats(0.1, 0.9),
    n=st.integers(3, 25),
    m=st.integers(1, 25),
    reflux=st.floats(0.5, 4.0),
    split=st.floats(0.2, 0.8),
)
def test_more_scrub_stages_never_lower_extract_purity(beta, fa, n, m, reflux, split):
    """At fixed S, W and feed, adding a scrub stage cannot make the loaded organic less pure."""
    W = reflux
    S = W + split  # F = 1

    def purity(scrub_stages):
        res = simulate(
            {
                "components": ["Pr", "Nd"],
                "model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0, "Nd": beta}},
                "stages": {"extraction": n, "scrub": scrub_stages},
                "feed": {"stage": n, "flow": {"Pr": 1 - fa, "Nd": fa}},
                "organic": {"ree_flow": S},
                "scrub": {"ree_flow": W},
            }
        )
        lo = res.outlets["loaded_organic"]
        return lo[1] / lo.sum()

    assert purity(m + 1) >= purity(m) * (1 - 1e-9)  # equal within solver accuracy at a pinch


@FAST
@given(
    C=st.integers(1, 4),
    D=st.lists(st.floats(0.05, 20.0), min_size=4, max_size=4),
    n=st.integers(1, 30),
    ratio=st.floats(0.2, 5.0),
    eta=st.floats(0.3, 1.0),
)
def test_constant_distribution_mass_balance(C, D, n, ratio, eta):
    comps = COMPS[:C]
    res = simulate(
        {
            "components": comps,
            "model": {
                "type": "constant-distribution",
                "distribution_ratios": dict(zip(comps, D[:C], strict=True)),
            },
            "stages": {"extraction": n},
            "feed": {"stage": n, "volume_flow": 1.0, "concentration": {c: 0.1 for c in comps}},
            "organic": {"volume_flow": ratio},
            "efficiency": eta,
        }
    )
    assert res.mass_balance_error <= 1e-9
    assert np.all(res.aqueous >= -1e-15)


@FAST
@given(
    C=st.integers(1, 6),
    b0=st.floats(-2.5, 1.5),
    ph=st.floats(0.5, 3.0),
    n=st.integers(1, 30),
    ratio=st.floats(0.3, 3.0),
    conc=st.floats(1e-4, 0.05),
)
def test_empirical_ph_balances_on_random_specs(C, b0, ph, n, ratio, conc):
    comps = COMPS[:C]
    res = simulate(
        {
            "components": comps,
            "model": {
                "type": "empirical-ph",
                "coefficients": {c: {"a": 2.0 + 0.2 * i, "b": b0 + 0.3 * i} for i, c in enumerate(comps)},
            },
            "stages": {"extraction": n},
            "feed": {"stage": n, "volume_flow": 1.0, "concentration": {c: conc for c in comps}, "pH": ph},
            "organic": {"volume_flow": ratio},
        }
    )
    assert res.mass_balance_error <= 1e-9
    # electroneutral raffinate: acid in + 3 x metal in = H+ out + 3 x metal out (chloride conserved)
    cl = 10.0**-ph + 3 * conc * C
    h = 10.0 ** -res.outlet_pH["raffinate"]
    assert h + 3 * res.outlets["raffinate"].sum() == pytest.approx(cl, rel=1e-9)


@FAST
@given(lsf_specs(max_components=2))
def test_batch_equals_single(spec):
    comps = spec["components"]
    betas = np.array([[spec["model"]["separation_factors"][c] for c in comps]] * 3)
    betas[1, 1] *= 1.1
    betas[2, 0] *= 1.2
    batch = simulate_batch(spec, separation_factors=betas)
    assert batch.converged.all()
    for k in range(3):
        single = simulate(
            dict(
                spec,
                model={
                    "type": "loaded-separation-factor",
                    "separation_factors": dict(zip(comps, betas[k], strict=True)),
                },
            )
        )
        np.testing.assert_allclose(batch.raffinate[k], single.outlets["raffinate"], rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(
            batch.loaded_organic[k], single.outlets["loaded_organic"], rtol=1e-9, atol=1e-14
        )
