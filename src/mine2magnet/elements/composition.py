"""Amounts of elements, converted exactly between the bases the trade uses.

A :class:`Composition` holds an amount of each element and reads it back on any basis:

- ``element_mass``: kg of element;
- ``oxide_mass``: kg of commercial oxide (the REO basis: Nd2O3, CeO2, Pr6O11, Tb4O7, ThO2, U3O8, ...);
- ``moles``: mol of element;
- ``reo_fraction``: fraction of total rare-earth oxide (TREO), non-rare earths relative to the same total.

Internally the amount is kept in mol, so each conversion is one multiplication and round trips are exact to
floating-point rounding (about 1e-16 relative).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from mine2magnet.elements.groups import group
from mine2magnet.elements.table import ELEMENTS, element
from mine2magnet.errors import InputError


class Basis(StrEnum):
    """The basis of a set of amounts."""

    ELEMENT_MASS = "element_mass"  # kg of element
    OXIDE_MASS = "oxide_mass"  # kg of commercial oxide
    MOLES = "moles"  # mol of element


def _kg_per_mol(symbol: str, basis: Basis) -> float:
    """kg of `basis` per mol of element."""
    el = element(symbol)
    if basis is Basis.MOLES:
        return 1.0
    if basis is Basis.ELEMENT_MASS:
        return el.atomic_weight / 1000.0
    metal_atoms, _ = el.oxide
    return el.oxide_molar_mass / metal_atoms / 1000.0


def _order(symbols: Iterable[str]) -> list[str]:
    return sorted(symbols, key=lambda s: ELEMENTS[s].z)


@dataclass(frozen=True)
class Composition:
    """An amount of each element (immutable). Build it with one of the ``from_*`` constructors."""

    _moles: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clean: dict[str, float] = {}
        for symbol, amount in self._moles.items():
            element(symbol)
            value = float(amount)
            if not value >= 0.0:  # also refuses NaN
                raise InputError(f"amount of {symbol} must be a non-negative number, got {amount!r}")
            clean[symbol] = value
        object.__setattr__(self, "_moles", MappingProxyType({s: clean[s] for s in _order(clean)}))

    # constructors -----------------------------------------------------------------------------------
    @classmethod
    def from_amounts(cls, amounts: Mapping[str, float], basis: Basis | str) -> Composition:
        """Amounts on a basis (kg of element, kg of oxide, or mol)."""
        b = Basis(basis)
        return cls({s: float(v) / _kg_per_mol(s, b) for s, v in amounts.items()})

    @classmethod
    def from_moles(cls, moles: Mapping[str, float]) -> Composition:
        """mol of each element."""
        return cls.from_amounts(moles, Basis.MOLES)

    @classmethod
    def from_element_mass(cls, masses: Mapping[str, float]) -> Composition:
        """kg of each element."""
        return cls.from_amounts(masses, Basis.ELEMENT_MASS)

    @classmethod
    def from_oxide_mass(cls, masses: Mapping[str, float]) -> Composition:
        """kg of the commercial oxide of each element (REO basis)."""
        return cls.from_amounts(masses, Basis.OXIDE_MASS)

    @classmethod
    def from_reo_fractions(cls, fractions: Mapping[str, float], total_reo_kg: float = 1.0) -> Composition:
        """Fractions of total rare-earth oxide (the usual "% of TREO" table), scaled to `total_reo_kg`.

        The rare-earth fractions are used as given (they need not sum to 1: a table that omits minor
        elements stays as it is); non-rare earths (Th, U, impurities) are fractions of the same TREO.
        """
        return cls.from_oxide_mass({s: f * total_reo_kg for s, f in fractions.items()})

    # read-out ---------------------------------------------------------------------------------------
    def amounts(self, basis: Basis | str) -> dict[str, float]:
        """The amount of each element on a basis (kg of element, kg of oxide, or mol)."""
        b = Basis(basis)
        return {s: n * _kg_per_mol(s, b) for s, n in self._moles.items()}

    def moles(self) -> dict[str, float]:
        """mol of each element."""
        return dict(self._moles)

    def element_mass(self) -> dict[str, float]:
        """kg of each element."""
        return self.amounts(Basis.ELEMENT_MASS)

    def oxide_mass(self) -> dict[str, float]:
        """kg of the commercial oxide of each element."""
        return self.amounts(Basis.OXIDE_MASS)

    def total_reo(self) -> float:
        """Total rare-earth oxide, kg (Sc, Y and La…Lu; Th, U and impurities excluded)."""
        return sum(v for s, v in self.oxide_mass().items() if ELEMENTS[s].rare_earth)

    def reo_fractions(self) -> dict[str, float]:
        """Each element's oxide as a fraction of total rare-earth oxide; raises if there is no REO."""
        total = self.total_reo()
        if total <= 0.0:
            raise InputError("composition holds no rare-earth oxide; REO fractions are undefined")
        return {s: v / total for s, v in self.oxide_mass().items()}

    def fractions(self, basis: Basis | str, elements: Iterable[str] | None = None) -> dict[str, float]:
        """Fractions of the total on a basis, over `elements` (default: every element held)."""
        amounts = self.amounts(basis)
        keys = list(amounts) if elements is None else [s for s in elements if s in amounts]
        total = sum(amounts[s] for s in keys)
        if total <= 0.0:
            raise InputError("composition is empty on that basis; fractions are undefined")
        return {s: amounts[s] / total for s in keys}

    def total(self, basis: Basis | str, elements: Iterable[str] | None = None) -> float:
        """Sum on a basis over `elements` (default: every element held)."""
        amounts = self.amounts(basis)
        keys = amounts if elements is None else [s for s in elements if s in amounts]
        return sum(amounts[s] for s in keys)

    def group_sum(self, name: str, basis: Basis | str = Basis.OXIDE_MASS) -> float:
        """Sum of a named group (see :mod:`mine2magnet.elements.groups`) on a basis."""
        return self.total(basis, group(name))

    # algebra ----------------------------------------------------------------------------------------
    def __add__(self, other: Composition) -> Composition:
        if not isinstance(other, Composition):
            return NotImplemented
        keys = set(self._moles) | set(other._moles)
        return Composition({s: self._moles.get(s, 0.0) + other._moles.get(s, 0.0) for s in keys})

    def scale(self, factor: float) -> Composition:
        """Every amount multiplied by a non-negative factor."""
        if not factor >= 0.0:
            raise InputError(f"scale factor must be non-negative, got {factor!r}")
        return Composition({s: n * factor for s, n in self._moles.items()})

    def __mul__(self, factor: float) -> Composition:
        return self.scale(factor)

    __rmul__ = __mul__

    def normalised(
        self, basis: Basis | str = Basis.OXIDE_MASS, elements: Iterable[str] | None = None
    ) -> Composition:
        """Scaled so that the total over `elements` on `basis` is 1 (default: TREO-free total of all)."""
        total = self.total(basis, elements)
        if total <= 0.0:
            raise InputError("cannot normalise an empty composition")
        return self.scale(1.0 / total)

    def select(self, elements: Iterable[str]) -> Composition:
        """Only the named elements."""
        keep = set(elements)
        return Composition({s: n for s, n in self._moles.items() if s in keep})

    # mapping protocol over mol ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[str]:
        return iter(self._moles)

    def __len__(self) -> int:
        return len(self._moles)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._moles

    def __repr__(self) -> str:
        body = ", ".join(f"{s}={n:.6g}" for s, n in self._moles.items())
        return f"Composition(mol: {body})"
