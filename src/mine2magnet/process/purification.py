"""Impurity removal from a rare-earth liquor by neutralisation (Th, U, Fe, Al, P to a residue).

The liquor is neutralised with magnesia (MgO) to pH ~3.5-4: the free acid is consumed, and Fe(III), Al, Th
and U hydrolyse/precipitate, taking phosphate with them (FePO4, AlPO4) while it lasts; a small share of the
rare earths co-precipitates. Each element's removal is a parameter (partition to residue). The MgO needed is
derived from the charge balance: (free H+ + H+ released by the precipitating metals) / 2.
"""

from __future__ import annotations

from mine2magnet.elements import ELEMENTS, RARE_EARTHS
from mine2magnet.process import species
from mine2magnet.process.parameters import ParameterSet
from mine2magnet.process.residue import Residue, speciate
from mine2magnet.process.stream import Stream
from mine2magnet.process.unit import UnitResult, cation_equivalents_kmol, free_acid_kmol

_REMOVAL_KEYS = {
    "Fe": "process.purification.fe_removal",
    "Al": "process.purification.al_removal",
    "Th": "process.purification.th_removal",
    "U": "process.purification.u_removal",
}


def purification(unit_id: str, inlet: Stream, params: ParameterSet, residue_name: str = "WLP") -> UnitResult:
    """Neutralise a liquor with MgO and precipitate Fe, Al, Th, U (+ P with them) to `residue_name`."""
    fractions = {s: params.value(k, "fraction") for s, k in _REMOVAL_KEYS.items()}
    loss = params.value("process.purification.re_coprecipitation_loss", "fraction")
    fractions.update({s: loss for s in RARE_EARTHS})
    precip, liquor = inlet.split(fractions, residue_name, "purified liquor", default=0.0)
    # phosphorus follows the precipitated metals (REPO4, FePO4, AlPO4) while it lasts
    kmol = precip.kmol_per_yr()
    p_avail = inlet.kmol_per_yr().get("P", 0.0)
    p_binders = sum(n for s, n in kmol.items() if s in RARE_EARTHS or s in ("Fe", "Al"))
    p_removed = min(p_avail, p_binders)
    p_t = p_removed * ELEMENTS["P"].atomic_weight / 1000.0
    precip = Stream(residue_name, {**precip.elements, "P": p_t})
    liquor = Stream(
        liquor.name, {**liquor.elements, "P": max(inlet.get("P") - p_t, 0.0)}, liquor.ions
    ).renamed("purified liquor")
    released = cation_equivalents_kmol(precip)  # H+ set free as the metals precipitate
    mgo_kmol = max(free_acid_kmol(inlet), 0.0) / 2.0 + released / 2.0
    mg_t = mgo_kmol * ELEMENTS["Mg"].atomic_weight / 1000.0
    liquor = Stream(liquor.name, {**liquor.elements, "Mg": liquor.get("Mg") + mg_t}, liquor.ions)
    residue = Residue(
        residue_name,
        precip,
        speciate(precip.elements),
        params.value("process.residue.wlp_moisture", "fraction"),
        "purification precipitate: iron/aluminium phosphate and hydroxides with Th and U",
    )
    return UnitResult(
        unit_id,
        "purification",
        inlet,
        liquor,
        residues=(residue,),
        reagents={"MgO": mgo_kmol * species.molar_mass("MgO") / 1000.0},
        reagent_elements=Stream("magnesia", {"Mg": mg_t}),
        throughput=("t/yr REO", inlet.reo_t_per_yr()),
        detail={"mgo_kmol_per_yr": mgo_kmol},
    )
