"""Counter-ion saponification along the cascade: the saponified extractant's cation as a mass-action species.

A saponified organic carries a fraction ``s`` (monomer basis) of its extractant as MA·HA, M+ = Na+ or NH4+:
2 s T mol/L of M+ for T mol/L of dimer (HA)2. In every stage the cation exchanges with protons and metal,

    M+ + (HA)2(org) <=> MA·HA(org) + H+,            K_M = [MA·HA][H+] / ([M+][(HA)2])
    RE3+ + 3 (HA)2(org) <=> RE(A·HA)3(org) + 3 H+,   Kex (the rare earths' own constants)

so RE3+ + 3 MA·HA(org) <=> RE(A·HA)3(org) + 3 M+ follows with K = Kex / K_M^3. The first reaction is the
mass-action form the stage-wise solver already solves, with charge 1, dimer exponent 1 and one dimer bound
per cation: D_M = K_M [(HA)2]_tot phi / [H+]. The cation is therefore solved as one more component of the
cascade (its own metal balance, its protons in the proton balance, its dimers in the free-extractant
balance), entering with the organic at stage 1; no base is added anywhere. With ``counter_ion`` absent the
legacy model stands: the whole base is released in stage 1 (the limit K_M -> 0 of this one).

The result reports the cation separately from the rare earths (``CascadeResult.counter_ion``): its organic
and aqueous profiles, where it leaves (the raffinate's Na+/NH4+ load), the base consumed (kg NaOH or NH3
per h and per kg REO fed). Units: mol/h, mol/L, kg/h.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mine2magnet.elements.composition import Composition
from mine2magnet.errors import InputError
from mine2magnet.separation.contract.spec import CascadeSpec, ExtractantParameters, MassActionModel
from mine2magnet.separation.equilibrium.distribution import MassAction

#: The base that makes each counter-ion and its molar mass, g/mol (NaOH: 22.98977 + 15.999 + 1.008;
#: NH3: 14.007 + 3 x 1.008; IUPAC standard atomic weights, abridged).
BASE = {"Na": ("NaOH", 39.997), "NH4": ("NH3", 17.031)}
#: Molar mass of the cation itself, g/mol (Na: 22.98977; NH4+: 14.007 + 4 x 1.008).
ION_MOLAR_MASS = {"Na": 22.98977, "NH4": 18.039}


@dataclass(frozen=True)
class CounterIonSetup:
    """The counter-ion of one cascade: which, its exchange constant, what the inlet organic carries."""

    ion: str
    log10_k: float
    #: where log10_k comes from ("spec" or the parameter set's source id)
    source: str
    saponification: float
    #: cation carried by the inlet organic, mol/L (2 s T)
    organic_concentration: float


def counter_ion_setup(spec: CascadeSpec) -> CounterIonSetup | None:
    """The counter-ion of a saponified mass-action cascade, or None (no counter-ion: the legacy model, or no
    saponification).

    Raises:
        InputError: the cation is also a component of the cascade, or no constant is known for it.
    """
    model = spec.model
    if not isinstance(model, MassActionModel) or model.counter_ion is None or model.saponification <= 0.0:
        return None
    ion = model.counter_ion.ion
    if ion in spec.components:
        raise InputError(
            f"{ion} is both a component and the counter-ion of the saponified extractant: drop it from the "
            "components (the counter-ion is reported on its own)",
            field="model.counter_ion.ion",
        )
    if model.counter_ion.log10_k is not None:
        log10_k, source = float(model.counter_ion.log10_k), "spec"
    elif isinstance(model.extractant, ExtractantParameters):
        raise InputError(
            "explicit extractant parameters need the counter-ion constant: give model.counter_ion.log10_k "
            "(log10 K of M+ + (HA)2(org) <=> MA·HA(org) + H+)",
            field="model.counter_ion.log10_k",
        )
    else:
        from mine2magnet.separation.equilibrium.extractants import load_extractant

        ext = load_extractant(model.extractant)
        log10_k = ext.counter_ion_log10_k(ion)
        source = ext.counter_ion_values[ion].source.id
    return CounterIonSetup(
        ion=ion,
        log10_k=log10_k,
        source=source,
        saponification=float(model.saponification),
        organic_concentration=2.0 * float(model.saponification) * float(model.concentration),
    )


def with_counter_ion(
    model: MassAction, charge: np.ndarray, setup: CounterIonSetup
) -> tuple[MassAction, np.ndarray]:
    """The mass-action model and charges with the counter-ion appended as the last component (charge 1,
    dimer exponent 1, one dimer bound per cation)."""
    if model.capacity is None:
        raise InputError("the counter-ion needs the free-extractant balance", field="model.counter_ion")
    nu, total = model.capacity
    return (
        MassAction(
            np.append(model.ln_kex, setup.log10_k * np.log(10.0)),
            np.append(model.exponent, 1.0),
            np.append(model.charge, 1.0),
            model.total_dimer,
            (np.append(nu, 1.0), total),
        ),
        np.append(charge, 1.0),
    )


def summary(
    setup: CounterIonSetup,
    spec: CascadeSpec,
    aqueous: np.ndarray,
    organic: np.ndarray,
    outlets: dict[str, float],
    outlet_volumes: dict[str, float],
    organic_in: float,
    fraction_of_extractant: np.ndarray,
) -> dict[str, Any]:
    """The ``counter_ion`` block of a result: profiles (mol/h per stage), outlets (mol/h, kg/h, share of the
    cation fed, mol/L), the base consumed (mol/h, kg/h, kg per kg of rare-earth oxide fed).

    ``outlet_volumes`` are the outlets' volume flows (L/h); ``organic_in`` is the cation entering with the
    organic (mol/h); ``fraction_of_extractant`` the share of the extractant dimers held as MA·HA in each stage
    (dimensionless).
    """
    base_name, base_mass = BASE[setup.ion]
    feed = spec.feed.component_flow(spec.components)
    reo_kg_h = Composition.from_moles({c: v for c, v in feed.items() if v > 0}).total_reo()  # mol/h -> kg/h
    base_kg_h = organic_in * base_mass / 1000.0  # mol/h x g/mol -> kg/h
    ion_kg_h = {name: flow * ION_MOLAR_MASS[setup.ion] / 1000.0 for name, flow in outlets.items()}
    return {
        "ion": setup.ion,
        "saponification": setup.saponification,
        "log10_k": setup.log10_k,
        "log10_k_source": setup.source,
        "organic_inlet_concentration": setup.organic_concentration,
        "base": {
            "name": base_name,
            "mol_h": organic_in,
            "kg_h": base_kg_h,
            "kg_per_kg_reo_fed": base_kg_h / reo_kg_h if reo_kg_h > 0 else None,
        },
        "outlets": {
            name: {
                "mol_h": flow,
                "kg_h": ion_kg_h[name],
                "share": flow / organic_in if organic_in > 0 else 0.0,
                "concentration": flow / outlet_volumes[name] if outlet_volumes.get(name) else None,
            }
            for name, flow in outlets.items()
        },
        "stages": {
            "aqueous": aqueous.tolist(),
            "organic": organic.tolist(),
            "fraction_of_extractant": fraction_of_extractant.tolist(),
        },
    }
