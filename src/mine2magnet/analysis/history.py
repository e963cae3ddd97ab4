"""Run a scenario and backtest it against every observation of the dataset."""

from __future__ import annotations

from collections.abc import Callable

from mine2magnet.analysis.backtest import Backtest, backtest, exchange_rates, fitted_inputs, used_data_keys
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

    Observations an input of the run was fitted to (``derived_from`` of the data keys it used) are marked
    in-sample. Returns the backtest and the run (so a caller can store or report it).
    """
    sc = load_scenario(scenario, overrides=overrides or [], dataset=dataset)
    result = run_scenario(sc, progress)
    data = dataset or load_dataset()
    fitted = fitted_inputs(data, used_data_keys(result))
    return backtest(result, sc.model.prices, data.observations(), fitted, exchange_rates(data)), result
