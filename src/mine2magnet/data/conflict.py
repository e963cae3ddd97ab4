"""Quantities whose sources disagree beyond their stated uncertainty."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mine2magnet.data.sourced_value import SourcedValue

#: Relative half-width given to a value that states no range (1 %): rounding-level agreement.
DEFAULT_RELATIVE_TOLERANCE = 0.01


@dataclass(frozen=True, eq=True)
class Conflict:
    """A key whose entries disagree: ``values`` are all its entries, ``reason`` says which and by how much.

    When keys declared ``same_quantity_as`` each other are compared together, ``keys`` lists them all
    (``key`` is the first) and ``values`` holds the entries of every one of them; otherwise ``keys`` is
    ``(key,)``.
    """

    key: str
    values: list[SourcedValue]
    reason: str
    keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.keys:
            object.__setattr__(self, "keys", (self.key,))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"key", "keys", "reason", "values": [{"value", "unit", "kind", "source", ...}]}``."""
        values = [v.to_dict() for v in self.values]
        return {"key": self.key, "keys": list(self.keys), "reason": self.reason, "values": values}


def interval(
    entry: SourcedValue, unit: str | None, rel_tol: float = DEFAULT_RELATIVE_TOLERANCE
) -> tuple[float, float]:
    """The interval a numeric entry vouches for, in `unit`: its stated range, else value ± `rel_tol`."""
    bounds = entry.bounds(unit)
    if bounds is not None:
        return bounds
    centre = entry.magnitude(unit)
    half = abs(centre) * rel_tol
    return (centre - half, centre + half)


def find_conflict(
    key: str, entries: Sequence[SourcedValue], rel_tol: float = DEFAULT_RELATIVE_TOLERANCE
) -> Conflict | None:
    """The conflict among a key's entries, or None if they agree.

    Text values conflict when they differ. Numbers (converted to the first entry's unit) conflict when two
    entries' intervals (stated range, else value ± `rel_tol`) do not overlap. Entries may come from several
    keys that hold the same quantity (``same_quantity_as``); the reason then names the key of each entry.
    """
    if len(entries) < 2:
        return None
    keys = tuple(dict.fromkeys(e.key for e in entries))
    across = len(keys) > 1
    keys = keys if across else (key,)
    prefix = f"{' and '.join(keys)} hold the same quantity (same_quantity_as); " if across else ""

    def where(e: SourcedValue) -> str:
        return f" ({e.key})" if across else ""

    if entries[0].is_text:
        distinct = sorted({str(e.value).strip() for e in entries})
        if len(distinct) > 1:
            if across:
                named = sorted({f"{str(e.value).strip()!r}{where(e)}" for e in entries})
                reason = prefix + "sources name different values: " + " vs ".join(named)
            else:
                reason = "sources name different values: " + " vs ".join(map(repr, distinct))
            return Conflict(key, list(entries), reason, keys)
        return None
    unit = entries[0].unit
    spans = [interval(e, unit, rel_tol) for e in entries]
    clashes = []
    for i in range(len(entries)):
        for j in range(i + 1, len(entries)):
            (lo_i, hi_i), (lo_j, hi_j) = spans[i], spans[j]
            if hi_i < lo_j or hi_j < lo_i:
                a, b = entries[i], entries[j]
                clashes.append(
                    f"{a.source.id} {_fmt(a, unit)}{where(a)} vs {b.source.id} {_fmt(b, unit)}{where(b)}"
                )
    if not clashes:
        return None
    note = f"no range stated -> ±{rel_tol:.0%}" if any(e.range is None for e in entries) else "stated ranges"
    reason = f"{prefix}values disagree beyond their uncertainty ({note}): " + "; ".join(clashes)
    return Conflict(key, list(entries), reason, keys)


def _fmt(entry: SourcedValue, unit: str | None) -> str:
    text = f"{entry.magnitude(unit):,.6g} {unit or ''}".strip()
    bounds = entry.bounds(unit)
    if bounds is not None:
        text += f" [{bounds[0]:,.6g}–{bounds[1]:,.6g}]"
    return text
