"""Effluent neutralisation with lime: the neutralisation underflow (NUF, Mg-rich gypsum).

All aqueous effluents of the plant (SX raffinates, barren liquors, precipitation supernatants) carry the
sulphate and chloride of the acids used and the metals not recovered. Liming to pH ~9-10 precipitates
sulphate as gypsum (a parameter: the share above gypsum solubility), oxalate (excess oxalic acid of the
finishing supernatants) as calcium oxalate (practically insoluble: all of it), Mg as Mg(OH)2 (a parameter),
the remaining phosphate as CaHPO4, and every other metal (traces of RE, Fe, Al, Th, U) as hydroxides. Lime
(CaO) is derived from the charge balance: enough OH- for the free acid and the precipitating metals, and at
least enough Ca for the calcium oxalate, gypsum and CaHPO4. What stays dissolved (Na, NH4, the rest of Mg and
Ca with chloride and the unprecipitated sulphate) leaves with the treated water.
"""

from __future__ import annotations

from collections.abc import Iterable

from mine2magnet.elements import ELEMENTS
from mine2magnet.process import species
from mine2magnet.process.parameters import ParameterSet
from mine2magnet.process.residue import Residue, speciate
from mine2magnet.process.stream import Stream, total
from mine2magnet.process.unit import UnitResult, free_acid_kmol

_SOLUBLE = frozenset({"Na"})


def neutralisation(unit_id: str, effluents: Iterable[Stream], params: ParameterSet) -> UnitResult:
    """Neutralise the combined effluents with lime; NUF residue + treated water."""
    inlet = total(effluents, "effluents")
    so4 = inlet.ions.get("SO4", 0.0)
    oxalate_kmol = inlet.ions.get("C2O4", 0.0)
    mg_frac = params.value("process.neutralisation.mg_precipitated", "fraction")
    so4_frac = params.value("process.neutralisation.sulphate_precipitated", "fraction")
    fractions = {s: 1.0 for s in inlet.elements if s not in _SOLUBLE}
    fractions["Mg"] = mg_frac
    fractions["Ca"] = 1.0
    nuf_el, water = inlet.split(fractions, "NUF", "treated water", default=0.0)
    kmol = nuf_el.kmol_per_yr()
    oh_needed = max(free_acid_kmol(inlet), 0.0) + sum(
        n * ELEMENTS[s].charge for s, n in kmol.items() if s not in ("P", "Si", "Ca")
    )
    gypsum_kmol = so4 * so4_frac
    p_kmol = kmol.get("P", 0.0)
    ca_needed = oxalate_kmol + gypsum_kmol + p_kmol  # Ca for calcium oxalate, gypsum and CaHPO4
    lime_kmol = max(oh_needed / 2.0, ca_needed - kmol.get("Ca", 0.0), 0.0)
    ca_lime_t = lime_kmol * ELEMENTS["Ca"].atomic_weight / 1000.0
    ca_total_kmol = kmol.get("Ca", 0.0) + lime_kmol
    ca_in_nuf_kmol = min(ca_total_kmol, ca_needed)
    ca_in_nuf_t = ca_in_nuf_kmol * ELEMENTS["Ca"].atomic_weight / 1000.0
    nuf_el = Stream("NUF", {**nuf_el.elements, "Ca": ca_in_nuf_t})
    water_ca = inlet.get("Ca") + ca_lime_t - ca_in_nuf_t
    water = Stream(
        "treated water",
        {**water.elements, "Ca": max(water_ca, 0.0)},
        {"SO4": so4 - gypsum_kmol, "Cl": inlet.ions.get("Cl", 0.0)},
    )
    nuf = Residue(
        "NUF",
        nuf_el,
        speciate(nuf_el.elements, sulphate_kmol=gypsum_kmol, oxalate_kmol=oxalate_kmol),
        params.value("process.residue.nuf_moisture", "fraction"),
        "neutralisation underflow: Mg-rich gypsum with the metals left in the effluents",
    )
    return UnitResult(
        unit_id,
        "neutralisation",
        inlet,
        water,
        residues=(nuf,),
        reagents={"CaO": lime_kmol * species.molar_mass("CaO") / 1000.0},
        reagent_elements=Stream("lime", {"Ca": ca_lime_t}),
        throughput=("kmol/yr sulphate", so4),
        detail={
            "lime_kmol_per_yr": lime_kmol,
            "gypsum_kmol_per_yr": gypsum_kmol,
            "calcium_oxalate_kmol_per_yr": oxalate_kmol,
        },
    )
