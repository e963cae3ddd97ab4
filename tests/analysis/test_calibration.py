"""Calibration: a grid fit of Lynas' La/Ce separation-cost range against published output."""

from __future__ import annotations

import pytest
import yaml

from mine2magnet.analysis.calibration import fit_reject_cost, with_reject_cost
from mine2magnet.data import load_dataset
from mine2magnet.errors import InputError
from mine2magnet.scenario import load_scenario


@pytest.fixture(scope="module")
def short_history(tmp_path_factory):
    path = tmp_path_factory.mktemp("calibration") / "short-history.yaml"
    body = {"name": "short-history", "description": "test", "base": "malaysia-history", "years": [2024, 2025]}
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return load_scenario(str(path))


def test_with_reject_cost_sets_the_range_in_usd_per_t(short_history):
    trial = with_reject_cost(short_history, "Lynas Malaysia", ["La"], 0.4, 1.9)
    assert trial.model.network.facilities["Lynas Malaysia"].attrs["reject_cost"]["La"] == (400.0, 1900.0)
    assert short_history.model.network.facilities["Lynas Malaysia"].attrs["reject_cost"]["La"] != (
        400.0,
        1900.0,
    )
    with pytest.raises(InputError, match="no refinery"):
        with_reject_cost(short_history, "Mt Weld", ["La"], 0.4, 1.9)


def test_a_higher_cost_range_rejects_more_and_the_fit_ranks_by_score(short_history):
    obs = load_dataset().observations("lynas.reo_produced.2025")
    points = fit_reject_cost(short_history, obs, lows=(0.5,), highs=(1.3, 3.0))
    assert [p.score for p in points] == sorted(p.score for p in points)
    by_high = {p.high: p.ratios["lynas.reo_produced.2025"] for p in points}
    assert by_high[3.0] < by_high[1.3]  # more of the La and Ce rejected: less total REO


def test_a_holdout_fits_on_the_training_keys_only_and_its_test_ratios_are_a_plain_run(short_history):
    from math import log

    from mine2magnet.analysis.backtest import backtest
    from mine2magnet.analysis.calibration import holdout
    from mine2magnet.scenario import run_scenario

    obs = load_dataset().observations("lynas.reo_produced.2024") + load_dataset().observations(
        "lynas.reo_produced.2025"
    )
    fit = holdout(short_history, obs, ["lynas.reo_produced.2024"], lows=(0.5,), highs=(1.3, 3.0))
    assert set(fit.test_ratios) == {"lynas.reo_produced.2025"}
    assert fit.best.score == pytest.approx(log(fit.best.ratios["lynas.reo_produced.2024"]) ** 2)
    # the test ratio is what a plain run of the scenario with the chosen range gives (a second path)
    trial = with_reject_cost(short_history, "Lynas Malaysia", ["La", "Ce"], fit.best.low, fit.best.high)
    plain = backtest(run_scenario(trial), trial.model.prices, obs)
    ratio = {c.observation.key: c.ratio for c in plain.compared}["lynas.reo_produced.2025"]
    assert fit.test_ratios["lynas.reo_produced.2025"] == pytest.approx(ratio, rel=1e-12)
    assert set(fit.within({"lynas.reo_produced.2025": 10.0}).values()) == {True}
    with pytest.raises(InputError, match="training keys"):
        holdout(short_history, obs, ["lynas.reo_produced.1999"], lows=(0.5,), highs=(2.0,))


def test_the_lag_of_a_trial_reaches_the_refinery(short_history):
    trial = with_reject_cost(short_history, "Lynas Malaysia", ["La"], 0.5, 2.0, lag=1)
    assert trial.model.network.facilities["Lynas Malaysia"].attrs["reject_price_lag"] == 1


def test_observations_an_input_was_derived_from_are_in_sample_through_derived_values():
    import dataclasses

    from mine2magnet.analysis.backtest import fitted_inputs
    from mine2magnet.data import Dataset

    ds = load_dataset()
    low = "chain.refinery.la_ce_separation_cost.low"
    direct = fitted_inputs(ds, [low])
    assert set(direct) == set(ds.get(low).derived_from) & {o.key for o in ds.observations()}
    assert all(v == (low,) for v in direct.values())
    # a value derived from the calibrated one inherits its observations
    chained = dataclasses.replace(ds.get(low), key="test.derived_from_low", derived_from=(low,))
    values = {k: ds.all(k) for k in ds.keys(prefix="") if k not in ds.compositions()}
    values["test.derived_from_low"] = [chained]
    comps = {k: [ds.composition(k)] for k in ds.compositions()}
    wider = Dataset({}, values, comps, ds.observations())
    assert set(fitted_inputs(wider, ["test.derived_from_low"])) == set(direct)
    assert fitted_inputs(ds, ["chain.lynas_malaysia.concentrate_feed_capacity"]) == {}


def test_a_negative_reject_price_lag_is_refused(tmp_path):
    body = {
        "name": "bad-lag",
        "description": "test",
        "base": "malaysia-history",
        "years": [2024, 2024],
        "facilities": {"refineries": [{"name": "Lynas Malaysia", "reject_price_lag": -1}]},
    }
    path = tmp_path / "bad-lag.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    with pytest.raises(InputError, match="reject_price_lag"):
        load_scenario(str(path))
