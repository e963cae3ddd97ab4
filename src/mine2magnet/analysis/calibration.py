"""Calibration against history: fit an input that no source publishes to the observations it explains.

The one input calibrated so far is the La/Ce separation-cost range of a refinery (``reject_cost``): what it
costs Lynas to separate and finish La or Ce oxide is not published, but how much La and Ce it finished each
year is (its total REO less NdPr and heavies). :func:`fit_reject_cost` runs a scenario over a grid of
[low, high] ranges and scores each by the squared log-ratios of model to published for the chosen
observations. The observations used for a fit are in-sample for that input: their passing afterwards shows
the fit, not an independent test (``docs/validation.md`` says which they are).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mine2magnet.analysis.backtest import backtest
from mine2magnet.chain import ChainNetwork, PerformanceCache
from mine2magnet.data import Observation
from mine2magnet.errors import InputError
from mine2magnet.scenario import Scenario, run_scenario


@dataclass(frozen=True)
class FitPoint:
    """One trial range (USD/kg) and its score: sum of log(model / published)^2 over the observations."""

    low: float
    high: float
    score: float
    ratios: dict[str, float]


def with_reject_cost(
    scenario: Scenario, facility: str, elements: Sequence[str], low: float, high: float
) -> Scenario:
    """The scenario with `facility`'s reject_cost of `elements` set to [low, high] USD/kg."""
    facilities = dict(scenario.model.network.facilities)
    f = facilities.get(facility)
    if f is None or f.kind != "refineries":
        raise InputError(f"no refinery named {facility!r} in {scenario.name}", field="facility")
    attrs = dict(f.attrs)
    attrs["reject_cost"] = {
        **(attrs.get("reject_cost") or {}),
        **{e: (low * 1e3, high * 1e3) for e in elements},
    }
    facilities[facility] = dataclasses.replace(f, attrs=attrs)
    net = scenario.model.network
    model = dataclasses.replace(scenario.model, network=ChainNetwork(facilities, net.links, file=net.file))
    return dataclasses.replace(scenario, model=model)


def fit_reject_cost(
    scenario: Scenario,
    observations: Sequence[Observation],
    lows: Iterable[float],
    highs: Iterable[float],
    facility: str = "Lynas Malaysia",
    elements: Sequence[str] = ("La", "Ce"),
) -> list[FitPoint]:
    """Every [low, high] of the grid (USD/kg, low < high) scored against `observations`, best first.

    Each trial is a full run of `scenario` (flowsheets run once and shared); observations the run cannot
    produce are left out of the score.
    """
    cache = PerformanceCache()
    points = []
    for low in lows:
        for high in highs:
            if high <= low:
                continue
            trial = with_reject_cost(scenario, facility, elements, low, high)
            trial.model.performances = cache
            result = run_scenario(trial)
            bt = backtest(result, trial.model.prices, observations)
            ratios = {c.observation.key: c.ratio for c in bt.compared if c.ratio and c.ratio > 0}
            if not ratios:
                raise InputError("none of the observations is produced by the scenario", field="observations")
            score = sum(math.log(r) ** 2 for r in ratios.values())
            points.append(FitPoint(low, high, score, ratios))
    return sorted(points, key=lambda p: p.score)
