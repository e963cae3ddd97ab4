"""The yearly LP's layout kept across years and draws: a solve that reuses a layout gives exactly what a solve
laid out afresh gives (a fresh process: no layout kept, a new HiGHS object), on the flagship scenario, on
drawn variants of it, and on random small chains."""

from __future__ import annotations

import numpy as np
import pytest
from chainkit import assert_same_tables, small_chain
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.chain import simulate
from mine2magnet.chain.allocation import _STRUCTURES, forget_structures

REL = 1e-9


def _run(name: str, overrides: list[str] | None = None):
    from mine2magnet.scenario import load_scenario, run_scenario

    return run_scenario(load_scenario(name, overrides or []))


def test_base_scenario_same_with_layouts_reused():
    forget_structures()
    fresh = _run("malaysia-base")
    assert len(_STRUCTURES) >= 1  # the run kept its layouts ...
    _run("malaysia-crackdown")  # ... and another scenario's solves come between
    reused = _run("malaysia-base")
    assert_same_tables(fresh.tables, reused.tables)


def test_drawn_scenarios_same_as_fresh():
    from mine2magnet.analysis.uncertainty.inputs import draw_inputs
    from mine2magnet.analysis.uncertainty.sampling import draw_sample
    from mine2magnet.analysis.uncertainty.study import scenario_study

    model, si = scenario_study("malaysia-base", end_year=2030)
    sample = draw_sample(si.inputs, "lhs", 4, 11, si.correlations)
    draws = [draw_inputs(si.inputs, row) for row in sample.values]
    reused = [model(d) for d in draws]  # each draw after the others' layouts are kept
    for d, rows in zip(draws, reused, strict=True):
        forget_structures()
        fresh = model(d)
        assert [r[:3] for r in fresh] == [r[:3] for r in rows]
        assert np.allclose([r[3] for r in fresh], [r[3] for r in rows], rtol=REL, atol=1e-12)


@settings(max_examples=15)
@given(demand=st.floats(0.0, 3000.0), ref_cap=st.floats(10.0, 2000.0), other=st.floats(0.0, 3000.0))
def test_small_chains_same_after_other_solves(demand: float, ref_cap: float, other: float) -> None:
    forget_structures()
    fresh = simulate(small_chain(demand=f"{demand} t/yr", ref_cap=f"{ref_cap} t/yr"))
    simulate(small_chain(demand=f"{other} t/yr"))
    reused = simulate(small_chain(demand=f"{demand} t/yr", ref_cap=f"{ref_cap} t/yr"))
    assert_same_tables(fresh.tables, reused.tables)
    assert reused.mass_balance_error < 1e-6


def test_a_coefficient_laid_out_twice_is_summed():
    """A link named twice in one link-capacity row counts twice: 2 flow <= 3, so 1.5 t of the mine's 5 t is
    sold (value 1 per t, no cost), as the LP written out by hand gives."""
    from mine2magnet.chain.allocation import Link, LinkCap, Market, Process, YearProblem, solve_year

    problem = YearProblem(
        2030,
        ["Nd"],
        [Process("m:mine", "m", None, {"oxide": np.ones(1)}, mix=np.ones(1), level_bounds=(0.0, 5.0))],
        [Link("l", "m", "k", "oxide", np.zeros(1))],
        [Market("k", "k", "oxide", np.ones(1))],
        [],
        [LinkCap("twice", ["l", "l"], 3.0)],
        {},
    )
    forget_structures()
    sol = solve_year(problem)
    assert sol.flow["l"][0] == pytest.approx(1.5, rel=1e-9)
    assert sol.sale["k"][0] == pytest.approx(1.5, rel=1e-9)
    assert sol.objective == pytest.approx(-1.5, rel=1e-9)


def test_one_thread_or_the_pool_already_started_give_the_same_flows(tmp_path):
    """The allocation solves on one thread; in a process where another solver started HiGHS' thread pool
    with another size first, it falls back to that pool and gives the same flows."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "pool_first.py"
    script.write_text(
        "import json, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import highspy, numpy as np\n"
        "h = highspy.Highs(); h.setOptionValue('output_flag', False); h.setOptionValue('threads', 2)\n"
        "lp = highspy.HighsLp(); lp.num_col_ = 1; lp.num_row_ = 0\n"
        "lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.ones(1), np.zeros(1), np.ones(1)\n"
        "h.passModel(lp); h.run()  # the thread pool starts with two threads\n"
        "from chainkit import small_chain\n"
        "from mine2magnet.chain import simulate\n"
        "flows = simulate(small_chain(demand='700 t/yr')).tables['flows']\n"
        "import os\n"
        "from mine2magnet.chain.allocation import _POOL_STARTED, forget_structures\n"
        "assert os.getpid() in _POOL_STARTED  # the fallback was taken\n"
        "forget_structures()  # a new HiGHS object in the same process keeps the pool's size\n"
        "again = simulate(small_chain(demand='700 t/yr')).tables['flows']\n"
        "assert list(again['t']) == list(flows['t'])\n"
        "print(json.dumps([float(x) for x in flows['t']]))\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    forget_structures()
    ours = simulate(small_chain(demand="700 t/yr")).tables["flows"]["t"].to_numpy(float)
    np.testing.assert_allclose(theirs, ours, rtol=1e-12, atol=1e-12)


def test_the_time_limit_is_per_solve_not_per_process(monkeypatch):
    """HiGHS counts its time limit on the object's clock, which runs on over every solve: the re-used object
    must give each solve the whole limit (a study failed every draw after ~5,000 with a 120 s limit)."""
    from mine2magnet.chain import allocation

    forget_structures()
    model = small_chain(demand="700 t/yr")
    simulate(model)
    per_solve = max(allocation._highs().getRunTime(), 1e-4) / len(model.years)
    # a limit no single solve comes near (50 solves' worth, at least 20 ms: robust to a slow, busy machine)
    limit = max(50 * per_solve, 0.02)
    monkeypatch.setattr(allocation, "SOLVER_TIME_LIMIT_S", limit)
    forget_structures()  # a new object, made with that limit
    runs = 0
    while allocation._highs().getRunTime() <= 4 * limit and runs < 5000:  # until far past it in total
        result = simulate(model)
        runs += 1
    assert allocation._highs().getRunTime() > 4 * limit
    assert result.mass_balance_error < 1e-6
