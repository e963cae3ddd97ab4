"""The periodic facts: atomic weights, oxides, REO conversion, groups and radioactivity."""

from mine2magnet.elements.composition import Basis, Composition
from mine2magnet.elements.groups import GROUPS, group
from mine2magnet.elements.radioactivity import (
    EXEMPTION_BQ_PER_G,
    activity_concentration,
    is_exempt,
    specific_activity,
)
from mine2magnet.elements.table import (
    ELEMENTS,
    LANTHANIDES,
    RARE_EARTHS,
    Element,
    atomic_weight,
    element,
    oxide_factor,
)

__all__ = [
    "ELEMENTS",
    "EXEMPTION_BQ_PER_G",
    "GROUPS",
    "LANTHANIDES",
    "RARE_EARTHS",
    "Basis",
    "Composition",
    "Element",
    "activity_concentration",
    "atomic_weight",
    "element",
    "group",
    "is_exempt",
    "oxide_factor",
    "specific_activity",
]
