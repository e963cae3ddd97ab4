"""Assemble the self-contained HTML report (plotly.js inlined: the file opens offline) and write it."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import plotly.io as pio
from plotly.offline import get_plotlyjs

from mine2magnet import __version__
from mine2magnet.analysis import Backtest
from mine2magnet.economics.claims import ClaimCheck
from mine2magnet.errors import InputError, Mine2MagnetError
from mine2magnet.report import figures
from mine2magnet.report.backtest_page import backtest_section, summary_sentence
from mine2magnet.report.claims_section import claims_section, claims_sentence
from mine2magnet.report.comparison import KPI_WORDS, kpi_comparison, what_changes
from mine2magnet.report.headlines import HEADLINE_KPIS, headlines
from mine2magnet.report.kpi_table import TOTAL
from mine2magnet.report.quantities import format_value
from mine2magnet.report.run_view import ReportableRun, RunView, distinct_labels, run_view
from mine2magnet.report.sources import assumptions_section, conflicts_section
from mine2magnet.report.style import STYLE


def _figure_html(figure: figures.Figure | None) -> str:
    if figure is None:
        return ""
    html = pio.to_html(
        figure,
        full_html=False,
        include_plotlyjs=False,
        validate=False,
        config={"displaylogo": False, "responsive": True},
    )
    return f"<div class='figure'>{html}</div>"


def _cards(view: RunView, year: int) -> str:
    items = headlines(view, year)
    if not items:
        return "<p>This run reports none of the headline KPIs.</p>"
    return (
        "<div class='cards'>"
        + "".join(
            f"<div class='card' data-kpi='{escape(h.kpi, quote=True)}'>"
            f"<div class='title'>{escape(h.title)}</div>"
            f"<div class='number'>{escape(h.number)}</div><p>{escape(h.sentence)}</p></div>"
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
    names = {str(k) for v in views for k in v.table("kpis")["kpi"].unique()}
    return [k for k in HEADLINE_KPIS if k in names] + sorted(names - set(HEADLINE_KPIS))


def _run_details(view: RunView, year: int) -> str:
    anchor = escape(view.label, quote=True)
    parts = [f"<h2 id='run-{anchor}'>{escape(view.label)}: flows and value</h2>"]
    sankey = figures.sankey_figure(view, year)
    parts.append(
        _figure_html(sankey) if sankey else f"<p>No material flows in {year}.</p>",
    )
    parts.append(_figure_html(figures.value_added_by_stage_figure(view)))
    parts.append(_figure_html(figures.value_added_by_country_figure(view, year)))
    parts.append(f"<h3>KPIs over time — {escape(view.label)}</h3>")
    parts.extend(_figure_html(figures.kpi_figure(view, kpi)) for kpi in _kpi_names([view]))
    return "".join(parts)


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
        else "mine2magnet — " + " vs ".join(v.label for v in views)
    )
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = ["<a href='#key'>Key figures</a>"]
    if backtest is not None:
        nav.append("<a href='#backtest'>Backtest</a>")
    if claims:
        nav.append("<a href='#claims'>Claims</a>")
    if len(views) > 1:
        nav.append("<a href='#compare'>Comparison</a>")
    nav += [f"<a href='#run-{escape(v.label, quote=True)}'>{escape(v.label)}</a>" for v in views]
    nav += [
        "<a href='#assumptions'>Assumptions</a>",
        "<a href='#conflicts'>Conflicts</a>",
        "<a href='#about'>About</a>",
    ]

    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class='muted'>Year shown: {year}. Generated {generated} by mine2magnet "
        f"{escape(__version__)}.</p>",
        f"<nav>{''.join(nav)}</nav>",
        f"<h2 id='key'>Key figures in {year}</h2>",
    ]
    for view in views:
        if len(views) > 1:
            body.append(f"<h3>{escape(view.label)}</h3>")
        if view.description:
            body.append(f"<p class='muted'>{escape(view.description)}</p>")
        body.append(_cards(view, year))
    body.append(
        "<p class='how'>How to read: value added is what each stage sells minus what it buys, counted "
        "where the plant is. Feed sufficiency is the share of a refinery's capacity that available ore or "
        "concentrate can fill. Magnet self-sufficiency is the share of the domestic magnet plants' "
        "rare-earth needs met from domestic refining. Tonnes of material are tonnes of rare-earth oxide "
        "(REO basis); residues are in tonnes of residue. Every input number is listed with its source under "
        "Assumptions; where sources disagree, see Conflicts.</p>"
    )
    if backtest is not None:
        body.append(
            f"<p><strong>Checked against history:</strong> {escape(summary_sentence(backtest))} "
            "<a href='#backtest'>Backtest</a>.</p>"
        )
    if claims:
        body.append(
            f"<p><strong>Published claims:</strong> {escape(claims_sentence(claims))} "
            "<a href='#claims'>Claims</a>.</p>"
        )
    if len(views) > 1:
        body.append("<h2 id='compare'>Comparison of scenarios</h2>")
        body.append(_changes(views, year))
        body.append(_comparison_table(views, year))
        present = set(_kpi_names(views))  # headline KPIs only: other totals would add up along the chain
        body.extend(_figure_html(figures.comparison_figure(views, k)) for k in HEADLINE_KPIS if k in present)
    body.extend(_run_details(view, year) for view in views)
    if backtest is not None:
        body.append(backtest_section(backtest))
    if claims:
        body.append(claims_section(claims))
    body.append("<h2 id='assumptions'>Assumptions and their sources</h2>")
    body.append(
        "<p>Every number the scenario uses, with its kind (measured, reported, estimate, derived or an "
        "explicit assumption, highlighted) and stated range.</p>"
    )
    body.append(assumptions_section(views))
    body.append("<h2 id='conflicts'>Where sources disagree</h2>")
    body.append(f"<p class='muted'>{escape(note)}</p>" if note else "")
    body.append(conflicts_section(conflicts))
    body.append("<h2 id='about'>About these runs</h2>")
    body.append(_about(views))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head>"
        f"<body><main>{''.join(body)}</main></body></html>"
    )


def write_report(
    results: Sequence[ReportableRun],
    path: str | os.PathLike[str],
    year: int | None = None,
    conflicts: Sequence[Any] | None = None,
    title: str | None = None,
    backtest: Backtest | None = None,
    claims: Sequence[ClaimCheck] | None = None,
) -> Path:
    """Write one self-contained HTML report about ``results`` to ``path`` and return the path.

    ``results``: ChainResults and/or StoredRuns (several -> a scenario comparison, first = reference).
    ``year``: the year of the Sankey and the key figures (default: the first run's last year).
    ``conflicts``: data conflicts to list (``Conflict`` objects or their ``to_dict()``); ``None`` loads them
    from ``mine2magnet.data``; ``()`` shows none. ``backtest``: a history backtest to show after the key
    figures (its sentence) and in a section of its own; ``claims``: published claims checked against the
    first run, likewise. The file is written atomically (temp file + rename).
    """
    html = render_report(
        results, year=year, conflicts=conflicts, title=title, backtest=backtest, claims=claims
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target
