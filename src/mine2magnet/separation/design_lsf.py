"""The loaded-separation-factor cut solved on the stage mixing factors: the design search's inner solver.

In Xu's constant-mixed-extraction-ratio cascade the totals leaving every stage are fixed by the flows
(A_k aqueous, O_k organic) and the organic leaving stage k is o_ik = λ_k β_i a_ik with one mixing factor per
stage, λ_k = O_k / Σ_j β_j a_jk. Given λ, each component's profile is linear: the stage balances
a_ik (1 + β_i λ_k) − a_i,k+1 − β_i λ_{k−1} a_i,k−1 = f_ik form a tridiagonal M-matrix system, so the profiles
are non-negative whatever λ > 0 is. The N unknowns ln λ_k are found by Newton's method on
r_k = ln(λ_k Σ_i β_i a_ik) − ln O_k with the exact dense Jacobian, built by solving each component's
tridiagonal system for a bidiagonal right-hand side (LAPACK gtsv); a backtracking line search on ‖r‖₂ keeps
the iteration globally convergent.
Derived here; an independent algorithm from the block-tridiagonal Newton of
:mod:`mine2magnet.separation.loaded_separation_factor`, and the design's chosen point is always re-checked
with :func:`mine2magnet.separation.simulate`.

Units: mol/h for flows; λ dimensionless.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dgesv, dgtsv

TOLERANCE = 1e-11
MAX_ITERATIONS = 60


@dataclass(frozen=True)
class CutSolution:
    """Profiles of one cascade: aqueous (N, C) and organic (N, C) flows leaving each stage, mol/h."""

    aqueous: np.ndarray
    organic: np.ndarray
    converged: bool
    iterations: int
    residual: float
    mass_balance_error: float
    mixing_factors: np.ndarray


def stage_totals(
    n_total: int, feed_stage: int, feed_total: float, organic: float, scrub: float, organic_feed: bool
) -> tuple[np.ndarray, np.ndarray]:
    """RE totals leaving each stage (A aqueous, O organic), mol/h, for one feed at ``feed_stage`` (1-based).

    S (``organic``) is the organic flow in the scrub section; W (``scrub``) the aqueous flow there. An
    aqueous feed adds to the aqueous flow of stages 1…feed_stage; an organic feed leaves S − F in the organic
    of the stages below it. The raffinate (stage 1 aqueous) is W + F − S and the extract (stage N organic)
    S − W.
    """
    k = np.arange(1, n_total + 1)
    aq = np.full(n_total, scrub, dtype=float)
    org = np.full(n_total, organic, dtype=float)
    if organic_feed:
        org[k < feed_stage] -= feed_total
    else:
        aq[k <= feed_stage] += feed_total
    aq[0] = scrub + feed_total - organic
    org[-1] = organic - scrub
    return aq, org


def _tridiagonal(e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sub, diag, super) diagonals of one component's stage matrix for o = e·a (e = β_i λ), each a copy."""
    return -e[:-1].copy(), 1.0 + e, -np.ones(e.size - 1)


def _solve(e: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve the component's tridiagonal system (LAPACK gtsv, partial pivoting) for rhs (N,) or (N, K)."""
    dl, d, du = _tridiagonal(e)
    x, info = dgtsv(dl, d, du, np.array(rhs, dtype=float, order="F"), 1, 1, 1, 1)[3:]
    if info != 0:
        raise np.linalg.LinAlgError(f"singular stage matrix (gtsv info {info})")
    return x


def _profiles(beta: np.ndarray, lam: np.ndarray, feed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Aqueous profiles a (C, N) for mixing factors lam (N,), and the per-component factors e = β λ (C, N)."""
    e = beta[:, None] * lam[None, :]  # (C, N): o = e * a
    a = np.empty((beta.size, lam.size))
    for i in range(beta.size):
        a[i] = _solve(e[i], feed[:, i])
    return a, e


#: Separation-factor homotopy β**t (t from 0 to 1), used when Newton from the plain start stalls: first step,
#: smallest step (halved on each failure, grown by half on each success), Newton iterations per step.
HOMOTOPY_FIRST_STEP = 0.125
HOMOTOPY_MIN_STEP = 1.0 / 4096
HOMOTOPY_ITERATIONS = 40


def solve_cut(
    beta: np.ndarray,
    feed: np.ndarray,
    aq_totals: np.ndarray,
    org_totals: np.ndarray,
    *,
    lam0: np.ndarray | None = None,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
) -> CutSolution:
    """Solve one loaded-separation-factor cascade.

    Args:
        beta: (C,) separation factors (relative).
        feed: (N, C) feed entering each stage, mol/h (aqueous and organic feeds enter the balances alike).
        aq_totals, org_totals: (N,) RE totals leaving each stage (see :func:`stage_totals`), all > 0.
        lam0: optional start for λ (N,), e.g. a neighbouring solution.

    When Newton from the given (or plain) start does not converge, the cut is solved again by continuation
    in the separation factors: β**t from t = 0 (all alike: λ = O/A exactly) up to 1, each step started from
    the previous solution, the step halved when Newton fails and grown when it succeeds. Does not raise on
    non-convergence: ``converged`` says.
    """
    beta = np.asarray(beta, dtype=float)
    fsum = feed.sum(axis=0)
    if lam0 is None:
        mean_beta = float((beta * fsum).sum() / fsum.sum())
        lam0 = org_totals / (aq_totals * mean_beta)
    sol = _newton(beta, feed, aq_totals, org_totals, np.asarray(lam0, dtype=float), tolerance, max_iterations)
    if sol.converged:
        return sol
    lam = org_totals / aq_totals
    iterations = sol.iterations
    t, dt = 0.0, HOMOTOPY_FIRST_STEP
    while t < 1.0:
        trial = min(1.0, t + dt)
        step = _newton(beta**trial, feed, aq_totals, org_totals, lam, tolerance, HOMOTOPY_ITERATIONS)
        iterations += step.iterations
        if step.converged:
            t, lam, dt = trial, step.mixing_factors, dt * 1.5
        elif dt > HOMOTOPY_MIN_STEP:
            dt /= 2.0
        else:
            return sol if sol.residual <= step.residual else step
    return CutSolution(
        step.aqueous, step.organic, True, iterations, step.residual, step.mass_balance_error, lam
    )


def _newton(
    beta: np.ndarray,
    feed: np.ndarray,
    aq_totals: np.ndarray,
    org_totals: np.ndarray,
    lam: np.ndarray,
    tolerance: float,
    max_iterations: int,
) -> CutSolution:
    """Newton's method on ln λ from ``lam`` with a backtracking line search (see the module docstring)."""
    n, c = feed.shape
    fsum = feed.sum(axis=0)
    u = np.log(lam)
    target = np.log(org_totals)

    def residual(u_: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        lam_ = np.exp(u_)
        a_, ab_ = _profiles(beta, lam_, feed)
        a_ = np.maximum(a_, 0.0)
        s_ = (beta[:, None] * a_).sum(axis=0)
        r_ = u_ + np.log(np.maximum(s_, 1e-300)) - target
        return r_, a_, ab_, s_

    r, a, ab, s = residual(u)
    norm = float(np.abs(r).max())
    it = 0
    idx = np.arange(n)
    while norm > tolerance and it < max_iterations:
        it += 1
        lam = np.exp(u)
        # d a_i / d ln λ_m = −T_i^{-1} d_m with d_m = β_i λ_m a_im (e_m − e_{m+1}); solved for all m at once
        # with the bidiagonal right-hand side (no differences of inverse columns: no cancellation)
        jac = np.eye(n)
        for i in range(c):
            col = beta[i] * lam * a[i]
            rhs = np.zeros((n, n))
            rhs[idx, idx] = col
            rhs[idx[1:], idx[:-1]] = -col[:-1]
            da = _solve(ab[i], rhs)
            jac -= (beta[i] / s)[:, None] * da
        # LAPACK gesv directly: on a loaded machine scipy's lu_factor wrapper was erratic (up to 100x slower)
        step, info = dgesv(jac, -r)[2:]
        if info != 0 or not np.isfinite(step).all():
            break
        big = float(np.abs(step).max())
        if big > 2.0:
            step *= 2.0 / big
        t = 1.0
        merit = float(r @ r)
        while True:
            r_new, a_new, ab_new, s_new = residual(u + t * step)
            new_merit = float(r_new @ r_new)
            # Armijo on the 2-norm merit, for which the Newton direction is a descent direction
            if np.isfinite(new_merit) and (new_merit <= (1.0 - 1e-4 * t) * merit or t < 1e-4):
                break
            t *= 0.5
        u = u + t * step
        r, a, ab, s = r_new, a_new, ab_new, s_new
        norm = float(np.abs(r).max())
    lam = np.exp(u)
    aqueous = a.T
    organic = (beta[:, None] * lam[None, :] * a).T
    out = aqueous[0] + organic[-1]
    mbe = float(np.abs(out - fsum).sum() / fsum.sum())
    ok = bool(norm <= tolerance and np.isfinite(norm) and mbe < 1e-8)
    return CutSolution(aqueous, organic, ok, it, norm, mbe, lam)
