"""Numbers in plain words for the report: ``USD 1.2 bn``, ``12,300 t``, ``86 %``."""

from __future__ import annotations

import math

#: Units whose values add up across facilities, elements or stages (amounts, money, activity).
ADDITIVE_UNITS = ("t", "kt", "Mt", "kg", "t/yr", "USD", "USD/yr", "MYR", "Bq", "GBq", "TBq", "t REO")


def is_additive(unit: str) -> bool:
    """Whether values in ``unit`` add up to a total (tonnes, money, becquerel — not shares or indices)."""
    unit = (unit or "").strip()
    return unit in ADDITIVE_UNITS or unit.split(" ")[0].split("/")[0] in {
        "t",
        "kt",
        "Mt",
        "kg",
        "USD",
        "MYR",
        "Bq",
    }


def is_fraction(unit: str) -> bool:
    """Whether ``unit`` is a share of one (shown as a percentage)."""
    return (unit or "").strip().lower() in {"fraction", "1", "share", "ratio", "dimensionless", "-"}


def _scaled(value: float, suffixes: tuple[tuple[float, str], ...]) -> str:
    for size, suffix in suffixes:
        if abs(value) >= size:
            return f"{value / size:,.3g} {suffix}".rstrip()
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def format_value(value: float | None, unit: str = "") -> str:
    """``value`` with its unit, rounded for reading: money in M/bn, tonnes with separators, shares in %."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    unit = (unit or "").strip()
    if is_fraction(unit):
        return f"{100.0 * value:.0f} %" if abs(value) >= 0.01 or value == 0 else f"{100.0 * value:.2g} %"
    if unit == "%":
        return f"{value:.0f} %"
    if unit.startswith("USD") or unit.startswith("MYR"):
        currency, _, rest = unit.partition("/")
        text = f"{currency} {_scaled(value, ((1e9, 'bn'), (1e6, 'M')))}"
        return f"{text}/{rest}" if rest else text
    if unit in {"t", "t/yr", "t REO"}:
        text = f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.3g}"
        return f"{text} {unit}"
    if unit == "Bq":
        return f"{_scaled(value, ((1e15, 'PBq'), (1e12, 'TBq'), (1e9, 'GBq'), (1e6, 'MBq')))}".strip() + (
            "" if abs(value) >= 1e6 else " Bq"
        )
    if unit in {"yr", "years"}:
        return f"{value:,.1f} years" if abs(value) < 100 else f"{value:,.0f} years"
    if "0-1" in unit:
        return f"{value:.2f}"
    if unit in {"index", "HHI", ""}:
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return f"{value:,.4g} {unit}"
