"""Attribute tables of the value-chain components (PyPSA style): one CSV per facility type.

Each table (``attributes/<type>.csv``) lists ``attribute, type, unit, default, description``; defaults, units
and documentation come from that one place. :func:`parse_attributes` turns the raw values a scenario gives
(quantities with units such as ``"12 kt/yr"``, year series ``{2024: "7.2 kt/yr", 2026: ...}``, mappings) into
plain floats in the chain's internal units (t/yr, t, USD, USD/t, fractions, years), checking units with pint.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mine2magnet.chain.series import YearSeries
from mine2magnet.data.units import convert, parse_unit
from mine2magnet.errors import InputError

#: Facility types, each with its attribute table ``attributes/<type>.csv``.
FACILITY_TYPES: tuple[str, ...] = (
    "mines",
    "crackers",
    "refineries",
    "metal_plants",
    "magnet_plants",
    "recyclers",
    "suppliers",
    "markets",
)
#: The table of trade links (not a facility).
TRADE_LINKS = "trade_links"

#: Attribute types understood by the tables.
ATTRIBUTE_TYPES = ("str", "bool", "int", "float", "fraction", "series", "mapping", "bounds", "composition")


@dataclass(frozen=True)
class Attribute:
    """One row of an attribute table."""

    name: str
    type: str
    unit: str
    default: str
    description: str

    @property
    def required(self) -> bool:
        """True when the table gives no default."""
        return self.default == "" and self.type not in ("str", "mapping", "bounds", "composition", "int")


@dataclass(frozen=True)
class Quantity:
    """A magnitude with its unit, as written by a user (converted at the boundary)."""

    value: float
    unit: str


@cache
def attribute_table(kind: str) -> dict[str, Attribute]:
    """The attribute table of a facility type (or ``trade_links``), keyed by attribute name."""
    if kind not in (*FACILITY_TYPES, TRADE_LINKS):
        raise KeyError(kind)
    text = resources.files("mine2magnet.chain").joinpath("attributes", f"{kind}.csv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    table = {
        r["attribute"]: Attribute(r["attribute"], r["type"], r["unit"], r["default"], r["description"])
        for r in rows
    }
    for a in table.values():
        if a.type not in ATTRIBUTE_TYPES:  # a packaging defect, not user input
            raise RuntimeError(f"attributes/{kind}.csv: {a.name}: unknown attribute type {a.type!r}")
    return table


def _quantity(raw: Any, unit: str, where: str, file: str | None) -> float:
    """A user value in the attribute's internal `unit`; bare numbers are refused when a unit is needed."""
    if isinstance(raw, Quantity):
        magnitude, given = raw.value, raw.unit
    elif isinstance(raw, str):
        text = raw.strip()
        head, _, tail = text.partition(" ")
        try:
            magnitude = float(head)
        except ValueError:
            raise InputError(
                f"expected a number with a unit (e.g. '12 kt/yr'), got {raw!r}", file=file, field=where
            ) from None
        given = tail.strip()
        if not given:
            if unit and not parse_unit(unit).dimensionless:
                raise InputError(
                    f"missing unit: give {raw!r} with a unit convertible to {unit!r}", file=file, field=where
                )
            given = unit or "fraction"
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InputError(f"expected a number with a unit, got {raw!r}", file=file, field=where)
    else:
        if unit and not parse_unit(unit).dimensionless:
            raise InputError(
                f"missing unit: give {raw!r} with a unit convertible to {unit!r} (e.g. '{raw} {unit}')",
                file=file,
                field=where,
            )
        magnitude, given = float(raw), unit or "fraction"
    target = unit or "fraction"
    try:
        parse_unit(given)
        return convert(magnitude, given, target)
    except InputError as exc:
        raise InputError(
            f"{exc}; expected a unit convertible to {target!r}", file=file, field=where
        ) from None


def _default(attr: Attribute) -> Any:
    if attr.default == "":
        return None
    if attr.type == "bool":
        return attr.default.lower() == "true"
    if attr.type == "int":
        return int(attr.default)
    if attr.type in ("float", "fraction"):
        return float(attr.default)
    if attr.type == "series":
        return YearSeries.constant(float(attr.default))
    return attr.default


def _parse_one(attr: Attribute, raw: Any, where: str, file: str | None) -> Any:
    if attr.type == "str":
        if not isinstance(raw, str):
            raise InputError(f"expected text, got {raw!r}", file=file, field=where)
        return raw
    if attr.type == "bool":
        if not isinstance(raw, bool):
            raise InputError(f"expected true or false, got {raw!r}", file=file, field=where)
        return raw
    if attr.type == "int":
        if isinstance(raw, Quantity) and float(raw.value).is_integer():
            return int(raw.value)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InputError(f"expected a whole number (a year), got {raw!r}", file=file, field=where)
        return raw
    if attr.type == "float":
        return _quantity(raw, attr.unit, where, file)
    if attr.type == "fraction":
        value = _quantity(raw, "fraction", where, file)
        if not 0.0 <= value <= 1.0:
            raise InputError(f"expected a fraction in [0, 1], got {raw!r}", file=file, field=where)
        return value
    if attr.type == "series":
        if isinstance(raw, Mapping):
            points = {}
            for year, value in raw.items():
                if isinstance(year, bool) or not isinstance(year, int):
                    raise InputError(f"series keys must be years, got {year!r}", file=file, field=where)
                points[year] = _quantity(value, attr.unit, f"{where}.{year}", file)
            if not points:
                raise InputError("empty year series", file=file, field=where)
            return YearSeries(points)
        return YearSeries.constant(_quantity(raw, attr.unit, where, file))
    if attr.type == "mapping":
        if not isinstance(raw, Mapping):
            raise InputError(f"expected a mapping, got {raw!r}", file=file, field=where)
        if not attr.unit:
            return dict(raw)
        return {k: _quantity(v, attr.unit, f"{where}.{k}", file) for k, v in raw.items()}
    if attr.type == "bounds":  # name -> [low, high] in the attribute's unit
        if not isinstance(raw, Mapping):
            raise InputError(f"expected a mapping of [low, high] pairs, got {raw!r}", file=file, field=where)
        out_bounds = {}
        for k, pair in raw.items():
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                raise InputError(f"expected [low, high], got {pair!r}", file=file, field=f"{where}.{k}")
            low, high = (_quantity(v, attr.unit, f"{where}.{k}", file) for v in pair)
            if not 0.0 <= low <= high < math.inf:
                raise InputError(
                    f"expected 0 <= low <= high, got [{low:g}, {high:g}] {attr.unit}",
                    file=file,
                    field=f"{where}.{k}",
                )
            out_bounds[k] = (low, high)
        return out_bounds
    if attr.type == "composition":
        if not isinstance(raw, Mapping):
            raise InputError(f"expected element fractions of TREO, got {raw!r}", file=file, field=where)
        out = {k: _quantity(v, "fraction", f"{where}.{k}", file) for k, v in raw.items()}
        if any(v < 0 for v in out.values()) or sum(out.values()) <= 0:
            raise InputError(
                "composition fractions must be non-negative and not all zero", file=file, field=where
            )
        return out
    raise AssertionError(attr.type)


def parse_attributes(
    kind: str, raw: Mapping[str, Any], *, where: str, file: str | None = None
) -> dict[str, Any]:
    """Validate and convert one component's raw attributes against its table.

    Unknown attributes, missing required ones, wrong types and missing or wrong units raise
    :class:`InputError` naming ``file`` and the field ``<where>.<attribute>``. Returns every attribute of the
    table, defaults filled in; numbers in internal units (t/yr, t, USD/t, fractions, yr).
    """
    table = attribute_table(kind)
    unknown = sorted(set(raw) - set(table) - {"name"})
    if unknown:
        raise InputError(
            f"unknown attribute {unknown[0]!r} for {kind}; known: {', '.join(table)}",
            file=file,
            field=f"{where}.{unknown[0]}",
        )
    out: dict[str, Any] = {}
    for name, attr in table.items():
        if name in raw and raw[name] is not None:
            out[name] = _parse_one(attr, raw[name], f"{where}.{name}", file)
        else:
            default = _default(attr)
            if default is None and attr.required:
                raise InputError(
                    f"missing required attribute ({attr.description}, unit {attr.unit or '-'})",
                    file=file,
                    field=f"{where}.{name}",
                )
            out[name] = default
    return out


def describe(kind: str) -> list[dict[str, str]]:
    """The attribute table as rows (for documentation and the report)."""
    return [
        {
            "attribute": a.name,
            "type": a.type,
            "unit": a.unit,
            "default": a.default,
            "description": a.description,
        }
        for a in attribute_table(kind).values()
    ]


def is_finite(x: float) -> bool:
    """True for a finite float (capacities default to infinity)."""
    return math.isfinite(x)
