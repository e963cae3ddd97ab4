"""`mine2magnet run / compare / scenarios / runs` end to end, over a stand-in scenario layer.

The stand-in returns the hand-built sample result (tests/store/sample_chain.py) so these tests exercise the
CLI, the store and the report without depending on the value-chain model's speed; test_run_real.py runs the
real built-in scenarios.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from mine2magnet.cli import main
from mine2magnet.cli import run as run_module
from mine2magnet.errors import ConvergenceError, InputError
from mine2magnet.scenario.reachability import UnreachableFacility
from mine2magnet.store import ResultsStore
from store.sample_chain import sample_result

SCALES = {"demo": 1.0, "demo-small": 0.5}


def _fake_api(fail_run: bool = False, unreachable: tuple[str, ...] = ()) -> SimpleNamespace:
    def load_scenario(name, overrides=()):
        if name not in SCALES:
            raise InputError(f"unknown scenario {name!r}; known: {', '.join(SCALES)}", field="scenario")
        return SimpleNamespace(name=name, overrides=list(overrides), model=name)

    def unreachable_facilities(model):
        return [UnreachableFacility(f, "refineries", "no trade link brings it mrec") for f in unreachable]

    def run_scenario(scenario, progress=None):
        if fail_run:
            raise ConvergenceError("allocation did not converge in 2025", iterations=3)
        for i in range(3):
            if progress:
                progress("year", i + 1, 3)
        return sample_result(scenario.name, SCALES[scenario.name], overrides=tuple(scenario.overrides))

    return SimpleNamespace(
        list_scenarios=lambda: [("demo", "a demo chain"), ("demo-small", "the demo at half scale")],
        load_scenario=load_scenario,
        run_scenario=run_scenario,
        unreachable_facilities=unreachable_facilities,
    )


@pytest.fixture
def fake_api(monkeypatch):
    monkeypatch.setattr(run_module, "scenario_api", _fake_api)


def test_run_writes_report_store_and_summary(fake_api, tmp_path):
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["run", "demo", "--out", str(out), "-q"])
    assert first.exit_code == 0, first.output
    assert "report:" in first.output and str(out / "report.html") in first.output
    assert (out / "report.html").stat().st_size > 10_000  # the report itself is tested in tests/report
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "demo" and summary["years"] == [2024, 2025, 2026]
    for key in (
        "domestic_value_added_usd",
        "feed_sufficiency",
        "magnet_self_sufficiency",
        "hhi",
        "unmet_demand_t",
    ):
        assert key in summary["kpis"]
    second = CliRunner().invoke(
        main, ["run", "demo", "--scenario", "no-ban,crackdown", "--out", str(out), "-q"]
    )
    assert second.exit_code == 0, second.output
    runs = ResultsStore(out / "results.duckdb").runs()
    assert runs.label.tolist() == ["demo", "demo+no-ban+crackdown"]  # another scenario: appended


def test_run_json_prints_the_summary_on_stdout(fake_api, tmp_path):
    result = CliRunner().invoke(main, ["run", "demo+x", "--out", str(tmp_path), "--json", "-q"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["overrides"] == ["x"] and payload["warnings"] == []
    assert ResultsStore(tmp_path / "results.duckdb").has_run(payload["run_id"])
    assert payload["outputs"]["report"].endswith("report.html")


def test_unknown_scenario_is_a_one_line_error_and_touches_nothing(fake_api, tmp_path):
    result = CliRunner().invoke(main, ["run", "nope", "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "unknown scenario 'nope'" in result.stderr
    assert not (tmp_path / "o" / "results.duckdb").exists()


def test_a_failing_run_is_recorded_as_failed(monkeypatch, tmp_path):
    monkeypatch.setattr(run_module, "scenario_api", lambda: _fake_api(fail_run=True))
    result = CliRunner().invoke(main, ["run", "demo", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 1 and "did not converge" in result.stderr
    runs = ResultsStore(tmp_path / "results.duckdb").runs()
    assert runs.status.tolist() == ["failed"] and "ConvergenceError" in runs.error.iloc[0]
    assert not (tmp_path / "report.html").exists()


def test_compare_mixes_stored_runs_and_scenarios(fake_api, tmp_path):
    store = tmp_path / "s.duckdb"
    run_id = ResultsStore(store).save(sample_result("demo"))
    args = ["compare", run_id, "demo-small", "--store", str(store), "--out", str(tmp_path / "cmp"), "-q"]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [r["label"] for r in payload["runs"]] == ["demo", "demo-small"]
    value_added = next(k for k in payload["kpis"] if k["kpi"] == "domestic_value_added_usd")
    assert value_added["values"]["demo-small"] == pytest.approx(0.5 * value_added["values"]["demo"])
    html = (tmp_path / "cmp" / "report.html").read_text()
    assert "Comparison of scenarios" in html
    assert len(ResultsStore(store).runs()) == 2  # the scenario was run and stored
    again = [r["run_id"] for r in payload["runs"]]  # now both by run id: nothing is run again
    table = CliRunner().invoke(
        main, ["compare", *again, "--store", str(store), "--out", str(tmp_path / "c2")]
    )
    assert table.exit_code == 0 and "Key figures in 2026" in table.stdout
    assert "USD 148 M" in table.stdout  # (68 + 54) M x 1.1^2
    assert f"run {again[1]}: demo-small" in table.stdout
    assert "demo-small against demo:" in table.stdout and "  - domestic value added in 2026" in table.stdout
    assert len(ResultsStore(store).runs()) == 2


def test_compare_with_a_bad_argument_says_what_it_expected(fake_api, tmp_path):
    result = CliRunner().invoke(main, ["compare", "demo+", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 1
    assert "neither a run id" in result.stderr and result.stderr.strip().count("\n") == 0


def test_scenarios_and_runs_listings(fake_api, tmp_path, monkeypatch):
    listed = [("demo", "a demo chain", "chain"), ("demo-small", "the demo at half scale", "chain")]
    monkeypatch.setattr(run_module, "builtin_scenarios", lambda: listed)
    listing = CliRunner().invoke(main, ["scenarios", "--json"])
    assert json.loads(listing.stdout)[0] == {"name": "demo", "description": "a demo chain", "kind": "chain"}
    assert "the demo at half scale" in CliRunner().invoke(main, ["scenarios"]).stdout
    missing = CliRunner().invoke(main, ["runs", "--store", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 1 and "no results store" in missing.stderr
    ResultsStore(tmp_path / "r.duckdb").save(sample_result("demo"), seed=9)
    listed = json.loads(
        CliRunner().invoke(main, ["runs", "--store", str(tmp_path / "r.duckdb"), "--json"]).stdout
    )
    assert listed[0]["scenario"] == "demo" and listed[0]["seed"] == 9 and listed[0]["status"] == "complete"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("malaysia-base", ("malaysia-base", [])), ("a+b+c", ("a", ["b", "c"])), (" a + b ", ("a", ["b"]))],
)
def test_scenario_specs(spec, expected):
    assert run_module.parse_spec(spec) == expected
    assert run_module.split_overrides(" no-ban, ,crackdown ") == ["no-ban", "crackdown"]


@pytest.mark.parametrize("spec", ["+x", "a++b", "a+"])
def test_malformed_specs_are_refused(spec):
    with pytest.raises(InputError, match="SCENARIO\\+OVERRIDE"):
        run_module.parse_spec(spec)


def test_compare_with_a_run_id_from_another_store_says_so(fake_api, tmp_path):
    result = CliRunner().invoke(main, ["compare", "20261122T051502-3f9c2a1b", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 1
    assert "results.duckdb: run_id: run 20261122T051502-3f9c2a1b is not a complete run" in result.stderr


def test_export_writes_parquet_next_to_the_store(tmp_path):
    store = tmp_path / "r.duckdb"
    run_id = ResultsStore(store).save(sample_result("demo"))
    result = CliRunner().invoke(main, ["export", run_id, "--store", str(store)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "parquet" / run_id
    assert f"flows: {folder / 'flows.parquet'}" in result.stdout
    assert pq.read_table(folder / "kpis.parquet").num_rows == len(sample_result().tables["kpis"])
    missing = CliRunner().invoke(main, ["export", "nope", "--store", str(store)])
    assert missing.exit_code == 1 and "run_id: no complete run 'nope'" in missing.stderr


def test_run_compare_all_runs_the_other_scenarios_into_one_report(fake_api, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", "demo", "--compare", "all", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "compared with: demo-small" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "demo"  # the summary stays the main scenario's
    runs = ResultsStore(out / "results.duckdb").runs()
    assert runs.label.tolist() == ["demo", "demo-small"]
    assert [c["run_id"] for c in summary["compared_with"]] == runs.run_id.tolist()[1:]
    html = (out / "report.html").read_text()
    assert "id='compare'" in html and "id='run-demo-small'" in html


@pytest.mark.parametrize(
    ("value", "message"),
    [("all,demo", "'all' cannot be combined"), ("demo+", "is not SCENARIO or SCENARIO+OVERRIDE")],
)
def test_run_compare_refuses_a_bad_list_before_running(fake_api, tmp_path, value, message):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", "demo", "--compare", value, "--out", str(out), "-q"])
    assert result.exit_code == 1 and message in result.output
    assert not (out / "results.duckdb").exists()  # nothing was run or stored
