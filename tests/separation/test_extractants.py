"""Extractant parameter sets: sourced, consistent with their sources, usable by design.

Independent references: the naphthenic-acid factors of the 1979 Inner Mongolia University study (abstract:
Ce/La ~2.5, Pr/Ce ~1.2, Nd/Pr ~1.3, so Pr/La ~3.0 and Nd/La ~3.9 as computed in sx_theory.md b); the
'beta ~ 1.4-1.5' for Pr/Nd with D2EHPA/PC88A (KitchinHUB ch. 03); the 2.9 upper bound of the average adjacent
separation factor of acidic organophosphorus extractants (Kolarik, XII).
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.data import load_dataset
from mine2magnet.errors import InputError
from mine2magnet.separation.equilibrium.extractants import list_extractants, load_extractant

ACIDIC = ("P507", "P204", "Cyanex272")


def test_required_systems_are_shipped():
    names = list_extractants()
    for n in (*ACIDIC, "naphthenic_acid"):
        assert n in names


@pytest.mark.parametrize("name", ACIDIC)
def test_acidic_sets_cover_la_to_lu_and_y(name):
    ex = load_extractant(name)
    assert set(ex.order) == {
        "La",
        "Ce",
        "Pr",
        "Nd",
        "Sm",
        "Eu",
        "Gd",
        "Tb",
        "Dy",
        "Ho",
        "Y",
        "Er",
        "Tm",
        "Yb",
        "Lu",
    }
    betas = ex.separation_factors(ex.order)
    # extraction increases along the order (each adjacent factor > 1)
    values = [betas[c] for c in ex.order]
    assert values == sorted(values) and values[0] == 1.0


def test_every_factor_has_a_source_and_assumptions_have_ranges():
    for name in list_extractants():
        for sv in load_extractant(name).adjacent.values():
            assert sv.source.id
            if sv.kind == "assumption":
                assert sv.range is not None and sv.note


def test_naphthenic_acid_matches_its_source():
    na = load_extractant("naphthenic acid")
    b = na.separation_factors(["La", "Ce", "Pr", "Nd"])
    assert b["Ce"] == pytest.approx(2.5)
    assert b["Pr"] == pytest.approx(3.0)  # 2.5 x 1.2
    assert b["Nd"] == pytest.approx(3.9)  # 2.5 x 1.2 x 1.3


@pytest.mark.parametrize("alias", ["P507", "pc88a", "PC-88A", "EHEHPA"])
def test_p507_aliases_and_pr_nd_factor(alias):
    b = load_extractant(alias).separation_factors(["Nd", "Pr"])
    assert b["Pr"] == 1.0
    assert 1.4 <= b["Nd"] <= 1.5


@pytest.mark.parametrize("name", ACIDIC)
def test_average_adjacent_factor_within_published_limit(name):
    limit = load_dataset().value("separation.extractant.max_average_adjacent_beta")
    ex = load_extractant(name)
    # geometric mean over the lanthanide steps La..Lu; the Sm/Nd step spans two atomic numbers (Pm)
    lanthanides = [c for c in ex.order if c != "Y"]
    total = math.log(ex.separation_factors(lanthanides)["Lu"])
    steps = 71 - 57
    assert math.exp(total / steps) <= limit


@given(
    st.lists(
        st.sampled_from(["La", "Ce", "Pr", "Nd", "Sm", "Gd", "Dy", "Y", "Er", "Lu"]), min_size=1, unique=True
    )
)
def test_relative_factors_are_ratios_of_a_single_scale(components):
    ex = load_extractant("P204")
    full = ex.separation_factors(ex.order)
    sub = ex.separation_factors(components)
    least = min(components, key=lambda c: full[c])
    for c in components:
        assert sub[c] == pytest.approx(full[c] / full[least], rel=1e-12)
    assert sub[least] == 1.0


def test_bounds_bracket_the_values():
    ex = load_extractant("P507")
    comps = ["La", "Nd", "Sm", "Dy"]
    lo, mid, hi = (ex.separation_factors(comps, b) for b in ("low", "value", "high"))
    for c in comps:
        assert lo[c] <= mid[c] <= hi[c]


def test_errors_name_the_problem():
    with pytest.raises(InputError, match="unknown extractant"):
        load_extractant("TBP-nitrate")
    with pytest.raises(InputError, match="Sc"):
        load_extractant("P507").separation_factors(["Sc", "La"])
    with pytest.raises(InputError, match="not neighbours"):
        load_extractant("P507").adjacent_factor("La", "Nd")


def test_partial_kex_and_description():
    ex = load_extractant("P507")
    assert ex.log10_kex["Pr"] == pytest.approx(-1.98)
    d = ex.to_dict()
    assert d["name"] == "P507" and len(d["adjacent"]) == len(ex.order) - 1
    assert ex.stoichiometry and ex.conditions
