"""Xu Guangxian's constant mixed-extraction-ratio cascade (the ``loaded-separation-factor`` model).

The organic carries a fixed rare-earth flow S between the stages of the scrub section (and the extraction
section when the feed is aqueous); metal-free scrub liquor entering stage N = n+m carries a fixed flow W down
the scrub section. Every stage's outgoing totals are then fixed by mass balance (:func:`stage_totals`), and
only the composition is unknown: in each stage the outgoing organic follows

    y_i = beta_i x_i / sum_j beta_j x_j          (x, y: mole fractions of the outgoing aqueous, organic)

so, in flows (a: aqueous, o: organic, mol/h), ``o_ik = O_k beta_i a_ik / sum_j beta_j a_jk``.

:func:`solve_lsf` solves a batch of cascades that share N stages and C components (any feed layout). Two
components: Newton on each stage's composition logit (scalar tridiagonal). Three or more: for wide spreads
(ln(beta_max/beta_min) x N > WIDE_SPREAD) shooting from both outlets first (:mod:`lsf_shooting`, single feed
stage), otherwise Newton on the log-ratios of the compositions to each stage's dominant component
(block-tridiagonal, one banded LAPACK call per iteration for the batch), then shooting, then a homotopy in
the spread of the separation factors, then Newton on u = ln(a) with a pseudo-transient mode and Newton on the
stage factors as last resorts. ``simulate`` and ``simulate_batch`` solve two-component cascades with the exact
one-unknown formulation of :mod:`binary_lsf` first and come here only if it does not converge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mine2magnet.separation.solvers.steady.block_tridiagonal import (
    gtsv,
    solve_block_tridiagonal,
    solve_cascade_chains,
)
from mine2magnet.separation.solvers.steady.lsf_shooting import (
    ShootingCascade,
    shooting_profiles,
    solve_shooting,
)

#: Convergence tolerance on the row-scaled stage residual (relative to each equation's throughput).
TOLERANCE = 1e-12
MAX_ITERATIONS = 100
MAX_LOG_STEP = 2.0
BINARY_START_SWEEPS = 3
#: Stage flows below this fraction of the case's total feed are nil: not resolved relatively (far below any
#: assay) and not counted towards convergence; lets 200-stage, wide-beta cascades underflow harmlessly.
NEGLIGIBLE = 1e-30
BINARY_MAX_STEP = 5.0
#: ln(beta_max / beta_min) x stages above which a cascade is solved by shooting first (lsf_shooting):
#: trace flows may then fall below e^-200 of the feed, where the composition Newton tends to stall.
WIDE_SPREAD = 200.0
PTC_MAX_STEP = 5.0


@dataclass(frozen=True)
class LsfSolution:
    """Stage profiles of a batch of cascades, shape (B, N, C) in mol/h; per-case convergence and balance."""

    aqueous: np.ndarray
    organic: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    mass_balance_error: np.ndarray


def stage_totals(
    S: np.ndarray, W: np.ndarray, feed_aq: np.ndarray, feed_org: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Total rare-earth flows leaving each stage, (A aqueous, O organic), each shape (B, N), mol/h.

    S is the organic flow in the scrub section (and, for an aqueous feed, everywhere); the organic flow below
    an organic feed is S minus that feed. W is the aqueous flow in the scrub section. Hence the raffinate
    leaves stage 1 with W + F - S and the loaded organic leaves stage N with S - W.
    """
    fa = feed_aq.sum(axis=-1)
    fo = feed_org.sum(axis=-1)
    aq_from_k = np.flip(np.cumsum(np.flip(fa, -1), -1), -1)  # sum_{j>=k} Fa_j
    org_from_k = np.flip(np.cumsum(np.flip(fo, -1), -1), -1)
    A = W[:, None] + aq_from_k
    O = S[:, None] - (org_from_k - fo)
    A[:, 0] = W + fa.sum(-1) + fo.sum(-1) - S
    O[:, -1] = S - W
    return A, O


def stage_balance_residual(aqueous: np.ndarray, organic: np.ndarray, feed: np.ndarray) -> float:
    """Largest stage-balance error of one cascade's profile, relative to each balance's own throughput.

    aqueous, organic, feed: (N, C) flows leaving / entering each stage, mol/h (barren organic enters stage
    1, barren scrub liquor stage N). Flows below NEGLIGIBLE of the total feed count as nil, as in the solver.
    """
    g = aqueous + organic - feed
    s = aqueous + organic + feed
    g[:-1] -= aqueous[1:]
    g[1:] -= organic[:-1]
    s[:-1] += aqueous[1:]
    s[1:] += organic[:-1]
    s += NEGLIGIBLE * feed.sum()
    return float(np.max(np.abs(g) / s))


def _bubble_point_start(
    beta: np.ndarray,
    feed: np.ndarray,
    A: np.ndarray,
    O: np.ndarray,
    tolerance: float = 1e-2,
    sweeps: int = 60,
) -> np.ndarray:
    """A positive start (B, N, C) by bubble-point sweeps (Wang-Henke, the classic constant-flow method).

    For fixed stage factors lam_k the cascade is linear per component, o_ik = E_ik a_ik with
    E_ik = beta_i lam_k, and its tridiagonal matrix is an M-matrix, so the flows come out positive. Then
    lam_k = O_k / (A_k sum_j beta_j x_jk) with x the normalised aqueous composition, and repeat until the
    stage totals agree with A_k to ``tolerance``. Converges linearly and robustly; Newton then polishes.
    """
    ftot = feed.sum(axis=1)  # (B, C)
    beta_mean = (beta * ftot).sum(-1) / ftot.sum(-1)
    lam = O / (A * beta_mean[:, None])  # (B, N)
    tiny = 1e-250 * ftot.sum(-1)[:, None, None]
    rhs = np.transpose(feed, (0, 2, 1))
    a = np.empty_like(feed)
    for _ in range(sweeps):
        E = np.transpose(beta[:, None, :] * lam[:, :, None], (0, 2, 1))  # (B, C, N)
        a = np.maximum(np.transpose(solve_cascade_chains(E, rhs), (0, 2, 1)), tiny)
        total = a.sum(-1)
        if np.abs(total / A - 1.0).max() < tolerance:
            break
        lam = O * total / (A * (beta[:, None, :] * a).sum(-1))
    return a


def _residual(
    u: np.ndarray, beta3: np.ndarray, feed: np.ndarray, O3: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stage balances g (B, N, C), their throughput scale, and a, o, y at u = ln a."""
    a = np.exp(u)
    ba = beta3 * a
    y = ba / ba.sum(-1, keepdims=True)
    o = O3 * y
    g = a + o - feed
    scale = a + o + feed
    g[:, :-1] -= a[:, 1:]
    g[:, 1:] -= o[:, :-1]
    scale[:, :-1] += a[:, 1:]
    scale[:, 1:] += o[:, :-1]
    return g / scale, scale, a, o, y


def _expit(u: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-u) without overflow."""
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _binary_state(u: np.ndarray, r: np.ndarray, A: np.ndarray, O: np.ndarray, f1: np.ndarray, f0: np.ndarray):
    """Residual of the binary balances (in the smaller component's own flows), its scale, and x, 1 - x, den.

    x is the aqueous fraction of component 1 (logit u), y = r x / den with den = 1 + (r - 1) x.
    """
    e = np.exp(-np.abs(u))
    inv = 1.0 / (1.0 + e)
    pos = u >= 0
    x = np.where(pos, inv, e * inv)
    x0 = np.where(pos, e * inv, inv)  # 1 - x, accurate when x -> 1
    den = 1.0 + (r - 1.0) * x
    Oden = O / den
    ax, oy = A * x, Oden * r * x
    ax0, oy0 = A * x0, Oden * x0  # O (1 - y)
    # component 0's balance is minus component 1's (fixed totals); evaluate each row with the smaller
    # component's own flows, so a trace component's balance is not lost in the rounding of the major one
    g1 = ax + oy - f1
    g1[:, :-1] -= ax[:, 1:]
    g1[:, 1:] -= oy[:, :-1]
    g0 = ax0 + oy0 - f0
    g0[:, :-1] -= ax0[:, 1:]
    g0[:, 1:] -= oy0[:, :-1]
    s1 = ax + oy + f1
    s1[:, :-1] += ax[:, 1:]
    s1[:, 1:] += oy[:, :-1]
    s0 = ax0 + oy0 + f0
    s0[:, :-1] += ax0[:, 1:]
    s0[:, 1:] += oy0[:, :-1]
    trace0 = s0 < s1
    return np.where(trace0, -g0, g1), np.where(trace0, s0, s1), x, x0, den


def _solve_binary(
    beta: np.ndarray, feed: np.ndarray, A: np.ndarray, O: np.ndarray, tolerance: float, max_iterations: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two components: one unknown per stage, u_k = logit of component 1's aqueous fraction.

    Totals are fixed, so component 0's balance follows from component 1's; the Jacobian is scalar tridiagonal
    (one LAPACK ``dgtsv`` call per iteration for the whole batch). Rows are scaled by the smaller component's
    throughput, so both components, including a trace one, converge relatively.
    """
    B = feed.shape[0]
    r = (beta[:, 1] / beta[:, 0])[:, None]
    f1, f0 = feed[..., 1], feed[..., 0]
    a = _bubble_point_start(beta, feed, A, O, sweeps=BINARY_START_SWEEPS)
    u = np.log(a[..., 1]) - np.log(a[..., 0])
    converged = np.zeros(B, dtype=bool)
    iterations = np.zeros(B, dtype=int)
    residual = np.full(B, np.inf)
    act = np.arange(B)
    ua, ra, Aa, Oa, f1a, f0a = u, r, A, O, f1, f0
    g, s, x, x0, den = _binary_state(ua, ra, Aa, Oa, f1a, f0a)
    nil = NEGLIGIBLE * feed.sum(axis=(1, 2))[:, None]
    nila = nil
    for it in range(max_iterations + 1):
        rel = np.abs(g / (s + nila)).max(axis=1)
        residual[act] = rel
        done = rel < tolerance
        if done.any() or it == max_iterations:
            u[act] = ua
            converged[act[done]] = True
            iterations[act] = it
            if done.all() or it == max_iterations:
                break
            k = ~done
            act = act[k]
            ua, ra, Aa, Oa, f1a, f0a, nila = ua[k], ra[k], Aa[k], Oa[k], f1a[k], f0a[k], nila[k]
            g, s, x, x0, den = g[k], s[k], x[k], x0[k], den[k]
        dx = x * x0
        adx = Aa * dx
        ody = Oa * ra * dx / (den * den)
        inv_s = 1.0 / s
        upper = np.zeros_like(adx)  # upper[k]: row k-1's coefficient on u_k
        upper[:, 1:] = -adx[:, 1:] * inv_s[:, :-1]
        lower = np.zeros_like(ody)  # lower[k]: row k+1's coefficient on u_k
        lower[:, :-1] = -ody[:, :-1] * inv_s[:, 1:]
        band = (lower.ravel()[:-1], ((adx + ody) * inv_s).ravel(), upper.ravel()[1:])

        def newton_correction(residual: np.ndarray, band=band, inv_s=inv_s) -> np.ndarray:
            """-J^-1 residual with this iteration's Jacobian (dgtsv overwrites, so it gets copies)."""
            x_, info = gtsv(*(b.copy() for b in band), (-residual * inv_s).reshape(-1, 1))
            return x_.reshape(residual.shape) if info == 0 else np.full(residual.shape, np.nan)

        du = newton_correction(g)
        du = np.clip(np.where(np.isfinite(du), du, 0.0), -1e6, 1e6)
        merit = np.sqrt(((g / s) ** 2).sum(axis=1))
        norm_du = np.sqrt((du * du).sum(axis=1))
        t = np.minimum(1.0, BINARY_MAX_STEP / np.maximum(np.abs(du).max(axis=1), 1e-300))
        trial = np.clip(ua + du * t[:, None], -600.0, 600.0)  # fractions down to 1e-260
        g2, s2, x2, x02, den2 = _binary_state(trial, ra, Aa, Oa, f1a, f0a)
        for _ in range(12):
            # natural monotonicity test (Deuflhard): the simplified Newton correction at the trial point, with
            # this iteration's Jacobian, must shrink; unlike a residual norm it is not fooled by the
            # ill-conditioning of high-reflux cascades
            # a step that cuts the scaled residual norm is taken at once; the others must pass the test
            worse = ~(np.sqrt(((g2 / s) ** 2).sum(axis=1)) < 0.5 * merit)
            if worse.any():
                bar = np.clip(np.nan_to_num(newton_correction(g2), nan=1e6), -1e6, 1e6)
                worse &= ~(np.sqrt((bar * bar).sum(axis=1)) <= (1.0 - 0.25 * t) * norm_du)
            if not worse.any():
                break
            t = np.where(worse, 0.5 * t, t)
            trial = np.where(worse[:, None], ua + du * t[:, None], trial)
            trial = np.clip(trial, -600.0, 600.0)
            g2, s2, x2, x02, den2 = _binary_state(trial, ra, Aa, Oa, f1a, f0a)
        ua, g, s, x, x0, den = trial, g2, s2, x2, x02, den2
    x, x0 = _expit(u), _expit(-u)
    den = 1.0 + (r - 1.0) * x
    aq = np.stack([A * x0, A * x], axis=-1)
    org = np.stack([O * x0 / den, O * r * x / den], axis=-1)
    return aq, org, converged, iterations, residual


def _chain_flows(beta: np.ndarray, lam: np.ndarray, feed: np.ndarray) -> np.ndarray:
    """Aqueous flows (B, C, N) of the linear cascades o_ik = beta_i lam_k a_ik (positive, accurate)."""
    E = beta[:, :, None] * lam[:, None, :]
    return solve_cascade_chains(E, np.transpose(feed, (0, 2, 1)))


def _solve_stage_factors(
    beta: np.ndarray, feed: np.ndarray, A: np.ndarray, O: np.ndarray, max_iterations: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Robust fallback: Newton on the stage factors ln lam_k with the component flows eliminated.

    For given lam every component's cascade is linear (o_ik = beta_i lam_k a_ik) and solved exactly; the N
    unknowns ln lam_k must make the stage totals right, R_k = ln(sum_i a_ik / A_k) = 0 (which, by the summed
    balances, also makes sum_i o_ik = O_k). The dense N x N Jacobian comes from the inverse of each
    component's tridiagonal matrix: d a_i / d lam_l = -beta_i a_il T_i^-1 (e_l - e_l+1). This is the classic
    Newton-on-stage-temperatures method for constant-flow columns; it is well conditioned where Newton on the
    flows is not. Returns (flows (B, N, C), converged (B,)).
    """
    B, N, C = feed.shape
    ftot = feed.sum(axis=1)
    lam = O / (A * ((beta * ftot).sum(-1) / ftot.sum(-1))[:, None])
    eye = np.eye(N)
    ok = np.zeros(B, dtype=bool)
    a = _chain_flows(beta, lam, feed)
    for _ in range(max_iterations):
        tot = a.sum(axis=1)  # (B, N)
        R = np.log(tot / A)
        if (np.abs(R).max(axis=1) < 1e-13).all():
            ok[:] = True
            break
        # T_i^-1 for every case and component: the chains solved against the identity
        E = np.repeat((beta[:, :, None] * lam[:, None, :])[:, :, None, :], N, axis=2)  # (B, C, N rhs, N)
        Z = solve_cascade_chains(E, np.broadcast_to(eye, (B, C, N, N)))  # Z[b,i,l,:] = T_i^-1 e_l
        v = beta[:, :, None] * a  # (B, C, N)
        dZ = Z.copy()
        dZ[:, :, :-1, :] -= Z[:, :, 1:, :]  # T^-1 (e_l - e_l+1)
        # J[b, k, l] = d R_k / d ln lam_l = -(1/tot_k) sum_i v_il lam_l dZ[b, i, l, k]
        J = -np.einsum("bil,bilk->bkl", v * lam[:, None, :], dZ) / tot[:, :, None]
        try:
            step = np.linalg.solve(J, -R[..., None])[..., 0]
        except np.linalg.LinAlgError:
            break
        step = np.clip(step, -2.0, 2.0)
        norm = np.sqrt((R * R).sum(1))
        t = np.ones(B)
        for _ in range(20):
            trial = lam * np.exp(step * t[:, None])
            a_new = _chain_flows(beta, trial, feed)
            r_new = np.log(a_new.sum(axis=1) / A)
            bad = ~(np.sqrt((r_new * r_new).sum(1)) < norm * (1 - 1e-4 * t))
            if not bad.any():
                break
            t = np.where(bad, 0.5 * t, t)
        lam, a = trial, a_new
    tot = a.sum(axis=1)
    ok = np.abs(np.log(tot / A)).max(axis=1) < 1e-10
    return np.transpose(a, (0, 2, 1)), ok


def _polish(
    u: np.ndarray, beta: np.ndarray, feed: np.ndarray, O: np.ndarray, tolerance: float, iterations: int = 8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A few plain Newton steps on the log flows from a converged stage-factor solution."""
    C = feed.shape[2]
    eye = np.eye(C)
    b3, O3 = beta[:, None, :], O[:, :, None]
    r, scale, a, o, y = _residual(u, b3, feed, O3)
    for _ in range(iterations):
        if np.abs(r).max() < tolerance:
            break
        dO = o[..., :, None] * (eye - y[..., None, :])
        inv = 1.0 / scale[..., :, None]
        diag = (dO + a[..., :, None] * eye) * inv
        lower = np.zeros_like(dO)
        lower[:, 1:] = -dO[:, :-1] * inv[:, 1:]
        upper = np.zeros_like(dO)
        upper[:, :-1] = -(a[:, 1:, :, None] * eye) * inv[:, :-1]
        u = u + solve_block_tridiagonal(lower, diag, upper, -r)
        r, scale, a, o, y = _residual(u, b3, feed, O3)
    rel = np.abs(r).max(axis=(1, 2))
    return u, rel < tolerance, rel


def solve_lsf(
    beta: np.ndarray,
    feed_aq: np.ndarray,
    feed_org: np.ndarray,
    S: np.ndarray,
    W: np.ndarray,
    *,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
) -> LsfSolution:
    """Solve a batch of loaded-separation-factor cascades sharing N stages and C components.

    Args:
        beta: (B, C) separation factors (relative).
        feed_aq, feed_org: (B, N, C) feed flows per stage, mol/h, entering in the aqueous / organic phase.
        S, W: (B,) organic flow in the scrub section and scrub-liquor flow, mol/h.

    Every component must have a positive total feed and every stage total (see :func:`stage_totals`) must be
    positive; the caller checks both. Does not raise on non-convergence: ``converged`` says per case.
    """
    beta = np.asarray(beta, dtype=float)
    feed_aq = np.asarray(feed_aq, dtype=float)
    feed_org = np.asarray(feed_org, dtype=float)
    feed = feed_aq + feed_org
    _, _, C = feed.shape
    A, O = stage_totals(np.asarray(S, float), np.asarray(W, float), feed_aq, feed_org)
    if C == 2:
        a, o, converged, iterations, residual = _solve_binary(beta, feed, A, O, tolerance, max_iterations)
        failed = np.flatnonzero(~converged)
        if failed.size:  # the general solver (pseudo-transient and stage-factor fallbacks) takes over
            sub = _solve_general(beta[failed], feed[failed], A[failed], O[failed], tolerance, max_iterations)
            a[failed], o[failed] = sub.aqueous, sub.organic
            converged[failed], residual[failed] = sub.converged, sub.residual
            iterations[failed] += sub.iterations
        fin = feed.sum(axis=1)
        mbe = np.abs(fin - a[:, 0, :] - o[:, -1, :]).sum(-1) / fin.sum(-1)
        return LsfSolution(a, o, converged, iterations, residual, mbe)
    return _solve_general(beta, feed, A, O, tolerance, max_iterations)


def _alr_state(
    u: np.ndarray, ref: np.ndarray, beta: np.ndarray, A: np.ndarray, O: np.ndarray, feed: np.ndarray
):
    """Compositions from additive log-ratios u (B, N, C) (0 for the reference), balances and scales."""
    m = u.max(axis=-1, keepdims=True)
    e = np.exp(u - m)
    x = e / e.sum(-1, keepdims=True)
    bx = beta[:, None, :] * x
    y = bx / bx.sum(-1, keepdims=True)
    a = A[:, :, None] * x
    o = O[:, :, None] * y
    g = a + o - feed
    g[:, :-1] -= a[:, 1:]
    g[:, 1:] -= o[:, :-1]
    sc = a + o + feed
    sc[:, :-1] += a[:, 1:]
    sc[:, 1:] += o[:, :-1]
    return g, sc, x, y


def _solve_compositions(
    beta: np.ndarray,
    feed: np.ndarray,
    A: np.ndarray,
    O: np.ndarray,
    tolerance: float,
    max_iterations: int,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Newton on the stage compositions (additive log-ratios to a reference component), totals fixed.

    The C-1 balances of the non-reference components are the equations (the reference's follows from the
    fixed totals); d x_i/d u_j = x_i (delta_ij - x_j) and d y_i/d u_j = y_i (delta_ij - y_j). Same damping
    as the binary solver (natural monotonicity test). Returns (log flows (B, N, C), converged, iterations,
    residual); convergence also checks the reference component's own balance relative to its own flows.
    """
    B, N, C = feed.shape
    ref = feed.sum(axis=1).argmax(axis=1)  # (B,)
    la = np.log(_bubble_point_start(beta, feed, A, O, tolerance=1e-3, sweeps=200)) if start is None else start
    u = la - np.take_along_axis(la, ref[:, None, None].repeat(N, 1), axis=2)
    eyeP = np.eye(C - 1)
    comps = np.arange(C)

    def take(arr: np.ndarray, index: np.ndarray) -> np.ndarray:
        return np.take_along_axis(arr, index, axis=-1)

    converged = np.zeros(B, dtype=bool)
    iterations = np.full(B, max_iterations)
    residual = np.full(B, np.inf)
    g, sc, x, y = _alr_state(u, ref, beta, A, O, feed)
    nil = NEGLIGIBLE * feed.sum(axis=(1, 2))[:, None, None]
    for it in range(max_iterations + 1):
        rel = np.abs(g / (sc + nil)).max(axis=(1, 2))
        newly = (rel < tolerance) & ~converged
        iterations[newly] = it
        converged |= rel < tolerance
        residual = np.where(converged, np.minimum(residual, rel), rel)
        if converged.all() or it == max_iterations:
            break
        # per stage, the dominant component is the reference: its balance (implied by the fixed totals) is
        # then the best resolved one, and every trace component has its own equation
        ref_k = x.argmax(axis=-1)  # (B, N)
        u = u - take(u, ref_k[..., None])
        idx = np.sort(np.where(comps == ref_k[..., None], C, comps), axis=-1)[..., : C - 1]  # (B, N, C-1)
        xs, ys = take(x, idx), take(y, idx)
        dxa = A[:, :, None, None] * xs[..., :, None] * (eyeP - xs[..., None, :])
        dyo = O[:, :, None, None] * ys[..., :, None] * (eyeP - ys[..., None, :])
        s_nr = take(sc, idx)
        inv = 1.0 / s_nr[..., :, None]
        diag = (dxa + dyo) * inv
        lower = np.zeros_like(diag)
        upper = np.zeros_like(diag)
        if N > 1:
            x_rows = take(x[:, 1:], idx[:, :-1])  # x at stage k+1, rows of stage k
            x_cols = take(x[:, 1:], idx[:, 1:])
            same = (idx[:, :-1, :, None] == idx[:, 1:, None, :]).astype(float)
            upper[:, :-1] = (
                -A[:, 1:, None, None] * x_rows[..., :, None] * (same - x_cols[..., None, :]) * inv[:, :-1]
            )
            y_rows = take(y[:, :-1], idx[:, 1:])  # y at stage k-1, rows of stage k
            y_cols = take(y[:, :-1], idx[:, :-1])
            same = (idx[:, 1:, :, None] == idx[:, :-1, None, :]).astype(float)
            lower[:, 1:] = (
                -O[:, :-1, None, None] * y_rows[..., :, None] * (same - y_cols[..., None, :]) * inv[:, 1:]
            )
        r = take(g, idx) / s_nr
        du_nr = np.clip(np.nan_to_num(solve_block_tridiagonal(lower, diag, upper, -r), nan=0.0), -1e6, 1e6)
        du_nr[converged] = 0.0
        norm_du = np.sqrt((du_nr * du_nr).sum(axis=(1, 2)))
        t = np.minimum(1.0, BINARY_MAX_STEP / np.maximum(np.abs(du_nr).max(axis=(1, 2)), 1e-300))
        du = np.zeros_like(u)
        np.put_along_axis(du, idx, du_nr, axis=-1)
        trial = np.clip(u + du * t[:, None, None], -600.0, 600.0)
        g2, sc2, x2, y2 = _alr_state(trial, ref, beta, A, O, feed)
        for _ in range(12):
            merit_ok = np.sqrt(((take(g2, idx) / s_nr) ** 2).sum(axis=(1, 2))) < 0.5 * np.sqrt(
                (r * r).sum(axis=(1, 2))
            )
            worse = ~merit_ok & ~converged
            if worse.any():
                bar = solve_block_tridiagonal(lower, diag, upper, -take(g2, idx) / s_nr)
                bar = np.clip(np.nan_to_num(bar, nan=1e6), -1e6, 1e6)
                worse &= ~(np.sqrt((bar * bar).sum(axis=(1, 2))) <= (1.0 - 0.25 * t) * norm_du)
            if not worse.any():
                break
            t = np.where(worse, 0.5 * t, t)
            trial = np.where(worse[:, None, None], np.clip(u + du * t[:, None, None], -600.0, 600.0), trial)
            g2, sc2, x2, y2 = _alr_state(trial, ref, beta, A, O, feed)
        u, g, sc, x, y = trial, g2, sc2, x2, y2
    la = np.log(np.maximum(A[:, :, None] * x, 1e-300))
    return la, converged, iterations, residual


def _beta_homotopy(
    beta: np.ndarray, feed: np.ndarray, A: np.ndarray, O: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Continuation in the spread of the separation factors: beta^s for s from 0 to 1.

    At s = 0 every component behaves alike and each stage holds the feed composition (exact); the solution
    moves smoothly with s, so each step starts Newton (on the compositions) next to its answer. Steps double
    after a success and shrink fourfold after a failure. For wide spreads (P507 La..Lu spans beta ~ 6000)
    where the bubble-point start diverges. Returns (log flows, converged, Newton iterations).
    """
    fcomp = feed.sum(axis=1) / feed.sum(axis=(1, 2))[:, None]
    la = np.log(np.maximum(A[:, :, None] * fcomp[:, None, :], 1e-300))
    level, step, total = 0.0, 0.25, 0
    ok = np.ones(beta.shape[0], dtype=bool)
    while level < 1.0:
        target = min(1.0, level + step)
        lb, okb, its, _ = _solve_compositions(beta**target, feed, A, O, tolerance, 25, start=la)
        total += int(its.max())
        if okb.all():
            la, level = lb, target
            step = min(1.0, 2.0 * step)
        else:
            step *= 0.25
            if step < 1e-3:
                ok[:] = False
                break
    return la, ok, total


def _flows_from_log(la: np.ndarray, beta: np.ndarray, O: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Aqueous flows exp(la) (B, N, C) and the organic in equilibrium with them, mol/h."""
    a = np.exp(la)
    ba = beta[:, None, :] * a
    return a, O[:, :, None] * ba / ba.sum(-1, keepdims=True)


def _solve_case_by_shooting(
    beta: np.ndarray, feed: np.ndarray, A: np.ndarray, O: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray, int, float] | None:
    """One case (feed (N, C), totals (N,)) by :mod:`lsf_shooting`; None if it does not apply or converge.

    Applies to a single feed stage with every component fed. The stage totals encode the feed phase: the
    organic below the feed is O_1, the aqueous above it A_{f+1}.
    """
    stages = np.flatnonzero(feed.sum(axis=1) > 0)
    f_total = feed.sum(axis=0)
    if stages.size != 1 or not (f_total > 0).all():
        return None
    N = feed.shape[0]
    f = int(stages[0]) + 1
    cascade = ShootingCascade(
        beta=beta,
        feed=f_total,
        stages=N,
        feed_stage=f,
        raffinate_total=float(A[0]),
        organic_below=float(O[0]),
        aqueous_above=float(A[f]) if f < N else 1.0,  # unused without stages above the feed
    )
    sol = solve_shooting(cascade)
    if not sol.converged:
        return None
    aq, org, mismatch = shooting_profiles(cascade, sol)
    if not mismatch < tolerance:
        return None
    return aq, org, sol.iterations, mismatch


def _solve_general(
    beta: np.ndarray, feed: np.ndarray, A: np.ndarray, O: np.ndarray, tolerance: float, max_iterations: int
) -> LsfSolution:
    """Any number of components: Newton on the compositions, then on the log flows, with fallbacks."""
    B, N, C = feed.shape
    if C >= 2:
        a, o = np.zeros_like(feed), np.zeros_like(feed)
        ok = np.zeros(B, dtype=bool)
        its = np.zeros(B, dtype=int)
        res = np.full(B, np.inf)
        # wide spreads (trace flows beyond e^-WIDE_SPREAD of the feed possible): shooting first
        wide = np.log(beta.max(axis=1) / beta.min(axis=1)) * N > WIDE_SPREAD
        tried = np.zeros(B, dtype=bool)

        def shoot(cases: np.ndarray) -> None:
            for b in cases:  # shooting from both outlets: C + 1 unknowns, robust for wide spreads
                tried[b] = True
                shot = _solve_case_by_shooting(beta[b], feed[b], A[b], O[b], tolerance)
                if shot is not None:
                    a[b], o[b], its[b], res[b] = shot[0], shot[1], its[b] + shot[2], shot[3]
                    ok[b] = True

        shoot(np.flatnonzero(wide))
        rest = np.flatnonzero(~ok)
        if rest.size:
            la, ok_r, its_r, res_r = _solve_compositions(
                beta[rest], feed[rest], A[rest], O[rest], tolerance, min(max_iterations, 30)
            )
            with np.errstate(all="ignore"):  # failed cases may hold garbage; they are overwritten or rejected
                a[rest], o[rest] = _flows_from_log(la, beta[rest], O[rest])
            ok[rest], its[rest], res[rest] = ok_r, its[rest] + its_r, res_r
        shoot(np.flatnonzero(~ok & ~tried))
        failed = np.flatnonzero(~ok)
        if failed.size:
            lh, okh, ith = _beta_homotopy(beta[failed], feed[failed], A[failed], O[failed], tolerance)
            if okh.all():
                g, sc, _, _ = _alr_state(lh, None, beta[failed], A[failed], O[failed], feed[failed])
                nil = NEGLIGIBLE * feed[failed].sum(axis=(1, 2))[:, None, None]
                res[failed] = np.abs(g / (sc + nil)).max(axis=(1, 2))
                a[failed], o[failed] = _flows_from_log(lh, beta[failed], O[failed])
                ok[failed], its[failed] = True, its[failed] + ith
        if ok.all():
            fin = feed.sum(axis=1)
            mbe = np.abs(fin - a[:, 0, :] - o[:, -1, :]).sum(-1) / fin.sum(-1)
            return LsfSolution(a, o, ok, its, res, mbe)
    # last resorts: overflow on the way is a failed trial step, never a result (non-finite = not converged)
    with np.errstate(all="ignore"):
        u = np.log(_bubble_point_start(beta, feed, A, O))
        converged = np.zeros(B, dtype=bool)
        iterations = np.zeros(B, dtype=int)
        residual = np.full(B, np.inf)
        eye = np.eye(C)
        # working set: the cases not yet converged; dt = pseudo-time step (inf: plain damped Newton)
        act = np.arange(B)
        ua, b3, fa, O3 = u, beta[:, None, :], feed, O[:, :, None]
        dt = np.full(B, np.inf)
        r, scale, a, o, y = _residual(ua, b3, fa, O3)
        for it in range(max_iterations + 1):
            rel = np.abs(r).max(axis=(1, 2))
            residual[act] = rel
            done = rel < tolerance
            if done.any() or it == max_iterations:
                u[act] = ua
                converged[act[done]] = True
                iterations[act] = it
                if done.all() or it == max_iterations:
                    break
                keep = ~done
                act = act[keep]
                ua, b3, fa, O3, dt = ua[keep], b3[keep], fa[keep], O3[keep], dt[keep]
                r, scale, a, o, y = r[keep], scale[keep], a[keep], o[keep], y[keep]
            dO = o[..., :, None] * (eye - y[..., None, :])  # d o_ik / d u_jk
            inv = 1.0 / scale[..., :, None]
            diag = (dO + a[..., :, None] * eye) * inv
            lower = np.zeros_like(dO)
            lower[:, 1:] = -dO[:, :-1] * inv[:, 1:]
            upper = np.zeros_like(dO)
            upper[:, :-1] = -(a[:, 1:, :, None] * eye) * inv[:, :-1]
            ptc = np.isfinite(dt)
            if (
                ptc.any()
            ):  # pseudo-transient cases: implicit Euler, every scaled row relaxing on the same time
                diag = diag + (np.where(ptc, 1.0 / np.where(ptc, dt, 1.0), 0.0)[:, None, None, None] * eye)
            du = solve_block_tridiagonal(lower, diag, upper, -r)
            norm_du = np.sqrt((du * du).sum(axis=(1, 2)))
            norm_r = np.sqrt((r * r).sum(axis=(1, 2)))
            t = np.minimum(1.0, MAX_LOG_STEP / np.maximum(np.abs(du).max(axis=(1, 2)), 1e-300))
            t = np.where(
                ptc, np.minimum(1.0, PTC_MAX_STEP / np.maximum(np.abs(du).max(axis=(1, 2)), 1e-300)), t
            )
            trial = ua + du * t[:, None, None]
            state = _residual(trial, b3, fa, O3)
            for _ in range(12):
                # Newton cases: natural monotonicity test (Deuflhard) - the simplified Newton correction
                # at the trial point, with this iteration's Jacobian and row scaling, must shrink.
                # Pseudo-transient cases: the residual must stay finite and not grow tenfold.
                bar = solve_block_tridiagonal(lower, diag, upper, -state[0] * state[1] / scale)
                ok_newton = np.sqrt((bar * bar).sum(axis=(1, 2))) <= (1.0 - 0.25 * t) * norm_du
                new_r = np.sqrt((state[0] ** 2).sum(axis=(1, 2)))
                ok_ptc = np.isfinite(new_r) & (new_r < 10.0 * norm_r)
                worse = np.where(ptc, ~ok_ptc, ~ok_newton)
                if not worse.any():
                    break
                t = np.where(worse, 0.5 * t, t)
                trial = np.where(worse[:, None, None], ua + du * t[:, None, None], trial)
                state = _residual(trial, b3, fa, O3)
            new_r = np.sqrt((state[0] ** 2).sum(axis=(1, 2)))
            # pseudo-time update (switched evolution relaxation); back to Newton once the steps are long,
            # and into pseudo-transient mode when Newton's step had to be cut below 1/64
            dt = np.where(ptc, dt * np.clip(norm_r / np.maximum(new_r, 1e-300), 0.25, 10.0), dt)
            dt = np.where(ptc & (t < 0.5), dt * 0.25, dt)
            dt = np.where(ptc & (dt > 1e6), np.inf, dt)
            dt = np.where(~ptc & (t < 1.0 / 64.0), 1.0, dt)
            ua = trial
            r, scale, a, o, y = state
        failed = np.flatnonzero(~converged)
        if (
            failed.size
        ):  # robust fallback, then polish with the flow Newton (relative accuracy of trace flows)
            flows, ok = _solve_stage_factors(beta[failed], feed[failed], A[failed], O[failed])
            good = failed[ok]
            if good.size:
                tiny = 1e-250 * feed[good].sum(axis=(1, 2))[:, None, None]
                u[good] = np.log(np.maximum(flows[ok], tiny))
                polished = _polish(u[good], beta[good], feed[good], O[good], tolerance)
                u[good], converged[good], residual[good] = polished
                iterations[good] += max_iterations
        a = np.exp(u)
        ba = beta[:, None, :] * a
        o = O[:, :, None] * ba / ba.sum(-1, keepdims=True)
        fin = feed.sum(axis=1)
        out = a[:, 0, :] + o[:, -1, :]
        mbe = np.abs(fin - out).sum(-1) / fin.sum(-1)
        return LsfSolution(a, o, converged, iterations, residual, mbe)
