"""Counter-current cascade with constant distribution ratios (linear in the flows), any Murphree efficiency.

Per component and stage k (1..N, aqueous flowing N -> 1, organic 1 -> N), with a_k, o_k the aqueous and
organic flows leaving stage k (mol/h), Va_k, Vo_k the volume flows leaving it (L/h):

    balance:   a_k + o_k - a_{k+1} - o_{k-1} = f_k
    Murphree:  y_k = y_in + eta_k (D_k x_k - y_in),   y_in = o_{k-1}/Vo_{k-1} (the organic entering stage k)

with a_{N+1} the aqueous inlet (scrub/strip liquor) and o_0 the organic inlet. Unknowns (a_k, o_k) per stage
give a block-tridiagonal system with 2x2 blocks; components and cases are independent and solved in one call.
With eta = 1 this is the Kremser cascade (o_k = E_k a_k, E_k = D_k Vo_k/Va_k).
"""

from __future__ import annotations

import numpy as np

from mine2magnet.separation.block_tridiagonal import solve_block_tridiagonal


def solve_linear_cascade(
    D: np.ndarray,
    Va: np.ndarray,
    Vo: np.ndarray,
    feed: np.ndarray,
    aqueous_inlet: np.ndarray,
    organic_inlet: np.ndarray,
    efficiency: np.ndarray | float = 1.0,
    organic_inlet_volume: np.ndarray | float | None = None,
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
    diag[..., 0, 0] = 1.0
    diag[..., 0, 1] = 1.0
    diag[..., 1, 0] = -eta * D * Vo / Va
    diag[..., 1, 1] = 1.0
    lower = np.zeros((B, N, 2, 2))
    lower[..., 0, 1] = -1.0
    lower[..., 1, 1] = -(1.0 - eta) * Vo / vo_prev
    upper = np.zeros((B, N, 2, 2))
    upper[..., 0, 0] = -1.0
    rhs = np.zeros((B, N, 2))
    rhs[..., 0] = feed
    rhs[:, -1, 0] += aqueous_inlet
    rhs[:, 0, 0] += organic_inlet
    rhs[:, 0, 1] += (1.0 - eta[:, 0]) * Vo[:, 0] / vin * organic_inlet
    x = solve_block_tridiagonal(lower, diag, upper, rhs)
    return x[..., 0], x[..., 1]


def kremser_fraction_unextracted(E: float, N: int) -> float:
    """Fraction of a solute left in the raffinate after N ideal stages at extraction factor E (clean organic).

    (x_in/x_out) = (E^(N+1) - 1)/(E - 1), and N + 1 at E = 1 (Rydberg et al. 2004, via sx_theory.md a2).
    """
    if abs(E - 1.0) < 1e-12:
        return 1.0 / (N + 1)
    return (E - 1.0) / (E ** (N + 1) - 1.0)
