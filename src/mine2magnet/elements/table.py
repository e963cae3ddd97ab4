"""The periodic facts mine2magnet needs: atomic weights, charges and commercial oxides.

Atomic weights are IUPAC/CIAAW standard atomic weights (g/mol); for elements whose standard value is an
interval, the CIAAW conventional value is used. Promethium has no stable isotope and no standard atomic
weight: the mass number of its longest-lived isotope (145) is used, as on the IUPAC periodic table.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from mine2magnet.errors import InputError

#: Where the atomic weights come from (title, URL, publisher, date, kind).
ATOMIC_WEIGHT_SOURCE = {
    "title": "Standard atomic weights of the elements 2021 (IUPAC Technical Report), with the 2024 CIAAW "
    "revisions for Gd (157.249) and Lu (174.96669)",
    "url": "https://www.ciaaw.org/atomic-weights.htm",
    "publisher": "IUPAC Commission on Isotopic Abundances and Atomic Weights (Pure Appl. Chem. 94:573, "
    "doi:10.1515/pac-2019-0603)",
    "date": "2022-05-04",
    "kind": "measured",
}

#: Relative atomic mass of oxygen (CIAAW conventional value of the interval [15.99903, 15.99977]).
OXYGEN = 15.999


@dataclass(frozen=True)
class Element:
    """One element as mine2magnet uses it.

    Attributes:
        symbol: chemical symbol, e.g. "Nd".
        name: English name.
        z: atomic number.
        atomic_weight: standard atomic weight, g/mol.
        charge: the usual aqueous charge in chloride/sulphate process liquors (+3 for the rare earths).
        oxide: (metal atoms, oxygen atoms) of the commercial oxide, e.g. (6, 11) for Pr6O11.
        rare_earth: True for La…Lu, Y and Sc (the elements summed in total rare-earth oxide, TREO).
    """

    symbol: str
    name: str
    z: int
    atomic_weight: float
    charge: int
    oxide: tuple[int, int]
    rare_earth: bool

    @property
    def oxide_formula(self) -> str:
        """The commercial oxide as a formula, e.g. "Pr6O11"."""
        m, o = self.oxide
        return f"{self.symbol}{m if m > 1 else ''}O{o if o > 1 else ''}"

    @property
    def oxide_molar_mass(self) -> float:
        """Molar mass of the oxide formula unit, g/mol."""
        m, o = self.oxide
        return m * self.atomic_weight + o * OXYGEN

    @property
    def oxide_per_element(self) -> float:
        """kg of commercial oxide per kg of element (e.g. 1.1664 for Nd -> Nd2O3)."""
        m, _ = self.oxide
        return self.oxide_molar_mass / (m * self.atomic_weight)

    @property
    def element_per_oxide(self) -> float:
        """kg of element per kg of commercial oxide (e.g. 0.8573 for Nd2O3 -> Nd)."""
        return 1.0 / self.oxide_per_element


_RE2O3 = (2, 3)

_TABLE: tuple[Element, ...] = (
    # rare earths: Sc, Y and the lanthanides
    Element("Sc", "scandium", 21, 44.955907, 3, _RE2O3, True),
    Element("Y", "yttrium", 39, 88.905838, 3, _RE2O3, True),
    Element("La", "lanthanum", 57, 138.90547, 3, _RE2O3, True),
    Element("Ce", "cerium", 58, 140.116, 3, (1, 2), True),
    Element("Pr", "praseodymium", 59, 140.90766, 3, (6, 11), True),
    Element("Nd", "neodymium", 60, 144.242, 3, _RE2O3, True),
    Element("Pm", "promethium", 61, 145.0, 3, _RE2O3, True),
    Element("Sm", "samarium", 62, 150.36, 3, _RE2O3, True),
    Element("Eu", "europium", 63, 151.964, 3, _RE2O3, True),
    Element("Gd", "gadolinium", 64, 157.249, 3, _RE2O3, True),
    Element("Tb", "terbium", 65, 158.925354, 3, (4, 7), True),
    Element("Dy", "dysprosium", 66, 162.500, 3, _RE2O3, True),
    Element("Ho", "holmium", 67, 164.930329, 3, _RE2O3, True),
    Element("Er", "erbium", 68, 167.259, 3, _RE2O3, True),
    Element("Tm", "thulium", 69, 168.934219, 3, _RE2O3, True),
    Element("Yb", "ytterbium", 70, 173.045, 3, _RE2O3, True),
    Element("Lu", "lutetium", 71, 174.96669, 3, _RE2O3, True),
    # actinides in rare-earth ores (the radioactive part of residues)
    Element("Th", "thorium", 90, 232.0377, 4, (1, 2), False),
    Element("U", "uranium", 92, 238.02891, 2, (3, 8), False),  # aqueous as UO2(2+)
    # main impurities of leach liquors, reported as their usual oxides
    Element("Na", "sodium", 11, 22.98976928, 1, (2, 1), False),
    Element("Mg", "magnesium", 12, 24.305, 2, (1, 1), False),
    Element("Al", "aluminium", 13, 26.9815384, 3, (2, 3), False),
    Element("Si", "silicon", 14, 28.085, 4, (1, 2), False),
    Element("P", "phosphorus", 15, 30.973761998, 5, (2, 5), False),
    Element("Ca", "calcium", 20, 40.078, 2, (1, 1), False),
    Element("Mn", "manganese", 25, 54.938043, 2, (1, 1), False),
    Element("Fe", "iron", 26, 55.845, 3, (2, 3), False),
)

#: Every element mine2magnet knows, by symbol.
ELEMENTS: MappingProxyType[str, Element] = MappingProxyType({e.symbol: e for e in _TABLE})

#: The 17 rare earths in the order of the periodic table (Sc, Y, La…Lu).
RARE_EARTHS: tuple[str, ...] = tuple(e.symbol for e in _TABLE if e.rare_earth)

#: The lanthanides La…Lu in order of atomic number.
LANTHANIDES: tuple[str, ...] = tuple(e.symbol for e in _TABLE if 57 <= e.z <= 71)


def element(symbol: str) -> Element:
    """The element with this symbol; raises InputError naming the unknown symbol."""
    try:
        return ELEMENTS[symbol]
    except KeyError:
        known = ", ".join(ELEMENTS)
        raise InputError(f"unknown element {symbol!r}; expected one of {known}", field="element") from None


def atomic_weight(symbol: str) -> float:
    """Standard atomic weight of an element, g/mol."""
    return element(symbol).atomic_weight


def oxide_factor(symbol: str) -> float:
    """kg of commercial oxide per kg of element (REO basis)."""
    return element(symbol).oxide_per_element
