"""The command-line defects of issue 12, each with a test that failed on the code before the fix.

`runs` and `sources` unreadable at 80 columns; `--seed` accepted but without effect; `refinery capacity`
JSON only; export to Parquet only; a facility without trade links idling with no warning; no progress when
stderr is not a terminal; a 0-byte lock file left beside the store; the README tour writing into the
repository root; a repeated run piling duplicate runs into the store. Start-up time: test_startup.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from mine2magnet.cli import main
from mine2magnet.cli import run as run_module
from mine2magnet.data import load_dataset
from mine2magnet.store import ResultsStore
from store.sample_chain import sample_result

from .test_readme_tour import tour_lines
from .test_run_commands import _fake_api

LONG = "malaysia-china-refinery+no-ban+crackdown+export-halt"


def _width(text: str) -> int:
    return max((len(line.rstrip()) for line in text.splitlines()), default=0)


@pytest.fixture
def fake_api(monkeypatch):
    monkeypatch.setattr(run_module, "scenario_api", _fake_api)


@pytest.fixture
def store_with_runs(tmp_path):
    store = ResultsStore(tmp_path / "results.duckdb")
    ids = [store.save(sample_result(name, overrides=("no-ban", "crackdown"))) for name in ("demo", LONG)]
    store.record_failed_run(LONG, ["x"], "ConvergenceError: allocation did not converge in 2031")
    return store, ids


def test_runs_fits_80_columns_with_every_full_run_id_on_one_line(store_with_runs):
    store, _ = store_with_runs
    result = CliRunner().invoke(main, ["runs", "--store", str(store.path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert _width(result.stdout) <= 80
    for run_id in store.runs().run_id:
        assert run_id in result.stdout  # never folded: it is what `compare` and `export` take
    wide = CliRunner().invoke(main, ["runs", "--store", str(store.path), "--wide"]).stdout
    assert f"{LONG}+no-ban+crackdown" in wide and "allocation did not converge in 2031" in wide
    listed = json.loads(CliRunner().invoke(main, ["runs", "--store", str(store.path), "--json"]).stdout)
    assert {r["run_id"] for r in listed} == set(store.runs().run_id)


def test_sources_is_readable_at_80_columns():
    n = len(load_dataset().sources)
    result = CliRunner().invoke(main, ["sources"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert _width(result.stdout) <= 80
    assert len(result.stdout.splitlines()) < 6 * n  # was ~28 lines a source, folded mid-word
    wide = CliRunner().invoke(main, ["sources", "--wide"]).stdout.splitlines()
    for source in load_dataset().sources.values():
        row = next(line for line in wide if line.startswith(f" {source.id} ") or line.startswith(source.id))
        assert source.title in row and (source.url or "") in row


@pytest.mark.parametrize("command", [["run", "demo"], ["compare", "demo"]])
def test_seed_is_gone_rather_than_ignored(fake_api, tmp_path, command):
    result = CliRunner().invoke(main, [*command, "--seed", "4", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "No such option '--seed'" in result.output
    assert not list(tmp_path.iterdir())


def test_refinery_capacity_has_a_human_and_a_json_form():
    human = CliRunner().invoke(main, ["refinery", "capacity", "lynas-malaysia"], env={"COLUMNS": "80"})
    assert human.exit_code == 0, human.output
    with pytest.raises(json.JSONDecodeError):
        json.loads(human.stdout)
    data = json.loads(CliRunner().invoke(main, ["refinery", "capacity", "lynas-malaysia", "--json"]).stdout)
    limiting, text = data["limiting"], " ".join(human.stdout.split())
    assert f"{limiting['unit']} limits throughput ({limiting['utilisation']:.0%} used)" in text
    assert f"at most {data['max_feed_reo_t_per_yr']:,.0f} t/yr REO" in text
    assert _width(human.stdout) <= 80


@pytest.mark.parametrize(
    "args",
    [["refinery", "list"], ["data", "list", "price."], ["data", "check"], ["scenarios"], ["sources"]],
)
def test_listing_commands_have_a_json_form(fake_api, args):
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_to_csv_and_excel_gives_back_the_stored_tables(tmp_path, fmt):
    store = ResultsStore(tmp_path / "results.duckdb")
    run_id = store.save(sample_result("demo"))
    result = CliRunner().invoke(
        main, ["export", run_id, "--store", str(store.path), "--format", fmt, "--json"]
    )
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    assert Path(files["run"]).parent == tmp_path / fmt / run_id
    for name in sample_result().tables:
        stored = store.table(name, run_id)
        if fmt == "csv":
            back = pd.read_csv(files[name], keep_default_na=False, na_values=[""])
        else:
            back = pd.read_excel(files[name], sheet_name=name[:31], keep_default_na=False, na_values=[""])
        assert list(back.columns) == list(stored.columns), name
        assert len(back) == len(stored), name
        for column in stored.select_dtypes("number").columns:
            assert back[column].to_numpy() == pytest.approx(stored[column].to_numpy(), rel=1e-12), (
                name,
                column,
            )


def test_a_facility_that_can_never_receive_feed_is_warned_about(monkeypatch, tmp_path):
    monkeypatch.setattr(run_module, "scenario_api", lambda: _fake_api(unreachable=("Orphan refinery",)))
    result = CliRunner().invoke(main, ["run", "demo", "--out", str(tmp_path), "-q", "--json"])
    assert result.exit_code == 0, result.output
    assert "warning: demo: refinery 'Orphan refinery' can never receive feed" in result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert [w["facility"] for w in warnings] == ["Orphan refinery"]
    assert json.loads((tmp_path / "summary.json").read_text())["warnings"] == warnings


def test_progress_goes_to_stderr_as_plain_lines_when_not_a_terminal(fake_api, tmp_path):
    result = CliRunner().invoke(main, ["run", "demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert any(re.fullmatch(r"\[ *\d+\.\d s\] year \(3/3\)", line) for line in lines), lines
    assert any("saving to the results store" in line for line in lines)
    assert "\x1b[" not in result.stderr  # no terminal control sequences in a log
    quiet = CliRunner().invoke(main, ["run", "demo", "--out", str(tmp_path), "-q"])
    assert quiet.stderr == ""


def test_no_lock_file_is_left_beside_the_store(fake_api, tmp_path):
    (tmp_path / "results.duckdb.lock").touch()  # as left by the old code
    result = CliRunner().invoke(main, ["run", "demo", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in {".lock", ".tmp"}) == []
    CliRunner().invoke(main, ["runs", "--store", str(tmp_path / "results.duckdb")])
    assert not list(tmp_path.glob("*.lock"))


def test_the_readme_tour_writes_only_under_out():
    for args in tour_lines():
        for option in ("--out", "--plot"):
            if option in args:
                target = Path(args[args.index(option) + 1])
                assert target.parts[0] == "out" and ".." not in target.parts, args


def test_a_repeated_run_replaces_the_same_run_unless_kept(fake_api, tmp_path):
    store = ResultsStore(tmp_path / "results.duckdb")
    first = CliRunner().invoke(main, ["run", "demo", "--out", str(tmp_path), "-q", "--json"])
    first_id = json.loads(first.stdout)["run_id"]
    second = CliRunner().invoke(main, ["run", "demo", "--out", str(tmp_path), "-q"])
    assert second.exit_code == 0, second.output
    assert f"replaced: run {first_id}" in second.stdout
    runs = store.runs()
    assert runs.label.tolist() == ["demo"] and first_id not in runs.run_id.tolist()
    kept = CliRunner().invoke(main, ["run", "demo", "--out", str(tmp_path), "-q", "--keep"])
    assert kept.exit_code == 0 and "replaced" not in kept.stdout
    assert store.runs().label.tolist() == ["demo", "demo"]
    other = CliRunner().invoke(main, ["run", "demo-small", "--out", str(tmp_path), "-q"])
    assert other.exit_code == 0 and store.runs().label.tolist() == ["demo", "demo", "demo-small"]
