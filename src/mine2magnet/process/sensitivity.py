"""One-at-a-time sensitivity of a flowsheet's residues to its uncertain parameters.

Each parameter is set to the ends of its stated range (a flowsheet override with the dataset's own source and
unit) and the flowsheet is run again; the relative deviation of each residue figure from the central run is
recorded. The root-sum-square of the largest deviation per parameter is the combined relative uncertainty the
stated ranges imply for that figure (parameters taken as independent). ``docs/validation.md`` uses it as the
tolerance of the Lynas residue comparison; ``benchmarks/bench_refinery.py --sensitivity`` prints the table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mine2magnet.errors import InputError
from mine2magnet.process.flowsheet import Flowsheet, load_flowsheet
from mine2magnet.process.parameters import ParameterSet
from mine2magnet.process.refinery import RefineryResult, run_flowsheet

#: The parameters of lynas-malaysia whose ranges move its residues (acid bake, gangue, moistures, finishing).
LYNAS_RESIDUE_PARAMETERS = (
    "process.acid_bake.acid_dose_t_per_t_concentrate",
    "process.acid_bake.offgas_fraction",
    "process.residue.wlp_moisture",
    "process.residue.nuf_moisture",
    "process.feed.mt_weld_concentrate.fe2o3_fraction",
    "process.feed.mt_weld_concentrate.cao_fraction",
    "process.acid_bake.fe_leach_fraction",
    "process.acid_bake.re_leach_recovery",
    "process.finishing.oxalate_excess",
    "feed.mt_weld_concentrate.grade_treo",
)

#: Calibrated so that FGD matches the Lynas design basis: pinned by that figure, not an independent unknown.
CALIBRATED = ("process.acid_bake.offgas_fraction",)

#: Half-width (percentage points) for a reported value that states no range (the ~40 % concentrate grade).
UNRANGED_HALF_WIDTH_POINTS = 5.0


def residue_figures(result: RefineryResult) -> dict[str, float]:
    """t per t REO of each residue, their total, and the WLP Th-232 activity (Bq/g) of a run."""
    d = result.to_dict()["residues"]
    out = {name: float(r["t_per_t_reo"]) for name, r in d.items()}
    out["total"] = sum(out.values())
    if "WLP" in d:
        out["WLP Th-232 Bq/g"] = float(d["WLP"]["bq_per_g_by_parent"]["Th-232"])
    return out


@dataclass(frozen=True)
class Sensitivity:
    """Central residue figures, the runs at each parameter's range ends, and the combined uncertainty.

    Attributes:
        central: figure -> value of the central run (t/t REO; Bq/g for the activity).
        runs: (key, value) -> figures of the run with that parameter at that value.
        ranges: key -> (low, high) used, in the dataset unit.
    """

    central: Mapping[str, float]
    runs: Mapping[tuple[str, float], Mapping[str, float]]
    ranges: Mapping[str, tuple[float, float]]

    def largest_deviation(self, key: str, figure: str) -> float:
        """Largest |relative deviation| of `figure` over the two ends of `key`'s range."""
        c = self.central[figure]
        lo, hi = self.ranges[key]
        return max(abs(self.runs[(key, v)][figure] - c) / c for v in (lo, hi))

    def combined(self, figure: str, exclude: Iterable[str] = ()) -> float:
        """Root-sum-square over parameters (but `exclude`, e.g. a calibrated one) of the largest relative
        deviation of `figure` (dimensionless)."""
        skip = set(exclude)
        return math.sqrt(sum(self.largest_deviation(k, figure) ** 2 for k in self.ranges if k not in skip))

    def to_dict(self) -> dict[str, Any]:
        """JSON form: central figures, per-parameter runs and combined relative uncertainty per figure."""
        return {
            "central": dict(self.central),
            "runs": [{"key": k, "value": v, **dict(f)} for (k, v), f in self.runs.items()],
            "combined_relative": {f: self.combined(f) for f in self.central},
        }


def one_at_a_time(flowsheet: Flowsheet | str, keys: Iterable[str] = LYNAS_RESIDUE_PARAMETERS) -> Sensitivity:
    """Run `flowsheet` (default feed and rate) with each parameter of `keys` at the ends of its range."""
    fs = flowsheet if isinstance(flowsheet, Flowsheet) else load_flowsheet(flowsheet)
    raw = fs.spec.model_dump(by_alias=True, exclude_none=True)
    params = ParameterSet(overrides=fs.spec.parameters, file=fs.file)
    central = residue_figures(run_flowsheet(fs))
    runs: dict[tuple[str, float], dict[str, float]] = {}
    ranges: dict[str, tuple[float, float]] = {}
    for key in keys:
        entry = params.dataset.get(key)
        if entry.range is not None:
            lo, hi = (float(x) for x in entry.range)
        elif str(entry.unit) == "%":
            lo, hi = entry.value - UNRANGED_HALF_WIDTH_POINTS, entry.value + UNRANGED_HALF_WIDTH_POINTS
        else:
            raise InputError(f"{key} states no range to vary it over", field="keys")
        ranges[key] = (lo, hi)
        for v in (lo, hi):
            over = {
                key: {
                    "value": v,
                    "unit": str(entry.unit),
                    "source": entry.source.id,
                    "kind": "assumption",
                    "range": [lo, hi],
                }
            }
            varied = load_flowsheet({**raw, "parameters": {**raw.get("parameters", {}), **over}})
            runs[(key, v)] = residue_figures(run_flowsheet(varied))
    return Sensitivity(central, runs, ranges)
