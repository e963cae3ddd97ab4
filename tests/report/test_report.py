"""HTML report: self-contained; Sankey, KPI charts, value added, comparison, assumptions and conflicts."""

from __future__ import annotations

import base64
import gzip
import json
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.errors import InputError
from mine2magnet.report import headlines, render_report, run_view, what_changes, write_report
from mine2magnet.report.figures import sankey_figure, value_added_from_flows
from mine2magnet.report.quantities import format_value
from mine2magnet.store import ResultsStore
from store.sample_chain import ARCS, sample_result

CONFLICT = {
    "key": "resource.malaysia.value",
    "reason": "sources name different values",
    "values": [
        {
            "value": 800.0,
            "unit": "MYR bn",
            "kind": "reported",
            "range": None,
            "note": "first",
            "source": {"id": "a", "title": "Source A title", "url": "https://example.org/a", "date": "2024"},
        },
        {
            "value": 1000.0,
            "unit": "MYR bn",
            "kind": "reported",
            "range": [900.0, 1100.0],
            "note": "second",
            "source": {"id": "b", "title": "Source B title", "url": "https://example.org/b", "date": "2025"},
        },
    ],
}


@pytest.fixture(scope="module")
def single_html() -> str:
    return render_report([sample_result()], conflicts=[CONFLICT])


def _data(html: str) -> dict:
    """The page's one shared data block (runs, years, series, chart specs)."""
    block = re.search(r"<script type='application/json' id='m2m-data'>(.*?)</script>", html, flags=re.S)
    assert block is not None
    return json.loads(block.group(1))


def test_report_is_self_contained(single_html):
    assert not re.search(r"<script[^>]*\bsrc\s*=", single_html, flags=re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*['\"]?https?:", single_html, flags=re.I)
    # plotly.js inlined once, gzipped and base64-encoded; the page script draws with it
    bundles = re.findall(r"id='m2m-plotly'>([^<]*)</script>", single_html)
    assert len(bundles) == 1
    code = gzip.decompress(base64.b64decode(bundles[0])).decode("utf-8")
    assert code.startswith("/*! plotly.js") and "sankey" in code
    assert "Plotly.newPlot" in single_html and single_html.count("m2m-data") == 2  # the block and its reader


def test_report_has_sankey_kpi_charts_value_added_assumptions_and_conflicts(single_html):
    data = _data(single_html)
    kinds = [c["kind"] for c in data["charts"]]
    figures = [c["figure"] for c in data["charts"] if c["kind"] == "figure"]
    assert [f["data"][0]["type"] for f in figures].count("sankey") == 1
    titles = [c.get("title", "") for c in data["charts"]]
    for kpi in ("domestic_value_added_usd", "feed_sufficiency", "unmet_demand_t"):
        assert any(f"({kpi})" in t for t in titles), kpi  # a chart titled with the KPI
    # hhi is constant in the sample (separation 1, mining 0.5 every year): a sentence, not a chart
    assert "supply concentration (HHI) (hhi): constant, so not drawn" in single_html
    assert "Domestic value added by stage (USD/yr)" in titles and "bars" in kinds
    assert any("Value added by stage and country" in f["layout"]["title"]["text"] for f in figures)
    assert 'href="https://pubs.usgs.gov/periodicals/mcs2025/mcs2025-rare-earths.pdf"' in single_html
    assert "test assumption &lt;with&gt; markup &amp; ampersand" in single_html
    for title in (
        "Source A title",
        "Source B title",
        'href="https://example.org/b"',
        "resource.malaysia.value",
    ):
        assert title in single_html
    assert "Comparison of scenarios" not in single_html
    assert "Single-year figures are for 2026" in single_html  # default year: the last one
    # the briefing comes first, the details after it in sections opened on demand
    assert single_html.index("id='briefing'") < single_html.index("<details")
    assert "<details id='assumptions'>" in single_html and "<details id='conflicts'>" in single_html


def test_comparison_appears_with_several_runs(tmp_path):
    path = write_report(
        [sample_result(), sample_result("sample-low", 0.5)], tmp_path / "cmp.html", year=2025, conflicts=()
    )
    html = path.read_text(encoding="utf-8")
    assert "Comparison of scenarios" in html and "<th>KPI in 2025</th>" in html
    assert "domestic value added by scenario (domestic_value_added_usd)" in html
    # rows say what they are in words, with the KPI's name for the tables beside it
    assert "<td>domestic value added <code class='muted'>domestic_value_added_usd</code>" in html
    assert html.count('"type":"sankey"') == 2
    assert "No conflicting sources" in html


def test_sankey_carries_every_tonne_of_the_year():
    """Independent check: the link values add up to the hand-computed arc tonnages for the year."""
    figure = sankey_figure(run_view(sample_result()), 2025)
    expected = sum(t for _, _, _, t, _ in ARCS) * 1.1
    assert sum(figure["data"][0]["link"]["value"]) == pytest.approx(expected)
    labels = list(figure["data"][0]["node"]["label"])
    assert labels.index("Mt Weld") < labels.index("Lynas Malaysia") < labels.index("JS Link magnets")


def test_value_added_from_flows_is_sales_minus_purchases():
    table = value_added_from_flows(run_view(sample_result()), 2024).set_index("facility")
    assert table.loc["Lynas Malaysia", "value_added_usd"] == pytest.approx(
        1_500 * 20_000 + 6_500 * 10_000 - 9_000 * 3_000
    )
    assert table.loc["Mt Weld", "value_added_usd"] == pytest.approx(10_000 * 1_000)
    assert "Export market" not in table.index


def test_headlines_speak_plain_words():
    items = {h.kpi: h for h in headlines(run_view(sample_result()), 2024)}
    assert items["domestic_value_added_usd"].number == "USD 122 M"  # 68 M separation + 54 M magnets
    assert "separation USD 68 M, magnet USD 54 M" in items["domestic_value_added_usd"].sentence
    assert "inside Malaysia" in items["domestic_value_added_usd"].sentence
    # every element named, lowest first (a single "60 %" hid which element falls short)
    assert items["magnet_self_sufficiency"].number == "Pr 60 %, Nd 80 %"
    assert "Nd 80 %" in items["magnet_self_sufficiency"].sentence
    assert items["magnet_self_sufficiency"].period == "Nd 80 % (2024–2026), Pr 60 % (2024–2026)"
    # the index names its stage; separation (one plant, one country) is 1 by construction and left out
    assert items["hhi"].number == "mining 0.50" and "above 0.25" in items["hhi"].sentence
    assert (
        "HHI" in items["hhi"].title
        and "by country" in items["hhi"].sentence
        and "Left out of the headline: separation" in items["hhi"].sentence
    )
    assert items["unmet_demand_t"].number == "600 t"
    assert items["residue_produced_t"].number == "4,500 t"
    assert "20.0 years" in items["feed_sufficiency"].sentence


def test_value_capture_above_one_is_explained_by_imported_feed():
    result = sample_result()
    k = result.tables["kpis"]
    row = {"year": 2024, "kpi": "value_capture_ratio", "facility": "", "element": "", "value": 2.3}
    result.tables["kpis"] = pd.concat([k, pd.DataFrame([{**row, "unit": "fraction", "detail": ""}])])
    sentence = {h.kpi: h for h in headlines(run_view(result), 2024)}["domestic_value_added_usd"].sentence
    assert "equals 230 % of what the country's own mined rare earths are worth" in sentence
    assert "plants at home also process imported feed" in sentence


def test_unmet_demand_of_a_shock_over_by_the_year_shown_is_still_told():
    """An embargo's shortfall in early years is named even when the year shown has none."""
    result = sample_result()
    k = result.tables["kpis"]
    k.loc[(k.kpi == "unmet_demand_t") & (k.year == 2026), "value"] = 0.0
    items = {h.kpi: h for h in headlines(run_view(result), 2026)}
    unmet = items["unmet_demand_t"]
    assert unmet.number == "0 t"
    assert "All modelled demand is supplied in 2026" in unmet.sentence
    # 600 t in 2024 + 460 t in 2025 (sample_chain: 2,000 - 1,400 x growth)
    assert "1,060 t goes unmet in 2 year(s), most in 2024 (600 t)" in unmet.sentence


def test_a_stored_run_reports_like_the_fresh_result(tmp_path):
    result = sample_result()
    result.meta = {"description": "Sample chain <for> tests"}
    store = ResultsStore(tmp_path / "r.duckdb")
    stored = store.get(store.save(result))
    fresh = [(h.kpi, h.number, h.sentence) for h in headlines(run_view(result), 2025)]
    again = [(h.kpi, h.number, h.sentence) for h in headlines(run_view(stored), 2025)]
    assert fresh == again
    html = render_report([stored], conflicts=())
    assert stored.run_id in html and "Sample chain &lt;for&gt; tests" in html


def test_bad_year_and_empty_input_are_refused():
    with pytest.raises(InputError, match="year: 1999 is not a year of run sample-base"):
        render_report([sample_result()], year=1999, conflicts=())
    with pytest.raises(InputError, match="no runs"):
        render_report([], conflicts=())


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.5e9, "USD", "USD 1.5 bn"),
        (2.345e6, "USD/yr", "USD 2.35 M/yr"),
        (0.864, "fraction", "86 %"),
        (12345.6, "t", "12,346 t"),
        (float("nan"), "t", "n/a"),
    ],
)
def test_numbers_read_naturally(value, unit, text):
    assert format_value(value, unit) == text


def test_a_run_without_kpis_or_flows_still_reports(tmp_path):
    bare = sample_result()
    bare.tables = {"kpis": bare.tables["kpis"].iloc[0:0], "flows": bare.tables["flows"].iloc[0:0]}
    html = render_report([bare], conflicts=())
    assert "reports none of the headline KPIs" in html and "No material flows in 2026" in html
    assert "The run lists no assumptions" in html


def test_residue_headline_says_where_the_residue_accrues():
    result = sample_result()
    kpis = result.tables["kpis"]
    extra = pd.DataFrame(
        [(2024, "residue_produced_t", "Kalgoorlie cracker", "", 7_000.0, "t", "WLP")], columns=kpis.columns
    )
    result.tables["kpis"] = pd.concat([kpis, extra], ignore_index=True)
    items = {h.kpi: h for h in headlines(run_view(result), 2024)}
    # Lynas Malaysia (Malaysia) 0.5 x 9,000 t = 4,500 t; Kalgoorlie cracker (Australia) 7,000 t
    assert items["residue_produced_t"].number == "11,500 t"
    assert (
        "Australia 7,000 t, Malaysia 4,500 t by country of the plant" in items["residue_produced_t"].sentence
    )


def test_what_changes_names_the_moved_figures_in_words():
    base, half = run_view(sample_result()), run_view(sample_result("sample-half", 0.5))
    changes = what_changes([base, half], 2024)["sample-half"]
    # by hand: value added (68 + 54) M -> half; over 3 years (1 + 1.1 + 1.21) x 122 M = 403.8 M -> 201.9 M
    assert (
        "domestic value added in 2024: USD 122 M → USD 61 M; over 2024–2026: USD 404 M → USD 202 M" in changes
    )
    # feed: 9,000 t / 10,500 t = 86 % -> 4,500 / 10,500 = 43 %; unmet: 2,000 - 1,400 = 600 t -> 2,000 - 700
    assert "refinery feed (Lynas Malaysia) in 2024: 86 % → 43 %" in changes
    assert any(c.startswith("unmet demand in 2024: 600 t → 1,300 t") for c in changes)
    assert not any(c.startswith("magnet needs met") for c in changes)  # 80 % / 60 % in both
    assert what_changes([base, base], 2024) == {"sample-base (#2)": []}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1e5, allow_subnormal=False), min_size=1, max_size=4),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_sankey_conserves_material_through_every_plant(mined, split):
    """Property: mines -> refinery -> (magnet plant, export) by element; in = out at the refinery node."""
    flows = []
    for i, t in enumerate(mined):
        for el, share in (("Nd", 0.3), ("La", 0.7)):
            flows.append((2030, f"mine {i}", "refinery", "mrec", el, t * share, t))
            flows.append((2030, "refinery", "magnets", "oxide", el, t * share * split, 0.0))
            flows.append((2030, "refinery", "export", "oxide", el, t * share * (1 - split), 0.0))
    result = sample_result(years=(2030,))
    result.tables["flows"] = pd.DataFrame(
        flows, columns=["year", "source", "target", "commodity", "element", "t", "value_usd"]
    )
    figure = sankey_figure(run_view(result), 2030)
    if figure is None:  # no positive flow at all
        assert sum(mined) * min(0.3, 0.7) == 0.0
        return
    link, labels = figure["data"][0]["link"], figure["data"][0]["node"]["label"]
    node = labels.index("refinery")
    inflow = sum(v for v, t in zip(link["value"], link["target"], strict=True) if t == node)
    outflow = sum(v for v, s in zip(link["value"], link["source"], strict=True) if s == node)
    assert inflow == pytest.approx(sum(mined), rel=1e-12, abs=1e-9)
    assert outflow == pytest.approx(inflow, rel=1e-9, abs=1e-9)


def test_comparison_breaks_value_added_down_by_stage():
    """Where value is added is compared as well as how much: one row per stage after the total, leaving out
    stages where no run adds anything; what_changes names the stage that moved."""
    from mine2magnet.report.comparison import kpi_comparison

    runs = [sample_result(), sample_result("sample-low", 0.5)]
    for r in runs:
        k = r.tables["kpis"]
        zero = {"year": 2025, "kpi": "domestic_value_added_usd", "facility": "cracking", "element": ""}
        zero |= {"value": 0.0, "unit": "USD", "detail": ""}
        r.tables["kpis"] = pd.concat([k, pd.DataFrame([zero])], ignore_index=True)
    views = [run_view(r) for r in runs]
    table = kpi_comparison(views, 2025)
    dva = table[table.kpi == "domestic_value_added_usd"].set_index("subject")
    assert dva.index[0] == "total" and set(dva.index[1:]) == {"separation", "magnet"}
    for label in (v.label for v in views):
        assert dva.loc["total", label] == pytest.approx(
            dva.loc["separation", label] + dva.loc["magnet", label]
        )
    changes = what_changes(views, 2025)[views[1].label]
    assert any(s.startswith("domestic value added (separation) in 2025") for s in changes)


def test_residue_headline_separates_the_legacy_pile_from_the_additions():
    result = sample_result()
    kpis = result.tables["kpis"]
    rows = [
        (2024, "residue_produced_bq", "Lynas Malaysia", "", 2.7e13, "Bq", "WLP"),
        (2024, "residue_accumulated_t", "Lynas Malaysia", "", 500_000.0, "t", "WLP"),
        (2024, "residue_accumulated_bq", "Lynas Malaysia", "", 3.027e15, "Bq", "WLP"),
    ]
    result.tables["kpis"] = pd.concat([kpis, pd.DataFrame(rows, columns=kpis.columns)], ignore_index=True)
    sentence = {h.kpi: h for h in headlines(run_view(result), 2024)}["residue_produced_t"].sentence
    # 504,500 t held = 500,000 t opening pile + 4,500 t produced in 2024 (0.5 t/t x 9,000 t); Bq likewise
    assert "504,500 t held in residue stores at the end of 2024" in sentence
    assert "500,000 t already there when 2024 began (the legacy pile" in sentence
    assert "4,500 t added in 2024" in sentence


def test_value_kept_change_decomposes_mining_processing_and_leakage():
    from mine2magnet.report.comparison import value_kept_change

    def with_accounts(name, mining, separation, lost):
        result = sample_result(name)
        k = result.tables["kpis"]
        k = k[k.kpi != "domestic_value_added_usd"]
        rows = [
            (2024, "domestic_value_added_usd", "mining", "", mining, "USD", ""),
            (2024, "domestic_value_added_usd", "separation", "", separation, "USD", ""),
            (2024, "domestic_value_added_usd", "total", "", mining + separation, "USD", ""),
            (2024, "national_value_added_usd", "total", "", mining + separation, "USD", ""),
            (2024, "smuggling_loss_usd", "Illegal mining", "", lost, "USD", ""),
        ]
        result.tables["kpis"] = pd.concat([k, pd.DataFrame(rows, columns=k.columns)], ignore_index=True)
        return run_view(result)

    base = with_accounts("base", 100e6, 50e6, 10e6)
    other = with_accounts("other", 130e6, 45e6, 2e6)
    sentence = value_kept_change(base, other, 2024)
    assert "USD 150 M → USD 175 M" in sentence
    assert "mining +USD 30 M (more ore mined)" in sentence
    assert "processing at home −USD 5 M" in sentence
    assert "illegal exports −USD 8 M" in sentence
    assert value_kept_change(base, base, 2024) is None
