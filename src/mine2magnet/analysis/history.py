"""Run a scenario and backtest it against every observation of the dataset."""

from __future__ import annotations

from collections.abc import Callable

from mine2magnet.analysis.backtest import Backtest, backtest
from mine2magnet.chain import ChainResult
from mine2magnet.data import Dataset, load_dataset
from mine2magnet.scenario import load_scenario, run_scenario

#: The scenario `mine2magnet backtest` runs when none is named.
HISTORY_SCENARIO = "malaysia-history"


def run_backtest(
    scenario: str = HISTORY_SCENARIO,
    overrides: list[str] | None = None,
    dataset: Dataset | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[Backtest, ChainResult]:
    """Run `scenario` (a built-in name or a YAML path) and compare it with every observation.

    Returns the backtest and the run (so a caller can store or report it).
    """
    sc = load_scenario(scenario, overrides=overrides or [], dataset=dataset)
    result = run_scenario(sc, progress)
    observations = (dataset or load_dataset()).observations()
    return backtest(result, sc.model.prices, observations), result
