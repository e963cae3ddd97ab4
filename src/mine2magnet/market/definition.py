"""A market scenario from YAML: regions, products, demand, suppliers, magnet plants, policies, stocks in use.

Every number in the file comes from the sourced dataset (:mod:`mine2magnet.data`); the forms accepted wherever
a number goes are:

- ``{ref: data.key}``, optionally with ``unit`` (convert to) and ``scale`` (a factor, itself a form below);
- ``{sum: [A, B, ...]}`` (each term in the field's unit), ``{product: [A, B, ...]}`` (the first factor in the
  field's unit, the others as stored) and ``{ratio: [A, B]}`` (A / B, both as stored, so a ratio of two t/yr
  figures is a plain number);
- ``{oxide_of: Nd, metal: A}``: t of oxide holding the metal A (the element table's oxide factor).

Years are plain integers. Every value used is recorded with its source in ``MarketDefinition.provenance``.
File layout (``market/scenarios/*.yaml`` for built-ins; see ``docs/market.md``)::

    name, description, years: [first, last], base_year
    base: <market scenario>                         # optional: start from it, this file's keys replace its
    regions: [China, Malaysia, ...]
    products: {NdPr_oxide: {element: NdPr, reference_price: Q}, ...}
    demand: {<product>: {total: Q, growth: Q, elasticity: {short_run: Q, long_run: Q},
             regions: {<region>: Q}, segments: {<segment>: Q}, choke_factor: Q}}
    substitution: {max_rate: Q}                     # share of demand that may leave per year (long run)
    supply: [{name, region, product, capacity: Q | {year: Q}, cost: Q, start, end, floor: {price: Q, from}}]
    converters: [{name, region, product, capacity: Q | {year: Q}, inputs: {<product>: Q}, cost: Q, start}]
    freight: {<product>: Q}                         # USD/kg between any two regions
    export_tax: [{origin, products, rate: Q, years: [a, b]}]     # ad valorem on the reference price
    export_caps: [{name, origin, products, destinations, years: [a, b], share: Q | {year: Q}}]
    stocks_in_use: {product, opening: {stock: Q, year, growth: Q}, lifetimes: {<segment>: {...}},
                    collection_rate: Q, recovery_yield: Q, recovered: {<product>: Q}, cost: Q}
    stockpiles: [{name, region, product, opening: Q, buy_price: Q, buy_rate: Q, release_price: Q,
                  release_share: Q}]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mine2magnet.data import Dataset, load_dataset
from mine2magnet.elements import element
from mine2magnet.errors import InputError, parse_error_text

BUILTIN_DIR = Path(__file__).parent / "scenarios"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductSpec(_Strict):
    """A traded product: ``element`` names it in the prices table (NdPr, Dy, NdFeB...)."""

    element: str = Field(description="Name in the prices table's element column")
    reference_price: Any = Field(description="USD/kg in the base year (the demand curves pass through it)")


class ElasticitySpec(_Strict):
    short_run: Any = Field(description="Price elasticity of demand within the year (<= 0)")
    long_run: Any = Field(description="Price elasticity after full adjustment (<= short_run)")


class DemandSpec(_Strict):
    total: Any = Field(description="t/yr of the product bought worldwide in the base year")
    growth: Any = Field(description="Growth of the reference quantity per year (fraction)")
    elasticity: ElasticitySpec
    regions: dict[str, Any] = Field(description="Share of the total bought in each region (sums to 1)")
    segments: dict[str, Any] = Field(
        default_factory=dict,
        description="Share of each region's purchases by segment (sums to 1; none: one 'all')",
    )
    choke_factor: Any = Field(None, description="Choke price / reference price for zero-elasticity demand")


class FloorSpec(_Strict):
    price: Any = Field(description="USD/kg guaranteed to the supplier (it produces what costs less)")
    start: int = Field(description="First year of the floor")


class SupplySpec(_Strict):
    name: str
    region: str
    product: str
    capacity: Any = Field(description="t/yr, or {year: t/yr} (a step: the latest year at or before)")
    cost: Any = Field(description="USD/kg marginal cost")
    growth: Any = Field(None, description="Capacity growth per year after the base year (fraction)")
    headroom: Any = Field(
        None, description="Capacity above `capacity` (fraction), e.g. output above the base year"
    )
    reference_output: Any = Field(
        None,
        description="t/yr produced in the base year at reference_price: the marginal cost then rises "
        "linearly from `cost` at zero output to reference_price at reference_output",
    )
    reference_price: Any = Field(None, description="USD/kg paid in the base year (with reference_output)")
    start: int | None = Field(None, description="First year of output (none before)")
    end: int | None = Field(None, description="Last year of output")
    floor: FloorSpec | None = None


class ConverterSpec(_Strict):
    name: str
    region: str
    product: str
    capacity: Any
    inputs: dict[str, Any] = Field(description="t of each input product per t of output")
    cost: Any = Field(description="USD/kg of output (conversion cost)")
    growth: Any = Field(None, description="Capacity growth per year after the base year (fraction)")
    start: int | None = None
    end: int | None = None


class ExportTaxSpec(_Strict):
    origin: str
    products: list[str]
    rate: Any = Field(description="Ad valorem rate (fraction) on the product's reference price")
    years: list[int]


class ExportCapSpec(_Strict):
    name: str
    origin: str
    products: list[str]
    destinations: list[str] | None = None
    years: list[int]
    share: Any = Field(description="Fraction of the uncapped flow let through, or {year: fraction}")


class SubstitutionSpec(_Strict):
    max_rate: Any = Field(description="Largest share of demand substituted or thrifted away in one year")


class LifetimeSpec(_Strict):
    kind: str
    mean: Any = None
    sd: Any = None
    shape: Any = None
    scale: Any = None


class OpeningStockSpec(_Strict):
    stock: Any = Field(description="t in use at the end of `year`")
    year: int
    growth: Any = Field(description="Growth of inflows before `year` (fraction/yr), for the age structure")


class StockpileSpec(_Strict):
    """A strategic stockpile and its rule: it buys up to ``buy_rate`` t/yr at prices up to ``buy_price`` and
    releases up to ``release_share`` of its stock a year at prices from ``release_price``."""

    name: str
    region: str
    product: str
    opening: Any = Field(description="t held at the start of the first year")
    buy_price: Any = Field(description="USD/kg: it buys when the region's price is at or below this")
    buy_rate: Any = Field(description="t/yr bought at most")
    release_price: Any = Field(description="USD/kg: it sells when the region's price is at or above this")
    release_share: Any = Field(description="Share of the stock it may sell in a year (fraction)")


class StocksInUseSpec(_Strict):
    product: str
    opening: OpeningStockSpec
    lifetimes: dict[str, LifetimeSpec]
    collection_rate: Any
    recovery_yield: Any
    recovered: dict[str, Any] = Field(
        description="t of each product recovered per t of product at end of life"
    )
    cost: Any = Field(description="USD/kg of recovered product")


class MarketFile(_Strict):
    name: str
    description: str
    years: list[int]
    base_year: int
    regions: list[str]
    products: dict[str, ProductSpec]
    demand: dict[str, DemandSpec]
    substitution: SubstitutionSpec
    supply: list[SupplySpec]
    converters: list[ConverterSpec] = Field(default_factory=list)
    freight: dict[str, Any]
    export_tax: list[ExportTaxSpec] = Field(default_factory=list)
    export_caps: list[ExportCapSpec] = Field(default_factory=list)
    stocks_in_use: StocksInUseSpec | None = None
    stockpiles: list[StockpileSpec] = Field(default_factory=list)

    @field_validator("years")
    @classmethod
    def _years(cls, v: list[int]) -> list[int]:
        if len(v) != 2 or v[0] > v[1]:
            raise ValueError("expected [first, last] with first <= last")
        return v


@dataclass
class Resolver:
    """Turns the number forms of a market file into floats, recording each dataset value used."""

    dataset: Dataset
    file: str
    provenance: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, node: Any, where: str, unit: str | None = None) -> float:
        if isinstance(node, bool) or not isinstance(node, Mapping):
            raise InputError(
                "expected a sourced number ({ref: key} or sum/ratio/product/oxide_of of such), "
                f"got {node!r}",
                file=self.file,
                field=where,
            )
        keys = set(node)
        if "ref" in node and keys <= {"ref", "unit", "scale"}:
            key = str(node["ref"])
            target = node.get("unit", unit)
            try:
                entry = self.dataset.get(key)
                value = entry.magnitude(target)
            except Exception as exc:  # unknown key or unit mismatch: say where
                raise InputError(str(exc).splitlines()[0], file=self.file, field=where) from None
            self.provenance.append(
                {
                    "field": where,
                    "data_key": key,
                    "value": value,
                    "unit": target or entry.unit,
                    "source": entry.source.id,
                    "kind": entry.kind,
                }
            )
            if "scale" in node:
                value *= self(node["scale"], f"{where}.scale")
            return float(value)
        if keys == {"sum"}:
            return float(sum(self(v, f"{where}.sum[{i}]", unit) for i, v in enumerate(node["sum"])))
        if keys == {"product"}:  # the first factor carries the unit, the others are read as they are stored
            out = 1.0
            for i, v in enumerate(node["product"]):
                out *= self(v, f"{where}.product[{i}]", unit if i == 0 else None)
            return out
        if keys == {"ratio"} and len(node["ratio"]) == 2:
            den = self(node["ratio"][1], f"{where}.ratio[1]")
            if den == 0:
                raise InputError("ratio by zero", file=self.file, field=where)
            return self(node["ratio"][0], f"{where}.ratio[0]") / den
        if keys == {"oxide_of", "metal"}:
            try:
                factor = element(str(node["oxide_of"])).oxide_per_element
            except Exception:
                raise InputError(
                    f"unknown element {node['oxide_of']!r}", file=self.file, field=where
                ) from None
            return self(node["metal"], f"{where}.metal") * factor
        raise InputError(f"unknown number form with keys {sorted(keys)}", file=self.file, field=where)

    def series(self, node: Any, where: str, unit: str | None = None) -> dict[int, float]:
        """A number or ``{year: number}`` as a step series (value of the latest year at or before)."""
        if isinstance(node, Mapping) and node and all(isinstance(k, int) for k in node):
            return {int(y): self(v, f"{where}.{y}", unit) for y, v in sorted(node.items())}
        return {-(10**6): self(node, where, unit)}


def step_value(series: Mapping[int, float], year: int) -> float:
    """The value of a step series in `year` (0 before its first year)."""
    out = 0.0
    for y, v in sorted(series.items()):
        if y <= year:
            out = v
    return out


def read_market_file(name_or_path: str) -> tuple[dict[str, Any], str]:
    """The raw mapping of a built-in market scenario (by name) or a file, and its label for errors."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml", ".json"):
        path, label = p, str(p)
    else:
        path, label = BUILTIN_DIR / f"{name_or_path}.yaml", f"market/scenarios/{name_or_path}.yaml"
        if not path.exists():
            known = ", ".join(sorted(x.stem for x in BUILTIN_DIR.glob("*.yaml")))
            raise InputError(f"unknown market scenario {name_or_path!r}; built-in: {known}")
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read market scenario ({exc.strerror})", file=label) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({parse_error_text(exc)})", file=label) from None
    if not isinstance(data, dict):
        raise InputError("expected a mapping at the top of the file", file=label)
    return data, label


def list_market_scenarios() -> list[tuple[str, str]]:
    """Built-in market scenarios as (name, description)."""
    out = []
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8")) or {}
        out.append((path.stem, str(data.get("description", "")).strip()))
    return out


@dataclass
class MarketDefinition:
    """A validated market scenario: the parsed file, its label and a resolver bound to the dataset."""

    spec: MarketFile
    label: str
    resolve: Resolver

    @property
    def provenance(self) -> list[dict[str, Any]]:
        """Every dataset value used so far: field, data_key, value, unit, source, kind."""
        return self.resolve.provenance

    def check(self) -> None:
        """Names that must match: regions, products, segments; shares that must sum to 1."""
        s, f = self.spec, self.label
        regions, products = set(s.regions), set(s.products)
        for prod, d in s.demand.items():
            if prod not in products:
                raise InputError(f"unknown product {prod!r}", file=f, field=f"demand.{prod}")
            bad = set(d.regions) - regions
            if bad:
                raise InputError(f"unknown regions {sorted(bad)}", file=f, field=f"demand.{prod}.regions")
            for part in ("regions", "segments") if d.segments else ("regions",):
                shares = {
                    k: self.resolve(v, f"demand.{prod}.{part}.{k}") for k, v in getattr(d, part).items()
                }
                if abs(sum(shares.values()) - 1.0) > 1e-3:
                    raise InputError(
                        f"shares sum to {sum(shares.values()):.4f}, expected 1",
                        file=f,
                        field=f"demand.{prod}.{part}",
                    )
        for kind, items in (("supply", s.supply), ("converters", s.converters)):
            for i, it in enumerate(items):
                if it.region not in regions:
                    raise InputError(f"unknown region {it.region!r}", file=f, field=f"{kind}[{i}].region")
                if it.product not in products:
                    raise InputError(f"unknown product {it.product!r}", file=f, field=f"{kind}[{i}].product")
        for i, c in enumerate(s.converters):
            for p in c.inputs:
                if p not in products:
                    raise InputError(f"unknown input product {p!r}", file=f, field=f"converters[{i}].inputs")
        for i, sp in enumerate(s.stockpiles):
            if sp.region not in regions or sp.product not in products:
                raise InputError("unknown region or product", file=f, field=f"stockpiles[{i}]")
        for i, cap in enumerate(s.export_caps):
            if cap.origin not in regions or any(p not in products for p in cap.products):
                raise InputError("unknown origin or product", file=f, field=f"export_caps[{i}]")
        if s.stocks_in_use is not None:
            siu = s.stocks_in_use
            if siu.product not in s.demand:
                raise InputError(f"{siu.product!r} has no demand", file=f, field="stocks_in_use.product")
            missing = set(s.demand[siu.product].segments) - set(siu.lifetimes)
            if missing:
                raise InputError(
                    f"no lifetime for segments {sorted(missing)}", file=f, field="stocks_in_use.lifetimes"
                )


def _with_base(raw: dict[str, Any], label: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """`raw` on top of its ``base`` (another market scenario): top-level keys of `raw` replace the base's."""
    base = raw.get("base")
    if base is None:
        return raw
    if not isinstance(base, str) or base in seen:
        raise InputError("base must name another market scenario, without cycles", file=label, field="base")
    parent, parent_label = read_market_file(base)
    merged = dict(_with_base(parent, parent_label, (*seen, base)))
    merged.update({k: v for k, v in raw.items() if k != "base"})
    return merged


def load_market(name_or_path: str, dataset: Dataset | None = None) -> MarketDefinition:
    """A built-in market scenario (``embargo-2010``, ``export-controls-2025``...) or a market file, validated.

    A file may start from another with ``base: <name or path>``; its top-level keys replace the base's."""
    raw, label = read_market_file(name_or_path)
    raw = _with_base(raw, label)
    try:
        spec = MarketFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(err["msg"], file=label, field=".".join(str(p) for p in err["loc"]) or None) from None
    definition = MarketDefinition(spec, label, Resolver(dataset or load_dataset(), label))
    definition.check()
    return definition
