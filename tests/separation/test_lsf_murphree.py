"""Loaded-separation-factor cascades with Murphree stages (issue 16, item 4: plant stages for Xu designs)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import fsolve

from mine2magnet.separation import simulate
from mine2magnet.separation.solvers.steady.loaded_separation_factor import (
    stage_balance_residual,
    stage_totals,
)


def lsf(n: int, m: int, beta: dict, feed: dict, S: float, W: float, **extra) -> dict:
    return {
        "components": list(beta),
        "model": {"type": "loaded-separation-factor", "separation_factors": beta},
        "stages": {"extraction": n, "scrub": m},
        "feed": {"stage": n, "flow": feed},
        "organic": {"ree_flow": S},
        "scrub": {"ree_flow": W},
        **extra,
    }


def test_two_stage_cascade_against_a_general_root_finder():
    """One extraction + one scrub stage, aqueous feed into stage 1, E in the scrub stage. Written out from
    the definition and solved by scipy's fsolve (MINPACK hybrid method), a method the solver does not use:
        stage 1 (ideal, barren organic in):  o1 = O1 beta a1 / sum(beta a1),  a1 + o1 - a2 = f
        stage 2:  o2 = (1 - E) (O2 / O1) o1 + E O2 beta a2 / sum(beta a2),  a2 + o2 - o1 = 0
    with Xu's totals O1 = S, O2 = S - W (the loaded organic; the barren scrub liquor takes W back)."""
    beta = np.array([1.0, 2.0])
    f = np.array([0.4, 0.6])
    S, W, E = 1.0, 0.5, 0.7
    O1, O2 = S, S - W

    def eqs(z):
        a1, o1, a2, o2 = z.reshape(4, 2)
        return np.concatenate(
            [
                o1 - O1 * beta * a1 / (beta * a1).sum(),
                a1 + o1 - a2 - f,
                o2 - (1 - E) * (O2 / O1) * o1 - E * O2 * beta * a2 / (beta * a2).sum(),
                a2 + o2 - o1,
            ]
        )

    ideal = simulate(lsf(1, 1, {"Pr": 1.0, "Nd": 2.0}, {"Pr": 0.4, "Nd": 0.6}, S, W))
    start = np.concatenate([ideal.aqueous[0], ideal.organic[0], ideal.aqueous[1], ideal.organic[1]])
    z = fsolve(eqs, start, xtol=1e-14)
    assert np.abs(eqs(z)).max() < 1e-12
    a1, o1, a2, o2 = z.reshape(4, 2)
    r = simulate(lsf(1, 1, {"Pr": 1.0, "Nd": 2.0}, {"Pr": 0.4, "Nd": 0.6}, S, W, efficiency={"scrub": E}))
    np.testing.assert_allclose(r.aqueous, [a1, a2], rtol=1e-10)
    np.testing.assert_allclose(r.organic, [o1, o2], rtol=1e-10)


def test_efficiency_one_is_the_ideal_cascade_and_lower_efficiency_separates_less():
    base = lsf(30, 30, {"Pr": 1.0, "Nd": 1.5}, {"Pr": 0.25, "Nd": 0.75}, 3.0, 2.4)
    ideal = simulate(base)
    near = simulate({**base, "efficiency": 0.999999})
    np.testing.assert_allclose(near.aqueous, ideal.aqueous, rtol=1e-4)
    impurity = [ideal.outlets["loaded_organic"][0]]
    for E in (0.9, 0.75, 0.6):
        impurity.append(simulate({**base, "efficiency": E}).outlets["loaded_organic"][0])
    assert all(b > a for a, b in itertools.pairwise(impurity))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 15),
    m=st.integers(1, 15),
    b2=st.floats(1.2, 3.0),
    b3=st.floats(1.2, 3.0),
    e_ext=st.floats(0.4, 1.0),
    e_scrub=st.floats(0.4, 1.0),
    phase=st.sampled_from(["aqueous", "organic"]),
)
def test_murphree_stages_conserve_every_component_and_keep_xus_totals(n, m, b2, b3, e_ext, e_scrub, phase):
    beta = {"La": 1.0, "Ce": b2, "Pr": b2 * b3}
    feed = {"La": 0.3, "Ce": 0.5, "Pr": 0.2}
    S, W = (1.3, 0.9) if phase == "aqueous" else (1.8, 1.2)
    spec = lsf(n, m, beta, feed, S, W, efficiency={"extraction": e_ext, "scrub": e_scrub})
    spec["feed"] = {"stage": n if phase == "aqueous" else n + 1, "phase": phase, "flow": feed}
    r = simulate(spec)
    total = np.array(list(feed.values()))
    np.testing.assert_allclose(r.outlets["raffinate"] + r.outlets["loaded_organic"], total, rtol=1e-10)
    fs = spec["feed"]["stage"] - 1
    placed = np.zeros((n + m, 3))
    placed[fs] = total
    assert stage_balance_residual(r.aqueous, r.organic, placed) < 1e-10
    fa = placed[None] if phase == "aqueous" else np.zeros_like(placed[None])
    fo = placed[None] if phase == "organic" else np.zeros_like(placed[None])
    _A, O = stage_totals(np.array([S]), np.array([W]), fa, fo)
    np.testing.assert_allclose(r.organic.sum(1), O[0], rtol=1e-10)
    assert (r.aqueous >= 0).all() and (r.organic >= 0).all()


def test_kinetic_efficiency_needs_volume_flows():
    from mine2magnet.errors import InputError

    base = lsf(5, 5, {"Pr": 1.0, "Nd": 1.5}, {"Pr": 0.25, "Nd": 0.75}, 3.0, 2.4)
    with pytest.raises(InputError, match=r"efficiency\.rate_constant"):
        simulate({**base, "efficiency": {"rate_constant": 10.0, "mixer_volume": 1.0}})
