"""What a chain run is made of: the model (network, policies, prices, years), one year's built problem with
the bookkeeping that reads its solution back, and the per-element arithmetic both the run and its KPIs use.

Units: t of each element as its oxide (REO basis); money in USD of the price deck.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from mine2magnet.chain.allocation import YearProblem
from mine2magnet.chain.network import ChainNetwork, Facility, TradeLink
from mine2magnet.chain.performance import PerformanceCache
from mine2magnet.chain.policies import Policy, Smuggling
from mine2magnet.chain.prices import PriceDeck
from mine2magnet.elements import element
from mine2magnet.errors import InputError


@dataclass
class ChainModel:
    """A network, its policies and prices: everything a multi-year run needs."""

    network: ChainNetwork
    policies: Sequence[Policy]
    prices: PriceDeck
    years: Sequence[int]
    focus_country: str = ""
    performances: PerformanceCache = field(default_factory=PerformanceCache)
    holding_cost: float = 1.0
    name: str = "chain"


@dataclass
class BuiltYear:
    """The year's problem plus what the bookkeeping needs to read the solution back."""

    problem: YearProblem
    residues: dict[str, dict[str, tuple[float, float]]]  # process -> type -> (t per t use, Bq/g)
    reagents: dict[str, dict[str, float]]  # process -> reagent -> t per t use
    link_of: dict[str, TradeLink]
    smuggled: dict[str, tuple[Smuggling, np.ndarray]]
    scrap_available: dict[str, np.ndarray]
    eol: dict[str, np.ndarray]


def element_vector(
    mapping: Mapping[str, float] | None, E: Sequence[str], normalise: bool = False
) -> np.ndarray:
    """Values of `mapping` in the order of `E` (0 where absent), normalised to sum 1 if asked."""
    v = np.array([float((mapping or {}).get(e, 0.0)) for e in E])
    if normalise:
        s = v.sum()
        if s <= 0:
            raise InputError("composition has no rare earths")
        v = v / s
    return v


def oxide_per_element(E: Sequence[str]) -> np.ndarray:
    """t oxide per t element, per element."""
    return np.array([element(e).oxide_per_element for e in E])


def magnet_need(f: Facility, E: Sequence[str]) -> tuple[np.ndarray, float]:
    """(t REO bought per t magnet by element, fraction of that reaching the magnet) for a magnet plant."""
    a = f.attrs
    content = element_vector(a["bom"], E) * oxide_per_element(E)  # t REO equivalent per t magnet
    y = a["magnet_yield"] * (a["metal_yield"] if a["input"] == "oxide" else 1.0)
    if y <= 0:
        raise InputError(f"magnet plant {f.name!r}: yields must be positive")
    return content / y, y


def refinery_scale(f: Facility, first_year: int) -> float | None:
    """t TREO/yr a refinery's flowsheet is costed at (capex, headcount, maintenance per t of feed).

    Its ``design_feed`` (the plant as built), else its capacity in the run's first year when finite, else
    None: the flowsheet's own design feed.
    """
    design = float(f.attrs.get("design_feed", math.nan) or math.nan)
    if math.isfinite(design) and design > 0:
        return design
    cap = f.series("capacity", first_year)
    return cap if math.isfinite(cap) else None
