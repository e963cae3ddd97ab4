"""The loaded-separation-factor (Xu constant mixed-extraction-ratio) cascade against a second method.

The reference is an independent implementation written here with plain Python loops: the bubble-point
(Wang-Henke) iteration for constant-flow cascades, with a scalar Thomas algorithm per component, iterated to
machine precision. The production solver uses Newton's method on log flows with a banded Jacobian.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mine2magnet.errors import InputError
from mine2magnet.separation import simulate


def _thomas(lo: list[float], d: list[float], up: list[float], r: list[float]) -> list[float]:
    n = len(d)
    c = [0.0] * n
    g = [0.0] * n
    c[0] = up[0] / d[0]
    g[0] = r[0] / d[0]
    for k in range(1, n):
        den = d[k] - lo[k] * c[k - 1]
        c[k] = up[k] / den if k < n - 1 else 0.0
        g[k] = (r[k] - lo[k] * g[k - 1]) / den
    x = [0.0] * n
    x[-1] = g[-1]
    for k in range(n - 2, -1, -1):
        x[k] = g[k] - c[k] * x[k + 1]
    return x


def reference_lsf(beta, feed, feed_stage, n, m, S, W, sweeps=5000):
    """Aqueous-feed LSF cascade by bubble-point sweeps; returns (raffinate, loaded organic) per component."""
    N = n + m
    F = sum(feed)
    A = [W + F if k + 1 <= feed_stage else W for k in range(N)]
    A[0] = W + F - S
    O = [S] * N
    O[-1] = S - W
    bm = sum(b * f for b, f in zip(beta, feed, strict=True)) / F
    lam = [O[k] / (A[k] * bm) for k in range(N)]
    for _ in range(sweeps):
        flows = []
        for i, b in enumerate(beta):
            E = [b * lam[k] for k in range(N)]
            lo = [0.0] + [-E[k - 1] for k in range(1, N)]
            d = [1.0 + E[k] for k in range(N)]
            up = [-1.0] * N
            r = [0.0] * N
            r[feed_stage - 1] = feed[i]
            flows.append(_thomas(lo, d, up, r))
        new = []
        for k in range(N):
            tot = sum(fl[k] for fl in flows)
            new.append(O[k] / (A[k] * sum(b * fl[k] / tot for b, fl in zip(beta, flows, strict=True))))
        done = max(abs(x / y - 1.0) for x, y in zip(new, lam, strict=True)) < 1e-15
        lam = new
        if done:
            break
    raff = [fl[0] for fl in flows]
    loaded = [b * lam[-1] * fl[-1] for b, fl in zip(beta, flows, strict=True)]
    return raff, loaded


ISSUE_SPEC = {
    "components": ["Pr", "Nd"],
    "model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0, "Nd": 1.5}},
    "stages": {"extraction": 30, "scrub": 30},
    "feed": {"stage": 30, "phase": "aqueous", "flow": {"Pr": 0.25, "Nd": 0.75}},
    "organic": {"ree_flow": 3.0},
    "scrub": {"ree_flow": 2.4},
}


@pytest.mark.parametrize(
    ("beta", "feed", "n", "m", "S", "W"),
    [
        ((1.0, 1.5), (0.25, 0.75), 30, 30, 3.0, 2.4),
        ((1.0, 2.0), (0.5, 0.5), 10, 12, 1.6, 1.0),
        ((1.0, 1.3, 2.2), (0.3, 0.3, 0.4), 15, 20, 3.5, 2.9),
    ],
)
def test_matches_bubble_point_reference(beta, feed, n, m, S, W):
    comps = ["La", "Ce", "Pr"][: len(beta)]
    spec = {
        "components": comps,
        "model": {
            "type": "loaded-separation-factor",
            "separation_factors": dict(zip(comps, beta, strict=True)),
        },
        "stages": {"extraction": n, "scrub": m},
        "feed": {"stage": n, "flow": dict(zip(comps, feed, strict=True))},
        "organic": {"ree_flow": S},
        "scrub": {"ree_flow": W},
    }
    res = simulate(spec)
    raff, loaded = reference_lsf(beta, feed, n, n, m, S, W)
    for i in range(len(comps)):
        assert res.outlets["raffinate"][i] == pytest.approx(raff[i], rel=1e-9, abs=1e-14)
        assert res.outlets["loaded_organic"][i] == pytest.approx(loaded[i], rel=1e-9, abs=1e-14)
    assert res.mass_balance_error <= 1e-9


def test_issue_example_outlet_totals_and_json():
    res = simulate(ISSUE_SPEC)
    d = res.to_dict()
    assert d["converged"] is True
    # totals fixed by the model: raffinate W + F - S, loaded organic S - W
    assert sum(d["outlets"]["raffinate"]["flow"].values()) == pytest.approx(2.4 + 1.0 - 3.0, rel=1e-12)
    assert sum(d["outlets"]["loaded_organic"]["flow"].values()) == pytest.approx(3.0 - 2.4, rel=1e-12)
    assert d["mass_balance_error"] <= 1e-9
    assert len(d["stages"]) == 60
    assert d["stages"][0]["section"] == "extraction" and d["stages"][-1]["section"] == "scrub"
    for comp in ("Pr", "Nd"):
        rec = d["recovery"][comp]
        assert rec["raffinate"] + rec["loaded_organic"] == pytest.approx(1.0, abs=1e-12)
    # every stage: outgoing organic composition y_i = beta_i x_i / sum beta_j x_j
    for row in d["stages"]:
        x = np.array([row["aqueous"]["Pr"], row["aqueous"]["Nd"]])
        y = np.array([row["organic"]["Pr"], row["organic"]["Nd"]])
        bx = np.array([1.0, 1.5]) * x / x.sum()
        np.testing.assert_allclose(y / y.sum(), bx / bx.sum(), rtol=1e-10)


def test_total_reflux_limit_approaches_fenske():
    """Near total reflux (S, W >> F) the purities obey Fenske: (y/(1-y))_top ((1-x)/x)_bottom = beta^(N+?).

    With stages 1..N in equilibrium and the raffinate and loaded organic in equilibrium with their stages,
    the separation between the outlets at total reflux is beta^N (sx_theory.md a3, N_min = ln(...)/ln beta).
    """
    beta, n, m = 1.5, 10, 10
    spec = {
        "components": ["Pr", "Nd"],
        "model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0, "Nd": beta}},
        "stages": {"extraction": n, "scrub": m},
        "feed": {"stage": n, "flow": {"Pr": 0.5, "Nd": 0.5}},
        "organic": {"ree_flow": 2e4 + 0.5},
        "scrub": {"ree_flow": 2e4},
    }
    res = simulate(spec)
    r = res.outlets["raffinate"]
    lo = res.outlets["loaded_organic"]
    sep = (lo[1] / lo[0]) / (r[1] / r[0])
    # at total reflux the outlets are N equilibrium stages apart: separation = beta^N
    assert math.log(sep) / math.log(beta) == pytest.approx(n + m, rel=2e-3)


@pytest.mark.parametrize(
    ("S", "W", "field"),
    [(3.5, 2.4, "organic.ree_flow"), (2.0, 2.4, "scrub.ree_flow")],
)
def test_flows_that_cannot_carry_the_feed_are_input_errors(S, W, field):
    spec = dict(ISSUE_SPEC, organic={"ree_flow": S}, scrub={"ree_flow": W})
    with pytest.raises(InputError) as err:
        simulate(spec)
    assert err.value.field == field


def test_negative_flow_is_an_input_error():
    spec = dict(ISSUE_SPEC, organic={"ree_flow": -1.0})
    with pytest.raises(InputError, match=r"organic\.ree_flow"):
        simulate(spec)


def test_fifteen_lanthanides_with_shipped_p507_factors():
    """All 15 elements of B2's P507 set (beta spans ~6000 from La to Lu), cold start, 40 stages."""
    from mine2magnet.separation.equilibrium.extractants import load_extractant

    ext = load_extractant("P507")
    comps = list(ext.order)
    spec = {
        "components": comps,
        "model": {"type": "loaded-separation-factor", "separation_factors": ext.separation_factors(comps)},
        "stages": {"extraction": 20, "scrub": 20},
        "feed": {"stage": 20, "flow": {c: 1.0 / len(comps) for c in comps}},
        "organic": {"ree_flow": 1.5},
        "scrub": {"ree_flow": 1.0},
    }
    res = simulate(spec)
    assert res.mass_balance_error <= 1e-9
    rec = res.recovery()
    # recovery to the loaded organic rises along the extraction order
    to_org = [rec[c]["loaded_organic"] for c in comps]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(to_org))


def test_seventeen_components_two_hundred_stages():
    comps = [
        "La",
        "Ce",
        "Pr",
        "Nd",
        "Pm",
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
    ]
    spec = {
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
    res = simulate(spec)
    assert res.mass_balance_error <= 1e-9
    assert res.aqueous.shape == (200, 17)
