"""Feed preparation: turn what arrives at the gate into a rare-earth liquor.

- :func:`acid_bake_leach` — sulphuric-acid bake ("cracking") of a phosphate concentrate in a rotary kiln and
  water leach. Rare earths, P and part of Fe/Al/U dissolve as sulphates/phosphoric acid; Ca stays as gypsum,
  Th mostly stays (insoluble above ~300 °C bake); the acid that decomposes in the kiln leaves as SO2/SO3 and
  is scrubbed with limestone to flue-gas desulphurisation (FGD) gypsum.
- :func:`hcl_dissolution` — hydrochloric-acid dissolution of mixed rare-earth carbonate (MREC).
- :func:`carbonate_precipitation` — ammonium-bicarbonate precipitation of MREC from an ionic-clay liquor.

Reagent use is stoichiometric (derived) times sourced or assumed excess factors; every split fraction is a
parameter with provenance.
"""

from __future__ import annotations

from mine2magnet.elements import ELEMENTS, RARE_EARTHS
from mine2magnet.errors import InfeasibleError, InputError
from mine2magnet.process import species
from mine2magnet.process.parameters import ParameterSet
from mine2magnet.process.residue import Residue, speciate
from mine2magnet.process.stream import Stream
from mine2magnet.process.unit import UnitResult, cation_equivalents_kmol

_T_PER_KMOL = 1.0e-3  # t per kmol per (g/mol)


def _t(formula: str, kmol: float) -> float:
    """t of `formula` in `kmol`."""
    return kmol * species.molar_mass(formula) * _T_PER_KMOL


def _kmol(formula: str, t: float) -> float:
    return t / (species.molar_mass(formula) * _T_PER_KMOL)


def acid_bake_leach(
    unit_id: str, inlet: Stream, material_t_per_yr: float | None, params: ParameterSet
) -> UnitResult:
    """Sulphuric-acid bake and water leach of a phosphate concentrate.

    Args:
        inlet: the concentrate's elements, t/yr.
        material_t_per_yr: t/yr of concentrate (the acid dose is per t of concentrate).
    Returns: outlet = leach liquor (sulphate ledger in kmol/yr); residues = water-leach residue (part of
    "WLP") and "FGD" gypsum; reagents H2SO4 and CaCO3 (t/yr).
    """
    if material_t_per_yr is None or material_t_per_yr <= 0.0:
        raise InputError("the acid bake needs a concentrate feed with a material mass", field="feed")
    p = "process.acid_bake."
    acid_t = params.value(p + "acid_dose_t_per_t_concentrate", "t/t") * material_t_per_yr
    acid_kmol = _kmol("H2SO4", acid_t)
    offgas_kmol = params.value(p + "offgas_fraction", "fraction") * acid_kmol
    re_rec = params.value(p + "re_leach_recovery", "fraction")
    leach = {s: re_rec for s in RARE_EARTHS}
    leach.update(
        {
            "Th": params.value(p + "th_leach_fraction", "fraction"),
            "U": params.value(p + "u_leach_fraction", "fraction"),
            "Fe": params.value(p + "fe_leach_fraction", "fraction"),
            "Al": params.value(p + "al_leach_fraction", "fraction"),
            "P": params.value(p + "p_leach_fraction", "fraction"),
            "Ca": 0.0,  # calcium sulphate (gypsum) is sparingly soluble and stays in the residue
            "Mg": 1.0,
            "Na": 1.0,
            "Si": 0.0,
        }
    )
    liquor, residue_el = inlet.split(leach, "leach liquor", "water-leach residue", default=1.0)
    ca_kmol = residue_el.kmol_per_yr().get("Ca", 0.0)
    sulphate_liquor = acid_kmol - offgas_kmol - ca_kmol
    needed = cation_equivalents_kmol(liquor) / 2.0
    if sulphate_liquor < needed:
        raise InfeasibleError(
            f"acid dose too low: {acid_t:.4g} t/yr H2SO4 leaves {sulphate_liquor:.4g} kmol/yr sulphate for "
            f"{needed:.4g} kmol/yr needed to sulphate the dissolved metals"
        )
    liquor = liquor.with_ions({"SO4": sulphate_liquor})
    wlp_part = Residue(
        "WLP",
        residue_el.renamed("WLP"),
        speciate(residue_el.elements, sulphate_kmol=ca_kmol),
        params.value("process.residue.wlp_moisture", "fraction"),
        "water-leach purification residue: undissolved gangue, gypsum, Th (NORM)",
    )
    limestone_kmol = offgas_kmol * params.value(p + "fgd_limestone_excess", "mol/mol")
    ca_in = Stream("limestone", {"Ca": limestone_kmol * ELEMENTS["Ca"].atomic_weight * _T_PER_KMOL})
    fgd_el = Stream("FGD", {"Ca": ca_in.get("Ca")})
    # SO2/SO3 captured as gypsum; limestone in excess stays as CaCO3 in the FGD solids
    fgd_compounds = {species.GYPSUM: _t(species.GYPSUM, offgas_kmol)}
    if limestone_kmol > offgas_kmol:
        fgd_compounds["CaCO3"] = _t("CaCO3", limestone_kmol - offgas_kmol)
    fgd = Residue(
        "FGD",
        fgd_el,
        fgd_compounds,
        params.value("process.residue.fgd_moisture", "fraction"),
        "flue-gas desulphurisation gypsum from scrubbing the kiln's SO2/SO3 with limestone",
    )
    return UnitResult(
        unit_id,
        "acid-bake-leach",
        inlet,
        liquor,
        residues=(wlp_part, fgd),
        reagents={"H2SO4": acid_t, "CaCO3": _t("CaCO3", limestone_kmol)},
        reagent_elements=ca_in,
        throughput=("t/yr concentrate", material_t_per_yr),
        detail={
            "acid_kmol_per_yr": acid_kmol,
            "offgas_kmol_per_yr": offgas_kmol,
            "liquor_sulphate_kmol_per_yr": sulphate_liquor,
        },
    )


def hcl_dissolution(
    unit_id: str, inlet: Stream, material_t_per_yr: float | None, params: ParameterSet
) -> UnitResult:
    """Hydrochloric-acid dissolution of MREC: carbonates -> chlorides (CO2 released).

    HCl = excess x (3 per RE, 2 per Ca/Mg, 3 per Al/Fe, 4 per Th, 2 per U(VI)); undissolved RE reports to an
    insoluble residue.
    """
    p = "process.hcl_dissolution."
    excess = params.value(p + "hcl_excess", "mol/mol")
    diss = params.value(p + "re_dissolution", "fraction")
    liquor, insol = inlet.split(
        {s: diss for s in RARE_EARTHS}, "chloride liquor", "insoluble residue", default=1.0
    )
    hcl_kmol = cation_equivalents_kmol(liquor) * excess
    residue = Residue(
        "insoluble residue",
        insol.renamed("insoluble residue"),
        speciate(insol.elements),
        params.value("process.residue.wlp_moisture", "fraction"),
        "undissolved carbonate/gangue from MREC dissolution",
    )
    return UnitResult(
        unit_id,
        "hcl-dissolution",
        inlet,
        liquor.with_ions({"Cl": hcl_kmol}),
        residues=(residue,),
        reagents={"HCl": _t("HCl", hcl_kmol)},
        throughput=(
            "t/yr MREC" if material_t_per_yr else "t/yr REO",
            material_t_per_yr or inlet.reo_t_per_yr(),
        ),
        detail={"hcl_kmol_per_yr": hcl_kmol},
    )


def carbonate_precipitation(unit_id: str, inlet: Stream, params: ParameterSet) -> UnitResult:
    """Ammonium-bicarbonate precipitation of MREC from a leach liquor.

    2 RE3+ + 6 NH4HCO3 -> RE2(CO3)3 + 6 NH4+ + 3 CO2 + 3 H2O: 3 mol NH4HCO3 per mol RE (derived), times an
    excess. RE not precipitated and the Al that does not co-precipitate leave with the barren liquor
    (side stream "barren liquor", to effluent treatment).
    """
    p = "process.carbonate_precipitation."
    rec = params.value(p + "re_recovery", "fraction")
    al = params.value(p + "al_coprecipitation", "fraction")
    fractions = {s: rec for s in RARE_EARTHS}
    fractions["Al"] = al
    mrec, barren = inlet.split(fractions, "MREC", "barren liquor", default=0.0)
    re_kmol = sum(n for s, n in mrec.kmol_per_yr().items() if s in RARE_EARTHS)
    nh4hco3_kmol = 3.0 * re_kmol * params.value(p + "nh4hco3_excess", "mol/mol")
    return UnitResult(
        unit_id,
        "carbonate-precipitation",
        inlet,
        mrec,
        side={"barren liquor": barren},
        reagents={"NH4HCO3": _t("NH4HCO3", nh4hco3_kmol)},
        throughput=("t/yr REO", inlet.reo_t_per_yr()),
    )


def re_kmol(stream: Stream) -> float:
    """kmol/yr of rare earths in a stream."""
    return sum(n for s, n in stream.kmol_per_yr().items() if ELEMENTS[s].rare_earth)
