"""Distribution-ratio models for the physical (concentration-based) cascade: D_i as a function of [H+] and of
the free extractant fraction phi, with the derivatives Newton needs.

Each model returns, per stage, ln D_i and the partial derivatives d ln D_i / d ln[H+] and d ln D_i / d ln phi.

* :class:`EmpiricalPh` — log10 D_i = a_i pH + b_i; PrOMMiS's DEHPA form
  log10 D_i = (a0_i + a1_i dos) pH + b0_i + b1_i log10(dos) with dos the extractant vol% (fixed, as PrOMMiS
  does,
  or the free vol% after loading, dos = vol% x phi); or a constant D_i (PrOMMiS's impurity form).
* :class:`MassAction` — acidic organophosphorus extractants, RE^z+ + k (HA)2 <=> complex + z H+:
  D_i = Kex_i ([(HA)2]_tot phi)^k_i / [H+]^z_i  (sx_theory.md a1).

Both couple to the free-extractant balance phi = 1 - sum_i nu_i y_i / T through :attr:`capacity`
(``(nu, T)``: extractant bound per extracted ion and the extractant concentration, same basis), or not at all
(``capacity is None``: phi stays 1 and is not an unknown).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LN10 = math.log(10.0)


@dataclass(frozen=True)
class EmpiricalPh:
    """log10 D = a pH + b (or the dosage form, or constant D), per component; arrays of shape (C,).

    For component i: if ``constant[i]`` is finite, D_i = constant[i]; otherwise
    log10 D_i = (a[i] + a1[i] dos) pH + b[i] + b1[i] log10(dos), where dos = volume_percent (x phi if
    ``free_dosage``). With a1 = b1 = 0 this is the plain form a pH + b.
    """

    a: np.ndarray
    b: np.ndarray
    a1: np.ndarray
    b1: np.ndarray
    constant: np.ndarray
    volume_percent: float = 1.0
    free_dosage: bool = False
    capacity: tuple[np.ndarray, float] | None = None

    def log_d(self, ln_h: np.ndarray, ln_phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """ln D (N, C), d ln D/d ln h (N, C), d ln D/d ln phi (N, C) for ln[H+] and ln phi of shape (N,)."""
        ph = -ln_h[:, None] / LN10
        dos = self.volume_percent * (np.exp(ln_phi)[:, None] if self.free_dosage else 1.0)
        slope = self.a + self.a1 * dos
        lnd = LN10 * (slope * ph + self.b) + self.b1 * np.log(dos)
        d_h = -slope * np.ones_like(lnd)
        d_phi = (self.a1 * dos * ph * LN10 + self.b1) if self.free_dosage else np.zeros_like(lnd)
        const = np.isfinite(self.constant)
        if const.any():
            lnd = np.where(const, np.log(np.where(const, self.constant, 1.0)), lnd)
            d_h = np.where(const, 0.0, d_h)
            d_phi = np.where(const, 0.0, d_phi)
        return lnd, d_h, np.broadcast_to(d_phi, lnd.shape)


@dataclass(frozen=True)
class MassAction:
    """D_i = Kex_i ([(HA)2]_tot phi)^k_i / [H+]^z_i; arrays (C,). ``capacity`` = (nu, total dimer mol/L)."""

    ln_kex: np.ndarray
    exponent: np.ndarray
    charge: np.ndarray
    total_dimer: float
    capacity: tuple[np.ndarray, float] | None

    def log_d(self, ln_h: np.ndarray, ln_phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """ln D (N, C), d ln D/d ln h (N, C), d ln D/d ln phi (N, C)."""
        lnd = (
            self.ln_kex
            + self.exponent * (math.log(self.total_dimer) + ln_phi[:, None])
            - self.charge * ln_h[:, None]
        )
        return lnd, np.broadcast_to(-self.charge, lnd.shape), np.broadcast_to(self.exponent, lnd.shape)
