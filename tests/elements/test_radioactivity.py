"""Specific activities of Th-232 and U-238 and the Bq/g of a residue from its Th content."""

import math

import pytest

from mine2magnet.elements import activity_concentration, is_exempt, specific_activity


def test_th232_specific_activity_independent_formula():
    # 4.07 kBq/g: ln2 * N_A / (T1/2 * M) with T1/2 = 1.40e10 a (365.2422 d) and M = 232.038055 g/mol
    by_hand = math.log(2) * 6.02214076e23 / (1.40e10 * 365.2422 * 86400 * 232.038055)
    assert specific_activity("Th") == pytest.approx(by_hand, rel=1e-12)
    assert specific_activity("Th") == pytest.approx(4.07e3, rel=0.005)


def test_natural_uranium_u238_activity():
    # U-238 in natural U: 12.4 kBq/g U (e.g. IAEA and ICRP tabulations give 12.4-12.5 kBq/g of U-238)
    assert specific_activity("U") == pytest.approx(12.35e3, rel=0.01)


def test_chain_in_secular_equilibrium_multiplies_by_members():
    assert specific_activity("Th", chain=True) == pytest.approx(10 * specific_activity("Th"))
    assert specific_activity("U", chain=True) == pytest.approx(14 * specific_activity("U"))


def test_lynas_wlp_th_content_gives_about_6_bq_per_g():
    # Lynas: WLP residue "about 6 Bq/g of Th"; Mt Weld concentrate ~1,600 ppm Th (value_chain.md §1.2/1.4)
    bq = activity_concentration({"Th": 1600e-6})["Th-232"]
    assert 6.0 < bq < 7.0
    assert not is_exempt({"Th": 1600e-6})
    assert is_exempt({"Th": 200e-6, "U": 50e-6})  # 0.8 and 0.6 Bq/g


def test_uranium_reference_material_iaea_rgu1():
    # IAEA-RGU-1 (uranium ore diluted in silica, certified in IAEA/RL/148, 1987): U 400 mg/kg,
    # U-238 4,940 Bq/kg, 95 % confidence interval 4,910-4,970 Bq/kg (IAEA Reference Products for
    # Environment and Trade,
    # https://nucleus.iaea.org/rpst/ReferenceProducts/ReferenceMaterials/Radionuclides/IAEA-RGU-1.htm).
    bq_per_kg = 1000.0 * activity_concentration({"U": 400e-6})["U-238"]
    assert 4910.0 <= bq_per_kg <= 4970.0


def test_one_ppm_th_and_u_match_the_gamma_spectrometry_conversion_factors():
    # The conversion factors of airborne gamma-ray spectrometry (IAEA-TECDOC-1363, 2003, Guidelines for
    # radioelement mapping using gamma ray spectrometry data; not re-read here):
    # 1 ppm eTh = 4.06 Bq/kg Th-232, 1 ppm eU = 12.35 Bq/kg U-238. 4.06 goes with T1/2(Th-232) = 1.405e10 a,
    # 0.3 % below our 4.07 Bq/kg from the DDEP 1.40e10 a.
    per_ppm = activity_concentration({"Th": 1e-6, "U": 1e-6})
    assert 1000.0 * per_ppm["Th-232"] == pytest.approx(4.06, rel=0.005)
    assert 1000.0 * per_ppm["U-238"] == pytest.approx(12.35, rel=0.002)


def test_chain_activity_of_a_residue_adds_every_member():
    # 1 Bq/g of Th-232 in secular equilibrium carries 10 Bq/g in all (Th-232, Ra-228, Ac-228, Th-228,
    # Ra-224, Rn-220, Po-216, Pb-212, Bi-212, and Po-212 / Tl-208 by their 64 / 36 % branches), counted
    # member by member here.
    th232_series = ["Th-232", "Ra-228", "Ac-228", "Th-228", "Ra-224", "Rn-220", "Po-216", "Pb-212", "Bi-212"]
    branches = {"Po-212": 0.6406, "Tl-208": 0.3594}
    members = len(th232_series) + sum(branches.values())
    th = 1.0 / specific_activity("Th")  # g Th per g material giving 1 Bq/g of Th-232
    assert activity_concentration({"Th": th}, chain=True)["Th-232"] == pytest.approx(members, rel=1e-12)
