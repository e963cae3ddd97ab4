"""Counter-current solvent-extraction cascades: equilibrium models, the stage-wise solver, batch runs.

Python API::

    from mine2magnet.separation import load_spec, simulate, simulate_batch, simulate_dynamic
    result = simulate("cascade.yaml")          # or a dict, or a CascadeSpec
    result.to_dict()["outlets"]["raffinate"]["purity"]
    run = simulate_dynamic("cascade.yaml")     # start-up over time; the spec's `dynamics:` block

The spec format is documented in ``docs/cascade-spec.md``.
"""

from mine2magnet.separation.batch import BatchResult, simulate_batch
from mine2magnet.separation.design import DesignResult, design
from mine2magnet.separation.dynamics import DynamicResult, simulate_dynamic
from mine2magnet.separation.result import CascadeResult
from mine2magnet.separation.simulate import simulate
from mine2magnet.separation.spec import CascadeSpec, load_spec

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
