"""A quantity that changes by year: points joined linearly, flat before the first and after the last."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class YearSeries:
    """Values at given years, linearly interpolated in between and held constant outside.

    Evaluated at whole years only, so two adjacent points (``2025: 0, 2026: 5000``) make a step.
    """

    points: Mapping[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", dict(sorted((int(k), float(v)) for k, v in self.points.items())))

    @classmethod
    def constant(cls, value: float) -> YearSeries:
        """The same value every year."""
        return cls({0: value})

    def at(self, year: int) -> float:
        """The value in `year`."""
        years = list(self.points)
        values = list(self.points.values())
        if len(years) == 1 or year <= years[0]:
            return values[0]
        if year >= years[-1]:
            return values[-1]
        if any(not np.isfinite(v) for v in values):  # interpolate only finite stretches; else step
            prev = max(y for y in years if y <= year)
            return self.points[prev]
        return float(np.interp(year, years, values))

    def scaled(self, factor: float) -> YearSeries:
        """Every point multiplied by `factor`."""
        return YearSeries({y: v * factor for y, v in self.points.items()})
