"""The yearly market equilibrium against closed-form solutions and its invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.errors import InputError
from mine2magnet.market import (
    Converter,
    DemandBlock,
    ExportCap,
    MarketYear,
    Route,
    SupplyStep,
    solve_market,
)


def linear_demand(region: str, a: float, b: float, p_ref: float) -> DemandBlock:
    """The block whose curve is Q = a - b P, written at the reference point P = p_ref."""
    q_ref = a - b * p_ref
    return DemandBlock(region, "NdPr", "all", q_ref, p_ref, -b * p_ref / q_ref)


def linear_supply(region: str, d: float) -> SupplyStep:
    """Supply Q = d P: marginal cost P = Q / d (a linear cost slope of 1/d USD/kg per t)."""
    return SupplyStep(f"mine-{region}", region, "NdPr", 1e9, 0.0, 1.0 / d)


def test_two_regions_linear_market_matches_closed_form():
    # importer A (Q = a - b P_A), exporter B (Q = d P_B), freight t: P_A = P_B + t and a - b P_A = d P_B
    a, b, d, t = 1000.0, 10.0, 20.0, 5.0
    market = MarketYear(
        2030,
        ("A", "B"),
        [linear_demand("A", a, b, 50.0)],
        [linear_supply("B", d)],
        [Route("B", "A", "NdPr", t)],
    )
    sol = solve_market(market)
    p_b = (a - b * t) / (b + d)
    assert sol.status == "ok" and sol.termination == "optimal"
    assert sol.price("B", "NdPr") == pytest.approx(p_b, rel=1e-4)
    assert sol.price("A", "NdPr") == pytest.approx(p_b + t, rel=1e-4)
    assert sol.consumption.t.sum() == pytest.approx(d * p_b, rel=1e-4)
    assert sol.trade.t.sum() == pytest.approx(d * p_b, rel=1e-4)
    assert sol.balance_residual < 1e-6 * d * p_b


def test_two_regions_with_both_sides_in_each_matches_closed_form():
    # both regions buy and sell: aggregate demand (a1 + a2) - (b1 + b2) P, supply (d1 + d2) P, no freight
    a1, b1, a2, b2, d1, d2 = 800.0, 6.0, 500.0, 4.0, 5.0, 15.0
    market = MarketYear(
        2030,
        ("A", "B"),
        [linear_demand("A", a1, b1, 30.0), linear_demand("B", a2, b2, 30.0)],
        [linear_supply("A", d1), linear_supply("B", d2)],
        [Route("A", "B", "NdPr", 0.0), Route("B", "A", "NdPr", 0.0)],
    )
    sol = solve_market(market)
    p = (a1 + a2) / (b1 + b2 + d1 + d2)
    assert sol.price("A", "NdPr") == pytest.approx(p, rel=1e-4)
    assert sol.price("B", "NdPr") == pytest.approx(p, rel=1e-4)
    assert sol.consumption.t.sum() == pytest.approx((d1 + d2) * p, rel=1e-4)


def test_binding_export_cap_splits_prices_as_autarky_with_a_fixed_flow():
    # exporter B may ship at most K: A clears a - b P_A = K; B's mine sells K at P_B = K / d
    a, b, d, k = 1000.0, 10.0, 20.0, 200.0
    market = MarketYear(
        2011,
        ("A", "B"),
        [linear_demand("A", a, b, 50.0)],
        [linear_supply("B", d)],
        [Route("B", "A", "NdPr", 0.0)],
        export_caps=[ExportCap("B", "NdPr", k, name="quota")],
    )
    sol = solve_market(market)
    assert sol.price("A", "NdPr") == pytest.approx((a - k) / b, rel=1e-4)
    assert sol.price("B", "NdPr") == pytest.approx(k / d, rel=1e-4)
    assert sol.cap_rent.usd_per_kg.iloc[0] == pytest.approx((a - k) / b - k / d, rel=1e-4)


def test_zero_elasticity_reproduces_the_fixed_price_deck():
    # today's chain: demand does not respond and the world sells at the deck price; the market must give the
    # deck price back and the full reference quantity, whatever the size of demand
    deck = 62.0
    for q_ref in (10.0, 1000.0, 55000.0):
        market = MarketYear(
            2025,
            ("A",),
            [DemandBlock("A", "NdPr", "ev", q_ref, deck, 0.0, choke_price=10 * deck)],
            [SupplyStep("world at the deck price", "A", "NdPr", 1e9, deck)],
        )
        sol = solve_market(market)
        assert sol.price("A", "NdPr") == pytest.approx(deck, rel=1e-6)
        assert sol.consumption.t.iloc[0] == pytest.approx(q_ref, rel=1e-6)
        assert sol.consumption.unmet_t.iloc[0] == pytest.approx(0.0, abs=1e-6 * q_ref)


def test_zero_elasticity_short_of_supply_clears_at_the_choke_price():
    market = MarketYear(
        2025,
        ("A",),
        [DemandBlock("A", "Dy", "ev", 100.0, 300.0, 0.0, choke_price=2000.0)],
        [SupplyStep("mine", "A", "Dy", 60.0, 250.0)],
    )
    sol = solve_market(market)
    assert sol.price("A", "Dy") == pytest.approx(2000.0, rel=1e-6)
    assert sol.consumption.unmet_t.iloc[0] == pytest.approx(40.0, rel=1e-6)


def test_must_run_under_a_price_floor_goes_to_stock_when_unsold():
    market = MarketYear(
        2026,
        ("US",),
        [DemandBlock("US", "NdPr", "ev", 100.0, 60.0, -0.5)],
        [SupplyStep("MP Materials", "US", "NdPr", 1000.0, 80.0, must_run=1000.0)],
    )
    sol = solve_market(market)
    assert sol.production.t.iloc[0] == pytest.approx(1000.0)
    bought = sol.consumption.t.iloc[0]
    assert bought == pytest.approx(market.demand[0].max_quantity, rel=1e-5)  # free at the margin
    assert sol.stock_build.t.sum() == pytest.approx(1000.0 - bought, rel=1e-5)


def test_magnet_plant_passes_oxide_cost_through():
    # a magnet needs 0.3 t NdPr per t; the price of magnets is oxide cost x 0.3 + conversion cost
    market = MarketYear(
        2030,
        ("A",),
        [DemandBlock("A", "magnet", "ev", 1000.0, 50.0, 0.0, choke_price=500.0)],
        [SupplyStep("oxide", "A", "NdPr", 1e6, 60.0)],
        converters=[Converter("plant", "A", "magnet", 5000.0, {"NdPr": 0.3}, cost=25.0)],
    )
    sol = solve_market(market)
    assert sol.price("A", "magnet") == pytest.approx(0.3 * 60.0 + 25.0, rel=1e-6)
    assert sol.production.t.iloc[0] == pytest.approx(300.0, rel=1e-6)


def test_bad_input_names_the_field():
    with pytest.raises(InputError, match="elasticity"):
        DemandBlock("A", "NdPr", "ev", 10.0, 50.0, 0.3)
    with pytest.raises(InputError, match="choke_price"):
        DemandBlock("A", "NdPr", "ev", 10.0, 50.0, 0.0)
    with pytest.raises(InputError, match="unknown region"):
        solve_market(MarketYear(2030, ("A",), [], [SupplyStep("s", "B", "NdPr", 1.0, 1.0)]))


@settings(max_examples=15)
@given(
    q_a=st.floats(100, 5000),
    q_b=st.floats(100, 5000),
    e_a=st.floats(-2.0, -0.05),
    e_b=st.floats(-2.0, -0.05),
    cap_a=st.floats(0, 6000),
    cap_b=st.floats(0, 6000),
    cost_a=st.floats(5, 150),
    cost_b=st.floats(5, 150),
    freight=st.floats(0, 20),
)
def test_no_arbitrage_and_demand_on_its_curve(q_a, q_b, e_a, e_b, cap_a, cap_b, cost_a, cost_b, freight):
    market = MarketYear(
        2030,
        ("A", "B"),
        [DemandBlock("A", "NdPr", "x", q_a, 60.0, e_a), DemandBlock("B", "NdPr", "x", q_b, 60.0, e_b)],
        [SupplyStep("a", "A", "NdPr", cap_a, cost_a), SupplyStep("b", "B", "NdPr", cap_b, cost_b)],
        [Route("A", "B", "NdPr", freight), Route("B", "A", "NdPr", freight)],
    )
    sol = solve_market(market)
    p_a, p_b = sol.price("A", "NdPr"), sol.price("B", "NdPr")
    tol = 1e-3 * max(p_a, p_b, 1.0)
    assert abs(p_a - p_b) <= freight + tol  # no profitable trade left undone
    for _, row in sol.trade.iterrows():  # where goods move, prices differ by the freight
        if row.t > 1e-3:
            assert sol.price(row.destination, "NdPr") - sol.price(row.origin, "NdPr") == pytest.approx(
                freight, abs=tol
            )
    for block, (_, row) in zip(market.demand, sol.consumption.iterrows(), strict=True):
        assert row.t == pytest.approx(
            block.quantity_at(sol.price(block.region, "NdPr")), abs=1e-3 * block.max_quantity
        )
    produced = sol.production.t.sum()
    assert produced == pytest.approx(
        sol.consumption.t.sum() + sol.stock_build.t.sum(), abs=1e-6 * max(produced, 1)
    )
