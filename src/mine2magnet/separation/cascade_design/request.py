"""What a cut design is asked for: the design spec read from a file or mapping, the objective, the
organic-to-aqueous bounds of a physical design and the range of saponification degrees it may choose from.

Units: the objective's costs in the user's money per stage, per mol/h of organic RE flow (L/h of organic for
the physical models), per stage·mol/h and per mol/h of saponification base; O/A as volume flow ratios;
saponification as a fraction of the extractant (monomer basis).
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
    mol/h of organic RE flow, per stage·mol/h), plus per_base·B when the design chooses the saponification
    degree (B the saponification base, mol/h; money per mol/h)."""

    name: str = "flow-stages"
    per_stage: float = 0.0
    per_organic_flow: float = 0.0
    per_flow_stage: float = 1.0
    per_base: float = 0.0

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
            **({"per_base": self.per_base} if self.per_base else {}),
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
        allowed = {"per_stage", "per_organic_flow", "per_flow_stage", "per_base"}
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
        return Objective(
            "cost", vals["per_stage"], vals["per_organic_flow"], vals["per_flow_stage"], vals["per_base"]
        )
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


#: Saponification degrees a design tries in its range unless told (evenly spaced, ends included).
SAPONIFICATION_POINTS = 5


@dataclass(frozen=True)
class SaponificationRange:
    """The saponification degrees (fraction of the extractant, monomer basis) a mass-action design tries."""

    low: float
    high: float
    points: int = SAPONIFICATION_POINTS

    @property
    def degrees(self) -> tuple[float, ...]:
        """The degrees tried, low to high, evenly spaced."""
        step = (self.high - self.low) / (self.points - 1)
        return (*(round(self.low + i * step, 12) for i in range(self.points - 1)), self.high)

    def to_dict(self) -> dict[str, Any]:
        return {"min": self.low, "max": self.high, "points": self.points}


def parse_saponification(raw: Any, file: str | None = None) -> SaponificationRange:
    """``saponification: {min, max, points = 5}``: the degrees (0 <= min < max < 1) a mass-action design may
    choose, ``points`` (2-9) of them evenly spaced."""
    if (
        not isinstance(raw, Mapping)
        or not set(raw) <= {"min", "max", "points"}
        or not {"min", "max"} <= set(raw)
    ):
        raise InputError(
            f"expected {{min: degree, max: degree, points: 2-9}} (fractions of the extractant), got {raw!r}",
            file=file,
            field="saponification",
        )
    vals = {}
    for key in ("min", "max"):
        v = raw[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and 0.0 <= v < 1.0):
            raise InputError(
                f"expected a fraction 0 <= x < 1, got {v!r}", file=file, field=f"saponification.{key}"
            )
        vals[key] = float(v)
    points = raw.get("points", SAPONIFICATION_POINTS)
    if isinstance(points, bool) or not isinstance(points, int) or not 2 <= points <= 9:
        raise InputError(f"expected an integer 2-9, got {points!r}", file=file, field="saponification.points")
    if not vals["min"] < vals["max"]:
        raise InputError(
            f"min {vals['min']} must be below max {vals['max']}", file=file, field="saponification"
        )
    return SaponificationRange(vals["min"], vals["max"], points)


@dataclass(frozen=True)
class DesignRequest:
    """A design spec as read: the cascade, the objective, the file, the O/A bounds and saponification range
    when given (None otherwise)."""

    cascade: CascadeSpec
    objective: Objective
    file: str | None
    phase_ratio: tuple[float, float] | None
    saponification: SaponificationRange | None


def load_design_spec(source: str | Path | Mapping[str, Any] | CascadeSpec) -> DesignRequest:
    """Read a design spec (path, mapping or CascadeSpec) through the project's input reader.

    Raises:
        InputError: a malformed spec, objective, ``phase_ratio`` or ``saponification`` (names the field).
    """
    if isinstance(source, CascadeSpec):
        return DesignRequest(source, Objective(), None, None, None)
    raw, file = _read_raw(source)
    objective = parse_objective(raw.pop("objective", None), file)
    phase_ratio = parse_phase_ratio(raw.pop("phase_ratio", None), file) if "phase_ratio" in raw else None
    saponification = (
        parse_saponification(raw.pop("saponification"), file) if "saponification" in raw else None
    )
    feed = raw.get("feed")
    if isinstance(feed, Mapping) and "stage" not in feed:
        # the design chooses the feed stage; the loader needs a placeholder
        raw["feed"] = {**feed, "stage": 1}
    spec = load_spec(raw, file=file)
    return DesignRequest(spec, objective, file, phase_ratio, saponification)
