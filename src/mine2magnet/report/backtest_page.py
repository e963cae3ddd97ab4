"""The backtest in HTML: a sentence, a chart of model/published against the declared tolerance, the table.

``backtest_section(bt)`` is a block for the main report; ``write_backtest_page(bt, path)`` writes it as a page
of its own (the report's partial plotly.js inlined, so it opens offline).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from mine2magnet.analysis import Backtest, Comparison
from mine2magnet.report.style import STYLE

_COLOURS = {"pass": "#2ca02c", "fail": "#d62728", "known miss": "#ff7f0e"}


def summary_sentence(bt: Backtest) -> str:
    """One sentence: how many published figures the run reproduces within their tolerance."""
    n = bt.counts()
    compared = n["pass"] + n["fail"] + n["known miss"]
    text = (
        f"Against {compared} published figures of {bt.years[0]}–{bt.years[1]}, the {bt.scenario} run is "
        f"within the declared tolerance for {n['pass']}"
    )
    if n["known miss"]:
        text += f", misses {n['known miss']} for a known reason"
    if n["fail"]:
        text += f" and fails {n['fail']} without one"
    fitted = sum(1 for c in bt.compared if c.in_sample)
    if fitted:
        text += f" ({fitted} of the {compared} were used to fit an input, so they are not independent tests)"
    skipped = n["not modelled"] + n["outside run"]
    return text + (f"; {skipped} more have no modelled counterpart in this run." if skipped else ".")


def ratio_figure(bt: Backtest) -> go.Figure:
    """Model / published per compared observation, with its tolerance as an error bar around 1."""
    rows = sorted(bt.compared, key=lambda c: (c.observation.quantity, c.observation.key))
    fig = go.Figure()
    for status, colour in _COLOURS.items():
        chosen = [c for c in rows if c.status == status and c.ratio is not None]
        if not chosen:
            continue
        fig.add_trace(
            go.Scatter(
                x=[c.ratio for c in chosen],
                y=[f"{c.observation.key}" for c in chosen],
                mode="markers",
                name=status,
                marker={"color": colour, "size": 9},
                hovertext=[_hover(c) for c in chosen],
                hoverinfo="text",
            )
        )
    tol = [c for c in rows if c.observation.tolerance is not None]
    fig.add_trace(
        go.Scatter(
            x=[1.0] * len(tol),
            y=[c.observation.key for c in tol],
            mode="markers",
            name="tolerance",
            showlegend=False,  # an invisible marker carrying the grey bar; the title names the bar
            marker={"color": "rgba(0,0,0,0)"},
            error_x={
                "type": "data",
                "array": [c.observation.tolerance for c in tol],
                "color": "#9aa4ad",
                "thickness": 1.5,
            },
            hoverinfo="skip",
        )
    )
    fig.add_vline(x=1.0, line={"color": "#6a737d", "dash": "dot"})
    fig.update_layout(
        title="Model / published, with the declared tolerance (grey bar)",
        xaxis_title="model / published",
        xaxis_type="log",
        height=max(320, 22 * len(rows) + 120),
        margin={"l": 330, "r": 20, "t": 50, "b": 40},
        plot_bgcolor="#fff",
    )
    return fig


def _hover(c: Comparison) -> str:
    o = c.observation
    return (
        f"{o.key} ({o.period.label})<br>model {_number(c.model)} vs published {_number(o.value)} {o.unit}"
        f"<br>{c.status}: {c.reason or ''}"
    )


def _number(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


#: Table order: what needs attention first, then what passed, then what was not compared.
_ORDER = {"fail": 0, "known miss": 1, "pass": 2, "outside run": 3, "not modelled": 4}


def _status(c: Comparison) -> str:
    """The status, marked "in sample" (with the inputs fitted to it) when the observation set an input."""
    if not c.in_sample:
        return c.status
    return f"{c.status} (in sample: {', '.join(c.fitted_by)} fitted to it)"


def _table(bt: Backtest) -> str:
    rows = []
    for c in sorted(bt.comparisons, key=lambda c: _ORDER.get(c.status, 5)):
        o = c.observation
        ratio = "" if c.ratio is None else f"{c.ratio:.2f}"
        tol = "" if o.tolerance is None else f"±{o.tolerance:.0%}"
        source = escape(o.source.title)
        if o.source.url:
            source = f"<a href='{escape(o.source.url, quote=True)}'>{source}</a>"
        rows.append(
            f"<tr class='status-{escape(c.status.replace(' ', '-'))}'>"
            f"<td><code>{escape(o.key)}</code><br><span class='muted'>{escape(o.subject)}</span></td>"
            f"<td>{escape(o.period.label)}</td>"
            f"<td class='num'>{escape(_number(c.model))}</td><td class='num'>{escape(_number(o.value))}</td>"
            f"<td>{escape(o.unit)}{' ' + escape(o.basis) if o.basis else ''}</td>"
            f"<td class='num'>{ratio}</td><td class='num'>{tol}</td><td>{escape(_status(c))}</td>"
            f"<td>{escape(c.reason or o.tolerance_basis or '')}</td><td>{source}</td></tr>"
        )
    return (
        "<table class='data'><thead><tr><th>observation</th><th>period</th><th>model</th><th>published</th>"
        "<th>unit</th><th>ratio</th><th>tolerance</th><th>status</th><th>why</th><th>source</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def backtest_section(bt: Backtest, chart: str | None = None) -> str:
    """The backtest as an HTML block: the sentence, the ratio chart, the table.

    ``chart``: the chart's HTML as the caller draws it (the report's placeholder, drawn by its page
    script); ``None`` embeds the plotly figure (the page must load plotly.js first).
    """
    if chart is None:
        chart = pio.to_html(ratio_figure(bt), full_html=False, include_plotlyjs=False, validate=False)
    return (
        "<section id='backtest'><h2>Backtest: the model against published history</h2>"
        f"<p><strong>{escape(summary_sentence(bt))}</strong></p>"
        "<p class='how'>Each published figure is compared with the modelled counterpart over the same period "
        "(fiscal years and quarters converted by month); it passes when the difference is within the "
        "tolerance declared with the observation from the uncertainty of the inputs, not fitted to the run. "
        "A known miss carries its reason (docs/validation.md).</p>"
        f"<div class='figure'>{chart}</div>{_table(bt)}</section>"
    )


def write_backtest_page(bt: Backtest, path: str | Path) -> Path:
    """Write the backtest as a self-contained HTML page (written to a temporary file, then moved): its chart
    drawn by the report's page script from the report's partial plotly.js bundle, inlined."""
    import json

    from mine2magnet.report.charts import ChartBook, page_scripts

    target = Path(path)
    book = ChartBook(runs=[bt.scenario], years=[int(bt.years[0]), int(bt.years[1])])
    figure = json.loads(pio.to_json(ratio_figure(bt), validate=False))
    figure.get("layout", {}).pop("template", None)
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>mine2magnet backtest — {escape(bt.scenario)}</title><style>{STYLE}"
        "tr.status-fail td{background:#fdecea} tr.status-known-miss td{background:#fff4e5}</style></head>"
        f"<body><main>{backtest_section(bt, chart=book.figure(figure))}</main>"
        f"{page_scripts(book)}</body></html>"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target
