"""The value chain: facilities, trade links, policies, the yearly allocation (linopy + HiGHS), stocks, KPIs.

>>> from mine2magnet.chain import ChainModel, simulate
>>> result = simulate(model)            # one linear programme per year; stocks carried over
>>> result.tables["flows"], result.summary(), result.sankey(2030)

Facility types and their attributes: ``attributes/<type>.csv`` (see :mod:`mine2magnet.chain.attributes`).
"""

from mine2magnet.chain.allocation import BALANCE_TOLERANCE, YearProblem, YearSolution, solve_year
from mine2magnet.chain.attributes import FACILITY_TYPES, TRADE_LINKS, Quantity, describe, parse_attributes
from mine2magnet.chain.model import ChainModel
from mine2magnet.chain.network import COMMODITIES, ChainNetwork, Facility, TradeLink
from mine2magnet.chain.performance import PerformanceCache, RefineryPerformance, performance_from_result
from mine2magnet.chain.policies import (
    UNPROCESSED,
    Embargo,
    ExportBan,
    ExportLicensing,
    LicenceCondition,
    Policy,
    Quota,
    Smuggling,
    TechnologyRestriction,
    Window,
)
from mine2magnet.chain.prices import PriceDeck
from mine2magnet.chain.result import TABLE_COLUMNS, ChainResult
from mine2magnet.chain.series import YearSeries
from mine2magnet.chain.simulation import MASS_BALANCE_TOLERANCE, simulate
from mine2magnet.chain.stocks import InUseStock

__all__ = [
    "BALANCE_TOLERANCE",
    "COMMODITIES",
    "FACILITY_TYPES",
    "MASS_BALANCE_TOLERANCE",
    "TABLE_COLUMNS",
    "TRADE_LINKS",
    "UNPROCESSED",
    "ChainModel",
    "ChainNetwork",
    "ChainResult",
    "Embargo",
    "ExportBan",
    "ExportLicensing",
    "Facility",
    "InUseStock",
    "LicenceCondition",
    "PerformanceCache",
    "Policy",
    "PriceDeck",
    "Quantity",
    "Quota",
    "RefineryPerformance",
    "Smuggling",
    "TechnologyRestriction",
    "TradeLink",
    "Window",
    "YearProblem",
    "YearSeries",
    "YearSolution",
    "describe",
    "parse_attributes",
    "performance_from_result",
    "simulate",
    "solve_year",
]
