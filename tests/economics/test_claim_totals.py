"""The claim check's sums read once per KPI (``RunTotals``) equal the pandas filters over the run's tables
that the check used before, on every built-in scenario and on drawn variants of the flagship."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mine2magnet.economics.claims import RunTotals, check_claims
from mine2magnet.scenario import list_scenarios, load_scenario, run_scenario


def _pandas_total(result, kpi: str, year: int, facility: str) -> float | None:
    k = result.tables["kpis"]
    k = k[k["kpi"] == kpi]
    k = k[(k["year"] == year) & (k["facility"] == facility)] if facility else k[k["year"] == year]
    return float(k["value"].sum()) if len(k) else None


def _pandas_accounts(result, item: str, country: str, year: int) -> float | None:
    acc = result.tables.get("accounts")
    if acc is None:
        return None
    rows = acc[(acc["item"] == item) & (acc["country"] == country) & (acc["year"] == year)]
    return float(rows["usd"].sum())


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=0.0)


def _check_every_sum(result) -> None:
    totals = RunTotals(result)
    k = result.tables["kpis"]
    for kpi in ("domestic_value_added_usd", "jobs_direct", "myr_per_usd", "smuggling_loss_usd", "hhi"):
        facilities = [*sorted(set(k.loc[k["kpi"] == kpi, "facility"])), "", "total", "nowhere"]
        for year in [*result.years, 1900]:
            for fac in facilities:
                got, want = totals.kpi_total(kpi, year, fac), _pandas_total(result, kpi, year, fac)
                assert _same(got, want), (kpi, year, fac, got, want)
    acc = result.tables.get("accounts")
    items = sorted(set(acc["item"])) if acc is not None else ["output"]
    countries = sorted(set(acc["country"])) if acc is not None else ["Malaysia"]
    for item in [*items, "no-such-item"]:
        for country in countries:
            for year in result.years[::4]:
                got = totals.accounts_sum(item, country, year)
                assert _same(got, _pandas_accounts(result, item, country, year)), (item, country, year)


@pytest.mark.parametrize("name", [s[0] for s in list_scenarios()])
def test_sums_equal_the_pandas_filters_on_every_built_in_scenario(name: str) -> None:
    sc = load_scenario(name, [])
    result = run_scenario(sc)
    _check_every_sum(result)
    if sc.economics is not None:  # the checks themselves: one RunTotals for all, or one run per claim
        from mine2magnet.data import load_dataset

        ds = load_dataset()
        claims = [c for c in ds.claims() if c.period.end.year in set(result.years)]
        once = check_claims(claims, sc.model, result, ds, 0.3)
        from mine2magnet.economics.claims import check_claim

        each = [check_claim(c, sc.model, result, ds, 0.3) for c in claims]
        assert [c.to_dict() for c in once] == [c.to_dict() for c in each]


def test_drawn_variants_of_the_flagship() -> None:
    from mine2magnet.analysis.uncertainty.inputs import draw_inputs
    from mine2magnet.analysis.uncertainty.sampling import draw_sample
    from mine2magnet.analysis.uncertainty.study import scenario_study

    model, si = scenario_study("malaysia-base", end_year=2030)
    sample = draw_sample(si.inputs, "lhs", 3, 7, si.correlations)
    for row in sample.values:
        inputs = draw_inputs(si.inputs, row)
        sc = model.scenario_for(inputs)
        from mine2magnet.scenario import run_scenario as run

        _check_every_sum(run(sc))


def test_nan_rows_count_as_zero_like_pandas() -> None:
    from mine2magnet.chain import ChainResult

    kpis = pd.DataFrame(
        [(2025, "x", "total", "", math.nan, "", ""), (2025, "x", "total", "", 2.0, "", "")],
        columns=["year", "kpi", "facility", "element", "value", "unit", "detail"],
    )
    result = ChainResult("t", [], [2025], {"kpis": kpis}, 0.0)
    assert RunTotals(result).kpi_total("x", 2025) == _pandas_total(result, "x", 2025, "total") == 2.0
