"""Groups of rare earths as the trade uses them.

Group boundaries are conventions, not chemistry, and sources draw them differently: the split used here is
the separation-plant convention (light La–Nd; middle "SEG" Sm–Eu–Gd, the SEG/SEGH product of Lynas' heavy
rare-earth circuit; heavy Tb–Lu plus Y). The Chinese ore-classification convention (Zhang Zhenyue et al.,
Chinese Rare Earths 2016, doi:10.16533/J.CNKI.15-1099/TF.201601020) puts Tb and Dy among the middle rare
earths; it is offered as ``MREE_ORE`` / ``HREE_ORE``.
"""

from __future__ import annotations

from types import MappingProxyType

from mine2magnet.elements.table import RARE_EARTHS

GROUPS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "REE": RARE_EARTHS,
        "LREE": ("La", "Ce", "Pr", "Nd", "Pm"),
        "MREE": ("Sm", "Eu", "Gd"),
        "SEG": ("Sm", "Eu", "Gd"),
        "HREE": ("Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y"),
        "MREE_ORE": ("Sm", "Eu", "Gd", "Tb", "Dy"),
        "HREE_ORE": ("Ho", "Er", "Tm", "Yb", "Lu", "Y"),
        "NdPr": ("Pr", "Nd"),
        "LaCe": ("La", "Ce"),
        "DyTb": ("Tb", "Dy"),
        "MAGNET": ("Pr", "Nd", "Tb", "Dy"),
        "RADIONUCLIDE_PARENTS": ("Th", "U"),
    }
)


def group(name: str) -> tuple[str, ...]:
    """Members of a named group (case-insensitive); raises KeyError naming the known groups."""
    for key, members in GROUPS.items():
        if key.lower() == name.lower():
            return members
    raise KeyError(f"unknown element group {name!r}; known: {', '.join(GROUPS)}")
