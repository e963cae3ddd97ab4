"""Helpers for scenario tests: short-horizon scenario files and a refinery test double."""

from __future__ import annotations

from pathlib import Path

import yaml

from mine2magnet.chain import RefineryPerformance
from mine2magnet.elements import RARE_EARTHS
from mine2magnet.scenario import Scenario, load_scenario


def write(tmp_path: Path, name: str, body: dict) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "description": f"test {name}", **body}, sort_keys=False))
    return str(path)


def short(
    tmp_path: Path, base: str, first: int = 2024, last: int = 2031, overrides: tuple[str, ...] = ()
) -> Scenario:
    """A built-in scenario cut to a few years."""
    return load_scenario(write(tmp_path, f"short-{base}", {"base": base, "years": [first, last]}), overrides)


def with_test_refineries(sc: Scenario) -> Scenario:
    """Replace every flowsheet run by a test double (90 % of each element to oxide, 10 % to residue).

    Used where a test is about the chain's logic (policies, directions), not the refinery numbers.
    """

    def fake(flowsheet: str, feed: str, rate: float | None = None) -> RefineryPerformance:
        return RefineryPerformance(
            flowsheet,
            feed,
            {"oxide": dict.fromkeys(RARE_EARTHS, 0.9), "mixed_oxide": {}},
            {"residue": 1.0},
            {"residue": 0.5},
            {"HCl": 1.0},
            3000.0,
        )

    sc.model.performances.get = fake  # type: ignore[method-assign]
    return sc
