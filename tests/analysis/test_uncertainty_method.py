"""The method on functions with known answers: Ishigami's Sobol' indices, Morris screening, distributions,
rank correlations, conditions and the convergence diagnostics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mine2magnet.analysis.uncertainty import (
    Condition,
    Correlation,
    Discrete,
    FunctionModel,
    Input,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    draw_sample,
    ishigami,
    ishigami_inputs,
    run_study,
)
from mine2magnet.analysis.uncertainty.models import ISHIGAMI_A, ISHIGAMI_B
from mine2magnet.errors import InputError


def ishigami_exact() -> tuple[np.ndarray, np.ndarray]:
    """First and total Sobol' indices of Ishigami-Homma in closed form (Sobol' & Levitan 1999)."""
    a, b, pi = ISHIGAMI_A, ISHIGAMI_B, math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_ishigami_sobol_indices_within_salib_confidence_intervals() -> None:
    result = run_study(FunctionModel(ishigami), ishigami_inputs(), method="sobol", draws=2**12 * 5, seed=7)
    si = result.sobol("y").set_index("input").loc[["x1", "x2", "x3"]]
    s1, st_ = ishigami_exact()
    # SALib's 95 % half-widths; a small floor for x3's S1, exactly 0 and estimated with a bootstrap spread
    assert np.all(np.abs(si["S1"].to_numpy() - s1) <= si["S1_conf"].to_numpy() + 1e-3)
    assert np.all(np.abs(si["ST"].to_numpy() - st_) <= si["ST_conf"].to_numpy() + 1e-3)
    assert si["S1_conf"].max() < 0.1  # the intervals are informative, not wide enough to hold anything


def test_morris_ranks_ishigami_inputs_by_total_effect() -> None:
    result = run_study(FunctionModel(ishigami), ishigami_inputs(), method="morris", draws=400, seed=3)
    mm = result.morris("y")
    assert set(mm["input"]) == {"x1", "x2", "x3"}
    assert (mm["mu_star"] >= 0).all() and (mm["sigma"] >= 0).all()
    # x3 acts only through its interaction with x1: its mu* is above 0, its sigma (interactions) large
    x3 = mm.set_index("input").loc["x3"]
    assert x3["mu_star"] > 0 and x3["sigma"] > 0


def test_percentiles_of_a_linear_model_match_the_analytic_normal() -> None:
    inputs = [Input("x1", Normal(1.0, 2.0)), Input("x2", Normal(-3.0, 1.0))]
    result = run_study(FunctionModel(_sum), inputs, method="lhs", draws=4000, seed=1)
    p = result.percentiles("y").iloc[0]
    sd = math.sqrt(5.0)
    for q, col in ((0.05, "p5"), (0.5, "p50"), (0.95, "p95")):
        assert p[col] == pytest.approx(-2.0 + sd * stats.norm.ppf(q), abs=0.08)


def _sum(inputs: dict) -> dict:
    return {"y": float(inputs["x1"]) + float(inputs["x2"])}


def test_probability_of_a_condition_matches_the_uniform_cdf() -> None:
    result = run_study(
        FunctionModel(_sum), [Input("x1", Uniform(0, 1)), Input("x2", Uniform(0, 0))], draws=2000
    )
    got = result.probability(Condition.parse("y >= 0.8"))
    assert got["low"] <= 0.2 <= got["high"]
    assert got["probability"] == pytest.approx(0.2, abs=0.01)  # LHS strata: the share is near exact


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-1e3, 1e3),
    st.floats(0.0, 1e3),
    st.floats(0.0, 1.0),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50),
)
def test_triangular_quantiles_stay_in_range_and_ordered(low: float, width: float, m: float, u: list) -> None:
    d = Triangular(low, low + m * width, low + width)
    x = d.ppf(sorted(u))
    assert np.all(x >= low - 1e-9) and np.all(x <= low + width + 1e-9)
    assert np.all(np.diff(x) >= -1e-9)


def test_triangular_matches_scipy() -> None:
    d = Triangular(2.0, 3.0, 7.0)
    u = np.linspace(0.01, 0.99, 17)
    np.testing.assert_allclose(d.ppf(u), stats.triang.ppf(u, 0.2, loc=2.0, scale=5.0), rtol=1e-12)


def test_lognormal_and_discrete_quantiles() -> None:
    np.testing.assert_allclose(LogNormal(10.0, 0.5).ppf([0.5]), [10.0])
    d = Discrete(("a", "b", "c"), (0.2, 0.3, 0.5))
    assert list(d.ppf([0.1, 0.25, 0.6, 1.0])) == [0, 1, 2, 2]
    with pytest.raises(InputError, match="sum to 1"):
        Discrete((1.0, 2.0), (0.5, 0.6))


def test_rank_correlation_is_imposed_and_marginals_kept() -> None:
    inputs = [Input("a", Uniform(0, 1)), Input("b", LogNormal(5.0, 0.3))]
    s = draw_sample(inputs, "lhs", 3000, seed=2, correlations=[Correlation("a", "b", 0.7)])
    rho = stats.spearmanr(s.values[:, 0], s.values[:, 1]).statistic
    assert rho == pytest.approx(0.7, abs=0.03)
    assert stats.kstest(s.values[:, 0], "uniform").pvalue > 0.01
    with pytest.raises(InputError, match="Monte Carlo or Latin hypercube"):
        draw_sample(inputs, "sobol", 100, correlations=[Correlation("a", "b", 0.7)])


def test_convergence_reports_draws_needed() -> None:
    result = run_study(FunctionModel(_sum), [Input("x1", Normal(0, 1)), Input("x2", Normal(0, 1))], draws=512)
    c = result.convergence("y", precision=0.01)
    assert [s["draws"] for s in c["steps"]][-1] == 512
    # the standard error of the mean of N(0, 2) is sqrt(2 / n); the spread P95-P5 is 2 x 1.645 x sqrt(2)
    needed = (1.96 * math.sqrt(2.0) / (0.01 * 2 * 1.645 * math.sqrt(2.0))) ** 2
    assert c["draws_needed"]["mean"] == pytest.approx(needed, rel=0.35)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(2, 60), st.integers(0, 2**31 - 1))
def test_latin_hypercube_has_one_draw_per_stratum_and_is_reproducible(d: int, n: int, seed: int) -> None:
    inputs = [Input(f"x{i}", Uniform(0, 1)) for i in range(d)]
    a = draw_sample(inputs, "lhs", n, seed)
    b = draw_sample(inputs, "lhs", n, seed)
    np.testing.assert_array_equal(a.values, b.values)
    for j in range(d):
        strata = np.floor(a.unit[:, j] * n).astype(int)
        assert sorted(strata.tolist()) == list(range(n))


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(["mc", "lhs"]),
    st.integers(1, 40),
    st.integers(0, 1000),
    st.floats(-0.9, 0.9),
)
def test_every_value_lies_in_its_distribution_support(method: str, n: int, seed: int, rho: float) -> None:
    inputs = [
        Input("u", Uniform(-2.0, 3.0)),
        Input("t", Triangular(1.0, 1.5, 4.0)),
        Input("n", Normal(0.0, 1.0, low=-1.0, high=2.0)),
        Input("y", Discrete.integers(2027, 2030)),
        Input("l", LogNormal(10.0, 0.5)),
    ]
    s = draw_sample(inputs, method, n, seed, correlations=[Correlation("u", "l", rho)] if rho else [])
    v = s.values
    assert np.all((v[:, 0] >= -2.0) & (v[:, 0] <= 3.0))
    assert np.all((v[:, 1] >= 1.0) & (v[:, 1] <= 4.0))
    assert np.all((v[:, 2] >= -1.0) & (v[:, 2] <= 2.0))
    assert set(v[:, 3].tolist()) <= {0.0, 1.0, 2.0, 3.0}  # option indices of 2027..2030
    assert np.all(v[:, 4] > 0)


def test_design_sizes_follow_saltelli_and_morris() -> None:
    from mine2magnet.analysis.uncertainty.sampling import design_size

    assert design_size("sobol", 1000, 3) == (128, 640)  # N (D + 2), N the largest power of two
    assert design_size("morris", 100, 3) == (25, 100)  # r (D + 1)
    with pytest.raises(InputError, match="at least 20 draws"):
        design_size("sobol", 19, 3)


def _constant(inputs: dict) -> dict:
    return {"y": 3.0}


def test_constant_output_is_settled_and_has_no_sobol_indices() -> None:
    result = run_study(FunctionModel(_constant), [Input("x1", Uniform(0, 1))], method="sobol", draws=64)
    assert result.convergence("y")["draws_needed"]["p50"] == result.draws["ok"]
    with pytest.raises(InputError, match="does not vary"):
        result.sobol("y")
