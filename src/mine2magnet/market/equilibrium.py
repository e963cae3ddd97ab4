"""One year of the rare-earth market as a welfare maximisation (a convex QP solved by linopy + HiGHS).

Regions buy and sell products (separated oxides, finished magnets). Each region's buyers are demand blocks
(a segment of one product) with a linear demand curve through a reference point; sellers are supply steps
(capacity at a marginal cost, optionally rising linearly); converters (magnet plants) turn oxides into
magnets; routes carry a product from one region to another at a cost and, under a policy, up to a cap
(China's export licences, an embargo). Maximising consumers' gross surplus minus the costs of production,
conversion and transport gives the competitive equilibrium: each region's price of each product is the dual
of its balance, so prices differ between regions only by transport costs and the rent of binding caps (China's
domestic and export prices part when a licence cap binds).

Units: quantities in t (of the product as traded: oxide or magnet) per year, prices and costs in USD/kg
(= thousand USD per t), the objective in thousand USD.

Demand of a block with reference quantity ``Q0`` at reference price ``P0`` and price elasticity ``e`` (<= 0,
at the reference point) is ``Q(P) = Q0 * (1 + e * (P - P0) / P0)``; its inverse gives the gross surplus
``U(q) = A q - B q^2 / 2`` with ``A = P0 (1 - 1/e)`` (the choke price) and ``B = -P0 / (e Q0)``. An elasticity
of zero is a fixed quantity ``Q0`` that buyers give up only above ``choke_price`` (fixed-price behaviour as
long as supply clears below it). Supply steps may carry a ``must_run`` volume (produced whatever the price:
a price floor guaranteed by a government, as the US DoD's USD 110/kg NdPr floor for MP Materials from 2025);
product that finds no buyer goes to stock (``stock_build``) at zero value, so prices never fall below zero.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mine2magnet.errors import ConvergenceError, InputError

#: Balance and optimality are checked to this tolerance, relative to the largest quantity (t) or price.
RELATIVE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class DemandBlock:
    """Buyers of one product in one region and segment.

    ``reference_quantity`` t/yr bought at ``reference_price`` USD/kg; ``elasticity`` (<= 0) the price
    elasticity of demand at that point; ``choke_price`` USD/kg, used only when the elasticity is zero: the
    price above which the fixed quantity is given up (substitution or lost production).
    """

    region: str
    product: str
    segment: str
    reference_quantity: float
    reference_price: float
    elasticity: float
    choke_price: float | None = None

    def __post_init__(self) -> None:
        where = f"demand {self.region}/{self.product}/{self.segment}"
        if not np.isfinite(self.reference_quantity) or self.reference_quantity < 0:
            raise InputError(
                f"reference_quantity must be >= 0 t/yr, got {self.reference_quantity}", field=where
            )
        if not self.reference_price > 0:
            raise InputError(f"reference_price must be > 0 USD/kg, got {self.reference_price}", field=where)
        if not self.elasticity <= 0:
            raise InputError(f"elasticity must be <= 0, got {self.elasticity}", field=where)
        if self.elasticity == 0 and not (self.choke_price is not None and self.choke_price > 0):
            raise InputError("an elasticity of 0 needs a choke_price > 0 USD/kg", field=where)

    @property
    def max_quantity(self) -> float:
        """t/yr bought at a price of zero."""
        return self.reference_quantity * (1.0 - self.elasticity)

    @property
    def intercept(self) -> float:
        """USD/kg: the price at which the first t is bought (the choke price of the linear curve)."""
        if self.elasticity == 0:
            return float(self.choke_price)  # type: ignore[arg-type]
        return self.reference_price * (1.0 - 1.0 / self.elasticity)

    @property
    def slope(self) -> float:
        """USD/kg per t/yr: how fast the willingness to pay falls with quantity (0 when inelastic)."""
        if self.elasticity == 0 or self.reference_quantity == 0:
            return 0.0
        return -self.reference_price / (self.elasticity * self.reference_quantity)

    def quantity_at(self, price: float) -> float:
        """t/yr bought at `price` USD/kg on this block's curve."""
        if self.elasticity == 0:
            return self.reference_quantity if price <= self.intercept else 0.0
        q = self.reference_quantity * (
            1.0 + self.elasticity * (price - self.reference_price) / self.reference_price
        )
        return float(min(max(q, 0.0), self.max_quantity))


@dataclass(frozen=True)
class SupplyStep:
    """``capacity`` t/yr of a product offered by ``supplier`` in ``region`` at ``marginal_cost`` USD/kg,
    rising by ``cost_slope`` USD/kg per t produced; ``must_run`` t/yr produced whatever the price."""

    supplier: str
    region: str
    product: str
    capacity: float
    marginal_cost: float
    cost_slope: float = 0.0
    must_run: float = 0.0

    def __post_init__(self) -> None:
        where = f"supply {self.supplier}/{self.product}"
        if not np.isfinite(self.capacity) or self.capacity < 0:
            raise InputError(f"capacity must be >= 0 t/yr, got {self.capacity}", field=where)
        if self.marginal_cost < 0 or self.cost_slope < 0:
            raise InputError("marginal_cost and cost_slope must be >= 0", field=where)
        if not 0 <= self.must_run <= self.capacity:
            raise InputError(f"must_run must lie in [0, capacity], got {self.must_run}", field=where)


@dataclass(frozen=True)
class Converter:
    """A plant in ``region`` making up to ``capacity`` t/yr of ``output`` from ``inputs`` (t per t of
    output) at ``cost`` USD/kg of output (e.g. a magnet plant: NdPr and Dy oxides into NdFeB)."""

    plant: str
    region: str
    output: str
    capacity: float
    inputs: Mapping[str, float]
    cost: float = 0.0

    def __post_init__(self) -> None:
        if self.capacity < 0 or self.cost < 0 or any(v < 0 for v in self.inputs.values()):
            raise InputError("capacity, cost and input ratios must be >= 0", field=f"converter {self.plant}")


@dataclass(frozen=True)
class Route:
    """Trade of ``product`` from ``origin`` to ``destination`` at ``cost`` USD/kg (freight, duties, export
    taxes), up to ``capacity`` t/yr (None: unlimited)."""

    origin: str
    destination: str
    product: str
    cost: float = 0.0
    capacity: float | None = None


@dataclass(frozen=True)
class ExportCap:
    """At most ``limit`` t/yr of ``product`` leaves ``origin`` for ``destinations`` (all other regions when
    None): an export quota or licence regime; ``limit = 0`` is an embargo."""

    origin: str
    product: str
    limit: float
    destinations: tuple[str, ...] | None = None
    name: str = ""


@dataclass(frozen=True)
class MarketYear:
    """Everything one year's equilibrium needs."""

    year: int
    regions: tuple[str, ...]
    demand: Sequence[DemandBlock]
    supply: Sequence[SupplyStep]
    routes: Sequence[Route] = ()
    converters: Sequence[Converter] = ()
    export_caps: Sequence[ExportCap] = ()

    def products(self) -> list[str]:
        """Every product named by a block, step, route or converter, sorted."""
        names = (
            {d.product for d in self.demand}
            | {s.product for s in self.supply}
            | {r.product for r in self.routes}
        )
        for c in self.converters:
            names |= {c.output, *c.inputs}
        return sorted(names)


@dataclass(frozen=True)
class MarketSolution:
    """The equilibrium of one year.

    ``prices``: USD/kg by (region, product); ``consumption``: t/yr by demand block (with its reference
    quantity and unmet part); ``production``: t/yr by supply step; ``conversion``: t/yr of output by
    converter; ``trade``: t/yr by route; ``stock_build``: t/yr to stock by (region, product);
    ``cap_rent``: USD/kg shadow price of each export cap (the licence rent); ``welfare``: thousand USD.
    ``status``/``termination``: the solver's; ``balance_residual``: largest |supply - use| in t/yr
    recomputed from the solution; ``price_residual``: largest gap (USD/kg) between a block's willingness to
    pay and its region's price where the block buys an interior quantity (the optimality check, enforced in
    quantity: the block's purchase within 1e-4 of its size of what its curve gives at that price).
    """

    year: int
    prices: pd.DataFrame
    consumption: pd.DataFrame
    production: pd.DataFrame
    conversion: pd.DataFrame
    trade: pd.DataFrame
    stock_build: pd.DataFrame
    cap_rent: pd.DataFrame
    welfare: float
    status: str
    termination: str
    balance_residual: float
    price_residual: float
    notes: list[str] = field(default_factory=list)

    def price(self, region: str, product: str) -> float:
        """USD/kg of `product` in `region`."""
        p = self.prices
        hit = p[(p.region == region) & (p["product"] == product)]
        if hit.empty:
            raise KeyError(f"no price for {product} in {region}")
        return float(hit.usd_per_kg.iloc[0])


def _check(market: MarketYear) -> None:
    regions = set(market.regions)
    if len(regions) != len(market.regions):
        raise InputError("regions repeat", field="regions")
    for kind, items in (
        ("demand", market.demand),
        ("supply", market.supply),
        ("converters", market.converters),
    ):
        for i, it in enumerate(items):
            if it.region not in regions:
                raise InputError(
                    f"unknown region {it.region!r}; known: {', '.join(market.regions)}", field=f"{kind}[{i}]"
                )
    for i, r in enumerate(market.routes):
        if r.origin not in regions or r.destination not in regions or r.origin == r.destination:
            raise InputError(
                f"route {r.origin}->{r.destination} needs two different known regions", field=f"routes[{i}]"
            )
    for i, c in enumerate(market.export_caps):
        if c.origin not in regions or c.limit < 0:
            raise InputError(
                f"export cap from {c.origin!r}: known origin and limit >= 0 t/yr expected",
                field=f"export_caps[{i}]",
            )


def solve_market(market: MarketYear) -> MarketSolution:
    """The welfare-maximising equilibrium of `market` (one year); raises ConvergenceError unless optimal."""
    import linopy
    import xarray as xr

    _check(market)
    products = market.products()
    nodes = [(r, p) for r in market.regions for p in products]
    node_index = {n: i for i, n in enumerate(nodes)}
    node_coord = [f"{r}|{p}" for r, p in nodes]

    demand, supply, conv, routes = (
        list(market.demand),
        list(market.supply),
        list(market.converters),
        list(market.routes),
    )

    m = linopy.Model()
    rows: list[list[tuple[int, float]]] = [[] for _ in nodes]  # per node: (variable label, coefficient)
    objective = 0
    if supply:
        coords = {"step": np.arange(len(supply))}
        lo = xr.DataArray([s.must_run for s in supply], dims="step", coords=coords)
        hi = xr.DataArray([s.capacity for s in supply], dims="step", coords=coords)
        x = m.add_variables(lower=lo, upper=hi, name="production")
        for label, s in zip(x.labels.values, supply, strict=True):
            rows[node_index[(s.region, s.product)]].append((int(label), 1.0))
        c = xr.DataArray([s.marginal_cost for s in supply], dims="step", coords=coords)
        objective = objective + (c * x).sum()
        slopes = np.array([s.cost_slope for s in supply])
        if np.any(slopes > 0):
            objective = objective + (xr.DataArray(0.5 * slopes, dims="step", coords=coords) * x * x).sum()
    if conv:
        coords = {"conv": np.arange(len(conv))}
        y = m.add_variables(
            lower=0,
            upper=xr.DataArray([k.capacity for k in conv], dims="conv", coords=coords),
            name="conversion",
        )
        for label, k in zip(y.labels.values, conv, strict=True):
            rows[node_index[(k.region, k.output)]].append((int(label), 1.0))
            for p, a in k.inputs.items():
                rows[node_index[(k.region, p)]].append((int(label), -a))
        objective = objective + (xr.DataArray([k.cost for k in conv], dims="conv", coords=coords) * y).sum()
    f = None
    if routes:
        coords = {"route": np.arange(len(routes))}
        caps = [r.capacity if r.capacity is not None else np.inf for r in routes]
        f = m.add_variables(lower=0, upper=xr.DataArray(caps, dims="route", coords=coords), name="trade")
        for label, r in zip(f.labels.values, routes, strict=True):
            rows[node_index[(r.destination, r.product)]].append((int(label), 1.0))
            rows[node_index[(r.origin, r.product)]].append((int(label), -1.0))
        objective = (
            objective + (xr.DataArray([r.cost for r in routes], dims="route", coords=coords) * f).sum()
        )
    if demand:
        coords = {"block": np.arange(len(demand))}
        hi = xr.DataArray(
            [d.reference_quantity if d.elasticity == 0 else d.max_quantity for d in demand],
            dims="block",
            coords=coords,
        )
        q = m.add_variables(lower=0, upper=hi, name="consumption")
        for label, d in zip(q.labels.values, demand, strict=True):
            rows[node_index[(d.region, d.product)]].append((int(label), -1.0))
        a = xr.DataArray([d.intercept for d in demand], dims="block", coords=coords)
        objective = objective - (a * q).sum()
        b = np.array([d.slope for d in demand])
        if np.any(b > 0):
            objective = objective + (xr.DataArray(0.5 * b, dims="block", coords=coords) * q * q).sum()
    if not any(rows):
        raise InputError("a market needs at least one supply step, converter, route or demand block")
    # the balance of every node as one expression built from padded (node, term) arrays of labels
    width = max(1, *(len(r) for r in rows))
    labels = np.full((len(nodes), width), -1, dtype=np.int64)
    coeffs = np.zeros((len(nodes), width))
    for i, row in enumerate(rows):
        for j, (label, coef) in enumerate(row):
            labels[i, j], coeffs[i, j] = label, coef
    data = xr.Dataset(
        {"coeffs": (("node", "_term"), coeffs), "vars": (("node", "_term"), labels)},
        coords={"node": node_coord},
    )
    # supply - uses >= 0 at every node; the surplus goes to stock at zero value
    m.add_constraints(linopy.LinearExpression(data, m) >= 0, name="balance")
    cap_rows = []
    if f is not None and market.export_caps:
        for j, cap in enumerate(market.export_caps):
            sel = [
                i
                for i, r in enumerate(routes)
                if r.origin == cap.origin
                and r.product == cap.product
                and (cap.destinations is None or r.destination in cap.destinations)
            ]
            if not sel:
                continue
            m.add_constraints(f.sel(route=sel).sum() <= cap.limit, name=f"export_cap_{j}")
            cap_rows.append((j, cap))
    m.add_objective(objective, sense="min")
    status, termination = _solve_quietly(m)
    if status != "ok" or termination != "optimal":
        raise ConvergenceError(
            f"market {market.year}: HiGHS ended with status {status!r}, termination {termination!r}"
        )

    return _solution(market, m, nodes, supply, conv, routes, demand, cap_rows, status, termination)


#: Wall-time limit of one market year's QP in HiGHS (s); the caller raises on a non-optimal end.
SOLVER_TIME_LIMIT_S = 120.0


def _solve_quietly(m) -> tuple[str, str]:
    for name in ("linopy", "linopy.model", "linopy.io", "linopy.solvers", "linopy.constants"):
        logging.getLogger(name).setLevel(logging.WARNING)
    status, termination = m.solve(
        solver_name="highs",
        io_api="direct",
        output_flag=False,
        time_limit=SOLVER_TIME_LIMIT_S,  # a year solves in well under a second; past this it is an error
    )
    return str(status), str(termination)


def _values(m, name: str) -> np.ndarray:
    return np.asarray(m.variables[name].solution.values, dtype=float) if name in m.variables else np.zeros(0)


def _solution(
    market, m, nodes, supply, conv, routes, demand, cap_rows, status, termination
) -> MarketSolution:
    # >= 0 with either sign convention; a node no variable touches (an empty row) has no dual: price 0
    duals = np.nan_to_num(np.abs(np.asarray(m.constraints["balance"].dual.values, dtype=float)))
    prices = pd.DataFrame(
        {
            "year": market.year,
            "region": [r for r, _ in nodes],
            "product": [p for _, p in nodes],
            "usd_per_kg": duals,
        }
    )
    price_of = {n: duals[i] for i, n in enumerate(nodes)}
    xs, ys, fs, qs = (_values(m, n) for n in ("production", "conversion", "trade", "consumption"))
    # balance recomputed from the primal solution
    net = dict.fromkeys(nodes, 0.0)
    for s, v in zip(supply, xs, strict=True):
        net[(s.region, s.product)] += v
    for k, v in zip(conv, ys, strict=True):
        net[(k.region, k.output)] += v
        for p, a in k.inputs.items():
            net[(k.region, p)] -= a * v
    for r, v in zip(routes, fs, strict=True):
        net[(r.destination, r.product)] += v
        net[(r.origin, r.product)] -= v
    for d, v in zip(demand, qs, strict=True):
        net[(d.region, d.product)] -= v
    scale = max([1.0, *(abs(v) for v in xs), *(abs(v) for v in qs)])
    balance_residual = max([0.0, *(-v for v in net.values())])
    stock = pd.DataFrame(
        {
            "year": market.year,
            "region": [r for r, _ in nodes],
            "product": [p for _, p in nodes],
            "t": [max(net[n], 0.0) for n in nodes],
        }
    )
    # optimality: a block buying an interior quantity pays its willingness to pay
    # (checked in quantity: the block buys what its curve gives at its region's price, to 1e-4 of its size)
    gaps, q_gaps = [0.0], [0.0]
    for d, v in zip(demand, qs, strict=True):
        hi = d.reference_quantity if d.elasticity == 0 else d.max_quantity
        tol = RELATIVE_TOLERANCE * max(hi, 1.0) * 10
        if tol < v < hi - tol:
            price = price_of[(d.region, d.product)]
            gaps.append(abs(d.intercept - d.slope * v - price))
            if d.elasticity == 0:  # a fixed quantity split only at its choke price
                q_gaps.append(abs(d.intercept - price) / max(d.intercept, 1.0))
            else:
                q_gaps.append(abs(v - d.quantity_at(price)) / max(hi, 1.0))
    price_residual = max(gaps)
    if balance_residual > 1e-5 * scale or max(q_gaps) > 1e-4:
        raise ConvergenceError(
            f"market {market.year}: solution fails its checks (balance {balance_residual:.3g} t, "
            f"price gap {price_residual:.3g} USD/kg, demand off its curve by {max(q_gaps):.3g} of a block)",
            residual=max(balance_residual / scale, max(q_gaps)),
        )
    consumption = pd.DataFrame(
        {
            "year": market.year,
            "region": [d.region for d in demand],
            "product": [d.product for d in demand],
            "segment": [d.segment for d in demand],
            "reference_t": [d.reference_quantity for d in demand],
            "t": qs,
        }
    )
    consumption["unmet_t"] = (consumption.reference_t - consumption.t).clip(lower=0.0)
    production = pd.DataFrame(
        {
            "year": market.year,
            "supplier": [s.supplier for s in supply],
            "region": [s.region for s in supply],
            "product": [s.product for s in supply],
            "capacity_t": [s.capacity for s in supply],
            "t": xs,
            "marginal_cost": [s.marginal_cost for s in supply],
        }
    )
    conversion = pd.DataFrame(
        {
            "year": market.year,
            "plant": [k.plant for k in conv],
            "region": [k.region for k in conv],
            "product": [k.output for k in conv],
            "capacity_t": [k.capacity for k in conv],
            "t": ys,
        }
    )
    trade = pd.DataFrame(
        {
            "year": market.year,
            "origin": [r.origin for r in routes],
            "destination": [r.destination for r in routes],
            "product": [r.product for r in routes],
            "t": fs,
        }
    )
    rents = []
    for j, cap in cap_rows:
        dual = float(np.abs(np.asarray(m.constraints[f"export_cap_{j}"].dual.values, dtype=float)).sum())
        rents.append(
            {
                "year": market.year,
                "cap": cap.name or f"{cap.origin}:{cap.product}",
                "origin": cap.origin,
                "product": cap.product,
                "limit_t": cap.limit,
                "usd_per_kg": dual,
            }
        )
    cap_rent = pd.DataFrame(rents, columns=["year", "cap", "origin", "product", "limit_t", "usd_per_kg"])
    return MarketSolution(
        year=market.year,
        prices=prices,
        consumption=consumption,
        production=production,
        conversion=conversion,
        trade=trade[trade.t > 1e-9].reset_index(drop=True),
        stock_build=stock[stock.t > 1e-6].reset_index(drop=True),
        cap_rent=cap_rent,
        welfare=-float(m.objective.value),
        status=status,
        termination=termination,
        balance_residual=float(balance_residual),
        price_residual=float(price_residual),
    )
