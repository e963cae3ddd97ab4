"""Design a counter-current extraction cut, for every equilibrium model: the one entry point.

:func:`design` reads the design spec (:mod:`request`) and hands it to the loaded-separation-factor design
search (:mod:`search`) or, for a physical model (constant-distribution, empirical-ph or mass-action), to the
physical design (:mod:`physical`), which designs through the search at its effective separation factors and
adds volume flows. Both return a :class:`~mine2magnet.separation.cascade_design.result.DesignResult`.

Units: mol/h for flows (the feed's unit), stage counts dimensionless.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mine2magnet.errors import InputError
from mine2magnet.separation.cascade_design.physical import design_physical
from mine2magnet.separation.cascade_design.request import PHASE_RATIO_BOUNDS, load_design_spec
from mine2magnet.separation.cascade_design.result import DesignResult
from mine2magnet.separation.cascade_design.search import FLOW_LADDER, MAX_STAGES, design_loaded_lsf
from mine2magnet.separation.contract.spec import CascadeSpec, LoadedSeparationFactorModel


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
    cascade, objective, file, phase_ratio = load_design_spec(spec)
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
