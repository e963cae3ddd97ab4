"""DOE PrOMMiS's steady solvent-extraction case, run with our stage-wise engine, against its test values.

The case (3 mixer-settler stages, 5 vol% DEHPA in kerosene, a sulfuric-acid leach solution of West Kentucky
No. 13 coal refuse with 8 rare earths and Al, Ca, Fe, Sc, equal flows of 62.01 L/h) is defined in
``src/prommis/solvent_extraction/solvent_extraction_steady.py`` and its outlets are asserted in
``src/prommis/solvent_extraction/tests/test_solvent_extraction_steady.py`` of the public repository
prommis/prommis (read from the PyPI wheel prommis 1.1.0, and at commit
2134d8ab6a93782dda0090f926f6e1c0e2e82c59 for the earlier, fixed-dosage version of the same test).

What PrOMMiS computes (read from its source; see docs/prommis-comparison.md):
* D_i = 10^((m0_i + m1_i dos) pH + B0_i + B1_i log10 dos) for the rare earths, a constant D for Al, Ca, Fe, Sc
  (``solvent_extraction_reaction_package.py``; correlations from the University of Kentucky "Production of
  salable rare earths products from coal and coal byproducts using advanced separation processes, Phase 1"
  report, impurity D from REESim), evaluated at each stage's outlet pH and organic.
* each extracted ion releases 3 H+ (2 for Ca) and binds 3 DEHPA (2 for Ca);
* pH = -log10 of the FREE [H+]: the aqueous phase keeps HSO4- <=> H+ + SO4 2- at equilibrium with
  Ka2 = 10^-1.99 mol/L (``prommis/properties/sulfuric_acid_leaching_properties.py``), so the released protons
  are partly buffered by sulfate;
* dos = free DEHPA vol% of the stage's outlet organic (1.1.0: DEHPA mg/L / 975.8e3 x 100, the inlet organic's
  5 % counted free with its metal on top), or the fixed 5 % (the 2025 version, commit 20da581b of the reaction
  package, ``extractant_dosage`` a Param).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.separation import load_spec, simulate
from mine2magnet.separation.contract.spec import CascadeSpec
from mine2magnet.separation.equilibrium.distribution import EmpiricalPh
from mine2magnet.separation.solvers.steady.stagewise import (
    StagewiseProblem,
    free_proton,
    solve_stagewise,
    total_acidity,
    with_aqueous_chemistry,
)

# --- PrOMMiS inputs (prommis 1.1.0, src/prommis/solvent_extraction/solvent_extraction_steady.py: set_inputs)
COMPONENTS = ("La", "Y", "Pr", "Ce", "Nd", "Sm", "Gd", "Dy", "Al", "Ca", "Fe", "Sc")
#: molar masses PrOMMiS converts mg/L with, g/mol
#: (prommis/properties/sulfuric_acid_leaching_properties.py, solvent_extraction/ree_og_distribution.py)
MW = {
    "Sc": 44.946, "Y": 88.905, "La": 138.905, "Ce": 140.116, "Pr": 140.907, "Nd": 144.242, "Sm": 150.36,
    "Gd": 157.25, "Dy": 162.50, "Al": 26.982, "Ca": 40.078, "Fe": 55.845, "H": 1.0, "HSO4": 97.0, "SO4": 96.0,
    "DEHPA": 322.431,
}  # fmt: skip
#: aqueous feed, mg/L
FEED = {
    "Al": 422.375, "Ca": 109.542, "Fe": 688.266, "Sc": 0.032, "Y": 0.124, "La": 0.986, "Ce": 2.277,
    "Pr": 0.303, "Nd": 0.946, "Sm": 0.097, "Gd": 0.2584, "Dy": 0.047,
}  # fmt: skip
#: feed acid species, mg/L (not at the HSO4- equilibrium: the feed settles in the first stage it enters)
FEED_H, FEED_HSO4, FEED_SO4 = 10.75, 1.0e4, 100.0
#: metal in the inlet organic, mg/L
ORGANIC = {
    "Al": 1.267e-5, "Ca": 2.684e-5, "Fe": 2.873e-6, "Sc": 1.734, "Y": 2.179e-5, "La": 0.000105,
    "Ce": 0.00031, "Pr": 3.711e-5, "Nd": 0.000165, "Sm": 1.701e-5, "Gd": 3.357e-5, "Dy": 8.008e-6,
}  # fmt: skip
FLOW = 62.01  # L/h, aqueous and organic
DOSAGE = 5.0  # vol% DEHPA
DEHPA_MG_L = 975.8e3 * DOSAGE / 100  # mg/L in the inlet organic (975.8 g/L: DEHPA density)
KA2 = 10.0**-1.99  # mol/L

# --- DEHPA D correlations (prommis 1.1.0 solvent_extraction_reaction_package.py; same at commit 20da581b)
M0 = {
    "Ce": 0.30916, "Y": 1.63166, "Gd": 1.0225, "Dy": 1.70783, "Sm": 0.81233, "Nd": 0.31183, "La": 0.54,
    "Pr": 0.29,
}  # fmt: skip
M1 = {
    "Ce": 0.04816, "Y": 0.15166, "Gd": 0.0195, "Dy": 0.06443, "Sm": -0.02247, "Nd": 0.03763, "La": 0.0,
    "Pr": 0.0,
}  # fmt: skip
B0 = {
    "Ce": -1.66021, "Y": -2.12601, "Gd": -2.24143, "Dy": -2.42226, "Sm": -2.12172, "Nd": -1.62372,
    "La": -1.93, "Pr": -1.48,
}  # fmt: skip
B1 = {
    "Ce": -0.38599, "Y": 0.26612, "Gd": 0.03065, "Dy": -0.02538, "Sm": 0.17414, "Nd": -0.38096, "La": 0.0,
    "Pr": 0.0,
}  # fmt: skip
K_CONSTANT = {"Sc": 632.4976, "Al": 0.0531, "Ca": 0.0658, "Fe": 0.1496}
CHARGE = {c: 2 if c == "Ca" else 3 for c in COMPONENTS}  # PrOMMiS's H+ released / DEHPA bound per ion

# --- expected outlets, mg/L ---
#: prommis 1.1.0 tests/test_solvent_extraction_steady.py, test_get_stream_table_contents (kg/m3 x 1000,
#: full precision of PrOMMiS's IPOPT solution); test_solution asserts them rounded to 5 digits, rel 1e-4.
EXPECTED_1_1 = {
    "raffinate": {
        "La": 0.9142143743736765, "Y": 6.292748432495276e-06, "Pr": 0.2763100455024723,
        "Ce": 2.1095278998357163, "Nd": 0.8809872254832235, "Sm": 0.08657862645327003,
        "Gd": 0.19245933405617006, "Dy": 0.0011699115491985285, "Al": 399.95007985144854,
        "Ca": 102.3360816022842, "Fe": 585.5947170037661, "Sc": 0.0027415124943096402,
        "H": 39.513087794080776, "HSO4": 8023.222048810739, "SO4": 2056.3987970532893,
    },
    "loaded_organic": {
        "La": 0.07189062562632331, "Y": 0.1240154972515675, "Pr": 0.0267270644975277,
        "Ce": 0.1677821001642839, "Nd": 0.06517777451677624, "Sm": 0.01043838354672995,
        "Gd": 0.0659742359438299, "Dy": 0.045838096450801465, "Al": 22.424932818551315,
        "Ca": 7.205945237715807, "Fe": 102.67128586923359, "Sc": 1.7632584875056905,
        "DEHPA": 46086.75988668226,
    },
}  # fmt: skip
#: commit 2134d8ab6a93782dda0090f926f6e1c0e2e82c59, tests/test_solvent_extraction_steady.py, test_solution
#: (fixed dosage 5 %), asserted there with rel 1e-4
EXPECTED_FIXED_DOSAGE = {
    "raffinate": {
        "H": 39.5131, "SO4": 2056.395, "HSO4": 8023.225, "Al": 399.95, "Ca": 102.336, "Ce": 2.1056,
        "Dy": 0.0010159, "Fe": 585.5947, "Gd": 0.19119, "La": 0.91421, "Nd": 0.8801, "Pr": 0.27631,
        "Sc": 0.0027415, "Sm": 0.08669, "Y": 4.27601e-06,
    },
    "loaded_organic": {
        "Al": 22.4249, "Ca": 7.2059, "Ce": 0.17168, "DEHPA": 46086.719, "Dy": 0.045992, "Fe": 102.6712,
        "Gd": 0.06723, "La": 0.07189, "Nd": 0.06606, "Pr": 0.026727, "Sc": 1.7632, "Sm": 0.010323,
        "Y": 0.12401,
    },
}  # fmt: skip


#: the same case and test at commit 64cc6a8933c3d4cf368f2e1ba950d914ee298d99 (tests/test_sx_model_steady.py):
#: identical values except the Y raffinate, mg/L (the trace IPOPT resolves least well; see the test below)
Y_RAFFINATE_FIXED_DOSAGE_64CC = 4.27516e-06


def mol_per_l(mg: dict[str, float]) -> np.ndarray:
    return np.array([mg[c] / MW[c] / 1000.0 for c in COMPONENTS])


def prommis_problem(stages: int = 3, *, free_dosage: bool = True) -> StagewiseProblem:
    """PrOMMiS's case in our orientation: stage 1 is the raffinate end (PrOMMiS's last stage)."""
    C = len(COMPONENTS)
    z = np.array([CHARGE[c] for c in COMPONENTS], dtype=float)
    dehpa = DEHPA_MG_L / MW["DEHPA"] / 1000.0  # mol/L monomer
    model = EmpiricalPh(
        a=np.array([M0.get(c, 0.0) for c in COMPONENTS]),
        b=np.array([B0.get(c, 0.0) for c in COMPONENTS]),
        a1=np.array([M1.get(c, 0.0) for c in COMPONENTS]),
        b1=np.array([B1.get(c, 0.0) for c in COMPONENTS]),
        constant=np.array([K_CONSTANT.get(c, np.inf) for c in COMPONENTS]),
        volume_percent=DOSAGE,
        free_dosage=free_dosage,
        capacity=(z, dehpa),
    )
    feed = np.zeros((stages, C))
    feed[-1] = mol_per_l(FEED) * FLOW
    acid = np.zeros(stages)
    sulfate = np.zeros(stages)
    h = FEED_H / MW["H"] / 1000.0
    hso4 = FEED_HSO4 / MW["HSO4"] / 1000.0
    so4 = FEED_SO4 / MW["SO4"] / 1000.0
    acid[-1] = (h + hso4) * FLOW  # total acidic protons
    sulfate[-1] = (hso4 + so4) * FLOW  # total sulfate
    return StagewiseProblem(
        Va=np.full(stages, FLOW),
        Vo=np.full(stages, FLOW),
        vo_in=FLOW,
        feed_aq=feed,
        feed_org=np.zeros((stages, C)),
        aq_inlet=np.zeros(C),
        org_inlet=mol_per_l(ORGANIC) * FLOW,
        acid_in=acid,
        base_in=np.zeros(stages),
        charge=z,
        model=model,
        proton_balance=True,
        sulfate_in=sulfate,
        bisulfate_ka=KA2,
        extra_extractant=float((z * mol_per_l(ORGANIC)).sum()) / dehpa,
    )


def outlets_mg_per_l(pb: StagewiseProblem) -> dict[str, dict[str, float]]:
    """Solve and express the outlets as PrOMMiS reports them (mg/L)."""
    sol = solve_stagewise(pb)
    assert sol.residual < 1e-10
    assert sol.mass_balance_error < 1e-12
    assert sol.proton_balance_error < 1e-12
    raff = {c: float(sol.c[0, i]) * MW[c] * 1000.0 for i, c in enumerate(COMPONENTS)}
    org = {c: float(sol.y[-1, i]) * MW[c] * 1000.0 for i, c in enumerate(COMPONENTS)}
    h = float(sol.h[0])
    sulfate = float(pb.sulfate_in.sum()) / FLOW  # type: ignore[union-attr]
    raff["H"] = h * MW["H"] * 1000.0
    raff["HSO4"] = sulfate * h / (h + KA2) * MW["HSO4"] * 1000.0
    raff["SO4"] = sulfate * KA2 / (h + KA2) * MW["SO4"] * 1000.0
    z = pb.charge
    bound = float((z * (sol.y[-1] - pb.org_inlet / FLOW)).sum())  # DEHPA bound by the extracted metal, mol/L
    org["DEHPA"] = DEHPA_MG_L - bound * MW["DEHPA"] * 1000.0
    return {"raffinate": raff, "loaded_organic": org}


def test_prommis_1_1_free_dosage_case_matches_published_stream_table():
    """All 28 outlet concentrations of PrOMMiS 1.1.0's 3-stage case agree to 1e-7 (most to 1e-10): PrOMMiS's
    numbers are an IPOPT solution, converged on scaled residuals; only its tiny Y raffinate (5e-5 of the feed
    Y) is looser, 1.1e-6 off, asserted at 1e-5."""
    got = outlets_mg_per_l(prommis_problem())
    for outlet, values in EXPECTED_1_1.items():
        for species, expected in values.items():
            tol = 1e-5 if (outlet, species) == ("raffinate", "Y") else 1e-7
            assert got[outlet][species] == pytest.approx(expected, rel=tol), (outlet, species)


def test_prommis_1_1_rounded_values_at_their_tolerance():
    """The 5-digit values PrOMMiS's test_solution asserts, at its tolerance rel 1e-4."""
    rounded = {o: {k: float(f"{v:.4e}") for k, v in vals.items()} for o, vals in EXPECTED_1_1.items()}
    got = outlets_mg_per_l(prommis_problem())
    for outlet, values in rounded.items():
        for species, expected in values.items():
            assert got[outlet][species] == pytest.approx(expected, rel=1e-4), (outlet, species)


def test_prommis_fixed_dosage_version_matches_its_test_values():
    """The 2025 version held dos at 5 % (no free-extractant dependence): its expected values at rel 1e-4,
    except the Y raffinate (4.3e-6 mg/L, 3.4e-5 of the feed Y) at 5e-4: PrOMMiS's own test values for it
    moved between versions (4.27516e-6 at commit 64cc6a89, 4.27601e-6 at 2134d8ab, same inputs and model;
    its mixer-settler test disables that assertion as ill-conditioned). We match the earlier one at 1e-4."""
    got = outlets_mg_per_l(prommis_problem(free_dosage=False))
    assert got["raffinate"]["Y"] == pytest.approx(Y_RAFFINATE_FIXED_DOSAGE_64CC, rel=1e-4)
    for outlet, values in EXPECTED_FIXED_DOSAGE.items():
        for species, expected in values.items():
            tol = 5e-4 if (outlet, species) == ("raffinate", "Y") else 1e-4
            assert got[outlet][species] == pytest.approx(expected, rel=tol), (outlet, species)


def test_counting_inlet_metal_against_the_extractant_moves_the_sensitive_elements():
    """With the inlet organic's metal occupying part of the 5 % (our default), Y and Dy raffinates move by
    0.2-0.6 %: that convention matters at PrOMMiS's tolerance, so the spec offers both."""
    base = prommis_problem()
    own = StagewiseProblem(**{**base.__dict__, "extra_extractant": 0.0})
    a = solve_stagewise(base)
    b = solve_stagewise(own)
    iy = COMPONENTS.index("Y")
    shift = b.c[0, iy] / a.c[0, iy] - 1.0
    assert 1e-3 < abs(shift) < 2e-2
    assert b.phi[0] < a.phi[0]  # less free extractant when the inlet metal is counted


def test_sulfate_buffering_raises_the_raffinate_ph():
    """Without bisulfate speciation all 0.114 mol/L of acidic protons would be free (pH 0.9); with it the
    feed settles near pH 1.47 and the extraction's protons are partly taken up by sulfate."""
    pb = prommis_problem()
    sol = solve_stagewise(pb)
    bare = solve_stagewise(StagewiseProblem(**{**pb.__dict__, "sulfate_in": None}))
    assert -math.log10(sol.h[0]) == pytest.approx(1.40325903, abs=1e-6)  # from EXPECTED H: -log10(0.0395131)
    assert -math.log10(bare.h[0]) < 1.0
    assert bare.proton_balance_error < 1e-12


@given(
    total=st.floats(1e-6, 5.0),
    sulfate=st.floats(0.0, 3.0),
    pka=st.floats(0.5, 3.0),
)
def test_free_proton_inverts_total_acidity(total, sulfate, pka):
    ka = 10.0**-pka
    h, slope = free_proton(np.array([total]), np.array([sulfate]), ka)
    assert 0.0 < h[0] <= total * (1 + 1e-12)
    assert total_acidity(h[0], sulfate, ka) == pytest.approx(total, rel=1e-12)
    eps = 1e-7 * total
    h2, _ = free_proton(np.array([total + eps]), np.array([sulfate]), ka)
    assert slope[0] == pytest.approx((h2[0] - h[0]) / eps, rel=1e-4)


@pytest.mark.parametrize("stages", [10, 60])
def test_longer_cascades_converge_and_extract_more(stages):
    """The 10- and 60-stage versions (the sizes of the issue's PrOMMiS timings) converge from a cold start;
    more stages extract more of every element."""
    three = solve_stagewise(prommis_problem(3))
    sol = solve_stagewise(prommis_problem(stages))
    assert sol.residual < 1e-10 and sol.mass_balance_error < 1e-12
    assert (sol.c[0] <= three.c[0] * (1 + 1e-9)).all()


# ------------------------------------------------------------------------------------ the shipped specs

EXAMPLES = Path(__file__).parents[2] / "src" / "mine2magnet" / "separation" / "examples" / "prommis"


@pytest.mark.parametrize("name", ["sx_steady_1_1.yaml", "sx_steady_fixed_dosage.yaml"])
def test_shipped_specs_hold_the_cited_prommis_inputs(name):
    """The YAML specs carry PrOMMiS's numbers (converted from mg/L with its molar masses) and nothing else."""
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert tuple(data["components"]) == COMPONENTS
    assert data["stages"] == {"extraction": 3}
    model = data["model"]
    for c in COMPONENTS:
        coef = model["coefficients"][c]
        if c in K_CONSTANT:
            assert coef == {"D": K_CONSTANT[c]}
        else:
            assert coef == {"a0": M0[c], "a1": M1[c], "b0": B0[c], "b1": B1[c]}
    ext = model["extractant"]
    assert ext["volume_percent"] == DOSAGE
    assert ext["concentration"] == pytest.approx(DEHPA_MG_L / MW["DEHPA"] / 1000.0, rel=1e-9)
    assert ext["free"] is (name == "sx_steady_1_1.yaml")
    assert model["bisulfate_pKa"] == pytest.approx(-math.log10(KA2))
    feed, organic = data["feed"], data["organic"]
    assert feed["volume_flow"] == organic["volume_flow"] == FLOW
    for c in COMPONENTS:
        assert feed["concentration"][c] * MW[c] * 1000.0 == pytest.approx(FEED[c], rel=1e-9)
        assert organic["concentration"][c] * MW[c] * 1000.0 == pytest.approx(ORGANIC[c], rel=1e-9)
    assert feed["acid"] == pytest.approx((FEED_H / MW["H"] + FEED_HSO4 / MW["HSO4"]) / 1000.0, rel=1e-9)
    assert feed["sulfate"] == pytest.approx(
        (FEED_HSO4 / MW["HSO4"] + FEED_SO4 / MW["SO4"]) / 1000.0, rel=1e-9
    )


def _shipped_spec(name: str) -> CascadeSpec:
    """The shipped spec, validated."""
    return load_spec(EXAMPLES / name)


def test_spec_chemistry_maps_onto_the_solver_inputs():
    """with_aqueous_chemistry turns the spec's sulfate, acid and extractant basis into the solver inputs of
    the hand-built PrOMMiS problem (and leaves a spec without them untouched)."""
    spec = _shipped_spec("sx_steady_1_1.yaml")
    reference = prommis_problem()
    bare = StagewiseProblem(
        **{**reference.__dict__, "sulfate_in": None, "extra_extractant": 0.0, "bisulfate_ka": 1.0}
    )
    pb = with_aqueous_chemistry(bare, spec, "main")
    np.testing.assert_allclose(pb.sulfate_in, reference.sulfate_in, rtol=1e-9)
    np.testing.assert_allclose(pb.acid_in, reference.acid_in, rtol=1e-9)
    assert pb.bisulfate_ka == pytest.approx(KA2)
    assert pb.extra_extractant == pytest.approx(reference.extra_extractant, rel=1e-9)
    assert with_aqueous_chemistry(bare, load_spec(EXAMPLES.parent / "lace_empirical_ph.yaml"), "main") is bare


def test_a_ph_with_sulfate_adds_the_bisulfate_it_holds():
    """Feed acidity as pH (free H+) with sulfate: the acid entering is h + S h / (h + Ka), per L of feed."""
    spec = _shipped_spec("sx_steady_fixed_dosage.yaml")
    spec = spec.model_copy(update={"feed": spec.feed.model_copy(update={"acid": None, "pH": 1.5})})
    bare = StagewiseProblem(**{**prommis_problem().__dict__, "sulfate_in": None})
    h = 10.0**-1.5
    acid = bare.acid_in.copy()
    acid[-1] = h * FLOW  # what simulate puts in from a pH
    pb = with_aqueous_chemistry(StagewiseProblem(**{**bare.__dict__, "acid_in": acid}), spec, "main")
    sulfate = spec.feed.sulfate
    assert pb.acid_in[-1] / FLOW == pytest.approx(h + sulfate * h / (h + KA2), rel=1e-12)
    assert spec.feed.total_acidity(KA2) == pytest.approx(pb.acid_in[-1] / FLOW, rel=1e-12)
    assert pb.extra_extractant == 0.0  # fixed dosage: basis barren


def test_simulate_runs_the_shipped_prommis_spec():
    result = simulate(EXAMPLES / "sx_steady_1_1.yaml")
    comps = result.components
    for c, expected in EXPECTED_1_1["raffinate"].items():
        if c in comps:
            got = result.outlets["raffinate"][comps.index(c)] / FLOW * MW[c] * 1000.0
            tol = 1e-5 if c == "Y" else 1e-7
            assert got == pytest.approx(expected, rel=tol), c
    for c in COMPONENTS:
        got = result.outlets["loaded_organic"][comps.index(c)] / FLOW * MW[c] * 1000.0
        assert got == pytest.approx(EXPECTED_1_1["loaded_organic"][c], rel=1e-7), c
