"""A market scenario year by year: equilibria, substitution that follows prices, magnets in use, results.

Each year: demand blocks from the base-year totals grown and reduced by the substitution reached so far;
supply steps and magnet plants in service that year (a price floor makes its supplier produce whatever costs
less than the floor); recycled supply from the magnets reaching end of life; trade between every pair of
regions at the freight plus any export tax; export caps (licences, quotas, embargoes) as a share of the flow
the same year would carry without them (so that year is solved twice). After the solve, substitution moves
toward the long-run response to the year's price (``(P / P_ref) ** (e_long - e_short)``), by at most
``max_rate`` of demand a year, and the magnets bought enter the stock in use.

``run_market(name_or_path)`` returns a :class:`MarketRun`; ``MarketRun.write(out)`` writes the ``prices``
table (year, market, element, usd_per_kg) and the others as CSV, with a JSON summary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mine2magnet.data import Dataset
from mine2magnet.errors import InputError
from mine2magnet.market.cohorts import InUseStock, Lifetime, recycled
from mine2magnet.market.definition import MarketDefinition, load_market, step_value
from mine2magnet.market.equilibrium import (
    Converter,
    DemandBlock,
    ExportCap,
    MarketSolution,
    MarketYear,
    Route,
    SupplyStep,
    solve_market,
)

PRICE_COLUMNS = ["year", "market", "element", "usd_per_kg"]


@dataclass
class MarketRun:
    """The results of a market scenario, as tables (t/yr, USD/kg)."""

    name: str
    description: str
    years: list[int]
    prices: pd.DataFrame
    consumption: pd.DataFrame
    production: pd.DataFrame
    conversion: pd.DataFrame
    trade: pd.DataFrame
    cap_rent: pd.DataFrame
    stocks: pd.DataFrame
    floor_payments: pd.DataFrame
    stockpiles: pd.DataFrame
    solver: pd.DataFrame
    provenance: pd.DataFrame
    exposure: list[str] = field(default_factory=list)

    #: The tables of a run, as the results store keeps them (``prices``: year, market, element, usd_per_kg).
    TABLES = (
        "prices",
        "consumption",
        "production",
        "conversion",
        "trade",
        "cap_rent",
        "stocks",
        "floor_payments",
        "stockpiles",
        "solver",
        "provenance",
    )

    @property
    def scenario_name(self) -> str:
        """The scenario's name (what the results store files the run under)."""
        return self.name

    @property
    def overrides(self) -> list[str]:
        """Market scenarios take no named overrides."""
        return []

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name (the results store saves them as they are)."""
        return {name: getattr(self, name) for name in self.TABLES}

    def price_path(self, market: str, element: str) -> pd.Series:
        """USD/kg of `element` in `market`, by year."""
        p = self.prices
        sel = p[(p.market == market) & (p.element == element)]
        return sel.set_index("year").usd_per_kg

    def oxide_prices(self, market: str) -> dict[str, dict[int, float]]:
        """USD/kg of each separated oxide in `market` by year, by element symbol, for the chain's price deck
        (``PriceDeck.with_oxide_prices``): NdPr gives both Nd and Pr; magnets (NdFeB) are left out."""
        out: dict[str, dict[int, float]] = {}
        for element in sorted(set(self.prices.element)):
            symbols = {"NdPr": ["Nd", "Pr"]}.get(element, [element])
            if element == "NdFeB":
                continue
            path = self.price_path(market, element)
            for symbol in symbols:
                out[symbol] = {int(y): float(v) for y, v in path.items()}
        return out

    def summary(self) -> dict[str, Any]:
        """Key figures: years, solver statuses and worst residuals, solve time, and the exposure sentences."""
        s = self.solver
        return {
            "scenario": self.name,
            "description": self.description,
            "years": self.years,
            "solver": {
                "statuses": sorted(set(s.status + "/" + s.termination)),
                "worst_balance_residual_t": float(s.balance_residual.max()),
                "worst_price_residual_usd_per_kg": float(s.price_residual.max()),
                "seconds_total": float(s.seconds.sum()),
                "seconds_worst_year": float(s.seconds.max()),
            },
            "exposure": self.exposure,
        }

    def write(self, out: str | Path) -> dict[str, str]:
        """Write every table as CSV (``prices.csv`` ...) and ``market_summary.json`` into `out`."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written = {}
        for name in self.TABLES:
            path = out / f"{name}.csv"
            getattr(self, name).to_csv(path, index=False)
            written[name] = str(path)
        path = out / "market_summary.json"
        path.write_text(json.dumps(self.summary(), indent=2), encoding="utf-8")
        written["summary"] = str(path)
        return written


def _years(spec_years: list[int]) -> list[int]:
    return list(range(spec_years[0], spec_years[1] + 1))


def _in_years(years: list[int], year: int) -> bool:
    return years[0] <= year <= (years[1] if len(years) > 1 else years[0])


class _State:
    """What carries from one year to the next: substitution by (region, product), stocks in use."""

    def __init__(self) -> None:
        self.multiplier: dict[tuple[str, str], float] = {}
        self.stocks: dict[tuple[str, str], InUseStock] = {}
        self.stockpiles: dict[str, float] = {}


def run_market(
    name_or_path: str,
    *,
    dataset: Dataset | None = None,
    years: tuple[int, int] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> MarketRun:
    """Run a market scenario (built-in name or YAML path) over its years (or `years`)."""
    definition = load_market(name_or_path, dataset)
    return run_definition(definition, years=years, progress=progress)


def run_definition(
    definition: MarketDefinition,
    *,
    years: tuple[int, int] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> MarketRun:
    """Run an already loaded :class:`MarketDefinition`."""
    s, r = definition.spec, definition.resolve
    span = _years(list(years) if years else s.years)
    ref_price = {
        p: r(ps.reference_price, f"products.{p}.reference_price", "USD/kg") for p, ps in s.products.items()
    }
    element_of = {p: ps.element for p, ps in s.products.items()}
    max_rate = r(s.substitution.max_rate, "substitution.max_rate", "fraction")
    demand = {}
    for p, d in s.demand.items():
        e_short = r(d.elasticity.short_run, f"demand.{p}.elasticity.short_run")
        e_long = r(d.elasticity.long_run, f"demand.{p}.elasticity.long_run")
        if not e_long <= e_short <= 0:
            raise InputError(
                "expected long_run <= short_run <= 0", file=definition.label, field=f"demand.{p}.elasticity"
            )
        demand[p] = {
            "total": r(d.total, f"demand.{p}.total", "t/yr"),
            "growth": r(d.growth, f"demand.{p}.growth", "fraction"),
            "e_short": e_short,
            "e_long": e_long,
            "regions": {k: r(v, f"demand.{p}.regions.{k}") for k, v in d.regions.items()},
            "segments": {k: r(v, f"demand.{p}.segments.{k}") for k, v in d.segments.items()} or {"all": 1.0},
            "choke": r(d.choke_factor, f"demand.{p}.choke_factor") if d.choke_factor is not None else None,
        }
    supply = []
    for i, sp in enumerate(s.supply):
        cost = r(sp.cost, f"supply[{i}].cost", "USD/kg")
        slope = 0.0
        if (sp.reference_output is None) != (sp.reference_price is None):
            raise InputError(
                "give reference_output and reference_price together",
                file=definition.label,
                field=f"supply[{i}]",
            )
        if sp.reference_output is not None:
            q_ref = r(sp.reference_output, f"supply[{i}].reference_output", "t/yr")
            p_ref = r(sp.reference_price, f"supply[{i}].reference_price", "USD/kg")
            if q_ref <= 0 or p_ref < cost:
                raise InputError(
                    "expected reference_output > 0 and reference_price >= cost",
                    file=definition.label,
                    field=f"supply[{i}]",
                )
            slope = (p_ref - cost) / q_ref
        supply.append(
            {
                "spec": sp,
                "capacity": r.series(sp.capacity, f"supply[{i}].capacity", "t/yr"),
                "growth": r(sp.growth, f"supply[{i}].growth", "fraction") if sp.growth is not None else 0.0,
                "headroom": r(sp.headroom, f"supply[{i}].headroom", "fraction")
                if sp.headroom is not None
                else 0.0,
                "cost": cost,
                "slope": slope,
                "floor": r(sp.floor.price, f"supply[{i}].floor.price", "USD/kg") if sp.floor else None,
            }
        )
    converters = []
    for i, c in enumerate(s.converters):
        converters.append(
            {
                "spec": c,
                "capacity": r.series(c.capacity, f"converters[{i}].capacity", "t/yr"),
                "inputs": {p: r(v, f"converters[{i}].inputs.{p}") for p, v in c.inputs.items()},
                "cost": r(c.cost, f"converters[{i}].cost", "USD/kg"),
                "growth": r(c.growth, f"converters[{i}].growth", "fraction") if c.growth is not None else 0.0,
            }
        )
    freight = {p: r(v, f"freight.{p}", "USD/kg") for p, v in s.freight.items()}
    taxes = [(t, r(t.rate, f"export_tax[{i}].rate", "fraction")) for i, t in enumerate(s.export_tax)]
    caps = [
        (c, r.series(c.share, f"export_caps[{i}].share", "fraction")) for i, c in enumerate(s.export_caps)
    ]

    state = _State()
    piles = []
    for i, sp in enumerate(s.stockpiles):
        where = f"stockpiles[{i}]"
        piles.append(
            {
                "spec": sp,
                "buy_price": r(sp.buy_price, f"{where}.buy_price", "USD/kg"),
                "buy_rate": r(sp.buy_rate, f"{where}.buy_rate", "t/yr"),
                "release_price": r(sp.release_price, f"{where}.release_price", "USD/kg"),
                "release_share": r(sp.release_share, f"{where}.release_share", "fraction"),
            }
        )
        state.stockpiles[sp.name] = r(sp.opening, f"{where}.opening", "t")
        if piles[-1]["release_price"] <= piles[-1]["buy_price"]:
            raise InputError("release_price must exceed buy_price", file=definition.label, field=where)
    siu = s.stocks_in_use
    siu_values: dict[str, Any] = {}
    if siu is not None:
        siu_values = {
            "collection": r(siu.collection_rate, "stocks_in_use.collection_rate", "fraction"),
            "yield": r(siu.recovery_yield, "stocks_in_use.recovery_yield", "fraction"),
            "recovered": {p: r(v, f"stocks_in_use.recovered.{p}") for p, v in siu.recovered.items()},
            "cost": r(siu.cost, "stocks_in_use.cost", "USD/kg"),
        }
        opening = r(siu.opening.stock, "stocks_in_use.opening.stock", "t")
        growth = r(siu.opening.growth, "stocks_in_use.opening.growth", "fraction")
        d = demand[siu.product]
        for seg, lt in siu.lifetimes.items():
            args = {
                k: r(getattr(lt, k), f"stocks_in_use.lifetimes.{seg}.{k}", "yr")
                for k in ("mean", "sd", "shape", "scale")
                if getattr(lt, k) is not None
            }
            life = Lifetime(lt.kind, **args)
            for reg, share in d["regions"].items():
                seg_share = d["segments"].get(seg, 0.0)
                st = InUseStock.from_published_stock(
                    life, opening * share * seg_share, siu.opening.year, growth
                )
                # bring the opening stock to the year before the run with the assumed growth of inflows
                for y in range(siu.opening.year + 1, span[0]):
                    st.step(y, st.inflows[y - 1] * (1.0 + growth))
                state.stocks[(reg, seg)] = st

    tables: dict[str, list[pd.DataFrame]] = {
        k: [] for k in ("prices", "consumption", "production", "conversion", "trade", "cap_rent")
    }
    stock_rows, floor_rows, solver_rows, pile_rows = [], [], [], []
    for n, year in enumerate(span):
        if progress:
            progress(f"market {year}", n, len(span))
        t0 = time.perf_counter()
        blocks = []
        for p, d in demand.items():
            scale = d["total"] * (1.0 + d["growth"]) ** (year - s.base_year)
            for reg, rs in d["regions"].items():
                m = state.multiplier.get((reg, p), 1.0)
                for seg, ss in d["segments"].items():
                    q = scale * rs * ss * m
                    if q <= 0:
                        continue
                    choke = d["choke"] * ref_price[p] if d["choke"] is not None else None
                    blocks.append(DemandBlock(reg, p, seg, q, ref_price[p], d["e_short"], choke))
        steps, floors = [], []
        for sp in supply:
            spec = sp["spec"]
            if (spec.start is not None and year < spec.start) or (spec.end is not None and year > spec.end):
                continue
            grown = (1.0 + sp["growth"]) ** max(year - s.base_year, 0)
            cap = step_value(sp["capacity"], year) * grown * (1.0 + sp["headroom"])
            if cap <= 0:
                continue
            floor_on = sp["floor"] is not None and year >= spec.floor.start and sp["cost"] <= sp["floor"]
            steps.append(
                SupplyStep(
                    spec.name,
                    spec.region,
                    spec.product,
                    cap,
                    sp["cost"],
                    sp["slope"] / grown,
                    must_run=cap if floor_on else 0.0,
                )
            )
            if floor_on:
                floors.append((spec.name, spec.region, spec.product, sp["floor"]))
        eol: dict[tuple[str, str], float] = {}
        if siu is not None:
            for (reg, seg), st in state.stocks.items():
                eol[(reg, seg)] = st.outflow(year)
            for reg in s.regions:
                out_t = sum(v for (rg, _), v in eol.items() if rg == reg)
                got = recycled(out_t, siu_values["collection"], siu_values["yield"])
                for p, ratio in siu_values["recovered"].items():
                    if got * ratio > 0:
                        steps.append(SupplyStep(f"recycling {reg}", reg, p, got * ratio, siu_values["cost"]))
        for pile in piles:  # a stockpile sells from its stock above one price and buys below another
            sp, level = pile["spec"], state.stockpiles[pile["spec"].name]
            if level * pile["release_share"] > 0:
                steps.append(
                    SupplyStep(
                        f"stockpile {sp.name}",
                        sp.region,
                        sp.product,
                        level * pile["release_share"],
                        pile["release_price"],
                    )
                )
            if pile["buy_rate"] > 0:
                blocks.append(
                    DemandBlock(
                        sp.region,
                        sp.product,
                        f"stockpile {sp.name}",
                        pile["buy_rate"],
                        pile["buy_price"],
                        0.0,
                        choke_price=pile["buy_price"],
                    )
                )
        convs = []
        for c in converters:
            spec = c["spec"]
            if (spec.start is not None and year < spec.start) or (spec.end is not None and year > spec.end):
                continue
            cap = step_value(c["capacity"], year) * (1.0 + c["growth"]) ** max(year - s.base_year, 0)
            if cap > 0:
                convs.append(Converter(spec.name, spec.region, spec.product, cap, c["inputs"], c["cost"]))
        routes = []
        for p, fr in freight.items():
            for o in s.regions:
                tax = sum(
                    rate
                    for t, rate in taxes
                    if t.origin == o and p in t.products and _in_years(t.years, year)
                )
                for dst in s.regions:
                    if o != dst:
                        routes.append(Route(o, dst, p, fr + tax * ref_price[p]))
        market = MarketYear(year, tuple(s.regions), blocks, steps, routes, convs)
        active = [(c, step_value(share, year)) for c, share in caps if _in_years(c.years, year)]
        sol: MarketSolution
        if active:
            free = solve_market(market)
            limits = []
            for c, share in active:
                for p in c.products:
                    flows = free.trade[(free.trade.origin == c.origin) & (free.trade["product"] == p)]
                    if c.destinations is not None:
                        flows = flows[flows.destination.isin(c.destinations)]
                    dests = tuple(c.destinations) if c.destinations is not None else None
                    limits.append(ExportCap(c.origin, p, share * float(flows.t.sum()), dests, name=c.name))
            market = MarketYear(year, tuple(s.regions), blocks, steps, routes, convs, limits)
        sol = solve_market(market)
        seconds = time.perf_counter() - t0

        prices = sol.prices.rename(columns={"region": "market"})
        prices["element"] = prices["product"].map(element_of)
        tables["prices"].append(prices[PRICE_COLUMNS])
        for k in ("consumption", "production", "conversion", "trade", "cap_rent"):
            tables[k].append(getattr(sol, k))
        for name, reg, p, floor in floors:
            out_t = float(sol.production[(sol.production.supplier == name)].t.sum())
            price = sol.price(reg, p)
            floor_rows.append(
                {
                    "year": year,
                    "supplier": name,
                    "product": p,
                    "floor_usd_per_kg": floor,
                    "market_usd_per_kg": price,
                    "t": out_t,
                    "payment_musd": max(floor - price, 0.0) * out_t / 1000.0,
                }
            )
        solver_rows.append(
            {
                "year": year,
                "status": sol.status,
                "termination": sol.termination,
                "balance_residual": sol.balance_residual,
                "price_residual": sol.price_residual,
                "seconds": seconds,
                "capped": bool(active),
            }
        )
        for pile in piles:
            sp = pile["spec"]
            sold = float(sol.production[sol.production.supplier == f"stockpile {sp.name}"].t.sum())
            seg = sol.consumption[sol.consumption.segment == f"stockpile {sp.name}"]
            bought = float(seg.t.sum())
            state.stockpiles[sp.name] += bought - sold
            pile_rows.append(
                {
                    "year": year,
                    "stockpile": sp.name,
                    "region": sp.region,
                    "product": sp.product,
                    "bought_t": bought,
                    "released_t": sold,
                    "level_t": state.stockpiles[sp.name],
                    "price_usd_per_kg": sol.price(sp.region, sp.product),
                }
            )
        # substitution follows the year's price in each region, at most max_rate of demand a year
        for p, d in demand.items():
            for reg in d["regions"]:
                price = sol.price(reg, p)
                target = (max(price, 1e-9) / ref_price[p]) ** (d["e_long"] - d["e_short"])
                m = state.multiplier.get((reg, p), 1.0)
                state.multiplier[(reg, p)] = m + float(np.clip(target - m, -max_rate, max_rate))
        if siu is not None:
            cons = sol.consumption[sol.consumption["product"] == siu.product]
            for (reg, seg), st in state.stocks.items():
                inflow = float(cons[(cons.region == reg) & (cons.segment == seg)].t.sum())
                out_t = st.step(year, inflow)
                stock_rows.append(
                    {
                        "year": year,
                        "region": reg,
                        "segment": seg,
                        "inflow_t": inflow,
                        "outflow_t": out_t,
                        "stock_t": st.stock(),
                        "recycled_t": recycled(out_t, siu_values["collection"], siu_values["yield"]),
                        "mass_balance_residual_t": st.mass_balance_residual(),
                    }
                )
    if progress:
        progress("market done", len(span), len(span))

    def cat(k: str) -> pd.DataFrame:
        frames = [f for f in tables[k] if not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    run = MarketRun(
        name=s.name,
        description=s.description,
        years=span,
        prices=cat("prices"),
        consumption=cat("consumption"),
        production=cat("production"),
        conversion=cat("conversion"),
        trade=cat("trade"),
        cap_rent=cat("cap_rent"),
        stocks=pd.DataFrame(stock_rows),
        floor_payments=pd.DataFrame(floor_rows),
        stockpiles=pd.DataFrame(pile_rows),
        solver=pd.DataFrame(solver_rows),
        provenance=pd.DataFrame(definition.provenance).drop_duplicates(subset=["field", "data_key"]),
    )
    run.exposure = exposure_sentences(run, s.regions, element_of)
    return run


def exposure_sentences(run: MarketRun, regions: list[str], element_of: dict[str, str]) -> list[str]:
    """One sentence per region and final product: what it buys, from China, unmet at worst, prices."""
    out = []
    cons = run.consumption
    if cons.empty:
        return out
    cons = cons[~cons.segment.str.startswith("stockpile ")]
    for p in sorted(cons["product"].unique()):
        c = cons[cons["product"] == p]
        for reg in regions:
            cr = c[c.region == reg].groupby("year")[["reference_t", "t", "unmet_t"]].sum()
            if cr.empty or cr.reference_t.sum() <= 0:
                continue
            share = (cr.unmet_t / cr.reference_t.where(cr.reference_t > 0)).fillna(0.0)
            worst = int(share.idxmax())
            path = run.price_path(reg, element_of[p])
            first = path.index.min()
            peak_year = int(path.idxmax())
            if run.trade.empty:
                from_china = pd.Series(dtype=float)
            else:
                imports = run.trade[(run.trade.destination == reg) & (run.trade["product"] == p)]
                from_china = imports[imports.origin == "China"].groupby("year").t.sum()
            dep = (from_china / cr.t.where(cr.t > 0)).reindex(cr.index).fillna(0.0)
            origin = "" if reg == "China" else f" ({dep.iloc[-1]:.0%} from China)"
            out.append(
                f"{reg}, {p}: buys {cr.t.iloc[-1]:,.0f} t in {cr.index[-1]}{origin}; "
                f"at worst {share.max():.0%} of its reference demand unmet ({worst}); "
                f"price {path.loc[first]:,.1f} USD/kg in {first}, peak {path.max():,.1f} in {peak_year}."
            )
    return out
