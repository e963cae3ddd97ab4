"""Block-tridiagonal linear systems (the Newton step of every cascade solver), solved as one banded system.

A cascade couples stage k only to stages k-1 and k+1, so the Jacobian of the stage equations is block
tridiagonal with one C x C block per stage (C unknowns per stage). A batch of independent cascades is the same
structure with zero coupling blocks between cases, so a whole batch is solved by ONE call to LAPACK's banded
solver ``dgbsv`` (LU with partial pivoting): cost O(B N C^3), no Python loop over stages. LAPACK is called
directly (not through :func:`scipy.linalg.solve_banded`) because its wrapper overhead dominates small solves.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.linalg import lapack

from mine2magnet.errors import ConvergenceError


@lru_cache(maxsize=64)
def _band_indices(n_blocks: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Flat indices into LAPACK band storage (2kl+ku+1, n) for the diagonal, lower and upper blocks."""
    C = size
    bw = 2 * C - 1
    n = n_blocks * C
    i = np.arange(C)[None, :, None]
    j = np.arange(C)[None, None, :]
    k = np.arange(n_blocks)[:, None, None]

    def flat(dk: int, ks: np.ndarray) -> np.ndarray:
        row = ks * C + i
        col = (ks + dk) * C + j
        return ((2 * bw + row - col) * n + col).ravel()

    return flat(0, k), flat(-1, k[1:]), flat(1, k[:-1]), bw


#: From this many independent cases per call (with blocks of at most 4 x 4), a batch is solved by block
#: elimination vectorised over the cases; below it by one banded LAPACK call. Block elimination loops over
#: the stages in Python (~10-40 us a stage whatever the batch), dgbsv costs ~0.1-0.5 us per unknown, so the
#: crossover is a number of cases, not of unknowns (measured 2026-12-07, 2-core AMD EPYC: at 2 x 2 blocks
#: banded 0.5 ms vs 9.6 ms for 12 cases x 240 stages, 14 vs 16 ms for 300 x 240, 7.7 vs 4.5 ms for
#: 1,000 x 45). A single cascade always goes to LAPACK, however many stages it has.
BLOCK_THOMAS_MIN_CASES = 400


def solve_block_tridiagonal(
    lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """Solve a (batch of) block-tridiagonal system(s).

    A single cascade, and batches of fewer than ``BLOCK_THOMAS_MIN_CASES`` cascades, go to LAPACK ``dgbsv``
    (banded LU with partial pivoting) in one call, however many stages. Larger batches of small blocks go to
    block elimination (block Thomas) vectorised over the cases, which avoids ``dgbsv``'s per-column
    overhead; the cascade Jacobians are column-diagonally dominant (each column is a conservation law), for
    which elimination without pivoting is stable.

    Args:
        lower: (..., N, C, C) block coupling stage k to stage k-1 (``lower[..., 0, :, :]`` is ignored).
        diag: (..., N, C, C) diagonal blocks.
        upper: (..., N, C, C) block coupling stage k to stage k+1 (``upper[..., N-1, :, :]`` is ignored).
        rhs: (..., N, C) right-hand side.

    Returns:
        x with the shape of ``rhs``.

    Raises:
        ConvergenceError: if the matrix is singular (reported as a failed Newton step).
    """
    shape = rhs.shape
    N, C = shape[-2], shape[-1]
    nb = int(np.prod(shape[:-1]))
    if C <= 4 and nb // N >= BLOCK_THOMAS_MIN_CASES:
        return block_thomas(
            np.reshape(lower, (-1, N, C, C)),
            np.reshape(diag, (-1, N, C, C)),
            np.reshape(upper, (-1, N, C, C)),
            np.reshape(rhs, (-1, N, C)),
        ).reshape(shape)
    idx_d, idx_l, idx_u, bw = _band_indices(nb, C)
    n = nb * C
    ab = np.zeros((3 * bw + 1) * n)
    ab[idx_d] = np.reshape(diag, -1)
    ab[idx_l] = _lower_blocks(lower, nb, N, C)
    ab[idx_u] = _upper_blocks(upper, nb, N, C)
    _, _, x, info = lapack.dgbsv(
        bw, bw, ab.reshape(3 * bw + 1, n), np.array(rhs, dtype=float).reshape(-1, 1), 1, 1
    )
    if info != 0:
        raise ConvergenceError(f"singular stage Jacobian (LAPACK dgbsv info={info})")
    return x.reshape(shape)


def _lower_blocks(lower: np.ndarray, nb: int, N: int, C: int) -> np.ndarray:
    """Lower blocks of block rows 1..nb-1 (zero where a row is the first stage of a case)."""
    lo = np.array(lower, dtype=float).reshape(-1, N, C, C)
    lo[:, 0] = 0.0
    return lo.reshape(nb, C, C)[1:].ravel()


def _upper_blocks(upper: np.ndarray, nb: int, N: int, C: int) -> np.ndarray:
    """Upper blocks of block rows 0..nb-2 (zero where a row is the last stage of a case)."""
    up = np.array(upper, dtype=float).reshape(-1, N, C, C)
    up[:, -1] = 0.0
    return up.reshape(nb, C, C)[:-1].ravel()


def gtsv(dl: np.ndarray, d: np.ndarray, du: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """LAPACK ``dgtsv`` (arrays may be overwritten), including the one-unknown system it cannot take."""
    if d.size == 1:
        return b / d.reshape(1, 1), 0 if d[0] != 0 else 1
    _, _, _, x, info = lapack.dgtsv(dl, d, du, b, 1, 1, 1, 1)
    return x, info


def solve_tridiagonal(lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve independent scalar tridiagonal chains along the last axis (LAPACK ``dgtsv``, one call per batch).

    ``lower[..., k]`` multiplies x[k-1] in row k (index 0 ignored), ``upper[..., k]`` multiplies x[k+1]
    (last index ignored). All arrays have the same shape (..., N).
    """
    shape = rhs.shape
    N = shape[-1]
    up = np.array(upper, dtype=float).reshape(-1, N)
    lo = np.array(lower, dtype=float).reshape(-1, N)
    up[:, -1] = 0.0
    lo[:, 0] = 0.0
    d = np.array(diag, dtype=float).reshape(-1)
    x, info = gtsv(lo.ravel()[1:], d, up.ravel()[:-1], np.array(rhs, dtype=float).reshape(-1, 1))
    if info != 0:
        raise ConvergenceError(f"singular tridiagonal system (LAPACK dgtsv info={info})")
    return x.reshape(shape)


def _inverse(m: np.ndarray) -> np.ndarray:
    """Inverse of small matrices stored as (C, C, B) (batch last); closed form for C <= 2."""
    C = m.shape[0]
    if C == 1:
        return 1.0 / m
    if C == 2:
        det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
        return np.stack([np.stack([m[1, 1], -m[0, 1]]), np.stack([-m[1, 0], m[0, 0]])]) / det
    return np.moveaxis(np.linalg.inv(np.moveaxis(m, -1, 0)), 0, -1)


def _mm(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Matrix product of batch-last stacks: (C, K, B) x (K, D, B) -> (C, D, B)."""
    return (p[:, :, None, :] * q[None, :, :, :]).sum(axis=1)


def block_thomas(lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Block Thomas algorithm vectorised over a batch: arrays (B, N, C, C) and rhs (B, N, C).

    Python loops over the N stages only; every operation acts on all B cases at once (batch-last layout so
    each stage's data is contiguous).
    """
    N = rhs.shape[1]
    Lo = np.ascontiguousarray(np.moveaxis(lower, 0, -1))  # (N, C, C, B)
    Di = np.ascontiguousarray(np.moveaxis(diag, 0, -1))
    Up = np.ascontiguousarray(np.moveaxis(upper, 0, -1))
    R = np.array(np.moveaxis(rhs, 0, -1))[:, :, None, :]  # (N, C, 1, B), a copy: eliminated in place
    inv = np.empty_like(Di)
    inv[0] = _inverse(Di[0])
    for k in range(1, N):
        m = _mm(Lo[k], inv[k - 1])
        inv[k] = _inverse(Di[k] - _mm(m, Up[k - 1]))
        R[k] -= _mm(m, R[k - 1])
    x = np.empty_like(R)
    x[-1] = _mm(inv[-1], R[-1])
    for k in range(N - 2, -1, -1):
        x[k] = _mm(inv[k], R[k] - _mm(Up[k], x[k + 1]))
    if not np.isfinite(x).all():
        raise ConvergenceError("singular stage Jacobian (block elimination)")
    return np.moveaxis(x[:, :, 0, :], -1, 0)


def solve_cascade_chains(E: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Ideal linear cascades: solve (1 + E_k) a_k - a_{k+1} - E_{k-1} a_{k-1} = rhs_k along the last axis.

    E (..., N) are stage extraction factors (organic/aqueous flow ratio of each component), rhs the feeds. The
    matrix is an M-matrix; eliminating from the top stage down, LAPACK's ``dgtsv`` never interchanges rows
    (every pivot is >= 1) and every operation adds positive numbers, so even flows 1e-250 times the feed come
    out with full relative accuracy. (Eliminating from stage 1 up pivots and loses the tiny flows.)
    """
    shape = rhs.shape
    n = shape[-1]
    Er = np.asarray(E, dtype=float)[..., ::-1]
    d = (1.0 + Er).ravel()
    # reversed order: row j couples to row j-1 (the stage above, coefficient -1) and to row j+1 (the stage
    # below, coefficient -E of that stage); no coupling across chains
    up = np.zeros(Er.shape)
    up[..., :-1] = -Er[..., 1:]
    dl = np.full(d.size - 1, -1.0)
    dl[n - 1 :: n] = 0.0
    b = np.array(np.asarray(rhs, dtype=float)[..., ::-1], order="C").reshape(
        -1, 1
    )  # a copy: dgtsv overwrites
    x, info = gtsv(dl, d, up.ravel()[:-1], b)
    out = x.reshape(shape)[..., ::-1]
    if info != 0 or not np.isfinite(out).all() or (out < 0).any():
        # extraction factors beyond ~1e15 lose the 1 of 1 + E against E in the pivots: redo the
        # elimination in the cancellation-free form
        return cascade_chains_positive(np.broadcast_to(np.asarray(E, dtype=float), shape), rhs)
    return out


def cascade_chains_positive(E: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """:func:`solve_cascade_chains` by an elimination that only adds and multiplies positive numbers.

    Eliminating from the top stage N down, the pivots are p_k = 1 + q_k with q_N = E_N and
    q_k = E_k q_k+1 / (1 + q_k+1) (the Schur complement 1 + E_k - E_k / p_k+1 written without its
    cancellation), the right-hand side r'_k = r_k + r'_k+1 / p_k+1, then a_1 = r'_1 / p_1 and
    a_k+1 = (r'_k+1 + E_k a_k) / p_k+1. Exact to rounding for any extraction factors (E_k >= 0) and
    non-negative feeds; a Python loop over the stages, numpy over the chains (slower than ``dgtsv``: the
    fallback when that loses the pivots).
    """
    E = np.asarray(E, dtype=float)
    r = np.array(rhs, dtype=float)
    n = r.shape[-1]
    with np.errstate(over="ignore", invalid="ignore"):
        return _positive_elimination(E, r, n)


def _positive_elimination(E: np.ndarray, r: np.ndarray, n: int) -> np.ndarray:
    """The two sweeps of :func:`cascade_chains_positive` (``r`` is overwritten)."""
    q = np.empty_like(r)
    q[..., -1] = E[..., -1]
    for k in range(n - 2, -1, -1):
        q[..., k] = E[..., k] * (q[..., k + 1] / (1.0 + q[..., k + 1]))
        r[..., k] += r[..., k + 1] / (1.0 + q[..., k + 1])
    a = np.empty_like(r)
    a[..., 0] = r[..., 0] / (1.0 + q[..., 0])
    for k in range(1, n):
        a[..., k] = (r[..., k] + E[..., k - 1] * a[..., k - 1]) / (1.0 + q[..., k])
    return a
