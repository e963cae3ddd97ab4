"""ResultsStore: round trip, catalogue, transactional saves, schema evolution and Parquet export."""

from __future__ import annotations

import importlib
import json
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mine2magnet import __version__
from mine2magnet.errors import InputError
from mine2magnet.store import ResultsStore, StoreBusyError, store_lock, to_json_safe
from mine2magnet.store import results_store as results_store_module

from .sample_chain import SampleResult, sample_result


def _assert_same_table(stored: pd.DataFrame, original: pd.DataFrame) -> None:
    assert list(stored.columns) == list(original.columns)
    assert len(stored) == len(original)
    for column in original.columns:
        left, right = stored[column].tolist(), original[column].tolist()
        for a, b in zip(left, right, strict=True):
            if isinstance(b, float):
                assert a == pytest.approx(b, rel=0, abs=0) or (math.isnan(a) and math.isnan(b))
            else:
                assert a == b, column


def test_round_trip_restores_every_table_exactly(tmp_path):
    result = sample_result()
    result.meta = {"inputs": {"years": (2024, 2026)}, "seed": np.int64(7)}
    store = ResultsStore(tmp_path / "results.duckdb")
    run_id = store.save(result, seed=7)
    for name, original in result.tables.items():
        _assert_same_table(store.table(name, run_id), original)
    assert store.table_names(run_id) == list(result.tables)
    stored = store.get(run_id)
    assert stored.scenario_name == "sample-base" and stored.years == [2024, 2025, 2026] and stored.seed == 7
    assert stored.summary() == json.loads(json.dumps(to_json_safe(result.summary())))
    assert stored.meta == {"inputs": {"years": [2024, 2026]}, "seed": 7}
    assert store.load_summary(run_id)["kpis"]["hhi"]["2025"] == {"separation": 1.0, "mining": 0.5}


def test_catalogue_lists_runs_with_versions_overrides_and_times(tmp_path):
    store = ResultsStore(tmp_path / "results.duckdb")
    assert store.runs().empty and not (tmp_path / "results.duckdb").exists()  # reading creates nothing
    first = store.save(sample_result(), seed=1)
    second = store.save(sample_result("sample-base", 2.0, overrides=("no-ban", "crackdown")), seed=2)
    runs = store.runs()
    assert list(runs.run_id) == [first, second]
    assert set(runs.status) == {"complete"}
    assert runs.overrides.tolist() == [[], ["no-ban", "crackdown"]]
    assert runs.label.tolist() == ["sample-base", "sample-base+no-ban+crackdown"]
    assert runs.seed.tolist() == [1, 2]
    assert all(v.startswith(__version__) for v in runs.code_version)
    assert (runs.finished_utc >= runs.started_utc).all()
    assert store.has_run(first) and not store.has_run("nope")


def test_failure_mid_save_rolls_back_and_keeps_earlier_runs(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path / "results.duckdb")
    good = store.save(sample_result())
    before = {name: store.table(name, good) for name in store.table_names(good)}

    real_write = results_store_module._write_table
    calls = []

    def write_then_fail(con, run_id, position, name, frame, types, *rest):
        calls.append(name)
        if len(calls) == 3:
            raise RuntimeError("disk full (simulated)")
        real_write(con, run_id, position, name, frame, types, *rest)

    monkeypatch.setattr(results_store_module, "_write_table", write_then_fail)
    changed = sample_result(scale=3.0)
    changed.tables["flows"]["extra_column"] = "new"  # a schema change that must be rolled back too
    with pytest.raises(RuntimeError, match="simulated"):
        store.save(changed)
    monkeypatch.undo()

    runs = store.runs()
    assert runs.status.tolist() == ["complete", "failed"]
    assert "disk full" in runs.error.iloc[1]
    failed = runs.run_id.iloc[1]
    with pytest.raises(InputError, match="failed"):
        store.table("flows", failed)
    for name, table in before.items():
        pd.testing.assert_frame_equal(store.table(name, good), table)
    assert "extra_column" not in store.table("flows", good).columns
    # the store still accepts new runs afterwards
    assert store.has_run(store.save(sample_result(scale=2.0)))


def test_bad_result_is_refused_before_touching_the_store(tmp_path):
    store = ResultsStore(tmp_path / "results.duckdb")
    good = store.save(sample_result())
    bad = sample_result()
    bad.tables["runs"] = pd.DataFrame({"a": [1]})
    with pytest.raises(InputError, match="reserved"):
        store.save(bad)
    bad = sample_result()
    bad.tables["kpis"] = bad.tables["kpis"].assign(run_id="x")
    with pytest.raises(InputError, match="reserved by the store"):
        store.save(bad)
    assert store.runs().run_id.tolist() == [good]


def test_unknown_run_and_table_name_the_field(tmp_path):
    store = ResultsStore(tmp_path / "results.duckdb")
    run_id = store.save(sample_result())
    with pytest.raises(InputError, match="run_id: no run 'missing'"):
        store.load_summary("missing")
    with pytest.raises(InputError, match="has no table 'prices'; it has: flows"):
        store.table("prices", run_id)


def test_columns_added_or_retyped_by_later_runs_keep_each_runs_types(tmp_path):
    store = ResultsStore(tmp_path / "results.duckdb")
    first = sample_result()
    first_id = store.save(first)
    second = sample_result(scale=2.0)
    second.tables["assumptions"]["value"] = ["60", "ten percent"]  # text where the first run had numbers
    second.tables["flows"]["year"] = second.tables["flows"]["year"].astype(float) + 0.5
    second.tables["flows"]["route"] = "sea"
    second_id = store.save(second)
    a1 = store.table("assumptions", first_id)
    assert a1["value"].tolist() == [60.0, 0.1]
    assert store.table("assumptions", second_id)["value"].tolist() == ["60", "ten percent"]
    f1 = store.table("flows", first_id)
    assert "route" not in f1.columns and f1["year"].dtype.kind == "i"
    assert store.table("flows", second_id)["route"].eq("sea").all()


def test_parquet_export_is_readable_with_pyarrow(tmp_path):
    store = ResultsStore(tmp_path / "results.duckdb")
    result = sample_result()
    run_id = store.save(result, seed=3)
    written = store.export_parquet(run_id, tmp_path / "parquet")
    assert set(written) == {*result.tables, "run"}
    for name, original in result.tables.items():
        table = pq.read_table(written[name])
        assert table.column_names == list(original.columns)
        _assert_same_table(table.to_pandas(), original)
    entry = json.loads(written["run"].read_text())
    assert entry["run_id"] == run_id and entry["seed"] == 3 and entry["status"] == "complete"
    assert entry["summary"]["scenario"] == "sample-base"


def test_a_locked_store_times_out_with_a_clear_error(tmp_path):
    path = tmp_path / "results.duckdb"
    store = ResultsStore(path, lock_timeout_s=0.2)
    with store_lock(path, exclusive=True), pytest.raises(StoreBusyError, match="locked by another process"):
        store.save(sample_result())
    assert store.runs().empty


def test_summary_json_is_strict():
    safe = to_json_safe({2024: {"x": np.float64("nan"), "y": np.int64(3), "z": (1.5, np.inf)}})
    assert safe == {"2024": {"x": None, "y": 3, "z": [1.5, None]}}
    json.dumps(safe, allow_nan=False)


cells = st.one_of(
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.lists(cells, min_size=3, max_size=3), max_size=6), st.sampled_from([int, float, str, object])
)
def test_any_tidy_table_round_trips(tmp_path_factory, rows, kind):
    """Property: whatever the column types, a table reads back with the same values (as stored)."""
    frame = pd.DataFrame(rows, columns=["a", "b", "c"], dtype=object)
    frame["year"] = pd.Series(range(len(frame)), dtype=kind if kind is not object else "int64")
    store = ResultsStore(tmp_path_factory.mktemp("prop") / "r.duckdb")
    run_id = store.save(SampleResult("prop", [], [2024], {"t": frame}))
    back = store.table("t", run_id)
    assert list(back.columns) == ["a", "b", "c", "year"] and len(back) == len(frame)
    for column in ["a", "b", "c"]:
        values = [v for v in frame[column] if v is not None]
        got = [v for v in back[column] if not pd.isna(v)]
        only_bools = all(isinstance(v, bool) for v in values)
        only_numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        if only_bools or only_numbers:
            assert got == pytest.approx(values)
        else:  # a column mixing kinds is kept as text
            assert got == [str(v) for v in values]


def test_code_version_survives_a_machine_without_git(monkeypatch, tmp_path):
    code_version_module = importlib.import_module("mine2magnet.store.code_version")

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    code_version_module.git_commit.cache_clear()
    monkeypatch.setattr(code_version_module.subprocess, "run", no_git)
    try:
        assert code_version_module.code_version() == __version__
        run_id = ResultsStore(tmp_path / "r.duckdb").save(sample_result())
        assert ResultsStore(tmp_path / "r.duckdb").get(run_id).code_version == __version__
    finally:
        code_version_module.git_commit.cache_clear()


def test_an_empty_table_without_columns_round_trips(tmp_path):
    store = ResultsStore(tmp_path / "r.duckdb")
    run_id = store.save(SampleResult("empty", [], [2024], {"notes": pd.DataFrame()}))
    assert store.table("notes", run_id).empty and store.table_names(run_id) == ["notes"]


def test_a_change_anywhere_in_the_package_marks_the_code_version_dirty(tmp_path):
    """A run made with edited code or data elsewhere in the package (not only in the store) is not recorded
    as the clean commit."""
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git not installed")
    code_version_module = importlib.import_module("mine2magnet.store.code_version")
    pkg = tmp_path / "mine2magnet"
    for sub in ("store", "process"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "module.py").write_text("x = 1\n")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run([*git, *args], cwd=tmp_path, check=True, capture_output=True)
    code_version_module.git_commit.cache_clear()
    try:
        clean = code_version_module.git_commit(pkg)
        assert clean and not clean.endswith("+dirty")
        (pkg / "process" / "module.py").write_text("x = 2\n")
        code_version_module.git_commit.cache_clear()
        assert code_version_module.git_commit(pkg) == clean + "+dirty"
        assert code_version_module.git_commit(pkg / "store") == clean  # the old, store-only view missed it
    finally:
        code_version_module.git_commit.cache_clear()


def test_the_code_version_checks_the_whole_package_by_default(monkeypatch):
    code_version_module = importlib.import_module("mine2magnet.store.code_version")
    seen = []

    def fake_git(args, cwd, **kwargs):
        seen.append(cwd)
        return code_version_module.subprocess.CompletedProcess(args, 0, stdout="abc123\n", stderr="")

    code_version_module.git_commit.cache_clear()
    monkeypatch.setattr(code_version_module.subprocess, "run", fake_git)
    try:
        assert code_version_module.git_commit() == "abc123+dirty"  # the fake status reports a change
    finally:
        code_version_module.git_commit.cache_clear()
    package_root = code_version_module.Path(importlib.import_module("mine2magnet").__file__).resolve().parent
    assert seen and all(code_version_module.Path(c) == package_root for c in seen)
