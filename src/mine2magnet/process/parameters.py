"""Plant parameters with provenance: looked up in the sourced dataset, optionally overridden by a flowsheet.

Every number a unit operation uses comes through :class:`ParameterSet`, which records what was used (value,
unit, source id, kind, range), so a refinery result can list the provenance of each figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mine2magnet.data import Dataset, load_dataset
from mine2magnet.data.units import convert
from mine2magnet.errors import InputError


@dataclass(frozen=True)
class Parameter:
    """One parameter as used in a run."""

    key: str
    value: float
    unit: str
    source: str
    kind: str
    range: tuple[float, float] | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Provenance record: key, value (in `unit`), unit, source id, kind, range."""
        return {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "source": self.source,
            "kind": self.kind,
            "range": list(self.range) if self.range else None,
        }


class ParameterSet:
    """Values by dataset key, in the unit asked for, with flowsheet overrides and a record of use.

    Args:
        dataset: the sourced dataset (default: the package data).
        overrides: key -> {value, unit, source, kind, range?, note?} from a flowsheet file; `source` must be a
            bibliography id of the dataset.
        file: the flowsheet file name, for error messages.
    """

    def __init__(
        self,
        dataset: Dataset | None = None,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        file: str | None = None,
    ) -> None:
        self.dataset = dataset if dataset is not None else load_dataset()
        self._overrides: dict[str, Parameter] = {}
        self.used: dict[str, Parameter] = {}
        for key, entry in (overrides or {}).items():
            field = f"parameters.{key}"
            try:
                value = float(entry["value"])
                unit = str(entry["unit"])
                source = str(entry["source"])
                kind = str(entry["kind"])
            except (KeyError, TypeError, ValueError):
                raise InputError(
                    "a parameter override needs value (number), unit, source (bibliography id) and kind",
                    file=file,
                    field=field,
                ) from None
            if source not in self.dataset.sources:
                raise InputError(f"unknown source id {source!r}", file=file, field=f"{field}.source")
            if kind not in ("measured", "reported", "estimate", "derived", "assumption"):
                raise InputError(
                    f"kind must be measured, reported, estimate, derived or assumption, got {kind!r}",
                    file=file,
                    field=f"{field}.kind",
                )
            rng = entry.get("range")
            if kind == "assumption" and rng is None:
                raise InputError("an assumption needs a range [low, high]", file=file, field=f"{field}.range")
            self._overrides[key] = Parameter(
                key, value, unit, source, kind, tuple(rng) if rng else None, entry.get("note")
            )

    def value(self, key: str, unit: str | None = None) -> float:
        """The parameter's magnitude in `unit` (dataset unit if None); records its use."""
        if key in self._overrides:
            par = self._overrides[key]
            value = convert(par.value, par.unit, unit) if unit is not None and unit != par.unit else par.value
            self.used[key] = par
            return value
        entry = self.dataset.get(key)
        value = entry.magnitude(unit)
        rng = entry.bounds(unit) if entry.range is not None else None
        self.used[key] = Parameter(
            key, value, unit or str(entry.unit), entry.source.id, entry.kind, rng, entry.note
        )
        return value

    def has(self, key: str) -> bool:
        """Whether `key` is a flowsheet override or a dataset value."""
        return key in self._overrides or key in self.dataset

    def provenance(self) -> list[dict[str, Any]]:
        """Every parameter used so far, sorted by key."""
        return [self.used[k].to_dict() for k in sorted(self.used)]
