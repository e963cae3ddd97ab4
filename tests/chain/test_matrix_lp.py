"""The yearly allocation's LP, passed to HiGHS as one matrix, against a second solver (SciPy's linprog, its
own HiGHS interface) on random feasible LPs of the same shape: equalities, inequalities and bounds."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mine2magnet.chain.allocation import _solve_matrix_lp
from mine2magnet.errors import ConvergenceError


@settings(max_examples=40)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 30), n_eq=st.integers(0, 5), n_le=st.integers(0, 8))
def test_same_optimum_as_linprog(seed: int, n: int, n_eq: int, n_le: int) -> None:
    rng = np.random.default_rng(seed)
    point = rng.uniform(0.0, 5.0, n)  # a feasible point: equalities hold there, inequalities with slack
    A_eq = rng.normal(size=(n_eq, n)) * (rng.random((n_eq, n)) < 0.5)
    A_le = rng.normal(size=(n_le, n)) * (rng.random((n_le, n)) < 0.5)
    b_eq, b_le = A_eq @ point, A_le @ point + rng.uniform(0.0, 2.0, n_le)
    cost = rng.normal(size=n)
    lb, ub = np.zeros(n), np.full(n, 10.0)
    A = sp.csr_matrix(np.vstack([A_eq, A_le])) if n_eq + n_le else sp.csr_matrix((1, n))
    x, objective = _solve_matrix_lp(2030, A, n_eq, n_eq + n_le, b_eq, list(b_le), cost, lb, ub)
    ref = linprog(
        cost,
        A_ub=A_le if n_le else None,
        b_ub=b_le if n_le else None,
        A_eq=A_eq if n_eq else None,
        b_eq=b_eq if n_eq else None,
        bounds=list(zip(lb, ub, strict=True)),
        method="highs",
    )
    assert ref.status == 0
    assert objective == pytest.approx(ref.fun, rel=1e-7, abs=1e-7)
    assert cost @ x == pytest.approx(objective, rel=1e-7, abs=1e-7)
    if n_eq:
        assert np.allclose(A_eq @ x, b_eq, atol=1e-6)
    if n_le:
        assert (A_le @ x <= b_le + 1e-6).all()
    assert (x >= lb - 1e-9).all() and (x <= ub + 1e-9).all()


def test_an_infeasible_year_raises() -> None:
    A = sp.csr_matrix(np.array([[1.0, 1.0]]))
    with pytest.raises(ConvergenceError, match="allocation of 2031: HiGHS ended with"):
        _solve_matrix_lp(2031, A, 1, 1, np.array([50.0]), [], np.ones(2), np.zeros(2), np.full(2, 10.0))
