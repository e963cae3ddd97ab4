"""HTML report of value-chain runs: one self-contained file (plotly inlined) — key figures in plain words,
a Sankey of flows mine → magnet, KPI time series, value added by stage, a scenario comparison, the assumptions
with their sources and the data conflicts. See docs/report.md.
"""

from mine2magnet.report.comparison import kpi_comparison, what_changes
from mine2magnet.report.headlines import Headline, headlines
from mine2magnet.report.page import render_report, write_report
from mine2magnet.report.run_view import ReportableRun, RunView, run_view

__all__ = [
    "Headline",
    "ReportableRun",
    "RunView",
    "headlines",
    "kpi_comparison",
    "render_report",
    "run_view",
    "what_changes",
    "write_report",
]
