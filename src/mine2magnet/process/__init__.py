"""Refinery flowsheets: unit operations, SX trains designed per cut, residues, reagents, costs, capacity.

Python API::

    from mine2magnet.process import load_flowsheet, run_flowsheet, list_flowsheets
    result = run_flowsheet(load_flowsheet("lynas-malaysia"))          # design feed and rate
    result = run_flowsheet("lynas-malaysia", feed="kalgoorlie-mrec", rate_t_per_yr=12000)  # t/yr feed REO
    result.to_dict()     # JSON contract of `mine2magnet refinery run --json`
"""

from mine2magnet.process.capacity import limiting_unit, required_for
from mine2magnet.process.feed import Feed, list_feeds, load_feed
from mine2magnet.process.flowsheet import Flowsheet, list_flowsheets, load_flowsheet
from mine2magnet.process.refinery import Product, RefineryResult, run_flowsheet
from mine2magnet.process.residue import Residue
from mine2magnet.process.stream import Stream

__all__ = [
    "Feed",
    "Flowsheet",
    "Product",
    "RefineryResult",
    "Residue",
    "Stream",
    "limiting_unit",
    "list_feeds",
    "list_flowsheets",
    "load_feed",
    "load_flowsheet",
    "required_for",
    "run_flowsheet",
]
