"""The result of simulating one cascade: stage profiles (numpy), outlets, recoveries, the JSON contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CascadeResult:
    """A converged cascade (a non-converged solve raises instead of returning one).

    Attributes:
        components: component symbols, the order of the last axis of every array.
        sections: section name of each stage ("extraction", "scrub", "strip"), stage 1 first.
        aqueous, organic: (K, C) flows leaving each stage, mol/h.
        feed: (C,) total feed, mol/h.
        outlets: outlet name -> (C,) flows, mol/h ("raffinate", "loaded_organic", "strip_liquor",
            "stripped_organic").
        terminal_outlets: the outlets that leave the cascade (these sum to the feed plus any metal in inlets).
        pH: (K,) aqueous pH per stage, physical models only.
        loading: (K,) fraction of the extractant's capacity in use per stage, physical models only.
        outlet_pH: outlet name -> pH of an aqueous outlet, physical models only.
        reagents: acid and base consumption, mol/h (physical models).
        counter_ion: the saponified extractant's cation exchanged along the cascade (mass-action model with
            ``counter_ion``): its profiles, outlets and the base consumed (see
            ``solvers/steady/counter_ion.py``); None without one.
        converged, iterations, mass_balance_error (relative, per component summed), residual (solver's final
        scaled residual).
    """

    components: tuple[str, ...]
    sections: tuple[str, ...]
    aqueous: np.ndarray
    organic: np.ndarray
    feed: np.ndarray
    outlets: dict[str, np.ndarray]
    terminal_outlets: tuple[str, ...]
    converged: bool
    iterations: int
    mass_balance_error: float
    residual: float
    model: str
    pH: np.ndarray | None = None  # noqa: N815
    loading: np.ndarray | None = None
    outlet_pH: dict[str, float] = field(default_factory=dict)  # noqa: N815
    reagents: dict[str, float] = field(default_factory=dict)
    inlet_metal: np.ndarray | None = None
    counter_ion: dict[str, Any] | None = None

    def purity(self, outlet: str) -> dict[str, float]:
        """Share of each component in an outlet's total metal (fraction)."""
        flow = self.outlets[outlet]
        total = float(flow.sum())
        return {
            c: (float(f) / total if total > 0 else 0.0) for c, f in zip(self.components, flow, strict=True)
        }

    def recovery(self) -> dict[str, dict[str, float]]:
        """Fraction of each component's feed (plus inlet metal) leaving in each outlet."""
        base = self.feed + (self.inlet_metal if self.inlet_metal is not None else 0.0)
        out: dict[str, dict[str, float]] = {}
        for i, c in enumerate(self.components):
            out[c] = {
                name: (float(flow[i]) / float(base[i]) if base[i] > 0 else 0.0)
                for name, flow in self.outlets.items()
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        """The public JSON contract (see docs/cascade-spec.md)."""
        comps = self.components
        outlets: dict[str, Any] = {}
        for name, flow in self.outlets.items():
            entry: dict[str, Any] = {
                "flow": dict(zip(comps, flow.tolist(), strict=True)),
                "purity": self.purity(name),
            }
            if name in self.outlet_pH:
                entry["pH"] = float(self.outlet_pH[name])
            outlets[name] = entry
        stages = []
        aqueous, organic = self.aqueous.tolist(), self.organic.tolist()  # Python floats in one pass
        pH = self.pH.tolist() if self.pH is not None else None
        loading = self.loading.tolist() if self.loading is not None else None
        for k, sec in enumerate(self.sections):
            row: dict[str, Any] = {
                "stage": k + 1,
                "section": sec,
                "aqueous": dict(zip(comps, aqueous[k], strict=True)),
                "organic": dict(zip(comps, organic[k], strict=True)),
            }
            if pH is not None:
                row["pH"] = pH[k]
            if loading is not None:
                row["loading"] = loading[k]
            stages.append(row)
        out: dict[str, Any] = {
            "model": self.model,
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "mass_balance_error": float(self.mass_balance_error),
            "residual": float(self.residual),
            "components": list(comps),
            "outlets": outlets,
            "recovery": self.recovery(),
            "stages": stages,
        }
        if self.reagents:
            out["reagents"] = {k: float(v) for k, v in self.reagents.items()}
        if self.counter_ion is not None:
            out["counter_ion"] = self.counter_ion
        return out
