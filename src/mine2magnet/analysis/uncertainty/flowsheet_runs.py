"""Refinery flowsheet runs shared by the draws of a study, rerun only when a draw changes what they give.

A scenario run asks its ``PerformanceCache`` for the performance of each (flowsheet, feed, rate). Within a
study most draws change nothing a flowsheet reads, so one run per (flowsheet, feed, rate) serves them all.
A flowsheet reads its numbers from the package dataset, not from the draw's, so a draw that varies one of
them (``process.labour.cost_per_person``, a reagent price...) gets a run of its own in which the drawn numbers
are given to the flowsheet as parameter overrides (the flowsheet's own overrides win). Which keys a
flowsheet reads is taken from the run's record of the parameters it used.

Reading a key is not the same as depending on it: the oxide prices a flowsheet reads set its revenue, which
the chain's :class:`RefineryPerformance` does not hold. Once a flowsheet run has been rerun for
:data:`PROBE_AFTER` draws (a larger study), each drawn key it reads is probed once: the run is repeated with
the key at the low and the high end of its range (the value of each other key as in the shared run):

- a key that changes no number of the performance is not passed to the flowsheet again (its draws share
  the shared run);
- a key whose effect is affine (checked on four points: the two ends, the middle and the preferred value,
  every number of the performance to 1e-12 relative; the labour cost enters the opex as headcount x cost) is
  applied by interpolation between the ends when it is the only key of a draw that changes the performance,
  for values inside its range; a test compares interpolated performances with reruns;
- any other case is a rerun with the drawn values of the keys that matter.
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from mine2magnet.chain import PerformanceCache, RefineryPerformance, performance_from_result
from mine2magnet.data import Dataset

#: Runs for drawn values kept per process, least recent dropped (a Monte Carlo draw's values never recur; a
#: Morris trajectory's or a Sobol' block's do, a few rows apart). Shared runs are always kept.
MAX_RUNS_KEPT = 32

#: Draws of a run key rerun as they come before its keys are probed: a probe costs about three runs per
#: key read, which a small sample (the report's 12 draws, 6 per worker) would not earn back.
PROBE_AFTER = 8

#: Relative tolerance of the checks "no effect" and "affine effect" on every number of a performance.
EFFECT_TOLERANCE = 1e-12

_RunKey = tuple[str, str, float | None]
_NUMBER_MAPS = (
    "residues_t_per_t_reo",
    "residue_bq_per_g",
    "reagents_t_per_t_reo",
    "opex_breakdown_usd_per_t_reo",
)
_NUMBERS = ("opex_usd_per_t_reo", "mass_balance_error", "capex_usd_per_t_reo")


def performance_numbers(perf: RefineryPerformance) -> dict[tuple[str, ...], float]:
    """Every number of a performance by its path (field, and the keys of its maps)."""
    out: dict[tuple[str, ...], float] = {}
    for commodity, by_element in perf.yields.items():
        for el, v in by_element.items():
            out[("yields", commodity, el)] = float(v)
    for name in _NUMBER_MAPS:
        for k, v in getattr(perf, name).items():
            out[(name, k)] = float(v)
    for name in _NUMBERS:
        out[(name,)] = float(getattr(perf, name))
    return out


def with_numbers(perf: RefineryPerformance, numbers: Mapping[tuple[str, ...], float]) -> RefineryPerformance:
    """`perf` with its numbers replaced by `numbers` (the paths of :func:`performance_numbers`)."""
    yields: dict[str, dict[str, float]] = {c: {} for c in perf.yields}
    maps: dict[str, dict[str, float]] = {name: {} for name in _NUMBER_MAPS}
    scalars: dict[str, float] = {}
    for path, v in numbers.items():
        if path[0] == "yields":
            yields[path[1]][path[2]] = v
        elif path[0] in maps:
            maps[path[0]][path[1]] = v
        else:
            scalars[path[0]] = v
    return dataclasses.replace(perf, yields=yields, **maps, **scalars)  # type: ignore[arg-type]


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= EFFECT_TOLERANCE * max(scale, 1e-300) or a == b


@dataclasses.dataclass(frozen=True)
class _Effect:
    """How one key changes a run's performance: not at all, affinely (with the ends), or otherwise."""

    kind: str  # "none", "affine" or "other"
    low: float = math.nan
    high: float = math.nan
    at_low: dict[tuple[str, ...], float] = dataclasses.field(default_factory=dict)
    at_high: dict[tuple[str, ...], float] = dataclasses.field(default_factory=dict)


class FlowsheetRuns:
    """Performances by (flowsheet, feed, rate) and by the drawn values a flowsheet depends on.

    `dataset` is the study's base dataset: the unit, source, kind and range of a drawn key come from it.
    """

    def __init__(
        self, dataset: Dataset, max_kept: int = MAX_RUNS_KEPT, probe_after: int = PROBE_AFTER
    ) -> None:
        self.dataset = dataset
        self.max_kept = max_kept
        self.probe_after = probe_after
        self._early: dict[_RunKey, set[tuple[tuple[str, float], ...]]] = {}
        self._runs: OrderedDict[tuple[Any, ...], RefineryPerformance] = OrderedDict()
        self._shared: dict[_RunKey, RefineryPerformance] = {}
        self._reads: dict[_RunKey, frozenset[str]] = {}
        self._effects: dict[tuple[_RunKey, str], _Effect] = {}
        self._flowsheets: dict[str, Any] = {}
        self.runs = 0  # flowsheet runs made (for tests and benchmarks)
        self.interpolated = 0  # performances interpolated for an affine key

    def _flowsheet(self, name: str) -> Any:
        from mine2magnet.process import load_flowsheet

        found = self._flowsheets.get(name)
        if found is None:
            found = self._flowsheets[name] = load_flowsheet(name)
        return found

    def _keep(self, key: tuple[Any, ...], perf: RefineryPerformance) -> RefineryPerformance:
        self._runs[key] = perf
        self._runs.move_to_end(key)
        while len(self._runs) > self.max_kept:
            self._runs.popitem(last=False)
        return perf

    def _run(self, key: _RunKey, drawn: Mapping[str, float]) -> tuple[RefineryPerformance, frozenset[str]]:
        from mine2magnet.process import Flowsheet, run_flowsheet

        flowsheet, feed, rate = key
        fs = self._flowsheet(flowsheet)
        own = set(fs.spec.parameters)
        if drawn:
            parameters = dict(fs.spec.parameters)
            for k, value in drawn.items():
                if k in own:  # the flowsheet's own override wins
                    continue
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

    def _effect(self, key: _RunKey, k: str) -> _Effect:
        """How key `k` changes the shared run of `key` (probed over its range the first time)."""
        found = self._effects.get((key, k))
        if found is not None:
            return found
        entry = self.dataset.get(k)
        base = performance_numbers(self._shared[key])
        if entry.range is None or not float(entry.range[1]) > float(entry.range[0]):
            effect = _Effect("other")  # nothing to probe on: any drawn value is a rerun
        else:
            low, high = float(entry.range[0]), float(entry.range[1])
            at = {v: performance_numbers(self._run(key, {k: v})[0]) for v in (low, high)}
            if any(set(n) != set(base) for n in at.values()):
                effect = _Effect("other")
            elif all(_close(at[v][p], b, abs(b)) for v in (low, high) for p, b in base.items()):
                effect = _Effect("none")
            else:
                middle = 0.5 * (low + high)
                mid = performance_numbers(self._run(key, {k: middle})[0])
                value = float(entry.value)
                affine = set(mid) == set(base)
                for p, b in base.items():
                    if not affine:
                        break
                    lo, hi = at[low][p], at[high][p]
                    scale = max(abs(lo), abs(hi), abs(b))
                    for v, got in ((middle, mid[p]), (value, b)):
                        if not _close(lo + (v - low) / (high - low) * (hi - lo), got, scale):
                            affine = False
                effect = _Effect("affine", low, high, at[low], at[high]) if affine else _Effect("other")
        self._effects[(key, k)] = effect
        return effect

    def get(
        self, flowsheet: str, feed: str, rate: float | None, values: Mapping[str, float]
    ) -> RefineryPerformance:
        """The performance for a draw setting `values` (dataset keys -> numbers)."""
        key: _RunKey = (flowsheet, feed, rate)
        if key not in self._shared:
            self._shared[key], self._reads[key] = self._run(key, {})
        shared = self._shared[key]
        read = {k: float(v) for k, v in sorted(values.items()) if k in self._reads[key]}
        if not read:
            return shared
        # the first draws of a run key are rerun (a small sample: reruns cost less than the probes); a draw
        # keeps the way it started for every year it asks
        seen = self._early.setdefault(key, set())
        values_read = tuple(read.items())
        if len(seen) < self.probe_after:
            seen.add(values_read)
        if values_read in seen:
            return self._rerun(key, read)
        effects = {k: self._effect(key, k) for k in read}
        drawn = {k: v for k, v in read.items() if effects[k].kind != "none"}
        if not drawn:
            return shared
        variant = (*key, tuple(drawn.items()))
        if variant in self._runs:
            self._runs.move_to_end(variant)
            return self._runs[variant]
        if len(drawn) == 1:
            ((k, v),) = drawn.items()
            effect = effects[k]
            if effect.kind == "affine" and effect.low <= v <= effect.high:
                t = (v - effect.low) / (effect.high - effect.low)
                lo, hi = effect.at_low, effect.at_high
                self.interpolated += 1
                return self._keep(variant, with_numbers(shared, {p: lo[p] + t * (hi[p] - lo[p]) for p in lo}))
        return self._rerun(key, drawn)

    def _rerun(self, key: _RunKey, drawn: Mapping[str, float]) -> RefineryPerformance:
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
        """The performance of `flowsheet` on `feed` at `rate_t_per_yr` under this draw's values (kept for the
        draw: the shared runs give a draw the same performance each time it asks)."""
        key = (flowsheet, feed, rate_t_per_yr)
        own = self._cache.get(key)
        if own is None:
            own = self._cache[key] = self._shared.get(flowsheet, feed, rate_t_per_yr, self._values)
        return own
