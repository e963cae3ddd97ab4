"""The report of a market scenario in headless Chromium: every price-path chart drawn with data, no console
error (issue 14, results)."""

from __future__ import annotations

from mine2magnet.market.run import run_market
from mine2magnet.report.market_page import write_market_report


def test_market_report_draws_its_price_paths(open_page, tmp_path) -> None:
    run = run_market("export-controls-2025")
    path = write_market_report(run, tmp_path / "report.html")
    opened = open_page(path)
    opened.page.wait_for_function("() => window.m2m && window.m2m.ready", timeout=30_000)
    opened.page.evaluate("() => window.m2m.drawAll()")
    opened.page.wait_for_function(
        "() => Array.from(document.querySelectorAll('div.chart')).every(d => d.querySelector('.main-svg'))",
        timeout=30_000,
    )
    charts = opened.audit()
    opened.screenshot("market-export-controls-2025", full_page=True)
    assert opened.errors == []
    drawn = {c["title"] for c in charts}
    flat = len(opened.page.query_selector_all("p.flat"))
    assert len(charts) + flat == len(set(run.prices["element"]))  # one chart (or sentence) per element
    for chart in charts:
        assert chart["traces"] and all(t["points"] > 0 for t in chart["traces"]), chart["title"]
    assert drawn
