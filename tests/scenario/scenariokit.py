"""Helpers for scenario tests: short-horizon scenario files and a refinery test double."""

from __future__ import annotations

from pathlib import Path

import yaml

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
