"""Unit operations: element balances, stoichiometry against hand calculations, residue chemistry."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.errors import InfeasibleError
from mine2magnet.process import species
from mine2magnet.process.feed import load_feed
from mine2magnet.process.feed_preparation import acid_bake_leach, carbonate_precipitation, hcl_dissolution
from mine2magnet.process.finishing import electrolysis, finishing
from mine2magnet.process.neutralisation import neutralisation
from mine2magnet.process.parameters import ParameterSet
from mine2magnet.process.purification import purification
from mine2magnet.process.residue import Residue, speciate
from mine2magnet.process.stream import Stream

P = ParameterSet()


def test_molar_masses_match_handbook_values():
    # CRC Handbook / PubChem: gypsum 172.17, sulphuric acid 98.08, oxalic acid dihydrate 126.07,
    # MgO 40.30 g/mol
    assert species.molar_mass("CaSO4·2H2O") == pytest.approx(172.17, abs=0.01)
    assert species.molar_mass("H2SO4") == pytest.approx(98.08, abs=0.01)
    assert species.molar_mass("H2C2O4·2H2O") == pytest.approx(126.07, abs=0.01)
    assert species.molar_mass("MgO") == pytest.approx(40.30, abs=0.01)
    assert species.molar_mass("Fe2(SO4)3") == pytest.approx(399.88, abs=0.05)


def test_acid_bake_balances_elements_and_sulphate():
    feed = load_feed("mt-weld-concentrate", P)
    stream, mass = feed.at_rate(1000.0)
    res = acid_bake_leach("cracking", stream, mass, P)
    assert res.balance_error() < 1e-12
    acid_kmol = res.reagents["H2SO4"] / species.molar_mass("H2SO4") * 1000.0
    # sulphate: acid in = liquor + gypsum in the leach residue + SO2/SO3 scrubbed to FGD gypsum
    wlp, fgd = res.residues
    gyp_wlp = wlp.compounds["CaSO4·2H2O"] / species.molar_mass("CaSO4·2H2O") * 1000.0
    gyp_fgd = fgd.compounds["CaSO4·2H2O"] / species.molar_mass("CaSO4·2H2O") * 1000.0
    assert res.outlet.ions["SO4"] + gyp_wlp + gyp_fgd == pytest.approx(acid_kmol, rel=1e-12)
    # the rare earths leach at the cracking recovery
    rec = P.value("process.acid_bake.re_leach_recovery")
    assert res.outlet.get("Nd") / stream.get("Nd") == pytest.approx(rec)
    # Th stays mostly in the residue, so the WLP is radioactive (NORM), FGD is not
    assert wlp.activity_bq_per_g()["Th-232"] > 1.0
    assert fgd.exempt


def test_acid_dose_too_low_is_a_clear_error():
    feed = load_feed("mt-weld-concentrate", P)
    stream, mass = feed.at_rate(1000.0)
    low = ParameterSet(
        overrides={
            "process.acid_bake.acid_dose_t_per_t_concentrate": {
                "value": 0.05,
                "unit": "t/t",
                "source": "mine2magnet-assumption",
                "kind": "assumption",
                "range": [0.01, 0.1],
            }
        }
    )
    with pytest.raises(InfeasibleError, match="acid dose too low"):
        acid_bake_leach("cracking", stream, mass, low)


def test_hcl_dissolution_stoichiometry_by_hand():
    # 144.242 t/yr Nd = 1000 kmol/yr as carbonate: 3 HCl per RE, times the excess
    res = hcl_dissolution("d", Stream("mrec", {"Nd": 144.242}), None, P)
    excess = P.value("process.hcl_dissolution.hcl_excess", "mol/mol")
    diss = P.value("process.hcl_dissolution.re_dissolution")
    assert res.reagents["HCl"] == pytest.approx(3.0 * 1000.0 * diss * excess * 36.458 / 1000.0, rel=1e-4)
    assert res.balance_error() < 1e-12


def test_carbonate_precipitation_stoichiometry_by_hand():
    res = carbonate_precipitation("p", Stream("liquor", {"La": 138.90547, "Al": 10.0}), P)
    rec = P.value("process.carbonate_precipitation.re_recovery")
    excess = P.value("process.carbonate_precipitation.nh4hco3_excess", "mol/mol")
    assert res.reagents["NH4HCO3"] == pytest.approx(3.0 * 1000.0 * rec * excess * 79.056 / 1000.0, rel=1e-4)
    assert res.balance_error() < 1e-12


def test_purification_magnesia_from_charge_balance():
    # 1000 kmol/yr Fe(III) as sulphate, no free acid: precipitating Fe releases 3 H+ per Fe -> 1.5 MgO per Fe
    fe_t = 55.845
    liquor = Stream("l", {"Fe": fe_t}, {"SO4": 1500.0})
    res = purification("p", liquor, P)
    removal = P.value("process.purification.fe_removal")
    assert res.detail["mgo_kmol_per_yr"] == pytest.approx(1.5 * 1000.0 * removal)
    assert res.balance_error() < 1e-12


def test_neutralisation_of_sulphuric_acid_by_hand():
    # 1000 kmol/yr H2SO4: 1000 kmol lime; gypsum = sulphate precipitated share
    res = neutralisation("n", [Stream("acid", {}, {"SO4": 1000.0})], P)
    share = P.value("process.neutralisation.sulphate_precipitated")
    assert res.detail["lime_kmol_per_yr"] == pytest.approx(1000.0)
    (nuf,) = res.residues
    assert nuf.dry_t_per_yr == pytest.approx(share * 1000.0 * 172.17 / 1000.0, rel=1e-4)
    assert res.balance_error() < 1e-12


def test_oxalate_finishing_by_hand():
    res = finishing("f", Stream("NdPr", {"Nd": 144.242}), P, "oxalate")
    rec = P.value("process.finishing.precipitation_recovery")
    excess = P.value("process.finishing.oxalate_excess", "mol/mol")
    assert res.reagents["oxalic_acid"] == pytest.approx(
        1.5 * 1000.0 * rec * excess * 126.07 / 1000.0, rel=1e-4
    )
    assert res.balance_error() < 1e-12
    # calcination electricity: kWh per kg of oxide x kg/yr of Nd2O3 (Nd2O3/2Nd = 336.48/288.48, IUPAC weights)
    kwh_per_kg = P.value("process.energy.calcination_kwh_per_kg_reo", "kWh/kg")
    nd2o3_kg = 144.242 * rec * 336.48 / 288.48 * 1000.0
    assert res.energy_kwh_per_yr["electricity"] == pytest.approx(kwh_per_kg * nd2o3_kg, rel=1e-4)
    metal = electrolysis("m", res.outlet, P)
    assert metal.balance_error() < 1e-12


def test_thorium_activity_of_a_residue():
    # 1,000 ppm Th: Th-232 specific activity 4.07 kBq/g (e.g. IAEA TRS-419) -> 4.07 Bq/g
    r = Residue("x", Stream("x", {"Th": 1.0}), {"SiO2": 1000.0 - 1.0 * 1.3}, 0.0)
    wet = r.wet_t_per_yr
    assert r.activity_bq_per_g()["Th-232"] == pytest.approx(4.07 * 1.0 / wet * 1000.0, rel=0.01)
    assert not r.exempt


def test_speciation_conserves_elements():
    out = speciate({"Fe": 55.845, "P": 30.973762, "Ca": 40.078}, sulphate_kmol=1000.0)
    assert set(out) == {"FePO4·2H2O", "CaSO4·2H2O"}
    assert out["FePO4·2H2O"] == pytest.approx(species.molar_mass("FePO4·2H2O"))


flows = st.floats(min_value=0.0, max_value=1e4, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    re=flows,
    fe=flows,
    al=flows,
    th=st.floats(0, 10),
    p=flows,
    mg=flows,
    so4=st.floats(0, 1e6),
    cl=st.floats(0, 1e6),
)
def test_purification_and_neutralisation_always_balance(re, fe, al, th, p, mg, so4, cl):
    liquor = Stream(
        "l", {"Nd": re, "Ce": re / 2, "Fe": fe, "Al": al, "Th": th, "P": p, "Mg": mg}, {"SO4": so4, "Cl": cl}
    )
    pur = purification("p", liquor, P)
    assert pur.balance_error() < 1e-9
    neu = neutralisation("n", [pur.outlet], P)
    assert neu.balance_error() < 1e-9
    assert all(v >= 0.0 for v in neu.reagents.values())
    assert math.isfinite(neu.residues[0].wet_t_per_yr)


def test_separation_train_balances_and_derives_its_reagents():
    from mine2magnet.process.separation_train import CutSpec, separation_train
    from mine2magnet.separation.equilibrium.extractants import load_extractant

    ext = load_extractant("P507")
    betas = ext.separation_factors(list(ext.order))
    # a purified chloride liquor: La/Ce/Pr/Nd with Mg and Na left by purification and 3 Cl per RE
    liquor = Stream("l", {"La": 300.0, "Ce": 500.0, "Pr": 50.0, "Nd": 150.0, "Mg": 5.0}, {"Cl": 21_000.0})
    cut = CutSpec(
        "c", "Ce|Pr", "train", {"raffinate": {"purity": 0.99}, "extract": {"purity": 0.99}}, "LaCe", "PrNd"
    )
    res, products, circuits = separation_train("sx", liquor, [cut], betas, P, "NaOH")
    assert res.balance_error() < 1e-12
    # every rare earth leaves in one of the two products; the Mg and the chloride go to the effluent
    for el in ("La", "Ce", "Pr", "Nd"):
        assert products["LaCe"].get(el) + products["PrNd"].get(el) == pytest.approx(liquor.get(el), rel=1e-12)
    assert res.side["SX effluent"].get("Mg") == pytest.approx(5.0)
    # saponification: 3 mol NaOH per mol RE loaded on the organic (degree 1.0); strip: 3 HCl per RE x excess
    (c,) = circuits
    hours = P.value("process.operating_hours_per_year", "h")
    loaded_kmol = c["organic_ree_mol_per_h"] * hours / 1000.0
    degree = P.value("process.sx.saponification_degree")
    excess = P.value("process.sx.strip_acid_excess", "mol/mol")
    assert res.reagents["NaOH"] == pytest.approx(3.0 * loaded_kmol * degree * 39.997 / 1000.0, rel=1e-4)
    assert res.reagents["HCl"] == pytest.approx(3.0 * loaded_kmol * excess * 36.458 / 1000.0, rel=1e-4)
    # the Na of the caustic leaves with the effluent (element balance includes reagent elements)
    assert res.side["SX effluent"].get("Na") == pytest.approx(res.reagent_elements.get("Na"))
    # mixer-settler volume = stages x phase flows x residence time (extraction: organic + feed + scrub)
    t_res = P.value("process.sx.mixer_residence_time", "min") + P.value(
        "process.sx.settler_residence_time", "min"
    )
    n_e, n_s = c["extraction_stages"], c["scrub_stages"]
    q_o, q_a = c["organic_l_per_h"], c["aqueous_l_per_h"]
    q_scrub = c["scrub_ree_mol_per_h"] / P.value("process.sx.aqueous_re_mol_per_l", "mol/L")
    expected_m3 = (n_e * (q_o + q_a) + n_s * (q_o + q_scrub)) * t_res / 60.0 / 1000.0
    assert c["extraction_scrub_volume_m3"] == pytest.approx(expected_m3, rel=1e-12)
    # strip section: assumed stage count; loaded organic + strip liquor (RE at the aqueous RE strength)
    n_k = round(P.value("process.sx.strip_stages"))
    q_strip = c["organic_ree_mol_per_h"] / P.value("process.sx.aqueous_re_mol_per_l", "mol/L")
    strip_m3 = n_k * (q_o + q_strip) * t_res / 60.0 / 1000.0
    assert c["strip_stages"] == n_k and c["strip_volume_m3"] == pytest.approx(strip_m3, rel=1e-12)
    assert c["mixer_settler_volume_m3"] == pytest.approx(expected_m3 + strip_m3, rel=1e-12)
    # SX electricity: sourced GJ per t of REO x t/yr of REO entering the train (1 GJ = 1e9 J / 3.6e6 J/kWh =
    # 277.78 kWh; oxide factors La2O3/2La 325.81/277.81, CeO2/Ce 172.11/140.12, Pr6O11/6Pr 1021.44/845.44,
    # Nd2O3/2Nd 336.48/288.48, IUPAC weights)
    gj_per_t = P.value("process.energy.sx_electricity", "GJ/t")
    reo_t = (
        300.0 * 325.81 / 277.81 + 500.0 * 172.11 / 140.12 + 50.0 * 1021.44 / 845.44 + 150.0 * 336.48 / 288.48
    )
    assert res.energy_kwh_per_yr["electricity"] == pytest.approx(gj_per_t * 1e9 / 3.6e6 * reo_t, rel=1e-4)


def test_path_to_a_product_lists_every_cut_outlet_it_passes():
    from mine2magnet.process import load_flowsheet
    from mine2magnet.process.refinery import _path_to

    cuts = load_flowsheet("lynas-malaysia").cuts("separation")
    ids = [c.id for c in cuts]
    named = {
        p: [(ids[k], side) for k, side in _path_to(p, cuts)] for p in ("Dy oxide", "Tb oxide", "La oxide")
    }
    assert named["Dy oxide"] == [
        ("light-heavy", "extract"),
        ("seg-hre", "extract"),
        ("tb-dy", "extract"),
        ("dy-heavy", "raffinate"),
    ]
    assert named["Tb oxide"] == [("light-heavy", "extract"), ("seg-hre", "extract"), ("tb-dy", "raffinate")]
    assert named["La oxide"] == [
        ("light-heavy", "raffinate"),
        ("lace-ndpr", "raffinate"),
        ("la-ce", "raffinate"),
    ]


# every element the process layer tracks: the 17 rare earths, Th, U and the impurities
_ALL = {s: 1.0 + k for k, s in enumerate(("Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb"))}
_ALL.update({"Dy": 3.0, "Ho": 0.5, "Er": 1.5, "Tm": 0.2, "Yb": 1.2, "Lu": 0.2})
_ALL.update(
    {"Th": 0.8, "U": 0.05, "Na": 0.3, "Mg": 0.6, "Al": 2.0, "Si": 1.0, "P": 4.0, "Ca": 3.0, "Fe": 9.0}
)
_ALL["Mn"] = 0.4


@pytest.mark.parametrize(
    "unit",
    [
        lambda s: acid_bake_leach("bake", s, 300.0, P),
        lambda s: hcl_dissolution("dissolution", s, 150.0, P),
        lambda s: carbonate_precipitation("precipitation", s, P),
        lambda s: purification("purification", s.with_ions({"SO4": 2000.0}), P),
        lambda s: neutralisation("neutralisation", [s.with_ions({"SO4": 2000.0, "Cl": 500.0})], P),
        lambda s: finishing("oxalate", s, P, "oxalate"),
        lambda s: finishing("carbonate", s, P, "carbonate"),
        lambda s: electrolysis("metal", s, P),
    ],
    ids=[
        "acid-bake-leach",
        "hcl-dissolution",
        "carbonate-precipitation",
        "purification",
        "neutralisation",
        "oxalate-finishing",
        "carbonate-finishing",
        "electrolysis",
    ],
)
def test_every_unit_balances_each_of_the_17_rare_earths_th_u_and_impurities(unit):
    from mine2magnet.process.stream import total

    inlet = Stream("all", _ALL)
    res = unit(inlet)
    outs = total(res.outputs())
    for el, fed in _ALL.items():
        brought = res.reagent_elements.get(el)
        assert outs.get(el) == pytest.approx(fed + brought, rel=1e-12, abs=1e-12), el
    assert set(outs.elements) <= set(_ALL) | set(res.reagent_elements.elements)
    assert all(v >= 0.0 for v in res.reagents.values())


def test_excess_oxalic_acid_is_limed_to_calcium_oxalate_in_the_nuf():
    # oxalate finishing of 1000 kmol/yr Nd: the excess over 1.5 mol/mol leaves with the supernatant
    fin = finishing("f", Stream("Nd", {"Nd": 144.242}), P, "oxalate")
    rec = P.value("process.finishing.precipitation_recovery")
    excess = P.value("process.finishing.oxalate_excess", "mol/mol")
    assert fin.side["supernatant"].ions["C2O4"] == pytest.approx(1.5 * 1000.0 * rec * (excess - 1.0))
    # 1000 kmol/yr H2C2O4 limed: 1000 kmol CaO (2 H+ per acid), 1000 kmol CaC2O4·H2O (146.11 g/mol, PubChem)
    res = neutralisation("n", [Stream("ml", {}, {"C2O4": 1000.0})], P)
    assert res.detail["lime_kmol_per_yr"] == pytest.approx(1000.0)
    (nuf,) = res.residues
    assert nuf.compounds["CaC2O4·H2O"] == pytest.approx(146.11, rel=1e-4)
    assert res.outlet.ions.get("C2O4", 0.0) == 0.0
    assert res.balance_error() < 1e-12


def test_combined_uncertainty_is_the_root_sum_square_of_the_largest_deviations():
    from mine2magnet.process.sensitivity import Sensitivity

    runs = {("a", 1.0): {"x": 9.0}, ("a", 2.0): {"x": 12.0}, ("b", 0.0): {"x": 10.5}, ("b", 1.0): {"x": 9.6}}
    s = Sensitivity({"x": 10.0}, runs, {"a": (1.0, 2.0), "b": (0.0, 1.0)})
    assert s.largest_deviation("a", "x") == pytest.approx(0.2)
    assert s.largest_deviation("b", "x") == pytest.approx(0.05)
    assert s.combined("x") == pytest.approx(math.sqrt(0.2**2 + 0.05**2))
    assert s.combined("x", exclude=["a"]) == pytest.approx(0.05)
