"""simulate_batch: vectorised cases agree with single solves; infeasible cases are flagged, not raised."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.errors import InputError
from mine2magnet.separation import simulate, simulate_batch
from mine2magnet.separation.solvers.batch import _lsf_feasible
from mine2magnet.separation.solvers.steady.loaded_separation_factor import stage_totals

LSF = {
    "components": ["Pr", "Nd"],
    "model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0, "Nd": 1.5}},
    "stages": {"extraction": 20, "scrub": 20},
    "feed": {"stage": 20, "flow": {"Pr": 0.25, "Nd": 0.75}},
    "organic": {"ree_flow": 3.0},
    "scrub": {"ree_flow": 2.4},
}


def test_lsf_batch_flows_and_flags():
    S = np.array([3.0, 2.9, 3.5, 2.0])  # 3.5 > W + F: the raffinate would carry nothing; 2.0 < W: infeasible
    batch = simulate_batch(LSF, organic_ree_flow=S)
    assert batch.feasible.tolist() == [True, True, False, False]
    assert batch.converged.tolist() == [True, True, False, False]
    assert np.isnan(batch.raffinate[2:]).all()
    for k in range(2):
        single = simulate(dict(LSF, organic={"ree_flow": float(S[k])}))
        np.testing.assert_allclose(batch.raffinate[k], single.outlets["raffinate"], rtol=1e-9)
        np.testing.assert_allclose(
            batch.recovery("loaded_organic")[k],
            [single.recovery()[c]["loaded_organic"] for c in ("Pr", "Nd")],
            rtol=1e-9,
        )
    assert batch.purity("loaded_organic")[0, 1] == pytest.approx(
        simulate(LSF).purity("loaded_organic")["Nd"], rel=1e-9
    )


def test_constant_distribution_batch_matches_kremser():
    spec = {
        "components": ["Nd"],
        "model": {"type": "constant-distribution", "distribution_ratios": {"Nd": 2.0}},
        "stages": {"extraction": 6},
        "feed": {"stage": 6, "volume_flow": 1.0, "concentration": {"Nd": 0.1}},
        "organic": {"volume_flow": 1.0},
    }
    D = np.array([[0.5], [1.0], [2.0], [10.0]])
    batch = simulate_batch(spec, distribution_ratios=D)
    for k, d in enumerate(D[:, 0]):
        E = d  # O/A = 1
        frac = 1 / 7 if E == 1 else (E - 1) / (E**7 - 1)
        assert batch.raffinate[k, 0] == pytest.approx(0.1 * frac, rel=1e-10)
    assert (batch.mass_balance_error <= 1e-9).all()


def test_batch_rejects_unknown_arrays_and_physical_models():
    with pytest.raises(InputError, match="unknown batch array"):
        simulate_batch(LSF, separation_factor=np.ones((3, 2)))
    with pytest.raises(InputError):
        simulate_batch(LSF, separation_factors=np.ones((3, 3)))
    physical = {
        "components": ["La"],
        "model": {"type": "empirical-ph", "coefficients": {"La": {"a": 1.0, "b": 0.0}}},
        "stages": {"extraction": 2},
        "feed": {"stage": 2, "volume_flow": 1.0, "concentration": {"La": 0.1}, "pH": 2},
        "organic": {"volume_flow": 1.0},
    }
    with pytest.raises(InputError, match="vectorises"):
        simulate_batch(physical)


def test_lsf_strip_complete_and_by_distribution_ratio():
    complete = simulate(
        dict(LSF, stages={"extraction": 20, "scrub": 20, "strip": 3}, strip={"complete": True})
    )
    np.testing.assert_allclose(
        complete.outlets["strip_liquor"], complete.outlets["loaded_organic"], rtol=1e-12
    )
    by_d = simulate(
        dict(
            LSF,
            stages={"extraction": 20, "scrub": 20, "strip": 4},
            strip={
                "distribution_ratios": {"Pr": 0.1, "Nd": 0.1},
                "volume_flow": 1.0,
                "organic_volume_flow": 1.0,
            },
        )
    )
    # stripping factor 1/D = 10 over 4 stages (Kremser): the organic keeps (S'-1)/(S'^5 - 1) of each metal
    kept = (10.0 - 1) / (10.0**5 - 1)
    np.testing.assert_allclose(
        by_d.outlets["stripped_organic"], kept * by_d.outlets["loaded_organic"], rtol=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(
    S=st.floats(0.01, 5.0),
    W=st.floats(0.0, 5.0),
    F=st.floats(0.01, 3.0),
    n=st.integers(1, 8),
    m=st.integers(0, 8),
    stage_frac=st.floats(0.0, 1.0),
    organic=st.booleans(),
)
def test_closed_form_feasibility_matches_the_stage_totals(S, W, F, n, m, stage_frac, organic):
    """The batch's closed-form check equals 'every stage total of stage_totals is positive'."""
    N = n + m
    stage = 1 + min(N - 1, int(stage_frac * N))
    feed = np.zeros((1, N, 1))
    feed[0, stage - 1, 0] = F
    zero = np.zeros_like(feed)
    A, O = stage_totals(np.array([S]), np.array([W]), *((zero, feed) if organic else (feed, zero)))
    expected = bool((A > 0).all() and (O > 0).all())
    got = _lsf_feasible(np.array([S]), np.array([W]), np.array([F]), N, stage, organic)[0]
    assert got == expected


def test_two_component_cases_the_scalar_solver_leaves_go_to_the_general_solver(monkeypatch):
    """Wiring of the fallback: a case flagged unconverged by the two-component solver is re-solved."""
    from mine2magnet.separation.solvers import batch as batch_module

    real = batch_module.solve_binary_lsf_batch

    def first_case_fails(cases):
        r, p, ok, its, mis = real(cases)
        ok = ok.copy()
        ok[0] = False
        r, p = r.copy(), p.copy()
        r[0] = p[0] = np.nan
        return r, p, ok, its, mis

    S = np.array([3.0, 2.9])
    reference = simulate_batch(LSF, organic_ree_flow=S)
    monkeypatch.setattr(batch_module, "solve_binary_lsf_batch", first_case_fails)
    batch = simulate_batch(LSF, organic_ree_flow=S)
    assert batch.converged.all()
    np.testing.assert_allclose(batch.raffinate, reference.raffinate, rtol=1e-9)
    np.testing.assert_allclose(batch.loaded_organic, reference.loaded_organic, rtol=1e-9)


def test_organic_feed_batch_matches_single_solves():
    spec = dict(LSF, feed={"stage": 25, "phase": "organic", "flow": {"Pr": 0.25, "Nd": 0.75}})
    S = np.array([3.0, 2.9, 3.3])  # between W and W + F, and above F (the organic below the feed: S - F)
    batch = simulate_batch(spec, organic_ree_flow=S)
    assert batch.converged.all()
    for k in range(3):
        single = simulate(dict(spec, organic={"ree_flow": float(S[k])}))
        np.testing.assert_allclose(batch.raffinate[k], single.outlets["raffinate"], rtol=1e-10)
        np.testing.assert_allclose(batch.loaded_organic[k], single.outlets["loaded_organic"], rtol=1e-10)
