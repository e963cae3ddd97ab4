"""Accounts of a small hand-worked chain (one mine, one refinery, one magnet plant), checked line by line
against a spreadsheet-style calculation written here from the run's tonnages and the inputs."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chain"))
from chainkit import PRICES, TEST_PERFORMANCE, fac, small_chain

from mine2magnet.chain import TradeLink, YearSeries, simulate
from mine2magnet.economics import EconomicInputs, capital_recovery_factor, facility_accounts

BREAKDOWN = {"reagent:HCl": 500.0, "energy:electricity": 100.0, "labour": 300.0, "maintenance": 100.0}
PERF = dataclasses.replace(
    TEST_PERFORMANCE,
    opex_usd_per_t_reo=1000.0,
    opex_breakdown_usd_per_t_reo=BREAKDOWN,
    capex_usd_per_t_reo=2000.0,
)
INPUTS = EconomicInputs(
    myr_per_usd=YearSeries.constant(4.5),
    corporate_tax_rate=0.24,
    wage_usd={"mining": 20_000.0, "separation": 30_000.0, "magnet": 25_000.0},
    jobs_per_t={"mining": 0.01, "separation": 0.05, "magnet": 0.5},
    capex_usd_per_t={"mining": 5_000.0, "separation": 9_999.0, "magnet": 20_000.0},
    asset_life={"mining": 20.0, "separation": 20.0, "magnet": 15.0},
    discount_rate=0.08,
    magnet_materials_usd_per_t=8_000.0,
)


def _chain(foreign: float = 0.0):
    magnets = fac(
        "magnet_plants",
        "Magnets",
        country="A",
        input="oxide",
        bom={"Nd": 0.2, "Pr": 0.05, "Dy": 0.07},
        capacity="100 t/yr",
        cost="5000 USD/t",
    )
    buyers = fac("markets", "Magnet buyers", country="B", commodity="magnet", open=True)
    model = small_chain(
        ref_cap="800 t/yr",
        extra=[magnets, buyers],
        extra_links=[
            TradeLink("Refinery", "Magnets", "oxide"),
            TradeLink("Magnets", "Magnet buyers", "magnet"),
        ],
        refinery={"foreign_ownership": foreign},
    )
    model.performances.put(PERF, 800.0)
    return model


@pytest.fixture(scope="module")
def run():
    model = _chain()
    result = simulate(model)
    return model, result, facility_accounts(model, result, INPUTS)


def _item(table: pd.DataFrame, facility: str, item: str) -> float:
    return float(table[(table.facility == facility) & (table.item == item) & (table.year == 2024)].usd.sum())


def _sold(
    result, source: str, payability: float, factors: dict[str, float], target: str | None = None
) -> float:
    f = result.tables["flows"]
    f = f[(f.source == source) & (f.commodity != "residue")]
    if target is not None:
        f = f[f.target == target]
    return float(
        sum(r.t * PRICES[r.element] * payability * factors.get(r.target, 1.0) for r in f.itertuples())
    )


def test_mine_account_by_hand(run):
    _, result, table = run
    mined = float(result.kpi("production_t").query("facility == 'Mine'").value.sum())
    output = _sold(result, "Mine", 0.6, {})  # carbonate at 60 % of its oxides' value
    wages = 20_000.0 * 0.01 * mined  # 0.01 jobs per t/yr of 1,000 t/yr capacity, at the utilisation
    other = 1_000.0 * mined - wages  # the rest of a cash cost of 1,000 USD/t
    royalties = 0.1 * output
    surplus = output - other - wages - royalties
    charge = 5_000.0 * 1_000.0 * capital_recovery_factor(0.08, 20.0)
    tax = 0.24 * max(surplus - charge, 0.0)
    expected = {
        "output": output,
        "intermediate": other,
        "wages": wages,
        "royalties": royalties,
        "surplus": surplus,
        "capital_charge": charge,
        "corporate_tax": tax,
        "profit": surplus - charge - tax,
        "value_added": output - other,
        "jobs": 0.01 * mined,
    }
    for item, value in expected.items():
        assert _item(table, "Mine", item) == pytest.approx(value, rel=1e-9, abs=1e-6), item
    assert _item(table, "Mine", "value_added") * 4.5 == pytest.approx(
        float(table.query("facility == 'Mine' and item == 'value_added'").myr.sum()), rel=1e-12
    )


def test_refinery_account_uses_the_flowsheet_costs(run):
    _, result, table = run
    fed = float(result.tables["flows"].query("target == 'Refinery'").t.sum())
    bought = _sold(result, "Mine", 0.6, {}, target="Refinery")
    assert _item(table, "Refinery", "re_inputs") == pytest.approx(bought, rel=1e-9)
    assert _item(table, "Refinery", "reagents") == pytest.approx(500.0 * fed, rel=1e-9)
    assert _item(table, "Refinery", "energy") == pytest.approx(100.0 * fed, rel=1e-9)
    assert _item(table, "Refinery", "wages") == pytest.approx(300.0 * fed, rel=1e-9)
    assert _item(table, "Refinery", "other_inputs") == pytest.approx(100.0 * fed, rel=1e-9)
    sold = _sold(result, "Refinery", 1.0, {"Demand": 1.2, "Open": 0.8})
    assert _item(table, "Refinery", "output") == pytest.approx(sold, rel=1e-9)
    # capex: the flowsheet's 2,000 USD per t/yr of feed x the 800 t/yr capacity
    assert _item(table, "Refinery", "capital_charge") == pytest.approx(
        2_000.0 * 800.0 * capital_recovery_factor(0.08, 20.0), rel=1e-9
    )


def test_income_and_production_approaches_agree(run):
    _, _, table = run
    wide = table.pivot_table(index=["year", "facility"], columns="item", values="usd", aggfunc="sum")
    producers = wide[wide["output"].notna()]
    assert len(producers) >= 3
    for _, row in producers.iterrows():
        scale = max(abs(row["value_added"]), abs(row["output"]), 1.0)
        assert abs(row["value_added"] - row["value_added_output"]) <= 1e-9 * scale


def test_magnet_plant_pays_for_its_non_rare_earth_materials(run):
    _, result, table = run
    made_reo = float(result.kpi("production_t").query("facility == 'Magnets'").value.sum())
    if made_reo <= 0:
        pytest.skip("the magnet plant idles in this chain")
    content = 0.2 * 1.1664 + 0.05 * 1.2082 + 0.07 * 1.1477  # t REO per t magnet (oxide per metal)
    assert _item(table, "Magnets", "materials") == pytest.approx(8_000.0 * made_reo / content, rel=2e-3)


def test_foreign_ownership_moves_profit_out_of_national_value_added_and_nothing_else():
    base_model, owned_model = _chain(0.0), _chain(0.5)
    base = facility_accounts(base_model, simulate(base_model), INPUTS)
    owned = facility_accounts(owned_model, simulate(owned_model), INPUTS)
    merged = base.merge(owned, on=["year", "facility", "item"], suffixes=("_base", "_owned"))
    changed = merged[
        ~merged.apply(lambda r: math.isclose(r.usd_base, r.usd_owned, rel_tol=1e-12, abs_tol=1e-9), axis=1)
    ]
    assert set(changed.facility) == {"Refinery"}
    assert set(changed["item"]) == {"foreign_income", "national_value_added"}
    profit = _item(base, "Refinery", "profit") + _item(base, "Refinery", "capital_charge")
    assert _item(owned, "Refinery", "foreign_income") == pytest.approx(0.5 * profit, rel=1e-12)
    assert _item(owned, "Refinery", "national_value_added") == pytest.approx(
        _item(base, "Refinery", "value_added") - 0.5 * profit, rel=1e-12
    )


def test_a_tax_holiday_exempts_the_years_it_covers():
    model = _chain()
    model.network.facilities["Refinery"].attrs["tax_holiday_until"] = 2024
    table = facility_accounts(model, simulate(model), INPUTS)
    assert _item(table, "Refinery", "corporate_tax") == 0.0
