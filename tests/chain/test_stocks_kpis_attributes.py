"""Dynamic in-use stock, HHI, attribute parsing (units at the boundary)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mine2magnet.chain import InUseStock, parse_attributes
from mine2magnet.chain.kpis import hhi
from mine2magnet.errors import InputError


def test_fixed_lifetime_leaves_exactly_after_its_life():
    s = InUseStock(mean=10, sd=0)
    s.add(2020, np.array([100.0]))
    assert s.end_of_life(2029)[0] == 0.0
    assert s.end_of_life(2030)[0] == pytest.approx(100.0)
    assert s.in_use(2029)[0] == pytest.approx(100.0) and s.in_use(2030)[0] == pytest.approx(0.0)


def test_normal_lifetime_conserves_the_cohort():
    s = InUseStock(mean=15, sd=5)
    s.add(2000, np.array([100.0, 50.0]))
    out = sum(s.end_of_life(y) for y in range(2000, 2100))
    assert out == pytest.approx([100.0, 50.0], rel=1e-9)
    # half of a (barely truncated) normal cohort is gone at the mean age
    assert s.in_use(2015)[0] == pytest.approx(50.0, rel=0.01)


def test_evenly_aged_seed_spreads_over_one_lifetime():
    s = InUseStock(mean=10, sd=0)
    s.seed_evenly_aged(np.array([100.0]), 2024)
    assert [round(s.end_of_life(y)[0], 9) for y in range(2024, 2035)] == [10.0] * 10 + [0.0]


def test_hhi():
    assert hhi({"A": 1.0, "B": 1.0}) == pytest.approx(0.5)
    assert hhi({"A": 3.0}) == 1.0
    assert hhi({"A": 0.7, "B": 0.2, "C": 0.1}) == pytest.approx(0.49 + 0.04 + 0.01)
    assert math.isnan(hhi({}))


def test_units_are_converted_at_the_boundary():
    a = parse_attributes(
        "mines",
        {
            "country": "X",
            "composition": {"Nd": 1.0},
            "capacity": "12 kt/yr",
            "resource": "1.5 Mt",
            "cost": "4 USD/kg",
        },
        where="mines[0]",
    )
    assert a["capacity"].at(2030) == pytest.approx(12000.0)
    assert a["resource"] == pytest.approx(1.5e6)
    assert a["cost"] == pytest.approx(4000.0)
    series = parse_attributes(
        "mines", {"composition": {"Nd": 1.0}, "capacity": {2024: "1 kt/yr", 2026: "3 kt/yr"}}, where="m"
    )["capacity"]
    assert [series.at(y) for y in (2023, 2024, 2025, 2026, 2040)] == [1000.0, 1000.0, 2000.0, 3000.0, 3000.0]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"composition": {"Nd": 1.0}, "capacity": 12000}, "missing unit"),
        ({"composition": {"Nd": 1.0}, "capacity": "12 kt"}, "convertible"),
        ({"composition": {"Nd": 1.0}, "capacity": "12 furlongs/yr"}, "unit"),
        ({"composition": {"Nd": 1.0}, "capacity": "1 kt/yr", "royalty_rate": 1.5}, "fraction"),
        ({"composition": {"Nd": 1.0}, "capacity": "1 kt/yr", "colour": "red"}, "unknown attribute"),
        ({"composition": {"Nd": 1.0}}, "missing required attribute"),
    ],
)
def test_bad_attributes_name_the_field(raw, message):
    with pytest.raises(InputError, match=message) as exc:
        parse_attributes("mines", raw, where="facilities.mines[0]", file="x.yaml")
    assert str(exc.value).startswith("x.yaml: facilities.mines[0].")
