"""Uncertainty and sensitivity: distributions on the inputs, samples (SALib), draws run in process, in a
process pool or on Dask, results streamed to a DuckDB store, and the answers (percentiles, probabilities,
Sobol' and Morris indices, tornado swings, convergence).

>>> from mine2magnet.analysis.uncertainty import FunctionModel, ishigami, ishigami_inputs, run_study
>>> result = run_study(FunctionModel(ishigami), ishigami_inputs(), method="sobol", draws=4000)
>>> result.sobol("y")
"""

from mine2magnet.analysis.uncertainty.conditions import Condition, OutputRef
from mine2magnet.analysis.uncertainty.distributions import (
    Discrete,
    Distribution,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
)
from mine2magnet.analysis.uncertainty.inputs import Input
from mine2magnet.analysis.uncertainty.models import FunctionModel, ScenarioModel, ishigami, ishigami_inputs
from mine2magnet.analysis.uncertainty.results import StudyResult
from mine2magnet.analysis.uncertainty.sampling import METHODS, Correlation, draw_sample
from mine2magnet.analysis.uncertainty.study import run_study

__all__ = [
    "METHODS",
    "Condition",
    "Correlation",
    "Discrete",
    "Distribution",
    "FunctionModel",
    "Input",
    "LogNormal",
    "Normal",
    "OutputRef",
    "ScenarioModel",
    "StudyResult",
    "Triangular",
    "Uniform",
    "draw_sample",
    "ishigami",
    "ishigami_inputs",
    "run_study",
]
