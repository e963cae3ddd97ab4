"""Closed forms of cascade design against independent references.

References: the Fenske table of sx_theory.md a3 (KitchinHUB ree-book chapter 03, re-checked there); the
sharp-split minimum flows and their agreement with the k = 1 limit of Xu's back-off rule W = 1/(β^k − 1)
(sx_theory.md a4); two independent derivations of the minimum flows compared with each other (binary pinch at
the feed vs multicomponent Underwood); the McCabe–Thiele stepping, whose stage count must grow without
bound as S approaches S_min and tend to the Fenske count as S grows.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.errors import InfeasibleError
from mine2magnet.separation.cascade_design.stepping import step_stages
from mine2magnet.separation.cascade_design.theory import (
    effective_separation_factor,
    fenske_min_stages,
    fenske_min_stages_keys,
    minimum_flows_binary,
    minimum_flows_underwood,
    optimum_flows,
    xu_backoff_scrub_flow,
    xu_stage_estimates,
)


@pytest.mark.parametrize(
    ("beta", "p_a", "p_b", "expected"),
    [
        (1.5, 0.9999, 0.9999, 45),  # sx_theory.md a3 row 1
        (1.5, 0.999, 0.999, 34),  # row 2
        (3.0, 0.9999, 0.9999, 17),  # row 3
    ],
)
def test_fenske_matches_published_table(beta, p_a, p_b, expected):
    # the table rounds to whole stages
    assert round(fenske_min_stages(beta, p_a, p_b)) == expected


def test_fenske_fourth_row_to_two_decimals():
    # sx_theory.md a3: beta = 2, A at 99.9 % and B at 99.99 %: ln(999 * 9999) / ln 2 = 23.25
    assert fenske_min_stages(2.0, 0.999, 0.9999) == pytest.approx(23.25, abs=0.005)


def test_multicomponent_fenske_reduces_to_binary():
    # binary outlet flows for a 50/50 feed at 99.9 % both ends
    e = 0.5
    n_keys = fenske_min_stages_keys(2.0, e * 0.999, e * 0.001, e * 0.001, e * 0.999)
    assert n_keys == pytest.approx(fenske_min_stages(2.0, 0.999, 0.999), rel=1e-12)


@pytest.mark.parametrize("beta", [1.2, 1.5, 2.0, 4.0])
@pytest.mark.parametrize("f_a", [0.1, 0.5, 0.9])
def test_sharp_split_minimum_flows_match_closed_forms(beta, f_a):
    p = 1 - 1e-10
    aq = minimum_flows_binary(beta, f_a, p, p, "aqueous")
    assert aq.scrub_ree_flow == pytest.approx(1 / (beta - 1), rel=1e-6)
    assert aq.organic_ree_flow == pytest.approx((beta * f_a + (1 - f_a)) / (beta - 1), rel=1e-6)
    # the k = 1 limit of Xu's back-off rule W = 1/(beta^k - 1)
    assert aq.scrub_ree_flow == pytest.approx(xu_backoff_scrub_flow(beta, k=1.0), rel=1e-6)
    org = minimum_flows_binary(beta, f_a, p, p, "organic")
    # organic feed: the extraction section carries S - F = F/(beta - 1)
    assert org.organic_ree_flow - 1.0 == pytest.approx(1 / (beta - 1), rel=1e-6)
    assert org.scrub_ree_flow == pytest.approx((beta * (1 - f_a) + f_a) / (beta - 1), rel=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    beta=st.floats(1.05, 6.0),
    f_a=st.floats(0.05, 0.95),
    p_a=st.floats(0.96, 0.99999),
    p_b=st.floats(0.96, 0.99999),
    phase=st.sampled_from(["aqueous", "organic"]),
)
def test_binary_pinch_and_underwood_agree(beta, f_a, p_a, p_b, phase):
    """Two independent derivations of the minimum flows give the same numbers."""
    pinch = minimum_flows_binary(beta, f_a, p_a, p_b, phase)
    e = (f_a - (1 - p_b)) / (p_a + p_b - 1)
    uw = minimum_flows_underwood(
        {"A": beta, "B": 1.0}, {"A": f_a, "B": 1 - f_a}, {"A": e * p_a, "B": e * (1 - p_a)}, "B", "A", phase
    )
    # (the pinch form clips a negative minimum to 0: then no reflux is needed and the forms differ)
    # (for an organic feed likewise when the extraction section would need no organic, S_min - F <= 0)
    floor = 1.0 if phase == "organic" else 0.0
    flows_ok = min(pinch.organic_ree_flow, uw.organic_ree_flow) > floor
    if flows_ok and min(pinch.scrub_ree_flow, uw.scrub_ree_flow) > 0:
        assert uw.organic_ree_flow == pytest.approx(pinch.organic_ree_flow, rel=1e-8, abs=1e-10)
        assert uw.scrub_ree_flow == pytest.approx(pinch.scrub_ree_flow, rel=1e-8, abs=1e-10)


def test_stepping_diverges_at_minimum_and_tends_to_fenske():
    beta, f_a, p = 1.5, 0.75, 0.999
    e = (f_a - (1 - p)) / (2 * p - 1)
    impurity = e * (1 - p)
    s_min = minimum_flows_binary(beta, f_a, p, p).organic_ree_flow
    counts = [
        step_stages(beta, k * s_min, k * s_min - e, f_a, 1 - f_a, impurity).total
        for k in (1.00002, 1.002, 1.01, 1.1, 1.5)
    ]
    assert counts == sorted(counts, reverse=True) and counts[0] > 200 > 60 > counts[-1]
    with pytest.raises(InfeasibleError):
        step_stages(beta, 0.995 * s_min, 0.995 * s_min - e, f_a, 1 - f_a, impurity)
    # at very high reflux the count approaches N_min from above
    n_min = fenske_min_stages(beta, p, p)
    high = step_stages(beta, 2000.0, 2000.0 - e, f_a, 1 - f_a, impurity).total
    assert n_min <= high <= math.ceil(n_min) + 2


def test_optimum_flows_switch_point():
    # at f'_A = 1/(sqrt(beta) + 1) both sections are optimal: S = sqrt(beta)/(beta - 1), W = 1/(beta - 1)
    beta = 2.0
    opt = optimum_flows(beta, 1 / (math.sqrt(beta) + 1))
    assert opt.organic_ree_flow == pytest.approx(math.sqrt(beta) / (beta - 1))
    assert opt.scrub_ree_flow == pytest.approx(1 / (beta - 1))


def test_optimum_is_above_minimum():
    for beta in (1.3, 1.5, 2.0, 3.0):
        for f_a in (0.2, 0.5, 0.8):
            p = 0.9999
            opt = optimum_flows(beta, f_a)
            mini = minimum_flows_binary(beta, f_a, p, p)
            assert opt.organic_ree_flow > mini.organic_ree_flow


def test_xu_estimates_at_optimum_are_twice_fenske():
    # with E_B = 1/sqrt(beta) and E'_A = sqrt(beta) both sections enrich by sqrt(beta) per stage,
    # so n + m = 2 ln(a b)/ln(beta) = 2 N_min (feed-based a, b)
    beta, f_a, p = 2.0, 0.4, 0.999
    est = xu_stage_estimates(beta, f_a, p, p, 1 / math.sqrt(beta), math.sqrt(beta))
    assert est.extraction + est.scrub == pytest.approx(2 * fenske_min_stages(beta, p, p), rel=1e-12)


def test_effective_separation_factor_binary_is_beta_and_grows_with_easier_non_keys():
    two = effective_separation_factor({"A": 1.8, "B": 1.0}, {"A": 0.5, "B": 0.5}, ["B"])
    assert two == pytest.approx(1.8, rel=1e-9)
    three = effective_separation_factor(
        {"A": 1.8, "C": 5.0, "B": 1.0}, {"A": 0.25, "C": 0.25, "B": 0.5}, ["B"]
    )
    assert three > 1.8


def test_bad_inputs_raise():
    with pytest.raises(InfeasibleError):
        fenske_min_stages(1.0, 0.9, 0.9)
    with pytest.raises(InfeasibleError):
        minimum_flows_binary(1.5, 0.5, 0.4, 0.99)


@pytest.mark.parametrize(
    ("beta", "p_a", "p_b"),
    [(1.5, 0.9999, 0.9999), (1.5, 0.999, 0.999), (3.0, 0.9999, 0.9999), (2.0, 0.999, 0.9999)],
)
def test_total_reflux_minimum_reduces_to_fenske(beta, p_a, p_b):
    """The exact multicomponent total-reflux minimum equals Fenske's equation for two components."""
    from mine2magnet.separation.cascade_design.problem import build_problem, total_reflux_stages

    p = build_problem(
        ("Pr", "Nd"),
        {"Pr": 1.0, "Nd": beta},
        {"Pr": 0.5, "Nd": 0.5},
        "aqueous",
        "Pr|Nd",
        {"raffinate": {"purity": p_b}, "extract": {"purity": p_a}},
    )
    assert total_reflux_stages(p) == pytest.approx(fenske_min_stages(beta, p_a, p_b), rel=1e-6)


def test_total_reflux_minimum_below_key_pair_fenske_when_non_keys_dominate():
    """Easy non-key components make the multicomponent minimum smaller than the key-pair estimate."""
    from mine2magnet.separation.cascade_design.problem import build_problem, total_reflux_stages

    betas = {"Dy": 1.0, "Ho": 1.68, "Y": 2.352, "Er": 3.2928, "Tm": 6.5856, "Yb": 13.1712}
    feed = {"Dy": 0.1, "Ho": 0.001, "Y": 0.01, "Er": 0.0001, "Tm": 0.001, "Yb": 0.5}
    targets = {"raffinate": {"purity": 0.99, "recovery": 0.95}, "extract": {"purity": 0.99}}
    p = build_problem(tuple(betas), betas, feed, "aqueous", "Er|Tm", targets)
    n = total_reflux_stages(p)
    assert 0 < n < 13  # the key pair alone (beta 2, side totals) would claim ~13
