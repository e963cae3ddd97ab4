"""Markets that answer back: yearly equilibria of rare-earth oxides and magnets between regions.

``equilibrium``: one year's welfare maximisation (linopy + HiGHS); ``cohorts``: magnets in use and their
end of life; ``definition``: a market scenario read from YAML with its sourced data; ``run``: the years in
sequence (``run_market``) and the ``prices`` table.
"""

from mine2magnet.market.cohorts import InUseStock, Lifetime
from mine2magnet.market.definition import MarketDefinition, list_market_scenarios, load_market
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
from mine2magnet.market.run import PRICE_COLUMNS, MarketRun, run_market

__all__ = [
    "PRICE_COLUMNS",
    "Converter",
    "DemandBlock",
    "ExportCap",
    "InUseStock",
    "Lifetime",
    "MarketDefinition",
    "MarketRun",
    "MarketSolution",
    "MarketYear",
    "Route",
    "SupplyStep",
    "list_market_scenarios",
    "load_market",
    "run_market",
    "solve_market",
]
