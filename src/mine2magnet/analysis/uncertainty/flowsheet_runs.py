"""Refinery flowsheet runs shared by the draws of a study, rerun only when a draw changes what they read.

A scenario run asks its ``PerformanceCache`` for the performance of each (flowsheet, feed, rate). Within a
study most draws change nothing a flowsheet reads, so one run per (flowsheet, feed, rate) serves them all.
A flowsheet reads its numbers from the package dataset, not from the draw's, so a draw that varies one of
them (``process.labour.cost_per_person``, a reagent price...) gets a run of its own in which the drawn numbers
are given to the flowsheet as parameter overrides (the flowsheet's own overrides win). Which keys a
flowsheet reads is taken from the run's record of the parameters it used.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from mine2magnet.chain import PerformanceCache, RefineryPerformance, performance_from_result
from mine2magnet.data import Dataset

#: Runs for drawn values kept per process, least recent dropped (a Monte Carlo draw's values never recur; a
#: Morris trajectory's or a Sobol' block's do, a few rows apart). Shared runs are always kept.
MAX_RUNS_KEPT = 32

_RunKey = tuple[str, str, float | None]


class FlowsheetRuns:
    """Performances by (flowsheet, feed, rate) and by the drawn values a flowsheet reads (least recent out).

    `dataset` is the study's base dataset: the unit, source and kind of a drawn key come from it.
    """

    def __init__(self, dataset: Dataset, max_kept: int = MAX_RUNS_KEPT) -> None:
        self.dataset = dataset
        self.max_kept = max_kept
        self._runs: OrderedDict[tuple[Any, ...], RefineryPerformance] = OrderedDict()
        self._shared: dict[_RunKey, RefineryPerformance] = {}
        self._reads: dict[_RunKey, frozenset[str]] = {}
        self.runs = 0  # flowsheet runs made (for tests and benchmarks)

    def _keep(self, key: tuple[Any, ...], perf: RefineryPerformance) -> RefineryPerformance:
        if len(key) == 3:  # a shared run (flowsheet, feed, rate)
            self._shared[key] = perf
            return perf
        self._runs[key] = perf
        self._runs.move_to_end(key)
        while len(self._runs) > self.max_kept:
            self._runs.popitem(last=False)
        return perf

    def _run(self, key: _RunKey, drawn: Mapping[str, float]) -> tuple[RefineryPerformance, frozenset[str]]:
        from mine2magnet.process import Flowsheet, load_flowsheet, run_flowsheet

        flowsheet, feed, rate = key
        fs = load_flowsheet(flowsheet)
        own = set(fs.spec.parameters)
        if drawn:
            parameters = dict(fs.spec.parameters)
            for k, value in drawn.items():
                entry = self.dataset.get(k)
                low, high = entry.range if entry.range is not None else (value, value)
                parameters[k] = {
                    "value": float(value),
                    "unit": entry.unit,
                    "source": entry.source.id,
                    "kind": entry.kind,
                    "range": [min(float(low), float(value)), max(float(high), float(value))],
                    "note": "drawn by an uncertainty study",
                }
            fs = Flowsheet(fs.spec.model_copy(update={"parameters": parameters}), fs.file)
        result = run_flowsheet(fs, feed=feed, rate_t_per_yr=rate)
        self.runs += 1
        reads = frozenset(p["key"] for p in result.parameters) - own
        return performance_from_result(result, flowsheet=flowsheet, feed=feed), reads

    def get(
        self, flowsheet: str, feed: str, rate: float | None, values: Mapping[str, float]
    ) -> RefineryPerformance:
        """The performance for a draw setting `values` (dataset keys -> numbers)."""
        key: _RunKey = (flowsheet, feed, rate)
        if key not in self._shared:
            perf, self._reads[key] = self._run(key, {})
            self._keep(key, perf)
        drawn = {k: float(v) for k, v in sorted(values.items()) if k in self._reads[key]}
        if not drawn:
            return self._shared[key]
        variant = (*key, tuple(drawn.items()))
        if variant in self._runs:
            self._runs.move_to_end(variant)
            return self._runs[variant]
        perf, _ = self._run(key, drawn)
        return self._keep(variant, perf)


class DrawPerformances(PerformanceCache):
    """The ``PerformanceCache`` of a draw: shared flowsheet runs, seen through the draw's values."""

    def __init__(self, runs: FlowsheetRuns, values: Mapping[str, float]) -> None:
        super().__init__()
        self._shared = runs
        self._values = dict(values)

    def get(self, flowsheet: str, feed: str, rate_t_per_yr: float | None = None) -> RefineryPerformance:
        """The performance of `flowsheet` on `feed` at `rate_t_per_yr` under this draw's values."""
        own = self._cache.get((flowsheet, feed, rate_t_per_yr))
        if own is not None:
            return own
        return self._shared.get(flowsheet, feed, rate_t_per_yr, self._values)
