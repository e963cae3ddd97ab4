"""design(spec): optimal cuts confirmed by simulation, against independent references.

References used here (each test names its own):
* the minimum flows of the closed forms (pinch at the feed, derived independently of Underwood's method used
  inside design) and the Fenske stages (sx_theory.md a3);
* published worked designs from the counter-current extraction literature, as listed in sx_theory.md (c):
  V3 (Zhang, Zhao & Schreiner 2016 via KitchinHUB ree-book ch. 17: Gd/Eu/Sm, beta 1.40 / 2.00, design curve of
  extraction stages n against S_o), V4 (J. Inner Mongolia Univ. 1979(1):65: naphthenic acid, La from Pr+Nd,
  20 counter-current stages gave La2O3 > 99.96 % at > 90 % recovery), V6 (Lyon, Utgikar & Greenhalgh 2017,
  Ind. Eng. Chem. Res., doi:10.1021/acs.iecr.6b04009, via KitchinHUB ch. 17: PC88A Pr/Nd, > 99 % Nd needed a
  12-stage scrub section); the inputs each source leaves out are stated in the test as assumptions;
* the stage-wise simulation itself (`simulate`, a different solver from the one inside the search) for
  minimality: one stage fewer, at any feed stage, misses the targets.
"""

import dataclasses
import math
import sys

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mine2magnet.errors import ConvergenceError, InfeasibleError, InputError
from mine2magnet.separation import design, load_spec, simulate
from mine2magnet.separation.cascade_design.lsf import solve_cut
from mine2magnet.separation.cascade_design.lsf import stage_totals as cut_stage_totals
from mine2magnet.separation.cascade_design.problem import build_problem, outlet_performance
from mine2magnet.separation.cascade_design.theory import fenske_min_stages, minimum_flows_binary


def binary_spec(beta=1.5, f_nd=0.75, purity=0.999, phase="aqueous"):
    return {
        "components": ["Pr", "Nd"],
        "model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0, "Nd": beta}},
        "feed": {"phase": phase, "flow": {"Pr": 1.0 - f_nd, "Nd": f_nd}},
        "cut": "Pr|Nd",
        "targets": {"raffinate": {"purity": purity}, "extract": {"purity": purity}},
    }


LREE = {
    "components": ["La", "Ce", "Pr", "Nd", "Sm"],
    "model": {
        "type": "loaded-separation-factor",
        "separation_factors": {"La": 1.0, "Ce": 2.0, "Pr": 4.0, "Nd": 5.8, "Sm": 23.2},
    },
    "feed": {"phase": "aqueous", "flow": {"La": 0.25, "Ce": 0.45, "Pr": 0.05, "Nd": 0.2, "Sm": 0.05}},
    "cut": "Ce|Pr",
    "targets": {"raffinate": {"purity": 0.999, "recovery": 0.99}, "extract": {"purity": 0.999}},
}


def _meets(perf, targets):
    for side, t in targets.items():
        for key, want in t.items():
            assert perf[side][key] >= want * (1 - 1e-12), (side, key, perf[side][key], want)


def _performance_from_flows(spec, raffinate, extract):
    s = load_spec({**spec, "feed": {**spec["feed"], "stage": 1}})
    p = build_problem(
        s.components,
        s.model.separation_factors,
        s.feed.component_flow(s.components),
        s.feed.phase,
        s.cut,
        s.targets,
    )
    return outlet_performance(p, raffinate, extract)


@pytest.fixture(scope="module")
def binary_result():
    return design(binary_spec())


def test_binary_design_contract_and_targets(binary_result):
    d = binary_result.to_dict()
    for key in ("stages", "feed_stage", "organic", "scrub", "minimum", "tradeoff", "verified"):
        assert key in d
    assert set(d["stages"]) == {"extraction", "scrub"}
    assert set(d["minimum"]) == {"organic_ree_flow", "scrub_ree_flow", "stages_total_reflux"}
    v = d["verified"]
    assert v["converged"] and v["mass_balance_error"] <= 1e-9
    # performance recomputed from the verified simulation's own outlet flows
    perf = _performance_from_flows(
        binary_spec(), v["outlets"]["raffinate"]["flow"], v["outlets"]["loaded_organic"]["flow"]
    )
    _meets(perf, binary_spec()["targets"])
    assert d["feed_stage"] == d["stages"]["extraction"]  # aqueous feed enters the last extraction stage


def test_binary_minimum_flows_and_fenske(binary_result):
    # the design's Underwood minimum equals the independent pinch-at-the-feed closed form
    mini = minimum_flows_binary(1.5, 0.75, 0.999, 0.999)  # both purities bind at the chosen split
    assert binary_result.minimum_organic_ree_flow == pytest.approx(mini.organic_ree_flow, rel=1e-4)
    # Fenske (sx_theory.md a3, beta 1.5 at 0.999/0.999: 34 stages) bounds every design from below
    assert binary_result.stages_total_reflux == pytest.approx(fenske_min_stages(1.5, 0.999, 0.999), rel=1e-3)
    for p in binary_result.tradeoff:
        assert p.total >= binary_result.stages_total_reflux
        assert p.organic_ree_flow > binary_result.minimum_organic_ree_flow
    # the trade-off: fewer stages as the flow grows, without bound as S -> S_min
    totals = [p.total for p in binary_result.tradeoff]
    assert totals == sorted(totals, reverse=True)
    assert totals[0] > 2.5 * binary_result.stages_total_reflux


def test_binary_design_is_minimal_by_simulation(binary_result):
    """One stage fewer at the chosen flows, at any feed stage, misses the targets (simulated)."""
    r = binary_result
    n_total = r.stages_extraction + r.stages_scrub - 1
    worst = []
    for k in range(1, n_total):
        spec = {
            **binary_spec(),
            "stages": {"extraction": k, "scrub": n_total - k},
            "feed": {"stage": k, "phase": "aqueous", "flow": {"Pr": 0.25, "Nd": 0.75}},
            "organic": {"ree_flow": r.organic_ree_flow},
            "scrub": {"ree_flow": r.scrub_ree_flow},
        }
        try:
            res = simulate(spec)
            out = res.to_dict()["outlets"]
            raff, ext = out["raffinate"]["flow"], out["loaded_organic"]["flow"]
        except ConvergenceError:
            totals = cut_stage_totals(n_total, k, 1.0, r.organic_ree_flow, r.scrub_ree_flow, False)
            feed = np.zeros((n_total, 2))
            feed[k - 1] = [0.25, 0.75]
            sol = solve_cut(np.array([1.0, 1.5]), feed, *totals, max_iterations=400)
            assert sol.converged
            raff = dict(zip(["Pr", "Nd"], sol.aqueous[0], strict=True))
            ext = dict(zip(["Pr", "Nd"], sol.organic[-1], strict=True))
        perf = _performance_from_flows(binary_spec(), raff, ext)
        worst.append(min(perf["raffinate"]["purity"], perf["extract"]["purity"]))
    assert max(worst) < 0.999


def test_near_pinch_reachable_above_and_not_below_minimum():
    """Just above S_min the targets are reached with many stages; just below, not with 300 stages."""
    spec = binary_spec()
    r = design(spec, flow_ladder=(1.01, 1.5))
    s_min, e = r.minimum_organic_ree_flow, r.extract_flow
    near = next(p for p in r.tradeoff if p.organic_ree_flow < 1.02 * s_min)
    assert near.total > 2 * r.stages_total_reflux
    # below the minimum: 300 stages with the feed at the pinch-optimal third do not reach the impurity limit
    n_total, k = 300, 100
    s = 0.99 * s_min
    totals = cut_stage_totals(n_total, k, 1.0, s, s - e, False)
    feed = np.zeros((n_total, 2))
    feed[k - 1] = [0.25, 0.75]
    best = math.inf
    for kk in (60, 100, 140, 200):
        feed = np.zeros((n_total, 2))
        feed[kk - 1] = [0.25, 0.75]
        totals = cut_stage_totals(n_total, kk, 1.0, s, s - e, False)
        sol = solve_cut(np.array([1.0, 1.5]), feed, *totals, max_iterations=400)
        assert sol.converged
        best = min(best, sol.organic[-1, 0])
    assert best > r.search["impurity_limit"]
    with pytest.raises(InfeasibleError):
        design(spec, flow_ladder=(0.98, 0.99))


def test_multicomponent_design_verified_and_minimal():
    r = design(LREE)
    d = r.to_dict()
    out = d["verified"]["outlets"]
    perf = _performance_from_flows(LREE, out["raffinate"]["flow"], out["loaded_organic"]["flow"])
    _meets(perf, LREE["targets"])
    assert d["key_pair"] == {"raffinate": "Ce", "extract": "Pr", "beta": pytest.approx(2.0)}
    # one stage fewer at the chosen flows misses the targets at every feed stage (independent solver)
    n_total = r.stages_extraction + r.stages_scrub - 1
    beta = np.array([1.0, 2.0, 4.0, 5.8, 23.2])
    f = np.array([0.25, 0.45, 0.05, 0.2, 0.05])
    for k in range(1, n_total):
        feed = np.zeros((n_total, 5))
        feed[k - 1] = f
        totals = cut_stage_totals(n_total, k, 1.0, r.organic_ree_flow, r.scrub_ree_flow, False)
        sol = solve_cut(beta, feed, *totals, max_iterations=400)
        assert sol.converged
        assert sol.organic[-1, :2].sum() > r.search["impurity_limit"] * (1 - 1e-6)
    assert r.search["seconds"] < 30  # a sanity bound only; speed is measured in benchmarks/bench_design.py


def test_organic_feed_design():
    spec = binary_spec(phase="organic")
    r = design(spec)
    assert r.feed_stage == r.stages_extraction + 1  # an organic feed enters the first scrub stage
    out = r.verified.to_dict()["outlets"]
    _meets(
        _performance_from_flows(spec, out["raffinate"]["flow"], out["loaded_organic"]["flow"]),
        spec["targets"],
    )
    assert r.organic_ree_flow > 1.0  # S is the scrub-section flow: it includes the organic feed


def test_v3_gd_eu_sm_design_curve():
    """V3 (Zhang et al. 2016, trust B): extraction stages n against S_o for the Sm | Eu,Gd split.

    Published: beta(Gd/Eu) = 1.40, beta(Eu/Sm) = 2.00; feed Gd/Eu/Sm = 0.39/0.10/0.51; Sm2O3 99.99 % at 99.9 %
    recovery in the aqueous outlet; n = 22, 21, 19, 18, 18, 17 at S_o = 1.40, 1.50, 1.75, 2.00, 2.25, 2.50.
    Assumed here: the three-outlet process's extraction section does the Sm | Eu,Gd separation of a two-outlet
    cut with the same organic flow (the middle Eu outlet and W are not given), and S_o is per unit feed.
    """
    spec = {
        "components": ["Sm", "Eu", "Gd"],
        "model": {
            "type": "loaded-separation-factor",
            "separation_factors": {"Sm": 1.0, "Eu": 2.0, "Gd": 2.8},
        },
        "feed": {"phase": "aqueous", "flow": {"Gd": 0.39, "Eu": 0.10, "Sm": 0.51}},
        "cut": "Sm|Eu",
        "targets": {"raffinate": {"purity": 0.9999, "recovery": 0.999}},
    }
    published = {1.40: 22, 1.50: 21, 1.75: 19, 2.00: 18, 2.25: 18, 2.50: 17}
    s_min = design(spec, flow_ladder=(2.0,)).minimum_organic_ree_flow
    r = design(spec, flow_ladder=tuple(s / s_min for s in published))
    got = {round(p.organic_ree_flow, 2): p.extraction for p in r.tradeoff}
    for s_o, n in published.items():
        assert abs(got[s_o] - n) <= 2, (s_o, got[s_o], n)


def test_v4_naphthenic_la_in_twenty_stages():
    """V4 (1979, trust B/C): 20 counter-current stages gave La2O3 > 99.96 % at > 90 % recovery.

    Published: beta Ce/La ~2.5, Pr/Ce ~1.2, Nd/Pr ~1.3 (so Pr/La 3.0, Nd/La 3.9). Assumed: feed La/Pr/Nd =
    0.50/0.125/0.375 (the split is not given) and the loaded-separation-factor model.
    """
    spec = {
        "components": ["La", "Pr", "Nd"],
        "model": {
            "type": "loaded-separation-factor",
            "separation_factors": {"La": 1.0, "Pr": 3.0, "Nd": 3.9},
        },
        "feed": {"phase": "aqueous", "flow": {"La": 0.5, "Pr": 0.125, "Nd": 0.375}},
        "cut": "La|Pr",
        "targets": {"raffinate": {"purity": 0.9996, "recovery": 0.90}},
    }
    r = design(spec)
    assert r.stages_total_reflux < 20
    assert any(p.total <= 20 for p in r.tradeoff)
    assert r.stages_extraction + r.stages_scrub <= 20


def test_v6_lyon_pr_nd_scrub_section():
    """V6 (Lyon et al. 2017, trust C): > 99 % Nd from 25/75 wt% Pr/Nd with PC88A needed a 12-stage scrub.

    Assumed: beta(Nd/Pr) 1.4-1.5 (the P507/PC88A set, 'beta ~ 1.4-1.5'), the raffinate a didymium of 50 % Pr
    (the flowsheet co-produced didymium), mol from wt% with the atomic weights.
    """
    for beta in (1.4, 1.5):
        spec = {
            "components": ["Pr", "Nd"],
            "model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0, "Nd": beta}},
            "feed": {"phase": "aqueous", "flow": {"Pr": 0.25 / 140.908, "Nd": 0.75 / 144.242}},
            "cut": "Pr|Nd",
            "targets": {"extract": {"purity": 0.99}, "raffinate": {"purity": 0.5}},
        }
        r = design(spec)
        scrubs = [p.scrub for p in r.tradeoff]
        assert min(scrubs) <= 12 <= max(scrubs)
        # the optimum needs somewhat more than the 12 of a high-reflux plant, never an order of magnitude more
        assert 8 <= r.stages_scrub <= 24


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    beta=st.floats(1.3, 3.0),
    f_nd=st.floats(0.2, 0.8),
    purity=st.floats(0.95, 0.998),
    tighter=st.floats(1.5, 10.0),
)
def test_tighter_purity_never_needs_fewer_stages(beta, f_nd, purity, tighter):
    """At the same organic and scrub flows, a tighter purity never needs fewer stages (binary, exact)."""
    loose = design(binary_spec(beta, f_nd, purity), flow_ladder=(1.6,))
    tight_purity = 1 - (1 - purity) / tighter
    tight_spec = binary_spec(beta, f_nd, tight_purity)
    tight = design(tight_spec, flow_ladder=(1.6,))
    assert tight.stages_total_reflux >= loose.stages_total_reflux
    # compare at equal flows: the loose design's flows scaled to the tight minimum are not comparable, so
    # check the property on the tight design's own flows: the loose targets are met with no more stages
    t = tight.tradeoff[0]
    loose_at = design(
        binary_spec(beta, f_nd, purity),
        flow_ladder=(t.organic_ree_flow / loose.minimum_organic_ree_flow,),
    )
    if abs(loose_at.extract_flow - tight.extract_flow) < 1e-9:
        assert loose_at.tradeoff[0].total <= t.total


def test_cost_objective_and_yaml_file(tmp_path):
    spec = {
        **binary_spec(),
        "objective": {"cost": {"per_stage": 1.0, "per_organic_flow": 0.0, "per_flow_stage": 0.0}},
    }
    with pytest.raises(InputError, match=r"objective\.cost"):
        design(spec)
    spec["objective"] = {"cost": {"per_stage": 10.0, "per_organic_flow": 100.0}}
    path = tmp_path / "cut.yaml"
    path.write_text(yaml.safe_dump(spec))
    r = design(path)
    assert r.objective.name == "cost"
    costs = [10.0 * p.total + 100.0 * p.organic_ree_flow for p in r.tradeoff]
    assert r.objective_value == pytest.approx(min(costs))


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            {"targets": {"raffinate": {"purity": 1.0}, "extract": {"purity": 0.99}}},
            InfeasibleError,
            "infinite",
        ),
        (
            {"targets": {"raffinate": {"recovery": 1.2}, "extract": {"purity": 0.99}}},
            InfeasibleError,
            "recovery",
        ),
        ({"targets": {"raffinate": {"purity": -0.5}, "extract": {"purity": 0.99}}}, InputError, "purity"),
        ({"targets": {"raffinate": {"pureness": 0.9}}}, InputError, "pureness"),
        ({"targets": {"extract": {"purity": 0.99}}}, InputError, "unbounded"),
        ({"cut": "Pr|Sm"}, InputError, "Sm"),
        ({"cut": "Nd|Pr"}, InputError, "more extractable"),
        ({"cut": "PrNd"}, InputError, "cut"),
        ({"cut": None}, InputError, "cut"),
        ({"feed": {"phase": "aqueous", "flow": {"Pr": 1.0, "Nd": 0.0}}}, InfeasibleError, "extract-side"),
        (
            {"model": {"type": "constant-distribution", "distribution_ratios": {"Pr": 1.0, "Nd": 2.0}}},
            InputError,
            "loaded-separation-factor",
        ),
    ],
)
def test_bad_specs_raise_clear_errors(change, error, match):
    spec = {**binary_spec(), **change}
    with pytest.raises(error, match=match):
        design(spec)


def test_non_adjacent_cut_raises():
    with pytest.raises(InputError, match="not adjacent"):
        design({**LREE, "cut": "La|Pr"})


def test_stage_limit_raises_with_what_is_needed():
    with pytest.raises(InfeasibleError, match="Fenske"):
        design(binary_spec(), max_stages=20)
    with pytest.raises(InfeasibleError, match="within 40 stages"):
        design(binary_spec(), max_stages=40, flow_ladder=(1.05, 1.2))


def test_non_converged_verification_raises(monkeypatch):
    design_module = sys.modules["mine2magnet.separation.cascade_design.search"]  # the search's module

    def no_simulate(spec):
        raise ConvergenceError("forced", residual=1.0, iterations=1)

    real = design_module.solve_cut

    def failing_after_search(*args, **kwargs):
        sol = real(*args, **kwargs)
        if kwargs.get("max_iterations") == 400:  # the verification call: report it as not converged
            return dataclasses.replace(sol, converged=False)
        return sol

    monkeypatch.setattr(design_module, "simulate", no_simulate)
    monkeypatch.setattr(design_module, "solve_cut", failing_after_search)
    with pytest.raises(ConvergenceError, match="did not converge"):
        design(binary_spec())


ORDER = ["La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n=st.integers(2, 4),
    purity=st.sampled_from([0.95, 0.99, 0.999]),
    phase=st.sampled_from(["aqueous", "organic"]),
)
def test_random_cuts_are_verified_or_refused_cleanly(data, n, purity, phase):
    """Any design returned meets its targets in its own verified simulation (mass balance closed)."""
    start = data.draw(st.integers(0, len(ORDER) - n))
    comps = ORDER[start : start + n]
    steps = data.draw(st.lists(st.floats(1.3, 4.0), min_size=n - 1, max_size=n - 1))
    betas = dict(zip(comps, np.cumprod([1.0, *steps]), strict=True))
    flows = {c: data.draw(st.sampled_from([0.001, 0.05, 0.3, 1.0])) for c in comps}
    j = data.draw(st.integers(0, n - 2))
    spec = {
        "components": comps,
        "model": {"type": "loaded-separation-factor", "separation_factors": betas},
        "feed": {"phase": phase, "flow": flows},
        "cut": f"{comps[j]}|{comps[j + 1]}",
        "targets": {"raffinate": {"purity": purity}, "extract": {"purity": purity}},
    }
    try:
        r = design(spec, max_stages=150)
    except InfeasibleError:
        return
    v = r.verified.to_dict()
    assert v["converged"] and v["mass_balance_error"] <= 1e-9
    out = v["outlets"]
    _meets(
        _performance_from_flows(spec, out["raffinate"]["flow"], out["loaded_organic"]["flow"]),
        spec["targets"],
    )
    assert r.stages_extraction + r.stages_scrub >= r.stages_total_reflux


def test_fallback_verification_is_reported(monkeypatch):
    """When simulate does not converge, the independent solver verifies the design and says so."""

    def no_simulate(spec):
        raise ConvergenceError("forced", residual=1.0, iterations=1)

    search = sys.modules["mine2magnet.separation.cascade_design.search"]
    monkeypatch.setattr(search, "simulate", no_simulate)
    r = design(LREE)
    assert r.verification["solver"].startswith("design_lsf")
    assert "forced" in r.verification["simulate_error"]
    out = r.to_dict()["verified"]["outlets"]
    _meets(
        _performance_from_flows(LREE, out["raffinate"]["flow"], out["loaded_organic"]["flow"]),
        LREE["targets"],
    )


def test_cli_design_end_to_end(tmp_path):
    from click.testing import CliRunner

    from mine2magnet.cli import main

    path = tmp_path / "cut.yaml"
    path.write_text(yaml.safe_dump({**binary_spec(), "objective": "flow-stages"}))
    res = CliRunner().invoke(main, ["cascade", "design", str(path), "--json"])
    assert res.exit_code == 0, res.output
    import json

    d = json.loads(res.output)
    assert d["stages"]["extraction"] >= 1 and d["verified"]["converged"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**binary_spec(), "cut": "Nd|Pr"}))
    res = CliRunner().invoke(main, ["cascade", "design", str(bad)])
    assert res.exit_code == 1 and "cut" in res.output
