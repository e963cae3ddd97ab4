"""The scenarios differ where they should (issue acceptance), with the mass balance closed every year.

Real refinery flowsheets (mine2magnet.process), run once per session and shared; short horizon 2024-2031.
"""

from __future__ import annotations

import pytest
from scenariokit import short

from mine2magnet.scenario import run_scenario

YEARS = (2024, 2031)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, flowsheet_cache):
    tmp = tmp_path_factory.mktemp("scenarios")
    names = [
        "malaysia-base",
        "malaysia-no-ban",
        "malaysia-china-refinery",
        "china-export-halt",
        "malaysia-crackdown",
        "recycling",
    ]
    out = {}
    for n in names:
        sc = short(tmp, n, *YEARS)
        sc.model.performances = flowsheet_cache
        out[n] = run_scenario(sc)
    return out


def raw_exports(result, country="Malaysia"):
    """t of mixed carbonate / concentrate / ore exported by formal facilities of `country`, by year."""
    f = result.tables["flows"]
    fac = result.tables["facilities"].set_index("facility").country
    mask = f.commodity.isin(["mrec", "concentrate", "ore"]) & f.export & ~f.informal
    mask &= f.source.map(fac).eq(country)
    return f[mask].groupby("year").t.sum().reindex(range(YEARS[0], YEARS[1] + 1), fill_value=0.0)


def kpi(result, name, **match):
    k = result.tables["kpis"]
    k = k[k.kpi == name]
    for col, v in match.items():
        k = k[k[col] == v]
    return k.groupby("year").value.sum().reindex(range(YEARS[0], YEARS[1] + 1), fill_value=0.0)


def test_mass_balance_every_year(runs):
    for name, r in runs.items():
        assert r.mass_balance_error < 1e-6, name
        assert r.years == list(range(YEARS[0], YEARS[1] + 1))


def test_no_ban_exports_raw_carbonate_and_keeps_less_at_home(runs):
    base, no_ban = runs["malaysia-base"], runs["malaysia-no-ban"]
    late = [2030, 2031]
    # under the ban only the Kenering pilot (the named exception) may export raw carbonate
    kenering = base.tables["flows"].query("source == 'Kenering ISL' and export").groupby("year").t.sum()
    assert (raw_exports(base) - kenering.reindex(raw_exports(base).index, fill_value=0.0)).abs().max() < 1e-6
    assert (raw_exports(no_ban)[late] > raw_exports(base)[late] + 100).all()
    assert (
        kpi(no_ban, "domestic_processing_share")[late] < kpi(base, "domestic_processing_share")[late]
    ).all()
    assert (kpi(no_ban, "value_capture_ratio")[late] < kpi(base, "value_capture_ratio")[late]).all()


def test_china_refinery_raises_domestic_separation_and_reports_its_feed(runs):
    base, cr = runs["malaysia-base"], runs["malaysia-china-refinery"]
    sep_base = kpi(base, "production_t", detail="oxide")
    sep_cr = kpi(cr, "production_t", detail="oxide")
    assert (sep_cr[[2030, 2031]] > sep_base[[2030, 2031]] + 100).all()
    share = kpi(cr, "feed_sufficiency", facility="Khazanah-China refinery")
    assert ((share >= 0) & (share <= 1 + 1e-9)).all()
    assert share[2028] == 0.0 and share[2031] > 0  # starts 2029 (assumption), ramping
    years = kpi(cr, "feed_years_at_capacity", facility="Khazanah-China refinery")
    assert years[2031] > 0
    assert "Khazanah-China refinery" in cr.summary()["kpis"]["feed_sufficiency"][2031]


def test_embargo_shows_unmet_demand_outside_china(runs):
    base, halt = runs["malaysia-base"], runs["china-export-halt"]
    unmet_base = kpi(base, "unmet_demand_t", facility="Oxide buyers outside China")
    unmet_halt = kpi(halt, "unmet_demand_t", facility="Oxide buyers outside China")
    assert (unmet_halt[[2026, 2027, 2028]] > unmet_base[[2026, 2027, 2028]] + 100).all()
    assert unmet_halt[2030] == pytest.approx(unmet_base[2030], abs=1e-6)  # the halt is over


def test_crackdown_lowers_smuggling_loss(runs):
    base, crack = runs["malaysia-base"], runs["malaysia-crackdown"]
    loss_b, loss_c = kpi(base, "smuggling_loss_usd"), kpi(crack, "smuggling_loss_usd")
    assert loss_c[2024] == pytest.approx(loss_b[2024])
    assert (loss_c[[2027, 2030]] < 0.5 * loss_b[[2027, 2030]]).all()


def test_recycling_raises_secondary_supply(runs):
    assert kpi(runs["malaysia-base"], "secondary_supply_t").sum() == 0.0
    rec = kpi(runs["recycling"], "secondary_supply_t")
    assert rec[2025] == 0.0 and (rec[[2026, 2030]] > 0).all()
    stocks = runs["recycling"].tables["stocks"]
    assert not stocks.query("stock == 'in_use'").empty


def test_summary_has_the_contract_keys(runs):
    s = runs["malaysia-base"].summary()
    assert s["scenario"] == "short-malaysia-base" and s["years"][0] == YEARS[0]
    for key in (
        "domestic_value_added_usd",
        "feed_sufficiency",
        "magnet_self_sufficiency",
        "hhi",
        "residue_t",
        "smuggling_loss_usd",
        "unmet_demand_t",
    ):
        assert set(s["kpis"][key]) == set(s["years"]), key
    sk = runs["malaysia-base"].sankey(2030)
    assert sk["links"] and all(
        link["source"] in sk["nodes"] and link["target"] in sk["nodes"] for link in sk["links"]
    )


def test_summary_residues_add_up_the_kpi_table(runs):
    """Residue in summary.json equals the KPI rows summed per facility and type, whatever process made it."""
    for name, r in runs.items():
        s = r.summary()["kpis"]["residue_t"]
        k = r.tables["kpis"]
        for kpi, label in (("residue_produced_t", "produced"), ("residue_accumulated_t", "accumulated")):
            rows = k[k.kpi == kpi]
            for year in r.years:
                assert sum(s[year][label].values()) == pytest.approx(
                    rows[rows.year == year].value.sum(), rel=1e-12, abs=1e-9
                ), (name, year, label)
