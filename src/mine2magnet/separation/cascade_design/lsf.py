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
:mod:`mine2magnet.separation.solvers.steady.loaded_separation_factor`, and the design's chosen point
is always re-checked with :func:`mine2magnet.separation.simulate`.

Units: mol/h for flows; λ dimensionless.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dgesv, dgetrf, dgetrs, dgtsv

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


@dataclass(frozen=True)
class CutBatch:
    """Profiles of B cascades sharing N stages and C components: aqueous and organic (B, N, C) flows leaving
    each stage, mol/h; per case: converged, Newton iterations, residual, mass-balance error, λ (B, N)."""

    aqueous: np.ndarray
    organic: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    mass_balance_error: np.ndarray
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


def _chain_diagonals(e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sub, diag, super) diagonals of K independent component chains o = e·a (e: (K, N)) stacked into one
    tridiagonal system of K·N unknowns, with zero coupling between consecutive chains.

    LAPACK's gtsv then solves all K chains in one call with exactly the arithmetic of K separate calls: at a
    chain boundary the sub-diagonal entry is 0, so there is no row interchange, the elimination multiplier is
    0 and the back substitution subtracts 0.
    """
    k, n = e.shape
    sub = -e
    sub[:, -1] = 0.0
    sup = np.full((k, n), -1.0)
    sup[:, -1] = 0.0
    return sub.ravel()[:-1], (1.0 + e).ravel(), sup.ravel()[:-1]


def _solve_chains(e: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve every chain's tridiagonal system (see :func:`_chain_diagonals`) for rhs (K, N) or (K, N, M) in
    one LAPACK gtsv call (partial pivoting); returns an array shaped like rhs."""
    k, n = e.shape
    dl, d, du = _chain_diagonals(e)
    b = np.array(rhs.reshape(k * n, -1), dtype=float, order="F")
    x, info = dgtsv(dl, d, du, b, 1, 1, 1, 1)[3:]
    if info != 0:
        raise np.linalg.LinAlgError(f"singular stage matrix (gtsv info {info})")
    return x.reshape(rhs.shape)


def _profiles(beta: np.ndarray, lam: np.ndarray, feed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Aqueous profiles a (C, N) for mixing factors lam (N,), and the per-component factors e = β λ (C, N)."""
    e = beta[:, None] * lam[None, :]  # (C, N): o = e * a
    return _solve_chains(e, feed.T), e


def _jacobian(beta: np.ndarray, lam: np.ndarray, a: np.ndarray, e: np.ndarray, s: np.ndarray) -> np.ndarray:
    """dr/d ln λ (N, N) of the residual r_k = ln(λ_k Σ_i β_i a_ik) − ln O_k at profiles a (C, N).

    d a_i / d ln λ_m = −T_i^{-1} d_m with d_m = β_i λ_m a_im (e_m − e_{m+1}); solved for all m and all
    components at once with the bidiagonal right-hand sides (no differences of inverse columns: no
    cancellation).
    """
    c, n = a.shape
    idx = np.arange(n)
    col = beta[:, None] * lam[None, :] * a  # (C, N)
    rhs = np.zeros((c, n, n))
    rhs[:, idx, idx] = col
    rhs[:, idx[1:], idx[:-1]] = -col[:, :-1]
    da = _solve_chains(e, rhs)
    jac = np.eye(n)
    for i in range(c):  # summed in component order, as the per-component form did
        jac -= (beta[i] / s)[:, None] * da[i]
    return jac


def _batch_states(
    beta: np.ndarray, u: np.ndarray, feed_t: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For B cascades at u = ln λ (B, N): residual r (B, N), profiles a ≥ 0 (B, C, N), factors e = β λ
    (B, C, N) and s = Σ_i β_i a_i (B, N); feed_t (B, C, N), target = ln O (B, N)."""
    b, c, n = feed_t.shape
    e = beta[None, :, None] * np.exp(u)[:, None, :]
    a = np.maximum(_solve_chains(e.reshape(b * c, n), feed_t.reshape(b * c, n)).reshape(b, c, n), 0.0)
    s = (beta[None, :, None] * a).sum(axis=1)
    return u + np.log(np.maximum(s, 1e-300)) - target, a, e, s


def _batch_jacobians(
    beta: np.ndarray, lam: np.ndarray, a: np.ndarray, e: np.ndarray, s: np.ndarray
) -> np.ndarray:
    """:func:`_jacobian` for B cascades (lam, s: (B, N); a, e: (B, C, N)): (B, N, N), all chains of all cases
    in one LAPACK call.

    The right-hand sides are built transposed, (N columns, B·C·N rows) in C order, which is the Fortran
    layout gtsv works in, so nothing is copied on the way in or out.
    """
    b, c, n = a.shape
    idx = np.arange(n)
    col = beta[None, :, None] * lam[:, None, :] * a  # (B, C, N)
    rhs_t = np.zeros((n, b, c, n))  # rhs_t[m, b, i, k] = right-hand side m of chain (b, i) at stage k
    rhs_t[idx, :, :, idx] = np.moveaxis(col, -1, 0)
    rhs_t[idx[:-1], :, :, idx[1:]] = -np.moveaxis(col[:, :, :-1], -1, 0)
    dl, d, du = _chain_diagonals(e.reshape(b * c, n))
    x, info = dgtsv(dl, d, du, rhs_t.reshape(n, b * c * n).T, 1, 1, 1, 1)[3:]
    if info != 0:
        raise np.linalg.LinAlgError(f"singular stage matrix (gtsv info {info})")
    da_t = x.T.reshape(n, b, c, n)  # da_t[m, b, i, k] = d a_ik / d ln λ_m (negated)
    w = beta[None, :, None] / s[:, None, :]  # (B, C, N)
    return np.eye(n) - np.einsum("bik,mbik->bkm", w, da_t)


#: Stall test of the batched search Newton: after STALL_WINDOW iterations, a case whose merit ‖r‖² has not
#: at least halved over the last STALL_WINDOW iterations is stopped (a local minimum of the merit, where the
#: backtracking takes ever smaller steps) and handed to the fallback solvers.
STALL_WINDOW = 5
#: A chord step (the LU factors of an earlier Jacobian, kept after a full Newton step that cut max |r| by at
#: least this factor) must cut max |r| by this factor too, else it is dropped and the Jacobian refreshed.
CHORD_CONTRACTION = 0.1


def solve_cuts(
    beta: np.ndarray,
    feed: np.ndarray,
    aq_totals: np.ndarray,
    org_totals: np.ndarray,
    lam0: np.ndarray,
    *,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
    stall: bool = True,
) -> CutBatch:
    """Newton on ln λ (the method of :func:`solve_cut`, without its homotopy) for B cascades at once.

    Args:
        beta: (C,) separation factors shared by the cascades.
        feed: (B, N, C) feed entering each stage, mol/h.
        aq_totals, org_totals: (B, N) RE totals leaving each stage, all > 0.
        lam0: (B, N) starts for λ, e.g. neighbouring solutions.
        stall: stop a case early when its merit stalls (see STALL_WINDOW); its ``converged`` is then False.

    Each case takes its own Newton steps and line search; the per-iteration linear algebra of all active
    cases is one LAPACK call for the profiles and one for the Jacobians. Does not raise on
    non-convergence: ``converged`` says per case.
    """
    beta = np.asarray(beta, dtype=float)
    feed = np.asarray(feed, dtype=float)
    nb, n, _ = feed.shape
    feed_t = np.ascontiguousarray(feed.transpose(0, 2, 1))
    fsum = feed.sum(axis=1)
    u = np.log(np.asarray(lam0, dtype=float))
    target = np.log(org_totals)
    r, a, e, s = _batch_states(beta, u, feed_t, target)
    norm = np.abs(r).max(axis=1)
    its = np.zeros(nb, dtype=int)
    # the working set: arrays of the active cases only (compacted when cases finish, written back then)
    act = np.flatnonzero(norm > tolerance)
    ua, ra, aa, ea, sa, na = u[act], r[act], a[act], e[act], s[act], norm[act]
    fa, ta = feed_t[act], target[act]
    history = [(ra * ra).sum(axis=1)]  # merit per iteration, aligned with the working set
    lu = np.empty((act.size, n, n))
    piv = np.empty((act.size, n), dtype=np.int32)
    kept = np.zeros(act.size, dtype=bool)  # the case's LU factors may be used again (a chord step)
    while act.size:
        its[act] += 1
        fresh = np.flatnonzero(~kept)
        solved = np.ones(act.size, dtype=bool)
        if fresh.size:
            jac = _batch_jacobians(beta, np.exp(ua[fresh]), aa[fresh], ea[fresh], sa[fresh])
            for j, i in enumerate(fresh):
                lu[i], piv[i], info = dgetrf(jac[j])[:3]
                solved[i] = info == 0
        chord = kept.copy()
        steps = np.zeros((act.size, n))
        for i in np.flatnonzero(solved):
            step = dgetrs(lu[i], piv[i], -ra[i])[0]
            if np.isfinite(step).all():
                steps[i] = step
            elif chord[i]:
                kept[i] = False  # refresh the Jacobian next time round (a zero step now)
            else:
                solved[i] = False  # a singular Newton step ends that case (as in the scalar Newton)
        big = np.abs(steps).max(axis=1)
        steps *= np.where(big > 2.0, 2.0 / np.maximum(big, 1e-300), 1.0)[:, None]
        merit = (ra * ra).sum(axis=1)
        t = np.ones(act.size)
        pending = np.flatnonzero(solved)
        while pending.size:
            whole = pending.size == act.size
            trial = (
                ua + steps if whole and (t == 1.0).all() else ua[pending] + t[pending, None] * steps[pending]
            )
            rn, an, en, sn = _batch_states(
                beta, trial, fa if whole else fa[pending], ta if whole else ta[pending]
            )
            new_merit = (rn * rn).sum(axis=1)
            tp = t[pending]
            # Armijo on the 2-norm merit, for which the Newton direction is a descent direction; a chord step
            # (old Jacobian) is taken whole if it contracts the residual, else dropped for a fresh Jacobian
            take = np.isfinite(new_merit) & ((new_merit <= (1.0 - 1e-4 * tp) * merit[pending]) | (tp < 1e-4))
            is_chord = chord[pending]
            contracts = np.abs(rn).max(axis=1) <= CHORD_CONTRACTION * na[pending]
            take = np.where(is_chord, take & contracts, take)
            drop = is_chord & ~take
            kept[pending[drop]] = False
            if take.all():
                ua[pending], ra[pending], aa[pending], ea[pending], sa[pending] = trial, rn, an, en, sn
                break
            done = pending[take]
            ua[done], ra[done] = trial[take], rn[take]
            aa[done], ea[done], sa[done] = an[take], en[take], sn[take]
            t[pending[~take]] *= 0.5
            pending = pending[~take & ~drop]
        old_norm = na
        na = np.abs(ra).max(axis=1)
        # keep the factors after a full Newton step that contracted strongly (the quadratic phase)
        kept = np.where(chord, kept, (t == 1.0) & (na <= CHORD_CONTRACTION * old_norm))
        merit_now = (ra * ra).sum(axis=1)
        history.append(merit_now)
        going = solved & (na > tolerance) & (its[act] < max_iterations)
        if stall and len(history) > STALL_WINDOW:
            going &= ~(merit_now > 0.5 * history[-1 - STALL_WINDOW])
        if going.all():
            continue
        out = ~going
        gone = act[out]
        u[gone], r[gone], a[gone], e[gone], s[gone], norm[gone] = (
            ua[out],
            ra[out],
            aa[out],
            ea[out],
            sa[out],
            na[out],
        )
        act = act[going]
        ua, ra, aa, ea, sa, na = ua[going], ra[going], aa[going], ea[going], sa[going], na[going]
        fa, ta, lu, piv, kept = fa[going], ta[going], lu[going], piv[going], kept[going]
        history = [h[going] for h in history[-STALL_WINDOW - 1 :]]
    lam = np.exp(u)
    aqueous = a.transpose(0, 2, 1)
    organic = (beta[None, :, None] * lam[:, None, :] * a).transpose(0, 2, 1)
    mbe = np.abs(aqueous[:, 0] + organic[:, -1] - fsum).sum(axis=1) / fsum.sum(axis=1)
    ok = (norm <= tolerance) & np.isfinite(norm) & (mbe < 1e-8)
    return CutBatch(aqueous, organic, ok, its, norm, mbe, lam)


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
    while norm > tolerance and it < max_iterations:
        it += 1
        lam = np.exp(u)
        jac = _jacobian(beta, lam, a, ab, s)
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
