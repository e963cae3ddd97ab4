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
import math
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

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


#: Matrix structures kept per process, least recent dropped (a study's draws meet the same few structures year
#: after year: which processes, links, markets, capacities and stockpiles a year has).
MAX_STRUCTURES_KEPT = 256

_STRUCTURES: OrderedDict[tuple[Any, ...], _Structure] = OrderedDict()
_SOLVER = threading.local()  # this thread's HiGHS object (and the process that made it)
_POOL_STARTED: set[int] = set()  # processes whose HiGHS thread pool another solver started (its size kept)


def _highs() -> Any:
    """This thread's HiGHS object, made once per process and thread (a forked worker makes its own).

    ``passModel`` replaces the model and clears the solver's state, so every solve starts cold, as from a
    fresh object: the same LP gives the same solution bit for bit (tests compare the two). One thread, the
    same in every process whatever the machine's cores.
    """
    import highspy

    found = getattr(_SOLVER, "highs", None)
    if found is not None and found[0] == os.getpid():
        return found[1]
    with _quiet_stdout():  # HiGHS prints its banner on the C-level stdout when created, whatever the flags
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", SOLVER_TIME_LIMIT_S)
        # one thread: a year's LP is small (~700 rows), and HiGHS' thread pool costs more than it saves
        # (1.7-2x the solve time, more with two study workers on two cores); the solution is the same
        h.setOptionValue("threads", 0 if os.getpid() in _POOL_STARTED else 1)
    _SOLVER.highs = (os.getpid(), h)
    return h


def forget_structures() -> None:
    """Drop the LP layouts and this thread's HiGHS object kept by this process (the next solve starts
    afresh)."""
    _STRUCTURES.clear()
    _SOLVER.__dict__.pop("highs", None)


def _solve_csc(
    year: int,
    shape: tuple[int, int],
    matrix: tuple[np.ndarray, np.ndarray, np.ndarray],
    row_bounds: tuple[np.ndarray, np.ndarray],
    cost: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
) -> tuple[np.ndarray, float]:
    """min cost.x s.t. row_lower <= A x <= row_upper, lb <= x <= ub with A column-wise (indptr, indices, data)
    of `shape` (rows, columns). Returns the solution and the objective; ConvergenceError unless optimal."""
    import highspy

    n_row, n_col = shape
    indptr, indices, data = matrix
    # the LP passed as arrays (the same model as a HighsLp filled field by field, which costs ~0.3 ms a solve
    # in pybind's element-wise copies): column starts (n_col of them), row indices, values; all continuous
    arrays = (
        int(n_col),
        int(n_row),
        int(data.size),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        np.ascontiguousarray(cost, dtype=np.float64),
        np.ascontiguousarray(lb, dtype=np.float64),
        np.ascontiguousarray(ub, dtype=np.float64),
        np.ascontiguousarray(row_bounds[0], dtype=np.float64),
        np.ascontiguousarray(row_bounds[1], dtype=np.float64),
        np.ascontiguousarray(indptr[:n_col], dtype=np.int32),
        np.ascontiguousarray(indices, dtype=np.int32),
        np.ascontiguousarray(data, dtype=np.float64),
        np.zeros(n_col, dtype=np.int32),  # integrality: every column continuous
    )
    h = _highs()
    # the limit is per solve: HiGHS counts it on the object's clock, which runs on over every solve the
    # object makes (a study's 5,000th draw would otherwise hit a 120 s limit at once)
    h.setOptionValue("time_limit", h.getRunTime() + SOLVER_TIME_LIMIT_S)
    if h.passModel(*arrays) == highspy.HighsStatus.kError:
        raise ConvergenceError(f"allocation of {year}: HiGHS refused the LP ({n_row} rows, {n_col} columns)")
    if h.run() == highspy.HighsStatus.kError and os.getpid() not in _POOL_STARTED:
        # HiGHS' thread pool (one per process) was started with another size by an earlier solver in this
        # process: use that size from now on
        _POOL_STARTED.add(os.getpid())
        h.setOptionValue("threads", 0)
        h.passModel(*arrays)
        h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise ConvergenceError(
            f"allocation of {year}: HiGHS ended with {h.modelStatusToString(status)}; a year solves in well "
            f"under a second, the limit is {SOLVER_TIME_LIMIT_S:g} s"
        )
    x = np.asarray(h.getSolution().col_value, dtype=float)
    return np.nan_to_num(x, nan=0.0), float(h.getInfo().objective_function_value)


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
    """min cost.x s.t. A[:n_eq] x = rhs_eq, A[n_eq:n_row] x <= rhs_le, lb <= x <= ub (A: a SciPy sparse
    matrix), passed to HiGHS as one column-wise matrix. Returns the solution and the objective;
    ConvergenceError unless optimal."""
    import highspy

    csc = A[:n_row].tocsc() if n_row else A[:0].tocsc()  # type: ignore[index]
    inf = highspy.kHighsInf
    row_lower = np.concatenate([rhs_eq, np.full(n_row - n_eq, -inf)])
    row_upper = np.concatenate([rhs_eq, np.asarray(rhs_le, dtype=float)])
    return _solve_csc(
        year,
        (n_row, int(cost.size)),
        (csc.indptr, csc.indices, csc.data),
        (row_lower, row_upper),
        cost,
        lb,
        ub,
    )


def _signature(problem: YearProblem) -> tuple[Any, ...]:
    """What fixes the LP's rows, columns and the positions of its coefficients (not their values)."""
    return (
        tuple(problem.elements),
        tuple((p.name, p.facility, p.input, tuple(p.outputs), p.mix is None) for p in problem.processes),
        tuple(
            (
                a.name,
                a.source,
                a.target,
                a.commodity,
                a.fixed is None,
                len(a.origins) if a.origins and a.fixed is None else 0,
            )
            for a in problem.links
        ),
        tuple(
            (k.name, k.facility, k.commodity, k.demand is None, k.penalty is None) for k in problem.markets
        ),
        tuple(
            (c.name, bool(np.isfinite(c.limit)), tuple(c.weight_use), tuple(c.weight_level))
            for c in problem.capacities
        ),
        tuple(
            (c.name, bool(np.isfinite(c.limit)) and bool(c.links), tuple(c.links)) for c in problem.link_caps
        ),
        tuple(problem.stock),
        tuple(problem.mixed),
        tuple(problem.stock_ports),
    )


#: A coefficient segment whose values change with the problem: (start, stop, values of the problem; the
#: second argument is the stock held at each output port, per element).
_Getter = Callable[[YearProblem, np.ndarray], np.ndarray]


@dataclass
class _Structure:
    """The LP of one signature: variable blocks, rows, and every coefficient's position (column-wise order).

    Coefficients are generated in one order (``_build_structure``); ``const`` holds the values that never
    change (the ±1 of balances), ``variable`` the segments read from each problem (yields, mixes, stock held,
    origins' mixes, capacity weights). ``order`` sorts the generated coefficients column by column, row by
    row (the canonical column-wise layout); coefficients laid out twice add up; those equal to zero are
    dropped per problem.
    """

    ne: int
    blocks: dict[str, tuple[int, ...]]
    off: dict[str, int]
    n_var: int
    out_ports: list[tuple[str, str, str]]
    prop: np.ndarray  # output ports whose stock is drawn in proportion to what is held (mixed commodities)
    s_in_up: np.ndarray  # upper bound of stock_in per output port (inf or 0)
    or_up: np.ndarray  # upper bound of each origin amount (inf or 0)
    n_eq: int
    n_row: int
    port_rows: int  # the first rows: per-port, per-element balances
    demand_rows: list[tuple[int, int]]  # (market index, first row)
    const: np.ndarray
    variable: list[tuple[int, int, _Getter]]
    order: np.ndarray
    merge: np.ndarray | None  # position of each sorted coefficient among the distinct ones (None: all are)
    rows_sorted: np.ndarray
    cols_sorted: np.ndarray

    def block(self, x: np.ndarray, name: str) -> np.ndarray:
        """The part of a vector over all variables that belongs to block `name`, in its shape."""
        shape = self.blocks[name]
        n = math.prod(shape)
        return x[self.off[name] : self.off[name] + n].reshape(shape)


def _build_structure(problem: YearProblem) -> _Structure:
    """Lay out the variables and rows of `problem` and the position of every coefficient."""
    E = problem.elements
    ne = len(E)
    procs, links, mkts = problem.processes, problem.links, problem.markets
    ports = _ports(problem)
    port_ix = {p: i for i, p in enumerate(ports)}
    out_ports = [p for p in ports if p[2] == "out"]
    P, A, M, Q = len(procs), len(links), len(mkts), len(out_ports)
    A1, P1, M1, Q1 = max(A, 1), max(P, 1), max(M, 1), max(Q, 1)
    prop = np.zeros(Q1, dtype=bool)
    s_in_up = np.zeros(Q1)
    for i, (f, c, _) in enumerate(out_ports):
        if c in problem.mixed:
            prop[i] = True
            s_in_up[i] = np.inf if f in problem.stock_ports else 0.0
        else:
            s_in_up[i] = np.inf
    n_origins = [len(a.origins) if a.origins and a.fixed is None else 0 for a in links]
    NO = max(max(n_origins, default=0), 1)
    or_up = np.zeros((A1, NO))
    for i, k in enumerate(n_origins):
        or_up[i, :k] = np.inf
    blocks: dict[str, tuple[int, ...]] = {
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
    off: dict[str, int] = {}
    n_var = 0
    for name, shape in blocks.items():
        off[name] = n_var
        n_var += int(np.prod(shape))
    E_ix = np.arange(ne)

    def ix(name: str, *index: int | np.ndarray) -> np.ndarray:
        return off[name] + np.ravel_multi_index(tuple(np.asarray(i) for i in index), blocks[name])

    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    const: list[np.ndarray] = []
    variable: list[tuple[int, int, _Getter]] = []
    size = [0]

    def put(r: np.ndarray, c: np.ndarray, value: float | _Getter) -> None:
        r, c = np.broadcast_arrays(np.asarray(r), np.asarray(c))
        rows.append(r.ravel())
        cols.append(c.ravel())
        n = r.size
        if callable(value):
            variable.append((size[0], size[0] + n, value))
            const.append(np.zeros(n))
        else:
            const.append(np.full(n, float(value)))
        size[0] += n

    def port_row(port: tuple[str, str, str]) -> np.ndarray:
        return port_ix[port] * ne + E_ix

    # port balances (= 0): arrivals - departures + production - use - sale + stock drawn - stock put in
    for i, a in enumerate(links):
        put(port_row((a.target, a.commodity, "in")), ix("flow", i, E_ix), 1.0)
        put(port_row((a.source, a.commodity, "out")), ix("flow", i, E_ix), -1.0)
    for i, p in enumerate(procs):
        if p.input is not None:
            put(port_row((p.facility, p.input, "in")), ix("use", i, E_ix), -1.0)
        for c in p.outputs:
            put(
                port_row((p.facility, c, "out")),
                ix("use", i, E_ix),
                lambda P, _s, i=i, c=c: P.processes[i].outputs[c],
            )
    for i, k in enumerate(mkts):
        put(port_row((k.facility, k.commodity, "in")), ix("sale", i, E_ix), -1.0)
    for q, port in enumerate(out_ports):
        put(port_row(port), ix("stock_out", q, E_ix), 1.0)
        put(port_row(port), ix("stock_in", q, E_ix), -1.0)
    n_row = len(ports) * ne
    port_rows = n_row
    # fixed element mixes: use - mix * level = 0
    for i, p in enumerate(procs):
        if p.mix is not None:
            r = n_row + E_ix
            put(r, ix("use", i, E_ix), 1.0)
            put(r, np.full(ne, ix("level", i)), lambda P, _s, i=i: -P.processes[i].mix)
            n_row += ne
    # stock drawn in proportion: stock_out - held * theta = 0
    for q in np.nonzero(prop[:Q])[0]:
        r = n_row + E_ix
        put(r, ix("stock_out", q, E_ix), 1.0)
        put(r, np.full(ne, ix("theta", q)), lambda _P, held, q=q: -held[q])
        n_row += ne
    # mixed commodities keep their origins' mix: flow - sum_k mix_k * amount_k = 0
    for a, n_or in enumerate(n_origins):
        if n_or == 0:
            continue
        r = n_row + E_ix
        put(r, ix("flow", a, E_ix), 1.0)
        for k in range(n_or):
            put(r, np.full(ne, ix("amount", a, k)), lambda P, _s, a=a, k=k: -P.links[a].origins[k])
        n_row += ne
    # demand: sale + unmet = demand
    demand_rows: list[tuple[int, int]] = []
    for i, k in enumerate(mkts):
        if k.demand is not None:
            r = n_row + E_ix
            put(r, ix("sale", i, E_ix), 1.0)
            put(r, ix("unmet", i, E_ix), 1.0)
            demand_rows.append((i, n_row))
            n_row += ne
    n_eq = n_row
    pix = {p.name: i for i, p in enumerate(procs)}
    for j, cap in enumerate(problem.capacities):
        if not np.isfinite(cap.limit):
            continue
        for pname in cap.weight_use:
            put(
                np.full(ne, n_row),
                ix("use", pix[pname], E_ix),
                lambda P, _s, j=j, pname=pname: np.broadcast_to(P.capacities[j].weight_use[pname], (ne,)),
            )
        for pname in cap.weight_level:
            put(
                np.array([n_row]),
                np.array([ix("level", pix[pname])]),
                lambda P, _s, j=j, pname=pname: np.array([P.capacities[j].weight_level[pname]], dtype=float),
            )
        n_row += 1
    aix = {a.name: i for i, a in enumerate(links)}
    for lc in problem.link_caps:
        if not np.isfinite(lc.limit) or not lc.links:
            continue
        for name in lc.links:
            put(np.full(ne, n_row), ix("flow", aix[name], E_ix), 1.0)
        n_row += 1

    R = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    C = np.concatenate(cols) if cols else np.zeros(0, dtype=int)
    order = np.lexsort((R, C))
    position = R[order].astype(np.int64) * n_var + C[order]
    first = np.r_[True, position[1:] != position[:-1]]
    # a coefficient laid out twice (a link named twice in one cap) is the sum of the two
    merge = None if first.all() else np.cumsum(first) - 1
    return _Structure(
        ne=ne,
        blocks=blocks,
        off=off,
        n_var=n_var,
        out_ports=out_ports,
        prop=prop,
        s_in_up=s_in_up,
        or_up=or_up,
        n_eq=n_eq,
        n_row=n_row,
        port_rows=port_rows,
        demand_rows=demand_rows,
        const=np.concatenate(const) if const else np.zeros(0),
        variable=variable,
        order=order,
        merge=merge,
        rows_sorted=R[order][first].astype(np.int32),
        cols_sorted=C[order][first].astype(np.int64),
    )


def _structure(problem: YearProblem) -> _Structure:
    """The structure of `problem`'s LP, built the first time its signature is met in this process."""
    key = _signature(problem)
    found = _STRUCTURES.get(key)
    if found is None:
        found = _STRUCTURES[key] = _build_structure(problem)
        while len(_STRUCTURES) > MAX_STRUCTURES_KEPT:
            _STRUCTURES.popitem(last=False)
    else:
        _STRUCTURES.move_to_end(key)
    return found


def solve_year(problem: YearProblem) -> YearSolution:
    """Solve the year's LP with HiGHS; raise ConvergenceError unless optimal.

    The LP's layout (variables, rows, positions of the coefficients) is kept per signature of the problem, so
    a study's draws (and a run's years) that share one only fill in the numbers: the matrix HiGHS receives
    is the same, bit for bit, as one laid out afresh, and every solve starts cold.
    """
    st = _structure(problem)
    ne = st.ne
    procs, links, mkts = problem.processes, problem.links, problem.markets
    Q = len(st.out_ports)
    lb, ub, cost = np.zeros(st.n_var), np.zeros(st.n_var), np.zeros(st.n_var)
    lower = {name: st.block(lb, name) for name in st.blocks}  # views: filling them fills lb and ub
    upper = {name: st.block(ub, name) for name in st.blocks}
    f_lo, f_up, f_cost = lower["flow"], upper["flow"], st.block(cost, "flow")
    for i, a in enumerate(links):
        if a.fixed is not None:
            f_lo[i], f_up[i] = a.fixed, a.fixed
        else:
            f_up[i] = np.inf if a.upper > 0 else 0.0
        f_cost[i] = a.cost
    u_up, u_cost, l_cost = upper["use"], st.block(cost, "use"), st.block(cost, "level")
    x_lo, x_up = lower["level"], upper["level"]
    for i, p in enumerate(procs):
        u_up[i] = np.inf if p.use_upper is None else p.use_upper
        if p.mix is not None:
            x_lo[i], x_up[i] = p.level_bounds
        u_cost[i] = p.cost_use
        l_cost[i] = p.cost_level
    d_up, s_cost, un_cost = upper["sale"], st.block(cost, "sale"), st.block(cost, "unmet")
    for i, k in enumerate(mkts):
        d_up[i] = np.inf if k.demand is None else k.demand
        s_cost[i] = -k.value
        if k.penalty is not None:
            un_cost[i] = k.penalty
    upper["unmet"][...] = np.where(np.isfinite(d_up), d_up, 0.0)
    held = upper["stock_out"]
    for q in range(Q):
        f, c, _ = st.out_ports[q]
        found = problem.stock.get((f, c))
        if found is not None:
            held[q] = found
    upper["stock_in"][...] = st.s_in_up[:, None]
    upper["theta"][...] = np.where(st.prop, 1.0, 0.0)
    upper["amount"][...] = st.or_up
    st.block(cost, "stock_in")[:] = problem.holding_cost

    # coefficients: the constant ones, then each problem-dependent segment, column-wise, zeros dropped
    values = st.const.copy()
    for start, stop, get in st.variable:
        values[start:stop] = get(problem, held)
    values = values[st.order]
    if st.merge is not None:
        values = np.bincount(st.merge, weights=values, minlength=st.rows_sorted.size)
    keep = values != 0.0
    data, indices, cols = values[keep], st.rows_sorted[keep], st.cols_sorted[keep]
    indptr = np.zeros(st.n_var + 1, dtype=np.int32)
    np.cumsum(np.bincount(cols, minlength=st.n_var), out=indptr[1:])
    rhs_eq = np.zeros(st.n_eq)
    for i, row in st.demand_rows:
        rhs_eq[row : row + ne] = mkts[i].demand
    rhs_le = [c.limit for c in problem.capacities if np.isfinite(c.limit)]
    rhs_le += [c.limit for c in problem.link_caps if np.isfinite(c.limit) and c.links]
    row_lower = np.concatenate([rhs_eq, np.full(st.n_row - st.n_eq, -np.inf)])
    row_upper = np.concatenate([rhs_eq, np.asarray(rhs_le, dtype=float)])
    sol_x, objective = _solve_csc(
        problem.year, (st.n_row, st.n_var), (indptr, indices, data), (row_lower, row_upper), cost, lb, ub
    )

    names = ("flow", "use", "sale", "unmet", "stock_in", "stock_out")
    F, U, D, UN, SI, SO = (np.clip(st.block(sol_x, b), 0.0, None) for b in names)
    X = st.block(sol_x, "level")
    # independent residual of every port balance (the first rows of the matrix, on the clipped solution),
    # relative to the largest flow
    x_used = sol_x.copy()
    for b in names:
        st.block(x_used, b)[...] = np.clip(st.block(x_used, b), 0.0, None)
    resid = np.bincount(indices, weights=data * x_used[cols], minlength=st.n_row)[: st.port_rows]
    scale = max(1.0, float(np.max(np.abs(F), initial=0.0)), float(np.max(np.abs(U), initial=0.0)))
    err = float(np.max(np.abs(resid), initial=0.0)) / scale
    if err > BALANCE_TOLERANCE:
        raise ConvergenceError(f"allocation of {problem.year}: port balance residual too large", residual=err)
    return YearSolution(
        year=problem.year,
        elements=list(problem.elements),
        flow={a.name: F[i] for i, a in enumerate(links)},
        use={p.name: U[i] for i, p in enumerate(procs)},
        level={p.name: float(X[i]) for i, p in enumerate(procs)},
        sale={k.name: D[i] for i, k in enumerate(mkts)},
        unmet={k.name: UN[i] for i, k in enumerate(mkts)},
        stock_in={(f, c): SI[i] for i, (f, c, _) in enumerate(st.out_ports)},
        stock_out={(f, c): SO[i] for i, (f, c, _) in enumerate(st.out_ports)},
        objective=objective,
        balance_error=err,
    )
