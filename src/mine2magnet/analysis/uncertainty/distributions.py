"""Distributions of uncertain inputs, each a map from a uniform number in [0, 1] to a value (its quantile).

Sampling works in the unit hypercube (Monte Carlo, Latin hypercube, Sobol' sequences, Morris grids) and each
input's distribution turns its column into values with :meth:`Distribution.ppf`; a rank correlation is imposed
on the unit numbers (a Gaussian copula, ``sampling.py``), so every distribution keeps its own shape.

Numbers are in the unit of the dataset entry they replace. Discrete distributions return the index of the
chosen option; :meth:`Discrete.option` gives the option itself (a number, or a named override).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from mine2magnet.errors import InputError

#: Unit numbers are kept this far from 0 and 1 for distributions without bounds (a Morris grid reaches 0 and
#: 1, where a normal quantile is infinite).
UNBOUNDED_TAIL = 1e-3


def _unit(u: np.ndarray | Sequence[float]) -> np.ndarray:
    return np.clip(np.asarray(u, dtype=float), 0.0, 1.0)


@dataclass(frozen=True)
class Distribution:
    """Base class: a distribution of one input."""

    #: True when the values are option indices (see :class:`Discrete`).
    discrete = False

    def ppf(self, u: np.ndarray | Sequence[float]) -> np.ndarray:
        """The values at the unit numbers `u` (the inverse of the cumulative distribution)."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line: the family and its parameters."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters with the family's name under ``distribution``."""
        raise NotImplementedError


def _check_bounds(low: float, high: float, what: str) -> None:
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise InputError(f"{what}: expected low <= high (finite numbers), got [{low}, {high}]")


@dataclass(frozen=True)
class Uniform(Distribution):
    """Every value in [low, high] equally likely (the default for a stated range)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_bounds(self.low, self.high, "uniform")

    def ppf(self, u: np.ndarray | Sequence[float]) -> np.ndarray:
        return self.low + (self.high - self.low) * _unit(u)

    def describe(self) -> str:
        return f"uniform [{self.low:g}, {self.high:g}]"

    def to_dict(self) -> dict[str, Any]:
        return {"distribution": "uniform", "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular on [low, high] with its peak at `mode` (by default the stated value)."""

    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        _check_bounds(self.low, self.high, "triangular")
        if not self.low <= self.mode <= self.high:
            raise InputError(f"triangular: mode {self.mode:g} outside [{self.low:g}, {self.high:g}]")

    def ppf(self, u: np.ndarray | Sequence[float]) -> np.ndarray:
        u = _unit(u)
        width = self.high - self.low
        if width == 0.0:
            return np.full_like(u, self.low)
        c = (self.mode - self.low) / width
        left = self.low + np.sqrt(u * width * (self.mode - self.low))
        right = self.high - np.sqrt((1.0 - u) * width * (self.high - self.mode))
        return np.where(u < c, left, right)

    def describe(self) -> str:
        return f"triangular [{self.low:g}, {self.high:g}] mode {self.mode:g}"

    def to_dict(self) -> dict[str, Any]:
        return {"distribution": "triangular", "low": self.low, "mode": self.mode, "high": self.high}


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal with `mean` and standard deviation `sd`, truncated to [low, high] when bounds are given."""

    mean: float
    sd: float
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and math.isfinite(self.sd) and self.sd > 0):
            raise InputError(f"normal: expected a finite mean and sd > 0, got mean {self.mean}, sd {self.sd}")
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if not lo < hi:
            raise InputError(f"normal: expected low < high, got [{self.low}, {self.high}]")

    def ppf(self, u: np.ndarray | Sequence[float]) -> np.ndarray:
        u = _unit(u)
        if self.low is None and self.high is None:
            return stats.norm.ppf(np.clip(u, UNBOUNDED_TAIL, 1 - UNBOUNDED_TAIL), self.mean, self.sd)
        a = -np.inf if self.low is None else (self.low - self.mean) / self.sd
        b = np.inf if self.high is None else (self.high - self.mean) / self.sd
        tail = UNBOUNDED_TAIL if self.low is None or self.high is None else 0.0
        x = stats.truncnorm.ppf(np.clip(u, tail, 1 - tail), a, b, loc=self.mean, scale=self.sd)
        return np.clip(
            x, -np.inf if self.low is None else self.low, np.inf if self.high is None else self.high
        )

    def describe(self) -> str:
        cut = (
            f" within [{self.low:g}, {self.high:g}]" if self.low is not None or self.high is not None else ""
        )
        return f"normal mean {self.mean:g} sd {self.sd:g}{cut}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "distribution": "normal",
            "mean": self.mean,
            "sd": self.sd,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Log-normal with `median` and `sigma` (standard deviation of the natural log); positive values only."""

    median: float
    sigma: float

    def __post_init__(self) -> None:
        if not (
            self.median > 0 and math.isfinite(self.median) and self.sigma > 0 and math.isfinite(self.sigma)
        ):
            raise InputError(
                f"lognormal: expected median > 0 and sigma > 0, got median {self.median}, sigma {self.sigma}"
            )

    def ppf(self, u: np.ndarray | Sequence[float]) -> np.ndarray:
        z = stats.norm.ppf(np.clip(_unit(u), UNBOUNDED_TAIL, 1 - UNBOUNDED_TAIL))
        return self.median * np.exp(self.sigma * z)

    def describe(self) -> str:
        return f"lognormal median {self.median:g} sigma {self.sigma:g}"

    def to_dict(self) -> dict[str, Any]:
        return {"distribution": "lognormal", "median": self.median, "sigma": self.sigma}


@dataclass(frozen=True)
class Discrete(Distribution):
    """A finite set of options, each with a probability (equal by default).

    Options are numbers (alternative values of a dataset entry, e.g. the values of its conflicting sources,
    or the whole years of a start date) or names (named scenario overrides; ``base`` for none). :meth:`ppf`
    returns the option's index; :meth:`option` the option.
    """

    options: tuple[float | str, ...]
    probabilities: tuple[float, ...] = ()
    family: str = "discrete"  # "discrete", "sources" (the entries of one key), "integer" (whole numbers)

    discrete = True

    def __post_init__(self) -> None:
        if not self.options:
            raise InputError(f"{self.family}: expected at least one option")
        probs = self.probabilities or tuple(1.0 / len(self.options) for _ in self.options)
        if len(probs) != len(self.options):
            raise InputError(
                f"{self.family}: {len(self.options)} options but {len(probs)} probabilities",
            )
        if any(not (p >= 0 and math.isfinite(p)) for p in probs) or not math.isclose(
            sum(probs), 1.0, abs_tol=1e-6
        ):
            raise InputError(f"{self.family}: probabilities must be >= 0 and sum to 1, got {list(probs)}")
        object.__setattr__(self, "probabilities", tuple(float(p) for p in probs))

    @classmethod
    def integers(cls, low: int, high: int) -> Discrete:
        """Every whole number from `low` to `high`, equally likely (e.g. a start year)."""
        if high < low:
            raise InputError(f"integer: expected low <= high, got [{low}, {high}]")
        return cls(tuple(float(y) for y in range(int(low), int(high) + 1)), family="integer")

    def ppf(self, u: np.ndarray | Sequence[float]) -> np.ndarray:
        edges = np.cumsum(self.probabilities)[:-1]
        return np.searchsorted(edges, _unit(u), side="right").astype(float)

    def option(self, index: float) -> float | str:
        """The option at `index` (as :meth:`ppf` returns it)."""
        return self.options[int(index)]

    @property
    def numeric(self) -> bool:
        """True when the options are numbers (values of a dataset entry), not override names."""
        return all(isinstance(o, int | float) for o in self.options)

    def describe(self) -> str:
        if self.family == "integer":
            return f"integer {self.options[0]:g}..{self.options[-1]:g}"
        shown = ", ".join(f"{o:g}" if isinstance(o, float) else str(o) for o in self.options)
        probs = ", ".join(f"{p:.3g}" for p in self.probabilities)
        return f"{self.family} {{{shown}}} p {{{probs}}}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "distribution": self.family,
            "options": list(self.options),
            "probabilities": list(self.probabilities),
        }
