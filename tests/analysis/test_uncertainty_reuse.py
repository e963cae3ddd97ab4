"""What a study reuses between draws gives what a fresh run of the drawn scenario gives: refinery
performances probed once per key (no effect / affine effect) against reruns of the flowsheet at the drawn
values, and whole draws against draws evaluated with every reuse switched off."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.analysis.uncertainty.flowsheet_runs import FlowsheetRuns, performance_numbers
from mine2magnet.data import load_dataset

LABOUR = "process.labour.cost_per_person"
RUN = ("lynas-malaysia", "kalgoorlie-mrec", None)


@pytest.fixture(scope="module")
def runs() -> FlowsheetRuns:
    return FlowsheetRuns(load_dataset(), probe_after=0)  # probe from the first draw


def _rerun(runs: FlowsheetRuns, values: dict[str, float]):
    perf, _ = runs._run(RUN, values)  # the flowsheet run afresh with the drawn values as overrides
    return performance_numbers(perf)


def test_prices_change_no_performance_number_and_labour_is_affine(runs) -> None:
    runs.get(*RUN, {})
    assert runs._effect(RUN, "price.NdPr_oxide.2024").kind == "none"  # revenue only: not in the performance
    assert runs._effect(RUN, LABOUR).kind == "affine"  # opex: headcount x cost per person


@settings(max_examples=8)
@given(share=st.floats(0.0, 1.0), price=st.floats(0.0, 1.0))
def test_interpolated_performance_equals_a_rerun(runs, share: float, price: float) -> None:
    ds = runs.dataset
    lo, hi = ds.get(LABOUR).range
    plo, phi = ds.get("price.NdPr_oxide.2024").range
    values = {LABOUR: lo + share * (hi - lo), "price.NdPr_oxide.2024": plo + price * (phi - plo)}
    got = performance_numbers(runs.get(*RUN, values))
    want = _rerun(runs, values)
    assert got.keys() == want.keys()
    for path, v in want.items():
        assert got[path] == pytest.approx(v, rel=1e-9, abs=1e-12), path
    # the labour cost moves the opex: the check above is not vacuous
    assert (
        _rerun(runs, {LABOUR: lo})[("opex_usd_per_t_reo",)]
        != _rerun(runs, {LABOUR: hi})[("opex_usd_per_t_reo",)]
    )


def test_labour_outside_its_range_is_a_rerun(runs) -> None:
    hi = runs.dataset.get(LABOUR).range[1]
    n = runs.runs
    runs.get(*RUN, {LABOUR: hi * 1.5})
    assert runs.runs == n + 1


def test_draws_with_reuse_equal_draws_without(monkeypatch) -> None:
    """Whole draws (flowsheets by probe and interpolation, LP layouts kept) against the same draws with
    every flowsheet rerun at the drawn values and every LP laid out afresh."""
    from mine2magnet.analysis.uncertainty import flowsheet_runs
    from mine2magnet.analysis.uncertainty.inputs import draw_inputs
    from mine2magnet.analysis.uncertainty.models import _PREPARED, ScenarioModel, _prepared
    from mine2magnet.analysis.uncertainty.sampling import draw_sample
    from mine2magnet.analysis.uncertainty.study import scenario_study
    from mine2magnet.chain.allocation import forget_structures

    model, si = scenario_study("malaysia-base", end_year=2028)
    sample = draw_sample(si.inputs, "lhs", 3, 5, si.correlations)
    draws = [draw_inputs(si.inputs, row) for row in sample.values]
    _prepared(model).flowsheets.probe_after = 0  # probes and interpolation from the first draw
    reused = [model(d) for d in draws]
    assert _PREPARED[model].flowsheets.interpolated > 0
    monkeypatch.setattr(
        flowsheet_runs.FlowsheetRuns, "_effect", lambda self, key, k: flowsheet_runs._Effect("other")
    )
    fresh_model = ScenarioModel(
        model.scenario, model.overrides, model.end_year, model.data, model.kpis, model.claims
    )
    _PREPARED.pop(fresh_model, None)
    for d, rows in zip(draws, reused, strict=True):
        forget_structures()
        _PREPARED.pop(fresh_model, None)
        fresh = fresh_model(d)
        assert [r[:3] for r in fresh] == [r[:3] for r in rows]
        np.testing.assert_allclose([r[3] for r in rows], [r[3] for r in fresh], rtol=1e-9, atol=1e-9)


def test_the_first_draws_are_reruns_then_probes() -> None:
    """A small sample reruns (no probe runs); past `probe_after` distinct draws the keys are probed once and
    later draws need no run."""
    runs = FlowsheetRuns(load_dataset(), probe_after=2)
    lo, hi = runs.dataset.get(LABOUR).range
    values = [{LABOUR: lo + f * (hi - lo)} for f in (0.1, 0.2, 0.3, 0.4)]
    runs.get(*RUN, {})
    n = runs.runs
    for v in values[:2]:
        runs.get(*RUN, v)
        runs.get(*RUN, v)  # the same draw asking again (another year): the same run
    assert runs.runs == n + 2 and not runs._effects
    runs.get(*RUN, values[2])  # the third draw: the labour cost probed (ends and middle), then interpolated
    assert runs._effects[(RUN, LABOUR)].kind == "affine" and runs.interpolated == 1
    m = runs.runs
    runs.get(*RUN, values[3])
    assert runs.runs == m and runs.interpolated == 2
