"""Scenarios: YAML files of facilities, trade links, policies and prices; a base plus named overrides.

>>> from mine2magnet.scenario import list_scenarios, load_scenario, run_scenario
>>> sc = load_scenario("malaysia-base", overrides=["crackdown"])
>>> result = run_scenario(sc)          # a mine2magnet.chain.ChainResult
>>> result.summary()["kpis"]["smuggling_loss_usd"]

File format: ``docs/scenarios.md``. Built-in scenarios live in ``scenarios/*.yaml``; shared named overrides in
``scenarios/overrides.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from mine2magnet.chain import ChainResult, simulate
from mine2magnet.economics import EconomicInputs, country_totals, facility_accounts
from mine2magnet.scenario.loader import (
    ResolvedScenario,
    Scenario,
    build_scenario,
    list_scenarios,
    load_scenario,
    named_overrides,
    resolve_scenario,
)
from mine2magnet.scenario.opening import opening_residues, with_opening_residues
from mine2magnet.scenario.reachability import UnreachableFacility, unreachable_facilities
from mine2magnet.scenario.schema import scenario_json_schema


def add_accounts(
    result: ChainResult, model: Any, inputs: EconomicInputs, multipliers: dict[str, dict[str, float]]
) -> None:
    """Add the economic accounts (table ``accounts``) and the focus country's totals to a run's KPIs.

    The chain's ``domestic_value_added_usd`` (output value less rare-earth input value, a gross margin) is
    replaced by the accounts' value added (wages + surplus + taxes); the gross margin stays as
    ``gross_margin_usd``.
    """
    accounts = facility_accounts(model, result, inputs)
    result.tables["accounts"] = accounts
    kpis = result.tables["kpis"]
    kpis = kpis[kpis["kpi"] != "domestic_value_added_usd"]
    rows = country_totals(accounts, result.focus_country, inputs, list(result.years), multipliers)
    result.tables["kpis"] = pd.concat([kpis, pd.DataFrame(rows, columns=kpis.columns)], ignore_index=True)


def run_scenario(
    scenario: Scenario,
    progress: Callable[[str, int, int], None] | None = None,
    seed: int = 0,
) -> ChainResult:
    """Run a loaded scenario year by year; `progress(message, done, total)` is called as it goes.

    The model is deterministic; `seed` is recorded with the result (for the store's catalogue) so that runs
    stay reproducible when stochastic inputs are added. ``result.meta["inputs"]`` holds the merged scenario
    (base + overrides) as plain data, so a run can record exactly what it ran.
    """
    model = scenario.model
    start = scenario.data.get("start_from")
    opening: dict[str, Any] = {}
    if start:
        residues = opening_residues(str(start), model.years[0])
        model = with_opening_residues(model, residues)
        opening = {
            "from": str(start),
            "year": model.years[0] - 1,
            "residue_t": {f"{f}:{k}": t for f, kinds in residues.items() for k, (t, _) in kinds.items()},
            "residue_bq": {f"{f}:{k}": bq for f, kinds in residues.items() for k, (_, bq) in kinds.items()},
        }
    result = simulate(
        model,
        progress,
        scenario_name=scenario.name,
        overrides=scenario.overrides,
        assumptions=scenario.assumptions,
    )
    if scenario.economics is not None:
        add_accounts(result, model, *scenario.economics)
    result.meta.update(
        {"seed": seed, "description": scenario.description, "file": scenario.file, "inputs": scenario.data}
    )
    if opening:
        result.meta["opening_state"] = opening
    return result


__all__ = [
    "ChainResult",
    "ResolvedScenario",
    "Scenario",
    "UnreachableFacility",
    "build_scenario",
    "list_scenarios",
    "load_scenario",
    "named_overrides",
    "resolve_scenario",
    "run_scenario",
    "scenario_json_schema",
    "unreachable_facilities",
]
