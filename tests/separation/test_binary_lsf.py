"""The exact two-component LSF solver (one scalar equation, Moebius matrix powers) against second methods.

References: (1) the plain-Python bubble-point (Wang-Henke) iteration of test_loaded_separation_factor
(aqueous feeds); (2) a 40-digit decimal reference written here: stage-by-stage shooting from both outlets
(no matrix powers, no Newton) with the raffinate flow found by bisection; (3) the general block-tridiagonal
Newton solver on the stage compositions (``solve_lsf``) on well-conditioned cases; (4) the stage equations
themselves, checked on the returned profiles (balances and equilibrium of every stage).
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_loaded_separation_factor import reference_lsf

from mine2magnet.separation import simulate, simulate_batch
from mine2magnet.separation.solvers.steady.binary_lsf import (
    BinaryBatch,
    BinaryCascade,
    solve_binary_lsf,
    solve_binary_lsf_batch,
)
from mine2magnet.separation.solvers.steady.loaded_separation_factor import solve_lsf, stage_balance_residual

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _spec(beta, feed, n, m, S, W, stage=None, phase="aqueous"):
    return {
        "components": ["Pr", "Nd"],
        "model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0, "Nd": beta}},
        "stages": {"extraction": n, "scrub": m},
        "feed": {"stage": stage or n, "phase": phase, "flow": {"Pr": feed[0], "Nd": feed[1]}},
        "organic": {"ree_flow": S},
        "scrub": {"ree_flow": W},
    }


def _general(spec_dict):
    """The block-tridiagonal Newton solver (a different algorithm), tolerance 1e-14."""
    n, m = spec_dict["stages"]["extraction"], spec_dict["stages"].get("scrub", 0)
    N = n + m
    f = np.array([spec_dict["feed"]["flow"]["Pr"], spec_dict["feed"]["flow"]["Nd"]])
    fa = np.zeros((1, N, 2))
    fo = np.zeros_like(fa)
    (fa if spec_dict["feed"]["phase"] == "aqueous" else fo)[0, spec_dict["feed"]["stage"] - 1] = f
    beta = np.array([[1.0, spec_dict["model"]["separation_factors"]["Nd"]]])
    sol = solve_lsf(
        beta,
        fa,
        fo,
        np.array([spec_dict["organic"]["ree_flow"]]),
        np.array([spec_dict["scrub"]["ree_flow"]]),
        tolerance=1e-14,
    )
    assert sol.converged[0]
    return sol.aqueous[0], sol.organic[0]


@pytest.mark.parametrize(
    ("beta", "feed", "n", "m", "S", "W"),
    [
        ((1.0, 1.5), (0.25, 0.75), 30, 30, 3.0, 2.4),
        ((1.0, 2.0), (0.5, 0.5), 10, 12, 1.6, 1.0),
        ((1.0, 1.2), (0.7, 0.3), 40, 45, 5.0, 4.7),
        ((1.0, 4.0), (0.9, 0.1), 8, 15, 0.5, 0.42),
    ],
)
def test_matches_bubble_point_reference(beta, feed, n, m, S, W):
    res = simulate(_spec(beta[1], feed, n, m, S, W))
    raff, loaded = reference_lsf(beta, feed, n, n, m, S, W)
    np.testing.assert_allclose(res.outlets["raffinate"], raff, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(res.outlets["loaded_organic"], loaded, rtol=1e-10, atol=1e-15)


@st.composite
def binary_specs(draw):
    beta = draw(st.floats(1.0, 8.0))
    fa = draw(st.floats(0.02, 0.98))
    n = draw(st.integers(1, 60))
    m = draw(st.integers(0, 60))
    W = draw(st.floats(0.05, 20.0)) if m > 0 else 0.0
    S = W + draw(st.floats(0.03, 0.97))  # F = 1: both outlets carry metal
    stage = draw(st.integers(1, n + m)) if m > 0 else n
    phase = "aqueous"
    if m > 0 and S > 1.05 and draw(st.booleans()):
        phase = "organic"  # the organic below an organic feed must still carry metal (S > F)
    return _spec(beta, (1.0 - fa, fa), n, m, S, W, stage=stage, phase=phase)


def decimal_reference(spec: dict) -> tuple[float, float]:
    """(raffinate Nd, loaded-organic Pr), mol/h, to 40 digits: shooting + bisection on the raffinate Nd.

    Below the feed stage f: a_{k+1} = r + o_k (stages 1..k balanced, barren organic in); above it:
    o_{k-1} = p + a_k (stages k..N, barren scrub liquor in); equilibrium y = beta x / sum(beta x) in each
    stage; r + p = F. The organic leaving stage f from below must have the composition of the one from
    above; that mismatch rises with the raffinate's Nd, so bisection finds it.
    """
    with localcontext() as ctx:
        ctx.prec = 40
        n, m = spec["stages"]["extraction"], spec["stages"]["scrub"]
        N, f = n + m, spec["feed"]["stage"]
        beta = Decimal(spec["model"]["separation_factors"]["Nd"])
        fb, fa = (Decimal(spec["feed"]["flow"][c]) for c in ("Pr", "Nd"))
        S, W = Decimal(spec["organic"]["ree_flow"]), Decimal(spec["scrub"]["ree_flow"])
        F = fa + fb
        O_low = S - F if spec["feed"]["phase"] == "organic" else S
        A1 = W + F - S
        if beta == 1:  # no separation: every stage holds the feed's composition, the outlets split by flow
            return float(A1 * fa / F), float((S - W) * fb / F)

        def mismatch(r_a: Decimal) -> Decimal:
            r_b = A1 - r_a
            p_a, p_b = fa - r_a, fb - r_b
            va, vb = r_a, r_b
            for _ in range(f - 1):
                t = O_low / (beta * va + vb)
                va, vb = r_a + beta * va * t, r_b + vb * t
            wa, wb = p_a, p_b
            for _ in range(N - f):
                t = W / (wa / beta + wb)
                wa, wb = p_a + wa / beta * t, p_b + wb * t
            num, den = beta * va * wb, vb * wa
            if num == 0 or den == 0:  # an outlet flow below 40 digits: the sign of the mismatch is known
                return Decimal("-Infinity") if num == 0 else Decimal("Infinity")
            return (num / den).ln()

        # raffinate Nd between A1 - F_Pr (no Pr in the extract) and min(F_Nd, A1), from the same rounded A1
        lo, hi = max(A1 - fb, Decimal("1e-200")), min(fa, A1)
        while (hi - lo) > hi * Decimal("1e-30"):
            mid = (lo * hi).sqrt() if hi > 16 * lo else (lo + hi) / 2
            if mismatch(mid) < 0:
                lo = mid
            else:
                hi = mid
        r_a = (lo + hi) / 2
        return float(r_a), float(fb - (A1 - r_a))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(binary_specs())
def test_agrees_with_a_decimal_reference(spec):
    """Including balanced sharp splits (S - W = F_Nd), where the trace outlets are most sensitive."""
    res = simulate(spec)
    raff_nd, loaded_pr = decimal_reference(spec)
    assert res.outlets["raffinate"][1] == pytest.approx(raff_nd, rel=1e-10, abs=1e-15)
    assert res.outlets["loaded_organic"][0] == pytest.approx(loaded_pr, rel=1e-10, abs=1e-15)


def test_balanced_sharp_split_against_the_decimal_reference():
    """S - W equals the Nd feed exactly: the raffinate's Nd equals the extract's Pr (~2e-12 of the feed)."""
    spec = _spec(3.0, (0.236328125, 0.763671875), 5, 52, 4.763671875, 4.0, stage=23)
    res = simulate(spec)
    raff_nd, loaded_pr = decimal_reference(spec)
    assert raff_nd < 1e-11
    assert res.outlets["raffinate"][1] == pytest.approx(raff_nd, rel=1e-12)
    assert res.outlets["loaded_organic"][0] == pytest.approx(loaded_pr, rel=1e-12)


@pytest.mark.parametrize(
    "spec",
    [
        _spec(1.5, (0.25, 0.75), 25, 20, 3.0, 2.4),
        _spec(1.5, (0.25, 0.75), 25, 20, 3.0, 2.4, stage=30, phase="organic"),
        _spec(2.2, (0.6, 0.4), 12, 30, 6.0, 5.5, stage=1, phase="organic"),
        _spec(1.3, (0.5, 0.5), 30, 0, 0.6, 0.0),
        _spec(1.8, (0.4, 0.6), 15, 15, 2.0, 1.7, stage=30),
    ],
)
def test_agrees_with_the_block_tridiagonal_solver(spec):
    res = simulate(spec)
    aq, org = _general(spec)
    np.testing.assert_allclose(res.aqueous, aq, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(res.organic, org, rtol=1e-10, atol=1e-15)


@FAST
@given(binary_specs())
def test_profiles_satisfy_every_stage_equation(spec):
    res = simulate(spec)
    N = len(res.sections)
    feed = np.zeros((N, 2))
    feed[spec["feed"]["stage"] - 1] = res.feed
    assert stage_balance_residual(res.aqueous, res.organic, feed) < 1e-12
    beta = np.array([1.0, spec["model"]["separation_factors"]["Nd"]])
    y = res.organic / res.organic.sum(1, keepdims=True)
    bx = beta * res.aqueous
    np.testing.assert_allclose(y, bx / bx.sum(1, keepdims=True), rtol=1e-12, atol=1e-300)
    assert res.mass_balance_error <= 1e-12
    # fixed totals of the model: raffinate W + F - S, loaded organic S - W
    S, W = spec["organic"]["ree_flow"], spec["scrub"]["ree_flow"]
    assert res.outlets["raffinate"].sum() == pytest.approx(W + 1.0 - S, rel=1e-12)
    assert res.outlets["loaded_organic"].sum() == pytest.approx(S - W, rel=1e-12)


def test_trace_flows_far_below_the_feed_keep_relative_accuracy():
    """beta 3, 100 + 100 stages: the raffinate's Nd is ~1e-39 of the feed, still resolved relatively."""
    spec = _spec(3.0, (0.5, 0.5), 100, 100, 1.6, 1.0)
    res = simulate(spec)
    assert res.outlets["raffinate"][1] < 1e-35
    aq, org = _general(spec)
    np.testing.assert_allclose(res.outlets["raffinate"], aq[0], rtol=1e-9)
    np.testing.assert_allclose(res.outlets["loaded_organic"], org[-1], rtol=1e-9)


def test_total_reflux_separation_is_beta_to_the_stage_count():
    """S, W >> F: the outlets are N equilibrium stages apart (Fenske, sx_theory.md a3)."""
    beta, n, m = 1.5, 10, 10
    res = simulate(_spec(beta, (0.5, 0.5), n, m, 2e6 + 0.5, 2e6))
    r, lo = res.outlets["raffinate"], res.outlets["loaded_organic"]
    sep = (lo[1] / lo[0]) / (r[1] / r[0])
    assert math.log(sep) / math.log(beta) == pytest.approx(n + m, rel=1e-5)


def test_equal_separation_factors_leave_the_feed_composition():
    res = simulate(_spec(1.0, (0.3, 0.7), 12, 9, 2.0, 1.5))
    for name in ("raffinate", "loaded_organic"):
        flow = res.outlets[name]
        assert flow[1] / flow.sum() == pytest.approx(0.7, rel=1e-12)


@FAST
@given(binary_specs())
def test_vectorised_and_scalar_solvers_agree(spec):
    n, m = spec["stages"]["extraction"], spec["stages"]["scrub"]
    S, W = spec["organic"]["ree_flow"], spec["scrub"]["ree_flow"]
    fb, fa = spec["feed"]["flow"]["Pr"], spec["feed"]["flow"]["Nd"]
    beta = spec["model"]["separation_factors"]["Nd"]
    organic_below = S - 1.0 if spec["feed"]["phase"] == "organic" else S
    c = BinaryCascade(beta, fa, fb, n + m, spec["feed"]["stage"], W + 1.0 - S, S - W, organic_below, W)
    one = solve_binary_lsf(c)
    arr = [np.full(3, v) for v in (beta, fa, fb)]
    rest = [np.full(3, v) for v in (W + 1.0 - S, S - W, organic_below, W)]
    raff, loaded, ok, _, _ = solve_binary_lsf_batch(BinaryBatch(*arr, n + m, spec["feed"]["stage"], *rest))
    assert one.converged and ok.all()
    np.testing.assert_allclose(raff, np.broadcast_to(one.raffinate, (3, 2)), rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(loaded, np.broadcast_to(one.loaded, (3, 2)), rtol=1e-11, atol=1e-300)


def test_batch_of_two_components_uses_either_component_order():
    """Cases where the first component is the more extractable one give the mirrored answer."""
    spec = _spec(1.5, (0.25, 0.75), 20, 20, 3.0, 2.4)
    beta = np.array([[1.0, 1.5], [1.5, 1.0]])
    feed = np.array([[0.25, 0.75], [0.75, 0.25]])
    batch = simulate_batch(spec, separation_factors=beta, feed_flow=feed)
    assert batch.converged.all()
    np.testing.assert_allclose(batch.raffinate[1], batch.raffinate[0][::-1], rtol=1e-13)
    np.testing.assert_allclose(batch.loaded_organic[1], batch.loaded_organic[0][::-1], rtol=1e-13)
    single = simulate(spec)
    np.testing.assert_allclose(batch.raffinate[0], single.outlets["raffinate"], rtol=1e-13)
