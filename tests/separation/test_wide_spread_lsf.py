"""Wide separation-factor spreads: all rare earths with the P507 factors, 200 stages, cold start.

The shipped P507 set (``extractants.load_extractant("P507")``) covers La..Lu without Pm, plus Y (15
elements). For the 17-component tests two test-only assumptions fill the gaps (no sourced P507 factor in
the data layer): Pm between Nd and Sm at the geometric mean of their factors (it sits between them in the
lanthanide series), and Sc extracted ahead of Lu with beta_Sc = 10 beta_Lu (P507 takes up Sc at far lower
pH than any lanthanide). They set the spread (La..Sc ~ 6e4), not any shipped result.

Checks are independent of the solver: every stage balance and the equilibrium of every stage are
recomputed from the returned profiles; outlets against the feed; the block-tridiagonal composition Newton
(a second method) where it converges; total-reflux separations (Fenske: beta^N between the outlets).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mine2magnet.errors import InputError
from mine2magnet.separation import simulate
from mine2magnet.separation.equilibrium.extractants import load_extractant
from mine2magnet.separation.solvers.steady.loaded_separation_factor import (
    _beta_homotopy,
    _flows_from_log,
    _solve_compositions,
    stage_balance_residual,
    stage_totals,
)
from mine2magnet.separation.solvers.steady.lsf_shooting import (
    ShootingCascade,
    _spread_homotopy,
    shooting_profiles,
    solve_shooting,
)


def _p507_seventeen() -> dict[str, float]:
    ext = load_extractant("P507")
    beta = ext.separation_factors(ext.order)
    beta["Pm"] = math.sqrt(beta["Nd"] * beta["Sm"])  # test assumption (see module doc)
    beta["Sc"] = 10.0 * beta["Lu"]  # test assumption (see module doc)
    return dict(sorted(beta.items(), key=lambda kv: kv[1]))


BETA17 = _p507_seventeen()
ORDER = list(BETA17)  # extraction order, least extractable first


def _cut_spec(cut: str, n: int, m: int, margin: float = 0.0, phase: str = "aqueous") -> dict:
    """Equal feeds (1 mol/h in all); S - W = the feed heavier than the cut (+ margin): a sharp split."""
    light, heavy = cut.split("|")
    assert ORDER.index(heavy) == ORDER.index(light) + 1
    comps = ORDER
    feed = {c: 1.0 / len(comps) for c in comps}
    f_heavy = sum(feed[c] for c in comps[ORDER.index(heavy) :])
    W = 1.0
    S = W + f_heavy + margin
    return {
        "components": comps,
        "model": {"type": "loaded-separation-factor", "separation_factors": BETA17},
        "stages": {"extraction": n, "scrub": m},
        "feed": {"stage": n, "phase": phase, "flow": feed},
        "organic": {"ree_flow": S},
        "scrub": {"ree_flow": W},
    }


def _check_profiles(res, spec) -> None:
    N = len(res.sections)
    feed = np.zeros((N, len(res.components)))
    feed[spec["feed"]["stage"] - 1] = res.feed
    assert stage_balance_residual(res.aqueous, res.organic, feed) < 1e-12
    beta = np.array([spec["model"]["separation_factors"][c] for c in res.components])
    # equilibrium in every stage, on the components above 1e-250 mol/h (below: float underflow)
    big = res.aqueous > 1e-250
    bx = beta * res.aqueous
    y_eq = res.organic.sum(1, keepdims=True) * bx / bx.sum(1, keepdims=True)
    np.testing.assert_allclose(res.organic[big], y_eq[big], rtol=1e-11)
    assert res.mass_balance_error <= 1e-9
    assert (res.aqueous >= 0).all() and (res.organic >= 0).all()


@pytest.mark.parametrize("cut", ["Nd|Pm", "Gd|Tb", "Ce|Pr", "Yb|Lu"])
def test_seventeen_components_two_hundred_stages_sharp_cuts(cut):
    spec = _cut_spec(cut, 100, 100)
    res = simulate(spec)
    _check_profiles(res, spec)
    rec = res.recovery()
    to_org = [rec[c]["loaded_organic"] for c in ORDER]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(to_org))  # rises along the extraction order
    heavy = ORDER.index(cut.split("|")[1])
    # 100 stages each side at a sharp split: each outlet is pure to far below any assay
    assert sum(res.purity("raffinate")[c] for c in ORDER[:heavy]) > 1 - 1e-12
    assert sum(res.purity("loaded_organic")[c] for c in ORDER[heavy:]) > 1 - 1e-12


@pytest.mark.parametrize(
    ("cut", "n", "m", "margin", "phase"),
    [
        ("Nd|Pm", 120, 80, 0.04, "aqueous"),
        ("Gd|Tb", 60, 140, -0.03, "aqueous"),
        ("Dy|Ho", 100, 100, 0.0, "organic"),
        ("La|Ce", 150, 50, 0.02, "organic"),
    ],
)
def test_two_hundred_stages_other_cuts_and_feeds(cut, n, m, margin, phase):
    spec = _cut_spec(cut, n, m, margin, phase)
    if phase == "organic":
        spec["organic"]["ree_flow"] += 1.0  # the organic below an organic feed must carry metal (S > F)
        spec["scrub"]["ree_flow"] += 1.0
    res = simulate(spec)
    _check_profiles(res, spec)


def test_impossible_flows_at_two_hundred_stages_are_input_errors():
    spec = _cut_spec("Gd|Tb", 100, 100)
    spec["organic"]["ree_flow"] = (
        spec["scrub"]["ree_flow"] + 1.0 + 0.01
    )  # S > W + F: nothing left to raffinate
    with pytest.raises(InputError) as err:
        simulate(spec)
    assert err.value.field == "organic.ree_flow"


@pytest.mark.parametrize("margin", [0.05, -0.05])
def test_shooting_agrees_with_the_composition_newton(margin):
    """15 P507 elements, 20 + 20 stages, off the balanced split (well conditioned): two methods agree."""
    ext = load_extractant("P507")
    comps = list(ext.order)
    beta = np.array([ext.separation_factors(comps)[c] for c in comps])
    F = np.full(len(comps), 1.0 / len(comps))
    n, W = 20, 1.0
    S = W + F[comps.index("Sm") :].sum() + margin
    sol = solve_shooting(ShootingCascade(beta, F, 2 * n, n, W + 1.0 - S, S, W))
    assert sol.converged
    aq, org, mismatch = shooting_profiles(ShootingCascade(beta, F, 2 * n, n, W + 1.0 - S, S, W), sol)
    assert mismatch < 1e-12
    fa = np.zeros((1, 2 * n, len(comps)))
    fa[0, n - 1] = F
    A, O = stage_totals(np.array([S]), np.array([W]), fa, np.zeros_like(fa))
    la, ok, _, _ = _solve_compositions(beta[None], fa, A, O, 1e-13, 30)
    if not ok[0]:
        la, ok, _ = _beta_homotopy(beta[None], fa, A, O, 1e-13)
    assert ok[0]
    a2, o2 = _flows_from_log(la, beta[None], O)
    big = aq > 1e-25  # the composition Newton does not resolve flows below 1e-30 of the feed
    np.testing.assert_allclose(a2[0][big], aq[big], rtol=1e-9)
    np.testing.assert_allclose(o2[0][org > 1e-25], org[org > 1e-25], rtol=1e-9)


def test_total_reflux_separates_every_pair_by_beta_to_the_stage_count():
    """S, W >> F: between raffinate and loaded organic each pair is enriched by (beta_i/beta_j)^N (Fenske)."""
    comps = ["La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd"]
    beta = np.array([BETA17[c] for c in comps])
    F = np.full(len(comps), 1.0 / len(comps))
    n, m, W = 4, 4, 1e7
    S = W + 0.5
    c = ShootingCascade(beta, F, n + m, n, W + 1.0 - S, S, W)
    sol = solve_shooting(c)
    assert sol.converged
    ln_sep = (sol.log_loaded - sol.log_raffinate) - (sol.log_loaded[0] - sol.log_raffinate[0])
    np.testing.assert_allclose(ln_sep[1:], (n + m) * np.log(beta[1:] / beta[0]), rtol=1e-5)


def test_spread_homotopy_fallback_reaches_the_newton_solution():
    """The fallback (continuation in beta^s from the exact s = 0 split) and Newton from the Kremser start."""
    ext = load_extractant("P507")
    comps = list(ext.order)
    beta = np.array([ext.separation_factors(comps)[c] for c in comps])
    F = np.full(len(comps), 1.0 / len(comps))
    n, W = 15, 1.0
    S = W + F[comps.index("Gd") :].sum() + 0.03
    c = ShootingCascade(beta, F, 2 * n, n, W + 1.0 - S, S, W)
    newton = solve_shooting(c)
    xi, ok, _, res = _spread_homotopy(c, np.log(beta / beta.min()))
    assert newton.converged and ok and res < 1e-11
    np.testing.assert_allclose(xi, newton.xi, rtol=1e-9, atol=1e-9)
