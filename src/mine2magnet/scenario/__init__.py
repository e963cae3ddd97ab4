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

from mine2magnet.chain import ChainResult, simulate
from mine2magnet.scenario.loader import Scenario, list_scenarios, load_scenario, named_overrides
from mine2magnet.scenario.opening import opening_residues, with_opening_residues
from mine2magnet.scenario.schema import scenario_json_schema


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
    result.meta.update(
        {"seed": seed, "description": scenario.description, "file": scenario.file, "inputs": scenario.data}
    )
    if opening:
        result.meta["opening_state"] = opening
    return result


__all__ = [
    "ChainResult",
    "Scenario",
    "list_scenarios",
    "load_scenario",
    "named_overrides",
    "run_scenario",
    "scenario_json_schema",
]
