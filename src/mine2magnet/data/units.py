"""The unit registry for sourced values: pint with the trade's units added.

Added to pint's defaults:

- currencies ``USD``, ``MYR``, ``CNY``, ``AUD``, ``EUR`` — each its own dimension (exchange rates are data,
  ``fx.*`` values, never hidden conversions);
- ``kt`` = kilotonne (pint's default ``kt`` is the knot) and ``Mt`` = megatonne (pint default, kept);
- scale words ``thousand``, ``million``, ``billion`` (``bn``), ``trillion`` (``tn``), so "800 billion MYR"
  is written ``value: 800, unit: billion MYR``;
- ``fraction`` (= 1).

``t`` is the metric tonne, ``yr`` the year, ``%`` per cent, ``ppm`` parts per million.
"""

from __future__ import annotations

from functools import cache

import pint

from mine2magnet.errors import InputError

#: The registry every sourced value is read with (read-only after construction).
UNITS = pint.UnitRegistry(on_redefinition="ignore", cache_folder=None)
for _definition in (
    "kilotonne = 1000 * metric_ton = kt",
    "thousand = 1e3",
    "million = 1e6",
    "billion = 1e9 = bn",
    "trillion = 1e12 = tn",
    "fraction = 1",
    "USD = [currency_usd]",
    "MYR = [currency_myr] = RM",
    "CNY = [currency_cny] = RMB",
    "AUD = [currency_aud]",
    "EUR = [currency_eur]",
):
    UNITS.define(_definition)

#: Units that state a part of a whole: values in them must lie in [0, 1] once converted to a fraction.
FRACTION_UNITS: frozenset[str] = frozenset({"fraction", "%", "percent", "ppm", "ppb", "permille"})


@cache
def parse_unit(text: str) -> pint.Unit:
    """The pint unit spelled `text`; raises InputError for an unknown unit."""
    try:
        return UNITS.Unit(text)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, ValueError, TypeError) as exc:
        raise InputError(f"unknown unit {text!r} ({exc})") from None
    except Exception as exc:  # pint raises a few other types on malformed expressions
        raise InputError(f"cannot parse unit {text!r} ({exc})") from None


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """`value` in `from_unit` expressed in `to_unit`; raises InputError if the dimensions differ."""
    if from_unit == to_unit:
        return float(value)
    source, target = parse_unit(from_unit), parse_unit(to_unit)
    try:
        return float(UNITS.Quantity(value, source).to(target).magnitude)
    except pint.errors.DimensionalityError:
        raise InputError(
            f"cannot convert {from_unit!r} to {to_unit!r}: dimensions differ "
            f"({source.dimensionality} vs {target.dimensionality})"
        ) from None


def compatible(unit_a: str, unit_b: str) -> bool:
    """True if the two units measure the same dimension."""
    return parse_unit(unit_a).dimensionality == parse_unit(unit_b).dimensionality


def as_fraction(value: float, unit: str) -> float:
    """A part-of-whole value (unit in FRACTION_UNITS) as a plain fraction."""
    return convert(value, unit, "fraction")
