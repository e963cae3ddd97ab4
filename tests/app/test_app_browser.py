"""End to end in a real headless Chromium: open the app, run malaysia-base, see the Sankey render, change an
assumption, re-run, compare the two; add a refinery from the catalogue and see it fed. Screenshots are saved
in tests/browser/artifacts/app/; no console error is allowed anywhere (the app's page and the reports it
shows)."""

from __future__ import annotations

import re

from .conftest import LiveApp, screenshot

RUN_TIMEOUT_MS = 300_000


def _run_selected(page, scenario: str) -> None:
    page.click("button[data-tab=scenarios]")
    page.select_option("#scenario-select", scenario)
    page.wait_for_function(
        "name => document.querySelector('#variant-base').textContent === name", arg=scenario, timeout=30_000
    )
    completed = page.locator("#jobs tbody tr[data-status=complete]").count()
    page.click("#run-selected")
    page.wait_for_function(
        "n => document.querySelectorAll('#jobs tbody tr[data-status=complete]').length > n",
        arg=completed,
        timeout=RUN_TIMEOUT_MS,
    )
    assert page.locator("#jobs tbody tr[data-status=failed]").count() == 0, page.inner_text("#jobs")


def _save_variant(
    page, base: str, name: str, *, key: str | None = None, value: str = "", add: str = ""
) -> None:
    page.click("button[data-tab=scenarios]")
    page.select_option("#scenario-select", base)
    page.wait_for_function(
        "name => document.querySelector('#variant-base').textContent === name", arg=base, timeout=30_000
    )
    page.fill("#variant-name", name)
    if key:
        page.fill("#assumption-filter", key)
        page.fill(f"#assumptions input[data-key='{key}']", value)
    if add:
        page.check(f"input[name=catalogue][value='{add}']")
    page.click("#save-variant")
    page.wait_for_function(
        "() => /^(saved|refused)/.test(document.querySelector('#variant-status').textContent)", timeout=60_000
    )
    status = page.inner_text("#variant-status")
    assert status.startswith("saved"), status
    assert page.input_value("#scenario-select") == name
    if key:  # the edit reached the saved file
        assert f"value: {float(value)}" in page.inner_text("#variant-yaml")


def _compare(page, run_ids: list[str], year: int) -> dict[tuple[str, str], list[str]]:
    page.click("button[data-tab=compare]")
    page.fill("#compare-runs", ",".join(run_ids))
    page.fill("#compare-year", str(year))
    page.click("#compare-go")
    page.wait_for_selector(f"#compare-table[data-runs='{','.join(run_ids)}'] tbody tr", timeout=60_000)
    rows = {}
    for row in page.locator("#compare-table tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        rows[(cells[0], cells[1])] = [c.replace(",", "") for c in cells[3:]]  # 277,900,000 -> 277900000
    return rows


def test_run_edit_compare_and_add_a_refinery(live_app: LiveApp, page) -> None:
    page.goto(live_app.url)
    page.wait_for_selector("#scenario-select option", state="attached")
    assert "No run yet" in page.inner_text("#briefing-note")

    # 1. run the flagship and see its Sankey render in the briefing
    _run_selected(page, "malaysia-base")
    page.click("button[data-tab=briefing]")
    page.wait_for_function("() => /latest run/.test(document.querySelector('#briefing-note').textContent)")
    frame = page.frame_locator("#briefing-frame")
    frame.locator("body").wait_for(timeout=60_000)
    report = page.frame(url=re.compile(r"report\.html"))
    assert report is not None
    report.wait_for_load_state("load")
    report.evaluate("() => window.m2m.drawAll()")  # the report draws charts as they scroll into view
    report.wait_for_function(
        "() => document.querySelectorAll('g.sankey .sankey-node').length > 3", timeout=60_000
    )
    screenshot(page, "01-briefing-with-sankey")

    # 2. change an assumption (Mt Weld's 2024 capacity at the low end of its range), re-run, compare the two
    key = "facilities.mines[0].capacity.2024"
    _save_variant(page, "malaysia-base", "weld-low", key=key, value="23100")
    screenshot(page, "02-variant-saved")
    _run_selected(page, "weld-low")
    run_ids = page.locator("#jobs tbody tr[data-status=complete] td:first-child").all_inner_texts()
    base_run, variant_run = run_ids[-1], run_ids[0]  # newest first
    rows = _compare(page, [base_run, variant_run], 2024)
    base_value, variant_value, difference = rows[("domestic_value_added_usd", "separation")]
    assert float(variant_value) < float(base_value) or float(difference) < 0
    assert float(difference) < 0  # less concentrate, less separated at Lynas Malaysia in 2024
    screenshot(page, "03-compare")

    # 3. add the state-linked refinery from the catalogue (its trade links come with it) and see it fed
    _save_variant(page, "malaysia-base", "with-refinery", add="Khazanah-China refinery")
    assert "Never fed" not in page.inner_text("#unreachable")
    _run_selected(page, "with-refinery")
    newest = page.locator("#jobs tbody tr[data-status=complete] td:first-child").all_inner_texts()[0]
    rows = _compare(page, [base_run, newest], 2032)
    fed = rows[("feed_sufficiency", "Khazanah-China refinery")]
    assert fed[0] in ("–", "") and float(fed[1]) > 0.2
    screenshot(page, "04-refinery-fed")

    assert page.errors == [], page.errors


def test_cascade_designer_plots_the_stage_profile(live_app: LiveApp, page) -> None:
    page.goto(live_app.url)
    page.click("button[data-tab=cascade]")
    page.click("#cascade-form button[type=submit]")
    page.wait_for_selector("#cascade-plot .main-svg", timeout=60_000)
    summary = page.inner_text("#cascade-summary")
    assert '"extraction"' in summary and '"scrub"' in summary
    traces = page.evaluate("() => document.getElementById('cascade-plot').data.map(t => t.name)")
    assert {"Pr", "Nd"} <= set(traces)
    screenshot(page, "05-cascade-designer")
    assert page.errors == [], page.errors
