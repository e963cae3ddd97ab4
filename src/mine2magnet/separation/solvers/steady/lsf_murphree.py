"""Xu's constant-flow (loaded-separation-factor) cascade with organic-phase Murphree stages.

Xu's model fixes the total rare-earth flows leaving each stage (aqueous A_k, organic O_k: the organic is
always saturated, :func:`.loaded_separation_factor.stage_totals`) and puts the organic leaving an ideal
stage in equilibrium with its aqueous, o*_ik = O_k beta_i a_ik / sum_j beta_j a_jk.
A stage of Murphree efficiency E moves the organic's *composition* a fraction E of the way from the
composition it enters with to that equilibrium one, the totals staying Xu's:

    balance i:   a_ik + o_ik - a_i,k+1 - o_i,k-1 = f_ik
    Murphree i:  o_ik = (1 - E_k) (O_k / O_k-1) o_i,k-1 + E_k o*_ik        (k >= 2)

(summed over i the Murphree rows give sum_i o_ik = O_k, so the totals hold). The barren organic entering
stage 1 has no composition: the first stage is taken at equilibrium (it loads the organic). An organic feed
joins the organic of its stage; the bypassed share keeps the composition of the organic arriving from below.
With every E = 1 this is the loaded-separation-factor cascade itself.

Unknowns ln a, ln o per stage (2C), Newton with the exact block-tridiagonal Jacobian, rows scaled by their
throughput, a line search on the scaled residual; started from the ideal cascade and continued in E from 1
to its value. Flows in mol/h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mine2magnet.errors import ConvergenceError
from mine2magnet.separation.solvers.steady.block_tridiagonal import solve_block_tridiagonal

#: Convergence: largest residual relative to its row's throughput.
TOLERANCE = 1e-11
#: Newton iterations per continuation step.
NEWTON_ITERATIONS = 60
#: Largest change of a log flow in one Newton step.
MAX_LOG_STEP = 2.0


@dataclass(frozen=True)
class MurphreeLsfSolution:
    """Flows leaving each stage (N, C), mol/h, with the solver's record."""

    aqueous: np.ndarray
    organic: np.ndarray
    iterations: int
    residual: float


def _residual(
    u: np.ndarray, v: np.ndarray, beta: np.ndarray, feed: np.ndarray, O: np.ndarray, eta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Residual rows (N, 2C), their scales, and the pieces the Jacobian needs."""
    a = np.exp(u)
    o = np.exp(v)
    N, C = a.shape
    ba = beta * a
    tot = ba.sum(1, keepdims=True)
    ostar = O[:, None] * ba / tot
    o_prev = np.vstack([np.zeros((1, C)), o[:-1]])
    a_next = np.vstack([a[1:], np.zeros((1, C))])
    ratio = np.ones(N)
    ratio[1:] = O[1:] / O[:-1]
    e = eta.copy()
    e[0] = 1.0  # the barren organic is loaded in the first stage
    keep = (1.0 - e)[:, None] * ratio[:, None] * o_prev
    move = e[:, None] * ostar
    r = np.empty((N, 2 * C))
    s = np.empty((N, 2 * C))
    r[:, :C] = a + o - a_next - o_prev - feed
    s[:, :C] = a + o + a_next + o_prev + feed
    r[:, C:] = o - keep - move
    s[:, C:] = o + keep + move
    return r, s, a, o, ostar, keep


def _jacobian(
    a: np.ndarray, o: np.ndarray, ostar: np.ndarray, keep: np.ndarray, beta: np.ndarray, eta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocks (lower, diag, upper), each (N, 2C, 2C), of d rows / d (ln a, ln o)."""
    N, C = a.shape
    ic = np.arange(C)
    iy = C + ic
    e = eta.copy()
    e[0] = 1.0
    lower = np.zeros((N, 2 * C, 2 * C))
    diag = np.zeros((N, 2 * C, 2 * C))
    upper = np.zeros((N, 2 * C, 2 * C))
    diag[:, ic, ic] = a
    diag[:, ic, iy] = o
    upper[:-1, ic, ic] = -a[1:]
    lower[1:, ic, iy] = -o[:-1]
    diag[:, iy, iy] = o
    lower[1:, iy, iy] = -keep[1:]
    # d o*_i / d ln a_j = o*_i (delta_ij - beta_j a_j / sum beta a)
    share = beta * a / (beta * a).sum(1, keepdims=True)
    dstar = ostar[:, :, None] * (np.eye(C)[None] - share[:, None, :])
    diag[:, C:, :C] = -e[:, None, None] * dstar
    return lower, diag, upper


def _newton(
    x: np.ndarray, beta: np.ndarray, feed: np.ndarray, O: np.ndarray, eta: np.ndarray, max_iter: int
) -> tuple[np.ndarray, bool, int, float]:
    C = feed.shape[1]
    r, s, a, o, ostar, keep = _residual(x[:, :C], x[:, C:], beta, feed, O, eta)
    floor = 1e-30 * float(feed.sum())
    w = 1.0 / (s + floor)
    res = float(np.abs(r * w).max())
    for it in range(max_iter):
        if res < TOLERANCE:
            return x, True, it, res
        lower, diag, upper = _jacobian(a, o, ostar, keep, beta, eta)
        inv = w[:, :, None]
        try:
            dx = solve_block_tridiagonal(
                (lower * inv)[None], (diag * inv)[None], (upper * inv)[None], (-r * w)[None]
            )[0]
        except ConvergenceError:
            return x, False, it, res
        if not np.isfinite(dx).all():
            return x, False, it, res
        merit = float(np.sqrt(((r * w) ** 2).sum()))
        t = min(1.0, MAX_LOG_STEP / max(float(np.abs(dx).max()), 1e-300))
        for _ in range(40):
            trial = x + t * dx
            r2, s2, a2, o2, ostar2, keep2 = _residual(trial[:, :C], trial[:, C:], beta, feed, O, eta)
            m2 = float(np.sqrt(((r2 * w) ** 2).sum()))
            if np.isfinite(m2) and m2 <= merit * (1.0 - 1e-4 * t):
                break
            t *= 0.5
        else:
            return x, False, it, res
        x, r, s, a, o, ostar, keep = trial, r2, s2, a2, o2, ostar2, keep2
        w = 1.0 / (s + floor)
        res = float(np.abs(r * w).max())
    return x, res < TOLERANCE, max_iter, res


def solve_lsf_murphree(
    beta: np.ndarray,
    feed: np.ndarray,
    organic_totals: np.ndarray,
    efficiency: np.ndarray,
    ideal_aqueous: np.ndarray,
    ideal_organic: np.ndarray,
) -> MurphreeLsfSolution:
    """Solve one cascade with Murphree stages, continuing from its ideal (E = 1) solution.

    Args:
        beta: (C,) separation factors of the components present.
        feed: (N, C) feed per stage (either phase), mol/h.
        organic_totals: (N,) Xu's organic RE flow leaving each stage, mol/h.
        efficiency: (N,) Murphree efficiency per stage, 0 < E <= 1.
        ideal_aqueous, ideal_organic: (N, C) the ideal cascade's flows (the start), mol/h.

    Raises:
        ConvergenceError: if the continuation in E does not reach the target efficiency.
    """
    target = np.asarray(efficiency, dtype=float)
    tiny = 1e-300
    x = np.hstack([np.log(np.maximum(ideal_aqueous, tiny)), np.log(np.maximum(ideal_organic, tiny))])
    total = 0
    done, step = 0.0, 1.0
    res = 0.0
    while done < 1.0:
        level = min(1.0, done + step)
        eta = 1.0 - level * (1.0 - target)
        x_new, ok, it, res = _newton(x, beta, feed, organic_totals, eta, NEWTON_ITERATIONS)
        total += it
        if ok:
            x, done, step = x_new, level, min(1.0, 2.0 * step)
        else:
            step *= 0.25
            if step < 1e-4:
                raise ConvergenceError(
                    "loaded-separation-factor cascade with Murphree stages did not converge",
                    residual=res,
                    iterations=total,
                )
    C = feed.shape[1]
    return MurphreeLsfSolution(np.exp(x[:, :C]), np.exp(x[:, C:]), total, res)
