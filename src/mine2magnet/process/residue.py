"""Solid residues: what they are made of, how much they weigh wet, and how radioactive they are.

A residue is built from the elements a unit sends to it (t/yr of element) and the sulphate paired with its
calcium (kmol/yr). :func:`speciate` turns them into the compounds that are weighed (gypsum, iron phosphate,
rare-earth phosphate, hydroxides...), so residue tonnages follow from chemistry; the moisture of the filtered
cake (a parameter) gives the wet tonnage that is stored. Activity concentrations come from the Th and U mass
fractions of the wet residue through :func:`mine2magnet.elements.activity_concentration`, compared with the
1 Bq/g exemption level per radionuclide (IAEA GSR Part 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mine2magnet.elements import ELEMENTS, EXEMPTION_BQ_PER_G, RARE_EARTHS, activity_concentration
from mine2magnet.process import species
from mine2magnet.process.stream import Stream

# compounds of elements that are not phosphate consumers, by element
_PLAIN: dict[str, str] = {
    "Th": species.THORIUM_HYDROXIDE,
    "U": species.URANYL_HYDROXIDE,
    "Si": species.SILICA,
    "Mg": species.MAGNESIUM_HYDROXIDE,
    "Na": "Na2SO4",
    "Mn": "MnO(OH)",
}


def speciate(
    elements: Mapping[str, float], sulphate_kmol: float = 0.0, oxalate_kmol: float = 0.0
) -> dict[str, float]:
    """Dry compounds (t/yr by formula) holding `elements` (t/yr of element).

    Rules (in order): Ca takes oxalate as whewellite CaC2O4·H2O while `oxalate_kmol` (kmol/yr) lasts, then
    sulphate as gypsum CaSO4·2H2O while `sulphate_kmol` lasts; phosphorus goes
    first to the rare earths (REPO4, undissolved monazite-type phosphate), then Fe (FePO4·2H2O), Al (AlPO4),
    then Ca (CaHPO4·2H2O); what is left of each is a hydroxide/oxide (FeO(OH), Al(OH)3, RE(OH)3,
    Ca(OH)2), and phosphorus left over is counted as P2O5. Th, U, Si, Mg, Na, Mn: Th(OH)4, UO2(OH)2, SiO2,
    Mg(OH)2, Na2SO4, MnO(OH).
    """
    kmol = {s: v * 1000.0 / ELEMENTS[s].atomic_weight for s, v in elements.items() if v > 0.0}
    out: dict[str, float] = {}
    floor = 1e-9 * (
        sum(kmol.values()) + sulphate_kmol + oxalate_kmol
    )  # rounding of atomic weights, not a compound

    def add(formula: str, kmol_formula: float) -> None:
        if kmol_formula > floor:
            out[formula] = out.get(formula, 0.0) + kmol_formula * species.molar_mass(formula) / 1000.0

    p_left = kmol.pop("P", 0.0)
    so4_left = max(sulphate_kmol, 0.0)
    ca = kmol.pop("Ca", 0.0)
    oxalate = min(ca, max(oxalate_kmol, 0.0))
    add(species.CALCIUM_OXALATE, oxalate)
    ca -= oxalate
    gypsum = min(ca, so4_left)
    add(species.GYPSUM, gypsum)
    ca -= gypsum
    for s in [e for e in RARE_EARTHS if e in kmol]:
        n = kmol.pop(s)
        with_p = min(n, p_left)
        p_left -= with_p
        add(f"{s}PO4", with_p)
        add(f"{s}(OH)3", n - with_p)
    for s, phosphate, other in (
        ("Fe", species.IRON_PHOSPHATE, species.GOETHITE),
        ("Al", species.ALUMINIUM_PHOSPHATE, species.ALUMINIUM_HYDROXIDE),
    ):
        n = kmol.pop(s, 0.0)
        with_p = min(n, p_left)
        p_left -= with_p
        add(phosphate, with_p)
        add(other, n - with_p)
    with_p = min(ca, p_left)
    p_left -= with_p
    add(species.CALCIUM_HYDROGEN_PHOSPHATE, with_p)
    add("Ca(OH)2", ca - with_p)
    add("P2O5", p_left / 2.0)
    for s, n in kmol.items():
        formula = _PLAIN.get(s)
        if formula is None:
            raise KeyError(f"no residue compound defined for element {s}")
        add(formula, n / species.atoms(formula, s))
    return out


@dataclass(frozen=True)
class Residue:
    """A solid residue stream.

    Attributes:
        name: residue type (e.g. "WLP", "NUF", "FGD").
        elements: element flows in the residue, t/yr of element.
        compounds: dry compounds, t/yr by formula (they include the element mass).
        moisture: water mass fraction of the wet cake (wet basis).
        description: what it is.
    """

    name: str
    elements: Stream
    compounds: Mapping[str, float] = field(default_factory=dict)
    moisture: float = 0.0
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "compounds", MappingProxyType(dict(self.compounds)))

    @property
    def dry_t_per_yr(self) -> float:
        """Dry solids, t/yr."""
        return sum(self.compounds.values())

    @property
    def wet_t_per_yr(self) -> float:
        """Wet cake as stored, t/yr."""
        return self.dry_t_per_yr / (1.0 - self.moisture)

    def activity_bq_per_g(self) -> dict[str, float]:
        """Activity concentration of the wet residue by parent nuclide, Bq/g (Th-232, U-238 parents only)."""
        wet = self.wet_t_per_yr
        if wet <= 0.0:
            return {"Th-232": 0.0, "U-238": 0.0}
        fractions = {s: self.elements.get(s) / wet for s in ("Th", "U")}
        act = activity_concentration(fractions)
        return {"Th-232": act.get("Th-232", 0.0), "U-238": act.get("U-238", 0.0)}

    @property
    def exempt(self) -> bool:
        """True if every parent is at or below the 1 Bq/g exemption level."""
        return all(v <= EXEMPTION_BQ_PER_G for v in self.activity_bq_per_g().values())

    def merged(self, other: Residue) -> Residue:
        """Two parts of the same residue (e.g. water-leach residue + purification precipitate), combined.

        Moisture is the dry-mass-weighted mean, so wet tonnages add up.
        """
        dry = self.dry_t_per_yr + other.dry_t_per_yr
        water = (self.wet_t_per_yr - self.dry_t_per_yr) + (other.wet_t_per_yr - other.dry_t_per_yr)
        moisture = water / (dry + water) if dry + water > 0 else self.moisture
        comps = dict(self.compounds)
        for k, v in other.compounds.items():
            comps[k] = comps.get(k, 0.0) + v
        return Residue(
            self.name,
            (self.elements + other.elements).renamed(self.name),
            comps,
            moisture,
            self.description or other.description,
        )

    def to_dict(self, per_t_reo: float) -> dict[str, Any]:
        """The JSON-contract entry: t per t REO (of saleable product), Bq/g, exempt, plus detail."""
        act = self.activity_bq_per_g()
        return {
            "t_per_t_reo": self.wet_t_per_yr / per_t_reo if per_t_reo > 0 else None,
            "bq_per_g": max(act.values()),
            "bq_per_g_by_parent": act,
            "exempt": self.exempt,
            "t_per_yr": self.wet_t_per_yr,
            "dry_t_per_yr": self.dry_t_per_yr,
            "moisture": self.moisture,
            "compounds_t_per_yr": dict(self.compounds),
            "description": self.description,
        }


def combine(residues: Iterable[Residue]) -> dict[str, Residue]:
    """Residue parts combined by name."""
    out: dict[str, Residue] = {}
    for r in residues:
        out[r.name] = out[r.name].merged(r) if r.name in out else r
    return out
