"""Counter-current solvent-extraction cascades: equilibrium models, the stage-wise solver, batch runs.

Python API::

    from mine2magnet.separation import load_spec, simulate, simulate_batch, simulate_dynamic
    result = simulate("cascade.yaml")          # or a dict, or a CascadeSpec
    result.to_dict()["outlets"]["raffinate"]["purity"]
    run = simulate_dynamic("cascade.yaml")     # start-up over time; the spec's `dynamics:` block

The spec format is documented in ``docs/cascade-spec.md``.

The package is built in layers, each importing only from those below it (``tests/separation/
test_package_layers.py`` checks it, and that no two modules import each other):

1. :mod:`.contract` — what goes in and out: the cascade spec (pydantic) and the cascade result;
2. :mod:`.equilibrium` — distribution models (empirical pH, mass action) and the sourced extractant
   parameter sets;
3. :mod:`.solvers` — :mod:`.solvers.steady` (block-tridiagonal algebra, linear cascades, the stage-wise
   Newton, the loaded-separation-factor solvers, ``simulate``), then the batch engine and the dynamics;
4. :mod:`.cascade_design` — closed-form theory, the cut problem, the loaded-separation-factor design search,
   the physical design, the persistent design cache;
5. this module (the public API) and :mod:`.plot`.
"""

from mine2magnet.separation.cascade_design.design import design
from mine2magnet.separation.cascade_design.result import DesignResult
from mine2magnet.separation.contract.result import CascadeResult
from mine2magnet.separation.contract.spec import CascadeSpec, load_spec
from mine2magnet.separation.solvers.batch import BatchResult, simulate_batch
from mine2magnet.separation.solvers.dynamics import DynamicResult, simulate_dynamic
from mine2magnet.separation.solvers.steady.simulate import simulate

__all__ = [
    "BatchResult",
    "CascadeResult",
    "CascadeSpec",
    "DesignResult",
    "DynamicResult",
    "design",
    "load_spec",
    "simulate",
    "simulate_batch",
    "simulate_dynamic",
]
