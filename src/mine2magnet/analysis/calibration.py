"""Calibration against history: fit an input that no source publishes to the observations it explains.

The one input calibrated so far is the La/Ce separation-cost range of a refinery (``reject_cost``): what it
costs Lynas to separate and finish La or Ce oxide is not published, but how much La and Ce it finished each
year is (its total REO less NdPr and heavies). :func:`fit_reject_cost` runs a scenario over a grid of
[low, high] ranges and scores each by the squared log-ratios of model to published for the chosen
observations. The observations used for a fit are in-sample for that input: their passing afterwards shows
the fit, not an independent test (the backtest marks them, ``docs/validation.md`` says which they are).
:func:`holdout` asks whether a fit predicts: it fits on some years only and reads the ratios of the
others, which the fit has not seen.
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
    scenario: Scenario,
    facility: str,
    elements: Sequence[str],
    low: float,
    high: float,
    lag: int | None = None,
) -> Scenario:
    """The scenario with `facility`'s reject_cost of `elements` set to [low, high] USD/kg (and, when given,
    its ``reject_price_lag`` to `lag` years)."""
    facilities = dict(scenario.model.network.facilities)
    f = facilities.get(facility)
    if f is None or f.kind != "refineries":
        raise InputError(f"no refinery named {facility!r} in {scenario.name}", field="facility")
    attrs = dict(f.attrs)
    attrs["reject_cost"] = {
        **(attrs.get("reject_cost") or {}),
        **{e: (low * 1e3, high * 1e3) for e in elements},
    }
    if lag is not None:
        attrs["reject_price_lag"] = lag
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
    scored_by: Sequence[str] | None = None,
    lag: int | None = None,
) -> list[FitPoint]:
    """Every [low, high] of the grid (USD/kg, low < high) scored against `observations`, best first.

    Each trial is a full run of `scenario` (flowsheets run once and shared); observations the run cannot
    produce are left out of the score. ``scored_by``: the observation keys that make the score (default:
    all); the ratios of every observation are kept. ``lag``: the refinery's ``reject_price_lag`` for every
    trial (default: the scenario's).
    """
    cache = PerformanceCache()
    points = []
    for low in lows:
        for high in highs:
            if high <= low:
                continue
            trial = with_reject_cost(scenario, facility, elements, low, high, lag)
            trial.model.performances = cache
            result = run_scenario(trial)
            bt = backtest(result, trial.model.prices, observations)
            ratios = {c.observation.key: c.ratio for c in bt.compared if c.ratio and c.ratio > 0}
            scored = [r for k, r in ratios.items() if scored_by is None or k in scored_by]
            if not scored:
                raise InputError("none of the observations is produced by the scenario", field="observations")
            score = sum(math.log(r) ** 2 for r in scored)
            points.append(FitPoint(low, high, score, ratios))
    return sorted(points, key=lambda p: p.score)


@dataclass(frozen=True)
class HoldOut:
    """A fit on the `train` observations and what it gives for the others (unseen by the fit)."""

    train: tuple[str, ...]
    best: FitPoint

    @property
    def test_ratios(self) -> dict[str, float]:
        """model / published of every observation the fit did not use."""
        return {k: r for k, r in self.best.ratios.items() if k not in self.train}

    def within(self, tolerances: dict[str, float]) -> dict[str, bool]:
        """For each held-out observation with a tolerance: is its ratio inside it?"""
        ratios = self.test_ratios
        return {k: abs(r - 1.0) <= tolerances[k] + 1e-12 for k, r in ratios.items() if k in tolerances}


def holdout(
    scenario: Scenario,
    observations: Sequence[Observation],
    train: Sequence[str],
    lows: Iterable[float],
    highs: Iterable[float],
    facility: str = "Lynas Malaysia",
    elements: Sequence[str] = ("La", "Ce"),
    lag: int | None = None,
) -> HoldOut:
    """Fit the reject-cost range on the `train` observation keys only; the rest of `observations` test it.

    The question it answers is whether the mechanism predicts years it was not fitted on (an
    out-of-sample test), which an in-sample pass cannot show.
    """
    unknown = sorted(set(train) - {o.key for o in observations})
    if unknown:
        raise InputError(f"training keys not among the observations: {', '.join(unknown)}", field="train")
    points = fit_reject_cost(
        scenario, observations, lows, highs, facility, elements, scored_by=tuple(train), lag=lag
    )
    return HoldOut(tuple(train), points[0])


#: The grid of the La/Ce reject-cost fit (USD/kg): low 0.2-1.0, high 1.2-3.4 (docs/validation.md).
REJECT_COST_LOWS = tuple(round(0.1 * i, 1) for i in range(2, 11))
REJECT_COST_HIGHS = tuple(round(0.2 * i, 1) for i in range(6, 18))
#: Lynas' total REO: the fiscal years the reject cost is fitted on, and every year the model produces.
LYNAS_REO_FISCAL = tuple(f"lynas.reo_produced.fy{y}" for y in range(2021, 2026))
LYNAS_REO_ALL = (*LYNAS_REO_FISCAL, *(f"lynas.reo_produced.{y}" for y in range(2022, 2026)))


@dataclass(frozen=True)
class HoldOutRow:
    """One line of the hold-out study: a decision timing, the years fitted on, the fit and its test."""

    lag: int
    holdout: HoldOut
    tolerances: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: lag, train, best [low, high] (USD/kg), score, test {key: {ratio, tolerance, pass}}."""
        inside = self.holdout.within(self.tolerances)
        return {
            "lag": self.lag,
            "train": list(self.holdout.train),
            "best": [self.holdout.best.low, self.holdout.best.high],
            "score": self.holdout.best.score,
            "test": {
                k: {"ratio": r, "tolerance": self.tolerances.get(k), "pass": inside.get(k)}
                for k, r in self.holdout.test_ratios.items()
            },
        }


def reject_cost_holdout_study(
    scenario: Scenario, observations: Sequence[Observation], lags: Sequence[int] = (0, 1)
) -> list[HoldOutRow]:
    """Lynas' La/Ce reject cost fitted on FY2021-FY2023 and tested on 2024-2025, for each decision timing
    (``reject_price_lag`` 0: the same year's price; 1: the previous year's), beside the fit on all five
    fiscal years. About 100 runs of `scenario` per fit."""
    by_key = {o.key: o for o in observations if o.key in LYNAS_REO_ALL}
    missing = sorted(set(LYNAS_REO_ALL) - set(by_key))
    if missing:
        raise InputError(f"observations missing for the study: {', '.join(missing)}", field="observations")
    chosen = [by_key[k] for k in LYNAS_REO_ALL]
    tolerances = {o.key: o.tolerance for o in chosen if o.tolerance is not None}
    rows = []
    for lag in lags:
        for train in (LYNAS_REO_FISCAL[:3], LYNAS_REO_FISCAL):
            fit = holdout(scenario, chosen, train, REJECT_COST_LOWS, REJECT_COST_HIGHS, lag=lag)
            rows.append(HoldOutRow(lag, fit, tolerances))
    return rows
