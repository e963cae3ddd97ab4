"""Molar masses of the reagents and residue compounds a refinery handles.

Rare-earth, actinide and impurity elements come from :mod:`mine2magnet.elements`; the light elements that only
appear in reagents and residue compounds (H, C, N, O, S, Cl) are listed here with their IUPAC/CIAAW
conventional atomic weights (same source as ``mine2magnet.elements.table.ATOMIC_WEIGHT_SOURCE``). Molar masses
are computed from formulas, so every stoichiometric reagent use in this package is *derived* from chemistry.
"""

from __future__ import annotations

import re
from functools import cache

from mine2magnet.elements import ELEMENTS

#: Conventional atomic weights (g/mol) of the light elements of reagents and residues (IUPAC/CIAAW 2021).
LIGHT_ELEMENTS: dict[str, float] = {
    "H": 1.008,
    "C": 12.011,
    "N": 14.007,
    "O": 15.999,
    "S": 32.06,
    "Cl": 35.45,
    "K": 39.0983,
}


def _atomic_weight(symbol: str) -> float:
    if symbol in LIGHT_ELEMENTS:
        return LIGHT_ELEMENTS[symbol]
    if symbol in ELEMENTS:
        return ELEMENTS[symbol].atomic_weight
    raise KeyError(f"unknown element {symbol!r} in a formula")


def _parse(formula: str) -> dict[str, float]:
    """Atom counts of a formula such as ``CaSO4·2H2O`` or ``Fe2(SO4)3``."""
    parts = formula.split("·")
    total: dict[str, float] = {}
    for k, part in enumerate(parts):
        mult = 1.0
        if k > 0:
            m = re.match(r"^(\d+\.?\d*)", part)
            if m:
                mult = float(m.group(1))
                part = part[m.end() :]
        stack: list[dict[str, float]] = [{}]
        i = 0
        while i < len(part):
            ch = part[i]
            if ch == "(":
                stack.append({})
                i += 1
            elif ch == ")":
                m = re.match(r"\)(\d*\.?\d*)", part[i:])
                n = float(m.group(1)) if m and m.group(1) else 1.0
                inner = stack.pop()
                for s, c in inner.items():
                    stack[-1][s] = stack[-1].get(s, 0.0) + c * n
                i += m.end() if m else 1
            else:
                m = re.match(r"([A-Z][a-z]?)(\d*\.?\d*)", part[i:])
                if not m:
                    raise KeyError(f"cannot parse formula {formula!r} at {part[i:]!r}")
                n = float(m.group(2)) if m.group(2) else 1.0
                stack[-1][m.group(1)] = stack[-1].get(m.group(1), 0.0) + n
                i += m.end()
        for s, c in stack[0].items():
            total[s] = total.get(s, 0.0) + c * mult
    return total


@cache
def molar_mass(formula: str) -> float:
    """Molar mass of a formula, g/mol (= t per Mmol = kg per kmol). Hydrates with ``·``: ``CaSO4·2H2O``."""
    return sum(_atomic_weight(s) * n for s, n in _parse(formula).items())


def atoms(formula: str, symbol: str) -> float:
    """Number of atoms of `symbol` in one formula unit."""
    return _parse(formula).get(symbol, 0.0)


#: Residue compounds by name (the solids weighed in residues).
GYPSUM = "CaSO4·2H2O"
CALCIUM_OXALATE = "CaC2O4·H2O"
IRON_PHOSPHATE = "FePO4·2H2O"
MAGNESIUM_HYDROXIDE = "Mg(OH)2"
CALCIUM_HYDROGEN_PHOSPHATE = "CaHPO4·2H2O"
GOETHITE = "FeO(OH)"
ALUMINIUM_HYDROXIDE = "Al(OH)3"
ALUMINIUM_PHOSPHATE = "AlPO4"
THORIUM_HYDROXIDE = "Th(OH)4"
URANYL_HYDROXIDE = "UO2(OH)2"
SILICA = "SiO2"

#: Reagents by the names used in results (t/yr of the pure compound).
REAGENT_FORMULAS: dict[str, str] = {
    "H2SO4": "H2SO4",
    "HCl": "HCl",
    "NaOH": "NaOH",
    "NH3": "NH3",
    "MgO": "MgO",
    "CaO": "CaO",
    "CaCO3": "CaCO3",
    "oxalic_acid": "H2C2O4·2H2O",
    "NH4HCO3": "NH4HCO3",
}

#: mol of base per mol of OH- it supplies.
BASE_EQUIVALENTS: dict[str, float] = {"NaOH": 1.0, "NH3": 1.0, "MgO": 2.0, "CaO": 2.0}


def rare_earth_compound(symbol: str, kind: str) -> tuple[str, float]:
    """Formula and rare-earth atoms per formula unit of a rare-earth salt (phosphate, oxalate, carbonate).

    kind: ``phosphate`` (REPO4), ``oxalate`` (RE2(C2O4)3·10H2O), ``carbonate`` (RE2(CO3)3), ``hydroxide``.
    Ce is taken as Ce(III) in all of them.
    """
    if kind == "phosphate":
        return f"{symbol}PO4", 1.0
    if kind == "oxalate":
        return f"{symbol}2(C2O4)3·10H2O", 2.0
    if kind == "carbonate":
        return f"{symbol}2(CO3)3", 2.0
    if kind == "hydroxide":
        return f"{symbol}(OH)3", 1.0
    raise KeyError(f"unknown rare-earth compound kind {kind!r}")
