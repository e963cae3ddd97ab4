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
