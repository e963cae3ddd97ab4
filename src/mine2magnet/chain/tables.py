"""Tidy rows of a solved year: flows (trade links, residue losses, scrap collection) and stocks; the facility
table of a run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mine2magnet.chain.allocation import YearSolution
from mine2magnet.chain.kpis import DeckValues
from mine2magnet.chain.model import BuiltYear
from mine2magnet.chain.network import ChainNetwork
from mine2magnet.chain.policies import Policy, Smuggling
from mine2magnet.chain.prices import PriceDeck
from mine2magnet.chain.stocks import ChainState

FLOW_COLUMNS = ["year", "source", "target", "commodity", "element", "t", "value_usd", "informal", "export"]


def flow_rows(
    net: ChainNetwork, deck: PriceDeck, y: BuiltYear, sol: YearSolution, values: DeckValues | None = None
) -> list[dict[str, Any]]:
    """Flows of the year: trade links (t and value_usd, USD at the deck's values), residue losses of each
    process, scrap collected; `values`: the year's deck values if already read."""
    year, E = sol.year, sol.elements
    if values is None:
        values = DeckValues(deck, E, year)
    n = len(E)
    rows: list[dict[str, Any]] = []
    for link in y.problem.links:
        t = sol.flow[link.name]
        informal = link.name not in y.link_of
        export = None  # worked out for the first flow of the link
        usd = values[link.commodity].tolist()
        for e, tj, pj in zip(E, t.tolist(), usd, strict=True):
            if tj > 1e-9:
                if export is None:
                    export = is_export(net, link.source, link.target)
                rows.append(
                    {
                        "year": year,
                        "source": link.source,
                        "target": link.target,
                        "commodity": link.commodity,
                        "element": e,
                        "t": tj,
                        "value_usd": tj * pj,
                        "informal": informal,
                        "export": export,
                    }
                )
    for p in y.problem.processes:
        use = sol.use[p.name]
        if p.input is None and p.mix is not None:
            continue
        lost = use - sum((yld * use for yld in p.outputs.values()), np.zeros(n))
        for e, v in zip(E, lost.tolist(), strict=True):
            if v > 1e-9:
                rows.append(
                    {
                        "year": year,
                        "source": p.facility,
                        "target": f"{p.facility} residue",
                        "commodity": "residue",
                        "element": e,
                        "t": v,
                        "value_usd": 0.0,
                        "informal": False,
                        "export": False,
                    }
                )
    for name in y.scrap_available:
        f = net.facilities[name]
        used = sol.use[f"{name}:scrap"]
        for j, e in enumerate(E):
            if used[j] > 1e-9:
                rows.append(
                    {
                        "year": year,
                        "source": f.attrs["collects_from"],
                        "target": name,
                        "commodity": "scrap",
                        "element": e,
                        "t": float(used[j]),
                        "value_usd": 0.0,
                        "informal": False,
                        "export": is_export(net, f.attrs["collects_from"], name),
                    }
                )
    return rows


def stock_rows(state: ChainState, year: int, E: Sequence[str]) -> list[dict[str, Any]]:
    """Stocks at the end of the year: stockpiles, residues, magnets in use, resource left, scrap waiting."""
    rows: list[dict[str, Any]] = []
    for (fac, com), arr in state.stockpile.items():
        for e, v in zip(E, np.asarray(arr, dtype=float).tolist(), strict=False):  # plain floats
            if v > 1e-9:
                rows.append(
                    {"year": year, "facility": fac, "stock": f"stockpile:{com}", "element": e, "t": v}
                )
    for (fac, kind), t in state.residue_t.items():
        rows.append({"year": year, "facility": fac, "stock": f"residue:{kind}", "element": "", "t": t})
    for name, stock in state.in_use.items():
        arr = stock.in_use(year)
        if arr is not None:
            for j, e in enumerate(E):
                rows.append(
                    {"year": year, "facility": name, "stock": "in_use", "element": e, "t": float(arr[j])}
                )
    for name, left in state.resource_left.items():
        if math.isfinite(left):
            rows.append({"year": year, "facility": name, "stock": "resource", "element": "", "t": left})
    for name, arr in state.scrap.items():
        for e, v in zip(E, np.asarray(arr, dtype=float).tolist(), strict=False):
            if v > 1e-9:
                rows.append({"year": year, "facility": name, "stock": "scrap", "element": e, "t": v})
    return rows


def is_export(net: ChainNetwork, a: str, b: str) -> bool:
    """True when a flow from facility `a` to `b` crosses a border (or either end is not a facility)."""
    fa, fb = net.facilities.get(a), net.facilities.get(b)
    if fa is None or fb is None:
        return True
    return fa.country != fb.country


def facility_table(net: ChainNetwork, policies: Sequence[Policy], years: Sequence[int]) -> pd.DataFrame:
    """One row per facility (and per smuggling route): who, where, what, how big (last year's capacity)."""
    rows = []
    for f in net.facilities.values():
        a = f.attrs
        cap_key = "demand" if f.kind == "markets" else "capacity"
        cap = f.series(cap_key, years[-1]) if cap_key in a else math.nan
        rows.append(
            {
                "facility": f.name,
                "type": f.kind.rstrip("s") if f.kind != "refineries" else "refinery",
                "country": f.country,
                "owner": f.owner,
                "state_linked": f.state_linked,
                "technology_origin": f.technology_origin,
                "capacity_t_per_yr": cap if math.isfinite(cap) else None,
                "stage": f.stage,
                "first_year": f.first_year(),
                "end_year": a.get("end_year"),
                "product": a.get("product") or a.get("output") or a.get("commodity") or "",
                "flowsheet": a.get("flowsheet") or "",
            }
        )
    for p in policies:
        if isinstance(p, Smuggling):
            rows.append(
                {
                    "facility": p.name,
                    "type": "informal_mine",
                    "country": p.country,
                    "owner": "illegal miners",
                    "state_linked": False,
                    "technology_origin": "",
                    "capacity_t_per_yr": p.volume.at(years[-1]),
                    "stage": "mining",
                    "first_year": None,
                    "end_year": None,
                    "product": p.commodity,
                    "flowsheet": "",
                }
            )
    return pd.DataFrame(rows)
