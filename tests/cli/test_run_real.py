"""`mine2magnet run` / `compare` / `scenarios` over the real scenario and chain layers (short year ranges).

The run and compare tests replace each refinery's flowsheet run by a test double (90 % of each element to
separated oxide, 10 % to residue; a cold flowsheet design takes seconds): they test the CLI, store and report
on real scenario files and the real yearly allocation, not the refinery numbers (the benchmark runs those).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from mine2magnet import scenario as scenario_layer
from mine2magnet.chain import RefineryPerformance
from mine2magnet.cli import main
from mine2magnet.cli import run as run_module
from mine2magnet.elements import RARE_EARTHS
from mine2magnet.store import ResultsStore

REQUIRED_KPIS = (
    "domestic_value_added_usd",
    "feed_sufficiency",
    "magnet_self_sufficiency",
    "hhi",
    "residue_t",
    "smuggling_loss_usd",
    "unmet_demand_t",
)


def _double(flowsheet: str, feed: str, rate: float | None = None) -> RefineryPerformance:
    return RefineryPerformance(
        flowsheet,
        feed,
        {"oxide": dict.fromkeys(RARE_EARTHS, 0.9), "mixed_oxide": {}},
        {"residue": 1.0},
        {"residue": 0.5},
        {"HCl": 1.0},
        3000.0,
    )


def with_test_refineries(loaded):
    """A loaded scenario whose refineries use the test double instead of running their flowsheets."""
    loaded.model.performances.get = _double
    return loaded


@pytest.fixture
def refinery_double(monkeypatch):
    """The real scenario layer, with every loaded scenario's refinery runs replaced by the test double."""
    api = SimpleNamespace(
        list_scenarios=scenario_layer.list_scenarios,
        load_scenario=lambda name, overrides=(): with_test_refineries(
            scenario_layer.load_scenario(name, overrides)
        ),
        run_scenario=scenario_layer.run_scenario,
        unreachable_facilities=scenario_layer.unreachable_facilities,
    )
    monkeypatch.setattr(run_module, "scenario_api", lambda: api)


@pytest.fixture(scope="module")
def short_scenario(tmp_path_factory):
    """malaysia-base cut to 2024-2026."""
    path = tmp_path_factory.mktemp("scenarios") / "short-base.yaml"
    path.write_text(
        "name: short-base\n"
        "description: malaysia-base over 2024-2026 (test)\n"
        "base: malaysia-base\n"
        "years: [2024, 2026]\n",
        encoding="utf-8",
    )
    return path


def test_scenarios_lists_the_six_built_ins():
    result = CliRunner().invoke(main, ["scenarios", "--json"])
    assert result.exit_code == 0, result.output
    names = {s["name"] for s in json.loads(result.stdout)}
    expected = {"malaysia-base", "malaysia-china-refinery", "malaysia-no-ban", "malaysia-crackdown"}
    assert expected | {"china-export-halt", "recycling"} <= names


def test_run_end_to_end_on_a_short_scenario(refinery_double, short_scenario, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(short_scenario), "--out", str(out), "--json", "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["scenario"] == "short-base" and summary["years"] == [2024, 2025, 2026]
    for key in REQUIRED_KPIS:
        assert key in summary["kpis"], key
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["run_id"] == summary["run_id"]
    store = ResultsStore(out / "results.duckdb")
    assert store.has_run(summary["run_id"])
    flows = store.table("flows", summary["run_id"])
    assert set(flows["year"]) == {2024, 2025, 2026} and (flows["t"] >= -1e-9).all()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '"type":"sankey"' in html and "Lynas" in html
    # malaysia-base starts from malaysia-history: the run backtests that history beside its report
    assert summary["backtest"]["pass"] > 0 and summary["backtest"]["fail"] == 0
    assert (out / "backtest.html").exists()
    assert json.loads((out / "backtest.json").read_text())["observations"]
    assert "Checked against history" in html and "id='backtest'" in html


def test_compare_a_scenario_with_its_no_ban_variant(refinery_double, short_scenario, tmp_path):
    args = [
        "compare",
        str(short_scenario),
        f"{short_scenario}+no-ban",
        "--out",
        str(tmp_path),
        "--json",
        "-q",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [r["label"] for r in payload["runs"]] == ["short-base", "short-base+no-ban"]
    shown = next(k for k in payload["kpis"] if k["kpi"] == "domestic_value_added_usd")
    store = ResultsStore(tmp_path / "results.duckdb")
    for run in payload["runs"]:  # what compare prints is what the model stored
        kpis = store.table("kpis", run["run_id"])
        stated = kpis[
            (kpis.kpi == "domestic_value_added_usd") & (kpis.facility == "total") & (kpis.year == 2026)
        ]
        assert shown["values"][run["label"]] == pytest.approx(float(stated.value.iloc[0]))
    assert "Comparison of scenarios" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_bad_scenario_name_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["run", "malaysia-bse", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.strip().count("\n") == 0
    assert "malaysia-bse" in result.stderr
    assert not (tmp_path / "results.duckdb").exists()


def test_an_unknown_override_is_one_line(tmp_path):
    result = CliRunner().invoke(
        main, ["run", "malaysia-base", "--scenario", "no-bann", "--out", str(tmp_path)]
    )
    errors = [line for line in result.stderr.splitlines() if not line.startswith("[")]  # not progress
    assert result.exit_code == 1 and len(errors) == 1 and "no-bann" in errors[0]


def test_running_the_same_real_scenario_again_replaces_its_run(refinery_double, short_scenario, tmp_path):
    # a repeated `make run` must not pile copies: the real scenario's inputs hash the same on every load
    args = ["compare", str(short_scenario), "--out", str(tmp_path), "--json", "-q"]
    first = json.loads(CliRunner().invoke(main, args).stdout)["runs"][0]["run_id"]
    second = json.loads(CliRunner().invoke(main, args).stdout)["runs"][0]["run_id"]
    assert ResultsStore(tmp_path / "results.duckdb").runs().run_id.tolist() == [second] != [first]
    kept = json.loads(CliRunner().invoke(main, [*args, "--keep"]).stdout)["runs"][0]["run_id"]
    assert ResultsStore(tmp_path / "results.duckdb").runs().run_id.tolist() == [second, kept]
