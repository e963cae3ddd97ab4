"""Paths the command line is given (issue 17): `..`, spaces and non-ASCII in scenario names, `--out` and
export run ids are handled or refused in one line, nothing is created outside the folders asked for, and a
run whose results store cannot be written is not lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from mine2magnet.cli import main
from mine2magnet.cli import run as run_module
from mine2magnet.store import ResultsStore
from store.sample_chain import sample_result

from .test_run_commands import _fake_api


def _files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def _file_api():
    """The stand-in scenario layer, also taking a scenario file (run as the demo chain)."""
    api = _fake_api()
    load = api.load_scenario
    api.load_scenario = lambda name, overrides=(): load("demo" if name.endswith(".yaml") else name, overrides)
    return api


@pytest.fixture
def fake_api(monkeypatch, tmp_path):
    monkeypatch.setattr(run_module, "scenario_api", _file_api)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize("run_id", ["../../../x", "../x", "/tmp/x", "..", "a/b", "20261122T051502-3f9c2a1b"])
def test_export_of_a_bad_run_id_creates_nothing_anywhere(tmp_path, run_id):
    store = ResultsStore(tmp_path / "a" / "b" / "results.duckdb")
    store.save(sample_result("demo"))
    before = _files_under(tmp_path)
    result = CliRunner().invoke(main, ["export", run_id, "--store", str(store.path), "--format", "csv"])
    assert result.exit_code == 1
    assert "run_id: no complete run" in result.stderr and result.stderr.count("\n") == 1
    assert _files_under(tmp_path) == before
    assert not Path("/tmp/x").exists() or run_id != "/tmp/x"


@pytest.mark.parametrize("name", ["../evil", "..", "a/b", ".hidden", "x\\y", "tab\there"])
def test_a_scenario_name_that_would_leave_out_is_refused(fake_api, tmp_path, name):
    before = _files_under(tmp_path)
    result = CliRunner().invoke(main, ["run", name, "-q"])
    assert result.exit_code == 1
    assert "cannot name a folder under out/" in result.stderr and result.stderr.count("\n") == 1
    assert _files_under(tmp_path) == before


def test_a_scenario_file_with_spaces_and_accents_is_labelled_by_its_name(fake_api, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    spec = elsewhere / "cas d'étude 2 (Perak).yaml"
    spec.write_text("name: demo\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", f"../elsewhere/{spec.name}", "-q", "--json"])
    assert result.exit_code == 0, result.output
    out = fake_api / "out" / "cas d'étude 2 (Perak)"
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["run_id"]
    assert (out / "report.html").is_file() and (out / "results.duckdb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "work"]


def test_an_out_folder_with_dots_spaces_and_accents_works_end_to_end(fake_api, tmp_path):
    out = Path("sub") / ".." / "résultats d'été" / "run 1"
    result = CliRunner().invoke(main, ["run", "demo", "--out", str(out), "-q", "--json"])
    assert result.exit_code == 0, result.output
    folder = fake_api / "résultats d'été" / "run 1"
    run_id = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["run_id"]
    listed = CliRunner().invoke(main, ["runs", "--store", str(out / "results.duckdb")])
    assert listed.exit_code == 0 and run_id in listed.stdout
    exported = CliRunner().invoke(
        main, ["export", run_id, "--store", str(out / "results.duckdb"), "--format", "csv"]
    )
    assert exported.exit_code == 0, exported.output
    assert (folder / "csv" / run_id / "flows.csv").is_file()
    assert not (fake_api / "sub").exists()


def _assert_rescued(folder: Path) -> None:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "demo" and summary["store_error"]
    expected = sample_result("demo").tables
    for name, frame in expected.items():
        back = pd.read_parquet(folder / "tables" / f"{name}.parquet")
        assert len(back) == len(frame) and list(back.columns) == list(frame.columns), name
    assert (folder / "report.html").stat().st_size > 0


def test_a_run_the_store_cannot_take_is_written_beside_it_and_exits_non_zero(fake_api, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.duckdb").write_bytes(b"not a duckdb file\x00" * 64)  # a broken store
    result = CliRunner().invoke(main, ["run", "demo", "--out", str(out), "-q"])
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert message.count("\n") == 0 and "could not be saved in the results store" in message
    rescued = [p for p in out.iterdir() if p.name.startswith("unsaved-")]
    assert len(rescued) == 1 and str(rescued[0]) in message
    _assert_rescued(rescued[0])
    assert (out / "results.duckdb").read_bytes().startswith(b"not a duckdb file")  # left as it was


def test_when_nothing_can_be_written_near_the_store_the_run_goes_to_the_temp_folder(fake_api, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "demo", "--out", str(blocker / "out"), "-q"])
    assert result.exit_code == 1
    message = result.stderr.strip()
    folder = Path(message.rsplit(" are in ", 1)[1])
    try:
        assert folder.name.startswith("unsaved-") and not folder.is_relative_to(tmp_path)
        _assert_rescued(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
