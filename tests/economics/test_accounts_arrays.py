"""The accounts' sums by year and facility, taken over arrays (factorised names, ``np.bincount``), equal the
row-by-row dictionary sums they replaced, bit for bit, on random tables and on every built-in scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.economics.accounts import (
    TRADED,
    _by_year_and_name,
    _flow_values,
    _FlowColumns,
    _informal_rows,
)
from mine2magnet.scenario import list_scenarios, load_scenario, run_scenario


def _loop_sums(keys: list[tuple], weights: list[float]) -> dict[tuple, float]:
    out: dict[tuple, float] = {}
    for k, w in zip(keys, weights, strict=True):
        out[k] = out.get(k, 0.0) + w
    return out


@settings(max_examples=40)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(2020, 2030),
            st.sampled_from(["a", "b", "Lynas Malaysia", "x y"]),
            st.sampled_from(["ore", "mrec", "oxide"]),
            st.floats(-1e9, 1e9, allow_nan=False),
        ),
        max_size=60,
    )
)
def test_grouped_sums_equal_a_loop(rows) -> None:
    year = np.array([r[0] for r in rows], dtype=np.int64)
    names, codes = [], []
    for r in rows:
        if r[1] not in names:
            names.append(r[1])
        codes.append(names.index(r[1]))
    coms = ["ore", "mrec", "oxide"]
    com = np.array([coms.index(r[2]) for r in rows], dtype=np.int64)
    w = np.array([r[3] for r in rows], dtype=float)
    got = _by_year_and_name(year, np.array(codes, dtype=np.int64), names, w)
    want = _loop_sums([(r[0], r[1]) for r in rows], [r[3] for r in rows])
    assert list(got) == list(want) and got == want  # same keys in the same order, same sums bit for bit
    got3 = _by_year_and_name(year, np.array(codes, dtype=np.int64), names, w, (com, coms))
    assert got3 == _loop_sums([(r[0], r[1], r[2]) for r in rows], [r[3] for r in rows])


def _facts_by_loop(model, result, inputs):
    """The row-by-row computation the arrays replaced (commit 94ddb8e's ``_flow_values``)."""
    net = model.network
    flows = result.tables["flows"]
    kinds = {name: f.kind for name, f in net.facilities.items()}
    factor = {n: float(f.attrs.get("price_factor", 1.0)) for n, f in net.facilities.items()}
    output, re_inputs, feed_t, fed_t, activity_t = {}, {}, {}, {}, {}
    for r in flows.itertuples(index=False):
        if r.commodity not in TRADED:
            continue
        v = float(r.value_usd)
        if inputs.mine_gate == "customs" and kinds.get(r.source) == "mines" and r.commodity == "mrec":
            v = float(r.t) * inputs.customs_usd_per_t.at(int(r.year))
        if kinds.get(r.target, "") == "markets":
            v *= factor.get(r.target, 1.0)
        elif kinds.get(r.source, "") == "suppliers":
            v *= factor.get(r.source, 1.0)
        y = int(r.year)
        output[(y, r.source)] = output.get((y, r.source), 0.0) + v
        re_inputs[(y, r.target)] = re_inputs.get((y, r.target), 0.0) + v
        feed_t[(y, r.target, r.commodity)] = feed_t.get((y, r.target, r.commodity), 0.0) + float(r.t)
        fed_t[(y, r.target)] = fed_t.get((y, r.target), 0.0) + float(r.t)
    k = result.tables["kpis"]
    for r in k[k["kpi"] == "production_t"].itertuples(index=False):
        key = (int(r.year), str(r.facility))
        activity_t[key] = activity_t.get(key, 0.0) + float(r.value)
    return output, re_inputs, feed_t, fed_t, activity_t


@pytest.mark.parametrize(
    ("name", "overrides"),
    [(s[0], []) for s in list_scenarios()] + [("malaysia-base", ["mine-gate-customs"])],
)
def test_facts_equal_the_row_loop(name: str, overrides: list[str]) -> None:
    sc = load_scenario(name, overrides)
    if sc.economics is None:
        pytest.skip("no economics")
    result = run_scenario(sc)
    inputs = sc.economics[0]
    facts = _flow_values(sc.model, result, inputs)
    want = _facts_by_loop(sc.model, result, inputs)
    got = (facts.output, facts.re_inputs, facts.feed_t, facts.fed_t, facts.activity_t)
    for g, w in zip(got, want, strict=True):
        assert g == w
    rows = _informal_rows(result, inputs, _FlowColumns.of(result.tables["flows"]))
    flows = result.tables["flows"]
    for r in rows:
        sold = flows[(flows["source"] == r["facility"]) & (flows["year"] == r["year"])]["value_usd"]
        assert r["usd"] == pytest.approx(float(sold.sum()), rel=1e-15, abs=0.0)
    assert isinstance(result.tables["accounts"], pd.DataFrame)


def _totals_by_loop(accounts: pd.DataFrame, country: str) -> dict[int, dict[str, dict[str, float]]]:
    """The sums by year, stage and item the country totals read (the row loop of commit 94ddb8e)."""
    mine = accounts[(accounts["country"] == country) & (accounts["item"] != "informal_output")]
    by_year: dict[int, dict[str, dict[str, float]]] = {}
    for year_, stage_, item_, usd in zip(
        mine["year"].tolist(),
        mine["stage"].astype(str).tolist(),
        mine["item"].astype(str).tolist(),
        mine["usd"].tolist(),
        strict=True,
    ):
        acc_ = by_year.setdefault(int(year_), {}).setdefault(stage_, {})
        acc_[item_] = acc_.get(item_, 0.0) + float(usd)
    return by_year


@pytest.mark.parametrize("name", [s[0] for s in list_scenarios()])
def test_country_totals_equal_the_row_loop(name: str) -> None:
    from mine2magnet.economics import totals

    sc = load_scenario(name, [])
    if sc.economics is None:
        pytest.skip("no economics")
    result = run_scenario(sc)
    inputs, multipliers = sc.economics
    accounts = result.tables["accounts"]
    got = totals.country_totals(accounts, result.focus_country, inputs, list(result.years), multipliers)
    # each stage's value added and jobs, bit for bit the sums of the row loop
    want_sums = _totals_by_loop(accounts, result.focus_country)
    by_year = {}
    for r in got:
        if r["kpi"] == "domestic_value_added_usd" and r["facility"] != "total":
            by_year.setdefault(r["year"], {})[r["facility"]] = r["value"]
    assert by_year == {
        y: {s: acc.get("value_added", 0.0) for s, acc in stages.items()} for y, stages in want_sums.items()
    }
    for r in got:
        if r["kpi"] == "jobs_direct" and r["facility"] != "total":
            assert r["value"] == want_sums[r["year"]][r["facility"]].get("jobs", 0.0)
    assert totals.country_totals(accounts, "Nowhere", inputs, list(result.years), multipliers) == [
        r for r in got if r["kpi"] == "myr_per_usd"
    ]
