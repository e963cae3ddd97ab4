"""Loaded-separation-factor cascade with any number of components, by shooting from both outlets.

One feed stage f. Below it the balance of stages 1..k (k < f; barren organic enters stage 1) gives
a_{k+1} = r + o_k with o_k = O beta*a_k / (beta . a_k) (r: raffinate, O: organic total below the feed);
above it the balance of stages k..N (k > f; barren scrub liquor enters stage N) gives o_{k-1} = p + a_k with
a_k = A (o_k/beta) / sum(o_k/beta) (p: loaded organic, A = W). Multiplied through by the normalising sums
these maps are linear, and their solutions separate per component:

    a_k proportional to r_i P_k(beta_i),  P_1 = 1,  P_{k+1}(beta_i) = beta_i P_k(beta_i) + s_k,
                                          s_k = sum_j beta_j r_j P_k(beta_j) / O
    o_k proportional to p_i Q_k(beta_i),  Q_N = 1,  Q_{k-1}(beta_i) = Q_k(beta_i) / beta_i + t_k,
                                          t_k = sum_j p_j Q_k(beta_j) / beta_j / A

(the stage factors of the classic constant-flow method, generated from the outlets instead of guessed).
Every term is positive: no relative accuracy is lost however small a component gets, and the trace flows
are carried as logarithms (ln r_i + ln P), so flows far below 1e-300 of the feed do not underflow the
equations. The unknowns are the logits xi_i of each component's split, r_i = F_i sigma(xi_i),
p_i = F_i sigma(-xi_i) (so r + p = F exactly and whichever of r_i, p_i is a trace is accurate). The organic
leaving the feed stage from below (beta_i r_i P_f(beta_i)) and from above (p_i Q_f(beta_i)) must be the same
vector up to a common factor e^c, and the raffinate must carry its fixed total W + F - S:

    G_i = xi_i + ln beta_i + ln P_f(beta_i) - ln Q_f(beta_i) - c = 0,     sum_i r_i = W + F - S.

Newton on (xi, c) with the exact Jacobian (forward-mode derivatives through the recurrences; common scale
factors of P and Q only shift c), damped by Deuflhard's natural monotonicity test, from a cold start: the
constant-stage-factor (Kremser) cascade that carries the right raffinate total. C + 1 unknowns instead of
N x C, so 17 components x 200 stages cost a few milliseconds per iteration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOLERANCE = 1e-11
MAX_ITERATIONS = 200
#: Newton iterations allowed to the spread homotopy (the fallback) in all.
HOMOTOPY_ITERATIONS = 4000
#: Largest change of any logit in one Newton step (e^8 ~ 3000-fold change of a split ratio).
MAX_STEP = 8.0


@dataclass(frozen=True)
class ShootingCascade:
    """One LSF cascade with one feed stage; flows in mol/h, ``beta`` relative (any scale)."""

    beta: np.ndarray  # (C,)
    feed: np.ndarray  # (C,) all > 0
    stages: int
    feed_stage: int
    raffinate_total: float  # W + F - S
    organic_below: float  # organic total leaving each stage below the feed (S, or S - F for organic feed)
    aqueous_above: float  # W


@dataclass(frozen=True)
class ShootingSolution:
    """ln r and ln p (C,) (mol/h), the logits xi, converged, Newton iterations, final max |G| (log units)."""

    log_raffinate: np.ndarray
    log_loaded: np.ndarray
    xi: np.ndarray
    converged: bool
    iterations: int
    residual: float


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """ln(1 / (1 + e^-x)) without overflow."""
    return -np.logaddexp(0.0, -x)


def _sweep(
    log_w: np.ndarray,
    dlog_w: np.ndarray,
    log_mult: np.ndarray,
    steps: int,
    total: float,
    record: list[np.ndarray] | None = None,
):
    """ln X after ``steps`` steps of X_{k+1} = mult X_k + (w . X_k) / total from X = 1, and d ln X / d xi.

    Carried in logarithms (the spread of X is the inverse of the smallest split, far beyond the float
    range for trace components): ln X_{k+1} = logaddexp(ln mult + ln X_k, ln s_k). The derivative is a
    convex combination, D_{k+1} = alpha D_k + (1 - alpha) d ln s_k with alpha = mult X_k / X_{k+1}, and
    d ln s_k = pi D_k + pi d ln w (pi: each component's share of s_k). log_w (C,): ln w; dlog_w (C,):
    d ln w_j / d xi_j. Returns (ln X (C,), d ln X (C, C)).
    """
    C = len(log_mult)
    lnX = np.zeros(C)
    D = np.zeros((C, C))
    ln_total = np.log(total)
    for _ in range(steps):
        if record is not None:
            record.append(lnX)
        lw = log_w + lnX
        top = lw.max()
        pi = np.exp(lw - top)
        norm = pi.sum()
        pi /= norm
        ln_s = top + np.log(norm) - ln_total
        grown = log_mult + lnX
        lnX = np.logaddexp(grown, ln_s)
        alpha = np.exp(grown - lnX)
        dln_s = pi @ D + pi * dlog_w
        D = alpha[:, None] * D + np.exp(ln_s - lnX)[:, None] * dln_s[None, :]
    if record is not None:
        record.append(lnX)
    return lnX, D


def _equations(c: ShootingCascade, lb: np.ndarray, xi: np.ndarray, lnc: float):
    """G (C,), the total equation (scalar, relative), and the Jacobian (C + 1, C + 1)."""
    ls_r = _log_sigmoid(xi)
    ls_p = _log_sigmoid(-xi)
    lnF = np.log(c.feed)
    r = np.exp(lnF + ls_r)
    dr = np.exp(lnF + ls_r + ls_p)  # d r_i / d xi_i = F sigma(xi) sigma(-xi) = -d p_i / d xi_i
    N, f = c.stages, c.feed_stage
    # d ln r / d xi = sigma(-xi), d ln p / d xi = -sigma(xi)
    lnP, dlnP = _sweep(lb + lnF + ls_r, np.exp(ls_p), lb, f - 1, c.organic_below)
    lnQ, dlnQ = _sweep(lnF + ls_p - lb, -np.exp(ls_r), -lb, N - f, c.aqueous_above)
    G = xi + lb + lnP - lnQ - lnc
    C = len(xi)
    J = np.empty((C + 1, C + 1))
    J[:C, :C] = dlnP - dlnQ
    J[:C, :C][np.diag_indices(C)] += 1.0
    J[:C, C] = -1.0
    total = r.sum() / c.raffinate_total - 1.0
    J[C, :C] = dr / c.raffinate_total
    J[C, C] = 0.0
    return G, total, J, lnP, lnQ


def _log_sum_exp(a: np.ndarray) -> np.ndarray:
    """ln sum exp over the last axis."""
    top = a.max(axis=-1, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis=-1, keepdims=True)))[..., 0]


def kremser_start(c: ShootingCascade, lb: np.ndarray) -> np.ndarray:
    """Start logits from the constant-stage-factor (Kremser) cascade that carries the right raffinate total.

    With one stage factor lam everywhere, component i has the extraction factor E_i = beta_i lam, and the
    shooting recurrences sum to geometric series: r_i / p_i = sum_{j<=N-f} E_i^-j / (E_i sum_{j<f} E_i^j).
    lam is found by bisection (the raffinate total falls as lam rises), so the start already puts the
    components on the two sides of the cut that S, W and F imply.
    """
    N, f = c.stages, c.feed_stage
    j_lo = np.arange(f)[None, :]
    j_hi = np.arange(N - f + 1)[None, :]

    def logits(ln_lam: float) -> np.ndarray:
        lnE = (lb + ln_lam)[:, None]
        return _log_sum_exp(-j_hi * lnE) - lnE[:, 0] - _log_sum_exp(j_lo * lnE)

    lo, hi = -float(lb.max()) - 20.0, 20.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        raffinate = (c.feed * np.exp(_log_sigmoid(logits(mid)))).sum()
        if raffinate > c.raffinate_total:
            lo = mid
        else:
            hi = mid
    return logits(0.5 * (lo + hi))


def _newton(
    c: ShootingCascade, lb: np.ndarray, xi: np.ndarray, max_iterations: int
) -> tuple[np.ndarray, bool, int, float]:
    """Damped Newton on (xi, c) from xi; returns (xi, converged, iterations, residual).

    Damping by Deuflhard's natural monotonicity test (affine invariant: the simplified Newton correction at
    the trial point, with this iteration's Jacobian, must shrink), the step factor predicted from the last
    one. Stops one full step after max |G| < TOLERANCE (quadratic convergence).
    """
    G, tot, J, _, _ = _equations(c, lb, xi, 0.0)
    lnc = float(np.median(G))
    G = G - lnc  # G is linear in ln c with slope -1 (and tot, J do not depend on it): no second sweep
    res = max(float(np.abs(G).max()), abs(tot))
    t = 1.0
    for it in range(1, max_iterations + 1):
        rhs = -np.concatenate([G, [tot]])
        try:
            step = np.linalg.solve(J, rhs)
        except np.linalg.LinAlgError:
            return xi, False, it, res
        if not np.isfinite(step).all():
            return xi, False, it, res
        if res < TOLERANCE:
            xi = xi + step[:-1]
            G, tot, _, _, _ = _equations(c, lb, xi, lnc + step[-1])
            res = max(float(np.abs(G).max()), abs(tot))
            return xi, res < TOLERANCE, it, res
        norm = np.sqrt((step * step).sum())
        t = min(1.0, 2.0 * t, MAX_STEP / max(float(np.abs(step[:-1]).max()), 1e-300))
        for _ in range(60):
            xi_t, lnc_t = xi + t * step[:-1], lnc + t * step[-1]
            G_t, tot_t, J_t, _, _ = _equations(c, lb, xi_t, lnc_t)
            if np.isfinite(G_t).all():
                bar = np.linalg.solve(J, -np.concatenate([G_t, [tot_t]]))
                if np.sqrt((bar * bar).sum()) <= (1.0 - 0.25 * t) * norm:
                    break
            t *= 0.5
        else:
            return xi, False, it, res
        xi, lnc, G, tot, J = xi_t, lnc_t, G_t, tot_t, J_t
        res = max(float(np.abs(G).max()), abs(tot))
    return xi, False, max_iterations, res


def _spread_homotopy(c: ShootingCascade, lb: np.ndarray) -> tuple[np.ndarray, bool, int, float]:
    """Continuation in the spread of the separation factors, beta^s for s: 0 -> 1 (the fallback).

    At s = 0 every component splits like the feed (exact start); each step starts Newton from the last
    solution, the step doubling after a success and shrinking fourfold after a failure. Slow (seconds at
    200 stages) but reaches designs where the Kremser start leaves Newton on a numerically flat direction
    (e.g. light elements scrubbed to e^-1000 over 140 scrub stages above a 4-stage extraction section).
    """
    F = c.feed.sum()
    xi = np.full(len(c.feed), np.log(c.raffinate_total / (F - c.raffinate_total)))
    level, step, total, res = 0.0, 0.125, 0, np.inf
    while level < 1.0 and total < HOMOTOPY_ITERATIONS:
        target = min(1.0, level + step)
        xi_t, ok, its, res = _newton(c, target * lb, xi, 30)
        total += its
        if ok:
            xi, level = xi_t, target
            step = min(1.0, 2.0 * step)
        else:
            step *= 0.25
            if step < 1e-4:
                break
    return xi, level >= 1.0, total, res


def solve_shooting(
    c: ShootingCascade,
    max_iterations: int = MAX_ITERATIONS,
    *,
    start: np.ndarray | None = None,
    homotopy: bool = True,
) -> ShootingSolution:
    """Solve one cascade: damped Newton from ``start`` (logits xi (C,), e.g. a neighbouring cascade's
    solution) when given, else (or when that fails) from the Kremser start, then the spread homotopy unless
    ``homotopy`` is False (never raises; ``converged`` says)."""
    lb = np.log(c.beta / c.beta.min())
    with np.errstate(all="ignore"):
        its = 0
        ok = False
        if start is not None:
            xi, ok, its, res = _newton(c, lb, np.asarray(start, dtype=float), max_iterations)
        if not ok:
            xi, ok, its_k, res = _newton(c, lb, kremser_start(c, lb), max_iterations)
            its += its_k
        if not ok and homotopy:
            xi_h, ok, its_h, res_h = _spread_homotopy(c, lb)
            its += its_h
            if ok:
                xi, res = xi_h, res_h
    lnF = np.log(c.feed)
    return ShootingSolution(lnF + _log_sigmoid(xi), lnF + _log_sigmoid(-xi), xi, ok, its, res)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def shooting_profiles(c: ShootingCascade, sol: ShootingSolution) -> tuple[np.ndarray, np.ndarray, float]:
    """Stage flows (aqueous (N, C), organic (N, C)), mol/h, and the relative feed-stage mismatch.

    Below the feed a_k is proportional to r_i P_k(beta_i), above it o_k to p_i Q_k(beta_i) (module doc),
    scaled to the fixed stage totals; the equilibrium gives the other phase. Flows below the float range
    come out as 0. Every stage balance but the feed stage's holds by construction; the feed stage's
    mismatch (organic from below against p + a_{f+1} from above) is returned relative to each component's
    throughput.
    """
    N, f = c.stages, c.feed_stage
    lb = np.log(c.beta / c.beta.min())
    xi = sol.xi
    ls_r, ls_p = _log_sigmoid(xi), _log_sigmoid(-xi)
    lnF = np.log(c.feed)
    F = float(c.feed.sum())
    A1 = c.raffinate_total
    P_total = F - A1
    W = c.aqueous_above
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    _sweep(lb + lnF + ls_r, np.exp(ls_p), lb, f - 1, c.organic_below, lower)
    _sweep(lnF + ls_p - lb, -np.exp(ls_r), -lb, N - f, W, upper)
    C = len(c.feed)
    aq = np.zeros((N, C))
    org = np.zeros((N, C))
    ln_v = lnF + ls_r + np.array(lower)  # (f, C): stages 1..f
    A_low = np.full(f, A1 + c.organic_below)
    A_low[0] = A1
    O_low = np.full(f, c.organic_below)
    O_low[-1] = P_total + W if f < N else P_total
    aq[:f] = A_low[:, None] * _softmax(ln_v)
    org[:f] = O_low[:, None] * _softmax(ln_v + lb)
    if f < N:
        ln_w = lnF + ls_p + np.array(upper[:-1])[::-1]  # stages f+1..N (upper[0] is stage N, last is f)
        O_up = np.full(N - f, P_total + W)
        O_up[-1] = P_total
        org[f:] = O_up[:, None] * _softmax(ln_w)
        aq[f:] = W * _softmax(ln_w - lb)
    above = np.exp(lnF + ls_p) + (aq[f] if f < N else 0.0)  # organic leaving stage f, from above
    # each component's throughput of stage f: outlets, feed, aqueous from above, organic from below
    through = aq[f - 1] + org[f - 1] + c.feed + (aq[f] if f < N else 0.0) + (org[f - 2] if f > 1 else 0.0)
    mismatch = float(np.max(np.abs(org[f - 1] - above) / through))
    return aq, org, mismatch
