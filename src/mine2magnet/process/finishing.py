"""Finishing: precipitation of a separated rare-earth liquor and calcination to oxide; oxide -> metal.

- Oxalate route: 2 RE3+ + 3 H2C2O4 -> RE2(C2O4)3 (1.5 mol oxalic acid per mol RE, derived) times an excess;
  calcination of the oxalate gives the commercial oxide (Pr6O11, CeO2, Tb4O7 or RE2O3). The excess oxalic acid
  leaves with the supernatant (ion ledger "C2O4") to effluent treatment.
- Carbonate route: 3 mol NH4HCO3 per mol RE (derived) times an excess, then calcination.
- Electrolysis / reduction to metal: a metal yield (parameter); the rest is a loss stream.
- Energy: calcination electricity per kg of oxide (sourced, ``process.energy.calcination_kwh_per_kg_reo``);
  no figure was found for electrolysis, so its energy is not counted.

RE not precipitated leaves with the supernatant to effluent treatment.
"""

from __future__ import annotations

from mine2magnet.elements import RARE_EARTHS
from mine2magnet.errors import InputError
from mine2magnet.process import species
from mine2magnet.process.parameters import ParameterSet
from mine2magnet.process.stream import Stream
from mine2magnet.process.unit import UnitResult

ROUTES = ("oxalate", "carbonate")


def finishing(unit_id: str, inlet: Stream, params: ParameterSet, route: str = "oxalate") -> UnitResult:
    """Precipitate and calcine a product liquor. Outlet: the oxide product (t/yr of element).

    Reagents in t/yr of pure compound; energy_kwh_per_yr["electricity"] = kWh/kg x kg/yr of oxide calcined.
    """
    if route not in ROUTES:
        raise InputError(f"unknown finishing route {route!r}; expected one of {ROUTES}", field="finishing")
    rec = params.value("process.finishing.precipitation_recovery", "fraction")
    product, loss = inlet.split({s: rec for s in RARE_EARTHS}, inlet.name, "supernatant", default=1.0)
    re_kmol = sum(n for s, n in product.kmol_per_yr().items() if s in RARE_EARTHS)
    if route == "oxalate":
        kmol = 1.5 * re_kmol * params.value("process.finishing.oxalate_excess", "mol/mol")
        reagents = {
            "oxalic_acid": kmol * species.molar_mass(species.REAGENT_FORMULAS["oxalic_acid"]) / 1000.0
        }
        loss = loss.with_ions({"C2O4": kmol - 1.5 * re_kmol})
    else:
        kmol = 3.0 * re_kmol * params.value("process.finishing.carbonate_nh4hco3_excess", "mol/mol")
        reagents = {"NH4HCO3": kmol * species.molar_mass("NH4HCO3") / 1000.0}
    reo_t = product.reo_t_per_yr()
    kwh_per_kg = params.value("process.energy.calcination_kwh_per_kg_reo", "kWh/kg")
    return UnitResult(
        unit_id,
        f"{route}-finishing",
        inlet,
        product,
        side={"supernatant": loss},
        reagents=reagents,
        throughput=("t/yr REO", reo_t),
        energy_kwh_per_yr={"electricity": kwh_per_kg * reo_t * 1000.0},
    )


def electrolysis(unit_id: str, inlet: Stream, params: ParameterSet) -> UnitResult:
    """Oxide -> metal with a metal yield; the rest leaves as losses (slag, fumes, recycle not modelled)."""
    y = params.value("process.electrolysis.metal_yield", "fraction")
    metal, loss = inlet.split(
        {s: y for s in RARE_EARTHS}, f"{inlet.name} metal", "electrolysis losses", default=1.0
    )
    return UnitResult(
        unit_id,
        "electrolysis",
        inlet,
        metal,
        side={"electrolysis losses": loss},
        throughput=("t/yr REO", inlet.reo_t_per_yr()),
        detail={"note": "energy use of industrial molten-fluoride electrolysis not sourced; not reported"},
    )
