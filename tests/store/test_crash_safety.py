"""Crash safety of the results store and of a run's output folder (issue 17, item 4).

``kill -9`` at random moments of a save and of a whole ``mine2magnet run`` (10 times each), and two runs
writing the same ``--out`` at once (10 runs each): the store stays readable, the earlier run is intact, a
killed run is absent (or marked failed), never ``complete`` with partial tables; summary.json and the report
are whole files. The writers are small (the sample chain, ~0.1-0.3 s a run) so the suite stays bounded:
about 20-30 s on a 2-core machine, most of it interpreter start-up.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from mine2magnet.store import ResultsStore

from .sample_chain import sample_result

TESTS = Path(__file__).resolve().parents[1]
KILLS = 10


def _driver(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "store.crash_driver", *args], env=env, text=True, **kwargs)


def _wait_ready(process: subprocess.Popen) -> None:
    line = process.stdout.readline().strip()
    assert line == "ready", (line, process.poll())


def _check_store(path: Path, earlier: str, expected: dict) -> list[str]:
    """The store opens, the earlier run is intact, and every complete run has all its tables in full."""
    store = ResultsStore(path)
    runs = store.runs()
    assert set(runs.status) <= {"complete", "failed"}, runs.status.tolist()
    assert earlier in runs.run_id.tolist()
    for name, frame in expected.items():
        assert store.table(name, earlier).equals(frame), name
    complete = runs[runs.status == "complete"].run_id.tolist()
    con = duckdb.connect(str(path), read_only=True)
    try:
        for run_id in complete:
            listed = dict(
                con.execute("SELECT table_name, n_rows FROM run_tables WHERE run_id = ?", [run_id]).fetchall()
            )
            assert set(listed) == set(expected), (run_id, sorted(listed))
            for name, n_rows in listed.items():
                (count,) = con.execute(f'SELECT count(*) FROM "{name}" WHERE run_id = ?', [run_id]).fetchone()
                assert count == n_rows == len(expected[name]), (run_id, name, count, n_rows)
    finally:
        con.close()
    return complete


@pytest.fixture
def earlier_run(tmp_path):
    path = tmp_path / "results.duckdb"
    store = ResultsStore(path)
    run_id = store.save(sample_result("earlier"))
    return path, run_id, {name: store.table(name, run_id) for name in sample_result().tables}


def _kill_children(server: subprocess.Popen, delays: list[float], after_each) -> None:
    """Fork one child per delay from the fork server, SIGKILL it after that delay, then `after_each()`."""
    _wait_ready(server)
    try:
        for delay in delays:
            server.stdin.write("go\n")
            server.stdin.flush()
            kind, pid = server.stdout.readline().split()
            assert kind == "child"
            time.sleep(delay)
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)  # kill -9: no clean-up of any kind runs
            assert server.stdout.readline().startswith("reaped")
            after_each()
    finally:
        server.stdin.close()
        server.wait(timeout=30)
        server.stdout.close()


def test_kill_9_at_random_moments_of_a_save(earlier_run):
    path, earlier, expected = earlier_run
    rng = random.Random(20261207)
    server = _driver("fork", "save", str(path), "20", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    _kill_children(
        server, [rng.uniform(0.0, 0.6) for _ in range(KILLS)], lambda: _check_store(path, earlier, expected)
    )
    # how many saves completed between the kills depends on the machine's load; whatever the count, each
    # complete run is whole (checked above after every kill) and the store takes new runs:
    assert not list(path.parent.glob("*.lock"))
    ResultsStore(path).save(sample_result("after"))  # and the store still takes new runs


def test_kill_9_at_random_moments_of_a_run(tmp_path, earlier_run):
    path, earlier, expected = earlier_run
    out = path.parent
    rng = random.Random(17)

    def check() -> None:
        _check_store(path, earlier, expected)
        if (out / "summary.json").exists():
            assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["scenario"] == "demo"
        if (out / "report.html").exists():
            assert (out / "report.html").read_text(encoding="utf-8").endswith("</html>\n")

    server = _driver("fork", "run", str(out), "demo", "20", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    _kill_children(server, [rng.uniform(0.0, 1.2) for _ in range(KILLS)], check)
    assert _check_store(path, earlier, expected)[0] == earlier


def test_two_runs_writing_the_same_out_at_once(earlier_run):
    path, earlier, expected = earlier_run
    out = path.parent
    runners = [_driver("run", str(out), x, str(KILLS), stdout=subprocess.PIPE) for x in ("demo", "other")]
    try:
        codes = [r.wait(timeout=240) for r in runners]
        outputs = [r.stdout.read() for r in runners]
    finally:
        for r in runners:
            r.stdout.close()
    assert codes == [0, 0], outputs
    assert [o.count("ran") for o in outputs] == [KILLS, KILLS]
    complete = _check_store(path, earlier, expected)
    assert len(complete) == 1 + 2 * KILLS
    labels = ResultsStore(path).runs().label.value_counts().to_dict()
    assert labels == {"earlier": 1, "demo": KILLS, "other": KILLS}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] in {"demo", "other"} and summary["run_id"] in complete
    assert (out / "report.html").read_text(encoding="utf-8").endswith("</html>\n")
    assert not [p.name for p in out.iterdir() if p.name.endswith((".tmp", ".lock"))]


def test_two_processes_writing_one_summary_never_fail(tmp_path):
    # the old fixed temp name (.summary.json.tmp) failed 14 times in 600 such writes
    target = tmp_path / "summary.json"
    start = str(time.time() + 3.0)  # after both interpreters have started
    writers = [_driver("summary", str(target), "300", x, start, stdout=subprocess.PIPE) for x in ("a", "b")]
    failures = [int(w.communicate(timeout=120)[0].strip()) for w in writers]
    assert failures == [0, 0]
    assert json.loads(target.read_text(encoding="utf-8"))["writer"] in {"a", "b"}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
