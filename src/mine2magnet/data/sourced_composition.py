"""A sourced element distribution, e.g. a feed's % of TREO by element."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mine2magnet.data.source import Source
from mine2magnet.elements import Composition


@dataclass(frozen=True)
class SourcedComposition:
    """Fractions of total rare-earth oxide (oxide basis) by element, with provenance.

    ``fractions`` holds each listed element's oxide as a fraction of TREO (0.2550 for "25.50 %"). Elements
    the source does not list are absent (not zero). ``complete`` says the source's table covers all of TREO.
    """

    key: str
    fractions: MappingProxyType[str, float]
    source: Source
    kind: str
    complete: bool
    tolerance_percent: float | None = None
    year: int | None = None
    note: str | None = None
    derived_from: tuple[str, ...] = ()
    file: str | None = None
    index: int | None = None
    ranges: MappingProxyType[str, tuple[float, float]] = field(default_factory=lambda: MappingProxyType({}))

    def total(self) -> float:
        """Sum of the listed fractions (1.0 for a complete table, less for a partial one)."""
        return float(sum(self.fractions.values()))

    def to_composition(self, total_reo_kg: float = 1.0, normalise: bool = False) -> Composition:
        """An :class:`~mine2magnet.elements.Composition` holding `total_reo_kg` kg of TREO in these shares.

        With ``normalise=True`` the listed fractions are rescaled to sum to 1 first (use for a table that
        sums to 99.x % through rounding); otherwise they are used as given.
        """
        scale = 1.0 / self.total() if normalise else 1.0
        return Composition.from_reo_fractions(
            {s: f * scale for s, f in self.fractions.items()}, total_reo_kg=total_reo_kg
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the full source (fractions, not per cent)."""
        return {
            "key": self.key,
            "fractions": dict(self.fractions),
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "complete": self.complete,
            "tolerance_percent": self.tolerance_percent,
            "kind": self.kind,
            "year": self.year,
            "note": self.note,
            "derived_from": list(self.derived_from),
            "source": self.source.to_dict(),
            "file": self.file,
        }
