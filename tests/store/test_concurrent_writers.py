"""Several processes saving into one store at once, and a writer killed mid-save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mine2magnet.store import ResultsStore

from .sample_chain import ARCS, SHARES, sample_result

TESTS = Path(__file__).resolve().parents[1]

WRITER = textwrap.dedent(
    """
    import sys
    from store.sample_chain import sample_result
    from mine2magnet.store import ResultsStore
    store = ResultsStore(sys.argv[1])
    for i in range(int(sys.argv[3])):
        store.save(sample_result(sys.argv[2], scale=1.0 + i), seed=i)
    """
)

HANGING_WRITER = textwrap.dedent(
    """
    import sys, time
    from store.sample_chain import sample_result
    from mine2magnet.store import ResultsStore, results_store
    real = results_store._write_table
    def write_then_hang(con, run_id, position, name, frame, types, *rest):
        real(con, run_id, position, name, frame, types, *rest)
        if position == 1:
            print("writing", flush=True)
            time.sleep(60)
    results_store._write_table = write_then_hang
    ResultsStore(sys.argv[1]).save(sample_result("doomed", scale=5.0))
    """
)


def _python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, text=True, **kwargs)


def test_two_processes_writing_at_once_both_land_intact(tmp_path):
    path = tmp_path / "results.duckdb"
    writers = [_python(WRITER, str(path), name, "2") for name in ("writer-a", "writer-b")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    store = ResultsStore(path)
    runs = store.runs()
    assert len(runs) == 4 and set(runs.status) == {"complete"}
    assert sorted(runs.scenario.value_counts().tolist()) == [2, 2]
    rows_per_run = len(ARCS) * len(SHARES) * 3
    for run_id, seed in zip(runs.run_id, runs.seed, strict=True):
        flows = store.table("flows", run_id)
        assert len(flows) == rows_per_run
        # each run's own numbers, not a mix: total mined in 2024 = 10 kt x scale (scale = 1 + seed)
        mined = flows[(flows.year == 2024) & (flows.source == "Mt Weld")].t.sum()
        assert mined == pytest.approx(10_000.0 * (1.0 + seed))


def test_a_writer_killed_mid_save_leaves_earlier_runs_and_the_file_usable(tmp_path):
    path = tmp_path / "results.duckdb"
    store = ResultsStore(path)
    good = store.save(sample_result())
    expected = store.table("flows", good)
    writer = _python(HANGING_WRITER, str(path), stdout=subprocess.PIPE)
    try:
        assert writer.stdout.readline().strip() == "writing"
        time.sleep(0.2)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
    runs = store.runs()
    assert runs.run_id.tolist() == [good]  # the killed run never committed
    assert store.table("flows", good).equals(expected)
    assert store.has_run(store.save(sample_result(scale=2.0)))
