"""What a cut design is asked for: the design spec read from a file or mapping, the objective and the
organic-to-aqueous bounds of a physical design.

Units: the objective's costs in the user's money per stage, per mol/h of organic RE flow and per
stage·mol/h; O/A as volume flow ratios.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mine2magnet.data.reader import read_mapping
from mine2magnet.errors import InputError
from mine2magnet.separation.contract.spec import CascadeSpec, load_spec


@dataclass(frozen=True)
class Objective:
    """What the design minimises: ``flow-stages`` = S·(n+m), or a stated cost
    per_stage·(n+m) + per_organic_flow·S + per_flow_stage·S·(n+m) (units: the user's money per stage, per
    mol/h of organic RE flow, per stage·mol/h)."""

    name: str = "flow-stages"
    per_stage: float = 0.0
    per_organic_flow: float = 0.0
    per_flow_stage: float = 1.0

    def __call__(self, organic_ree_flow: float, stages: int) -> float:
        return (
            self.per_stage * stages
            + self.per_organic_flow * organic_ree_flow
            + self.per_flow_stage * organic_ree_flow * stages
        )

    def to_dict(self) -> dict[str, Any]:
        if self.name == "flow-stages":
            return {"name": self.name}
        return {
            "name": self.name,
            "per_stage": self.per_stage,
            "per_organic_flow": self.per_organic_flow,
            "per_flow_stage": self.per_flow_stage,
        }


def _read_raw(source: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A design spec as a mapping, and the file it came from: read through the project's one input reader
    (size, encoding, nesting and alias limits, duplicate keys, finite numbers; ``data.reader``)."""
    if isinstance(source, Mapping):
        return dict(source), None
    path = Path(source)
    return read_mapping(path, what="a design spec mapping", context="cannot read the spec"), str(path)


def parse_objective(raw: Any, file: str | None = None) -> Objective:
    """``objective: flow-stages`` (default) or ``objective: {cost: {per_stage, per_organic_flow,
    per_flow_stage}}`` (each ≥ 0, at least one > 0)."""
    if raw is None or raw == "flow-stages":
        return Objective()
    if isinstance(raw, Mapping) and set(raw) == {"cost"} and isinstance(raw["cost"], Mapping):
        terms = dict(raw["cost"])
        allowed = {"per_stage", "per_organic_flow", "per_flow_stage"}
        bad = sorted(set(terms) - allowed)
        if bad:
            raise InputError(
                f"unknown cost term(s) {bad}; expected {sorted(allowed)}", file=file, field="objective.cost"
            )
        vals = {}
        for k in allowed:
            v = terms.get(k, 0.0)
            if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v >= 0):
                raise InputError(f"expected a number ≥ 0, got {v!r}", file=file, field=f"objective.cost.{k}")
            vals[k] = float(v)
        if vals["per_flow_stage"] == 0.0 and (vals["per_stage"] == 0.0 or vals["per_organic_flow"] == 0.0):
            raise InputError(
                "a cost needs per_flow_stage > 0, or both per_stage and per_organic_flow > 0 (else the "
                "optimum runs to infinite stages or infinite flow)",
                file=file,
                field="objective.cost",
            )
        return Objective("cost", vals["per_stage"], vals["per_organic_flow"], vals["per_flow_stage"])
    raise InputError(
        f"expected 'flow-stages' or {{cost: {{per_stage, per_organic_flow, per_flow_stage}}}}, got {raw!r}",
        file=file,
        field="objective",
    )


#: Default bounds of the organic-to-aqueous volume flow ratio in each section of a physical design (1:10 to
#: 10:1: beyond them mixer-settlers need an aqueous or organic recycle to keep a workable dispersion).
PHASE_RATIO_BOUNDS = (0.1, 10.0)


def parse_phase_ratio(raw: Any, file: str | None = None) -> tuple[float, float]:
    """``phase_ratio: {min: O/A, max: O/A}`` (volume flows; defaults :data:`PHASE_RATIO_BOUNDS`)."""
    if raw is None:
        return PHASE_RATIO_BOUNDS
    if not isinstance(raw, Mapping) or not set(raw) <= {"min", "max"}:
        raise InputError(
            f"expected {{min: O/A, max: O/A}} (organic/aqueous volume flow ratios), got {raw!r}",
            file=file,
            field="phase_ratio",
        )
    lo, hi = raw.get("min", PHASE_RATIO_BOUNDS[0]), raw.get("max", PHASE_RATIO_BOUNDS[1])
    for key, v in (("min", lo), ("max", hi)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v > 0):
            raise InputError(f"expected a number > 0, got {v!r}", file=file, field=f"phase_ratio.{key}")
    if not lo < hi:
        raise InputError(f"min {lo} must be below max {hi}", file=file, field="phase_ratio")
    return float(lo), float(hi)


def load_design_spec(
    source: str | Path | Mapping[str, Any] | CascadeSpec,
) -> tuple[CascadeSpec, Objective, str | None, tuple[float, float] | None]:
    if isinstance(source, CascadeSpec):
        return source, Objective(), None, None
    raw, file = _read_raw(source)
    objective = parse_objective(raw.pop("objective", None), file)
    phase_ratio = parse_phase_ratio(raw.pop("phase_ratio", None), file) if "phase_ratio" in raw else None
    feed = raw.get("feed")
    if isinstance(feed, Mapping) and "stage" not in feed:
        # the design chooses the feed stage; the loader needs a placeholder
        raw["feed"] = {**feed, "stage": 1}
    spec = load_spec(raw, file=file)
    return spec, objective, file, phase_ratio
