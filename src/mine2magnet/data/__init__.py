"""Sourced reference data: every number with its unit, source, kind and stated uncertainty.

>>> from mine2magnet.data import load_dataset
>>> ds = load_dataset()
>>> ds.value("production.malaysia.2023", "t/yr")   # preferred (first listed) source
>>> [v.source.id for v in ds.all("production.malaysia.2023")]   # every source, side by side
>>> ds.composition("feed.mt_weld_concentrate").fractions["Nd"]
>>> ds.conflicts()

File format: ``docs/data.md``. Package data lives in ``sources/*.yaml`` (bibliography, ids unique across
files) and ``values/*.yaml`` (values and compositions).
"""

from mine2magnet.data.conflict import DEFAULT_RELATIVE_TOLERANCE, Conflict, find_conflict
from mine2magnet.data.dataset import Dataset, UnknownKeyError
from mine2magnet.data.loader import PACKAGE_DATA, load_dataset, read_dataset
from mine2magnet.data.observation import CLAIM_READINGS, QUANTITIES, Claim, Observation, Period
from mine2magnet.data.schema import json_schemas
from mine2magnet.data.source import SOURCE_TYPES, Source
from mine2magnet.data.sourced_composition import SourcedComposition
from mine2magnet.data.sourced_value import KINDS, SourcedValue
from mine2magnet.data.units import UNITS, convert, parse_unit

__all__ = [
    "CLAIM_READINGS",
    "DEFAULT_RELATIVE_TOLERANCE",
    "KINDS",
    "PACKAGE_DATA",
    "QUANTITIES",
    "SOURCE_TYPES",
    "UNITS",
    "Claim",
    "Conflict",
    "Dataset",
    "Observation",
    "Period",
    "Source",
    "SourcedComposition",
    "SourcedValue",
    "UnknownKeyError",
    "convert",
    "find_conflict",
    "json_schemas",
    "load_dataset",
    "parse_unit",
    "read_dataset",
]
