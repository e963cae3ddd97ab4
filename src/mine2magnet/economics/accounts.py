"""Accounts per facility and year: what each plant sells, buys, pays its staff and the state, and keeps.

From a chain run (its flows, the facilities' costs and the refinery flowsheets' own reagent, energy, labour
and maintenance costs) each facility of each year gets, in USD (``usd``) and in MYR at that year's rate
(``myr``):

===================  ====================================================================================
output               sales: the t it ships, valued at the price deck times the buyer's price factor
re_inputs            the rare-earth feed it buys (valued as its sellers' output)
reagents, energy     refineries: the flowsheet's reagent and electricity costs per t of feed x feed
materials            magnet plants: non-rare-earth materials (iron, boron, cobalt...) per t of magnet
other_inputs         maintenance and the rest of a cost per t that is not wages
intermediate         re_inputs + reagents + energy + materials + other_inputs
wages                jobs x the annual cost of an employee (refineries: the flowsheet's labour cost)
royalties            royalty rate x output (mines)
surplus              gross operating surplus: output - intermediate - wages - royalties
capital_charge       capex x capital recovery factor (discount rate, asset life) while the plant runs
corporate_tax        tax rate x max(surplus - capital_charge, 0), none during a tax holiday
profit               surplus - capital_charge - corporate_tax
value_added          wages + royalties + corporate_tax + capital_charge + profit (income approach)
value_added_output   output - intermediate (production approach; equal to value_added)
foreign_income       foreign_ownership x (profit + capital_charge): what leaves the country
national_value_added value_added - foreign_income
jobs                 direct jobs (persons)
===================  ====================================================================================

Informal (illegal) mines are not in national value added; what the state loses to them is the chain's
``smuggling_loss_usd`` and their output value is reported apart (``informal_output``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mine2magnet.chain import ChainModel, ChainResult, Facility, YearSeries
from mine2magnet.chain.model import magnet_need, refinery_scale
from mine2magnet.errors import InputError

#: Items of an account, in the order they are listed.
ITEMS: tuple[str, ...] = (
    "output",
    "re_inputs",
    "reagents",
    "energy",
    "materials",
    "other_inputs",
    "intermediate",
    "wages",
    "royalties",
    "surplus",
    "capital_charge",
    "corporate_tax",
    "profit",
    "value_added",
    "value_added_output",
    "foreign_income",
    "national_value_added",
    "jobs",
    "informal_output",
)
#: Columns of the accounts table.
ACCOUNT_COLUMNS = ("year", "facility", "country", "stage", "item", "usd", "myr")
#: Commodities sold and bought between facilities (valued in the accounts).
TRADED = ("ore", "concentrate", "mrec", "mixed_oxide", "oxide", "metal", "magnet")
#: Facility types that keep accounts.
PRODUCERS = ("mines", "crackers", "refineries", "metal_plants", "magnet_plants", "recyclers")


@dataclass(frozen=True)
class EconomicInputs:
    """What the accounts need beyond the chain run; money in USD, rates as fractions.

    ``wage_usd`` (annual cost of an employee), ``jobs_per_t`` (direct jobs per t/yr of capacity),
    ``capex_usd_per_t`` (investment per t/yr of capacity) and ``asset_life`` (years) are by stage (mining,
    cracking, separation, metal, magnet, recycling); a facility's own ``direct_jobs`` or ``capex`` attribute
    takes precedence. ``mine_gate``: ``payability`` values mixed carbonate and concentrate at the price deck's
    payability of their oxides, ``customs`` at ``customs_usd_per_t`` (USD per t REO, by year), what such
    shipments are declared at.
    """

    myr_per_usd: YearSeries
    corporate_tax_rate: float
    wage_usd: Mapping[str, float]
    jobs_per_t: Mapping[str, float]
    capex_usd_per_t: Mapping[str, float]
    asset_life: Mapping[str, float]
    discount_rate: float
    magnet_materials_usd_per_t: float = 0.0
    mine_gate: str = "payability"
    customs_usd_per_t: YearSeries | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mine_gate not in ("payability", "customs"):
            raise InputError(f"mine_gate must be 'payability' or 'customs', got {self.mine_gate!r}")
        if self.mine_gate == "customs" and self.customs_usd_per_t is None:
            raise InputError("mine_gate 'customs' needs customs_usd_per_t (USD per t REO)")
        if not 0.0 <= self.corporate_tax_rate <= 1.0:
            raise InputError(f"corporate_tax_rate must be a fraction, got {self.corporate_tax_rate}")


def capital_recovery_factor(rate: float, life: float) -> float:
    """Annual payment per USD of capex that repays it with interest `rate` over `life` years."""
    if life <= 0:
        raise InputError(f"asset life must be positive, got {life}")
    if rate == 0:
        return 1.0 / life
    return rate / (1.0 - (1.0 + rate) ** -life)


def _stage_value(mapping: Mapping[str, float], stage: str, what: str, method: str | None = None) -> float:
    """The value for a stage, or for ``<stage>_<method>`` (e.g. mining_open_pit) when given."""
    if method and f"{stage}_{method}" in mapping:
        return float(mapping[f"{stage}_{method}"])
    try:
        return float(mapping[stage])
    except KeyError:
        raise InputError(f"no {what} for stage {stage!r} in the economic inputs") from None


@dataclass
class _Facts:
    """What the accounts read from a run, per facility and year (USD unless stated)."""

    output: dict[tuple[int, str], float] = field(default_factory=dict)
    re_inputs: dict[tuple[int, str], float] = field(default_factory=dict)
    feed_t: dict[tuple[int, str, str], float] = field(default_factory=dict)  # (year, facility, commodity)
    activity_t: dict[tuple[int, str], float] = field(default_factory=dict)  # t of main activity
    fed_t: dict[tuple[int, str], float] = field(default_factory=dict)  # (year, facility): all commodities


def _flow_values(model: ChainModel, result: ChainResult, inputs: EconomicInputs) -> _Facts:
    """Sales and purchases of every facility, valued once so that one's sale is the other's purchase.

    A flow is worth its ``value_usd`` (mixed carbonate from a mine at the customs value per t REO when the
    mine gate is ``customs``), times the buying market's ``price_factor`` or else the selling supplier's.
    """
    net = model.network
    flows = result.tables["flows"]
    traded = flows["commodity"].isin(TRADED).to_numpy()
    commodity = flows["commodity"].to_numpy(dtype=object)[traded]
    value = flows["value_usd"].to_numpy(dtype=float)[traded]
    tonnes = flows["t"].to_numpy(dtype=float)[traded]
    source = flows["source"].to_numpy(dtype=object)[traded]
    target = flows["target"].to_numpy(dtype=object)[traded]
    year = flows["year"].to_numpy(dtype=int)[traded]
    kinds = {name: f.kind for name, f in net.facilities.items()}
    src_kind = np.array([kinds.get(n, "") for n in source], dtype=object)
    dst_kind = np.array([kinds.get(n, "") for n in target], dtype=object)
    if inputs.mine_gate == "customs":
        assert inputs.customs_usd_per_t is not None
        gate = (src_kind == "mines") & (commodity == "mrec")
        per_t = np.array([inputs.customs_usd_per_t.at(int(y)) for y in year[gate]])
        value[gate] = tonnes[gate] * per_t

    factor = {n: float(f.attrs.get("price_factor", 1.0)) for n, f in net.facilities.items()}

    def price_factor(names: np.ndarray) -> np.ndarray:
        return np.array([factor.get(n, 1.0) for n in names])

    to_market = dst_kind == "markets"
    from_supplier = ~to_market & (src_kind == "suppliers")
    value[to_market] *= price_factor(target[to_market])
    value[from_supplier] *= price_factor(source[from_supplier])
    facts = _Facts()
    for y, src, dst, c, v, t in zip(
        year.tolist(), source, target, commodity, value.tolist(), tonnes.tolist(), strict=True
    ):
        facts.output[(y, src)] = facts.output.get((y, src), 0.0) + v
        facts.re_inputs[(y, dst)] = facts.re_inputs.get((y, dst), 0.0) + v
        facts.feed_t[(y, dst, c)] = facts.feed_t.get((y, dst, c), 0.0) + t
        facts.fed_t[(y, dst)] = facts.fed_t.get((y, dst), 0.0) + t
    kpis = result.tables["kpis"]
    made = (kpis["kpi"] == "production_t").to_numpy()
    for y, facility, t in zip(
        kpis["year"].to_numpy()[made].tolist(),
        kpis["facility"].to_numpy(dtype=object)[made],
        kpis["value"].to_numpy(dtype=float)[made].tolist(),
        strict=True,
    ):
        key = (int(y), str(facility))
        facts.activity_t[key] = facts.activity_t.get(key, 0.0) + t
    return facts


def _capacity_t(f: Facility, year: int) -> float:
    key = (
        "capacity" if f.kind != "refineries" or math.isfinite(f.series("capacity", year)) else "ndpr_capacity"
    )
    return f.series(key, year)


def _refinery_costs(model: ChainModel, f: Facility, facts: _Facts, year: int) -> dict[str, float]:
    """Reagents, energy, wages, maintenance and capex per year from the flowsheet runs, USD."""
    out = {"reagents": 0.0, "energy": 0.0, "wages": 0.0, "other_inputs": 0.0, "capex_per_t": 0.0, "feed": 0.0}
    for commodity, feed in (f.attrs.get("feeds") or {}).items():
        t = facts.feed_t.get((year, f.name, commodity), 0.0)
        perf = model.performances.get(f.attrs["flowsheet"], str(feed), refinery_scale(f, model.years[0]))
        for item, usd_per_t in perf.opex_breakdown_usd_per_t_reo.items():
            bucket = (
                "reagents"
                if item.startswith("reagent:")
                else "energy"
                if item.startswith("energy:")
                else "wages"
                if item == "labour"
                else "other_inputs"
            )
            out[bucket] += usd_per_t * t
        out["capex_per_t"] = max(out["capex_per_t"], perf.capex_usd_per_t_reo)
        out["feed"] += t
    return out


def _design_scale(f: Facility, facts: _Facts, years: list[int]) -> float:
    """t/yr a facility is built for: its capacity, else the most it handles in any year of the run."""
    caps = [_capacity_t(f, y) for y in years]
    finite = [c for c in caps if math.isfinite(c) and c > 0]
    if finite:
        return max(finite)
    feeds = [facts.fed_t.get((y, f.name), 0.0) for y in years]
    made = [facts.activity_t.get((y, f.name), 0.0) for y in years]
    return max([*feeds, *made, 0.0])


def facility_accounts(model: ChainModel, result: ChainResult, inputs: EconomicInputs) -> pd.DataFrame:
    """The accounts table (``ACCOUNT_COLUMNS``) of every producing facility and year of a run."""
    facts = _flow_values(model, result, inputs)
    net = model.network
    years = list(result.years)
    rows: list[dict[str, object]] = []
    facilities = [f for kind in PRODUCERS for f in net.of_kind(kind)]
    for f in facilities:
        stage = f.stage
        a = f.attrs
        method = str(a.get("method") or "") or None
        scale = _design_scale(f, facts, years)
        capex = float(a.get("capex", math.nan))
        per_t_capex = None
        if f.kind == "refineries":
            per_t_capex = max(
                (
                    _refinery_costs(model, f, facts, y)["capex_per_t"]
                    for y in years
                    if facts.re_inputs.get((y, f.name))
                ),
                default=0.0,
            )
        if not math.isfinite(capex):
            per_t = per_t_capex or _stage_value(inputs.capex_usd_per_t, stage, "capex per t", method)
            capex = per_t * scale
        crf = capital_recovery_factor(
            inputs.discount_rate, _stage_value(inputs.asset_life, stage, "asset life", method)
        )
        jobs_full = float(a.get("direct_jobs", math.nan))
        if not math.isfinite(jobs_full):
            jobs_full = _stage_value(inputs.jobs_per_t, stage, "jobs per t", method) * scale
        wage = _stage_value(inputs.wage_usd, stage, "wage", method)
        for year in years:
            acc = dict.fromkeys(ITEMS, 0.0)
            acc["output"] = facts.output.get((year, f.name), 0.0)
            acc["re_inputs"] = facts.re_inputs.get((year, f.name), 0.0)
            activity = facts.activity_t.get((year, f.name), 0.0)
            running = activity > 1e-9 or acc["re_inputs"] > 0.0
            utilisation = min(activity / scale, 1.0) if scale > 0 else 0.0
            if f.kind == "refineries":
                costs = _refinery_costs(model, f, facts, year)
                acc["reagents"], acc["energy"] = costs["reagents"], costs["energy"]
                acc["wages"], acc["other_inputs"] = costs["wages"], costs["other_inputs"]
                acc["jobs"] = acc["wages"] / wage if wage > 0 else 0.0
            else:
                cash = _cash_cost(f, facts, year, activity)
                acc["wages"] = (
                    min(jobs_full * utilisation * wage, cash) if cash > 0 else jobs_full * utilisation * wage
                )
                acc["jobs"] = acc["wages"] / wage if wage > 0 else 0.0
                if f.kind == "magnet_plants":
                    acc["materials"] = inputs.magnet_materials_usd_per_t * activity_magnet_t(f, facts, year)
                acc["other_inputs"] = max(cash - acc["wages"], 0.0)
            acc["intermediate"] = sum(
                acc[k] for k in ("re_inputs", "reagents", "energy", "materials", "other_inputs")
            )
            acc["royalties"] = float(a.get("royalty_rate", 0.0) or 0.0) * acc["output"]
            acc["surplus"] = acc["output"] - acc["intermediate"] - acc["wages"] - acc["royalties"]
            acc["capital_charge"] = capex * crf if running else 0.0
            holiday = a.get("tax_holiday_until")
            exempt = holiday is not None and year <= int(holiday)
            taxable = acc["surplus"] - acc["capital_charge"]
            acc["corporate_tax"] = 0.0 if exempt else inputs.corporate_tax_rate * max(taxable, 0.0)
            acc["profit"] = taxable - acc["corporate_tax"]
            acc["value_added"] = (
                acc["wages"] + acc["royalties"] + acc["corporate_tax"] + acc["capital_charge"] + acc["profit"]
            )
            acc["value_added_output"] = acc["output"] - acc["intermediate"]
            share = float(a.get("foreign_ownership", 0.0) or 0.0)
            acc["foreign_income"] = share * (acc["profit"] + acc["capital_charge"])
            acc["national_value_added"] = acc["value_added"] - acc["foreign_income"]
            rows.extend(_rows(year, f.name, f.country, stage, acc, inputs))
    rows.extend(_informal_rows(result, inputs))
    return pd.DataFrame(rows, columns=list(ACCOUNT_COLUMNS))


def activity_magnet_t(f: Facility, facts: _Facts, year: int) -> float:
    """t of magnet a magnet plant makes in `year` (its REO output divided by the REO content per t magnet)."""
    need, y = magnet_need(f, list(f.attrs["bom"]))
    content = float(np.sum(need * y))  # t REO equivalent in a t of finished magnet
    made_reo = facts.activity_t.get((year, f.name), 0.0)
    return made_reo / content if content > 0 else 0.0


def _cash_cost(f: Facility, facts: _Facts, year: int, activity: float) -> float:
    """The facility's cash cost (``cost`` x its activity), USD."""
    cost = float(f.attrs.get("cost", 0.0) or 0.0)
    if f.kind == "magnet_plants":
        return cost * activity_magnet_t(f, facts, year)
    if f.kind in ("crackers", "metal_plants"):
        return cost * facts.fed_t.get((year, f.name), 0.0)
    return cost * activity


def _rows(
    year: int, facility: str, country: str, stage: str, acc: Mapping[str, float], inputs: EconomicInputs
) -> list[dict[str, object]]:
    rate = inputs.myr_per_usd.at(year)
    return [
        {
            "year": year,
            "facility": facility,
            "country": country,
            "stage": stage,
            "item": item,
            "usd": float(acc[item]),
            "myr": float(acc[item]) * rate if item != "jobs" else float(acc[item]),
        }
        for item in ITEMS
        if item != "informal_output"
    ]


def _informal_rows(result: ChainResult, inputs: EconomicInputs) -> list[dict[str, object]]:
    fac = result.tables["facilities"]
    informal = fac[fac["type"] == "informal_mine"]
    if informal.empty:
        return []
    flows = result.tables["flows"]
    sold: dict[tuple[str, int], float] = {}
    mask = flows["source"].isin(informal["facility"].astype(str)).to_numpy()
    for source, year, usd in zip(
        flows["source"].to_numpy(dtype=object)[mask],
        flows["year"].to_numpy()[mask].tolist(),
        flows["value_usd"].to_numpy(dtype=float)[mask].tolist(),
        strict=True,
    ):
        sold[(str(source), int(year))] = sold.get((str(source), int(year)), 0.0) + usd
    rows = []
    for r in informal.itertuples(index=False):
        for year in result.years:
            usd = sold.get((str(r.facility), year), 0.0)
            rows.append(
                {
                    "year": year,
                    "facility": str(r.facility),
                    "country": str(r.country),
                    "stage": "mining",
                    "item": "informal_output",
                    "usd": usd,
                    "myr": usd * inputs.myr_per_usd.at(year),
                }
            )
    return rows
