"""Run the chain year by year: build each year's allocation from facilities, policies and stocks, solve it,
check the mass balance, carry the stocks over, and collect tidy tables and KPIs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from mine2magnet.chain.allocation import (
    Capacity,
    Link,
    LinkCap,
    Market,
    Process,
    YearProblem,
    YearSolution,
    solve_year,
)
from mine2magnet.chain.kpis import DeckValues, year_kpis
from mine2magnet.chain.model import (
    BuiltYear,
    ChainModel,
    element_vector,
    magnet_need,
    oxide_per_element,
    refinery_scale,
)
from mine2magnet.chain.network import Facility, TradeLink
from mine2magnet.chain.performance import RefineryPerformance
from mine2magnet.chain.policies import (
    Embargo,
    ExportBan,
    ExportLicensing,
    LicenceCondition,
    Policy,
    Quota,
    Smuggling,
    TechnologyRestriction,
)
from mine2magnet.chain.prices import PriceDeck
from mine2magnet.chain.result import TABLE_COLUMNS, ChainResult
from mine2magnet.chain.stocks import ChainState, InUseStock
from mine2magnet.chain.tables import FLOW_COLUMNS, facility_table, flow_rows, stock_rows
from mine2magnet.elements import ELEMENTS
from mine2magnet.errors import ConvergenceError, InputError, Mine2MagnetError

#: Relative tolerance of the per-element mass balance of the whole chain in a year.
MASS_BALANCE_TOLERANCE = 1e-6
NDPR = ("Nd", "Pr")
#: Commodities whose element mix is that of the mine they come from (they cannot be split by element).
MIXED = ("ore", "concentrate", "mrec")


def _elements(model: ChainModel) -> list[str]:
    found: set[str] = set()
    for f in model.network.facilities.values():
        for key in ("composition", "demand_split", "bom"):
            mapping = f.attrs.get(key) or {}
            found.update(mapping)
    for p in model.policies:
        if isinstance(p, Smuggling):
            found.update(p.composition)
    found.update(model.prices.magnet_bom)
    unknown = [e for e in found if e not in ELEMENTS]
    if unknown:
        raise InputError(f"unknown element {unknown[0]!r}")
    return sorted((e for e in found if ELEMENTS[e].rare_earth), key=lambda s: ELEMENTS[s].z)


def _year(value: object) -> int:
    """A year given as an int or a resolved quantity."""
    return int(getattr(value, "value", value))  # type: ignore[call-overload]


def _refinery_perf(model: ChainModel, f: Facility, commodity: str) -> RefineryPerformance:
    """The refinery's performance on one input (its flowsheet run on the representative feed, cached)."""
    feed = str(f.attrs["feeds"][commodity])
    try:
        return model.performances.get(f.attrs["flowsheet"], feed, refinery_scale(f, model.years[0]))
    except Mine2MagnetError as exc:
        raise type(exc)(f"refinery {f.name!r} ({f.attrs['flowsheet']} on {feed}): {exc}") from exc


def licensed_share(
    policies: Sequence[Policy], element: str, commodity: str, country: str, year: int
) -> float:
    """Share of `element` carried as `commodity` from `country` that export licensing lets leave in `year`."""
    share = 1.0
    for p in policies:
        if isinstance(p, ExportLicensing):
            share *= p.factor(element, commodity, country, year)
    return share


def _licence_closes(
    policies: Sequence[Policy], facility: str, commodity: str, perf: RefineryPerformance, year: int
) -> bool:
    """True if a licence condition bars the facility from taking `commodity` this year."""
    return any(
        isinstance(p, LicenceCondition)
        and p.closes_feed(facility, commodity, perf.residue_bq_per_g.get(p.residue, 0.0), year)
        for p in policies
    )


def start_share(start: object, year: int) -> float:
    """Share of `year` after a start given as a year (2025: from January) or "YYYY-MM" (from that month)."""
    text = str(getattr(start, "value", start))
    try:
        if "-" in text:
            first_year, month = (int(x) for x in text.split("-")[:2])
        else:
            first_year, month = int(float(text)), 1
    except ValueError:
        raise InputError(f"expected a year or YYYY-MM, got {text!r}") from None
    months = (year - first_year) * 12 + (13 - month)
    return min(max(months / 12.0, 0.0), 1.0)


def rejected_share(cost: tuple[float, float], price: float) -> float:
    """Share of an element a refinery rejects when its price is `price` (USD/t oxide).

    The marginal cost of separating and finishing the element is known only as a range [low, high]
    (USD/t oxide): the share rejected is the part of that range above the price, 0 when the price covers
    the high end and 1 when it is below the low end.
    """
    low, high = cost
    if high <= low:
        return 1.0 if price < low else 0.0
    return min(max((high - price) / (high - low), 0.0), 1.0)


def product_slate(
    f: Facility, perf: RefineryPerformance, E: Sequence[str], year: int, deck: PriceDeck
) -> dict[str, np.ndarray]:
    """Fractions of each element's feed reaching oxide, mixed oxide and metal in `year`.

    The flowsheet's yields, changed by the refinery's product choices: an element whose separated oxide
    has not started yet (``product_start``) leaves in the mixed products; an element a new circuit separates
    from a date (``separate_from``) leaves the mixed products for its own oxide; an element the refinery may
    reject (``reject_cost``) is left out of separation (to the residue) in the share its price does not
    pay for (the price of ``reject_price_lag`` years before, when the decision is taken on a known price).
    """
    a = f.attrs
    outs = {c: np.array([perf.yield_of(c, e) for e in E]) for c in ("oxide", "mixed_oxide", "metal")}
    for i, el in enumerate(E):
        start = (a.get("product_start") or {}).get(el)
        if start is not None:
            moved = outs["oxide"][i] * (1.0 - start_share(start, year))
            outs["oxide"][i] -= moved
            outs["mixed_oxide"][i] += moved
        new_cut = (a.get("separate_from") or {}).get(el)
        if new_cut is not None:  # a new circuit separates what the flowsheet leaves in the mixed products
            moved = outs["mixed_oxide"][i] * start_share(new_cut, year)
            outs["mixed_oxide"][i] -= moved
            outs["oxide"][i] += moved
        cost = (a.get("reject_cost") or {}).get(el)
        if cost is not None:
            outs["oxide"][i] *= 1.0 - rejected_share(cost, deck.oxide_price(el, decision_year(f, year)))
    return outs


def decision_year(f: Facility, year: int) -> int:
    """The year whose price sets a refinery's reject decision for `year` (``reject_price_lag`` years back)."""
    return year - int(f.attrs.get("reject_price_lag") or 0)


def rejection_savings(
    f: Facility, perf: RefineryPerformance, E: Sequence[str], year: int, deck: PriceDeck
) -> np.ndarray:
    """USD per t of each element fed that a refinery saves by rejecting it instead of separating it.

    The rejected share is the part of the element's separation-cost range above its price; what it saves is
    that share of the oxide the flowsheet would make, at the mean cost of the rejected part of the range
    ((max(price, low) + high) / 2, USD/t oxide). Zero for elements without a ``reject_cost``.
    """
    out = np.zeros(len(E))
    for i, el in enumerate(E):
        cost = (f.attrs.get("reject_cost") or {}).get(el)
        if cost is None:
            continue
        price = deck.oxide_price(el, decision_year(f, year))
        share = rejected_share(cost, price)
        out[i] = perf.yield_of("oxide", el) * share * (max(price, cost[0]) + cost[1]) / 2.0
    return out


def _closed(link: TradeLink, model: ChainModel, year: int) -> bool:
    for p in model.policies:
        if isinstance(p, ExportBan | Embargo) and p.closes(link, model.network, year):
            return True
    return False


def build_year(
    model: ChainModel, state: ChainState, year: int, E: list[str], values: DeckValues | None = None
) -> BuiltYear:
    """The allocation problem of `year` given the stocks at its start; `values`: the year's price-deck
    values (USD per t of each element by commodity) if already read."""
    net, deck, n = model.network, model.prices, len(E)
    procs: list[Process] = []
    caps: list[Capacity] = []
    residues: dict[str, dict[str, tuple[float, float]]] = {}
    reagents: dict[str, dict[str, float]] = {}
    ones = np.ones(n)
    ndpr_mask = np.array([1.0 if e in NDPR else 0.0 for e in E])
    forbidden = {
        f.name
        for f in net.facilities.values()
        for p in model.policies
        if isinstance(p, TechnologyRestriction) and p.forbids(f, year)
    }
    value_of = (values if values is not None else DeckValues(deck, E, year)).__getitem__
    # the policies each check reads, picked out once (each check only reads policies of its kind)
    closers = [p for p in model.policies if isinstance(p, ExportBan | Embargo)]
    licensing = [p for p in model.policies if isinstance(p, ExportLicensing)]

    scrap_available: dict[str, np.ndarray] = {}
    eol: dict[str, np.ndarray] = {}
    for name, stock in state.in_use.items():
        e = stock.end_of_life(year)
        eol[name] = e if e.size else np.zeros(n)
    for f in net.facilities.values():
        a = f.attrs
        avail = 0.0 if f.name in forbidden else f.availability(year)
        if f.kind == "mines":
            cap = f.series("capacity", year) * avail
            cap = min(cap, state.resource_left.get(f.name, math.inf))
            procs.append(
                Process(
                    f"{f.name}:mine",
                    f.name,
                    None,
                    {a["product"]: ones.copy()},
                    mix=element_vector(a["composition"], E, normalise=True),
                    level_bounds=(0.0, max(cap, 0.0)),
                    cost_level=a["cost"],
                )
            )
        elif f.kind == "suppliers":
            cost = a["price_factor"] * value_of(a["commodity"])
            mix = element_vector(a["composition"], E, normalise=True)
            cap = f.series("capacity", year) * avail
            if a["commodity"] in MIXED:  # a mixed product comes in its fixed element mix
                proc = Process(
                    f"{f.name}:supply",
                    f.name,
                    None,
                    {a["commodity"]: ones.copy()},
                    mix=mix,
                    level_bounds=(0.0, cap),
                    cost_use=cost,
                )
            else:  # separated products: each element up to its share of the capacity, if licensed
                licensed = np.array(
                    [licensed_share(licensing, e, a["commodity"], f.country, year) for e in E]
                )
                proc = Process(
                    f"{f.name}:supply",
                    f.name,
                    None,
                    {a["commodity"]: ones.copy()},
                    use_upper=mix * cap * licensed,
                    cost_use=cost,
                )
            procs.append(proc)
        elif f.kind == "crackers":
            pname = f"{f.name}:{a['input']}"
            r = a["recovery"]
            procs.append(Process(pname, f.name, a["input"], {a["output"]: ones * r}, cost_use=a["cost"]))
            caps.append(
                Capacity(f"{f.name}:capacity", f.name, f.series("capacity", year) * avail, {pname: ones})
            )
            caps.append(
                Capacity(
                    f"{f.name}:ndpr", f.name, f.series("ndpr_capacity", year) * avail, {pname: ndpr_mask * r}
                )
            )
            act = a.get("residue_activity") or {}
            residues[pname] = {k: (v, act.get(k, 0.0)) for k, v in (a.get("residues") or {}).items()}
        elif f.kind == "refineries":
            w_feed: dict[str, np.ndarray] = {}
            w_ndpr: dict[str, np.ndarray] = {}
            for commodity in a.get("feeds") or {}:
                yrs = (a.get("feed_years") or {}).get(commodity)
                if yrs is not None and not (_year(yrs[0]) <= year <= _year(yrs[1])):
                    continue
                perf = _refinery_perf(model, f, commodity)
                if _licence_closes(model.policies, f.name, commodity, perf, year):
                    continue
                pname = f"{f.name}:{commodity}"
                outs = product_slate(f, perf, E, year, deck)
                opex = np.clip(perf.opex_usd_per_t_reo - rejection_savings(f, perf, E, year, deck), 0.0, None)
                procs.append(Process(pname, f.name, commodity, outs, cost_use=opex))
                w_feed[pname] = ones
                w_ndpr[pname] = ndpr_mask * outs["oxide"]
                limit = (a.get("feed_capacity") or {}).get(commodity)
                if limit is not None:
                    caps.append(Capacity(f"{pname}:feed", f.name, limit * avail, {pname: ones}))
                residues[pname] = {
                    k: (v, perf.residue_bq_per_g.get(k, 0.0)) for k, v in perf.residues_t_per_t_reo.items()
                }
                reagents[pname] = dict(perf.reagents_t_per_t_reo)
            if not w_feed:  # no feed accepted this year: an idle process keeps the ports defined
                continue
            caps.append(Capacity(f"{f.name}:capacity", f.name, f.series("capacity", year) * avail, w_feed))
            caps.append(Capacity(f"{f.name}:ndpr", f.name, f.series("ndpr_capacity", year) * avail, w_ndpr))
        elif f.kind == "metal_plants":
            pname = f"{f.name}:oxide"
            procs.append(Process(pname, f.name, "oxide", {"metal": ones * a["recovery"]}, cost_use=a["cost"]))
            caps.append(
                Capacity(f"{f.name}:capacity", f.name, f.series("capacity", year) * avail, {pname: ones})
            )
        elif f.kind == "magnet_plants":
            need, y = magnet_need(f, E)
            pname = f"{f.name}:{a['input']}"
            procs.append(
                Process(
                    pname,
                    f.name,
                    a["input"],
                    {"magnet": ones * y},
                    mix=need,
                    level_bounds=(0.0, f.series("capacity", year) * avail),
                    cost_level=a["cost"],
                )
            )
        elif f.kind == "recyclers":
            pname = f"{f.name}:scrap"
            collected = eol.get(a["collects_from"], np.zeros(n)) * a["collection_rate"]
            available = state.scrap.get(f.name, np.zeros(n)) + collected
            scrap_available[f.name] = available
            r = a["recovery"]
            procs.append(
                Process(
                    pname,
                    f.name,
                    None,
                    {"oxide": ones * r},
                    use_upper=available * (avail > 0),
                    cost_use=a["cost"] * r,
                )
            )
            caps.append(
                Capacity(f"{f.name}:capacity", f.name, f.series("capacity", year) * avail, {pname: ones * r})
            )

    markets: list[Market] = []
    for f in net.of_kind("markets"):
        a = f.attrs
        value = a["price_factor"] * value_of(a["commodity"])
        demand = None
        if not a["open"]:
            total = f.series("demand", year)
            if not math.isfinite(total):
                raise InputError(
                    f"market {f.name!r} is not open and has no demand", field=f"markets.{f.name}.demand"
                )
            if a["commodity"] == "magnet":  # t magnet -> t REO equivalent by element
                split = element_vector(deck.magnet_bom, E) * oxide_per_element(E)
            elif a["demand_split"]:  # weights, normalised
                split = element_vector(a["demand_split"], E)
                if split.sum() <= 0:
                    raise InputError(
                        f"market {f.name!r}: demand_split names none of the chain's elements",
                        field=f"markets.{f.name}.demand_split",
                    )
                split = split / split.sum()
            else:  # magnet rare earths in the proportions of the magnet bill of materials (oxide basis)
                split = element_vector(deck.magnet_bom, E) * oxide_per_element(E)
                if split.sum() <= 0:
                    raise InputError(
                        f"market {f.name!r}: no demand_split and no magnet bill of materials",
                        field=f"markets.{f.name}.demand_split",
                    )
                split = split / split.sum()
            demand = total * split
        pen_attr = a["unmet_penalty"]
        penalty = np.full(n, pen_attr) if math.isfinite(pen_attr) else 2.0 * value + 1000.0
        markets.append(Market(f.name, f.name, a["commodity"], value, demand, penalty))

    links: list[Link] = []
    link_of: dict[str, TradeLink] = {}
    link_caps: list[LinkCap] = []
    for t in net.links:
        cost = t.cost + t.tariff * value_of(t.commodity)
        upper = 0.0 if any(p.closes(t, net, year) for p in closers) else math.inf  # as _closed
        links.append(Link(t.name, t.source, t.target, t.commodity, cost, upper))
        link_of[t.name] = t
        cap = t.capacity.at(year)
        if math.isfinite(cap):
            link_caps.append(LinkCap(f"{t.name}:capacity", [t.name], cap))
    for p in model.policies:
        if isinstance(p, Quota) and year in p.years:
            covered = [t.name for t in net.links if p.covers(t, net) and not t.informal]
            link_caps.append(LinkCap(f"quota:{p.name}", covered, p.limit.at(year)))

    smuggled: dict[str, tuple[Smuggling, np.ndarray]] = {}
    for p in model.policies:
        if isinstance(p, Smuggling):
            leak = p.leak(year)
            mix = element_vector(p.composition, E, normalise=True)
            pname = f"{p.name}:mine"
            procs.append(
                Process(pname, p.name, None, {p.commodity: ones.copy()}, mix=mix, level_bounds=(leak, leak))
            )
            lname = f"{p.name} -> {p.destination} ({p.commodity})"
            links.append(Link(lname, p.name, p.destination, p.commodity, np.zeros(n), fixed=mix * leak))
            smuggled[p.name] = (p, mix * leak)

    # origins of mixed commodities (ore, concentrate, MREC keep their mine's element mix) ------------------
    mix_of = {p.facility: p.mix for p in procs if p.input is None and p.mix is not None}
    incoming: dict[str, list[str]] = {}
    for link in links:
        if link.commodity in MIXED:
            incoming.setdefault(link.target, []).append(link.source)

    def origins(node: str, seen: frozenset[str] = frozenset()) -> list[str]:
        if node in mix_of:
            return [node]
        found: list[str] = []
        for src in incoming.get(node, []):
            if src not in seen:
                found.extend(o for o in origins(src, seen | {node}) if o not in found)
        return found

    for link in links:
        if link.commodity in MIXED and link.fixed is None:
            link.origins = [mix_of[o] for o in origins(link.source)] or [np.zeros(n)]
    stock = {k: v for k, v in state.stockpile.items() if v.sum() > 0}
    problem = YearProblem(
        year,
        E,
        procs,
        links,
        markets,
        caps,
        link_caps,
        stock,
        model.holding_cost,
        mixed=MIXED,
        stock_ports=tuple(f.name for f in net.of_kind("mines")),
    )
    return BuiltYear(problem, residues, reagents, link_of, smuggled, scrap_available, eol)


def check_mass_balance(y: BuiltYear, sol: YearSolution) -> float:
    """Per element: mined + supplied + scrap recycled + stock drawn = sold + stocked + lost to residues.

    Returns the largest relative imbalance; raises ConvergenceError above MASS_BALANCE_TOLERANCE.
    """
    n = len(sol.elements)
    sources, sinks = np.zeros(n), np.zeros(n)
    for p in y.problem.processes:
        use = sol.use[p.name]
        if p.input is None:
            sources += use
        produced = sum((yld * use for yld in p.outputs.values()), np.zeros(n))
        if p.input is not None or p.mix is None:  # conversion losses (mines and suppliers lose nothing)
            sinks += use - produced
    for k in y.problem.markets:
        sinks += sol.sale[k.name]
    for key in sol.stock_in:
        sinks += sol.stock_in[key]
        sources += sol.stock_out[key]
    scale = np.maximum(np.maximum(sources, sinks), 1e-9)
    err = float(np.max(np.abs(sources - sinks) / np.maximum(scale, 1.0), initial=0.0))
    if err > MASS_BALANCE_TOLERANCE:
        worst = sol.elements[int(np.argmax(np.abs(sources - sinks)))]
        raise ConvergenceError(f"mass balance of {sol.year} fails for {worst}", residual=err)
    return err


def _carry_over(model: ChainModel, state: ChainState, y: BuiltYear, sol: YearSolution) -> None:
    E = sol.elements
    net = model.network
    for p in y.problem.processes:
        f = net.facilities.get(p.facility)
        if f is not None and f.kind == "mines":
            state.resource_left[f.name] = state.resource_left.get(f.name, math.inf) - float(
                sol.use[p.name].sum()
            )
        for kind, (t_per_t, bq) in y.residues.get(p.name, {}).items():
            state.add_residue(p.facility, kind, float(sol.use[p.name].sum()) * t_per_t, bq)
        if f is not None and f.kind == "recyclers":
            state.scrap[f.name] = np.clip(y.scrap_available[f.name] - sol.use[p.name], 0.0, None)
    for key in sol.stock_in:
        state.stockpile[key] = np.clip(
            state.stockpile_of(key, len(E)) + sol.stock_in[key] - sol.stock_out[key], 0.0, None
        )
    for m in net.of_kind("markets"):
        stock = state.in_use.get(m.name)
        if stock is None:
            continue
        stock.cohorts = {c: v for c, v in stock.cohorts.items()}
        stock.add(sol.year, sol.sale[m.name])
    # retire end-of-life magnets: the cohort model keeps survivors implicitly; nothing to do here


def _init_state(model: ChainModel, E: list[str]) -> ChainState:
    state = ChainState()
    for f in (*model.network.of_kind("refineries"), *model.network.of_kind("crackers")):
        activity = f.attrs.get("initial_residue_activity") or {}
        for kind, tonnes in (f.attrs.get("initial_residue") or {}).items():
            state.add_residue(f.name, kind, tonnes, activity.get(kind, 0.0))
    for f in model.network.of_kind("mines"):
        state.resource_left[f.name] = f.attrs["resource"] * f.attrs["accessible_fraction"]
    content = element_vector(model.prices.magnet_bom, E) * oxide_per_element(E)
    for f in model.network.of_kind("markets"):
        a = f.attrs
        if a["commodity"] == "magnet" and math.isfinite(a["lifetime_mean"]):
            stock = InUseStock(
                a["lifetime_mean"], a["lifetime_sd"] if math.isfinite(a["lifetime_sd"]) else 0.0
            )
            if a["initial_in_use"] > 0:
                stock.seed_evenly_aged(content * a["initial_in_use"], model.years[0])
            state.in_use[f.name] = stock
    return state


def simulate(
    model: ChainModel,
    progress: Callable[[str, int, int], None] | None = None,
    *,
    scenario_name: str | None = None,
    overrides: Sequence[str] = (),
    assumptions: pd.DataFrame | None = None,
) -> ChainResult:
    """Run every year of `model`; returns the tidy tables and KPIs as a :class:`ChainResult`."""
    E = _elements(model)
    state = _init_state(model, E)
    years = list(model.years)
    flows: list[dict] = []
    stocks: list[dict] = []
    kpis: list[dict] = []
    worst = 0.0
    net, deck = model.network, model.prices
    runs = [(f, c) for f in net.of_kind("refineries") for c in f.attrs.get("feeds") or {}]
    total = len(runs) + len(years)
    for i, (f, commodity) in enumerate(runs):  # every flowsheet once, up front (cached for the years)
        if progress is not None:
            progress(f"refinery {f.name}: {f.attrs['flowsheet']} on {f.attrs['feeds'][commodity]}", i, total)
        _refinery_perf(model, f, commodity)
    for i, year in enumerate(years):
        if progress is not None:
            progress(f"allocating {year}", len(runs) + i, total)
        values = DeckValues(deck, E, year)  # USD per t by commodity and element, read once a year
        y = build_year(model, state, year, E, values)
        sol = solve_year(y.problem)
        err = check_mass_balance(y, sol)
        worst = max(worst, err, sol.balance_error)
        start_resource = dict(state.resource_left)
        _carry_over(model, state, y, sol)
        flows.extend(flow_rows(net, deck, y, sol, values))
        stocks.extend(stock_rows(state, year, E))
        kpis.extend(year_kpis(model, y, sol, state, start_resource, E, values))
        kpis.append(
            {
                "year": year,
                "kpi": "mass_balance_error",
                "facility": "total",
                "element": "",
                "value": max(err, sol.balance_error),
                "unit": "fraction",
                "detail": "",
            }
        )
    if progress is not None:
        progress("done", total, total)
    facilities = facility_table(model.network, model.policies, years)
    tables = {
        "flows": pd.DataFrame(flows, columns=FLOW_COLUMNS),
        "stocks": pd.DataFrame(stocks, columns=["year", "facility", "stock", "element", "t"]),
        "kpis": pd.DataFrame(kpis, columns=["year", "kpi", "facility", "element", "value", "unit", "detail"]),
        "facilities": facilities,
        "assumptions": assumptions
        if assumptions is not None
        else pd.DataFrame(columns=list(TABLE_COLUMNS["assumptions"])),
    }
    return ChainResult(
        scenario_name=scenario_name or model.name,
        overrides=list(overrides),
        years=years,
        tables=tables,
        mass_balance_error=worst,
        focus_country=model.focus_country,
    )
