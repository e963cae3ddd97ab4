"""A number (or a text fact) with its unit, source, kind and stated uncertainty."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mine2magnet.data.source import Source
from mine2magnet.data.units import convert
from mine2magnet.errors import InputError

#: How a value was obtained.
KINDS: tuple[str, ...] = ("measured", "reported", "estimate", "derived", "assumption")


@dataclass(frozen=True)
class SourcedValue:
    """One source's value for a quantity named by a dotted ``key``.

    ``value`` is a float in ``unit`` or, for qualitative facts (a partner's name), a string with
    ``unit = None``. ``range`` is the stated uncertainty ``(low, high)`` in the same unit, if any.
    ``same_quantity_as`` names other keys holding the same quantity (compared by ``Dataset.conflicts``).
    """

    key: str
    value: float | str
    unit: str | None
    source: Source
    kind: str
    range: tuple[float, float] | None = None
    year: int | None = None
    note: str | None = None
    basis: str | None = None
    derived_from: tuple[str, ...] = ()
    file: str | None = None
    index: int | None = None
    same_quantity_as: tuple[str, ...] = ()

    @property
    def is_text(self) -> bool:
        """True for a qualitative (string) value."""
        return isinstance(self.value, str)

    def magnitude(self, unit: str | None = None) -> float:
        """The value as a float, converted to `unit` (pint spelling) if given."""
        if isinstance(self.value, str):
            raise InputError(f"{self.key!r} is a text value ({self.value!r}), not a number", field=self.key)
        if unit is None or self.unit is None:
            return float(self.value)
        return convert(self.value, self.unit, unit)

    def bounds(self, unit: str | None = None) -> tuple[float, float] | None:
        """The stated range converted to `unit`, or None if no range was stated."""
        if self.range is None:
            return None
        if unit is None or self.unit is None:
            return (float(self.range[0]), float(self.range[1]))
        return (convert(self.range[0], self.unit, unit), convert(self.range[1], self.unit, unit))

    @property
    def where(self) -> str:
        """``file: values[i]`` — where the entry was read from."""
        return f"{self.file}: values[{self.index}]" if self.file is not None else "(in memory)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the full source."""
        return {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "kind": self.kind,
            "range": list(self.range) if self.range is not None else None,
            "year": self.year,
            "basis": self.basis,
            "note": self.note,
            "derived_from": list(self.derived_from),
            "same_quantity_as": list(self.same_quantity_as),
            "source": self.source.to_dict(),
            "file": self.file,
        }
