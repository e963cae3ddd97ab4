"""The report's charts: Sankey of flows and value added by country (plain plotly figures), and the lines of
the KPI series, value added by stage and the scenario comparison (drawn by the page from shared data, see
:mod:`mine2magnet.report.charts`). One palette: :mod:`mine2magnet.elements.palette`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from mine2magnet.elements.palette import series_colour
from mine2magnet.report.charts import Line, colour_of
from mine2magnet.report.comparison import KPI_WORDS
from mine2magnet.report.kpi_table import TOTAL
from mine2magnet.report.quantities import is_additive, is_fraction
from mine2magnet.report.run_view import RunView

#: Facility types from mine to magnet (matched by substring of the facility ``type``); the rest come after.
STAGE_ORDER = (
    "deposit",
    "mine",
    "smuggl",
    "crack",
    "concentrat",
    "refin",
    "separat",
    "metal",
    "alloy",
    "magnet",
    "recycl",
    "market",
)
#: More lines than this in one KPI chart are merged to one line per facility (additive KPIs).
MAX_LINES = 10
#: A plotly figure as plain data ``{"data": [traces], "layout": {...}}`` (no plotly.py validation: fast).
Figure = dict[str, Any]
_AXIS = {"gridcolor": "#e9ecef", "zerolinecolor": "#ced4da"}
LAYOUT: dict[str, Any] = {
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
    "height": 380,
    "font": {"size": 12},
}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout = {**LAYOUT, "title": {"text": title}, **extra}
    layout["xaxis"] = {**_AXIS, **extra.get("xaxis", {})}
    layout["yaxis"] = {**_AXIS, **extra.get("yaxis", {})}
    return layout


def _floats(values: Any) -> list[float | None]:
    return [None if v != v else float(v) for v in values]


def stage_rank(facility_type: str) -> int:
    """Position of a facility type along the chain (mines first, markets last)."""
    text = (facility_type or "").lower()
    for i, key in enumerate(STAGE_ORDER):
        if key in text:
            return i
    return len(STAGE_ORDER)


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _types(view: RunView) -> dict[str, str]:
    facilities = view.table("facilities")
    return {str(f): str(t or "") for f, t in zip(facilities["facility"], facilities["type"], strict=True)}


def _countries(view: RunView) -> dict[str, str]:
    facilities = view.table("facilities")
    return {
        str(f): "" if c is None or c != c else str(c)
        for f, c in zip(facilities["facility"], facilities["country"], strict=True)
    }


def sankey_figure(view: RunView, year: int) -> Figure | None:
    """Material flows (t REO, all elements) between facilities in ``year``; ``None`` if the year has none."""
    flows = view.table("flows")
    flows = flows[(flows["year"] == year)].copy()
    flows["t"] = pd.to_numeric(flows["t"], errors="coerce").fillna(0.0)
    flows["value_usd"] = pd.to_numeric(flows["value_usd"], errors="coerce").fillna(0.0)
    links = flows.groupby(["source", "target", "commodity"], as_index=False)[["t", "value_usd"]].sum()
    links = links[links["t"] > 0]
    if links.empty:
        return None
    types = _types(view)
    countries = _countries(view)
    names = sorted(
        set(links["source"]) | set(links["target"]),
        key=lambda n: (stage_rank(types.get(n, "market" if n in set(links["target"]) else "")), n),
    )
    index = {n: i for i, n in enumerate(names)}
    commodities = list(dict.fromkeys(links["commodity"]))
    colour = {c: series_colour(i) for i, c in enumerate(commodities)}
    trace = {
        "type": "sankey",
        "arrangement": "snap",
        "valueformat": ",.0f",
        "valuesuffix": " t",
        "node": {
            "label": names,
            "pad": 14,
            "thickness": 16,
            "color": [
                "#2b6cb0" if view.focus_country and countries.get(n) == view.focus_country else "#8a939c"
                for n in names
            ],
            "customdata": [
                [types.get(n, "") or "outside the chain", countries.get(n, "") or "—"] for n in names
            ],
            "hovertemplate": "%{label}<br>%{customdata[0]}, %{customdata[1]}<br>%{value:,.0f} t REO"
            "<extra></extra>",
        },
        "link": {
            "source": [index[s] for s in links["source"]],
            "target": [index[t] for t in links["target"]],
            "value": _floats(links["t"]),
            "color": [_rgba(colour[c], 0.45) for c in links["commodity"]],
            "customdata": [
                [c, float(v)] for c, v in zip(links["commodity"], links["value_usd"], strict=True)
            ],
            "hovertemplate": "%{source.label} → %{target.label}<br>%{customdata[0]}: "
            "%{value:,.0f} t REO"
            "<br>worth USD %{customdata[1]:,.0f}<extra></extra>",
        },
    }
    legend = " · ".join(f"<span style='color:{colour[c]}'>■</span> {c}" for c in commodities)
    if view.focus_country:
        legend += f"<br>nodes: <span style='color:#2b6cb0'>■</span> in {view.focus_country}, "
        legend += "<span style='color:#8a939c'>■</span> elsewhere"
    layout = {
        "title": {"text": f"Rare-earth flows in {year} (t REO, all elements) — {legend}"},
        "height": max(420, 28 * len(names)),
        "margin": {"l": 20, "r": 20, "t": 60, "b": 20},
        "font": {"size": 12},
        "paper_bgcolor": "white",
    }
    return {"data": [trace], "layout": layout}


def _axis_unit(unit: str) -> tuple[float, str]:
    return (100.0, "%") if is_fraction(unit) else (1.0, unit)


def _by_year(group: pd.DataFrame) -> dict[int, float]:
    summed = group.groupby("year")["value"].sum(min_count=1)
    return {int(y): float(v) for y, v in summed.items() if v == v}


def kpi_lines(view: RunView, kpi: str, run: int = 0) -> tuple[list[Line], str]:
    """One KPI over the years, one line per facility/stage/element it is reported for (elements in their
    own colours); more than MAX_LINES lines of an additive KPI are summed per facility. Returns (lines,
    unit)."""
    frame = view.kpis.subjects
    frame = frame[frame["kpi"] == kpi]
    if frame.empty:
        return [], ""
    unit = str(frame["unit"].iloc[0] or "")
    if frame["subject"].nunique() > 1:
        frame = frame[frame["subject"] != TOTAL]
    if frame["subject"].nunique() > MAX_LINES and is_additive(unit):  # one line per facility, elements summed
        frame = frame.assign(subject=frame["facility"].fillna("").astype(str).replace("", TOTAL))
    lines = []
    for i, (subject, group) in enumerate(frame.groupby("subject", sort=True)):
        name = str(subject)
        lines.append(Line(name, _by_year(group), unit, colour_of(name, i), run=run, kpi=kpi, subject=name))
    return lines, unit


def value_added_by_stage_lines(view: RunView, run: int = 0) -> list[Line]:
    """Domestic value added by stage/facility and year, as the model reports it (USD; stacked bars)."""
    frame = view.kpis.subjects
    frame = frame[(frame["kpi"] == "domestic_value_added_usd")]
    if frame.empty:
        return []
    if frame["subject"].nunique() > 1:
        frame = frame[frame["subject"] != TOTAL]
    return [
        Line(
            str(s),
            _by_year(g),
            "USD",
            series_colour(i),
            run=run,
            kpi="domestic_value_added_usd",
            subject=str(s),
        )
        for i, (s, g) in enumerate(frame.groupby("subject", sort=True))
    ]


def value_added_from_flows(view: RunView, year: int) -> pd.DataFrame:
    """Value added per facility in ``year`` from the flows: value shipped out minus value bought in (USD).

    Columns: facility, type, country, value_added_usd. Markets, outside suppliers and nodes that are not
    facilities (residue stores) are left out.
    """
    flows = view.table("flows")
    flows = flows[flows["year"] == year]
    value = pd.to_numeric(flows["value_usd"], errors="coerce").fillna(0.0)
    out = value.groupby(flows["source"]).sum()
    into = value.groupby(flows["target"]).sum()
    facilities = view.table("facilities")
    rows = []
    for name, kind, country in zip(
        facilities["facility"], facilities["type"], facilities["country"], strict=True
    ):
        if any(word in str(kind).lower() for word in ("market", "supplier")):
            continue  # demand, and supply from outside the modelled chain: their inputs are not modelled
        added = float(out.get(name, 0.0)) - float(into.get(name, 0.0))
        if out.get(name) is None and into.get(name) is None:
            continue
        rows.append((name, str(kind or ""), str(country or ""), added))
    return pd.DataFrame(rows, columns=["facility", "type", "country", "value_added_usd"])


def value_added_by_country_figure(view: RunView, year: int) -> Figure | None:
    """Who captures the value in ``year``: value added by stage (x) and country (colour), from the flows."""
    table = value_added_from_flows(view, year)
    if table.empty:
        return None
    grouped = table.groupby(["type", "country"], as_index=False)["value_added_usd"].sum()
    stages = sorted(grouped["type"].unique(), key=lambda t: (stage_rank(t), t))
    traces = []
    for i, (country, group) in enumerate(grouped.groupby("country", sort=True)):
        group = group.set_index("type").reindex(stages)
        traces.append(
            {
                "type": "bar",
                "x": stages,
                "y": _floats(group["value_added_usd"]),
                "name": country or "unknown",
                "marker": {"color": series_colour(i)},
            }
        )
    layout = _layout(
        f"Value added by stage and country in {year} (USD; value out − value in, from the flows)",
        barmode="relative",
        yaxis={"title": {"text": "USD"}},
    )
    return {"data": traces, "layout": layout}


def comparison_charts(views: Sequence[RunView], kpi: str) -> list[tuple[str, list[Line], str]]:
    """One KPI over the years for several runs, each run in its own colour (its index in the palette):
    totals where they add up (one chart); otherwise one chart per facility/stage/element with a line per
    run, so a facility that starts late (a new refinery) or exists in one run only keeps its whole series.
    Returns ``[(title, lines, unit)]``."""
    words = KPI_WORDS.get(kpi, kpi)
    unit = ""
    for view in views:
        rows = view.kpis.subjects
        rows = rows[rows["kpi"] == kpi]
        if len(rows):
            unit = str(rows["unit"].iloc[0] or "")
            break
    if not unit and not any((v.kpis.subjects["kpi"] == kpi).any() for v in views):
        return []
    if is_additive(unit):
        lines = []
        for run, view in enumerate(views):
            totals = view.kpis.totals
            totals = totals[totals["kpi"] == kpi]
            if len(totals):
                values = {int(y): float(v) for y, v in zip(totals["year"], totals["value"], strict=True)}
                lines.append(
                    Line(view.label, values, unit, series_colour(run), run=run, kpi=kpi, subject=TOTAL)
                )
        return [(f"{words} by scenario ({kpi})", lines, unit)] if lines else []
    charts = []
    subjects: dict[str, None] = {}
    for view in views:
        rows = view.kpis.subjects
        names = rows.loc[rows["kpi"] == kpi, "subject"]
        names = [str(s) for s in names if str(s) != TOTAL] or [str(s) for s in names]
        subjects.update(dict.fromkeys(names))
    for subject in subjects:
        lines = []
        for run, view in enumerate(views):
            rows = view.kpis.subjects
            rows = rows[(rows["kpi"] == kpi) & (rows["subject"] == subject)]
            if len(rows):
                lines.append(
                    Line(
                        view.label,
                        _by_year(rows),
                        unit,
                        series_colour(run),
                        run=run,
                        kpi=kpi,
                        subject=subject,
                    )
                )
        if lines:
            title = (
                f"{words} by scenario — {subject} ({kpi})"
                if subject != TOTAL
                else f"{words} by scenario ({kpi})"
            )
            charts.append((title, lines, unit))
    return charts
