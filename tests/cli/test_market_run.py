"""`mine2magnet run` of a market scenario (issue 14): the shock hindcasts run from the same command as the
chain scenarios, write prices.csv with the contract's columns, keep the run (with its prices table) in the
results store, and write a report of the price paths."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from mine2magnet.cli import main
from mine2magnet.store import ResultsStore

PRICE_COLUMNS = ["year", "market", "element", "usd_per_kg"]


@pytest.mark.parametrize("scenario", ["embargo-2010", "export-controls-2025"])
def test_market_scenario_runs_from_mine2magnet_run(tmp_path: Path, scenario: str) -> None:
    out = tmp_path / scenario
    result = CliRunner().invoke(main, ["run", scenario, "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    prices = pd.read_csv(out / "prices.csv")
    assert list(prices.columns) == PRICE_COLUMNS
    assert (prices["usd_per_kg"] > 0).all()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "market" and summary["scenario"] == scenario
    assert all(s.startswith("ok/") or "optimal" in s.lower() for s in summary["solver"]["statuses"])
    stored = ResultsStore(out / "results.duckdb").table("prices", summary["run_id"])
    assert list(stored.columns) == PRICE_COLUMNS
    pd.testing.assert_frame_equal(
        stored.sort_values(PRICE_COLUMNS[:3]).reset_index(drop=True),
        prices.sort_values(PRICE_COLUMNS[:3]).reset_index(drop=True),
        check_dtype=False,
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Price paths by market" in html and "m2m-data" in html


def test_market_scenarios_are_listed_with_their_kind() -> None:
    listed = json.loads(CliRunner().invoke(main, ["scenarios", "--json"]).output)
    kinds = {row["name"]: row["kind"] for row in listed}
    assert kinds["embargo-2010"] == kinds["export-controls-2025"] == "market"
    assert kinds["malaysia-base"] == "chain"


def test_market_scenario_takes_no_overrides(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "embargo-2010+no-ban", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "market scenario takes no overrides" in result.output


def test_the_fast_scenario_list_equals_the_layers_lists() -> None:
    from mine2magnet.cli.run import builtin_scenarios
    from mine2magnet.market.definition import list_market_scenarios
    from mine2magnet.scenario import list_scenarios

    chain = [(n, d.splitlines()[0] if d else "") for n, d in list_scenarios()]
    market = [(n, d.splitlines()[0] if d else "") for n, d in list_market_scenarios()]
    assert builtin_scenarios() == [(n, d, "chain") for n, d in chain] + [(n, d, "market") for n, d in market]
