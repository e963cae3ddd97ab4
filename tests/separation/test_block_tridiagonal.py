"""Block-tridiagonal solves: the banded LAPACK path and block elimination agree, and the choice between them
depends on the number of cases (no size cliff for one long cascade)."""

from __future__ import annotations

import numpy as np
import pytest

import mine2magnet.separation.solvers.steady.block_tridiagonal as bt


def _system(cases: int, stages: int, size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    diag = rng.uniform(2.0, 3.0, (cases, stages, size, size)) + 4.0 * np.eye(size)
    lower = -rng.uniform(0.0, 1.0, (cases, stages, size, size))
    upper = -rng.uniform(0.0, 1.0, (cases, stages, size, size))
    rhs = rng.uniform(0.0, 1.0, (cases, stages, size))
    return lower, diag, upper, rhs


def _dense(lower, diag, upper, rhs):
    """Solve each case as one dense matrix (the reference)."""
    cases, n, c, _ = diag.shape
    out = np.empty_like(rhs)
    for b in range(cases):
        m = np.zeros((n * c, n * c))
        for k in range(n):
            m[k * c : (k + 1) * c, k * c : (k + 1) * c] = diag[b, k]
            if k > 0:
                m[k * c : (k + 1) * c, (k - 1) * c : k * c] = lower[b, k]
            if k < n - 1:
                m[k * c : (k + 1) * c, (k + 1) * c : (k + 2) * c] = upper[b, k]
        out[b] = np.linalg.solve(m, rhs[b].ravel()).reshape(n, c)
    return out


@pytest.mark.parametrize("size", [1, 2, 3])
def test_both_paths_match_dense(size):
    system = _system(3, 40, size)
    ref = _dense(*system)
    assert np.allclose(bt.solve_block_tridiagonal(*system), ref, rtol=1e-12, atol=1e-14)
    assert np.allclose(bt.block_thomas(*system), ref, rtol=1e-12, atol=1e-14)


def test_long_cascades_stay_on_lapack(monkeypatch):
    """12 chains x 240 stages (a constant-distribution cascade of 12 components) is not a large batch: it
    must not go to the stage loop of block elimination (the former cliff at 12 x 167 stages)."""

    def forbidden(*args):
        raise AssertionError("block elimination used for a small batch")

    system = _system(12, 240, 2)
    ref = bt.block_thomas(*system)
    monkeypatch.setattr(bt, "block_thomas", forbidden)
    assert np.allclose(bt.solve_block_tridiagonal(*system), ref, rtol=1e-12, atol=1e-14)


def test_large_batches_use_block_elimination(monkeypatch):
    cases = bt.BLOCK_THOMAS_MIN_CASES
    system = _system(cases, 5, 2)
    calls = []
    original = bt.block_thomas

    def counted(*args):
        calls.append(args[0].shape[0])
        return original(*args)

    monkeypatch.setattr(bt, "block_thomas", counted)
    x = bt.solve_block_tridiagonal(*system)
    assert calls == [cases]
    assert np.allclose(x[:3], _dense(*(a[:3] for a in system)), rtol=1e-12, atol=1e-14)


def test_block_elimination_leaves_its_inputs_alone():
    system = _system(1, 30, 2)
    before = [a.copy() for a in system]
    bt.block_thomas(*system)
    for a, b in zip(system, before, strict=True):
        assert np.array_equal(a, b)
