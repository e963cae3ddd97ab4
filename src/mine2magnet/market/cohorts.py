"""Magnets in use: a cohort (age-tracking) stock per segment, its end-of-life flows and what is recycled.

A cohort is the inflow of one year. Its members leave use at age ``a`` (whole years after the year they
entered) with probability ``F(a) - F(a-1)``, where ``F`` is the lifetime distribution's cumulative
probability (``F(-1) = 0``); at the end of year ``t`` the cohort of year ``c`` keeps
``inflow_c (1 - F(t - c))``. So ``stock_t - stock_{t-1} = inflow_t - outflow_t`` holds exactly, year by
year (checked by ``InUseStock.mass_balance_residual``).

The stock is stepped one year at a time (``InUseStock.step``) because the market decides each year's inflow
(what buyers get) only when that year is solved; dynamic-MFA libraries such as flodym compute a stock over a
whole, known inflow series, which does not fit a year-by-year equilibrium, so the arithmetic is written here
with numpy. An opening stock published for one year (e.g. Du & Graedel's 2007 in-use stocks) is given an age
structure by assuming inflows grew at a constant rate before it (``InUseStock.from_published_stock``).

Units: t (of magnet, or of an element: the arithmetic is the same) and t/yr; ages in years.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from mine2magnet.errors import InputError

#: cohorts kept before the opening year when an opening stock is given an age structure
HISTORY_YEARS = 80


@dataclass(frozen=True)
class Lifetime:
    """A lifetime distribution in years: ``weibull`` (``shape``, ``scale``), ``normal`` (``mean``, ``sd``;
    truncated at 0) or ``fixed`` (everything leaves at age ``mean``)."""

    kind: str
    mean: float | None = None
    sd: float | None = None
    shape: float | None = None
    scale: float | None = None

    def __post_init__(self) -> None:
        ok = {
            "weibull": self.shape is not None
            and self.scale is not None
            and self.shape > 0
            and self.scale > 0,
            "normal": self.mean is not None and self.sd is not None and self.mean > 0 and self.sd > 0,
            "fixed": self.mean is not None and self.mean >= 0 and float(self.mean).is_integer(),
        }
        if self.kind not in ok:
            raise InputError(
                f"unknown lifetime kind {self.kind!r}; expected weibull, normal or fixed", field="kind"
            )
        if not ok[self.kind]:
            need = {
                "weibull": "shape > 0 and scale > 0",
                "normal": "mean > 0 and sd > 0",
                "fixed": "a whole mean >= 0",
            }
            raise InputError(f"a {self.kind} lifetime needs {need[self.kind]}", field="lifetime")

    def cdf(self, age: np.ndarray) -> np.ndarray:
        """Share of a cohort gone by the end of its year of age `age` (0 for negative ages)."""
        a = np.asarray(age, dtype=float)
        if self.kind == "weibull":
            out = 1.0 - np.exp(-((np.clip(a, 0, None) / self.scale) ** self.shape))
        elif self.kind == "normal":  # truncated at age 0
            at_zero = ndtr((0.0 - self.mean) / self.sd)
            out = (ndtr((a - self.mean) / self.sd) - at_zero) / (1.0 - at_zero)
        else:
            out = (a >= self.mean).astype(float)
        return np.where(a < 0, 0.0, np.clip(out, 0.0, 1.0))

    def average(self) -> float:
        """Mean lifetime, years."""
        if self.kind == "weibull":
            return float(self.scale * math.gamma(1.0 + 1.0 / self.shape))  # type: ignore[operator]
        return float(self.mean)  # type: ignore[arg-type]


@dataclass
class InUseStock:
    """A stock in use with its cohorts: ``inflows[c]`` t entered in year ``c``; stepped year by year."""

    lifetime: Lifetime
    inflows: dict[int, float] = field(default_factory=dict)
    year: int | None = None
    history: list[tuple[int, float, float, float]] = field(default_factory=list)  # (year, in, out, stock)

    @classmethod
    def from_published_stock(cls, lifetime: Lifetime, stock: float, year: int, growth: float) -> InUseStock:
        """A stock of `stock` t at the end of `year`, built from past inflows growing by `growth` per year."""
        if stock < 0 or not -0.5 < growth < 1.0:
            raise InputError(f"opening stock >= 0 t and growth in (-0.5, 1) expected, got {stock}, {growth}")
        years = np.arange(year - HISTORY_YEARS + 1, year + 1)
        shape = (1.0 + growth) ** (years - year)
        kept = shape * (1.0 - lifetime.cdf(year - years))
        if kept.sum() <= 0 and stock > 0:
            raise InputError(
                f"a lifetime that keeps nothing in use cannot hold an opening stock of {stock} t"
            )
        scale = stock / kept.sum() if kept.sum() > 0 else 0.0
        out = cls(lifetime, {int(c): float(scale * s) for c, s in zip(years, shape, strict=True)}, year)
        out.history.append((year, float(scale * shape[-1]), float("nan"), out.stock()))
        return out

    def stock(self, year: int | None = None) -> float:
        """t in use at the end of `year` (default: the last year stepped)."""
        t = self.year if year is None else year
        if t is None or not self.inflows:
            return 0.0
        c = np.array(list(self.inflows))
        v = np.array(list(self.inflows.values()))
        mask = c <= t
        return float((v[mask] * (1.0 - self.lifetime.cdf(t - c[mask]))).sum())

    def outflow(self, year: int) -> float:
        """t leaving use in `year` (end of life), from every cohort that entered before or in it."""
        if not self.inflows:
            return 0.0
        c = np.array(list(self.inflows))
        v = np.array(list(self.inflows.values()))
        mask = c <= year
        a = year - c[mask]
        return float((v[mask] * (self.lifetime.cdf(a) - self.lifetime.cdf(a - 1))).sum())

    def step(self, year: int, inflow: float) -> float:
        """Add `inflow` t entering use in `year` (the next year); return the t leaving use in `year`."""
        if self.year is not None and year != self.year + 1:
            raise InputError(f"stock stepped to {year} after {self.year}: years must follow each other")
        if inflow < 0:
            raise InputError(f"inflow must be >= 0 t, got {inflow}", field=str(year))
        self.inflows[year] = self.inflows.get(year, 0.0) + float(inflow)
        self.year = year
        out = self.outflow(year)
        self.history.append((year, float(inflow), out, self.stock()))
        return out

    def mass_balance_residual(self) -> float:
        """Largest |stock change - (inflow - outflow)| over the stepped years, t."""
        worst = 0.0
        for (_, _, _, s0), (_, i1, o1, s1) in zip(self.history, self.history[1:], strict=False):
            worst = max(worst, abs((s1 - s0) - (i1 - o1)))
        return worst


def recycled(outflow: float, collection_rate: float, recovery_yield: float) -> float:
    """t recovered from `outflow` t reaching end of life: collected, then recovered by the process."""
    for name, v in (("collection_rate", collection_rate), ("recovery_yield", recovery_yield)):
        if not 0.0 <= v <= 1.0:
            raise InputError(f"{name} must lie in [0, 1], got {v}", field=name)
    return outflow * collection_rate * recovery_yield
