"""Refinery product choices, feed capacity per input, opening residue, export licensing, licence conditions.

Each expected figure is worked out by hand from the test double in chainkit (90 % of each element to oxide,
2 t WLP per t REO at 6 Bq/g) and the mine's element mix.
"""

from __future__ import annotations

import pytest
from chainkit import MIX, PRICES, TEST_PERFORMANCE, fac, kpi, small_chain
from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.chain import (
    ExportLicensing,
    LicenceCondition,
    TradeLink,
    Window,
    YearSeries,
    simulate,
)
from mine2magnet.chain.simulation import product_slate, rejected_share, start_share


def test_start_share_counts_the_months_from_the_start():
    assert start_share("2025-05", 2024) == 0.0
    assert start_share("2025-05", 2025) == pytest.approx(8 / 12)
    assert start_share("2025-05", 2026) == 1.0
    assert start_share(2025, 2025) == 1.0


@given(st.floats(0, 10), st.floats(0, 10), st.floats(0, 20))
def test_rejected_share_is_the_part_of_the_cost_range_above_the_price(a, b, price):
    low, high = min(a, b), max(a, b)
    share = rejected_share((low, high), price)
    assert 0.0 <= share <= 1.0
    if price >= high:
        assert share == 0.0
    if price < low:
        assert share == 1.0
    if low < price < high:
        assert share == pytest.approx((high - price) / (high - low))


def _refinery(**attrs):
    return fac(
        "refineries",
        "R",
        country="A",
        flowsheet="test-flowsheet",
        feeds={"mrec": "test-feed"},
        **attrs,
    )


def test_product_slate_moves_an_element_to_mixed_oxide_before_its_start():
    from chainkit import deck

    f = _refinery(product_start={"Dy": "2025-07"})
    before = product_slate(f, TEST_PERFORMANCE, ["Nd", "Dy"], 2024, deck())
    during = product_slate(f, TEST_PERFORMANCE, ["Nd", "Dy"], 2025, deck())
    assert before["oxide"][1] == 0.0 and before["mixed_oxide"][1] == pytest.approx(0.9)
    assert during["oxide"][1] == pytest.approx(0.9 * 0.5)
    assert during["oxide"][0] == pytest.approx(0.9)  # Nd untouched


def test_a_new_circuit_separates_what_the_flowsheet_left_mixed_from_its_start():
    import dataclasses

    from chainkit import deck

    perf = dataclasses.replace(TEST_PERFORMANCE, yields={"oxide": {"Nd": 0.9}, "mixed_oxide": {"Sm": 0.8}})
    f = _refinery(separate_from={"Sm": "2026-04"})
    before = product_slate(f, perf, ["Nd", "Sm"], 2025, deck())
    during = product_slate(f, perf, ["Nd", "Sm"], 2026, deck())
    after = product_slate(f, perf, ["Nd", "Sm"], 2027, deck())
    assert before["oxide"][1] == 0.0 and before["mixed_oxide"][1] == pytest.approx(0.8)
    assert during["oxide"][1] == pytest.approx(0.8 * 9 / 12) and during["mixed_oxide"][1] == pytest.approx(
        0.2
    )
    assert after["oxide"][1] == pytest.approx(0.8) and after["mixed_oxide"][1] == 0.0


def test_a_refinery_rejects_the_share_of_la_its_price_does_not_pay_for():
    # La sells at 1,000 USD/t; a separation cost range of [500, 2,500] USD/t leaves 75 % of the La unpaid
    model = small_chain(ref_cap="5000 t/yr", refinery={"reject_cost": {"La": ["500 USD/t", "2500 USD/t"]}})
    r = simulate(model)
    mined = kpi(r, "production_t", facility="Mine")
    la_out = kpi(r, "production_t", facility="Refinery", element="La")
    nd_out = kpi(r, "production_t", facility="Refinery", element="Nd")
    assert la_out == pytest.approx(mined * MIX["La"] * 0.9 * 0.25, rel=1e-6)
    assert nd_out == pytest.approx(mined * MIX["Nd"] * 0.9, rel=1e-6)
    assert r.mass_balance_error < 1e-6
    assert PRICES["La"] == 1000.0


def test_feed_capacity_of_one_input_binds_below_the_total():
    model = small_chain(ref_cap="800 t/yr", refinery={"feed_capacity": {"mrec": "300 t/yr"}})
    r = simulate(model)
    fed = r.tables["flows"].query("target == 'Refinery'").t.sum()
    assert fed == pytest.approx(300.0, rel=1e-6)


def test_opening_residue_is_carried_with_its_activity():
    model = small_chain(
        refinery={"initial_residue": {"WLP": "1000 t"}, "initial_residue_activity": {"WLP": "6 Bq/g"}}
    )
    r = simulate(model)
    fed = r.tables["flows"].query("target == 'Refinery'").t.sum()
    wlp = r.tables["stocks"].query("facility == 'Refinery' and stock == 'residue:WLP'").t.sum()
    assert wlp == pytest.approx(1000.0 + 2.0 * fed, rel=1e-9)
    bq = kpi(r, "residue_accumulated_bq", facility="Refinery")
    assert bq == pytest.approx((1000.0 + 2.0 * fed) * 1e6 * 6.0, rel=1e-9)


def test_licence_condition_closes_the_feed_whose_residue_is_too_active():
    cond = LicenceCondition("WLP < 1 Bq/g", "Refinery", "WLP", 1.0, ("mrec",), Window(2025, 2100))
    r = simulate(small_chain(policies=[cond], years=[2024, 2025]))
    fed = r.tables["flows"].query("target == 'Refinery'").groupby("year").t.sum()
    assert fed.get(2024, 0.0) > 0.0
    assert fed.get(2025, 0.0) == 0.0
    lenient = LicenceCondition("WLP < 10 Bq/g", "Refinery", "WLP", 10.0, ("mrec",), Window(2025, 2100))
    r2 = simulate(small_chain(policies=[lenient], years=[2025]))
    assert r2.tables["flows"].query("target == 'Refinery'").t.sum() > 0.0


def test_export_licensing_cuts_a_supplier_to_the_approved_share_from_its_start_month():
    policy = ExportLicensing(
        "licences", "CN", ("Dy",), YearSeries.constant(0.4), start_month=4, years=Window(2025)
    )
    assert policy.factor("Dy", "oxide", "CN", 2024) == 1.0
    assert policy.factor("Dy", "oxide", "CN", 2025) == pytest.approx(1 - 9 / 12 * 0.6)
    assert policy.factor("Dy", "oxide", "CN", 2026) == pytest.approx(0.4)
    assert policy.factor("Nd", "oxide", "CN", 2026) == 1.0
    assert policy.factor("Dy", "oxide", "US", 2026) == 1.0
    supplier = fac(
        "suppliers",
        "China",
        country="CN",
        commodity="oxide",
        composition={"Nd": 0.5, "Dy": 0.5},
        capacity="1000 t/yr",
    )
    base = small_chain(extra=[supplier], extra_links=[TradeLink("China", "Demand", "oxide")], years=[2026])
    capped = small_chain(
        extra=[supplier],
        extra_links=[TradeLink("China", "Demand", "oxide")],
        years=[2026],
        policies=[policy],
        demand="5000 t/yr",
    )
    r = simulate(capped)
    dy = r.tables["flows"].query("source == 'China' and element == 'Dy'").t.sum()
    assert dy <= 0.4 * 500.0 + 1e-6
    assert simulate(base).mass_balance_error < 1e-6


def test_a_lagged_reject_decision_uses_the_previous_years_price():
    # La at 1,000 USD/t in 2024 and 2,000 in 2025; cost range [500, 2,500] USD/t. Decided on 2025's
    # price the unpaid share is (2,500 - 2,000) / 2,000 = 25 %; on 2024's, (2,500 - 1,000) / 2,000 = 75 %.
    import dataclasses

    from chainkit import deck

    from mine2magnet.chain import YearSeries

    d = deck()
    d = dataclasses.replace(d, oxide={**d.oxide, "La": YearSeries({2024: 1000.0, 2025: 2000.0})})
    same_year = _refinery(reject_cost={"La": ["500 USD/t", "2500 USD/t"]})
    lagged = _refinery(reject_cost={"La": ["500 USD/t", "2500 USD/t"]}, reject_price_lag=1)

    def oxide(f, year):
        return product_slate(f, TEST_PERFORMANCE, ["La"], year, d)["oxide"][0]

    assert oxide(same_year, 2025) == pytest.approx(0.9 * 0.75)
    assert oxide(lagged, 2025) == pytest.approx(0.9 * 0.25)
    assert oxide(lagged, 2024) == pytest.approx(0.9 * 0.25)
