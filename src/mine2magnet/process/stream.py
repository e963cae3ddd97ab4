"""Streams: element flows between the units of a refinery, in t/yr of element.

A :class:`Stream` carries the flow of each element (rare earths, Th, U and the main impurities) in tonnes of
*element* per year, plus a small ledger of the ions that are not elements of the periodic table module
(sulphate, chloride: kmol/yr) so that the sulphate that ends up in gypsum residues balances too. Conversions
to oxide (REO basis) and to mol/h go through :class:`mine2magnet.elements.Composition`, so they are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mine2magnet.elements import ELEMENTS, Composition
from mine2magnet.errors import InputError

#: Ions tracked outside the element table, kmol/yr: sulphate, chloride and oxalate (the excess oxalic acid of
#: oxalate finishing, which liming precipitates as calcium oxalate).
IONS = ("SO4", "Cl", "C2O4")


@dataclass(frozen=True)
class Stream:
    """A stream of elements, t/yr of element, with an ion ledger in kmol/yr.

    Attributes:
        name: label used in results and the Sankey diagram.
        elements: t/yr of each element (element-mass basis).
        ions: kmol/yr of sulphate ("SO4"), chloride ("Cl") and oxalate ("C2O4") carried in solution.
    """

    name: str
    elements: Mapping[str, float] = field(default_factory=dict)
    ions: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clean = {}
        for s, v in self.elements.items():
            if s not in ELEMENTS:
                raise InputError(f"unknown element {s!r} in stream {self.name!r}")
            value = float(v)
            if not value >= -1e-12:
                raise InputError(f"negative flow of {s} ({value!r} t/yr) in stream {self.name!r}")
            clean[s] = max(value, 0.0)
        ions = {k: max(float(v), 0.0) for k, v in self.ions.items()}
        for k in ions:
            if k not in IONS:
                raise InputError(f"unknown ion {k!r} in stream {self.name!r}; expected one of {IONS}")
        object.__setattr__(self, "elements", MappingProxyType(clean))
        object.__setattr__(self, "ions", MappingProxyType(ions))

    # constructors ---------------------------------------------------------------------------------
    @classmethod
    def from_composition(
        cls, name: str, comp: Composition, ions: Mapping[str, float] | None = None
    ) -> Stream:
        """From a Composition whose amounts are read as t (element mass basis) per year."""
        return cls(name, comp.element_mass(), ions or {})

    # read-out -------------------------------------------------------------------------------------
    def composition(self) -> Composition:
        """The element flows as a Composition (amounts read as t/yr; use mol_per_h for molar flows)."""
        return Composition.from_element_mass(self.elements)

    def oxide_t_per_yr(self) -> dict[str, float]:
        """t/yr of each element's commercial oxide (REO basis for the rare earths)."""
        return self.composition().oxide_mass()

    def reo_t_per_yr(self) -> float:
        """Total rare-earth oxide, t/yr."""
        return self.composition().total_reo()

    def get(self, symbol: str) -> float:
        """t/yr of one element (0 if absent)."""
        return self.elements.get(symbol, 0.0)

    def kmol_per_yr(self) -> dict[str, float]:
        """kmol/yr of each element."""
        return {s: v * 1000.0 / ELEMENTS[s].atomic_weight for s, v in self.elements.items()}

    def mol_per_h(self, hours_per_year: float, elements: Iterable[str] | None = None) -> dict[str, float]:
        """mol/h of each element (or of `elements`) for a plant running `hours_per_year`."""
        keep = None if elements is None else set(elements)
        return {
            s: v * 1.0e6 / ELEMENTS[s].atomic_weight / hours_per_year
            for s, v in self.elements.items()
            if keep is None or s in keep
        }

    def total_t_per_yr(self) -> float:
        """Sum of element flows, t/yr."""
        return sum(self.elements.values())

    # algebra --------------------------------------------------------------------------------------
    def split(
        self, fractions: Mapping[str, float], name_a: str, name_b: str, default: float = 0.0
    ) -> tuple[Stream, Stream]:
        """Split element by element: fraction f of each element to the first stream, 1 - f to the second.

        Elements not named in `fractions` split by `default`. Ions stay with the second stream.
        """
        a: dict[str, float] = {}
        b: dict[str, float] = {}
        for s, v in self.elements.items():
            f = float(fractions.get(s, default))
            if not 0.0 <= f <= 1.0:
                raise InputError(f"split fraction of {s} must be within [0, 1], got {f!r}")
            a[s] = v * f
            b[s] = v - a[s]
        return Stream(name_a, a), Stream(name_b, b, self.ions)

    def renamed(self, name: str) -> Stream:
        """The same flows under another name."""
        return Stream(name, self.elements, self.ions)

    def with_ions(self, ions: Mapping[str, float]) -> Stream:
        """The same element flows with another ion ledger (kmol/yr)."""
        return Stream(self.name, self.elements, ions)

    def select(self, symbols: Iterable[str], name: str | None = None) -> Stream:
        """Only the flows of `symbols` (t/yr), without ions."""
        keep = set(symbols)
        return Stream(name or self.name, {s: v for s, v in self.elements.items() if s in keep})

    def __add__(self, other: Stream) -> Stream:
        keys = set(self.elements) | set(other.elements)
        ions = set(self.ions) | set(other.ions)
        return Stream(
            self.name,
            {s: self.get(s) + other.get(s) for s in keys},
            {k: self.ions.get(k, 0.0) + other.ions.get(k, 0.0) for k in ions},
        )

    def scale(self, factor: float) -> Stream:
        """Every flow (elements and ions) multiplied by `factor`."""
        return Stream(
            self.name,
            {s: v * factor for s, v in self.elements.items()},
            {k: v * factor for k, v in self.ions.items()},
        )


def total(streams: Iterable[Stream], name: str = "total") -> Stream:
    """Sum of several streams."""
    out = Stream(name)
    for s in streams:
        out = out + s
    return out.renamed(name)


def balance_error(inlet: Stream, outlets: Iterable[Stream]) -> float:
    """Largest element imbalance, relative to the inlet's total element flow (0 if the inlet is empty)."""
    outs = total(outlets)
    keys = set(inlet.elements) | set(outs.elements)
    scale = max(inlet.total_t_per_yr(), 1e-300)
    return max((abs(inlet.get(s) - outs.get(s)) / scale for s in keys), default=0.0)
