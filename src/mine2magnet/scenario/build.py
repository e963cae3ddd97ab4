"""Turn a merged scenario (plain data) into a chain model: resolve sourced values, check facility attributes
against their tables, build the network, the policies and the price deck.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from mine2magnet.chain import (
    COMMODITIES,
    FACILITY_TYPES,
    ChainModel,
    ChainNetwork,
    Embargo,
    ExportBan,
    ExportLicensing,
    Facility,
    LicenceCondition,
    PriceDeck,
    Quantity,
    Quota,
    Smuggling,
    TechnologyRestriction,
    TradeLink,
    Window,
    YearSeries,
    parse_attributes,
)
from mine2magnet.chain.attributes import attribute_table
from mine2magnet.chain.policies import UNPROCESSED
from mine2magnet.chain.simulation import start_share
from mine2magnet.data import Dataset
from mine2magnet.data.units import convert
from mine2magnet.elements import ELEMENTS
from mine2magnet.errors import InputError
from mine2magnet.scenario.economics import Economics, build_economics
from mine2magnet.scenario.provenance import ASSUMPTION_COLUMNS, Provenance, scalar_of, series_of
from mine2magnet.scenario.schema import POLICY_KINDS, POLICY_SPECS, check_year, validate


def _resolve_attrs(kind: str, raw: Mapping[str, Any], prov: Provenance, where: str) -> dict[str, Any]:
    table = attribute_table(kind)
    out: dict[str, Any] = {}
    for name, value in raw.items():
        attr = table.get(name)
        w = f"{where}.{name}"
        if attr is None or value is None:
            out[name] = value
        elif (
            attr.type == "series" and isinstance(value, Mapping) and not ("ref" in value or "value" in value)
        ):
            out[name] = {
                check_year(y, prov.file, f"{w}.{y}"): prov.resolve(v, f"{w}.{y}") for y, v in value.items()
            }
        elif attr.type == "mapping" and isinstance(value, Mapping) and attr.unit:
            out[name] = {k: prov.resolve(v, f"{w}.{k}") for k, v in value.items()}
        elif attr.type in ("mapping", "bounds") and isinstance(value, Mapping):
            out[name] = {
                k: [prov.resolve(x, f"{w}.{k}[{j}]") for j, x in enumerate(v)]
                if isinstance(v, list)
                else prov.resolve(v, f"{w}.{k}")
                for k, v in value.items()
            }
        elif attr.type == "composition":
            out[name] = prov.composition(value, w)
        else:
            out[name] = prov.resolve(value, w)
    return out


def _window(years: list[Any] | None, prov: Provenance, where: str) -> Window:
    """[first, last] years; each a year or a sourced value (e.g. {ref: ...}) holding one."""
    if years is None:
        return Window()
    if len(years) != 2:
        raise InputError(f"expected [first, last] years, got {years!r}", file=prov.file, field=where)
    first, last = (
        int(scalar_of(y, "dimensionless", prov, f"{where}[{i}]")) if isinstance(y, Mapping) else y
        for i, y in enumerate(years)
    )
    first, last = check_year(first, prov.file, where), check_year(last, prov.file, where)
    if first > last:
        raise InputError(f"expected [first, last] years, got {years!r}", file=prov.file, field=where)
    return Window(first, last)


def _price_deck(raw: Mapping[str, Any], prov: Provenance) -> PriceDeck:
    oxide = {
        el: series_of(v, "USD/t", prov, f"prices.oxide.{el}") for el, v in (raw.get("oxide") or {}).items()
    }
    pay = {
        c: scalar_of(v, "fraction", prov, f"prices.payability.{c}")
        for c, v in (raw.get("payability") or {}).items()
    }
    for c in pay:
        if c not in COMMODITIES:
            raise InputError(
                f"unknown commodity {c!r}; known: {', '.join(COMMODITIES)}",
                file=prov.file,
                field=f"prices.payability.{c}",
            )
    metal = (
        scalar_of(raw["metal_factor"], "dimensionless", prov, "prices.metal_factor")
        if "metal_factor" in raw
        else 1.0
    )
    magnet = (
        series_of(raw["magnet"], "USD/t", prov, "prices.magnet")
        if "magnet" in raw
        else YearSeries.constant(0.0)
    )
    bom = {
        el: scalar_of(v, "kg/kg", prov, f"prices.magnet_bom.{el}")
        for el, v in (raw.get("magnet_bom") or {}).items()
    }
    unknown = set(raw) - {"oxide", "payability", "metal_factor", "magnet", "magnet_bom"}
    if unknown:
        raise InputError(
            f"unknown price field {sorted(unknown)[0]!r}",
            file=prov.file,
            field=f"prices.{sorted(unknown)[0]}",
        )
    return PriceDeck(oxide, pay, metal, magnet, bom)


def build_model(
    data: Mapping[str, Any], dataset: Dataset, *, file: str | None, assumptions: bool = True
) -> tuple[ChainModel, pd.DataFrame, Economics | None]:
    """The chain model of a merged scenario, its assumptions table and its economic inputs (if any).

    `assumptions` False leaves the assumptions table empty (its columns only): the draws of an uncertainty
    study, which read none of it, skip building a table of every sourced number per draw."""
    prov = Provenance(dataset, file)
    if data.get("years") is None:
        raise InputError("missing [first, last] years", file=file, field="years")
    first, last = (check_year(y, file, "years") for y in data["years"])
    facilities: dict[str, Facility] = {}
    for kind, items in (data.get("facilities") or {}).items():
        if kind not in FACILITY_TYPES:
            raise InputError(
                f"unknown facility type {kind!r}; known: {', '.join(FACILITY_TYPES)}",
                file=file,
                field=f"facilities.{kind}",
            )
        for i, raw in enumerate(items or []):
            where = f"facilities.{kind}[{i}]"
            if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
                raise InputError("each facility needs a name", file=file, field=f"{where}.name")
            if raw["name"] in facilities:
                raise InputError(f"duplicate facility name {raw['name']!r}", file=file, field=f"{where}.name")
            attrs = parse_attributes(kind, _resolve_attrs(kind, raw, prov, where), where=where, file=file)
            for key in ("start_year", "decision_year"):
                if attrs.get(key) is not None:
                    check_year(attrs[key], file, f"{where}.{key}")
            if kind in ("mines", "suppliers", "markets", "crackers", "magnet_plants"):
                com = (
                    attrs.get("product")
                    or attrs.get("commodity")
                    or attrs.get("output")
                    or attrs.get("input")
                )
                if com not in COMMODITIES:
                    raise InputError(
                        f"unknown commodity {com!r}; known: {', '.join(COMMODITIES)}", file=file, field=where
                    )
            if kind == "refineries":
                _check_refinery(attrs, file, where)
            if kind in ("refineries", "crackers"):
                _check_initial_residue(attrs, file, where)
            facilities[raw["name"]] = Facility(raw["name"], kind, attrs)
    links = []
    for i, raw in enumerate(data.get("trade_links") or []):
        where = f"trade_links[{i}]"
        resolved = _resolve_attrs("trade_links", raw, prov, where)
        a = parse_attributes("trade_links", resolved, where=where, file=file)
        for end in ("source", "target", "commodity"):
            if not a.get(end):
                raise InputError(f"a trade link needs a {end}", file=file, field=f"{where}.{end}")
        links.append(
            TradeLink(a["source"], a["target"], a["commodity"], a["cost"], a["tariff"], a["capacity"])
        )
    network = ChainNetwork(facilities, tuple(links), file=file)
    policies = _policies(data.get("policies") or {}, prov, network)
    prices = _price_deck(data.get("prices") or {}, prov)
    settings = data.get("settings") or {}
    holding = (
        scalar_of(settings["holding_cost"], "USD/t", prov, "settings.holding_cost")
        if "holding_cost" in settings
        else 1.0
    )
    model = ChainModel(
        network,
        policies,
        prices,
        list(range(first, last + 1)),
        focus_country=data.get("country") or "",
        holding_cost=holding,
        name=str(data.get("name") or "scenario"),
    )
    economics = build_economics(data["economics"], prov, first) if data.get("economics") else None
    table = pd.DataFrame(prov.rows if assumptions else [], columns=list(ASSUMPTION_COLUMNS))
    return model, table, economics


def _check_refinery(attrs: dict[str, Any], file: str | None, where: str) -> None:
    from mine2magnet.scenario.flowsheets import check_flowsheet

    if not attrs.get("flowsheet"):
        raise InputError("a refinery needs a flowsheet", file=file, field=f"{where}.flowsheet")
    check_flowsheet(str(attrs["flowsheet"]), file, f"{where}.flowsheet")
    feeds = attrs.get("feeds") or {}
    if not feeds:
        raise InputError(
            "a refinery needs feeds: {commodity: flowsheet feed}", file=file, field=f"{where}.feeds"
        )
    for c in feeds:
        if c not in COMMODITIES:
            raise InputError(
                f"unknown commodity {c!r}; known: {', '.join(COMMODITIES)}",
                file=file,
                field=f"{where}.feeds.{c}",
            )
    for c, yrs in (attrs.get("feed_years") or {}).items():
        if c not in feeds:
            raise InputError(
                f"feed_years names {c!r}, which is not among the feeds",
                file=file,
                field=f"{where}.feed_years.{c}",
            )
        if not (isinstance(yrs, list) and len(yrs) == 2):
            raise InputError(
                f"expected [first, last] years, got {yrs!r}", file=file, field=f"{where}.feed_years.{c}"
            )
        years = [int(y.value) if isinstance(y, Quantity) and float(y.value).is_integer() else y for y in yrs]
        for y in years:
            check_year(y, file, f"{where}.feed_years.{c}")
        attrs["feed_years"][c] = years
    design = attrs.get("design_feed")  # nan: not given
    if design is not None and not (
        isinstance(design, int | float) and (design != design or 0 < design < math.inf)
    ):
        raise InputError(
            f"expected a feed in t TREO per year > 0, got {design!r}", file=file, field=f"{where}.design_feed"
        )
    for c in attrs.get("feed_capacity") or {}:
        if c not in feeds:
            raise InputError(
                f"feed_capacity names {c!r}, which is not among the feeds",
                file=file,
                field=f"{where}.feed_capacity.{c}",
            )
    _check_product_choices(attrs, file, where)


def _rare_earth(symbol: str, file: str | None, field: str) -> None:
    if symbol not in ELEMENTS or not ELEMENTS[symbol].rare_earth:
        raise InputError(f"expected a rare-earth element symbol, got {symbol!r}", file=file, field=field)


def _check_product_choices(attrs: dict[str, Any], file: str | None, where: str) -> None:
    """product_start, separate_from: a year or YYYY-MM per element; reject_cost: rare earths only;
    reject_price_lag: 0-5 years."""
    dated = [("product_start", el, s) for el, s in (attrs.get("product_start") or {}).items()]
    dated += [("separate_from", el, s) for el, s in (attrs.get("separate_from") or {}).items()]
    for name, el, start in dated:
        field = f"{where}.{name}.{el}"
        _rare_earth(el, file, field)
        try:
            start_share(start, 2000)
        except InputError as exc:
            raise InputError(str(exc), file=file, field=field) from None
    for el in attrs.get("reject_cost") or {}:
        _rare_earth(el, file, f"{where}.reject_cost.{el}")
    lag = attrs.get("reject_price_lag")
    if lag is not None and not 0 <= lag <= 5:
        raise InputError(
            f"expected whole years from 0 to 5, got {lag!r}", file=file, field=f"{where}.reject_price_lag"
        )


def _check_initial_residue(attrs: dict[str, Any], file: str | None, where: str) -> None:
    for name in ("initial_residue", "initial_residue_activity"):
        for kind, amount in (attrs.get(name) or {}).items():
            if not 0.0 <= amount < math.inf:
                field = f"{where}.{name}.{kind}"
                raise InputError(f"expected a finite amount >= 0, got {amount!r}", file=file, field=field)


def _names(names: list[str], network: ChainNetwork, prov: Provenance, where: str) -> tuple[str, ...]:
    for i, n in enumerate(names):
        if n not in network.facilities:
            raise InputError(
                f"no facility named {n!r}; known: {', '.join(sorted(network.facilities))}",
                file=prov.file,
                field=f"{where}[{i}]",
            )
    return tuple(names)


def _commodities(
    items: list[str] | None, default: tuple[str, ...], prov: Provenance, where: str
) -> tuple[str, ...]:
    if items is None:
        return default
    for i, c in enumerate(items):
        if c not in COMMODITIES:
            raise InputError(
                f"unknown commodity {c!r}; known: {', '.join(COMMODITIES)}",
                file=prov.file,
                field=f"{where}[{i}]",
            )
    return tuple(items)


def _export_licensing(spec: Any, years: Window, prov: Provenance, where: str) -> ExportLicensing:
    for i, el in enumerate(spec.elements):
        _rare_earth(el, prov.file, f"{where}.elements[{i}]")
    approved = series_of(spec.approved, "fraction", prov, f"{where}.approved")
    if any(not 0.0 <= v <= 1.0 for v in approved.points.values()):
        raise InputError("approved must be a fraction in [0, 1]", file=prov.file, field=f"{where}.approved")
    month = 1
    if spec.start is not None:
        resolved = prov.resolve(spec.start, f"{where}.start")
        text = str(getattr(resolved, "value", resolved))
        parts = text.split("-")
        if len(parts) < 2 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= 12:
            raise InputError(f"expected YYYY-MM, got {text!r}", file=prov.file, field=f"{where}.start")
        month = int(parts[1])
        if int(parts[0]) != years.first:
            raise InputError(
                f"start {text!r} must fall in the first of the years {years.first}-{years.last}",
                file=prov.file,
                field=f"{where}.start",
            )
    commodities = _commodities(spec.commodities, ("oxide", "metal", "magnet"), prov, f"{where}.commodities")
    return ExportLicensing(spec.name, spec.country, tuple(spec.elements), approved, commodities, month, years)


def _licence_condition(
    spec: Any, years: Window, prov: Provenance, network: ChainNetwork, where: str
) -> LicenceCondition:
    f = network.facilities.get(spec.facility)
    if f is None or f.kind not in ("refineries", "crackers"):
        raise InputError(
            f"no refinery or cracker named {spec.facility!r}", file=prov.file, field=f"{where}.facility"
        )
    limit = scalar_of(spec.max_activity, "Bq/g", prov, f"{where}.max_activity")
    if not 0.0 <= limit < math.inf:
        raise InputError("max_activity must be >= 0 Bq/g", file=prov.file, field=f"{where}.max_activity")
    feeds = _commodities(spec.feeds, ("concentrate",), prov, f"{where}.feeds")
    return LicenceCondition(spec.name, spec.facility, spec.residue, limit, feeds, years)


def _policies(raw: Mapping[str, Any], prov: Provenance, network: ChainNetwork) -> list:
    out: list = []
    for kind, items in raw.items():
        if kind not in POLICY_KINDS:
            raise InputError(
                f"unknown policy kind {kind!r}; known: {', '.join(POLICY_KINDS)}",
                file=prov.file,
                field=f"policies.{kind}",
            )
        for i, item in enumerate(items or []):
            where = f"policies.{kind}[{i}]"
            spec = validate(POLICY_SPECS[kind], item, file=prov.file, where=where)
            years = _window(spec.years, prov, f"{where}.years")
            if kind == "export_bans":
                out.append(
                    ExportBan(
                        spec.country,
                        _commodities(spec.commodities, UNPROCESSED, prov, f"{where}.commodities"),
                        _names(spec.exceptions, network, prov, f"{where}.exceptions"),
                        years,
                        tuple(spec.exempt_destinations),
                    )
                )
            elif kind == "technology_restrictions":
                for t in spec.facility_types:
                    if t not in FACILITY_TYPES:
                        raise InputError(
                            f"unknown facility type {t!r}; known: {', '.join(FACILITY_TYPES)}",
                            file=prov.file,
                            field=f"{where}.facility_types",
                        )
                out.append(
                    TechnologyRestriction(
                        spec.technology_origin, spec.country, years, tuple(spec.facility_types)
                    )
                )
            elif kind == "quotas":
                out.append(
                    Quota(
                        spec.name,
                        series_of(spec.limit, "t/yr", prov, f"{where}.limit"),
                        _commodities(spec.commodities, (), prov, f"{where}.commodities"),
                        _names(spec.sources, network, prov, f"{where}.sources"),
                        spec.country,
                        spec.exports_only,
                        years,
                    )
                )
            elif kind == "embargoes":
                out.append(
                    Embargo(
                        spec.country, _commodities(spec.commodities, (), prov, f"{where}.commodities"), years
                    )
                )
            elif kind == "export_licensing":
                out.append(_export_licensing(spec, years, prov, where))
            elif kind == "licence_conditions":
                out.append(_licence_condition(spec, years, prov, network, where))
            else:
                dest = network.facilities.get(spec.destination)
                if dest is None or dest.kind != "markets":
                    raise InputError(
                        f"smuggling destination {spec.destination!r} is not a market of this scenario",
                        file=prov.file,
                        field=f"{where}.destination",
                    )
                if dest.attrs["commodity"] != spec.commodity:
                    raise InputError(
                        f"market {spec.destination!r} buys {dest.attrs['commodity']!r}, not "
                        f"{spec.commodity!r}",
                        file=prov.file,
                        field=f"{where}.commodity",
                    )
                comp = prov.composition(spec.composition, f"{where}.composition")
                comp = {
                    k: (
                        v
                        if isinstance(v, float)
                        else scalar_of(v, "fraction", prov, f"{where}.composition.{k}")
                    )
                    for k, v in comp.items()
                }
                rate = scalar_of(spec.lost_revenue_rate, "fraction", prov, f"{where}.lost_revenue_rate")
                if not 0 <= rate <= 1:
                    raise InputError(
                        "expected a fraction in [0, 1]", file=prov.file, field=f"{where}.lost_revenue_rate"
                    )
                out.append(
                    Smuggling(
                        spec.name,
                        spec.country,
                        series_of(spec.volume, "t/yr", prov, f"{where}.volume"),
                        comp,
                        spec.destination,
                        spec.commodity,
                        rate,
                        years,
                        None
                        if spec.unit_value is None
                        else series_of(spec.unit_value, "USD/t", prov, f"{where}.unit_value"),
                        _enforcement(spec.enforcement, prov, f"{where}.enforcement"),
                    )
                )
    return out


def _enforcement(node: Any, prov: Provenance, where: str) -> YearSeries | None:
    if node is None:
        return None
    series = series_of(node, "fraction", prov, where)
    if any(not 0.0 <= v <= 1.0 for v in series.points.values()):
        raise InputError("enforcement must be a fraction in [0, 1] each year", file=prov.file, field=where)
    return series


def unit_of(value: Any) -> str:
    """Unit of a resolved value ('' for texts)."""
    return value.unit if isinstance(value, Quantity) else ""


def to_float(value: Any, unit: str) -> float:
    """A resolved quantity in `unit`."""
    if isinstance(value, Quantity):
        return convert(value.value, value.unit, unit)
    return float(value) if not isinstance(value, str) else math.nan
