"""The design search's mixing-factor solver against two independent methods.

* the simulator's block-tridiagonal Newton (`simulate`) on the same cascades (a different algorithm and code);
* for two components, the exact McCabe-Thiele stepping: the cascade with the stepped stage numbers and feed
  stage reaches at least the stepped extract purity (stepping counts whole stages: the last one overshoots).
Plus mass balance on random cascades (hypothesis).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.errors import ConvergenceError
from mine2magnet.separation import simulate
from mine2magnet.separation.cascade_design.lsf import solve_cut, solve_cuts, stage_totals
from mine2magnet.separation.cascade_design.stepping import step_stages
from mine2magnet.separation.solvers.steady.lsf_shooting import ShootingCascade, solve_shooting

COMPS = ["La", "Ce", "Pr", "Nd", "Sm"]
BETA = np.array([1.0, 2.0, 4.0, 5.8, 23.2])
FEED = np.array([0.25, 0.45, 0.05, 0.2, 0.05])


def _solve(n_total, k, organic, scrub, phase="aqueous", beta=BETA, feed_vec=FEED):
    feed = np.zeros((n_total, len(beta)))
    feed[k - 1] = feed_vec
    totals = stage_totals(n_total, k, float(feed_vec.sum()), organic, scrub, phase == "organic")
    return solve_cut(beta, feed, *totals, max_iterations=400)


@pytest.mark.parametrize(
    ("n_total", "k", "organic", "phase"),
    [(20, 10, 0.85, "aqueous"), (30, 16, 1.0, "aqueous"), (24, 12, 1.3, "aqueous"), (24, 13, 1.6, "organic")],
)
def test_agrees_with_simulate(n_total, k, organic, phase):
    extract = 0.30
    sol = _solve(n_total, k, organic, organic - extract, phase)
    assert sol.converged and sol.mass_balance_error < 1e-12
    spec = {
        "components": COMPS,
        "model": {
            "type": "loaded-separation-factor",
            "separation_factors": dict(zip(COMPS, BETA, strict=True)),
        },
        "stages": {
            "extraction": k if phase == "aqueous" else k - 1,
            "scrub": n_total - (k if phase == "aqueous" else k - 1),
        },
        "feed": {"stage": k, "phase": phase, "flow": dict(zip(COMPS, FEED, strict=True))},
        "organic": {"ree_flow": organic},
        "scrub": {"ree_flow": organic - extract},
    }
    try:
        res = simulate(spec)
    except ConvergenceError:
        pytest.skip("simulate did not converge on this cascade (reported to the simulator's owner)")
    np.testing.assert_allclose(sol.aqueous, res.aqueous, rtol=1e-7, atol=1e-14)
    np.testing.assert_allclose(sol.organic, res.organic, rtol=1e-7, atol=1e-14)


@pytest.mark.parametrize("mult", [1.1, 1.4, 2.0])
def test_reaches_the_stepped_purity(mult):
    beta, f_a, p = 1.5, 0.75, 0.999
    e = (f_a - (1 - p)) / (2 * p - 1)
    s = mult * 2.7408296593  # S_min of this split (design_theory, pinch form)
    stepped = step_stages(beta, s, s - e, f_a, 1 - f_a, e * (1 - p))
    sol = _solve(
        stepped.total,
        stepped.extraction,
        s,
        s - e,
        beta=np.array([1.0, beta]),
        feed_vec=np.array([1 - f_a, f_a]),
    )
    assert sol.converged
    assert sol.organic[-1, 0] <= e * (1 - p) * (1 + 1e-9)
    # and one stage fewer (best feed stage) does not
    fewer = [
        _solve(stepped.total - 1, kk, s, s - e, beta=np.array([1.0, beta]), feed_vec=np.array([1 - f_a, f_a]))
        for kk in range(1, stepped.total - 1)
    ]
    assert all(f.converged for f in fewer)
    assert min(f.organic[-1, 0] for f in fewer) > e * (1 - p)


@settings(max_examples=25, deadline=None)
@given(
    n_total=st.integers(4, 40),
    frac=st.floats(0.1, 0.9),
    organic=st.floats(0.5, 3.0),
    extract=st.floats(0.05, 0.45),
    betas=st.lists(st.floats(1.05, 3.0), min_size=1, max_size=4),
)
def test_mass_balance_and_non_negative_profiles(n_total, frac, organic, extract, betas):
    beta = np.cumprod([1.0, *betas])
    f = np.linspace(1.0, 2.0, beta.size)
    f = f / f.sum()
    k = min(max(1, round(frac * n_total)), n_total - 1)
    sol = _solve(n_total, k, organic, organic - extract, beta=beta, feed_vec=f)
    assert sol.converged
    assert sol.mass_balance_error < 1e-9
    assert (sol.aqueous >= 0).all() and (sol.organic >= 0).all()
    np.testing.assert_allclose(sol.organic[-1].sum(), extract, rtol=1e-9)


@pytest.mark.parametrize(
    ("n_total", "k", "organic", "extract", "steps"),
    [
        (24, 12, 2.0, 0.25, (2.0, 2.0, 2.0, 2.75)),
        (32, 5, 3.0, 0.2653012245410318, (2.5, 2.5, 2.125, 2.6875)),
    ],
)
def test_wide_spread_cut_converges_by_continuation_in_beta(n_total, k, organic, extract, steps):
    """Cuts where Newton from the plain start stalls (found by Hypothesis): beta 1..22 and 1..36.

    Checked against the block-tridiagonal Newton of ``simulate`` (an independent algorithm).
    """
    beta = np.cumprod([1.0, *steps])
    feed_vec = np.linspace(1.0, 2.0, 5) / np.linspace(1.0, 2.0, 5).sum()
    sol = _solve(n_total, k, organic, organic - extract, beta=beta, feed_vec=feed_vec)
    assert sol.converged and sol.mass_balance_error < 1e-12
    comps = ["La", "Ce", "Pr", "Nd", "Sm"]
    spec = {
        "components": comps,
        "model": {
            "type": "loaded-separation-factor",
            "separation_factors": dict(zip(comps, beta, strict=True)),
        },
        "stages": {"extraction": k, "scrub": n_total - k},
        "feed": {"stage": k, "flow": dict(zip(comps, feed_vec, strict=True))},
        "organic": {"ree_flow": organic},
        "scrub": {"ree_flow": organic - extract},
    }
    ref = simulate(spec)
    assert np.allclose(sol.aqueous, ref.aqueous, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("phase", ["aqueous", "organic"])
def test_batched_newton_matches_one_at_a_time(phase):
    """solve_cuts (every case and component in one LAPACK call per step) = solve_cut, case by case."""
    n_total, organic, extract = 24, 1.3, 0.30
    lo, hi = (2, n_total) if phase == "organic" else (1, n_total - 1)
    ks = [k for k in (10, 11, 12, 13, 14) if lo <= k <= hi]
    feed = np.zeros((len(ks), n_total, len(BETA)))
    feed[np.arange(len(ks)), np.array(ks) - 1] = FEED
    totals = [
        stage_totals(n_total, k, float(FEED.sum()), organic, organic - extract, phase == "organic")
        for k in ks
    ]
    aq = np.array([t[0] for t in totals])
    org = np.array([t[1] for t in totals])
    singles = [solve_cut(BETA, feed[i], aq[i], org[i], max_iterations=400) for i in range(len(ks))]
    # start each case from the neighbouring feed stage's solution, as the design search does
    starts = np.array([singles[(i + 1) % len(ks)].mixing_factors for i in range(len(ks))])
    batch = solve_cuts(BETA, feed, aq, org, starts, max_iterations=60, stall=False)
    assert batch.converged.all()
    for i, one in enumerate(singles):
        assert one.converged
        np.testing.assert_allclose(batch.organic[i], one.organic, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(batch.aqueous[i], one.aqueous, rtol=1e-9, atol=1e-15)
        assert batch.mass_balance_error[i] < 1e-12


def test_batched_newton_reports_what_it_could_not_solve():
    """A far start with a one-step budget: not converged, said per case, no exception."""
    n_total, organic, extract, k = 30, 0.9, 0.30, 15
    feed = np.zeros((1, n_total, len(BETA)))
    feed[0, k - 1] = FEED
    aq, org = stage_totals(n_total, k, float(FEED.sum()), organic, organic - extract, False)
    batch = solve_cuts(BETA, feed, aq[None], org[None], np.full((1, n_total), 1e3), max_iterations=1)
    assert not batch.converged[0]
    assert batch.iterations[0] == 1


def test_shooting_from_a_neighbours_split_gives_the_cold_answer():
    """The design search's fallback: shooting started from a neighbouring cascade's split logits."""
    n_total, organic, extract = 30, 1.0, 0.30
    beta = BETA / BETA.min()

    def cascade(k):
        aq, org = stage_totals(n_total, k, float(FEED.sum()), organic, organic - extract, False)
        return ShootingCascade(beta, FEED, n_total, k, float(aq[0]), float(org[0]), float(aq[k]))

    neighbour = solve_shooting(cascade(15))
    cold = solve_shooting(cascade(16))
    warm = solve_shooting(cascade(16), start=neighbour.xi, homotopy=False)
    assert neighbour.converged and cold.converged and warm.converged
    np.testing.assert_allclose(warm.log_loaded, cold.log_loaded, rtol=0, atol=1e-9)
    np.testing.assert_allclose(warm.log_raffinate, cold.log_raffinate, rtol=0, atol=1e-9)
