"""Analysis over scenario runs: the backtest of the model against published history.

>>> from mine2magnet.analysis import run_backtest
>>> bt, run = run_backtest("malaysia-history")
>>> bt.counts(), [c.observation.key for c in bt.failures]
"""

from mine2magnet.analysis.backtest import STATUSES, Backtest, Comparison, backtest, check_measure, compare
from mine2magnet.analysis.history import HISTORY_SCENARIO, run_backtest

__all__ = [
    "HISTORY_SCENARIO",
    "STATUSES",
    "Backtest",
    "Comparison",
    "backtest",
    "check_measure",
    "compare",
    "run_backtest",
]
