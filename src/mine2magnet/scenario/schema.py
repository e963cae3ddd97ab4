"""The scenario file schema (pydantic): the top-level sections and the policy records.

Facility attributes are checked against the chain's attribute tables (``mine2magnet/chain/attributes/*.csv``),
not here, so that defaults, units and documentation live in one place.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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

    @field_validator("years")
    @classmethod
    def _years(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and (len(v) != 2 or v[0] > v[1]):
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
        raise InputError(err["msg"], file=file, field=field or None) from None


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file (top level), for editors that lint YAML/JSON against a schema."""
    schema = ScenarioFile.model_json_schema()
    schema["title"] = "mine2magnet scenario"
    return schema
