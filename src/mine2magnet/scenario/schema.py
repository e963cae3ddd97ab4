"""The scenario file schema (pydantic): the top-level sections and the policy records.

Facility attributes are checked against the chain's attribute tables (``mine2magnet/chain/attributes/*.csv``),
not here, so that defaults, units and documentation live in one place.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mine2magnet.elements import ELEMENTS
from mine2magnet.errors import InputError

#: Earliest and latest year a scenario may refer to.
YEAR_MIN, YEAR_MAX = 1990, 2100


def check_year(year: int, file: str | None, where: str) -> int:
    """A year within [YEAR_MIN, YEAR_MAX], else InputError naming file and field."""
    if isinstance(year, bool) or not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise InputError(
            f"year out of range: {year!r} (expected a whole year in {YEAR_MIN}-{YEAR_MAX})",
            file=file,
            field=where,
        )
    return year


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OverrideDef(_Strict):
    """A named override: a partial scenario merged onto the base."""

    description: str = Field(description="One line saying what the override changes")
    set: dict[str, Any] = Field(default_factory=dict, description="Partial scenario merged onto the base")


class ScenarioFile(_Strict):
    """A scenario file (YAML or JSON)."""

    name: str = Field(description="Scenario name (the file name without extension for built-ins)")
    description: str = Field(description="One-line description shown by `mine2magnet scenarios`")
    base: str | None = Field(None, description="Built-in scenario name or file this one starts from")
    apply: list[str] = Field(
        default_factory=list, description="Named overrides applied to the base, in order"
    )
    country: str | None = Field(
        None, description="Focus country for domestic KPIs (value added, self-sufficiency)"
    )
    years: list[int] | None = Field(None, description="[first, last] year simulated, inclusive")
    prices: dict[str, Any] = Field(
        default_factory=dict, description="Price deck (oxide prices, payabilities...)"
    )
    facilities: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, description="Facilities by type (mines, refineries...)"
    )
    trade_links: list[dict[str, Any]] = Field(default_factory=list, description="Links between facilities")
    policies: dict[str, list[dict[str, Any]]] = Field(default_factory=dict, description="Policies by kind")
    overrides: dict[str, OverrideDef] = Field(
        default_factory=dict, description="Named overrides defined here"
    )
    settings: dict[str, Any] = Field(default_factory=dict, description="Model settings (holding_cost...)")
    economics: dict[str, Any] = Field(
        default_factory=dict,
        description="Inputs of the accounts: rates, wages, jobs, capex (docs/economics.md)",
    )
    start_from: str | None = Field(
        None,
        description="Scenario (built-in name or file) whose closing residue stocks at the end of the year "
        "before this one's first year are this scenario's opening stocks (a calibrated history)",
    )

    @field_validator("years", mode="before")
    @classmethod
    def _years(cls, v: Any) -> Any:
        if v is None:
            return v
        if not isinstance(v, list) or len(v) != 2:
            raise ValueError("expected [first, last] with first <= last")
        for year in v:
            if isinstance(year, bool) or not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
                raise ValueError(f"year out of range: {year!r} (expected a whole year {YEAR_MIN}-{YEAR_MAX})")
        if v[0] > v[1]:
            raise ValueError("expected [first, last] with first <= last")
        return v


class OverridesFile(_Strict):
    """The shared file of named overrides (``scenarios/overrides.yaml``)."""

    overrides: dict[str, OverrideDef]


POLICY_KINDS = (
    "export_bans",
    "technology_restrictions",
    "quotas",
    "embargoes",
    "smuggling",
    "export_licensing",
    "licence_conditions",
)


class ExportBanSpec(_Strict):
    """`policies.export_bans[]`: no exports of `commodities` (default ore, concentrate, mrec) from `country`
    in `years` ([first, last]), except from the facilities named in `exceptions` and to the countries named
    in `exempt_destinations` (e.g. a trade agreement's partner)."""

    name: str
    country: str
    commodities: list[str] | None = None
    exceptions: list[str] = Field(default_factory=list)
    years: list[Any] | None = None
    exempt_destinations: list[str] = Field(default_factory=list)


class TechnologyRestrictionSpec(_Strict):
    """`policies.technology_restrictions[]`: facilities (of `facility_types`, default all) in `country` using
    `technology_origin` technology may operate in `years` only if state-linked."""

    name: str
    technology_origin: str
    country: str | None = None
    years: list[Any] | None = None
    facility_types: list[str] = Field(default_factory=list)


class QuotaSpec(_Strict):
    """`policies.quotas[]`: at most `limit` (t/yr, a sourced value or year series) in total on the links
    carrying `commodities` from `sources` or from `country` (exports only unless `exports_only` is false)."""

    name: str
    limit: Any
    commodities: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    country: str | None = None
    exports_only: bool = True
    years: list[Any] | None = None


class EmbargoSpec(_Strict):
    """`policies.embargoes[]`: `country` halts its exports (of `commodities`, default all) in `years`."""

    name: str
    country: str
    commodities: list[str] = Field(default_factory=list)
    years: list[Any] | None = None


class SmugglingSpec(_Strict):
    """`policies.smuggling[]`: `volume` t TREO/yr of illegally mined `commodity` of `composition`
    (fractions of TREO) leaves `country` for the market `destination` outside the formal chain; royalties
    and taxes are lost at `lost_revenue_rate` (fraction of its value: at the destination's price, or at
    `unit_value`, USD per t TREO, when the value such shipments trade at is known); `enforcement` (fraction
    by year) is the share of `volume` that raids, customs and the export ban stop."""

    name: str
    country: str
    volume: Any
    composition: Any
    destination: str
    commodity: str = "mrec"
    lost_revenue_rate: Any = 0.0
    years: list[Any] | None = None
    unit_value: Any = None
    enforcement: Any = None


class ExportLicensingSpec(_Strict):
    """`policies.export_licensing[]`: exports of `elements` (as `commodities`, default oxide, metal, magnet)
    from `country` need a licence from `start` (YYYY-MM); `approved` (fraction, a sourced value or year
    series) of them is licensed; `years` [first, last] the controls are in force (a suspension ends them)."""

    name: str
    country: str
    elements: list[str]
    approved: Any
    commodities: list[str] | None = None
    start: Any = None
    years: list[Any] | None = None


class LicenceConditionSpec(_Strict):
    """`policies.licence_conditions[]`: `facility` may not take `feeds` (default concentrate) in `years` while
    its `residue` is above `max_activity` (Bq/g), e.g. Lynas Malaysia's WLP below 1 Bq/g."""

    name: str
    facility: str
    residue: str
    max_activity: Any
    feeds: list[str] = Field(default_factory=lambda: ["concentrate"])
    years: list[Any] | None = None


POLICY_SPECS: dict[str, type[_Strict]] = {
    "export_bans": ExportBanSpec,
    "technology_restrictions": TechnologyRestrictionSpec,
    "quotas": QuotaSpec,
    "embargoes": EmbargoSpec,
    "smuggling": SmugglingSpec,
    "export_licensing": ExportLicensingSpec,
    "licence_conditions": LicenceConditionSpec,
}


def validate(model: type[BaseModel], data: Any, *, file: str | None, where: str = "") -> Any:
    """Validate `data` with a pydantic model; the first error becomes a one-line InputError (file + field)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        field = ".".join(p for p in (where, loc) if p)
        raise InputError(err["msg"].removeprefix("Value error, "), file=file, field=field or None) from None


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file (top level), for editors that lint YAML/JSON against a schema."""
    schema = ScenarioFile.model_json_schema()
    schema["title"] = "mine2magnet scenario"
    return schema


# ---------------------------------------------------------------------------------------------- values

#: Largest magnitude of a number written in a scenario, in whatever unit it is written (a world-scale flow is
#: below 1e7 t/yr, a plant's capex below 1e11 USD): larger numbers are typing errors or overflow probes.
MAX_MAGNITUDE = 1e12
#: Smallest non-zero magnitude (below it a value is an underflow probe, not a quantity).
MIN_MAGNITUDE = 1e-12
#: Tolerance on the sum of an inline composition (fractions of TREO), absolute.
COMPOSITION_TOLERANCE = 0.01
#: Attributes holding a calendar year (checked against [YEAR_MIN, YEAR_MAX]); ``end_year`` may also be 9999.
YEAR_FIELDS = ("start_year", "decision_year", "tax_holiday_until", "end_year", "first_year", "year", "start")
_NUMBER_HEAD = re.compile(r"^\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)(\s|$)")
_ELEMENT_KEYED = ("oxide", "magnet_bom", "composition")


def _leaves(data: Any, where: str) -> Iterator[tuple[str, Any, Any]]:
    """(field path, key, value) of every node below `data`, iteratively."""
    stack: list[tuple[str, Any, Any]] = [(where, None, data)]
    while stack:
        path, key, value = stack.pop()
        yield path, key, value
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else str(k), k, v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", key, v) for i, v in enumerate(value))


def _number(value: Any) -> float | None:
    """The number a scenario value holds: a number, or the number of a quantity ("12 kt/yr")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = _NUMBER_HEAD.match(value)
        return float(m.group(1)) if m else None
    return None


def _is_year(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_values(data: dict[str, Any], *, file: str | None) -> None:
    """Physical ranges of a merged scenario's numbers (raises InputError naming the file and the field).

    - every number (or a quantity's number) in facilities, trade links, prices, policies, economics and
      settings is finite, non-negative (capacities, resources, residue factors, prices, costs, volumes,
      rates and lead times cannot be negative) and below :data:`MAX_MAGNITUDE` in magnitude; a non-zero
      number is at least :data:`MIN_MAGNITUDE`;
    - years (keys of year series, and start/decision/tax-holiday years) are in [YEAR_MIN, YEAR_MAX];
    - keys of oxide prices, the magnet bill of materials and inline compositions are element symbols, and
      an inline composition of plain numbers sums to 1 within :data:`COMPOSITION_TOLERANCE`.

    Values taken from the dataset (``{ref: ...}``) are checked where the dataset is read.
    """
    for section in ("facilities", "trade_links", "prices", "policies", "economics", "settings"):
        for where, key, value in _leaves(data.get(section), section):
            if isinstance(value, dict):
                _check_keys(value, key, where, file)
                _check_sourced(value, where, file)
                continue
            if key in ("ref", "source", "note", "kind", "unit", "name", "description"):
                continue
            number = _number(value)
            if number is None:
                continue
            if not math.isfinite(number):
                raise InputError(f"expected a finite number, got {value!r}", file=file, field=where)
            if key in YEAR_FIELDS and _is_year(value):
                if not (YEAR_MIN <= value <= YEAR_MAX or (key == "end_year" and value == 9999)):
                    raise InputError(
                        f"year out of range: {value} (expected {YEAR_MIN}-{YEAR_MAX})", file=file, field=where
                    )
                continue
            if number < 0:
                raise InputError(
                    f"expected a quantity >= 0, got {value!r} (capacities, resources, residues, prices, "
                    "costs, volumes, rates and times cannot be negative)",
                    file=file,
                    field=where,
                )
            if abs(number) > MAX_MAGNITUDE or 0 < abs(number) < MIN_MAGNITUDE:
                raise InputError(
                    f"{value!r} is outside the accepted magnitudes {MIN_MAGNITUDE:g}-{MAX_MAGNITUDE:g} "
                    "(in the unit written)",
                    file=file,
                    field=where,
                )


#: the fields of a sourced value (``scenario/provenance.py``) besides its ``ref`` or ``value``
_SOURCED_EXTRAS = {"note", "unit", "kind", "source", "range", "scale"}


def _check_sourced(mapping: dict[Any, Any], where: str, file: str | None) -> None:
    """A mapping of sourced-value fields (note, unit, source...) must hold the `ref` or the `value` itself."""
    keys = set(mapping)
    if keys and keys <= _SOURCED_EXTRAS | {"year"} and keys & _SOURCED_EXTRAS:
        raise InputError(
            f"a sourced value needs `ref` (a data key) or `value`, got only {sorted(str(k) for k in keys)}",
            file=file,
            field=where,
        )


def _check_keys(mapping: dict[Any, Any], key: Any, where: str, file: str | None) -> None:
    """Year keys within the window; element keys known; an inline composition sums to 1."""
    for k in mapping:
        if _is_year(k) and not YEAR_MIN <= k <= YEAR_MAX:
            raise InputError(
                f"year out of range: {k} (expected {YEAR_MIN}-{YEAR_MAX})", file=file, field=f"{where}.{k}"
            )
    if key not in _ELEMENT_KEYED or "ref" in mapping or "value" in mapping:
        return
    unknown = sorted(str(k) for k in mapping if k not in ELEMENTS)
    if unknown:
        raise InputError(f"unknown element symbol(s) {unknown}", file=file, field=where)
    if key == "composition":
        numbers = [_number(v) for v in mapping.values()]
        if numbers and all(n is not None for n in numbers):
            total = math.fsum(n for n in numbers if n is not None)
            if abs(total - 1.0) > COMPOSITION_TOLERANCE:
                raise InputError(
                    f"fractions sum to {total:.6g}, expected 1 (within {COMPOSITION_TOLERANCE:g})",
                    file=file,
                    field=where,
                )
