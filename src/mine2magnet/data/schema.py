"""pydantic schemas of the data files (``sources/*.yaml`` and ``values/*.yaml``).

These check each entry on its own (types, required fields, units, fractions, ranges, element symbols,
composition sums). Cross-entry checks (source ids exist and are unique, one unit dimension per key) are in
:mod:`mine2magnet.data.loader`. See ``docs/data.md`` for the format with examples.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mine2magnet.data.observation import CLAIM_READINGS, QUANTITIES, Period
from mine2magnet.data.source import SOURCE_TYPES
from mine2magnet.data.sourced_value import KINDS
from mine2magnet.data.units import FRACTION_UNITS, as_fraction, parse_unit
from mine2magnet.elements import ELEMENTS

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_\-]+)*$")
_DATE_PATTERN = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_NUMBER_TEXT = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _check_key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        raise ValueError(f"key {key!r} must be dotted words (letters, digits, _ -), e.g. price.Nd2O3.2024")
    return key


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} must be one of {', '.join(KINDS)}")
    return kind


class SourceEntry(BaseModel):
    """One entry of ``sources:`` (the id is the mapping key)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, description="Title as published.")
    url: str | None = Field(description="Public address; null only if there is none (then say why in note).")
    publisher: str = Field(min_length=1, description="Publisher, outlet, agency or company.")
    date: str = Field(
        description="Publication date: YYYY, YYYY-MM or YYYY-MM-DD, or 'undated' (say why in note)."
    )
    type: str = Field(description="Kind of source, one of SOURCE_TYPES.")
    authors: str | None = None
    doi: str | None = None
    via: str | None = Field(default=None, description="How the text was read, if not from the original.")
    note: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_text(cls, v: object) -> object:
        if isinstance(v, _dt.date):
            return v.isoformat()
        if isinstance(v, int):
            return str(v)
        return v

    @field_validator("date")
    @classmethod
    def _date_format(cls, v: str) -> str:
        if not (_DATE_PATTERN.match(v) or v == "undated"):
            raise ValueError(f"date {v!r} must be YYYY, YYYY-MM, YYYY-MM-DD or 'undated'")
        return v

    @field_validator("type")
    @classmethod
    def _type_known(cls, v: str) -> str:
        if v not in SOURCE_TYPES:
            raise ValueError(f"type {v!r} must be one of {', '.join(sorted(SOURCE_TYPES))}")
        return v

    @field_validator("url")
    @classmethod
    def _url_form(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^(https?|ftp)://\S+$", v):
            raise ValueError(f"url {v!r} must start with http:// or https://")
        return v


class SourcesFile(BaseModel):
    """A ``sources/<topic>.yaml`` file."""

    model_config = ConfigDict(extra="forbid")

    sources: dict[str, SourceEntry]

    @field_validator("sources")
    @classmethod
    def _ids(cls, v: dict[str, SourceEntry]) -> dict[str, SourceEntry]:
        for sid in v:
            if not re.match(r"^[a-z0-9][a-z0-9._\-]*$", sid):
                raise ValueError(f"source id {sid!r} must be lower-case letters, digits, '.', '_' or '-'")
        return v


class _KeyedEntry(BaseModel):
    """What every data entry has: a dotted key and a kind (measured, reported, estimate, derived...)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("key", check_fields=False)
    @classmethod
    def _key_form(cls, v: str) -> str:
        return _check_key(v)

    @field_validator("kind", check_fields=False)
    @classmethod
    def _kind_known(cls, v: str) -> str:
        return _check_kind(v)


class ValueEntry(_KeyedEntry):
    """One entry of ``values:``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    key: str
    value: float | str = Field(description="Number in `unit`, or text for a qualitative fact.")
    unit: str | None = Field(default=None, description="pint spelling; needed for numbers, none for text.")
    source: str = Field(min_length=1, description="Id of a bibliography entry.")
    kind: str
    range: tuple[float, float] | None = Field(default=None, description="[low, high] in `unit`.")
    year: int | None = Field(default=None, ge=1800, le=2200)
    basis: str | None = Field(default=None, description="What is counted, e.g. REO, REC, NdPr oxide.")
    note: str | None = None
    derived_from: list[str] = Field(default_factory=list)
    same_quantity_as: list[str] = Field(
        default_factory=list,
        description="Other keys (values or observations) holding the same quantity; conflicts() compares "
        "across them.",
    )

    @field_validator("same_quantity_as")
    @classmethod
    def _same_keys_form(cls, v: list[str]) -> list[str]:
        return [_check_key(k) for k in v]

    @field_validator("range", "year", mode="before")
    @classmethod
    def _no_booleans(cls, v: object) -> object:
        items = v if isinstance(v, list | tuple) else [v]
        if any(isinstance(x, bool) for x in items):
            raise ValueError(f"expected numbers, got {v!r} (true/false is not a number)")
        return v

    @field_validator("value", mode="before")
    @classmethod
    def _value_type(cls, v: object) -> object:
        if isinstance(v, bool) or v is None:
            raise ValueError("value must be a number or a text; got " + repr(v))
        if isinstance(v, str) and _NUMBER_TEXT.match(v):
            raise ValueError(
                f"value {v!r} is a number written as text (YAML reads 800e9 as text): write 8.0e+11, or "
                "800 with unit 'billion MYR'"
            )
        return v

    @field_validator("unit")
    @classmethod
    def _unit_known(cls, v: str | None) -> str | None:
        if v is not None:
            parse_unit(v)  # raises InputError -> reported as ValueError below
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ValueEntry:
        if self.kind == "assumption" and not self.note:
            raise ValueError("note: an assumption must say in its note why it is taken")
        if self.kind == "assumption" and self.range is None and not isinstance(self.value, str):
            raise ValueError("range: a numeric assumption needs a range [low, high] stating its uncertainty")
        if isinstance(self.value, str):
            if self.unit is not None:
                raise ValueError("unit: a text value takes no unit")
            if self.range is not None:
                raise ValueError("range: a text value takes no range")
            return self
        if self.unit is None:
            raise ValueError("unit: a numeric value needs a unit ('dimensionless' for a pure number)")
        if self.value != self.value:
            raise ValueError("value: NaN is not a value; leave the quantity out or record an assumption")
        if self.range is not None:
            low, high = self.range
            if not low <= high:
                raise ValueError(f"range: low {low} is above high {high}")
            if not low <= self.value <= high:
                raise ValueError(f"range: value {self.value} lies outside its stated range [{low}, {high}]")
        if self.unit in FRACTION_UNITS:
            for name, number in [("value", self.value)] + [("range", n) for n in self.range or ()]:
                frac = as_fraction(number, self.unit)
                if not 0.0 <= frac <= 1.0:
                    raise ValueError(
                        f"{name}: {number} {self.unit} is a fraction outside [0, 1] (= {frac:g} of the whole)"
                    )
        return self


class CompositionEntry(_KeyedEntry):
    """One entry of ``compositions:`` — an element distribution."""

    model_config = ConfigDict(extra="forbid")

    key: str
    basis: Literal["reo_percent", "reo_fraction"] = Field(
        description="reo_percent: % of TREO by element oxide; reo_fraction: the same as fractions."
    )
    complete: bool = Field(description="True if the table covers all of TREO (must then sum to 100 %).")
    tolerance: float = Field(default=1.0, ge=0.0, le=10.0, description="Allowed |sum - 100| in % points.")
    values: dict[str, float]
    ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)
    source: str = Field(min_length=1)
    kind: str
    year: int | None = Field(default=None, ge=1800, le=2200)
    note: str | None = None
    derived_from: list[str] = Field(default_factory=list)

    @field_validator("values", "ranges")
    @classmethod
    def _elements_known(cls, v: dict[str, object]) -> dict[str, object]:
        for symbol in v:
            if symbol not in ELEMENTS:
                raise ValueError(f"unknown element {symbol!r} (use symbols such as La, Ce, Nd, Y, Th)")
        return v

    @model_validator(mode="after")
    def _sums(self) -> CompositionEntry:
        if self.kind == "assumption" and not self.note:
            raise ValueError("note: an assumption must say in its note why it is taken")
        if self.kind == "assumption":
            missing = [s for s in self.values if s not in self.ranges]
            if missing:
                raise ValueError(
                    f"ranges: an assumed composition needs a range [low, high] for every element; none for "
                    f"{', '.join(missing)}"
                )
        whole = 100.0 if self.basis == "reo_percent" else 1.0
        unit = "%" if whole == 100.0 else ""
        if not self.values:
            raise ValueError("values: a composition needs at least one element")
        for symbol, number in self.values.items():
            if not 0.0 <= number <= whole:
                raise ValueError(f"values.{symbol}: {number}{unit} is outside [0, {whole:g}]")
        for symbol, (low, high) in self.ranges.items():
            if not 0.0 <= low <= high <= whole:
                raise ValueError(f"ranges.{symbol}: [{low}, {high}] needs 0 <= low <= high <= {whole:g}")
            if symbol in self.values and not low <= self.values[symbol] <= high:
                value = self.values[symbol]
                raise ValueError(f"ranges.{symbol}: value {value} lies outside its range [{low}, {high}]")
        rare_total = sum(n for s, n in self.values.items() if ELEMENTS[s].rare_earth)
        scale = 100.0 / whole
        if self.complete and abs(rare_total * scale - 100.0) > self.tolerance:
            raise ValueError(
                f"values: declared complete but the rare earths sum to {rare_total * scale:.3f} % of TREO, "
                f"not 100 % within the tolerance of {self.tolerance} % points"
            )
        if rare_total * scale > 100.0 + self.tolerance:
            raise ValueError(f"values: the rare earths sum to {rare_total * scale:.3f} %, above 100 %")
        return self

    def fractions(self) -> dict[str, float]:
        """Element -> fraction of TREO."""
        k = 0.01 if self.basis == "reo_percent" else 1.0
        return {s: n * k for s, n in self.values.items()}

    def fraction_ranges(self) -> dict[str, tuple[float, float]]:
        """Element -> (low, high) fraction of TREO."""
        k = 0.01 if self.basis == "reo_percent" else 1.0
        return {s: (lo * k, hi * k) for s, (lo, hi) in self.ranges.items()}


class _PeriodEntry(_KeyedEntry):
    """An entry about a stated period (observations, claims): the period read as text, the unit known."""

    @field_validator("period", mode="before", check_fields=False)
    @classmethod
    def _period_text(cls, v: object) -> object:
        if isinstance(v, _dt.date):
            return v.isoformat()
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        return v

    @field_validator("unit", check_fields=False)
    @classmethod
    def _unit_known(cls, v: str) -> str:
        parse_unit(v)
        return v


class ObservationEntry(_PeriodEntry):
    """One entry of ``observations:`` — a published historical quantity for a stated period."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        description="Dotted name of the observed quantity, with its period, e.g. lynas.reo.fy2025."
    )
    quantity: str = Field(
        description="What is measured, one of QUANTITIES (facility_output, stock, price...)."
    )
    subject: str = Field(min_length=1, description="Facility, country or market, as the model names it.")
    period: str = Field(description="2024, 2024Q3, 2024-06, 2018-12-31, FY2025 or FY2025Q1.")
    fiscal_year_end: int = Field(default=6, ge=1, le=12, description="Last month of a fiscal year.")
    value: float = Field(description="The published number, in `unit`.")
    unit: str = Field(description="pint spelling, e.g. t, USD/kg, t/yr.")
    basis: str | None = Field(default=None, description="What is counted: REO, NdPr oxide, Dy+Tb oxide...")
    source: str = Field(min_length=1, description="Id of a bibliography entry.")
    kind: str
    range: tuple[float, float] | None = Field(default=None, description="Published uncertainty, in `unit`.")
    tolerance: float | None = Field(
        default=None, gt=0.0, description="Relative model-published difference the backtest accepts."
    )
    tolerance_basis: str | None = Field(
        default=None, description="The input uncertainties the tolerance reflects."
    )
    model: dict[str, str | float | list[str]] = Field(
        default_factory=dict, description="The modelled counterpart (mine2magnet.analysis.backtest measures)."
    )
    known_miss: str | None = Field(default=None, description="Why the model is expected to miss, if known.")
    note: str | None = None
    derived_from: list[str] = Field(default_factory=list)

    @field_validator("quantity")
    @classmethod
    def _quantity_known(cls, v: str) -> str:
        if v not in QUANTITIES:
            raise ValueError(f"quantity {v!r} must be one of {', '.join(QUANTITIES)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ObservationEntry:
        Period.parse(self.period, self.fiscal_year_end)  # InputError -> reported as a ValueError
        if self.value != self.value:
            raise ValueError("value: NaN is not an observation; leave it out")
        if self.range is not None:
            low, high = self.range
            if not low <= self.value <= high:
                raise ValueError(f"range: value {self.value} lies outside its stated range [{low}, {high}]")
        if self.model and (self.tolerance is None or not self.tolerance_basis):
            raise ValueError(
                "tolerance: an observation with a modelled counterpart needs a tolerance and a "
                "tolerance_basis naming the input uncertainties it reflects"
            )
        if self.kind == "assumption":
            raise ValueError("kind: an observation is published, never an assumption")
        return self


class ObservationsFile(BaseModel):
    """An ``observations/<topic>.yaml`` file."""

    model_config = ConfigDict(extra="forbid")

    observations: list[ObservationEntry] = Field(default_factory=list)


class ClaimEntry(_PeriodEntry):
    """One entry of ``claims:`` — a published claim about a quantity the model may produce."""

    key: str = Field(description="Dotted name, e.g. claim.malaysia.ree_gdp_contribution.2025.")
    claim: str = Field(min_length=1, description="What was claimed, in short (not a quote).")
    claimant: str | None = Field(default=None, description="Who claimed it (minister, company, agency).")
    quantity: str = Field(min_length=1, description="What is claimed: value_added, industry_output, jobs...")
    subject: str = Field(min_length=1, description="Country, sector or facility.")
    period: str = Field(description="The year (or period) the claim is about: 2025, FY2025, 2030...")
    fiscal_year_end: int = Field(default=6, ge=1, le=12)
    value: float = Field(description="The claimed number, in `unit`.")
    unit: str
    reading: str = Field(default="about", description="about | up_to | at_least.")
    range: tuple[float, float] | None = Field(default=None, description="A stated range, in `unit`.")
    source: str = Field(min_length=1)
    kind: str
    model: dict[str, str | float | list[str]] = Field(default_factory=dict)
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ClaimEntry:
        Period.parse(self.period, self.fiscal_year_end)
        if self.reading not in CLAIM_READINGS:
            raise ValueError(f"reading: {self.reading!r} must be one of {', '.join(CLAIM_READINGS)}")
        if self.range is not None and not self.range[0] <= self.value <= self.range[1]:
            raise ValueError(f"range: value {self.value} lies outside its stated range {list(self.range)}")
        if self.kind == "assumption":
            raise ValueError("kind: a claim is published, never an assumption")
        return self


class ClaimsFile(BaseModel):
    """A ``claims/<topic>.yaml`` file."""

    model_config = ConfigDict(extra="forbid")

    claims: list[ClaimEntry] = Field(default_factory=list)


def json_schemas() -> dict[str, dict[str, object]]:
    """JSON Schemas of the file kinds, for editors that lint YAML (sources, values, observations)."""
    return {
        "sources": SourcesFile.model_json_schema(),
        "values": ValuesFile.model_json_schema(),
        "observations": ObservationsFile.model_json_schema(),
        "claims": ClaimsFile.model_json_schema(),
    }


class ValuesFile(BaseModel):
    """A ``values/<topic>.yaml`` file."""

    model_config = ConfigDict(extra="forbid")

    values: list[ValueEntry] = Field(default_factory=list)
    compositions: list[CompositionEntry] = Field(default_factory=list)
