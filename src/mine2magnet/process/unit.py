"""What every unit operation returns, and its element balance.

A unit takes an inlet stream (plus reagents, some of which bring elements: Ca of lime, Mg of magnesia, Na of
caustic soda) and sends every element somewhere: the main outlet (to the next unit), side streams (effluents,
products) or residues. :meth:`UnitResult.balance_error` checks that, element by element, to floating-point
precision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mine2magnet.elements import ELEMENTS
from mine2magnet.errors import ConvergenceError
from mine2magnet.process.residue import Residue
from mine2magnet.process.stream import Stream, total

#: Largest element imbalance accepted for a unit, relative to its total element inflow.
BALANCE_TOLERANCE = 1e-9

#: Elements whose dissolved form carries no cationic charge in acid liquors (H3PO4, H4SiO4).
NEUTRAL_IN_SOLUTION = frozenset({"P", "Si"})


def cation_equivalents_kmol(stream: Stream) -> float:
    """kmol/yr of positive charge carried by the dissolved metals of a liquor (U as UO2(2+))."""
    return sum(
        n * ELEMENTS[s].charge for s, n in stream.kmol_per_yr().items() if s not in NEUTRAL_IN_SOLUTION
    )


def free_acid_kmol(stream: Stream) -> float:
    """kmol/yr of free H+ in a liquor by charge balance: anion charge (2 SO4 + Cl + 2 C2O4) minus cation
    charge."""
    anions = (
        2.0 * stream.ions.get("SO4", 0.0) + stream.ions.get("Cl", 0.0) + 2.0 * stream.ions.get("C2O4", 0.0)
    )
    return anions - cation_equivalents_kmol(stream)


@dataclass(frozen=True)
class UnitResult:
    """Result of one unit operation.

    Attributes:
        unit: unit id in the flowsheet.
        kind: unit type (e.g. "acid-bake-leach").
        inlet: what came in (t/yr of element).
        outlet: main stream to the next unit (may be empty for a terminal unit).
        side: other outlets by name (effluents to neutralisation, products), t/yr of element.
        residues: solid residues produced.
        reagents: reagents consumed, t/yr of pure compound.
        reagent_elements: elements brought in by reagents (Ca of lime...), t/yr.
        throughput: the unit's throughput measure and its value (for capacity checks), e.g.
            ("t/yr concentrate", 27500.0).
        energy_kwh_per_yr: energy use by carrier (e.g. "electricity"), kWh/yr, where a figure is sourced.
        detail: unit-specific figures for reports.
    """

    unit: str
    kind: str
    inlet: Stream
    outlet: Stream
    side: Mapping[str, Stream] = field(default_factory=dict)
    residues: tuple[Residue, ...] = ()
    reagents: Mapping[str, float] = field(default_factory=dict)
    reagent_elements: Stream = field(default_factory=lambda: Stream("reagents"))
    throughput: tuple[str, float] | None = None
    energy_kwh_per_yr: Mapping[str, float] = field(default_factory=dict)
    detail: Mapping[str, Any] = field(default_factory=dict)

    def outputs(self) -> list[Stream]:
        """Every stream leaving the unit: main outlet, side streams and the elements of its residues."""
        return [self.outlet, *self.side.values(), *(r.elements for r in self.residues)]

    def balance_error(self) -> float:
        """Largest element imbalance (in - out) relative to the total element inflow."""
        inflow = self.inlet + self.reagent_elements
        outs = total(self.outputs())
        keys = set(inflow.elements) | set(outs.elements)
        scale = max(inflow.total_t_per_yr(), 1e-300)
        return max((abs(inflow.get(s) - outs.get(s)) / scale for s in keys), default=0.0)

    def check_balance(self) -> None:
        """Raise ConvergenceError if the element balance does not close."""
        err = self.balance_error()
        if err > BALANCE_TOLERANCE:
            raise ConvergenceError(
                f"unit {self.unit!r} ({self.kind}) element balance does not close", residual=err
            )
