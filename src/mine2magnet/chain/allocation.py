"""The yearly allocation: a min-cost / max-value flow of each element through the chain (LP solved by HiGHS).

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

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

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


#: Wall-time limit of one year's allocation LP in HiGHS (s). A year solves in well under a second; a run
#: past the limit (a pathological input) ends as a ConvergenceError instead of hanging.
SOLVER_TIME_LIMIT_S = 120.0


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


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to the null device for the duration (keeps --json output clean)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (embedded use): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _solve_matrix_lp(
    year: int,
    A: object,
    n_eq: int,
    n_row: int,
    rhs_eq: np.ndarray,
    rhs_le: list[float],
    cost: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
) -> tuple[np.ndarray, float]:
    """min cost.x s.t. A[:n_eq] x = rhs_eq, A[n_eq:n_row] x <= rhs_le, lb <= x <= ub, passed to HiGHS as one
    column-wise matrix (the LP is built as arrays already: a modelling layer on top only costs time, ~90 % of
    a scenario draw). Returns the solution and the objective; ConvergenceError unless optimal."""
    import highspy

    csc = A[:n_row].tocsc() if n_row else A[:0].tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(cost.size), int(n_row)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lb, ub
    inf = highspy.kHighsInf
    lp.row_lower_ = np.concatenate([rhs_eq, np.full(n_row - n_eq, -inf)])
    lp.row_upper_ = np.concatenate([rhs_eq, np.asarray(rhs_le, dtype=float)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc.indptr, csc.indices, csc.data
    with _quiet_stdout():  # HiGHS prints its banner on the C-level stdout when created, whatever the flags
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", SOLVER_TIME_LIMIT_S)
        h.passModel(lp)
        h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise ConvergenceError(
            f"allocation of {year}: HiGHS ended with {h.modelStatusToString(status)}; a year solves in well "
            f"under a second, the limit is {SOLVER_TIME_LIMIT_S:g} s"
        )
    x = np.asarray(h.getSolution().col_value, dtype=float)
    return np.nan_to_num(x, nan=0.0), float(h.getInfo().objective_function_value)


def solve_year(problem: YearProblem) -> YearSolution:
    """Build and solve the year's LP with HiGHS; raise ConvergenceError unless optimal."""

    E = problem.elements
    ne = len(E)
    procs, links, mkts = problem.processes, problem.links, problem.markets
    ports = _ports(problem)
    port_ix = {p: i for i, p in enumerate(ports)}
    out_ports = [p for p in ports if p[2] == "out"]
    P, A, M, Q = (len(procs), max(len(links), 0), len(mkts), len(out_ports))

    # bounds ------------------------------------------------------------------------------------------
    A1, P1, M1, Q1 = max(A, 1), max(P, 1), max(M, 1), max(Q, 1)
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
    un_up = np.where(np.isfinite(d_up), d_up, 0.0)
    s_out_up = np.zeros((Q1, ne))
    s_in_up = np.zeros((Q1, ne))
    prop = np.zeros(Q1, dtype=bool)  # mixed ports: stock is drawn in proportion to what is held
    for i, (f, c, _) in enumerate(out_ports):
        s_out_up[i] = problem.stock.get((f, c), np.zeros(ne))
        if c in problem.mixed:
            prop[i] = True
            s_in_up[i] = np.inf if f in problem.stock_ports else 0.0
        else:
            s_in_up[i] = np.inf
    n_or = max((len(a.origins) for a in links if a.origins and a.fixed is None), default=0)
    NO = max(n_or, 1)
    or_up = np.zeros((A1, NO))
    MX = np.zeros((A1, NO, ne))
    has_or = np.zeros(A1, dtype=bool)
    for i, a in enumerate(links):
        if a.origins and a.fixed is None:
            has_or[i] = True
            for k, mixv in enumerate(a.origins):
                MX[i, k] = mixv
                or_up[i, k] = np.inf

    # one flat vector of variables --------------------------------------------------------------------
    blocks = {
        "flow": (A1, ne),
        "use": (P1, ne),
        "level": (P1,),
        "sale": (M1, ne),
        "unmet": (M1, ne),
        "stock_in": (Q1, ne),
        "stock_out": (Q1, ne),
        "theta": (Q1,),
        "amount": (A1, NO),
    }
    lower = {
        "flow": f_lo,
        "use": np.zeros((P1, ne)),
        "level": x_lo,
        "sale": np.zeros((M1, ne)),
        "unmet": np.zeros((M1, ne)),
        "stock_in": np.zeros((Q1, ne)),
        "stock_out": np.zeros((Q1, ne)),
        "theta": np.zeros(Q1),
        "amount": np.zeros((A1, NO)),
    }
    upper = {
        "flow": f_up,
        "use": u_up,
        "level": x_up,
        "sale": d_up,
        "unmet": un_up,
        "stock_in": s_in_up,
        "stock_out": s_out_up,
        "theta": np.where(prop, 1.0, 0.0),
        "amount": or_up,
    }
    off: dict[str, int] = {}
    n_var = 0
    for name, shape in blocks.items():
        off[name] = n_var
        n_var += int(np.prod(shape))

    def ix(name: str, *index: np.ndarray | int) -> np.ndarray:
        return off[name] + np.ravel_multi_index(tuple(np.asarray(i) for i in index), blocks[name])

    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    n_row = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray) -> None:
        r, c, v = np.broadcast_arrays(np.asarray(r), np.asarray(c), np.asarray(v, dtype=float))
        keep = v != 0.0
        rows.append(r[keep].ravel())
        cols.append(c[keep].ravel())
        vals.append(v[keep].ravel())

    E_ix = np.arange(ne)
    # port balances (=0): rows port*ne + e
    NP = len(ports)
    S = np.zeros((max(NP, 1), A1))
    for i, a in enumerate(links):
        S[port_ix[(a.target, a.commodity, "in")], i] += 1.0
        S[port_ix[(a.source, a.commodity, "out")], i] -= 1.0
    G = np.zeros((max(NP, 1), P1, ne))
    for i, p in enumerate(procs):
        if p.input is not None:
            G[port_ix[(p.facility, p.input, "in")], i, :] -= 1.0
        for c, y in p.outputs.items():
            G[port_ix[(p.facility, c, "out")], i, :] += y
    H = np.zeros((max(NP, 1), M1))
    for i, k in enumerate(mkts):
        H[port_ix[(k.facility, k.commodity, "in")], i] = -1.0
    K = np.zeros((max(NP, 1), Q1))
    for i, (f, c, sd) in enumerate(out_ports):
        K[port_ix[(f, c, sd)], i] = 1.0
    pr, ar = np.nonzero(S)
    add((pr * ne)[:, None] + E_ix, ix("flow", ar[:, None], E_ix), S[pr, ar][:, None])
    pr, ir, er = np.nonzero(G)
    add(pr * ne + er, ix("use", ir, er), G[pr, ir, er])
    pr, mr = np.nonzero(H)
    add((pr * ne)[:, None] + E_ix, ix("sale", mr[:, None], E_ix), H[pr, mr][:, None])
    pr, qr = np.nonzero(K)
    add((pr * ne)[:, None] + E_ix, ix("stock_out", qr[:, None], E_ix), K[pr, qr][:, None])
    add((pr * ne)[:, None] + E_ix, ix("stock_in", qr[:, None], E_ix), -K[pr, qr][:, None])
    n_row = NP * ne
    rhs_eq = [np.zeros(n_row)]
    # fixed element mixes: use - mix * level = 0
    for i, p in enumerate(procs):
        if p.mix is not None:
            r = n_row + E_ix
            add(r, ix("use", i, E_ix), 1.0)
            add(r, np.full(ne, ix("level", i)), -p.mix)
            n_row += ne
            rhs_eq.append(np.zeros(ne))
    # stock drawn in proportion: stock_out - held * theta = 0
    for q in np.nonzero(prop)[0]:
        r = n_row + E_ix
        add(r, ix("stock_out", q, E_ix), 1.0)
        add(r, np.full(ne, ix("theta", q)), -s_out_up[q])
        n_row += ne
        rhs_eq.append(np.zeros(ne))
    # mixed commodities keep their origins' mix: flow - sum_k mix_k * amount_k = 0
    for a in np.nonzero(has_or)[0]:
        r = n_row + E_ix
        add(r, ix("flow", a, E_ix), 1.0)
        for k in range(NO):
            if or_up[a, k] > 0:
                add(r, np.full(ne, ix("amount", a, k)), -MX[a, k])
        n_row += ne
        rhs_eq.append(np.zeros(ne))
    # demand: sale + unmet = demand
    for i, k in enumerate(mkts):
        if k.demand is not None:
            r = n_row + E_ix
            add(r, ix("sale", i, E_ix), 1.0)
            add(r, ix("unmet", i, E_ix), 1.0)
            n_row += ne
            rhs_eq.append(np.asarray(k.demand, dtype=float))
    n_eq = n_row
    rhs_le: list[float] = []
    pix = {p.name: i for i, p in enumerate(procs)}
    for c in problem.capacities:
        if not np.isfinite(c.limit):
            continue
        for pname, w in c.weight_use.items():
            add(np.full(ne, n_row), ix("use", pix[pname], E_ix), np.broadcast_to(w, (ne,)))
        for pname, w in c.weight_level.items():
            add(np.array([n_row]), np.array([ix("level", pix[pname])]), np.array([w]))
        rhs_le.append(c.limit)
        n_row += 1
    aix = {a.name: i for i, a in enumerate(links)}
    for c in problem.link_caps:
        if not np.isfinite(c.limit) or not c.links:
            continue
        for name in c.links:
            add(np.full(ne, n_row), ix("flow", aix[name], E_ix), 1.0)
        rhs_le.append(c.limit)
        n_row += 1

    # objective ------------------------------------------------------------------------------------------
    cost = np.zeros(n_var)
    for i, a in enumerate(links):
        cost[ix("flow", i, E_ix)] = a.cost
    for i, p in enumerate(procs):
        cost[ix("use", i, E_ix)] = p.cost_use
        cost[ix("level", i)] = p.cost_level
    for i, k in enumerate(mkts):
        cost[ix("sale", i, E_ix)] = -k.value
        if k.penalty is not None:
            cost[ix("unmet", i, E_ix)] = k.penalty
    cost[off["stock_in"] : off["stock_in"] + Q1 * ne] = problem.holding_cost

    lb = np.concatenate([np.ravel(lower[b]) for b in blocks])
    ub = np.concatenate([np.ravel(upper[b]) for b in blocks])
    R, Cc, Vv = (np.concatenate(x) if x else np.zeros(0) for x in (rows, cols, vals))
    import scipy.sparse as sp

    Amat = sp.csr_matrix((Vv, (R.astype(int), Cc.astype(int))), shape=(max(n_row, 1), n_var))
    Amat.sum_duplicates()

    equalities = np.concatenate(rhs_eq) if rhs_eq else np.zeros(0)
    sol_x, objective = _solve_matrix_lp(problem.year, Amat, n_eq, n_row, equalities, rhs_le, cost, lb, ub)

    def block(name: str) -> np.ndarray:
        n = int(np.prod(blocks[name]))
        return sol_x[off[name] : off[name] + n].reshape(blocks[name])

    F, U, X, D, UN, SI, SO = (
        block(b) for b in ("flow", "use", "level", "sale", "unmet", "stock_in", "stock_out")
    )
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
        objective=objective,
        balance_error=err,
    )
