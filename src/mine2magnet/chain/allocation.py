"""The yearly allocation: a min-cost / max-value flow of each element through the chain (linopy + HiGHS).

Variables (t TREO per year, per element ``e``):

- ``flow[a, e]`` on each trade link ``a``;
- ``use[p, e]``: what each process ``p`` takes in (a facility has one process per input it accepts; mines,
  suppliers and recyclers have none and *produce* ``use``);
- ``level[p]``: the activity of processes with a fixed element mix (mines and suppliers: t TREO; magnet
  plants: t magnet) with ``use[p, e] = mix[p, e] * level[p]``;
- ``sale[m, e]`` delivered to market ``m`` and ``unmet[m, e]`` of its demand not met (a priced slack, so a
  year with too little supply reports what is missing instead of failing);
- ``stock_in[q, e]`` / ``stock_out[q, e]``: unsold output put into / taken from the facility's stockpile.

Each (facility, commodity) port balances per element: for an input port, arrivals = use (+ sale for a market);
for an output port, production + stock_out = departures + stock_in. Capacities bound weighted sums of use and
level. The objective minimises costs (mining, processing, freight, tariffs, stock holding, unmet-demand
penalty) minus the value of sales.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from mine2magnet.errors import ConvergenceError

#: Relative tolerance of the per-port mass balance of a solved year.
BALANCE_TOLERANCE = 1e-6


@dataclass
class Process:
    """One way a facility turns input into output (see module docstring)."""

    name: str
    facility: str
    input: str | None
    outputs: dict[str, np.ndarray]  # commodity -> fraction of use reaching it, per element
    mix: np.ndarray | None = None  # fixed element mix: use = mix * level
    level_bounds: tuple[float, float] = (0.0, np.inf)
    use_upper: np.ndarray | None = None  # per-element bound on use (e.g. scrap available)
    cost_use: np.ndarray | float = 0.0  # USD per t of use, per element
    cost_level: float = 0.0  # USD per unit of level


@dataclass
class Link:
    """A trade link in one year: bounds and cost per element."""

    name: str
    source: str
    target: str
    commodity: str
    cost: np.ndarray  # USD per t, per element (freight + tariff on value)
    upper: float = np.inf
    fixed: np.ndarray | None = None  # forced flow per element (informal links)
    origins: list[np.ndarray] | None = None  # mixed commodity: element mixes of the mines it can come from


@dataclass
class Market:
    """A buyer: value per t by element; demand per element (None = open market)."""

    name: str
    facility: str
    commodity: str
    value: np.ndarray
    demand: np.ndarray | None = None
    penalty: np.ndarray | None = None


@dataclass
class Capacity:
    """sum_p sum_e weight_use[p][e] * use[p, e] + sum_p weight_level[p] * level[p] <= limit."""

    name: str
    facility: str
    limit: float
    weight_use: dict[str, np.ndarray] = field(default_factory=dict)
    weight_level: dict[str, float] = field(default_factory=dict)


@dataclass
class LinkCap:
    """sum over links (and elements) of flow <= limit (link capacities and quotas)."""

    name: str
    links: list[str]
    limit: float


@dataclass
class YearProblem:
    """Everything the allocation of one year needs."""

    year: int
    elements: list[str]
    processes: list[Process]
    links: list[Link]
    markets: list[Market]
    capacities: list[Capacity]
    link_caps: list[LinkCap]
    stock: dict[tuple[str, str], np.ndarray]  # (facility, commodity) -> stockpile at start, per element
    holding_cost: float = 1.0  # USD per t put into a stockpile
    mixed: tuple[str, ...] = ("ore", "concentrate", "mrec")  # commodities whose element mix is kept
    stock_ports: tuple[str, ...] = ()  # facilities whose mixed output may be stockpiled (mines)


@dataclass
class YearSolution:
    """The solved year: flows and uses per element, with the objective and the balance residual."""

    year: int
    elements: list[str]
    flow: dict[str, np.ndarray]
    use: dict[str, np.ndarray]
    level: dict[str, float]
    sale: dict[str, np.ndarray]
    unmet: dict[str, np.ndarray]
    stock_in: dict[tuple[str, str], np.ndarray]
    stock_out: dict[tuple[str, str], np.ndarray]
    objective: float
    balance_error: float


def _ports(problem: YearProblem) -> list[tuple[str, str, str]]:
    ports: list[tuple[str, str, str]] = []
    seen = set()

    def add(p: tuple[str, str, str]) -> None:
        if p not in seen:
            seen.add(p)
            ports.append(p)

    for p in problem.processes:
        if p.input is not None:
            add((p.facility, p.input, "in"))
        for c in p.outputs:
            add((p.facility, c, "out"))
    for m in problem.markets:
        add((m.facility, m.commodity, "in"))
    for link in problem.links:
        add((link.source, link.commodity, "out"))
        add((link.target, link.commodity, "in"))
    for fac, com in problem.stock:
        add((fac, com, "out"))
    return ports


def solve_year(problem: YearProblem) -> YearSolution:
    """Build and solve the year's LP with linopy + HiGHS; raise ConvergenceError unless optimal."""
    import linopy

    E = problem.elements
    ne = len(E)
    procs, links, mkts = problem.processes, problem.links, problem.markets
    ports = _ports(problem)
    port_ix = {p: i for i, p in enumerate(ports)}
    out_ports = [p for p in ports if p[2] == "out"]
    P, A, M, Q = (len(procs), max(len(links), 0), len(mkts), len(out_ports))
    el = xr.DataArray(E, dims="el")

    m = linopy.Model()
    names_p = [p.name for p in procs] or ["_none"]
    names_a = [a.name for a in links] or ["_none"]
    names_m = [k.name for k in mkts] or ["_none"]
    names_q = [f"{f}|{c}" for f, c, _ in out_ports] or ["_none"]
    P1, A1, M1, Q1 = max(P, 1), max(A, 1), max(M, 1), max(Q, 1)

    # bounds ------------------------------------------------------------------------------------------
    f_lo, f_up = np.zeros((A1, ne)), np.zeros((A1, ne))
    for i, a in enumerate(links):
        if a.fixed is not None:
            f_lo[i], f_up[i] = a.fixed, a.fixed
        else:
            f_up[i] = np.inf if a.upper > 0 else 0.0
    u_up = np.zeros((P1, ne))
    x_lo, x_up = np.zeros(P1), np.zeros(P1)
    for i, p in enumerate(procs):
        u_up[i] = np.inf if p.use_upper is None else p.use_upper
        x_lo[i], x_up[i] = p.level_bounds if p.mix is not None else (0.0, 0.0)
    d_up = np.zeros((M1, ne))
    for i, k in enumerate(mkts):
        d_up[i] = np.inf if k.demand is None else k.demand
    s_out_up = np.zeros((Q1, ne))
    for i, (f, c, _) in enumerate(out_ports):
        s_out_up[i] = problem.stock.get((f, c), np.zeros(ne))

    def da(arr: np.ndarray, dims: Sequence[str], coords: Mapping[str, Sequence[str]]) -> xr.DataArray:
        return xr.DataArray(arr, dims=list(dims), coords={d: list(coords[d]) for d in dims})

    C = {
        "link": names_a,
        "proc": names_p,
        "mkt": names_m,
        "oport": names_q,
        "el": E,
        "port": [f"{f}|{c}|{s}" for f, c, s in ports] or ["_none"],
    }
    flow = m.add_variables(lower=da(f_lo, ("link", "el"), C), upper=da(f_up, ("link", "el"), C), name="flow")
    use = m.add_variables(lower=0.0, upper=da(u_up, ("proc", "el"), C), name="use")
    level = m.add_variables(lower=da(x_lo, ("proc",), C), upper=da(x_up, ("proc",), C), name="level")
    sale = m.add_variables(lower=0.0, upper=da(d_up, ("mkt", "el"), C), name="sale")
    unmet = m.add_variables(
        lower=0.0, upper=da(np.where(np.isfinite(d_up), d_up, 0.0), ("mkt", "el"), C), name="unmet"
    )
    s_in_up = np.zeros((Q1, ne))
    prop = np.zeros((Q1, 1), dtype=bool)  # mixed ports: stock is drawn in proportion to what is held
    for i, (f, c, _) in enumerate(out_ports):
        if c in problem.mixed:
            prop[i] = True
            s_in_up[i] = np.inf if f in problem.stock_ports else 0.0
        else:
            s_in_up[i] = np.inf
    s_in = m.add_variables(lower=0.0, upper=da(s_in_up, ("oport", "el"), C), name="stock_in")
    s_out = m.add_variables(lower=0.0, upper=da(s_out_up, ("oport", "el"), C), name="stock_out")

    # port balances -----------------------------------------------------------------------------------
    NP = max(len(ports), 1)
    S = np.zeros((NP, A1))
    for i, a in enumerate(links):
        S[port_ix[(a.target, a.commodity, "in")], i] += 1.0
        S[port_ix[(a.source, a.commodity, "out")], i] -= 1.0
    G = np.zeros((NP, P1, ne))
    for i, p in enumerate(procs):
        if p.input is not None:
            G[port_ix[(p.facility, p.input, "in")], i, :] -= 1.0
        for c, y in p.outputs.items():
            G[port_ix[(p.facility, c, "out")], i, :] += y
    H = np.zeros((NP, M1))
    for i, k in enumerate(mkts):
        H[port_ix[(k.facility, k.commodity, "in")], i] = -1.0
    K = np.zeros((NP, Q1))
    for i, (f, c, s) in enumerate(out_ports):
        K[port_ix[(f, c, s)], i] = 1.0
    # out ports: production + stock_out - departures - stock_in = 0 ; in ports: arrivals - use - sale = 0
    # (S carries +arrivals/-departures, G carries -use/+production, so both read "... = 0")
    lhs = (
        (flow * da(S, ("port", "link"), C)).sum("link")
        + (use * da(G, ("port", "proc", "el"), C)).sum("proc")
        + (sale * da(H, ("port", "mkt"), C)).sum("mkt")
        + (s_out * da(K, ("port", "oport"), C)).sum("oport")
        - (s_in * da(K, ("port", "oport"), C)).sum("oport")
    )
    m.add_constraints(lhs == 0, name="balance")

    if prop.any():
        theta = m.add_variables(lower=0.0, upper=1.0, coords=[C["oport"]], name="stock_draw")
        m.add_constraints(
            s_out - theta * da(s_out_up, ("oport", "el"), C) == 0,
            name="stock_mix",
            mask=da(np.broadcast_to(prop, (Q1, ne)).copy(), ("oport", "el"), C),
        )
    # mixed commodities keep the element mix of their origins: flow[a, e] = sum_o mix[a, o, e] * amount[a, o]
    n_or = max((len(a.origins) for a in links if a.origins and a.fixed is None), default=0)
    if n_or:
        MX = np.zeros((A1, n_or, ne))
        has_or = np.zeros((A1, 1), dtype=bool)
        or_up = np.zeros((A1, n_or))
        for i, a in enumerate(links):
            if a.origins and a.fixed is None:
                has_or[i] = True
                for k, mixv in enumerate(a.origins):
                    MX[i, k] = mixv
                    or_up[i, k] = np.inf
        Co = {**C, "origin": [str(k) for k in range(n_or)]}
        amount = m.add_variables(lower=0.0, upper=da(or_up, ("link", "origin"), Co), name="origin_amount")
        m.add_constraints(
            flow - (amount * da(MX, ("link", "origin", "el"), Co)).sum("origin") == 0,
            name="origin_mix",
            mask=da(np.broadcast_to(has_or, (A1, ne)).copy(), ("link", "el"), C),
        )
    # fixed element mixes -----------------------------------------------------------------------------
    mix = np.zeros((P1, ne))
    has_mix = np.zeros((P1, 1), dtype=bool)
    for i, p in enumerate(procs):
        if p.mix is not None:
            mix[i], has_mix[i] = p.mix, True
    if has_mix.any():
        m.add_constraints(
            use - level * da(mix, ("proc", "el"), C) == 0,
            name="mix",
            mask=da(np.broadcast_to(has_mix, (P1, ne)).copy(), ("proc", "el"), C),
        )

    # demand -------------------------------------------------------------------------------------------
    dem = np.zeros((M1, ne))
    has_dem = np.zeros((M1, ne), dtype=bool)
    for i, k in enumerate(mkts):
        if k.demand is not None:
            dem[i], has_dem[i] = k.demand, True
    if has_dem.any():
        m.add_constraints(
            sale + unmet == da(dem, ("mkt", "el"), C), name="demand", mask=da(has_dem, ("mkt", "el"), C)
        )

    # capacities ---------------------------------------------------------------------------------------
    pix = {p.name: i for i, p in enumerate(procs)}
    caps = [c for c in problem.capacities if np.isfinite(c.limit)]
    if caps:
        cn = [c.name for c in caps]
        W = np.zeros((len(caps), P1, ne))
        WX = np.zeros((len(caps), P1))
        for j, c in enumerate(caps):
            for pname, w in c.weight_use.items():
                W[j, pix[pname]] += w
            for pname, w in c.weight_level.items():
                WX[j, pix[pname]] += w
        Cc = {**C, "cap": cn}
        lhs = (use * da(W, ("cap", "proc", "el"), Cc)).sum(["proc", "el"]) + (
            level * da(WX, ("cap", "proc"), Cc)
        ).sum("proc")
        m.add_constraints(lhs <= da(np.array([c.limit for c in caps]), ("cap",), Cc), name="capacity")
    aix = {a.name: i for i, a in enumerate(links)}
    lcaps = [c for c in problem.link_caps if np.isfinite(c.limit) and c.links]
    if lcaps:
        R = np.zeros((len(lcaps), A1))
        for j, c in enumerate(lcaps):
            for name in c.links:
                R[j, aix[name]] = 1.0
        Cl = {**C, "lcap": [c.name for c in lcaps]}
        lhs = (flow * da(R, ("lcap", "link"), Cl)).sum(["link", "el"])
        m.add_constraints(lhs <= da(np.array([c.limit for c in lcaps]), ("lcap",), Cl), name="link_capacity")

    # objective ----------------------------------------------------------------------------------------
    cf = np.zeros((A1, ne))
    for i, a in enumerate(links):
        cf[i] = a.cost
    cu = np.zeros((P1, ne))
    cx = np.zeros(P1)
    for i, p in enumerate(procs):
        cu[i] = p.cost_use
        cx[i] = p.cost_level
    vd = np.zeros((M1, ne))
    pen = np.zeros((M1, ne))
    for i, k in enumerate(mkts):
        vd[i] = k.value
        if k.penalty is not None:
            pen[i] = k.penalty
    obj = (
        (flow * da(cf, ("link", "el"), C)).sum()
        + (use * da(cu, ("proc", "el"), C)).sum()
        + (level * da(cx, ("proc",), C)).sum()
        - (sale * da(vd, ("mkt", "el"), C)).sum()
        + (unmet * da(pen, ("mkt", "el"), C)).sum()
        + problem.holding_cost * s_in.sum()
    )
    m.add_objective(obj)
    logging.getLogger("linopy").setLevel(logging.WARNING)
    status, condition = m.solve(solver_name="highs", io_api="direct", output_flag=False)
    if status != "ok" or condition != "optimal":
        raise ConvergenceError(
            f"allocation of {problem.year}: HiGHS ended with status {status!r} ({condition})"
        )

    def sol(v: linopy.Variable) -> np.ndarray:
        return np.nan_to_num(np.asarray(v.solution.values, dtype=float), nan=0.0)

    F, U, X, D, UN, SI, SO = (sol(v) for v in (flow, use, level, sale, unmet, s_in, s_out))
    F, U, D, UN, SI, SO = (np.clip(a, 0.0, None) for a in (F, U, D, UN, SI, SO))
    # independent residual of every port balance, relative to the largest flow
    resid = (
        np.einsum("pa,ae->pe", S, F)
        + np.einsum("pie,ie->pe", G, U)
        + np.einsum("pm,me->pe", H, D)
        + np.einsum("pq,qe->pe", K, SO - SI)
    )
    scale = max(1.0, float(np.max(np.abs(F), initial=0.0)), float(np.max(np.abs(U), initial=0.0)))
    err = float(np.max(np.abs(resid), initial=0.0)) / scale
    if err > BALANCE_TOLERANCE:
        raise ConvergenceError(f"allocation of {problem.year}: port balance residual too large", residual=err)
    return YearSolution(
        year=problem.year,
        elements=list(E),
        flow={a.name: F[i] for i, a in enumerate(links)},
        use={p.name: U[i] for i, p in enumerate(procs)},
        level={p.name: float(X[i]) for i, p in enumerate(procs)},
        sale={k.name: D[i] for i, k in enumerate(mkts)},
        unmet={k.name: UN[i] for i, k in enumerate(mkts)},
        stock_in={(f, c): SI[i] for i, (f, c, _) in enumerate(out_ports)},
        stock_out={(f, c): SO[i] for i, (f, c, _) in enumerate(out_ports)},
        objective=float(m.objective.value),
        balance_error=err,
    )
