"""Sourced numbers in scenario files: resolve ``{ref: data.key}`` and inline ``{value, unit, source|kind,
range, note}`` entries to plain quantities, and record every one of them for the assumptions table.

Forms accepted wherever a number goes in a scenario file:

- ``{ref: facility.lynas_malaysia.ndpr_capacity}`` — a key of the sourced dataset (:mod:`mine2magnet.data`);
  optional ``unit`` to convert to and ``scale`` (a factor: preferably itself a sourced value such as
  ``{ref: chain.smuggling.crackdown_residual}``, else a plain number explained in ``note``);
- ``{value: "12 kt/yr", source: <source id>, kind: reported, range: [..], note: ..}`` — an inline value citing
  a bibliography entry of the dataset;
- ``{value: 3, unit: yr, kind: assumption, range: [2, 6], note: why}`` — an explicit assumption (the range and
  the note are required);
- a bare quantity (``"12 kt/yr"``) is accepted but listed as ``kind: unsourced`` (the built-ins have none).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mine2magnet.chain.attributes import Quantity, _quantity
from mine2magnet.chain.result import TABLE_COLUMNS
from mine2magnet.chain.series import YearSeries
from mine2magnet.data import Dataset
from mine2magnet.data.units import convert, parse_unit
from mine2magnet.errors import InputError
from mine2magnet.scenario.schema import check_year

#: The assumptions table of a run: the chain's columns plus the data-layer key a value came from.
ASSUMPTION_COLUMNS = (*TABLE_COLUMNS["assumptions"], "data_key")
KINDS = ("measured", "reported", "estimate", "derived", "assumption")
_SOURCED_KEYS = {"ref", "value", "unit", "source", "kind", "range", "note", "scale", "year"}


def is_sourced(node: Any) -> bool:
    """True if `node` is a sourced-value mapping (has ``ref`` or ``value``)."""
    return isinstance(node, Mapping) and ("ref" in node or "value" in node) and set(node) <= _SOURCED_KEYS


@dataclass
class Provenance:
    """Resolves sourced values against a dataset and remembers each one (for the assumptions table)."""

    dataset: Dataset
    file: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)

    def _record(
        self, key: str, value: Any, unit: str, kind: str, source: Any, rng: Any, note: str, data_key: str = ""
    ) -> None:
        lo, hi = rng if rng is not None else (None, None)
        self.rows.append(
            {
                "key": key,
                "value": value,
                "unit": unit,
                "kind": kind,
                "source_id": getattr(source, "id", "") if source is not None else "",
                "source_title": getattr(source, "title", "") if source is not None else "",
                "source_url": (getattr(source, "url", "") or "") if source is not None else "",
                "source_date": str(getattr(source, "date", "") or "") if source is not None else "",
                "range_low": lo,
                "range_high": hi,
                "note": note or "",
                "data_key": data_key,
            }
        )

    def composition(self, node: Any, where: str) -> dict[str, Any]:
        """A composition: ``{ref: feed.*}`` (from the dataset) or a mapping of element -> sourced value."""
        if isinstance(node, Mapping) and set(node) <= {"ref", "note"} and "ref" in node:
            key = str(node["ref"])
            try:
                comp = self.dataset.composition(key)
            except (KeyError, InputError) as exc:
                raise InputError(
                    f"unknown composition key {key!r} ({exc})", file=self.file, field=where
                ) from None
            self._record(
                where,
                "; ".join(f"{e} {v:.4g}" for e, v in comp.fractions.items()),
                "fraction of TREO",
                comp.kind,
                comp.source,
                None,
                " ".join(
                    part
                    for part in (
                        str(node.get("note") or getattr(comp, "note", "") or ""),
                        "Per-element ranges: "
                        + ", ".join(f"{e} {lo:.4g}-{hi:.4g}" for e, (lo, hi) in comp.ranges.items())
                        if comp.ranges
                        else "",
                    )
                    if part
                ),
                key,
            )
            return dict(comp.fractions)
        if not isinstance(node, Mapping):
            raise InputError(
                f"expected a composition ({{ref: feed.<name>}} or element: value), got {node!r}",
                file=self.file,
                field=where,
            )
        return {el: self.resolve(v, f"{where}.{el}") for el, v in node.items()}

    def resolve(self, node: Any, where: str) -> Any:
        """A sourced-value node -> Quantity / text / int (recorded); other nodes are returned unchanged."""
        if isinstance(node, Mapping) and ("ref" in node or "value" in node) and set(node) - _SOURCED_KEYS:
            unknown = sorted(str(k) for k in set(node) - _SOURCED_KEYS)[0]
            raise InputError(f"unknown field {unknown!r} in a sourced value", file=self.file, field=where)
        if not is_sourced(node):
            if (isinstance(node, str) and node[:1].isdigit() and " " in node) or (
                isinstance(node, int | float) and not isinstance(node, bool)
            ):
                self._record(where, node, "", "unsourced", None, None, "no source given")
            return node
        unknown = set(node) - _SOURCED_KEYS
        if unknown:
            raise InputError(
                f"unknown field {sorted(unknown)[0]!r} in a sourced value", file=self.file, field=where
            )
        if "ref" in node:
            return self._resolve_ref(node, where)
        return self._resolve_inline(node, where)

    def _resolve_ref(self, node: Mapping[str, Any], where: str) -> Any:
        key = str(node["ref"])
        try:
            sv = self.dataset.get(key)
        except (KeyError, InputError) as exc:
            raise InputError(
                f"unknown data key {key!r} ({exc})", file=self.file, field=f"{where}.ref"
            ) from None
        if isinstance(sv.value, str):
            self._record(
                where, sv.value, "", sv.kind, sv.source, None, str(node.get("note") or sv.note or ""), key
            )
            return sv.value
        unit = sv.unit or ""
        value = float(sv.value)
        rng = sv.range
        if node.get("unit"):
            try:
                value = convert(value, unit, str(node["unit"]))
                rng = tuple(convert(r, unit, str(node["unit"])) for r in rng) if rng else None
            except InputError as exc:
                raise InputError(str(exc), file=self.file, field=f"{where}.unit") from None
            unit = str(node["unit"])
        scale = node.get("scale", 1.0)
        if is_sourced(scale):  # a sourced factor, e.g. {ref: chain.smuggling.crackdown_residual}
            q = self.resolve(scale, f"{where}.scale")
            scale = convert(q.value, q.unit, "dimensionless") if isinstance(q, Quantity) else q
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            raise InputError(
                f"scale must be a number or a sourced factor, got {scale!r}",
                file=self.file,
                field=f"{where}.scale",
            )
        value *= scale
        rng = tuple(r * scale for r in rng) if rng else None
        note = str(node.get("note") or sv.note or "")
        if scale != 1.0:
            note = f"{key} x {scale:g}. {note}".strip()
        self._record(where, value, unit, sv.kind, sv.source, rng, note, key)
        return Quantity(value, unit or "dimensionless")

    def _resolve_inline(self, node: Mapping[str, Any], where: str) -> Any:
        raw = node["value"]
        kind = node.get("kind")
        if kind is None or kind not in KINDS:
            raise InputError(
                f"kind must be one of {', '.join(KINDS)}, got {kind!r}", file=self.file, field=f"{where}.kind"
            )
        source_id = node.get("source")
        if source_id is None:
            if kind != "assumption":
                raise InputError(
                    f"a {kind} value needs a source (a bibliography id of the dataset)",
                    file=self.file,
                    field=f"{where}.source",
                )
            source_id = "mine2magnet-assumption"
        source = self.dataset.sources.get(str(source_id))
        if source is None:
            raise InputError(f"unknown source id {source_id!r}", file=self.file, field=f"{where}.source")
        rng = node.get("range")
        if kind == "assumption" and (rng is None or not node.get("note")):
            raise InputError(
                "an assumption needs a range [low, high] and a note saying why",
                file=self.file,
                field=where,
            )
        if rng is not None:
            if not (
                isinstance(rng, list | tuple)
                and len(rng) == 2
                and all(isinstance(r, int | float) and not isinstance(r, bool) for r in rng)
            ):
                raise InputError(
                    f"range must be [low, high] numbers, got {rng!r}", file=self.file, field=f"{where}.range"
                )
            rng = (float(rng[0]), float(rng[1]))
        note = str(node.get("note") or "")
        if isinstance(raw, str):
            head, _, tail = raw.strip().partition(" ")
            try:
                magnitude = float(head)
            except ValueError:
                self._record(where, raw, "", kind, source, None, note)
                return raw
            unit = tail.strip() or str(node.get("unit") or "")
        elif isinstance(raw, bool) or not isinstance(raw, int | float):
            raise InputError(
                f"value must be a number, a quantity or a text, got {raw!r}",
                file=self.file,
                field=f"{where}.value",
            )
        else:
            magnitude = float(raw)
            unit = str(node.get("unit") or "")
        if rng is not None and not (
            min(rng) - 1e-9 * abs(magnitude) <= magnitude <= max(rng) + 1e-9 * abs(magnitude)
        ):
            raise InputError(
                f"range {list(rng)} does not contain the value {magnitude:g}",
                file=self.file,
                field=f"{where}.range",
            )
        if unit:
            try:
                parse_unit(unit)
            except InputError as exc:
                raise InputError(str(exc), file=self.file, field=f"{where}.value") from None
        self._record(where, magnitude, unit, kind, source, rng, note)
        if not unit and isinstance(raw, int) and math.isfinite(magnitude):
            return int(raw)  # a year or a count
        return Quantity(magnitude, unit or "dimensionless")


def series_of(node: Any, unit: str, prov: Provenance, where: str) -> YearSeries:
    """A year series (or a single value) of sourced values in `unit`."""
    if isinstance(node, Mapping) and not ("ref" in node or "value" in node):
        return YearSeries(
            {
                check_year(y, prov.file, f"{where}.{y}"): _quantity(
                    prov.resolve(v, f"{where}.{y}"), unit, f"{where}.{y}", prov.file
                )
                for y, v in node.items()
            }
        )
    return YearSeries.constant(_quantity(prov.resolve(node, where), unit, where, prov.file))


def scalar_of(node: Any, unit: str, prov: Provenance, where: str) -> float:
    return _quantity(prov.resolve(node, where), unit, where, prov.file)
