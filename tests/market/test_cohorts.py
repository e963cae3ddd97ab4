"""Magnets in use: mass conservation and hand-computed lifetimes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.errors import InputError
from mine2magnet.market.cohorts import InUseStock, Lifetime, recycled


def test_fixed_lifetime_by_hand():
    # 3-year life: 10 t in 2020 and 4 t in 2021 leave in 2023 and 2024; stock 10, 14, 14, 4, 0
    s = InUseStock(Lifetime("fixed", mean=3))
    outs = [s.step(2020, 10.0), s.step(2021, 4.0), s.step(2022, 0.0), s.step(2023, 0.0), s.step(2024, 0.0)]
    assert outs == [0.0, 0.0, 0.0, 10.0, 4.0]
    assert [h[3] for h in s.history] == [10.0, 14.0, 14.0, 4.0, 0.0]


def test_weibull_lifetime_by_hand():
    # 100 t enter in 2020; Weibull shape 2, scale 10 years: share gone by age a is 1 - exp(-(a/10)^2)
    s = InUseStock(Lifetime("weibull", shape=2.0, scale=10.0))
    outs = {y: s.step(y, 100.0 if y == 2020 else 0.0) for y in range(2020, 2031)}
    assert outs[2020] == 0.0
    assert outs[2021] == pytest.approx(100 * (1 - math.exp(-0.01)), rel=1e-12)
    assert outs[2025] == pytest.approx(100 * (math.exp(-0.16) - math.exp(-0.25)), rel=1e-12)
    assert s.stock(2030) == pytest.approx(100 * math.exp(-1.0), rel=1e-12)
    assert Lifetime("weibull", shape=2.0, scale=10.0).average() == pytest.approx(10 * math.sqrt(math.pi) / 2)


def test_published_stock_is_kept_and_steady_growth_continues():
    life = Lifetime("normal", mean=12.0, sd=4.0)
    s = InUseStock.from_published_stock(life, 50_000.0, 2007, growth=0.05)
    assert s.stock(2007) == pytest.approx(50_000.0, rel=1e-9)
    # continuing the same 5 % growth keeps the stock growing at 5 % (a steady age structure)
    last = s.inflows[2007]
    for year in range(2008, 2013):
        last *= 1.05
        s.step(year, last)
    assert s.stock(2012) == pytest.approx(50_000.0 * 1.05**5, rel=1e-3)


@settings(max_examples=40)
@given(
    kind=st.sampled_from(["weibull", "normal", "fixed"]),
    p1=st.floats(0.5, 30.0),
    p2=st.floats(0.5, 10.0),
    opening=st.floats(0.0, 1e6),
    growth=st.floats(-0.2, 0.3),
    inflows=st.lists(st.floats(0.0, 1e5), min_size=1, max_size=30),
)
def test_inflow_is_stock_change_plus_outflow(kind, p1, p2, opening, growth, inflows):
    life = {
        "weibull": Lifetime("weibull", shape=p2, scale=p1),
        "normal": Lifetime("normal", mean=p1, sd=p2),
        "fixed": Lifetime("fixed", mean=float(max(1, round(p1)))),
    }[kind]
    s = InUseStock.from_published_stock(life, opening, 2010, growth)
    total_out = 0.0
    for i, q in enumerate(inflows):
        total_out += s.step(2011 + i, q)
    end = 2010 + len(inflows)
    assert s.mass_balance_residual() <= 1e-9 * max(1.0, opening, max(inflows))
    assert s.stock(end) == pytest.approx(opening + sum(inflows) - total_out, rel=1e-9, abs=1e-6)
    assert s.stock(end) >= -1e-9


def test_recycling_and_bad_input():
    assert recycled(1000.0, 0.5, 0.9) == pytest.approx(450.0)
    with pytest.raises(InputError, match="collection_rate"):
        recycled(1.0, 1.5, 0.9)
    with pytest.raises(InputError, match="weibull"):
        Lifetime("weibull", shape=2.0)
    s = InUseStock(Lifetime("fixed", mean=2))
    s.step(2020, 1.0)
    with pytest.raises(InputError, match="follow"):
        s.step(2022, 1.0)
