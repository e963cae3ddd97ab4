"""The backtest's arithmetic on a hand-made run: periods converted by month, stocks by date, statuses."""

from __future__ import annotations

import datetime as dt
import json
from types import MappingProxyType

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.analysis import backtest, check_measure, compare
from mine2magnet.chain import ChainResult, PriceDeck, YearSeries
from mine2magnet.data import Observation, Period, Source
from mine2magnet.errors import InputError

SOURCE = Source(
    "test-source", "A test report", "Test publisher", "2025", "company", url="https://example.org"
)


def _result() -> ChainResult:
    flows = pd.DataFrame(
        [
            {
                "year": 2024,
                "source": "Mine",
                "target": "Plant",
                "commodity": "mrec",
                "element": "Nd",
                "t": 1200.0,
            },
            {
                "year": 2025,
                "source": "Mine",
                "target": "Plant",
                "commodity": "mrec",
                "element": "Nd",
                "t": 2400.0,
            },
            {
                "year": 2025,
                "source": "Mine",
                "target": "Plant",
                "commodity": "mrec",
                "element": "La",
                "t": 600.0,
            },
        ]
    ).assign(value_usd=0.0)
    kpis = pd.DataFrame(
        [
            {
                "year": 2024,
                "kpi": "production_t",
                "facility": "Plant",
                "element": "Nd",
                "value": 1000.0,
                "unit": "t",
                "detail": "oxide",
            },
            {
                "year": 2025,
                "kpi": "production_t",
                "facility": "Plant",
                "element": "Nd",
                "value": 2000.0,
                "unit": "t",
                "detail": "oxide",
            },
            {
                "year": 2025,
                "kpi": "production_t",
                "facility": "Plant",
                "element": "Sm",
                "value": 500.0,
                "unit": "t",
                "detail": "mixed_oxide",
            },
            {
                "year": 2024,
                "kpi": "production_t",
                "facility": "Mine",
                "element": "Nd",
                "value": 1200.0,
                "unit": "t",
                "detail": "mrec",
            },
            {
                "year": 2024,
                "kpi": "production_t",
                "facility": "Leak",
                "element": "",
                "value": 300.0,
                "unit": "t",
                "detail": "",
            },
        ]
    )
    stocks = pd.DataFrame(
        [
            {"year": 2024, "facility": "Plant", "stock": "residue:WLP", "element": "", "t": 5000.0},
            {"year": 2025, "facility": "Plant", "stock": "residue:WLP", "element": "", "t": 7000.0},
        ]
    )
    facilities = pd.DataFrame(
        [
            {"facility": "Mine", "type": "mine", "country": "M"},
            {"facility": "Plant", "type": "refinery", "country": "M"},
            {"facility": "Leak", "type": "informal_mine", "country": "M"},
        ]
    )
    tables = {"flows": flows, "kpis": kpis, "stocks": stocks, "facilities": facilities}
    return ChainResult("test", [], [2024, 2025], tables, 0.0)


DECK = PriceDeck(
    {"Nd": YearSeries({2024: 40_000.0, 2025: 60_000.0})}, magnet_usd_per_t=YearSeries.constant(5e4)
)


def _obs(
    period: str, value: float, model: dict, unit: str = "t", tolerance: float = 0.1, **kw
) -> Observation:
    return Observation(
        key=f"test.{period}",
        quantity="facility_output",
        subject="Plant",
        period=Period.parse(period),
        value=value,
        unit=unit,
        source=SOURCE,
        kind="reported",
        tolerance=tolerance,
        tolerance_basis="test",
        model=MappingProxyType(model),
        **kw,
    )


OUTPUT = {"measure": "facility_output", "facility": "Plant"}


@pytest.mark.parametrize(
    ("period", "model", "expected"),
    [
        ("2024", OUTPUT, 1000.0),
        ("FY2025", OUTPUT, 0.5 * 1000.0 + 0.5 * 2500.0),  # July 2024 - June 2025
        ("FY2025Q1", OUTPUT, 0.25 * 1000.0),  # July - September 2024
        ("2025Q2", {**OUTPUT, "elements": ["Nd"]}, 0.25 * 2000.0),
        ("2025", {**OUTPUT, "commodities": ["mixed_oxide"]}, 500.0),
        ("FY2025", {"measure": "flow", "source": "Mine", "target": "Plant", "elements": ["Nd"]}, 1800.0),
        ("2025", {"measure": "facility_input", "facility": "Plant"}, 3000.0),
        ("2024", {"measure": "mine_output", "country": "M"}, 1200.0),
        ("2024", {"measure": "mine_output", "country": "M", "informal": "include"}, 1500.0),
        ("2024-12-31", {"measure": "stock", "facility": "Plant", "stock": "residue:WLP"}, 5000.0),
    ],
)
def test_modelled_counterparts_by_hand(period, model, expected):
    c = compare(_obs(period, expected, model), _result(), DECK)
    assert c.model == pytest.approx(expected)
    assert c.status == "pass" and c.ratio == pytest.approx(1.0)


def test_a_residue_stock_inside_a_year_accrues_evenly_from_the_opening_stock():
    r = _result()
    extra = pd.DataFrame(
        [
            {
                "year": 2025,
                "kpi": "residue_produced_t",
                "facility": "Plant",
                "element": "",
                "value": 2000.0,
                "unit": "t",
                "detail": "WLP",
            }
        ]
    )
    r.tables["kpis"] = pd.concat([r.tables["kpis"], extra], ignore_index=True)
    c = compare(
        _obs("2025-07-02", 6000.0, {"measure": "stock", "facility": "Plant", "stock": "residue:WLP"}), r, DECK
    )
    assert c.model == pytest.approx(7000.0 - 2000.0 * (1 - 183 / 365))


def test_prices_are_averaged_over_the_period_in_usd_per_kg():
    c = compare(_obs("FY2025", 50.0, {"measure": "price", "element": "Nd"}, unit="USD/kg"), _result(), DECK)
    assert c.model == pytest.approx(50.0)  # half a year at 40, half at 60
    c = compare(_obs("2025", 50.0, {"measure": "magnet_price"}, unit="USD/kg"), _result(), DECK)
    assert c.model == pytest.approx(50.0)


def test_a_rate_over_a_year_is_compared_as_a_tonnage_and_units_convert():
    c = compare(_obs("2024", 1.0, OUTPUT, unit="kt/yr"), _result(), DECK)
    assert c.model == pytest.approx(1.0) and c.status == "pass"


def test_statuses():
    r = _result()
    assert compare(_obs("2024", 1200.0, OUTPUT, tolerance=0.2), r, DECK).status == "pass"
    fail = compare(_obs("2024", 1200.0, OUTPUT, tolerance=0.1), r, DECK)
    assert fail.status == "fail" and "0.83" in fail.reason
    miss = compare(_obs("2024", 1200.0, OUTPUT, tolerance=0.1, known_miss="a reason"), r, DECK)
    assert miss.status == "known miss" and miss.reason == "a reason"
    assert compare(_obs("2023", 1.0, OUTPUT), r, DECK).status == "outside run"
    assert compare(
        _obs("2018-12-31", 1.0, {"measure": "stock", "facility": "Plant", "stock": "x"}), r, DECK
    ).status == ("outside run")
    assert compare(_obs("2024", 1.0, {**OUTPUT, "facility": "Nowhere"}), r, DECK).status == "outside run"
    assert compare(_obs("2024", 1.0, {}), r, DECK).status == "not modelled"


def test_an_unknown_measure_or_a_missing_argument_is_refused():
    with pytest.raises(InputError, match="measure"):
        check_measure(_obs("2024", 1.0, {"measure": "gdp"}))
    with pytest.raises(InputError, match="facility"):
        check_measure(_obs("2024", 1.0, {"measure": "stock", "stock": "residue:WLP"}))


def test_json_rows_carry_the_contract_keys():
    bt = backtest(_result(), DECK, [_obs("2024", 1000.0, OUTPUT), _obs("2023", 1.0, OUTPUT)])
    payload = json.loads(json.dumps(bt.to_dict()))
    row = payload["observations"][0]
    assert {"key", "year", "model", "published", "ratio", "tolerance", "pass"} <= set(row)
    assert row["pass"] is True and row["year"] == 2024
    assert payload["not_compared"][0]["status"] == "outside run"
    assert bt.counts()["pass"] == 1 and len(bt.to_frame()) == 2


@given(
    st.sampled_from(["", "FY"]),
    st.integers(1990, 2030),
    st.sampled_from(["", "Q1", "Q2", "Q3", "Q4"]),
    st.integers(1, 12),
)
def test_year_weights_cover_the_period_months(prefix, year, quarter, fy_end):
    period = Period.parse(f"{prefix}{year}{quarter}", fiscal_year_end=fy_end)
    weights = period.year_weights()
    assert sum(weights.values()) == pytest.approx((3 if quarter else 12) / 12)
    assert period.start <= period.end
    assert (period.end - period.start).days + 1 in ((range(89, 93)) if quarter else (365, 366))
    if prefix and not quarter:
        assert (period.end.year, period.end.month) == (year, fy_end)


def test_periods_parse_as_published():
    fy = Period.parse("FY2025")
    assert (fy.start, fy.end) == (dt.date(2024, 7, 1), dt.date(2025, 6, 30))
    assert Period.parse("FY2026Q2").start == dt.date(2025, 10, 1)
    assert Period.parse("2018-12-31").stock_year == 2018
    assert Period.parse("2019-08-15").stock_year == 2018
    for bad in ("FY25", "2024Q5", "2024-13", "2024-02-30", "last year"):
        with pytest.raises(InputError):
            Period.parse(bad)


def _with_accounts(result: ChainResult) -> ChainResult:
    accounts = pd.DataFrame(
        [
            {"year": 2024, "facility": "Plant", "item": "output", "usd": 100e6},
            {"year": 2025, "facility": "Plant", "item": "output", "usd": 300e6},
            {"year": 2025, "facility": "Plant", "item": "wages", "usd": 7e6},
            {"year": 2025, "facility": "Mine", "item": "output", "usd": 50e6},
        ]
    )
    return ChainResult("test", [], result.years, {**result.tables, "accounts": accounts}, 0.0)


def test_a_revenue_in_another_currency_is_converted_at_each_years_rate():
    # FY2025 = half of 2024 (USD 100 M at 1.5 AUD/USD) + half of 2025 (USD 300 M at 1.6): A$ 75 + 240 = 315 M
    rates = {"AUD": {2024: 1.5, 2025: 1.6}}
    revenue = {"measure": "revenue", "facility": "Plant"}
    c = compare(_obs("FY2025", 315.0, revenue, unit="million AUD"), _with_accounts(_result()), DECK, rates)
    assert c.model == pytest.approx(315.0) and c.status == "pass"
    usd = compare(_obs("2025", 0.3, revenue, unit="billion USD"), _with_accounts(_result()), DECK)
    assert usd.model == pytest.approx(0.3)
    # no rate for a year of the period: not compared, with the reason
    missing = compare(_obs("FY2025", 315.0, revenue, unit="million AUD"), _with_accounts(_result()), DECK, {})
    assert missing.status == "outside run" and "AUD per USD" in missing.reason
    # a run without accounts cannot produce a revenue
    assert compare(_obs("2025", 1.0, revenue, unit="million USD"), _result(), DECK).status == "outside run"


def test_operating_costs_sum_the_cash_cost_items_of_the_listed_facilities():
    # 2025 only: Plant's wages USD 7 M and a transfer between the listed facilities (re_inputs, left out);
    # Mine's output is revenue, not a cost. At 1.6 AUD/USD: A$ 11.2 M; the capital charge is not a cash cost.
    result = _with_accounts(_result())
    extra = pd.DataFrame(
        [
            {"year": 2025, "facility": "Plant", "item": "re_inputs", "usd": 50e6},
            {"year": 2025, "facility": "Mine", "item": "other_inputs", "usd": 3e6},
            {"year": 2025, "facility": "Mine", "item": "capital_charge", "usd": 9e6},
        ]
    )
    result.tables["accounts"] = pd.concat([result.tables["accounts"], extra], ignore_index=True)
    costs = {"measure": "operating_costs", "facilities": ["Plant", "Mine"]}
    c = compare(_obs("2025", 16.0, costs, unit="million AUD"), result, DECK, {"AUD": {2025: 1.6}})
    assert c.model == pytest.approx((7e6 + 3e6) * 1.6 / 1e6)
    only_plant = {"measure": "operating_costs", "facilities": ["Plant"]}
    plant = compare(_obs("2025", 7.0, only_plant, unit="million USD"), result, DECK)
    assert plant.model == pytest.approx(7.0)
    unknown = {"measure": "operating_costs", "facilities": ["Plant", "Nowhere"]}
    assert compare(_obs("2025", 7.0, unknown, unit="million USD"), result, DECK).status == "outside run"


def test_money_units_are_read_or_refused():
    from mine2magnet.analysis.backtest import money_unit

    assert money_unit("million AUD") == (1e6, "AUD")
    assert money_unit("USD") == (1.0, "USD")
    for bad in ("million", "zillion AUD", "million aud", "t"):
        with pytest.raises(InputError, match="money unit"):
            money_unit(bad)


def test_exchange_rates_come_from_the_annual_fx_series():
    from mine2magnet.analysis.backtest import exchange_rates
    from mine2magnet.data import load_dataset

    ds = load_dataset()
    rates = exchange_rates(ds)
    assert rates["AUD"][2024] == pytest.approx(ds.value("fx.AUD_per_USD.2024"))
    assert set(rates) >= {"AUD", "MYR", "CNY"}
