"""The briefing and the charts' shared data (issue 12), without a browser.

The sample chain (tests/store/sample_chain.py) is hand-built: every expected number below is worked out
from its definition, not read back from the code."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.errors import InputError
from mine2magnet.report import headlines, render_report, run_view
from mine2magnet.report.briefing import amount, answers
from mine2magnet.report.charts import ChartBook, Line
from mine2magnet.report.figures import comparison_charts
from mine2magnet.report.page import load_ranges
from store.sample_chain import sample_result


def _with_new_refinery(name: str = "sample-new-refinery"):
    """The sample chain plus a refinery that starts in 2025 at 70 %, 100 % in 2026 (a late facility)."""
    result = sample_result(name)
    k = result.tables["kpis"]
    rows = [
        (2025, "feed_sufficiency", "New refinery", "", 0.7, "fraction", ""),
        (2026, "feed_sufficiency", "New refinery", "", 1.0, "fraction", ""),
        (2025, "feed_years_left", "New refinery", "", 40.0, "yr", ""),
        (2026, "feed_years_left", "New refinery", "", 39.0, "yr", ""),
    ]
    result.tables["kpis"] = pd.concat([k, pd.DataFrame(rows, columns=k.columns)], ignore_index=True)
    return result


def _recompute(check: dict, summary: dict) -> float:
    """The number a briefing check points at, read from a run's summary (as the browser test does)."""
    values = []
    for year in check["years"]:
        found = summary["kpis"][check["kpi"]][year]
        for step in check["path"]:
            found = found[step]
        if isinstance(found, dict):
            values += [found[k] for k in (check["keys"] or list(found))]
        else:
            values.append(found)
    return sum(values) if check["agg"] == "sum" else min(values)


@pytest.fixture(scope="module")
def two_runs():
    return [sample_result(), _with_new_refinery()]


def test_feed_answer_names_the_new_refinery_and_its_years(two_runs):
    views = [run_view(r) for r in two_runs]
    book = ChartBook([v.label for v in views], [2024, 2025, 2026])
    feed = next(a for a in answers(views, 2026, book) if a.key == "feed")
    # the new refinery (70 % in 2025, 100 % in 2026), not the lowest of all refineries
    assert feed.number == "New refinery: 70 % – 100 % of capacity fed"
    assert feed.years == "2025–2026"
    assert "runs from 2025" in feed.sentence and "runs full in 1 of its 2 years" in feed.sentence
    assert "lasts 39.0 years" in feed.sentence
    assert feed.check["run"] == "sample-new-refinery" and feed.check["value"] == pytest.approx(0.7)
    assert _recompute(feed.check, two_runs[1].summary()) == pytest.approx(feed.check["value"])


def test_every_checked_briefing_number_is_the_summary_s(two_runs):
    views = [run_view(r) for r in two_runs]
    book = ChartBook([v.label for v in views], [2024, 2025, 2026])
    by_label = {r.scenario_name: r.summary() for r in two_runs}
    checked = [a for a in answers(views, 2026, book) if a.check]
    assert {a.key for a in checked} >= {"feed", "value", "magnets", "smuggling"}
    for a in checked:
        if a.check["kpi"] not in by_label[a.check["run"]]["kpis"]:
            continue  # the sample's summary has no residue block (the chain's summary has; the browser test)
        assert _recompute(a.check, by_label[a.check["run"]]) == pytest.approx(a.check["value"]), a.key
        assert amount(a.check["value"], a.check["unit"]) in a.number, a.key


def test_value_answer_sums_the_years_by_hand():
    views = [run_view(sample_result())]
    value = next(
        a for a in answers(views, 2026, ChartBook(["sample-base"], [2024, 2025, 2026])) if a.key == "value"
    )
    # (68 + 54) M x (1 + 1.1 + 1.21) = 403.82 M
    assert value.number.startswith("USD 404 M over 2024–2026")
    assert "run the no-ban scenario beside it" in value.sentence


def test_magnet_answer_names_the_short_element():
    views = [run_view(sample_result())]
    magnets = next(
        a for a in answers(views, 2026, ChartBook(["s"], [2024, 2025, 2026])) if a.key == "magnets"
    )
    assert magnets.number == "60 % at the lowest (Pr, 2024)"  # Pr 0.6, Nd 0.8 every year
    assert magnets.years == "2024–2026"


def test_questions_without_their_scenario_say_which_run_answers_them():
    views = [run_view(sample_result())]
    items = {a.key: a for a in answers(views, 2026, ChartBook(["s"], [2024, 2025, 2026]))}
    assert "china-export-halt" in items["export_halt"].sentence and items["export_halt"].number == "not run"


def test_ranges_show_on_the_briefing(tmp_path):
    html = render_report([sample_result()], conflicts=(), ranges={"smuggling": (10e6, 15e6, 20e6)})
    assert (
        "Range: USD 10 M – USD 20 M (5th–95th percentile of the uncertainty analysis; median USD 15 M)"
        in html
    )
    assert html.count("Range: not in this run's uncertainty sample") >= 1  # the others: not sampled
    without = render_report([sample_result()], conflicts=())
    assert "Range: not known yet (no uncertainty analysis for this run" in without


def test_feed_magnets_and_residue_ranges_show_beside_their_numbers():
    views = [run_view(sample_result())]
    book = ChartBook(["s"], [2024, 2025, 2026])
    feed = next(a for a in answers(views, 2026, book) if a.key == "feed")
    refinery = feed.check["keys"][0]
    ranges = {
        f"feed:{refinery}": (0.4, 0.6, 0.8),
        "magnets": (0.1, 0.2, 0.3),
        "residue": (1.0e6, 2.0e6, 3.0e6),
        "residue_bq": (1.0e12, 2.0e12, 3.0e12),
        "residue_new": (4.0e5, 5.0e5, 6.0e5),
        "residue_new_bq": (4.0e11, 5.0e11, 6.0e11),
    }
    items = {a.key: a for a in answers(views, 2026, book, ranges=ranges)}
    assert items["feed"].range.startswith("lowest year 40 % – 80 % (5th–95th percentile")
    assert items["magnets"].range.startswith("10 % – 30 % (5th–95th percentile")
    residue = items["residue"].range
    assert residue.startswith("held 1 Mt – 3 Mt, 1 TBq – 3 TBq; added over 2024–2026 400,000 t – 600,000 t")
    assert "(400 GBq – 600 GBq)" in residue and "median held 2 Mt" in residue
    # a range for another refinery is not this answer's
    other = answers(views, 2026, book, ranges={"feed:Somewhere else": (0.1, 0.2, 0.3)})
    assert next(a for a in other if a.key == "feed").range == ""


def test_ranges_file_is_read_beside_the_report_and_bad_ones_are_one_line(tmp_path):
    from mine2magnet.report import write_report

    (tmp_path / "uncertainty.json").write_text(
        json.dumps({"ranges": {"smuggling_loss_usd": [1e6, 2e6, 3e6]}})
    )
    html = write_report([sample_result()], tmp_path / "report.html", conflicts=()).read_text(encoding="utf-8")
    assert "Range: USD 1 M – USD 3 M" in html
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"feed": [0.1, "x"]}))
    with pytest.raises(InputError, match=r"bad.json.*ranges.feed.*three numbers"):
        load_ranges(bad)


@given(st.floats(min_value=1_000, max_value=1e12, allow_nan=False))
def test_amount_keeps_three_significant_digits(value):
    text = amount(value, "t")
    number, unit = text.rsplit(" ", 1)
    shown = float(number.replace(",", "")) * (1e6 if unit == "Mt" else 1.0)
    assert shown == pytest.approx(value, rel=5e-3)
    assert len(re.sub(r"\D", "", number).lstrip("0").rstrip("0")) <= 3


def test_flat_and_empty_charts_become_sentences():
    book = ChartBook(["a"], [2024, 2025, 2026])
    flat = book.lines("share", [Line("X", {2024: 1.0, 2025: 1.0, 2026: 1.0}, "fraction")], "fraction")
    empty = book.lines("nothing", [Line("Y", {}, "t")], "t")
    assert flat == "<p class='flat'>share: constant, so not drawn — X 100 % (2024–2026).</p>"
    assert "nothing: no values in any year" in empty and book.charts == []


def test_series_cover_the_whole_horizon_and_charts_share_them():
    book = ChartBook(["a", "b"], [2024, 2025, 2026, 2027])
    late = Line("new", {2026: 2.0, 2027: 3.0}, "t", run=1, kpi="k", subject="new")
    book.lines("one", [late], "t")
    book.lines("two", [late], "t")
    assert len(book.series) == 1  # stored once, used by both charts
    assert book.series[0]["v"] == [None, None, 2.0, 3.0]
    payload = json.loads(book.to_json())
    assert payload["years"] == [2024, 2025, 2026, 2027]
    assert [c["traces"][0]["s"] for c in payload["charts"]] == [0, 0]


def test_tick_labels_and_values_are_rounded():
    book = ChartBook(["a"], [2024, 2025])
    book.lines("t", [Line("x", {2024: 8_656_001.123, 2025: 9_000_000.0}, "t")], "t")
    book.lines("p", [Line("y", {2024: 1200.0, 2025: 1500.0}, "persons")], "persons")
    assert book.charts[0]["tickformat"] == ".3~s"  # 8.66M, never "8.656001M"
    assert book.charts[1]["tickformat"] == ",.3~r"  # 1,200, never "1.2e+3"
    assert book.series[0]["v"][0] == 8_656_000.0  # 6 significant digits in the page's data


def test_json_block_cannot_close_its_script_tag():
    book = ChartBook(["</script><b>"], [2024])
    assert "</script>" not in book.to_json()


def test_comparison_keeps_a_late_facility_whole(two_runs):
    """The old chart drew a total where one refinery reported and stopped where a second started."""
    views = [run_view(r) for r in two_runs]
    charts = {title: lines for title, lines, _ in comparison_charts(views, "feed_sufficiency")}
    new = charts["refinery feed by scenario — New refinery (feed_sufficiency)"]
    assert [ln.name for ln in new] == ["sample-new-refinery"] and new[0].values == {2025: 0.7, 2026: 1.0}
    lynas = charts["refinery feed by scenario — Lynas Malaysia (feed_sufficiency)"]
    assert [sorted(ln.values) for ln in lynas] == [[2024, 2025, 2026]] * 2
    assert lynas[0].colour != lynas[1].colour  # each run its own colour


def test_feed_headline_names_every_refinery_and_its_period(two_runs):
    view = run_view(two_runs[1])
    feed = {h.kpi: h for h in headlines(view, 2026)}["feed_sufficiency"]
    # 2026: Lynas 9,000 x 1.21 / 10,500 = 104 % -> capped at 100 %; the new refinery 100 %
    assert feed.number in {
        "Lynas Malaysia 100 %, New refinery 100 %",
        "New refinery 100 %, Lynas Malaysia 100 %",
    }
    assert "lowest" not in feed.title.lower()
    assert "New refinery 70–100 % (2025–2026)" in feed.period
    assert "Starting later: New refinery from 2025" in feed.sentence


def test_headline_kpis_are_charted_once_across_runs_not_once_per_run(two_runs):
    """The old page repeated ~24 KPI charts per scenario; with several runs the headline KPIs are drawn in
    the comparison only (one line per run), each run's section keeping its other series."""
    html = render_report(two_runs, conflicts=())
    block = re.search(r"<script type='application/json' id='m2m-data'>(.*?)</script>", html, flags=re.S)
    charts = json.loads(block.group(1))["charts"]
    titles = [c.get("title", "") for c in charts]
    feed = [t for t in titles if "(feed_sufficiency)" in t]
    assert feed == [
        "refinery feed by scenario — Lynas Malaysia (feed_sufficiency)",
        "refinery feed by scenario — New refinery (feed_sufficiency)",
    ]
    # each series is stored once however many charts draw it
    series = json.loads(block.group(1))["series"]
    keys = [(s["r"], s["k"], s["s"], s["u"]) for s in series]
    assert len(keys) == len(set(keys))


def test_answers_show_the_stated_ranges_of_their_inputs():
    """Until the uncertainty analysis gives an answer's own range, the ranges its inputs are published or
    assumed with are shown (the sample states smuggling.share 0.1, 0-0.3, an assumption)."""
    views = [run_view(sample_result())]
    items = {a.key: a for a in answers(views, 2026, ChartBook(["s"], [2024, 2025, 2026]))}
    assert items["smuggling"].inputs == "smuggling.share 0.1 fraction (0–0.3, assumption)"
    html = render_report([sample_result()], conflicts=())
    assert "Inputs with a stated range (sources under Assumptions): smuggling.share 0.1 fraction" in html
    with_range = answers(views, 2026, ChartBook(["s"], [2024, 2025, 2026]), ranges={"smuggling": (1, 2, 3)})
    assert next(a for a in with_range if a.key == "smuggling").inputs == ""  # its own range replaces them


@given(
    st.dictionaries(
        st.integers(min_value=2020, max_value=2050),
        st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
        max_size=31,
    )
)
def test_a_series_lands_on_the_shared_years_exactly(values):
    """Property: whatever years a run reports, its series has one slot per year of the page, the value (to
    6 significant digits) where the run has one and null elsewhere; drawn only if the line moves."""
    years = list(range(2020, 2051))
    book = ChartBook(["a"], years)
    html = book.lines("x", [Line("x", values, "t")], "t")
    if not values or _same(values):
        assert html.startswith("<p class='flat'>")
        return
    assert html.startswith("<div class='chart'")
    (series,) = book.series
    assert len(series["v"]) == len(years)
    for year, slot in zip(years, series["v"], strict=True):
        if year in values:
            assert slot == pytest.approx(values[year], rel=1e-5, abs=1e-300)
        else:
            assert slot is None


def _same(values: dict) -> bool:
    present = list(values.values())
    low, high = min(present), max(present)
    return high - low <= 1e-9 * max(1.0, abs(high), abs(low))
