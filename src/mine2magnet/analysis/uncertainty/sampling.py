"""Sample matrices: Monte Carlo, Latin hypercube, Sobol' (Saltelli) and Morris, with SALib; rank correlations.

Every method first fills the unit hypercube (one column per input, one row per draw, numbered from 0), then
each input's distribution turns its column into values. The draws of a study are fixed by its inputs, method,
size and seed alone, so any backend that evaluates draw ``i`` from row ``i`` gives the same results.

Correlations (Monte Carlo and Latin hypercube only) are Spearman rank correlations imposed with a Gaussian
copula: the unit numbers go to standard normal scores, are mixed by the Cholesky factor of the matching
Pearson matrix (r = 2 sin(pi rho / 6)) and come back through the normal distribution function. Sobol' and
Morris indices assume independent inputs, so those methods refuse correlations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from mine2magnet.analysis.uncertainty.inputs import Input
from mine2magnet.errors import InputError

METHODS: tuple[str, ...] = ("mc", "lhs", "sobol", "morris")

#: Grid levels of a Morris design.
MORRIS_LEVELS = 4

#: Smallest base sample of a Sobol' design (a power of two).
SOBOL_MIN_BASE = 4


@dataclass(frozen=True)
class Correlation:
    """A rank (Spearman) correlation between two inputs, -1 < rho < 1."""

    first: str
    second: str
    rho: float

    def __post_init__(self) -> None:
        if not -1.0 < self.rho < 1.0:
            raise InputError(
                f"correlation {self.first} ~ {self.second}: rho must be in (-1, 1), got {self.rho}"
            )
        if self.first == self.second:
            raise InputError(f"correlation of {self.first!r} with itself")


@dataclass(frozen=True)
class Sample:
    """The unit numbers and values of every draw (row) and input (column), and how they were drawn."""

    method: str
    names: tuple[str, ...]
    unit: np.ndarray  # (draws, inputs) in [0, 1]
    values: np.ndarray  # (draws, inputs): values, or option indices of discrete inputs
    base_size: int  # Sobol': N; Morris: trajectories; Monte Carlo, Latin hypercube: draws
    seed: int

    @property
    def draws(self) -> int:
        """Number of model runs."""
        return int(self.unit.shape[0])

    def problem(self) -> dict[str, Any]:
        """SALib's problem dict: the inputs on the unit interval."""
        return problem(self.names)


def problem(names: Sequence[str]) -> dict[str, Any]:
    """SALib's problem dict for inputs sampled on [0, 1]."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def design_size(method: str, draws: int, inputs: int) -> tuple[int, int]:
    """(base size, model runs) of a design within `draws` runs.

    Monte Carlo and Latin hypercube: `draws` runs. Sobol' (first and total order): N (D + 2) runs for the
    largest power of two N that fits. Morris: r (D + 1) runs for the largest number of trajectories r.
    """
    if method not in METHODS:
        raise InputError(f"unknown sampling method {method!r}; expected one of {', '.join(METHODS)}")
    if draws < 1:
        raise InputError(f"the number of draws must be at least 1, got {draws}")
    if method in ("mc", "lhs"):
        return draws, draws
    if method == "sobol":
        per = inputs + 2
        if draws < SOBOL_MIN_BASE * per:
            raise InputError(
                f"Sobol' indices of {inputs} inputs need at least {SOBOL_MIN_BASE * per} draws "
                f"({SOBOL_MIN_BASE} x (inputs + 2)); got {draws}"
            )
        base = 2 ** math.floor(math.log2(draws // per))
        return base, base * per
    per = inputs + 1
    if draws < 2 * per:
        raise InputError(
            f"Morris screening of {inputs} inputs needs at least {2 * per} draws "
            "(2 trajectories of inputs + 1); "
            f"got {draws}"
        )
    return draws // per, (draws // per) * per


def correlation_matrix(names: Sequence[str], correlations: Sequence[Correlation]) -> np.ndarray | None:
    """The Pearson matrix of the normal scores that gives the rank correlations asked (None if none)."""
    if not correlations:
        return None
    index = {n: i for i, n in enumerate(names)}
    r = np.eye(len(names))
    for c in correlations:
        for name in (c.first, c.second):
            if name not in index:
                raise InputError(f"correlation names {name!r}, which is not an input of the study")
        i, j = index[c.first], index[c.second]
        if r[i, j] != 0.0:
            raise InputError(f"correlation {c.first} ~ {c.second} is declared twice")
        r[i, j] = r[j, i] = 2.0 * math.sin(math.pi * c.rho / 6.0)
    try:
        np.linalg.cholesky(r)
    except np.linalg.LinAlgError:
        raise InputError(
            "the correlations declared are not consistent with each other (their matrix is not positive "
            "definite); weaken some of them"
        ) from None
    return r


def gaussian_copula(unit: np.ndarray, pearson: np.ndarray) -> np.ndarray:
    """Unit numbers whose normal scores have the correlation matrix `pearson` (columns' ranks reshuffled)."""
    eps = 0.5 / max(unit.shape[0], 1) / 1e6
    z = stats.norm.ppf(np.clip(unit, eps, 1.0 - eps))
    return stats.norm.cdf(z @ np.linalg.cholesky(pearson).T)


def unit_sample(method: str, names: Sequence[str], draws: int, seed: int) -> tuple[np.ndarray, int]:
    """The unit hypercube sample of `method` within `draws` runs and its base size."""
    from SALib.sample import latin, morris, sobol

    base, _ = design_size(method, draws, len(names))
    prob = problem(names)
    if method == "mc":
        return np.random.default_rng(seed).random((base, len(names))), base
    if method == "lhs":
        return np.asarray(latin.sample(prob, base, seed=seed), dtype=float), base
    if method == "sobol":
        return np.asarray(sobol.sample(prob, base, calc_second_order=False, seed=seed), dtype=float), base
    grid = morris.sample(prob, base, num_levels=MORRIS_LEVELS, seed=seed)
    return np.asarray(grid, dtype=float), base


def draw_sample(
    inputs: Sequence[Input],
    method: str = "lhs",
    draws: int = 100,
    seed: int = 0,
    correlations: Sequence[Correlation] = (),
) -> Sample:
    """The sample of a study: unit numbers by `method` (with the rank `correlations`), then values."""
    names = tuple(i.name for i in inputs)
    pearson = correlation_matrix(names, correlations)
    if pearson is not None and method not in ("mc", "lhs"):
        raise InputError(
            "correlations are for Monte Carlo or Latin hypercube sampling (mc, lhs): "
            f"{method} indices assume "
            "independent inputs; drop the correlations or choose mc or lhs"
        )
    unit, base = unit_sample(method, names, draws, seed)
    if pearson is not None:
        unit = gaussian_copula(unit, pearson)
    values = np.column_stack([inp.distribution.ppf(unit[:, j]) for j, inp in enumerate(inputs)])
    return Sample(method, names, unit, values, base, seed)
