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
from typing import Any

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


def _group_sums(weights: np.ndarray, *codes: tuple[np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
    """Sums of `weights` by the combination of integer codes (each given with its number of values), in
    the order the combinations first appear: (codes of each combination, one row per code array; sums).

    The sums add each group's weights in row order starting from 0, as a loop of ``d[key] += w`` would
    (``np.bincount`` adds its weights in index order)."""
    key = np.zeros(weights.size, dtype=np.int64)
    for c, size in codes:
        key = key * size + c
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=weights, minlength=uniq.size)
    order = np.argsort(first, kind="stable")
    uniq, sums = uniq[order], sums[order]
    split = []
    for _, size in reversed(codes):
        split.append(uniq % size)
        uniq = uniq // size
    return np.array(split[::-1]), sums


@dataclass
class _FlowColumns:
    """The flows table as arrays: names as codes into their uniques (factorised once), years, t, USD."""

    year: np.ndarray
    source: np.ndarray
    target: np.ndarray
    commodity: np.ndarray
    source_names: list[str]
    target_names: list[str]
    commodity_names: list[str]
    t: np.ndarray
    value_usd: np.ndarray

    @classmethod
    def of(cls, flows: pd.DataFrame) -> _FlowColumns:
        """The columns of a run's ``flows`` table."""
        src, src_names = pd.factorize(flows["source"])
        dst, dst_names = pd.factorize(flows["target"])
        com, com_names = pd.factorize(flows["commodity"])
        return cls(
            year=flows["year"].to_numpy(dtype=np.int64),
            source=src,
            target=dst,
            commodity=com,
            source_names=[str(n) for n in src_names],
            target_names=[str(n) for n in dst_names],
            commodity_names=[str(n) for n in com_names],
            t=flows["t"].to_numpy(dtype=float),
            value_usd=flows["value_usd"].to_numpy(dtype=float),
        )


def _by_year_and_name(
    year: np.ndarray,
    name: np.ndarray,
    names: list[str],
    weights: np.ndarray,
    *more: tuple[np.ndarray, list[str]],
) -> dict[tuple[Any, ...], float]:
    """{(year, name, *more names): sum of weights}, keys in the order they first appear."""
    if not year.size:
        return {}
    y0 = int(year.min())
    span = int(year.max()) - y0 + 1
    codes = [(year - y0, span), (name, max(len(names), 1))]
    codes += [(c, max(len(n), 1)) for c, n in more]
    keys, sums = _group_sums(weights, *codes)
    labels = [names, *(n for _, n in more)]
    return {
        (y0 + int(k[0]), *(lab[int(c)] for lab, c in zip(labels, k[1:], strict=True))): float(v)
        for k, v in zip(keys.T.tolist(), sums.tolist(), strict=True)
    }


def _flow_values(
    model: ChainModel, result: ChainResult, inputs: EconomicInputs, cols: _FlowColumns | None = None
) -> _Facts:
    """Sales and purchases of every facility, valued once so that one's sale is the other's purchase.

    A flow is worth its ``value_usd`` (mixed carbonate from a mine at the customs value per t REO when the
    mine gate is ``customs``), times the buying market's ``price_factor`` or else the selling supplier's.
    """
    net = model.network
    cols = cols if cols is not None else _FlowColumns.of(result.tables["flows"])
    traded_names = np.array([c in TRADED for c in cols.commodity_names], dtype=bool)
    traded = traded_names[cols.commodity] if cols.commodity.size else np.zeros(0, dtype=bool)
    is_mrec = np.array([c == "mrec" for c in cols.commodity_names], dtype=bool)
    value = cols.value_usd[traded]
    tonnes = cols.t[traded]
    source, target, commodity = cols.source[traded], cols.target[traded], cols.commodity[traded]
    year = cols.year[traded]
    kinds = {name: f.kind for name, f in net.facilities.items()}
    src_kind = np.array([kinds.get(n, "") for n in cols.source_names], dtype=object)[source]
    dst_kind = np.array([kinds.get(n, "") for n in cols.target_names], dtype=object)[target]
    if inputs.mine_gate == "customs":
        assert inputs.customs_usd_per_t is not None
        gate = (src_kind == "mines") & is_mrec[commodity]
        per_t = np.array([inputs.customs_usd_per_t.at(int(y)) for y in year[gate]])
        value[gate] = tonnes[gate] * per_t

    factor = {n: float(f.attrs.get("price_factor", 1.0)) for n, f in net.facilities.items()}
    src_factor = np.array([factor.get(n, 1.0) for n in cols.source_names], dtype=float)
    dst_factor = np.array([factor.get(n, 1.0) for n in cols.target_names], dtype=float)
    to_market = dst_kind == "markets"
    from_supplier = ~to_market & (src_kind == "suppliers")
    value[to_market] *= dst_factor[target[to_market]]
    value[from_supplier] *= src_factor[source[from_supplier]]
    facts = _Facts()
    facts.output = _by_year_and_name(year, source, cols.source_names, value)  # type: ignore[assignment]
    facts.re_inputs = _by_year_and_name(year, target, cols.target_names, value)  # type: ignore[assignment]
    facts.feed_t = _by_year_and_name(  # type: ignore[assignment]
        year, target, cols.target_names, tonnes, (commodity, cols.commodity_names)
    )
    facts.fed_t = _by_year_and_name(year, target, cols.target_names, tonnes)  # type: ignore[assignment]
    kpis = result.tables["kpis"]
    made = (kpis["kpi"] == "production_t").to_numpy()
    fac, fac_names = pd.factorize(kpis["facility"][made])
    facts.activity_t = _by_year_and_name(  # type: ignore[assignment]
        kpis["year"].to_numpy(dtype=np.int64)[made],
        fac,
        [str(n) for n in fac_names],
        kpis["value"].to_numpy(dtype=float)[made],
    )
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
    cols = _FlowColumns.of(result.tables["flows"])
    facts = _flow_values(model, result, inputs, cols)
    net = model.network
    years = list(result.years)
    columns: dict[str, list[Any]] = {c: [] for c in ACCOUNT_COLUMNS}
    facilities = [f for kind in PRODUCERS for f in net.of_kind(kind)]
    for f in facilities:
        stage = f.stage
        a = f.attrs
        method = str(a.get("method") or "") or None
        scale = _design_scale(f, facts, years)
        capex = float(a.get("capex", math.nan))
        per_t_capex = None
        costs_of: dict[int, dict[str, float]] = {}  # a refinery's costs by year, worked out once

        def refinery_costs(y: int, f: Facility = f, costs_of: dict[int, dict[str, float]] = costs_of) -> dict:
            found = costs_of.get(y)
            if found is None:
                found = costs_of[y] = _refinery_costs(model, f, facts, y)
            return found

        if f.kind == "refineries":
            per_t_capex = max(
                (refinery_costs(y)["capex_per_t"] for y in years if facts.re_inputs.get((y, f.name))),
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
                costs = refinery_costs(year)
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
            _add_rows(columns, year, f.name, f.country, stage, acc, inputs)
    for row in _informal_rows(result, inputs, cols):
        for c in ACCOUNT_COLUMNS:
            columns[c].append(row[c])
    return pd.DataFrame(columns, columns=list(ACCOUNT_COLUMNS))


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


#: The items of a facility's rows (informal output has rows of its own).
_ROW_ITEMS = tuple(item for item in ITEMS if item != "informal_output")


def _add_rows(
    columns: dict[str, list[Any]],
    year: int,
    facility: str,
    country: str,
    stage: str,
    acc: Mapping[str, float],
    inputs: EconomicInputs,
) -> None:
    """Append the rows of one facility's account of `year` (one per item) to the table's columns."""
    rate = inputs.myr_per_usd.at(year)
    n = len(_ROW_ITEMS)
    usd = [float(acc[item]) for item in _ROW_ITEMS]
    columns["year"].extend([year] * n)
    columns["facility"].extend([facility] * n)
    columns["country"].extend([country] * n)
    columns["stage"].extend([stage] * n)
    columns["item"].extend(_ROW_ITEMS)
    columns["usd"].extend(usd)
    columns["myr"].extend(v * rate if item != "jobs" else v for item, v in zip(_ROW_ITEMS, usd, strict=True))


def _informal_rows(
    result: ChainResult, inputs: EconomicInputs, cols: _FlowColumns | None = None
) -> list[dict[str, object]]:
    fac = result.tables["facilities"]
    kind = fac["type"].to_numpy(dtype=object)
    informal = [
        (str(f), str(c))
        for f, c, k in zip(
            fac["facility"].to_numpy(dtype=object), fac["country"].to_numpy(dtype=object), kind, strict=True
        )
        if k == "informal_mine"
    ]
    if not informal:
        return []
    cols = cols if cols is not None else _FlowColumns.of(result.tables["flows"])
    names = {f for f, _ in informal}
    mask = np.array([n in names for n in cols.source_names], dtype=bool)[cols.source]
    sold = _by_year_and_name(cols.year[mask], cols.source[mask], cols.source_names, cols.value_usd[mask])
    rows = []
    for facility, country in informal:
        for year in result.years:
            usd = sold.get((year, facility), 0.0)
            rows.append(
                {
                    "year": year,
                    "facility": facility,
                    "country": country,
                    "stage": "mining",
                    "item": "informal_output",
                    "usd": usd,
                    "myr": usd * inputs.myr_per_usd.at(year),
                }
            )
    return rows
