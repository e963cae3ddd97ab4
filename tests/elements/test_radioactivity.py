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
