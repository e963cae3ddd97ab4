"""A study reads, merges and validates its scenario file once per process and builds each draw's model from
a copy: the scenario of a draw equals ``load_scenario`` of the drawn scenario on the draw's dataset, and so
does its run (every table), on every built-in scenario and on several draws of the flagship."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from mine2magnet.analysis.uncertainty.inputs import draw_inputs
from mine2magnet.analysis.uncertainty.sampling import draw_sample
from mine2magnet.analysis.uncertainty.study import scenario_study
from mine2magnet.scenario import build_scenario, list_scenarios, load_scenario, resolve_scenario, run_scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chain"))
from chainkit import assert_same_tables


def _same_scenario(got, want, assumptions: bool = True) -> None:
    assert (got.name, got.description, got.file, got.overrides) == (
        want.name,
        want.description,
        want.file,
        want.overrides,
    )
    assert got.data == want.data
    if assumptions:
        pd.testing.assert_frame_equal(got.assumptions, want.assumptions)
    else:  # a draw's scenario leaves the table empty (a draw reads none of it); same columns
        assert got.assumptions.empty and list(got.assumptions.columns) == list(want.assumptions.columns)
    assert got.economics == want.economics
    assert list(got.model.years) == list(want.model.years)


def _draws(name: str, n: int, seed: int, end_year: int | None = None):
    model, si = scenario_study(name, end_year=end_year)
    sample = draw_sample(si.inputs, "lhs", n, seed, si.correlations)
    return model, [draw_inputs(si.inputs, row) for row in sample.values]


def _assert_draw_equals_fresh_load(model, inputs, name: str, overrides: list[str], end_year=None) -> None:
    """A draw's scenario and run equal load_scenario of the drawn scenario on the draw's dataset."""
    ds = model.draw_dataset(inputs)
    got = model.scenario_for(inputs, ds)
    want = load_scenario(name, overrides, dataset=ds)
    want.model.performances = got.model.performances  # the study's shared flowsheet runs
    if end_year is not None:
        want.model.years = [y for y in want.model.years if y <= end_year]
    _same_scenario(got, want, assumptions=False)
    got_tables, want_tables = run_scenario(got).tables, run_scenario(want).tables
    assert got_tables.pop("assumptions").empty
    want_tables.pop("assumptions")
    assert_same_tables(got_tables, want_tables)


@pytest.mark.parametrize("name", [s[0] for s in list_scenarios()])
def test_a_draw_of_every_built_in_scenario_equals_a_fresh_load(name: str) -> None:
    model, draws = _draws(name, 2, 3)
    for inputs in draws:
        _assert_draw_equals_fresh_load(model, inputs, name, [*model.overrides, *inputs.overrides])


def test_draws_of_the_flagship_equal_fresh_loads() -> None:
    model, draws = _draws("malaysia-base", 4, 21, end_year=2031)
    for inputs in draws:
        _assert_draw_equals_fresh_load(model, inputs, "malaysia-base", list(inputs.overrides), end_year=2031)


def test_each_build_has_its_own_data() -> None:
    resolved = resolve_scenario("malaysia-base", ["crackdown"])
    a, b = build_scenario(resolved), build_scenario(resolved)
    assert a.data == b.data == resolved.data and a.data is not b.data and a.data is not resolved.data
    a.data["facilities"].clear()  # a run that changed its data would not change the next draw's
    assert b.data == resolved.data
    _same_scenario(b, load_scenario("malaysia-base", ["crackdown"]))
    lean = build_scenario(resolved, assumptions=False)
    _same_scenario(lean, b, assumptions=False)
