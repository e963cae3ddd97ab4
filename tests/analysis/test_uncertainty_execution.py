"""Execution: one seed gives the same results in process, in a process pool and on Dask; a study killed
mid-way (kill -9 or Ctrl-C) and resumed holds every draw exactly once; an unreachable scheduler is a clear
error within seconds; the store refuses to mix two studies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from mine2magnet.analysis.uncertainty import FunctionModel, ishigami, ishigami_inputs, run_study
from mine2magnet.errors import InputError


def _outputs(result) -> np.ndarray:
    frame = result.outputs()
    return frame.sort_values(["draw", "kpi", "year"])[["draw", "value"]].to_numpy()


def test_same_results_in_process_pool_and_dask() -> None:
    kw = {"method": "lhs", "draws": 48, "seed": 11}
    inline = run_study(FunctionModel(ishigami, draws_per_chunk=5), ishigami_inputs(), **kw)
    pool = run_study(
        FunctionModel(ishigami, draws_per_chunk=5), ishigami_inputs(), workers=2, backend="pool", **kw
    )
    dask = run_study(
        FunctionModel(ishigami, draws_per_chunk=5), ishigami_inputs(), workers=2, backend="dask", **kw
    )
    assert inline.backend == "inline" and pool.backend == "pool" and dask.backend == "dask"
    a, b, c = _outputs(inline), _outputs(pool), _outputs(dask)
    assert a.shape == (48, 2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    # and the values are Ishigami's of the sample's rows (a second computation)
    x = inline.sample.values
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    np.testing.assert_allclose(a[:, 1], y, rtol=1e-12)


def test_unreachable_scheduler_is_a_clear_error_within_seconds() -> None:
    t0 = time.monotonic()
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        run_study(FunctionModel(ishigami), ishigami_inputs(), draws=8, scheduler="tcp://127.0.0.1:9")
    assert time.monotonic() - t0 < 15.0


_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from mine2magnet.analysis.uncertainty import FunctionModel, ishigami_inputs, run_study
    from mine2magnet.analysis.uncertainty.models import ishigami

    def slow(inputs):
        time.sleep(0.02)
        return ishigami(inputs)

    def tell(done, total):
        print(done, flush=True)

    run_study(FunctionModel(slow, draws_per_chunk=3), ishigami_inputs(), method="mc", draws=90, seed=5,
              out=sys.argv[1], resume=sys.argv[2] == "resume", progress=tell)
    print("finished", flush=True)
    """
)


def _interrupt(script: Path, out: Path, sig: int) -> int:
    """Start the study, send `sig` once some draws are stored; return how many the script had reported."""
    proc = subprocess.Popen([sys.executable, str(script), str(out), "new"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = 0
    for line in proc.stdout:
        if line.strip().isdigit():
            seen = int(line)
        if seen >= 30:
            os.kill(proc.pid, sig)
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    assert proc.returncode != 0  # stopped, not finished
    return seen


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_interrupted_study_resumes_with_every_draw_exactly_once(tmp_path: Path, sig: int) -> None:
    script = tmp_path / "study.py"
    script.write_text(_SCRIPT)
    out = tmp_path / "study"
    seen = _interrupt(script, out, sig)
    con = duckdb.connect(str(out / "uncertainty.duckdb"), read_only=True)
    kept = con.execute("SELECT count(*) FROM draws").fetchone()[0]
    con.close()
    assert seen <= kept < 90  # whole chunks kept, the study not finished
    done = subprocess.run(
        [sys.executable, str(script), str(out), "resume"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(out / "uncertainty.duckdb"), read_only=True)
    draws = [d for (d,) in con.execute("SELECT draw FROM draws ORDER BY draw").fetchall()]
    per_draw = con.execute("SELECT draw, count(*) FROM outputs GROUP BY draw HAVING count(*) <> 1").fetchall()
    n_out = con.execute("SELECT count(*) FROM outputs").fetchone()[0]
    con.close()
    assert draws == list(range(90))
    assert per_draw == [] and n_out == 90


def test_store_refuses_another_study_and_a_rerun_without_resume(tmp_path: Path) -> None:
    run_study(FunctionModel(ishigami), ishigami_inputs(), draws=8, out=tmp_path)
    with pytest.raises(InputError, match="--resume"):
        run_study(FunctionModel(ishigami), ishigami_inputs(), draws=8, out=tmp_path)
    with pytest.raises(InputError, match="different study"):
        run_study(FunctionModel(ishigami), ishigami_inputs(), draws=9, out=tmp_path, resume=True)
    again = run_study(FunctionModel(ishigami), ishigami_inputs(), draws=8, out=tmp_path, resume=True)
    assert again.draws == {"design": 8, "ok": 8, "failed": 0}
