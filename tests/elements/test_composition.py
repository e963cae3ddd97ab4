"""Composition: exact conversions between element mass, oxide mass, moles and REO fractions."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.elements import ELEMENTS, Basis, Composition, atomic_weight, group, oxide_factor
from mine2magnet.errors import InputError

SYMBOLS = sorted(ELEMENTS)
amounts = st.dictionaries(
    st.sampled_from(SYMBOLS), st.floats(min_value=1e-9, max_value=1e9, allow_nan=False), min_size=1
)
bases = st.sampled_from(list(Basis))


def _close(a: dict, b: dict, rel: float = 1e-12) -> bool:
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=rel) for k in a)


@given(amounts, bases, bases)
def test_round_trip_between_any_two_bases_is_exact(values, first, second):
    c = Composition.from_amounts(values, first)
    again = Composition.from_amounts(c.amounts(second), second)
    assert _close(again.amounts(first), values)


@given(amounts)
def test_reo_fractions_sum_to_one_over_rare_earths(values):
    c = Composition.from_oxide_mass(values)
    if c.total_reo() == 0.0:
        with pytest.raises(InputError):
            c.reo_fractions()
        return
    fractions = c.reo_fractions()
    assert math.isclose(sum(v for s, v in fractions.items() if ELEMENTS[s].rare_earth), 1.0, rel_tol=1e-12)
    back = Composition.from_reo_fractions(fractions, c.total_reo())
    assert _close(back.moles(), c.moles())


@given(amounts, amounts, st.floats(min_value=0.0, max_value=1e6))
def test_addition_and_scaling_are_linear(a, b, k):
    ca, cb = Composition.from_element_mass(a), Composition.from_element_mass(b)
    total = (ca + cb).scale(k).element_mass()
    for s in set(a) | set(b):
        expected = k * (a.get(s, 0.0) + b.get(s, 0.0))
        assert math.isclose(total[s], expected, rel_tol=1e-12, abs_tol=1e-300)


def test_known_conversion_one_kg_nd2o3():
    c = Composition.from_oxide_mass({"Nd": 1.0})
    assert c.element_mass()["Nd"] == pytest.approx(1 / oxide_factor("Nd"), rel=1e-14)
    # 1 kg Nd2O3 = 1000/336.481 mol formula units = 2x that in mol Nd
    assert c.moles()["Nd"] == pytest.approx(2 * 1000 / (2 * atomic_weight("Nd") + 3 * 15.999), rel=1e-14)


def test_group_sums_and_normalisation():
    c = Composition.from_reo_fractions({"La": 0.25, "Ce": 0.47, "Pr": 0.05, "Nd": 0.19, "Dy": 0.04})
    assert c.group_sum("NdPr") == pytest.approx(0.24)
    assert c.group_sum("LREE") == pytest.approx(0.96)
    assert c.group_sum("magnet") == pytest.approx(0.28)
    n = c.normalised(Basis.ELEMENT_MASS)
    assert n.total(Basis.ELEMENT_MASS) == pytest.approx(1.0, rel=1e-15)


def test_negative_or_nan_amount_is_refused():
    with pytest.raises(InputError, match="non-negative"):
        Composition.from_element_mass({"Nd": -1.0})
    with pytest.raises(InputError, match="non-negative"):
        Composition.from_moles({"Nd": float("nan")})


@given(amounts, bases)
def test_normalised_total_is_one_and_fractions_unchanged(values, basis):
    c = Composition.from_amounts(values, basis)
    n = c.normalised(basis)
    assert math.isclose(n.total(basis), 1.0, rel_tol=1e-12)
    assert _close(n.fractions(basis), c.fractions(basis))


@given(amounts, st.sampled_from(["LREE", "MREE", "HREE", "NdPr", "MAGNET", "REE"]), bases)
def test_group_sum_is_the_sum_of_its_members(values, name, basis):
    c = Composition.from_amounts(values, basis)
    members = group(name)
    expected = sum(v for s, v in values.items() if s in members)
    assert math.isclose(c.group_sum(name, basis), expected, rel_tol=1e-12, abs_tol=0.0)


def test_trade_groups_hold_the_conventional_members():
    # light La-Nd (+Pm), middle "SEG" Sm-Eu-Gd, heavy Tb-Lu + Y; magnet REE Pr, Nd, Tb, Dy
    assert set(group("LREE")) == {"La", "Ce", "Pr", "Nd", "Pm"}
    assert group("SEG") == group("MREE") == ("Sm", "Eu", "Gd")
    assert set(group("HREE")) == {"Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y"}
    assert set(group("NdPr")) == {"Nd", "Pr"} and set(group("magnet")) == {"Pr", "Nd", "Tb", "Dy"}
    assert set(group("LREE")) | set(group("MREE")) | set(group("HREE")) | {"Sc"} == set(group("REE"))
