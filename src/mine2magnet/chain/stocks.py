"""Stocks carried from year to year: resources in the ground, stockpiles, residue inventories, magnets in use.

Magnets in use follow a dynamic stock model (inflow-driven, as in ODYM/flodym): each year's inflow is a cohort
that leaves service with a normal lifetime distribution (mean, standard deviation, truncated at age >= 0);
what leaves service is the end-of-life flow a recycler can collect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


def _survival(age: float, mean: float, sd: float) -> float:
    """Share of a cohort still in use at `age` years (normal lifetime truncated at 0)."""
    if age < 0:
        return 1.0
    if sd <= 0:
        return 1.0 if age < mean else 0.0
    z = (age - mean) / (sd * math.sqrt(2.0))
    z0 = (0.0 - mean) / (sd * math.sqrt(2.0))
    tail0 = 0.5 * math.erfc(z0)  # P(L >= 0)
    return (0.5 * math.erfc(z)) / tail0


@dataclass
class InUseStock:
    """Magnets in service for one market, by cohort (install year) and element, t REO equivalent."""

    mean: float
    sd: float
    cohorts: dict[int, np.ndarray] = field(default_factory=dict)

    def seed_evenly_aged(self, total: np.ndarray, first_year: int) -> None:
        """Put `total` in use spread evenly over the `mean` years before `first_year`."""
        n = max(1, round(self.mean))
        for k in range(1, n + 1):
            self.cohorts[first_year - k] = self.cohorts.get(first_year - k, 0.0) + total / n

    def end_of_life(self, year: int) -> np.ndarray:
        """What leaves service during `year` (t per element); does not change the stock."""
        out = None
        for c, amount in self.cohorts.items():
            share = _survival(year - 1 - c, self.mean, self.sd) - _survival(year - c, self.mean, self.sd)
            out = amount * share if out is None else out + amount * share
        return out if out is not None else np.zeros(0)

    def in_use(self, year: int) -> np.ndarray | None:
        """Stock in use at the end of `year` (t per element)."""
        total = None
        for c, amount in self.cohorts.items():
            if c <= year:
                part = amount * _survival(year - c, self.mean, self.sd)
                total = part if total is None else total + part
        return total

    def add(self, year: int, inflow: np.ndarray) -> None:
        """Install `inflow` in `year`."""
        self.cohorts[year] = self.cohorts.get(year, 0.0) + inflow


@dataclass
class ChainState:
    """Everything that carries over between years."""

    resource_left: dict[str, float] = field(default_factory=dict)  # mine -> t TREO accessible, not yet mined
    stockpile: dict[tuple[str, str], np.ndarray] = field(
        default_factory=dict
    )  # (facility, commodity) -> t/el
    scrap: dict[str, np.ndarray] = field(default_factory=dict)  # recycler -> collected, not yet processed
    residue_t: dict[tuple[str, str], float] = field(default_factory=dict)  # (facility, type) -> t
    residue_bq: dict[tuple[str, str], float] = field(default_factory=dict)  # (facility, type) -> Bq
    in_use: dict[str, InUseStock] = field(default_factory=dict)  # market -> magnets in use

    def add_residue(self, facility: str, kind: str, tonnes: float, bq_per_g: float) -> None:
        """Accumulate residue of one type at a facility (t, and Bq from Bq/g)."""
        key = (facility, kind)
        self.residue_t[key] = self.residue_t.get(key, 0.0) + tonnes
        self.residue_bq[key] = self.residue_bq.get(key, 0.0) + tonnes * 1e6 * bq_per_g

    def stockpile_of(self, key: tuple[str, str], n: int) -> np.ndarray:
        """The stockpile at (facility, commodity), zeros if none."""
        return self.stockpile.get(key, np.zeros(n))


def total(arrays: Mapping[object, np.ndarray], n: int) -> np.ndarray:
    """Sum of per-element arrays (zeros if none)."""
    out = np.zeros(n)
    for a in arrays.values():
        out = out + a
    return out
