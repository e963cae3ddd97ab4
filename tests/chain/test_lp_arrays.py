"""The allocation LP handed to HiGHS as arrays gives, bit for bit, the solution of the same LP handed over
as a ``HighsLp`` filled field by field (the way it was passed before), on every year of every built-in
scenario."""

from __future__ import annotations

import numpy as np
import pytest

import mine2magnet.chain.allocation as allocation
from mine2magnet.scenario import list_scenarios, load_scenario, run_scenario


def _solve_as_highs_lp(year, shape, matrix, row_bounds, cost, lb, ub):
    import highspy

    n_row, n_col = shape
    indptr, indices, data = matrix
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(n_col), int(n_row)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lb, ub
    lp.row_lower_, lp.row_upper_ = row_bounds
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = indptr, indices, data
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    x = np.asarray(h.getSolution().col_value, dtype=float)
    return np.nan_to_num(x, nan=0.0), float(h.getInfo().objective_function_value)


@pytest.mark.parametrize("name", [s[0] for s in list_scenarios()])
def test_arrays_and_highs_lp_give_the_same_solution(name: str, monkeypatch) -> None:
    seen = []
    solve = allocation._solve_csc

    def keep(*args):
        got = solve(*args)
        seen.append((args, got))
        return got

    monkeypatch.setattr(allocation, "_solve_csc", keep)
    run_scenario(load_scenario(name, []))
    assert seen
    for args, (x, objective) in seen:
        want_x, want_objective = _solve_as_highs_lp(*args)
        assert np.array_equal(x, want_x) and objective == want_objective, args[0]
