"""Markets that answer back: yearly equilibria of rare-earth oxides and magnets between regions.

``equilibrium``: one year's welfare maximisation (linopy + HiGHS); ``cohorts``: magnets in use and their
end of life; ``definition``: a market scenario read from YAML with its sourced data; ``run``: the years in
sequence (``run_market``) and the ``prices`` table.
"""

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

__all__ = [
    "Converter",
    "DemandBlock",
    "ExportCap",
    "MarketSolution",
    "MarketYear",
    "Route",
    "SupplyStep",
    "solve_market",
]
