"""Two-component loaded-separation-factor cascade solved exactly as ONE scalar equation.

Xu's constant mixed-extraction-ratio cascade with two components and one feed stage f (1 <= f <= N). Let A
be the more extractable component (separation factor beta >= 1 relative to B), r the raffinate (leaving stage
1) and p the loaded organic (leaving stage N), in mol/h per component.

Below the feed, the balance of stages 1..k (k < f; barren organic enters stage 1) gives the aqueous entering
stage k from above, a_{k+1} = r + o_k, and the equilibrium gives o_k = O (beta a_A, a_B) / (beta a_A + a_B)
(O: the constant organic total below the feed). Multiplying through by (beta a_A + a_B) makes the
stage-to-stage map LINEAR in homogeneous coordinates (a Moebius map of the composition ratio):

    v_{k+1} = L v_k,   L = [[beta (O + r_A), r_A], [beta r_B, O + r_B]],    v_k proportional to a_k, v_1 = r.

Above the feed, the balance of stages k..N (k > f; barren scrub liquor enters stage N) gives
o_{k-1} = p + a_k with a_k = A (o_A / beta, o_B) / (o_A / beta + o_B) (A = W, the aqueous total above the
feed), and likewise

    w_{k-1} = U w_k,   U = [[A + p_A, beta p_A], [p_B, beta (A + p_B)]],    w_k proportional to o_k, w_N = p.

All entries are positive, so powers by repeated squaring add positive numbers only: no relative accuracy is
lost, even for trace flows 1e-200 times the feed. The organic leaving the feed stage, from below
(beta v_A : v_B with v = L^(f-1) r) and from above (w = U^(N-f) p), must agree:

    R = ln(beta v_A / v_B) - ln(w_A / w_B) = 0.

The totals are fixed (r_A + r_B = W + F - S, p_A + p_B = S - W) and r + p = F, so one unknown remains. It is
the logit xi of r_A inside its feasible interval (lo, hi), lo = max(F_A - (S - W), 0),
hi = min(F_A, W + F - S); each of r_A, r_B, p_A, p_B is then a sum of positive terms (whichever of them is a
trace flow is computed without cancellation). R increases strictly with xi from -inf to +inf (more A in the
raffinate puts more A in every stage below the feed and less in every stage above), so a Newton iteration
safeguarded by the bracket it builds always converges; in both tails R is linear in xi, so Newton is nearly
exact there. Cost per evaluation: O(log N) 2x2 products.

Two implementations of the same algorithm: :func:`solve_binary_lsf` (one cascade, plain Python floats, with
the stage profiles) and :func:`solve_binary_lsf_batch` (numpy, vectorised over cases sharing N and f,
outlets only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Newton stops when its step in xi is below this (then takes that last step: quadratic convergence).
STEP_TOLERANCE = 1e-9
#: Feed-stage mismatch (log of the organic composition ratio) accepted as converged.
RESIDUAL_TOLERANCE = 1e-11
MAX_ITERATIONS = 100
#: xi stays inside +-XI_LIMIT (trace flows down to ~e^-700 of the interval, the float64 range).
XI_LIMIT = 700.0
MAX_STEP = 60.0

Num = Any  # a float or a numpy array: the matrix algebra below is written for both


@dataclass(frozen=True)
class BinaryCascade:
    """A two-component LSF cascade with one feed stage; flows in mol/h.

    ``beta`` is the separation factor of component A (the more extractable, beta >= 1) relative to B.
    ``raffinate_total`` = W + F - S, ``loaded_total`` = S - W, ``organic_below`` the organic total leaving
    each stage below the feed, ``aqueous_above`` (= W) the aqueous total leaving each stage above it.
    """

    beta: float
    feed_a: float
    feed_b: float
    stages: int
    feed_stage: int
    raffinate_total: float
    loaded_total: float
    organic_below: float
    aqueous_above: float


@dataclass(frozen=True)
class BinarySolution:
    """Outlets (A, B) in mol/h, the root xi, Newton iterations and the final feed-stage mismatch |R|."""

    raffinate: tuple[float, float]
    loaded: tuple[float, float]
    xi: float
    iterations: int
    mismatch: float
    converged: bool


# ----------------------------------------------------------------- shared by both forms (floats or arrays)


def _flows(c: BinaryCascade | Any, e_lo: Num, e_hi: Num) -> tuple[Num, Num, Num, Num]:
    """(r_A, r_B, p_A, p_B), sums of non-negative terms, from e_lo = g sigma(xi), e_hi = g sigma(-xi)."""
    lo, hi = _bounds(c)
    r_a = lo + e_lo
    p_b = (lo - (c.feed_a - c.loaded_total)) + e_lo
    r_b = (c.raffinate_total - hi) + e_hi
    p_a = (c.feed_a - hi) + e_hi
    return r_a, r_b, p_a, p_b


def _bounds(c: BinaryCascade | Any) -> tuple[Num, Num]:
    """Feasible interval of r_A: p_B = r_A - (F_A - P) >= 0, r_A >= 0, r_A <= F_A, r_A <= W + F - S."""
    delta = c.feed_a - c.loaded_total
    if isinstance(delta, np.ndarray):
        return np.maximum(delta, 0.0), np.minimum(c.feed_a, c.raffinate_total)
    return max(delta, 0.0), min(c.feed_a, c.raffinate_total)


def _start(c: BinaryCascade | Any) -> Num:
    """xi of the no-separation split (raffinate at the feed composition), strictly inside the interval."""
    lo, hi = _bounds(c)
    r_a = c.feed_a * c.raffinate_total / (c.feed_a + c.feed_b)
    if isinstance(r_a, np.ndarray):
        return np.log(r_a - lo) - np.log(hi - r_a)
    return math.log(r_a - lo) - math.log(hi - r_a)


# ------------------------------------------------------------------------------------------- one cascade


def _mul_scalar(x: tuple, dx: tuple, y: tuple, dy: tuple) -> tuple[tuple, tuple]:
    """(X Y, dX Y + X dY) for 2x2 matrices stored as (m11, m12, m21, m22) floats, rescaled only when the
    entries leave [1e-100, 1e100] (the scale is irrelevant in homogeneous coordinates)."""
    a, b, c, d = x
    e, f, g, h = y
    da, db, dc, dd = dx
    de, df, dg, dh = dy
    p0, p1, p2, p3 = a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h
    q0 = da * e + db * g + a * de + b * dg
    q1 = da * f + db * h + a * df + b * dh
    q2 = dc * e + dd * g + c * de + d * dg
    q3 = dc * f + dd * h + c * df + d * dh
    t = p0 + p3
    if not 1e-100 < t < 1e100:
        s = 1.0 / t
        return (p0 * s, p1 * s, p2 * s, p3 * s), (q0 * s, q1 * s, q2 * s, q3 * s)
    return (p0, p1, p2, p3), (q0, q1, q2, q3)


def _power_scalar(m: tuple, dm: tuple, n: int) -> tuple[tuple, tuple]:
    """(M^n, d(M^n)) for floats by repeated squaring (scaled, see :func:`_mul_scalar`)."""
    if n == 0:
        return (1.0, 0.0, 0.0, 1.0), (0.0, 0.0, 0.0, 0.0)
    # normalise the base once so that long powers start in range
    s = 1.0 / (m[0] + m[3])
    m = (m[0] * s, m[1] * s, m[2] * s, m[3] * s)
    dm = (dm[0] * s, dm[1] * s, dm[2] * s, dm[3] * s)
    result = None
    dresult = dm
    while True:
        if n & 1:
            if result is None:
                result, dresult = m, dm
            else:
                result, dresult = _mul_scalar(result, dresult, m, dm)
        n >>= 1
        if not n:
            return result, dresult  # type: ignore[return-value]
        m, dm = _mul_scalar(m, dm, m, dm)


class _ScalarProblem:
    """Constants of one cascade for the Newton iteration in xi (floats)."""

    __slots__ = ("A", "O", "beta", "c_pa", "c_pb", "c_rb", "g", "lo", "n_hi", "n_lo")

    def __init__(self, c: BinaryCascade) -> None:
        lo, hi = _bounds(c)
        self.beta, self.O, self.A = c.beta, c.organic_below, c.aqueous_above
        self.lo, self.g = lo, hi - lo
        self.c_pb = lo - (c.feed_a - c.loaded_total)
        self.c_rb = c.raffinate_total - hi
        self.c_pa = c.feed_a - hi
        self.n_lo, self.n_hi = c.feed_stage - 1, c.stages - c.feed_stage

    def flows(self, xi: float) -> tuple[float, float, float, float, float]:
        """(r_A, r_B, p_A, p_B, d r_A / d xi) at xi (see :func:`_flows`)."""
        g = self.g
        if xi >= 0.0:
            e = math.exp(-xi)
            e_lo = g / (1.0 + e)
            e_hi = e * e_lo
        else:
            e = math.exp(xi)
            e_hi = g / (1.0 + e)
            e_lo = e * e_hi
        return self.lo + e_lo, self.c_rb + e_hi, self.c_pa + e_hi, self.c_pb + e_lo, e_lo * e_hi / g

    def mismatch(self, xi: float) -> tuple[float, float]:
        """R(xi) and dR/dxi."""
        beta, O, A = self.beta, self.O, self.A
        r_a, r_b, p_a, p_b, h = self.flows(xi)
        bh = beta * h
        P, dP = _power_scalar((beta * (O + r_a), r_a, beta * r_b, O + r_b), (bh, h, -bh, -h), self.n_lo)
        Q, dQ = _power_scalar((A + p_a, beta * p_a, p_b, beta * (A + p_b)), (-h, -bh, h, bh), self.n_hi)
        v_a, v_b = P[0] * r_a + P[1] * r_b, P[2] * r_a + P[3] * r_b
        w_a, w_b = Q[0] * p_a + Q[1] * p_b, Q[2] * p_a + Q[3] * p_b
        dv_a = dP[0] * r_a + dP[1] * r_b + (P[0] - P[1]) * h
        dv_b = dP[2] * r_a + dP[3] * r_b + (P[2] - P[3]) * h
        dw_a = dQ[0] * p_a + dQ[1] * p_b + (Q[1] - Q[0]) * h
        dw_b = dQ[2] * p_a + dQ[3] * p_b + (Q[3] - Q[2]) * h
        R = math.log(beta * v_a / v_b) - math.log(w_a / w_b)
        return R, dv_a / v_a - dv_b / v_b - dw_a / w_a + dw_b / w_b


def solve_binary_lsf(c: BinaryCascade) -> BinarySolution:
    """Solve one cascade (plain floats): safeguarded Newton on xi; see the module doc.

    Never raises on non-convergence: ``converged`` says (the caller falls back to the general solver).
    """
    prob = _ScalarProblem(c)
    xi = _start(c)
    left, right = -math.inf, math.inf
    converged = False
    R = math.inf
    it = 0
    for it in range(1, MAX_ITERATIONS + 1):  # noqa: B007 - the count is reported
        try:
            R, dR = prob.mismatch(xi)
        except (ValueError, ZeroDivisionError, OverflowError):
            break
        if R == 0.0:
            converged = True
            break
        if R < 0.0:
            left = xi
        else:
            right = xi
        step = -R / dR if dR > 0.0 and math.isfinite(dR) else math.nan
        if abs(step) < STEP_TOLERANCE:  # False for NaN
            xi += step
            converged = abs(R) < RESIDUAL_TOLERANCE * 1e3
            break
        new = xi + max(-MAX_STEP, min(MAX_STEP, step)) if math.isfinite(step) else math.nan
        if not left < new < right:  # outside the bracket (or no usable slope): bisect or walk
            if math.isfinite(left) and math.isfinite(right):
                new = 0.5 * (left + right)
            else:
                new = xi + (MAX_STEP if R < 0.0 else -MAX_STEP)
        if abs(new) > XI_LIMIT:
            break
        xi = new
    r_a, r_b, p_a, p_b, _ = prob.flows(xi)
    return BinarySolution((r_a, r_b), (p_a, p_b), xi, it, abs(R), converged)


def binary_profiles(c: BinaryCascade, sol: BinarySolution) -> tuple[np.ndarray, np.ndarray, float]:
    """Stage flows from the outlets of ``sol``: (aqueous (N, 2), organic (N, 2)) in (A, B) order, mol/h, and
    the relative feed-stage mismatch.

    Below the feed the aqueous follows a_{k+1} = r + o_k from the raffinate up, above it o_{k-1} = p + a_k
    from the loaded organic down (positive sums only), with the equilibrium in every stage. Every stage
    balance but the feed stage's then holds by construction (one addition each); the feed stage's is the
    difference between its organic outlet from below (equilibrium with a_f) and from above (p + a_{f+1}),
    returned relative to each component's throughput there.
    """
    beta = c.beta
    N, f = c.stages, c.feed_stage
    r_a, r_b = sol.raffinate
    p_a, p_b = sol.loaded
    rows: list[tuple[float, float, float, float]] = [(0.0, 0.0, 0.0, 0.0)] * N
    va, vb = r_a, r_b  # a_1
    O = c.organic_below
    oa = ob = 0.0
    for k in range(f):
        if k == f - 1:
            O = _organic_at_feed(c)
        t = O / (beta * va + vb)
        oa, ob = beta * va * t, vb * t
        rows[k] = (va, vb, oa, ob)
        va, vb = r_a + oa, r_b + ob  # a_{k+1}
    wa, wb = p_a, p_b  # o_N
    A = c.aqueous_above
    aa = ab = 0.0
    for k in range(N - 1, f - 1, -1):
        t = A / (wa / beta + wb)
        aa, ab = wa / beta * t, wb * t
        rows[k] = (aa, ab, wa, wb)
        wa, wb = p_a + aa, p_b + ab  # o_{k-1}
    # feed stage f: organic from below (oa, ob) against from above (wa, wb) = p + a_{f+1}
    fa_, fo_ = rows[f - 1][0], rows[f - 1][1]
    below = rows[f - 2] if f > 1 else (0.0, 0.0, 0.0, 0.0)
    above = (aa, ab) if f < N else (0.0, 0.0)
    through_a = fa_ + oa + c.feed_a + above[0] + below[2]
    through_b = fo_ + ob + c.feed_b + above[1] + below[3]
    mismatch = max(abs(oa - wa) / through_a, abs(ob - wb) / through_b)
    prof = np.array(rows)
    return prof[:, :2], prof[:, 2:], mismatch


def _organic_at_feed(c: BinaryCascade) -> float:
    """Organic total leaving the feed stage: S - W at stage N, otherwise S (= loaded + aqueous above)."""
    if c.feed_stage == c.stages:
        return c.loaded_total
    return c.loaded_total + c.aqueous_above


# ------------------------------------------------------------------------------------------- a batch


@dataclass(frozen=True)
class BinaryBatch:
    """Arrays (B,) of the quantities of :class:`BinaryCascade`; N and f shared by the batch."""

    beta: np.ndarray
    feed_a: np.ndarray
    feed_b: np.ndarray
    stages: int
    feed_stage: int
    raffinate_total: np.ndarray
    loaded_total: np.ndarray
    organic_below: np.ndarray
    aqueous_above: np.ndarray

    def take(self, index: np.ndarray) -> BinaryBatch:
        """The sub-batch of the given cases."""
        return BinaryBatch(
            self.beta[index],
            self.feed_a[index],
            self.feed_b[index],
            self.stages,
            self.feed_stage,
            self.raffinate_total[index],
            self.loaded_total[index],
            self.organic_below[index],
            self.aqueous_above[index],
        )


def _mul_array(x: tuple, dx: tuple, y: tuple, dy: tuple) -> tuple[tuple, tuple]:
    """(X Y, dX Y + X dY) for stacks of 2x2 matrices stored as (m11, m12, m21, m22) arrays (B,), rescaled
    to entry sum 1 (the scale is irrelevant in homogeneous coordinates; it keeps long powers in range)."""
    a, b, c, d = x
    e, f, g, h = y
    p = (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)
    s = 1.0 / (p[0] + p[1] + p[2] + p[3])
    da, db, dc, dd = dx
    de, df, dg, dh = dy
    return (p[0] * s, p[1] * s, p[2] * s, p[3] * s), (
        (da * e + db * g + a * de + b * dg) * s,
        (da * f + db * h + a * df + b * dh) * s,
        (dc * e + dd * g + c * de + d * dg) * s,
        (dc * f + dd * h + c * df + d * dh) * s,
    )


def _power_array(m: tuple, dm: tuple, n: int) -> tuple[tuple, tuple]:
    """(M^n, d(M^n)) for stacks of 2x2 matrices by repeated squaring (scaled); n >= 0."""
    result: tuple | None = None
    dresult: tuple = dm
    while n:
        if n & 1:
            if result is None:
                result, dresult = m, dm
            else:
                result, dresult = _mul_array(result, dresult, m, dm)
        n >>= 1
        if n:
            m, dm = _mul_array(m, dm, m, dm)
    if result is None:
        one, zero = np.ones_like(m[0]), np.zeros_like(m[0])
        return (one, zero, zero, one), (zero, zero, zero, zero)
    return result, dresult


def _mismatch_array(c: BinaryBatch, e_lo: np.ndarray, e_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feed-stage mismatch R(xi) and dR/dxi for every case (the algebra of ``_ScalarProblem.mismatch``)."""
    beta, O, A = c.beta, c.organic_below, c.aqueous_above
    r_a, r_b, p_a, p_b = _flows(c, e_lo, e_hi)
    lo, hi = _bounds(c)
    h = e_lo * e_hi / (hi - lo)  # d r_A / d xi (= d p_B = -d r_B = -d p_A)
    lower = (beta * (O + r_a), r_a, beta * r_b, O + r_b)
    upper = (A + p_a, beta * p_a, p_b, beta * (A + p_b))
    P, dP = _power_array(lower, (beta * h, h, -beta * h, -h), c.feed_stage - 1)
    Q, dQ = _power_array(upper, (-h, -beta * h, h, beta * h), c.stages - c.feed_stage)
    v_a, v_b = P[0] * r_a + P[1] * r_b, P[2] * r_a + P[3] * r_b
    w_a, w_b = Q[0] * p_a + Q[1] * p_b, Q[2] * p_a + Q[3] * p_b
    R = np.log(beta * v_a / v_b) - np.log(w_a / w_b)
    dv_a = dP[0] * r_a + dP[1] * r_b + (P[0] - P[1]) * h
    dv_b = dP[2] * r_a + dP[3] * r_b + (P[2] - P[3]) * h
    dw_a = dQ[0] * p_a + dQ[1] * p_b + (Q[1] - Q[0]) * h
    dw_b = dQ[2] * p_a + dQ[3] * p_b + (Q[3] - Q[2]) * h
    return R, dv_a / v_a - dv_b / v_b - dw_a / w_a + dw_b / w_b


def _split_array(xi: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = np.exp(-np.abs(xi))
    s = g / (1.0 + e)
    pos = xi >= 0.0
    return np.where(pos, s, e * s), np.where(pos, e * s, s)


def solve_binary_lsf_batch(c: BinaryBatch) -> tuple[np.ndarray, ...]:
    """Solve B cascades at once (numpy); the same safeguarded Newton as :func:`solve_binary_lsf`.

    Returns (raffinate (B, 2), loaded (B, 2) in (A, B) order, converged (B,), iterations (B,), mismatch
    (B,)). Cases drop out of the iteration as they converge.
    """
    B = c.beta.shape[0]
    lo, hi = _bounds(c)
    g_all = hi - lo
    xi_all = _start(c)
    converged = np.zeros(B, dtype=bool)
    iterations = np.zeros(B, dtype=int)
    mismatch = np.full(B, np.inf)
    act = np.arange(B)
    sub, xi, g = c, xi_all.copy(), g_all
    left = np.full(B, -np.inf)
    right = np.full(B, np.inf)
    with np.errstate(all="ignore"):
        for it in range(1, MAX_ITERATIONS + 1):
            e_lo, e_hi = _split_array(xi, g)
            R, dR = _mismatch_array(sub, e_lo, e_hi)
            mismatch[act] = np.abs(R)
            iterations[act] = it
            left = np.where(R < 0.0, xi, left)
            right = np.where(R > 0.0, xi, right)
            step = np.where((dR > 0.0) & np.isfinite(dR), -R / dR, np.nan)
            done = (np.abs(step) < STEP_TOLERANCE) | (R == 0.0)
            bad = ~np.isfinite(R)
            finished = done | bad
            if finished.any():
                xi_done = xi + np.where(np.isfinite(step), step, 0.0)
                xi_all[act[finished]] = xi_done[finished]
                converged[act[done]] = (np.abs(R) < RESIDUAL_TOLERANCE * 1e3)[done]
                keep = ~finished
                if not keep.any():
                    break
                act = act[keep]
                sub = sub.take(keep)
                xi, g, R, step = xi[keep], g[keep], R[keep], step[keep]
                left, right = left[keep], right[keep]
            new = xi + np.clip(step, -MAX_STEP, MAX_STEP)
            outside = ~((left < new) & (new < right))  # NaN steps count as outside
            both = np.isfinite(left) & np.isfinite(right)
            walk = xi + np.where(R < 0.0, MAX_STEP, -MAX_STEP)
            new = np.where(outside, np.where(both, 0.5 * (left + right), walk), new)
            xi = new
            escaped = np.abs(xi) > XI_LIMIT
            if escaped.any():
                keep = ~escaped
                act, sub, xi, g = act[keep], sub.take(keep), xi[keep], g[keep]
                left, right = left[keep], right[keep]
                if not act.size:
                    break
        else:
            xi_all[act] = xi
        e_lo, e_hi = _split_array(xi_all, g_all)
        r_a, r_b, p_a, p_b = _flows(c, e_lo, e_hi)
    return np.stack([r_a, r_b], -1), np.stack([p_a, p_b], -1), converged, iterations, mismatch
