"""Specific activity of thorium and uranium, and the activity concentration of a material.

A(parent) = ln 2 · N_A · w / (T½ · M), with w the parent's mass fraction in the natural element and M its
isotopic molar mass. With the decay chain in secular equilibrium every member has the parent's activity, so
the chain's total is the parent's times the number of chain members (branches counted by their branching
fractions): 10 for the Th-232 series and 14 for the U-238 series. The U-235 series (0.72 % of natural U
atoms) is not included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

AVOGADRO = 6.02214076e23  # 1/mol, exact (SI 2019)
SECONDS_PER_YEAR = 365.2422 * 86400.0  # tropical year, as in the nuclear-data evaluations

HALF_LIFE_SOURCE = {
    "title": "Table de Radionucléides / Recommended Data: "
    "Th-232 T1/2 = 1.40(1)E10 a; U-238 T1/2 = 4.468(5)E9 a",
    "url": "http://www.lnhb.fr/nuclear-data/nuclear-data-table/",
    "publisher": "Laboratoire National Henri Becquerel (DDEP evaluation)",
    "date": "2023",
    "kind": "measured",
}
ISOTOPE_SOURCE = {
    "title": "Isotopic compositions of the elements 2019 (IUPAC Technical Report): U-238 atom fraction "
    "0.992742; and AME2020 atomic masses (Th-232 232.038055, U-238 238.050788)",
    "url": "https://www.ciaaw.org/isotopic-abundances.htm",
    "publisher": "IUPAC CIAAW; Chinese Physics C 45:030003 (AME2020)",
    "date": "2021",
    "kind": "measured",
}
EXEMPTION_SOURCE = {
    "title": "IAEA Safety Standards GSR Part 3, Radiation Protection and Safety of Radiation Sources, "
    "Schedule I: 1 Bq/g for each radionuclide of the U-238 and Th-232 decay chains (para. I.4)",
    "url": "https://www.iaea.org/publications/8930/radiation-protection-and-safety-of-radiation-sources"
    "-international-basic-safety-standards",
    "publisher": "International Atomic Energy Agency",
    "date": "2014",
    "kind": "reported",
}

#: Exemption / clearance level for the U and Th chains, Bq/g per radionuclide (IAEA GSR Part 3).
EXEMPTION_BQ_PER_G = 1.0


@dataclass(frozen=True)
class Parent:
    """A primordial parent radionuclide as found in its natural element."""

    nuclide: str
    element: str
    half_life_years: float
    isotope_molar_mass: float  # g/mol
    mass_fraction_in_element: float
    chain_members: int  # members of the series in secular equilibrium, parent included

    @property
    def specific_activity(self) -> float:
        """Activity of the parent per gram of the natural element, Bq/g."""
        t_half_s = self.half_life_years * SECONDS_PER_YEAR
        return math.log(2.0) * AVOGADRO * self.mass_fraction_in_element / (t_half_s * self.isotope_molar_mass)


_U238_ATOM_FRACTION = 0.992742
_U_ATOMIC_WEIGHT = 238.02891

PARENTS: MappingProxyType[str, Parent] = MappingProxyType(
    {
        "Th": Parent("Th-232", "Th", 1.40e10, 232.038055, 1.0, 10),
        "U": Parent(
            "U-238", "U", 4.468e9, 238.050788, _U238_ATOM_FRACTION * 238.050788 / _U_ATOMIC_WEIGHT, 14
        ),
    }
)


def specific_activity(element: str, *, chain: bool = False) -> float:
    """Bq per gram of natural Th or U: the parent alone, or the whole series in secular equilibrium."""
    try:
        parent = PARENTS[element]
    except KeyError:
        raise KeyError(f"no primordial parent for {element!r}; expected Th or U") from None
    return parent.specific_activity * (parent.chain_members if chain else 1)


def activity_concentration(mass_fractions: Mapping[str, float], *, chain: bool = False) -> dict[str, float]:
    """Bq/g of a material from its Th and U mass fractions (g element per g material), by parent.

    Returns ``{"Th-232": Bq/g, "U-238": Bq/g}`` (only parents present). With ``chain=False`` each value is
    the parent's own activity, the quantity compared with the 1 Bq/g exemption level per radionuclide.
    """
    return {
        PARENTS[el].nuclide: frac * specific_activity(el, chain=chain)
        for el, frac in mass_fractions.items()
        if el in PARENTS
    }


def is_exempt(mass_fractions: Mapping[str, float]) -> bool:
    """True if every chain parent is at or below the 1 Bq/g exemption level (secular equilibrium assumed)."""
    return all(v <= EXEMPTION_BQ_PER_G for v in activity_concentration(mass_fractions).values())
