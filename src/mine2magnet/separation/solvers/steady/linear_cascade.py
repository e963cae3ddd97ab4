"""Counter-current cascade with constant distribution ratios (linear in the flows), any Murphree efficiency.

Per component and stage k (1..N, aqueous flowing N -> 1, organic 1 -> N), with a_k, o_k the aqueous and
organic flows leaving stage k (mol/h), Va_k, Vo_k the volume flows leaving it (L/h):

    balance:   a_k + o_k - a_{k+1} - o_{k-1} = f_k
    Murphree:  y_k = y_in + eta_k (D_k x_k - y_in),   y_in = o_{k-1}/Vo_{k-1} (the organic entering stage k)

with a_{N+1} the aqueous inlet (scrub/strip liquor) and o_0 the organic inlet. Unknowns (a_k, o_k) per stage
give a block-tridiagonal system with 2x2 blocks; components and cases are independent and solved in one call.
With eta = 1 this is the Kremser cascade (o_k = E_k a_k, E_k = D_k Vo_k/Va_k).

Entrainment: the organic leaving stage k carries ea_k L of its aqueous phase per L (at the aqueous
concentration x_k, to stage k+1), the aqueous leaving it carries eo_k L of organic per L (at y_k, to stage
k-1). a_k, o_k stay the flows of the phases themselves; the streams between stages are

    up from k:    o_k + ea_k Vo_k x_k        down from k:   a_k + eo_k Va_k y_k

so the balance of stage k is (a_k + ea_k Vo_k x_k) + (o_k + eo_k Va_k y_k) - (a_{k+1} + eo_{k+1} Va_{k+1}
y_{k+1}) - (o_{k-1} + ea_{k-1} Vo_{k-1} x_{k-1}) = f_k and every species is conserved exactly (entrainment
only reroutes what leaves a stage; the entrained volumes ride on top of Va, Vo): the raffinate stream is
a_1 + eo_1 Va_1 y_1, the loaded organic stream o_N + ea_N Vo_N x_N (see :func:`outlet_streams`). The
Murphree relation keeps the organic phase entering a stage as its y_in; entrained aqueous joins the aqueous.
"""

from __future__ import annotations

import numpy as np

from mine2magnet.separation.solvers.steady.block_tridiagonal import solve_block_tridiagonal


def solve_linear_cascade(
    D: np.ndarray,
    Va: np.ndarray,
    Vo: np.ndarray,
    feed: np.ndarray,
    aqueous_inlet: np.ndarray,
    organic_inlet: np.ndarray,
    efficiency: np.ndarray | float = 1.0,
    organic_inlet_volume: np.ndarray | float | None = None,
    entrained_aqueous: np.ndarray | float = 0.0,
    entrained_organic: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve independent linear cascades.

    Args:
        D: (B, N) distribution ratio per stage ([org]/[aq]).
        Va, Vo: (B, N) aqueous / organic volume flows leaving each stage, L/h.
        feed: (B, N) feed per stage, mol/h (either phase: the balance is the same).
        aqueous_inlet: (B,) mol/h entering stage N in the aqueous phase.
        organic_inlet: (B,) mol/h entering stage 1 in the organic phase.
        efficiency: Murphree efficiency per stage, (B, N) or scalar, 0 < eta <= 1.
        organic_inlet_volume: L/h of the organic inlet (defaults to Vo of stage 1).
        entrained_aqueous: L of aqueous carried per L of organic leaving each stage, (B, N) or scalar, >= 0.
        entrained_organic: L of organic carried per L of aqueous leaving each stage, (B, N) or scalar, >= 0.

    Returns:
        (a, o): flows leaving each stage, each (B, N), mol/h.
    """
    D = np.asarray(D, float)
    B, N = D.shape
    eta = np.broadcast_to(np.asarray(efficiency, float), (B, N))
    Va = np.broadcast_to(np.asarray(Va, float), (B, N))
    Vo = np.broadcast_to(np.asarray(Vo, float), (B, N))
    vin = (
        Vo[:, 0]
        if organic_inlet_volume is None
        else np.broadcast_to(np.asarray(organic_inlet_volume, float), (B,))
    )
    vo_prev = np.concatenate([vin[:, None], Vo[:, :-1]], axis=1)
    diag = np.zeros((B, N, 2, 2))
    ea = np.broadcast_to(np.asarray(entrained_aqueous, float), (B, N))
    eo = np.broadcast_to(np.asarray(entrained_organic, float), (B, N))
    diag[..., 0, 0] = 1.0 + ea * Vo / Va
    diag[..., 0, 1] = 1.0 + eo * Va / Vo
    diag[..., 1, 0] = -eta * D * Vo / Va
    diag[..., 1, 1] = 1.0
    lower = np.zeros((B, N, 2, 2))
    lower[..., 0, 1] = -1.0
    lower[..., 1, 1] = -(1.0 - eta) * Vo / vo_prev
    # aqueous entrained up from stage k-1: ea_{k-1} Vo_{k-1} x_{k-1} = ea_{k-1} (Vo/Va)_{k-1} a_{k-1}
    lower[:, 1:, 0, 0] = -(ea * Vo / Va)[:, :-1]
    upper = np.zeros((B, N, 2, 2))
    upper[..., 0, 0] = -1.0
    # organic entrained down from stage k+1: eo_{k+1} Va_{k+1} y_{k+1} = eo_{k+1} (Va/Vo)_{k+1} o_{k+1}
    upper[:, :-1, 0, 1] = -(eo * Va / Vo)[:, 1:]
    rhs = np.zeros((B, N, 2))
    rhs[..., 0] = feed
    rhs[:, -1, 0] += aqueous_inlet
    rhs[:, 0, 0] += organic_inlet
    rhs[:, 0, 1] += (1.0 - eta[:, 0]) * Vo[:, 0] / vin * organic_inlet
    x = solve_block_tridiagonal(lower, diag, upper, rhs)
    return x[..., 0], x[..., 1]


def outlet_streams(
    a: np.ndarray,
    o: np.ndarray,
    Va: np.ndarray,
    Vo: np.ndarray,
    entrained_aqueous: np.ndarray | float = 0.0,
    entrained_organic: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The two streams leaving a cascade, mol/h, each (B,): the aqueous outlet of stage 1 with the organic
    it entrains, and the organic outlet of stage N with the aqueous it entrains (arrays as in
    :func:`solve_linear_cascade`)."""
    B, N = a.shape
    Va = np.broadcast_to(np.asarray(Va, float), (B, N))
    Vo = np.broadcast_to(np.asarray(Vo, float), (B, N))
    ea = np.broadcast_to(np.asarray(entrained_aqueous, float), (B, N))
    eo = np.broadcast_to(np.asarray(entrained_organic, float), (B, N))
    down = a[:, 0] + eo[:, 0] * Va[:, 0] / Vo[:, 0] * o[:, 0]
    up = o[:, -1] + ea[:, -1] * Vo[:, -1] / Va[:, -1] * a[:, -1]
    return down, up


def kremser_fraction_unextracted(E: float, N: int) -> float:
    """Fraction of a solute left in the raffinate after N ideal stages at extraction factor E (clean organic).

    (x_in/x_out) = (E^(N+1) - 1)/(E - 1), and N + 1 at E = 1 (Rydberg et al. 2004, via sx_theory.md a2).
    """
    if abs(E - 1.0) < 1e-12:
        return 1.0 / (N + 1)
    return (E - 1.0) / (E ** (N + 1) - 1.0)
