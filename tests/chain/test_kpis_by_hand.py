"""KPIs of small chains against figures worked out by hand: mine timing and accessible resource, tariffs, feed
sufficiency and years of feed left, smuggling, reagents, raw-export value, value capture, processing share,
HHI by stage, magnet self-sufficiency."""

from __future__ import annotations

import pytest
from chainkit import MIX, PRICES, TEST_PERFORMANCE, fac, kpi, small_chain

from mine2magnet.chain import ChainNetwork, Smuggling, TradeLink, Window, YearSeries, simulate

BASKET = sum(MIX[e] * PRICES[e] for e in MIX)  # USD per t of mixed REO at separated-oxide prices


def flow(result, source, target):
    f = result.tables["flows"]
    return float(f[(f.source == source) & (f.target == target)].t.sum())


def flow_el(result, source, target, el):
    f = result.tables["flows"]
    return float(f[(f.source == source) & (f.target == target) & (f.element == el)].t.sum())


def _with_mine(chain, **attrs):
    """`chain` with its mine's attributes replaced by parsed `attrs`."""
    raw = {
        "country": "A",
        "product": "mrec",
        "composition": MIX,
        "capacity": "1000 t/yr",
        "cost": "1000 USD/t",
        "royalty_rate": 0.1,
        **attrs,
    }
    new = fac("mines", "Mine", **raw)
    chain.network = ChainNetwork({**chain.network.facilities, "Mine": new}, chain.network.links)
    return chain


def test_permitting_ramp_up_and_accessible_resource_set_the_mine_output():
    # decided 2024 + 2 years of permitting -> first output 2026 at half capacity (1-year ramp), full in 2027;
    # 40 % of 5,000 t accessible = 2,000 t: 500 t (2026) + 1,000 t (2027) + the last 500 t (2028), then none
    chain = _with_mine(
        small_chain(years=list(range(2024, 2030))),
        decision_year=2024,
        permitting_lead_time="2 yr",
        ramp_up="1 yr",
        resource="5000 t",
        accessible_fraction=0.4,
    )
    r = simulate(chain)
    prod = r.tables["kpis"].query("kpi == 'production_t' and facility == 'Mine'").groupby("year").value.sum()
    prod = prod.reindex(range(2024, 2030), fill_value=0.0)
    assert list(prod) == pytest.approx([0.0, 0.0, 500.0, 1000.0, 500.0, 0.0], abs=1e-6)
    left = r.tables["stocks"].query("stock == 'resource' and facility == 'Mine'").groupby("year").t.sum()
    assert left[2026] == pytest.approx(1500.0) and left[2029] == pytest.approx(0.0, abs=1e-6)
    # refinery (800 t/yr): fed 500 t in 2026, 800 t in 2027 (the other 200 t sold raw), 500 t in 2028
    assert kpi(r, "feed_sufficiency", "Refinery", year=2026) == pytest.approx(500 / 800)
    assert kpi(r, "feed_sufficiency", "Refinery", year=2027) == pytest.approx(1.0)
    # years of feed left: accessible resource at the start of the year / this year's feed (or capacity)
    assert kpi(r, "feed_years_left", "Refinery", year=2026) == pytest.approx(2000 / 500)
    assert kpi(r, "feed_years_left", "Refinery", year=2027) == pytest.approx(1500 / 800)
    assert kpi(r, "feed_years_at_capacity", "Refinery", year=2026) == pytest.approx(2000 / 800)
    assert r.mass_balance_error < 1e-6


def test_smuggling_leaks_outside_the_formal_chain_and_costs_royalties_and_taxes():
    leak = Smuggling(
        "Illegal mining", "A", YearSeries.constant(300.0), MIX, "Raw buyers", "mrec", 0.2, Window()
    )
    plain, smuggled = simulate(small_chain()), simulate(small_chain(policies=[leak]))
    f = smuggled.tables["flows"]
    informal = f[f.informal]
    assert set(informal.target) == {"Raw buyers"}
    assert informal.t.sum() == pytest.approx(300.0, rel=1e-9)
    for e, share in MIX.items():  # the leak carries its stated composition
        assert informal[informal.element == e].t.sum() == pytest.approx(300.0 * share, rel=1e-9)
    assert kpi(smuggled, "smuggled_t") == pytest.approx(300.0)
    # lost: 20 % of the value at the destination (MREC payability 0.6, price factor 1)
    assert kpi(smuggled, "smuggling_loss_usd") == pytest.approx(0.2 * 300.0 * 0.6 * BASKET, rel=1e-9)
    # the formal chain is unchanged: same mine output, refinery feed, royalties and processing share
    for name in ("royalties_usd", "feed_sufficiency", "domestic_processing_share"):
        assert kpi(smuggled, name) == pytest.approx(kpi(plain, name), rel=1e-9), name
    assert flow(smuggled, "Mine", "Raw buyers") == pytest.approx(flow(plain, "Mine", "Raw buyers"))
    assert smuggled.mass_balance_error < 1e-6


def test_smuggling_at_its_traded_value_costs_the_rate_times_that_value():
    """With a unit value (USD/t TREO, e.g. the customs value of such shipments), the loss is
    rate x t x unit value, whatever the price deck says; the flows are those of the default valuation."""
    at_deck = Smuggling(
        "Illegal mining", "A", YearSeries.constant(300.0), MIX, "Raw buyers", "mrec", 0.2, Window()
    )
    at_customs = Smuggling(
        "Illegal mining",
        "A",
        YearSeries.constant(300.0),
        MIX,
        "Raw buyers",
        "mrec",
        0.2,
        Window(),
        unit_value=YearSeries({2026: 12_000.0, 2027: 15_000.0}),
    )
    years = [2026, 2027]
    deck = simulate(small_chain(policies=[at_deck], years=years))
    customs = simulate(small_chain(policies=[at_customs], years=years))
    assert kpi(customs, "smuggling_loss_usd", year=2026) == pytest.approx(0.2 * 300.0 * 12_000.0, rel=1e-12)
    assert kpi(customs, "smuggling_loss_usd", year=2027) == pytest.approx(0.2 * 300.0 * 15_000.0, rel=1e-12)
    f_deck, f_customs = deck.tables["flows"], customs.tables["flows"]
    assert f_customs[f_customs.informal].t.sum() == pytest.approx(f_deck[f_deck.informal].t.sum(), rel=1e-12)


def test_reagents_raw_export_value_capture_and_processing_share():
    r = simulate(small_chain())  # 1,000 t mined: 800 t refined at home, 200 t sold raw
    assert kpi(r, "reagent_t", "Refinery") == pytest.approx(
        800 * TEST_PERFORMANCE.reagents_t_per_t_reo["HCl"]
    )
    assert kpi(r, "raw_export_value_usd") == pytest.approx(1000 * 0.6 * BASKET, rel=1e-9)
    assert kpi(r, "domestic_processing_share") == pytest.approx(0.8, rel=1e-9)
    # value added at home (mining 0.6 x basket on 1,000 t + separation 0.3 x basket on 800 t) over the value
    # of the 1,000 t as separated oxides
    assert kpi(r, "value_capture_ratio") == pytest.approx((600 + 240) / 1000, rel=1e-9)


def test_hhi_by_stage_counts_production_by_country():
    other = fac(
        "mines",
        "Mine C",
        country="C",
        product="mrec",
        composition=MIX,
        capacity="500 t/yr",
        cost="1000 USD/t",
    )
    chain = small_chain(extra=[other], extra_links=[TradeLink("Mine C", "Raw buyers", "mrec", cost=100.0)])
    r = simulate(chain)
    assert flow(r, "Mine C", "Raw buyers") == pytest.approx(500.0)  # 0.6 x basket pays its costs
    assert kpi(r, "hhi", "mining") == pytest.approx((1000**2 + 500**2) / 1500**2, rel=1e-9)
    assert kpi(r, "hhi", "separation") == pytest.approx(1.0)


def test_a_mine_without_accessible_resource_produces_nothing():
    chain = _with_mine(small_chain(), resource="5000 t", accessible_fraction=0.0)
    r = simulate(chain)
    assert kpi(r, "production_t", "Mine") == pytest.approx(0.0, abs=1e-9)
    assert kpi(r, "unmet_demand_t") == pytest.approx(100.0, rel=1e-6)  # the demand market goes short


def test_magnet_self_sufficiency_is_the_domestic_share_of_the_plants_need():
    # a 500 t/yr magnet plant in A buys oxide from the domestic refinery and from an importer in B. The demand
    # market takes 80 t Nd and 20 t Pr first (it pays a 20 % premium); domestic oxide left for the plant:
    # Dy 800 x 0.04 x 0.9 = 28.8 t, Nd 800 x 0.2 x 0.9 - 80 = 64 t, Pr 800 x 0.06 x 0.9 - 20 = 23.2 t (cheaper
    # than imports at the full price); the rest of the plant's need is imported.
    from mine2magnet.elements import element

    bom = {"Nd": 0.2, "Pr": 0.05, "Dy": 0.07}
    plant = fac(
        "magnet_plants",
        "Magnets",
        country="A",
        bom=bom,
        capacity="500 t/yr",
        metal_yield=0.95,
        magnet_yield=0.9,
    )
    buyers = fac("markets", "Magnet buyers", country="B", commodity="magnet", open=True)
    imports = fac(
        "suppliers",
        "Imports",
        country="B",
        commodity="oxide",
        composition={"Nd": 0.5, "Pr": 0.2, "Dy": 0.3},
        capacity="1000 t/yr",
    )
    chain = small_chain(
        extra=[plant, buyers, imports],
        extra_links=[
            TradeLink("Refinery", "Magnets", "oxide", 1.0),
            TradeLink("Imports", "Magnets", "oxide", 1.0),
            TradeLink("Magnets", "Magnet buyers", "magnet", 1.0),
        ],
    )
    r = simulate(chain)
    domestic = {"Dy": 28.8, "Nd": 64.0, "Pr": 23.2}
    k = r.tables["kpis"].query("kpi == 'magnet_self_sufficiency'").set_index("element").value
    for el, kg in bom.items():
        need = 500 * kg * element(el).oxide_per_element / (0.95 * 0.9)
        assert flow_el(r, "Refinery", "Magnets", el) == pytest.approx(domestic[el], rel=1e-6)
        assert flow_el(r, "Imports", "Magnets", el) == pytest.approx(need - domestic[el], rel=1e-6)
        assert k[el] == pytest.approx(domestic[el] / need, rel=1e-6)
    assert r.mass_balance_error < 1e-6


def test_a_solution_that_loses_material_is_an_error_not_a_number(monkeypatch):
    # the yearly mass-balance check is independent of the solver: a solution with 1 t of Nd sold that was
    # never produced must stop the run with ConvergenceError naming the year and the element
    import numpy as np

    from mine2magnet.chain import simulation
    from mine2magnet.errors import ConvergenceError

    solve = simulation.solve_year

    def leaky(problem):
        sol = solve(problem)
        j = sol.elements.index("Nd")
        sale = sol.sale["Open"].copy()
        sale[j] += 1.0
        sol.sale["Open"] = np.asarray(sale)
        return sol

    monkeypatch.setattr(simulation, "solve_year", leaky)
    with pytest.raises(ConvergenceError, match=r"2024.*Nd"):
        simulate(small_chain())


def test_an_ad_valorem_tariff_prices_raw_exports_out_above_its_break_even():
    # a raw sale nets 0.6 x basket x (1 - tariff) - 100 freight - 1,000 mining per t: it pays below
    # tariff* = 1 - 1,100 / (0.6 x basket) (0.92 here) and not above, when the 200 t the refinery cannot
    # take stay in the ground
    break_even = 1 - 1100 / (0.6 * BASKET)
    assert 0.5 < break_even < 0.95
    for tariff, raw in ((0.5, 200.0), (0.95, 0.0)):
        chain = small_chain()
        links = tuple(
            TradeLink(x.source, x.target, x.commodity, cost=x.cost, tariff=tariff)
            if x.target == "Raw buyers"
            else x
            for x in chain.network.links
        )
        chain.network = ChainNetwork(chain.network.facilities, links)
        r = simulate(chain)
        assert flow(r, "Mine", "Raw buyers") == pytest.approx(raw, abs=1e-6), tariff
        assert flow(r, "Mine", "Refinery") == pytest.approx(800.0, rel=1e-6)
        assert kpi(r, "production_t", "Mine") == pytest.approx(800.0 + raw, rel=1e-6)
