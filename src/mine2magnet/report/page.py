"""Assemble the self-contained HTML report and write it.

The page opens with the briefing (the seed questions, one screen each); everything else — the scenario
comparison, each run's flows, value and KPI series, the backtest, the claims, the assumptions with their
sources, the conflicts — sits in sections the reader opens (``<details>``). The data are in the page once
(one JSON block), the charts are drawn in the browser from it when they come into view, and plotly.js
(core + bar + sankey) is inlined once, gzipped (see :mod:`mine2magnet.report.charts`). The file opens
offline and downloads nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import plotly.io as pio

from mine2magnet import __version__
from mine2magnet.analysis import Backtest
from mine2magnet.economics.claims import ClaimCheck
from mine2magnet.errors import InputError, Mine2MagnetError
from mine2magnet.report import figures
from mine2magnet.report.backtest_page import backtest_section, ratio_figure
from mine2magnet.report.briefing import Range, answers, briefing_html
from mine2magnet.report.charts import ChartBook, page_scripts
from mine2magnet.report.claims_section import claims_section
from mine2magnet.report.comparison import KPI_WORDS, kpi_comparison, what_changes
from mine2magnet.report.headlines import HEADLINE_KPIS, headlines
from mine2magnet.report.kpi_table import TOTAL
from mine2magnet.report.quantities import format_value
from mine2magnet.report.run_view import ReportableRun, RunView, distinct_labels, run_view
from mine2magnet.report.sources import assumptions_section, conflicts_section
from mine2magnet.report.style import STYLE
from mine2magnet.store.atomic import atomic_write_text

#: KPIs that are bookkeeping, not findings: left out of the charts (they stay in the store and summary).
NOT_CHARTED = ("mass_balance_error", "myr_per_usd")


def _cards(view: RunView, year: int) -> str:
    items = headlines(view, year)
    if not items:
        return "<p>This run reports none of the headline KPIs.</p>"
    return (
        "<div class='cards'>"
        + "".join(
            f"<div class='card' data-kpi='{escape(h.kpi, quote=True)}'>"
            f"<div class='title'>{escape(h.title)} in {year}</div>"
            f"<div class='number'>{escape(h.number)}</div>"
            + (f"<div class='period'>{escape(h.period)}</div>" if h.period else "")
            + f"<p>{escape(h.sentence)}</p></div>"
            for h in items
        )
        + "</div>"
    )


def _comparison_table(views: Sequence[RunView], year: int) -> str:
    """Headline KPIs in ``year``, one column per run: totals where values add up, else one row per subject."""
    table = kpi_comparison(views, year)
    head = "".join(f"<th>{escape(v.label)}</th>" for v in views)
    rows = []
    for rec in table.to_dict("records"):
        words = KPI_WORDS.get(rec["kpi"], rec["kpi"])
        name = f"{escape(words)} <code class='muted'>{escape(rec['kpi'])}</code>"
        if rec["subject"] != TOTAL:
            name += f" · {escape(rec['subject'])}"
        cells = "".join(
            f"<td class='num'>{escape(format_value(rec[v.label], rec['unit']))}</td>" for v in views
        )
        rows.append(f"<tr><td>{name}</td>{cells}</tr>")
    return (
        f"<table class='data'><thead><tr><th>KPI in {year}</th>{head}</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        "<p class='muted'>Totals where values add up (tonnes, USD, Bq); shares and indices per facility, "
        "stage or element. n/a means not reported.</p>"
    )


def _changes(views: Sequence[RunView], year: int) -> str:
    """What changes against the first run, in words (headline KPIs moving by 5 % or more)."""
    parts = []
    for label, sentences in what_changes(views, year).items():
        items = "".join(f"<li>{escape(s)}</li>" for s in sentences) or "<li>no headline figure changes</li>"
        parts.append(f"<h3>{escape(label)} against {escape(views[0].label)}</h3><ul>{items}</ul>")
    return "".join(parts)


def _kpi_names(views: Sequence[RunView]) -> list[str]:
    names = {str(k) for v in views for k in v.table("kpis")["kpi"].unique()} - set(NOT_CHARTED)
    return [k for k in HEADLINE_KPIS if k in names] + sorted(names - set(HEADLINE_KPIS))


def _section(anchor: str, summary: str, body: str, *, open_: bool = False) -> str:
    return (
        f"<details id='{escape(anchor, quote=True)}'{' open' if open_ else ''}><summary>{summary}</summary>"
        f"<div class='inner'>{body}</div></details>"
    )


def _run_details(view: RunView, run: int, year: int, book: ChartBook, skip: set[str]) -> str:
    """One run: its key figures, Sankey, value added, and the KPI series not already compared."""
    parts = [f"<p class='muted'>{escape(view.description)}</p>" if view.description else ""]
    parts.append(_cards(view, year))
    sankey = figures.sankey_figure(view, year)
    parts.append(book.figure(sankey) if sankey else f"<p class='flat'>No material flows in {year}.</p>")
    stage = figures.value_added_by_stage_lines(view, run)
    if stage:
        parts.append(book.lines("Domestic value added by stage (USD/yr)", stage, "USD", kind="bars"))
    country = figures.value_added_by_country_figure(view, year)
    if country:
        parts.append(book.figure(country))
    names = [k for k in _kpi_names([view]) if k not in skip]
    if names:
        parts.append(f"<h3>KPI series — {escape(view.label)}</h3>")
    for kpi in names:
        lines, unit = figures.kpi_lines(view, kpi, run)
        title = f"{KPI_WORDS.get(kpi, kpi.replace('_', ' '))} ({kpi})"
        parts.append(book.lines(title, lines, unit))
    anchor = f"run-{view.label}"
    years = f"{min(view.years)}–{max(view.years)}" if view.years else ""
    return _section(
        anchor, f"{escape(view.label)}: key figures, flows, value and KPI series, {years}", "".join(parts)
    )


def _about(views: Sequence[RunView]) -> str:
    rows = []
    for v in views:
        years = f"{min(v.years)}–{max(v.years)}" if v.years else ""
        mb = v.summary.get("mass_balance_error") if isinstance(v.summary, dict) else None
        rows.append(
            f"<tr><td>{escape(v.label)}</td><td>{escape(v.scenario)}</td>"
            f"<td>{escape(', '.join(v.overrides))}</td>"
            f"<td>{escape(years)}</td><td><code>{escape(v.run_id or 'not stored')}</code></td>"
            f"<td class='num'>{escape(format_value(mb, '') if isinstance(mb, int | float) else '')}</td></tr>"
        )
    return (
        "<table class='data'><thead><tr><th>run</th><th>scenario</th><th>overrides</th><th>years</th>"
        "<th>run id</th><th>mass-balance error</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _load_conflicts() -> tuple[list[Any], str]:
    try:
        from mine2magnet.data import load_dataset

        return list(load_dataset().conflicts()), ""
    except (Mine2MagnetError, ImportError) as exc:
        return [], f"The reference data could not be loaded, so conflicts are not shown: {exc}"


def render_report(
    results: Sequence[ReportableRun],
    year: int | None = None,
    conflicts: Sequence[Any] | None = None,
    title: str | None = None,
    backtest: Backtest | None = None,
    claims: Sequence[ClaimCheck] | None = None,
    ranges: Mapping[str, Range] | None = None,
) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    if not results:
        raise InputError("no runs to report on", field="results")
    views = distinct_labels([run_view(r) for r in results])
    first = views[0]
    if year is None:
        year = max(first.years) if first.years else None
        if year is None:
            raise InputError(f"run {first.label} has no years", field="years")
    elif int(year) not in first.years:
        raise InputError(
            f"{year} is not a year of run {first.label} ({min(first.years)}–{max(first.years)})",
            field="year",
        )
    year = int(year)
    note = ""
    if conflicts is None:
        conflicts, note = _load_conflicts()
    title = title or (
        f"mine2magnet — {first.label}"
        if len(views) == 1
        else f"mine2magnet — {first.label} and {len(views) - 1} compared scenario(s)"
    )
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    all_years = sorted({int(y) for v in views for y in v.years})
    book = ChartBook(runs=[v.label for v in views], years=all_years)

    briefing = answers(views, year, book, backtest=backtest, claims_checked=claims, ranges=ranges)
    years = f"{all_years[0]}–{all_years[-1]}" if len(all_years) > 1 else str(all_years[0])
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class='muted'>Runs: {escape(', '.join(v.label for v in views))} ({years}; the first is the "
        f"reference). Single-year figures are for {year}. Generated {generated} by mine2magnet "
        f"{escape(__version__)}.</p>",
        "<p class='how'>The briefing answers the seed questions, one screen each: the number, its range "
        "where "
        "one is known, the years it refers to and why. Open the sections below it for the detail: every "
        "scenario's series, flows, assumptions with their sources, and where sources disagree. Tonnes of "
        "material are tonnes of rare-earth oxide (REO); residues are tonnes of residue.</p>",
        "<div id='briefing'>",
        briefing_html(briefing, sampled=bool(ranges)),
        "</div>",
        "<h2 id='details'>Details (open a section)</h2>",
    ]
    if len(views) > 1:
        compare = [_changes(views, year), _comparison_table(views, year)]
        present = set(_kpi_names(views))
        for kpi in (k for k in HEADLINE_KPIS if k in present):
            for chart_title, lines, unit in figures.comparison_charts(views, kpi):
                compare.append(book.lines(chart_title, lines, unit))
        body.append(
            _section(
                "compare",
                "Comparison of scenarios: what changes, headline KPIs over the years",
                "".join(compare),
            )
        )
        skip = set(HEADLINE_KPIS)
    else:
        skip = set()
    body.extend(_run_details(view, run, year, book, skip) for run, view in enumerate(views))
    if backtest is not None:
        figure = json.loads(pio.to_json(ratio_figure(backtest), validate=False))
        figure.get("layout", {}).pop("template", None)
        body.append(
            _section(
                "backtest",
                "Backtest: the model against published history",
                backtest_section(backtest, chart=book.figure(figure)),
            )
        )
    if claims:
        body.append(_section("claims", "Published claims beside the model", claims_section(claims)))
    body.append(
        _section(
            "assumptions",
            "Assumptions and their sources",
            "<p>Every number the scenario uses, with its kind (measured, reported, estimate, derived or an "
            "explicit assumption, highlighted) and stated range.</p>" + assumptions_section(views),
        )
    )
    body.append(
        _section(
            "conflicts",
            "Where sources disagree",
            (f"<p class='muted'>{escape(note)}</p>" if note else "") + conflicts_section(conflicts),
        )
    )
    body.append(_section("about", "About these runs", _about(views)))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(body)}</main>{page_scripts(book)}</body></html>"
    )


def load_ranges(path: str | os.PathLike[str]) -> dict[str, Range]:
    """Ranges for the briefing from an uncertainty file: ``{"briefing": {key: [p5, p50, p95]}}`` (what
    ``mine2magnet run --ranges`` writes), ``{"ranges": {key: [p5, p50, p95]}}`` or ``{key: {"p5", "p50",
    "p95"}}``, keys being KPI names or briefing answer keys (``feed``, ``value``...).
    """
    source = Path(path)
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read ranges: {exc}", file=str(source)) from exc
    # an uncertainty study's file (analysis.uncertainty.answers): the briefing's own ranges under "briefing"
    if isinstance(raw, dict):
        raw = raw["briefing"] if "briefing" in raw else raw.get("ranges", raw)
    if not isinstance(raw, dict):
        raise InputError("expected an object of {kpi: [p5, p50, p95]}", file=str(source), field="ranges")
    out: dict[str, Range] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            value = [value.get("p5"), value.get("p50"), value.get("p95")]
        try:
            p5, p50, p95 = (float(x) for x in value)
        except (TypeError, ValueError):
            raise InputError(
                f"expected three numbers [p5, p50, p95], got {value!r}",
                file=str(source),
                field=f"ranges.{key}",
            ) from None
        out[str(key)] = (p5, p50, p95)
    return out


def write_report(
    results: Sequence[ReportableRun],
    path: str | os.PathLike[str],
    year: int | None = None,
    conflicts: Sequence[Any] | None = None,
    title: str | None = None,
    backtest: Backtest | None = None,
    claims: Sequence[ClaimCheck] | None = None,
    ranges: Mapping[str, Range] | None = None,
) -> Path:
    """Write one self-contained HTML report about ``results`` to ``path`` and return the path.

    ``results``: ChainResults and/or StoredRuns (several -> a scenario comparison, first = reference).
    ``year``: the year of the Sankey and the single-year figures (default: the first run's last year).
    ``conflicts``: data conflicts to list (``Conflict`` objects or their ``to_dict()``); ``None`` loads them
    from ``mine2magnet.data``; ``()`` shows none. ``backtest``: a history backtest (a briefing sentence and
    a section of its own); ``claims``: published claims checked against the first run, likewise.
    ``ranges``: ``{kpi or answer key: (p5, p50, p95)}`` shown on the briefing; ``None`` reads
    ``uncertainty.json`` beside the report when there is one (see :func:`load_ranges`). The file is written
    atomically (temp file + rename).
    """
    target = Path(path)
    if ranges is None and (target.parent / "uncertainty.json").is_file():
        ranges = load_ranges(target.parent / "uncertainty.json")
    html = render_report(
        results, year=year, conflicts=conflicts, title=title, backtest=backtest, claims=claims, ranges=ranges
    )
    return atomic_write_text(target, html)
