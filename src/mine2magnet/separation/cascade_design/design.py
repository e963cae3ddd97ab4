"""Design a counter-current extraction cut, for every equilibrium model: the one entry point.

:func:`design` reads the design spec (:mod:`request`) and hands it to the loaded-separation-factor design
search (:mod:`search`) or, for a physical model (constant-distribution, empirical-ph or mass-action), to the
physical design (:mod:`physical`), which designs through the search at its effective separation factors and
adds volume flows. Both return a :class:`~mine2magnet.separation.cascade_design.result.DesignResult`.

Units: mol/h for flows (the feed's unit), stage counts dimensionless.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mine2magnet.elements.composition import Composition
from mine2magnet.errors import ConvergenceError, InfeasibleError, InputError
from mine2magnet.separation.cascade_design.physical import PhysicalDesignResult, design_physical
from mine2magnet.separation.cascade_design.request import PHASE_RATIO_BOUNDS, DesignRequest, load_design_spec
from mine2magnet.separation.cascade_design.result import DesignResult
from mine2magnet.separation.cascade_design.search import FLOW_LADDER, MAX_STAGES, design_loaded_lsf
from mine2magnet.separation.contract.spec import CascadeSpec, LoadedSeparationFactorModel, MassActionModel
from mine2magnet.separation.solvers.steady.counter_ion import BASE


def design(
    spec: str | Path | Mapping[str, Any] | CascadeSpec,
    *,
    max_stages: int = MAX_STAGES,
    flow_ladder: tuple[float, ...] = FLOW_LADDER,
) -> DesignResult:
    """Design the cut in ``spec`` (path, dict or CascadeSpec): minimum flows, minimum stages, the trade-off
    of stages against organic flow and the design that minimises the objective, confirmed by simulation
    (see :mod:`search` and :mod:`physical`). Flows in mol/h (volume flows in L/h for the physical models).

    Raises:
        InputError: a malformed spec, cut or targets (names the file and field).
        InfeasibleError: targets no cascade can meet (e.g. a purity for a side absent from the feed), or not
            within ``max_stages`` stages at the flows tried (says what was achieved).
        ConvergenceError: the verifying simulation did not converge.
    """
    t_start = time.perf_counter()
    request = load_design_spec(spec)
    cascade, objective, file, phase_ratio = (
        request.cascade,
        request.objective,
        request.file,
        request.phase_ratio,
    )
    if request.saponification is not None:
        return design_saponification(request, max_stages=max_stages, flow_ladder=flow_ladder, started=t_start)
    if not isinstance(cascade.model, LoadedSeparationFactorModel):
        if not (isinstance(max_stages, int) and max_stages >= 2):
            raise InputError(f"max_stages must be an integer ≥ 2, got {max_stages!r}", field="max_stages")
        return design_physical(
            cascade,
            objective,
            file,
            max_stages=max_stages,
            flow_ladder=None if flow_ladder is FLOW_LADDER else flow_ladder,
            phase_ratio=phase_ratio or PHASE_RATIO_BOUNDS,
        )
    return design_loaded_lsf(
        cascade,
        objective,
        file,
        phase_ratio,
        max_stages=max_stages,
        flow_ladder=flow_ladder,
        started=t_start,
    )


def _base(cascade: CascadeSpec, degree: float, organic_volume_flow: float) -> dict[str, Any]:
    """The saponification base of a design: mol/h, kg/h and kg per kg of rare-earth oxide fed."""
    model = cascade.model
    assert isinstance(model, MassActionModel)
    ion = model.counter_ion.ion if model.counter_ion is not None else "Na"
    name, molar_mass = BASE[ion]
    mol_h = 2.0 * degree * model.concentration * organic_volume_flow
    feed = cascade.feed.component_flow(cascade.components)
    reo = Composition.from_moles({c: v for c, v in feed.items() if v > 0}).total_reo()  # kg/h
    kg_h = mol_h * molar_mass / 1000.0
    return {
        "name": name,
        "mol_h": mol_h,
        "kg_h": kg_h,
        "kg_per_kg_reo_fed": kg_h / reo if reo > 0 else None,
    }


def design_saponification(
    request: DesignRequest, *, max_stages: int, flow_ladder: tuple[float, ...], started: float
) -> PhysicalDesignResult:
    """Design a mass-action cut at each saponification degree of the request's range and keep the one that
    minimises the objective plus ``per_base`` times its base flow (mol/h).

    Each degree is a complete physical design (stages, feed stage, organic and scrub volume flows, verified
    by simulation). The result is that design with a ``saponification`` block: the degree chosen, the range,
    every degree's objective, stages, organic flow and base (NaOH or NH3: mol/h, kg/h, kg per kg REO fed),
    or why it has no design.

    Raises:
        InputError: the model is not mass-action, or a degree the counter-ion form cannot hold (>= 0.5).
        InfeasibleError: no degree of the range has a design (with each degree's reason).
    """
    cascade, objective, file = request.cascade, request.objective, request.file
    sap = request.saponification
    assert sap is not None
    model = cascade.model
    if not isinstance(model, MassActionModel):
        raise InputError(
            f"the saponification degree is a design variable of the mass-action model, not {model.type!r}",
            file=file,
            field="saponification",
        )
    if model.counter_ion is not None and sap.high >= 0.5:
        raise InputError(
            f"max {sap.high}: with a counter-ion a dimer holds at most one cation (degree below 0.5)",
            file=file,
            field="saponification.max",
        )
    if not (isinstance(max_stages, int) and max_stages >= 2):
        raise InputError(f"max_stages must be an integer ≥ 2, got {max_stages!r}", field="max_stages")
    ladder: list[dict[str, Any]] = []
    designs: list[tuple[float, float, PhysicalDesignResult]] = []
    for degree in sap.degrees:
        spec = cascade.model_copy(update={"model": model.model_copy(update={"saponification": degree})})
        try:
            result = design_physical(
                spec,
                objective,
                file,
                max_stages=max_stages,
                flow_ladder=None if flow_ladder is FLOW_LADDER else flow_ladder,
                phase_ratio=request.phase_ratio or PHASE_RATIO_BOUNDS,
            )
        except (InfeasibleError, ConvergenceError) as exc:
            ladder.append({"degree": degree, "error": str(exc)})
            continue
        base = _base(cascade, degree, result.organic_volume_flow)
        total = result.objective_value + objective.per_base * base["mol_h"]
        ladder.append(
            {
                "degree": degree,
                "objective": total,
                "stages": {"extraction": result.stages_extraction, "scrub": result.stages_scrub},
                "organic_volume_flow": result.organic_volume_flow,
                "scrub_volume_flow": result.scrub_volume_flow,
                "base": base,
            }
        )
        designs.append((total, degree, result))
    if not designs:
        reasons = "; ".join(f"{p['degree']:.3g}: {p['error']}" for p in ladder)
        raise InfeasibleError(
            f"no saponification degree in {sap.low:g}-{sap.high:g} gives a design of the cut {cascade.cut} "
            f"({reasons})"
        )
    total, degree, best = min(designs, key=lambda d: (d[0], d[2].stages_extraction + d[2].stages_scrub))
    block = {
        "chosen": degree,
        "range": sap.to_dict(),
        "base": _base(cascade, degree, best.organic_volume_flow),
        "ladder": ladder,
    }
    return dataclasses.replace(
        best,
        objective_value=total,
        saponification=block,
        search={
            **best.search,
            "seconds": time.perf_counter() - started,
            "saponification_designs": len(ladder),
        },
    )
