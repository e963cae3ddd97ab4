"""The report's charts as small specs over one shared data block; the page's script draws them in the browser.

A :class:`ChartBook` holds, once, every KPI series a chart needs (one row per run, KPI and subject, values
over the report's whole horizon of years, ``null`` where a run has none), and one spec per chart that names
its series, colours and axis. Page size grows with the data, not with the number of charts, and a chart is
drawn only when a reader opens its section. A chart whose every line is flat (or empty) is not drawn:
:meth:`ChartBook.lines` returns a sentence instead.

Colours: elements always take their colour from :mod:`mine2magnet.elements.palette`; runs, facilities and
stages take :func:`~mine2magnet.elements.palette.series_colour` by position.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from mine2magnet.elements import ELEMENTS
from mine2magnet.elements.palette import element_colour, series_colour
from mine2magnet.report.quantities import format_value, is_additive, is_fraction

#: Line styles that tell runs apart when colour already tells subjects apart.
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def colour_of(name: str, index: int) -> str:
    """An element's own colour when ``name`` is an element symbol, else the ``index``-th series colour."""
    return element_colour(name) if name in ELEMENTS else series_colour(index)


def axis_of(unit: str) -> tuple[float, str]:
    """(scale, axis title) of a unit: shares are drawn in %, everything else as stated."""
    return (100.0, "%") if is_fraction(unit) else (1.0, unit)


def _tick_format(unit: str) -> str:
    if is_fraction(unit):
        return ".0f"
    if is_additive(unit):
        return ".3~s"  # 8.66M, 12.3k: three significant digits, never "8.656001M"
    return ",.3~r"  # 1,000 persons, 0.693: no exponent ("1e+3")


def _rounded(value: Any) -> float | None:
    """A value for the chart data: 6 significant digits (charts only; the words use full precision)."""
    if value is None:
        return None
    v = float(value)
    if not math.isfinite(v):
        return None
    return float(f"{v:.6g}")


def _flat(values: Sequence[float | None]) -> bool:
    present = [v for v in values if v is not None]
    if not present:
        return True
    low, high = min(present), max(present)
    return high - low <= 1e-9 * max(1.0, abs(high), abs(low))


@dataclass
class Line:
    """One line (or bar series) of a chart: a name, values by year, and optionally its colour and style."""

    name: str
    values: dict[int, float]
    unit: str = ""
    colour: str | None = None
    dash: str = "solid"
    run: int = 0
    kpi: str = ""
    subject: str = ""


@dataclass
class ChartBook:
    """Shared data (runs, years, series) and chart specs of one report page."""

    runs: list[str]
    years: list[int]
    series: list[dict[str, Any]] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    #: Sentences that replaced flat or empty charts.
    sentences: list[str] = field(default_factory=list)
    _index: dict[tuple[int, str, str, str], int] = field(default_factory=dict)

    def series_id(self, line: Line) -> int:
        """The index of ``line``'s values in the shared series (added once per run, KPI, subject, unit)."""
        key = (line.run, line.kpi, line.subject or line.name, line.unit)
        if key not in self._index:
            self._index[key] = len(self.series)
            self.series.append(
                {
                    "r": line.run,
                    "k": line.kpi,
                    "s": line.subject or line.name,
                    "u": line.unit,
                    "v": [_rounded(line.values.get(y)) for y in self.years],
                }
            )
        return self._index[key]

    def _add(self, spec: dict[str, Any]) -> str:
        spec["id"] = f"c{len(self.charts)}"
        self.charts.append(spec)
        return spec["id"]

    def lines(
        self,
        title: str,
        lines: Sequence[Line],
        unit: str,
        *,
        kind: str = "lines",
        height: int = 340,
        what: str = "",
    ) -> str:
        """A line (or stacked-bar, ``kind="bars"``) chart of ``lines`` over the years, as the HTML
        placeholder the page script draws it into; or, when there is nothing to draw (no values, or every line
        flat), a sentence giving each line's constant value and years."""
        scale, axis = axis_of(unit)
        lines = [ln for ln in lines if any(v is not None and math.isfinite(v) for v in ln.values.values())]
        if not lines:
            return self._sentence(f"{title}: no values in any year.")
        if all(_flat([ln.values.get(y) for y in self.years]) for ln in lines):
            return self._sentence(self._flat_sentence(title, lines, unit))
        traces = []
        for i, ln in enumerate(lines):
            traces.append(
                {
                    "s": self.series_id(ln),
                    "name": ln.name,
                    "color": ln.colour or colour_of(ln.name, i),
                    "dash": ln.dash,
                }
            )
        chart = {
            "kind": kind,
            "title": title,
            "scale": scale,
            "axis": axis,
            "tickformat": _tick_format(unit),
            "height": height,
            "traces": traces,
        }
        if what:
            chart["what"] = what
        return self._div(self._add(chart), height)

    def _sentence(self, text: str) -> str:
        self.sentences.append(text)
        return f"<p class='flat'>{escape(text)}</p>"

    @staticmethod
    def _div(chart_id: str, height: int) -> str:
        return f"<div class='chart' data-chart='{chart_id}' style='height:{height}px'></div>"

    def _flat_sentence(self, title: str, lines: Sequence[Line], unit: str) -> str:
        parts = []
        for ln in lines[:8]:
            years = sorted(y for y, v in ln.values.items() if v is not None and math.isfinite(v))
            span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
            value = next(v for y, v in sorted(ln.values.items()) if v is not None and math.isfinite(v))
            parts.append(f"{ln.name} {format_value(value, unit)} ({span})")
        more = f" and {len(lines) - 8} more" if len(lines) > 8 else ""
        return f"{title}: constant, so not drawn — {', '.join(parts)}{more}."

    def figure(self, figure: dict[str, Any]) -> str:
        """A chart given as a plain plotly figure (Sankey, bars by country, the backtest's ratios), as the
        HTML placeholder the page script draws it into."""
        height = int(figure.get("layout", {}).get("height", 380))
        return self._div(self._add({"kind": "figure", "figure": figure}), height)

    def to_json(self) -> str:
        """The data block: ``{"runs", "years", "series", "charts"}`` as compact JSON (safe inside HTML)."""
        payload = {"runs": self.runs, "years": self.years, "series": self.series, "charts": self.charts}
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.replace("</", "<\\/")


#: The plotly.js bundle the page inlines (core + bar + sankey, gzipped; see assets/build-plotly.sh).
BUNDLE = "plotly-m2m.min.js.gz"


@cache
def plotly_bundle_base64() -> str:
    """The gzipped plotly.js bundle, base64-encoded for inlining (the page decompresses it in the browser)."""
    data = resources.files("mine2magnet.report").joinpath("assets", BUNDLE).read_bytes()
    return base64.b64encode(data).decode("ascii")


#: The page script: inflate plotly.js (DecompressionStream), then draw each chart from the shared data when
#: it comes into view (also inside a <details> section once it is opened). ``window.m2m`` exposes, for tests
#: and benchmarks: ``ready`` (a promise, plotly loaded), ``firstScreen`` (ms from navigation start until
#: the charts visible on the first screen are drawn), ``drawn`` (ids of drawn charts), ``drawAll()``.
RENDER_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("m2m-data").textContent);
  var byId = {};
  data.charts.forEach(function (c) { byId[c.id] = c; });
  var m2m = (window.m2m = { drawn: [], firstScreen: null, errors: [] });
  var y0 = data.years[0], y1 = data.years[data.years.length - 1];
  var dtick = Math.max(1, Math.ceil((y1 - y0 + 1) / 12));
  var grid = "#e9ecef";

  function lineFigure(c) {
    var traces = c.traces.map(function (t) {
      var s = data.series[t.s];
      var y = s.v.map(function (v) { return v === null ? null : v * c.scale; });
      if (c.kind === "bars") {
        return { type: "bar", x: data.years, y: y, name: t.name, marker: { color: t.color } };
      }
      return {
        type: "scatter", mode: "lines+markers", x: data.years, y: y, name: t.name,
        line: { color: t.color, dash: t.dash, width: 2 }, marker: { color: t.color, size: 5 },
        hovertemplate: "%{x}: %{y:" + c.tickformat + "} " + (c.axis === "%" ? "%" : c.axis) + "<extra>" +
          t.name.replace(/</g, "&lt;") + "</extra>"
      };
    });
    var layout = {
      title: { text: c.title, font: { size: 14 } }, height: c.height, barmode: "relative",
      margin: { l: 72, r: 16, t: 44, b: 36 }, paper_bgcolor: "white", plot_bgcolor: "white",
      font: { size: 12 }, showlegend: true, legend: { orientation: "h", y: -0.16 },
      xaxis: { type: "linear", range: [y0 - 0.5, y1 + 0.5], tick0: y0, dtick: dtick, tickformat: "d",
               gridcolor: grid, automargin: true },
      yaxis: { title: { text: c.axis }, tickformat: c.tickformat, gridcolor: grid, zerolinecolor: "#ced4da",
               automargin: true, rangemode: c.kind === "bars" ? "normal" : "tozero" }
    };
    return { data: traces, layout: layout };
  }

  function draw(div) {
    if (div.dataset.drawn) return div.m2mDrawing || Promise.resolve();
    div.dataset.drawn = "pending";
    var c = byId[div.dataset.chart];
    var f = c.kind === "figure" ? c.figure : lineFigure(c);
    var config = { displaylogo: false, responsive: true };
    return (div.m2mDrawing = window.Plotly.newPlot(div, f.data, f.layout, config)
      .then(function () { div.dataset.drawn = "1"; m2m.drawn.push(c.id); })
      .catch(function (e) { div.dataset.drawn = "error"; m2m.errors.push(String(e)); console.error(e); }));
  }

  function visible(div) {
    var r = div.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < window.innerHeight;
  }

  function inflate() {
    var text = document.getElementById("m2m-plotly").textContent.trim();
    var raw = atob(text), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(function (code) {
      var s = document.createElement("script");
      s.textContent = "var global = window;\n" + code;  // the bundle reads node's `global`
      document.head.appendChild(s);
    });
  }

  m2m.ready = inflate();
  m2m.drawAll = function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
    return m2m.ready.then(function () {
      return Promise.all(Array.prototype.map.call(document.querySelectorAll("div.chart"), draw));
    });
  };
  m2m.ready.then(function () {
    var divs = Array.prototype.slice.call(document.querySelectorAll("div.chart"));
    var first = divs.filter(visible);
    Promise.all(first.map(draw)).then(function () {
      m2m.firstScreen = performance.now();
      document.body.dataset.firstScreen = "1";
      // then the rest of the briefing, one chart at a time, so a fast scroll finds them drawn
      var rest = Array.prototype.slice.call(document.querySelectorAll("#briefing div.chart"));
      rest.reduce(function (p, d) {
        return p.then(function () { return new Promise(function (ok) { setTimeout(ok, 0); }); })
          .then(function () { return draw(d); });
      }, Promise.resolve());
    });
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) draw(e.target); });
    }, { rootMargin: "200px" });
    divs.forEach(function (d) { seen.observe(d); });
  }).catch(function (e) { m2m.errors.push(String(e)); console.error(e); });
})();
"""


def page_scripts(book: ChartBook) -> str:
    """The tags that make a page's charts: the shared data, the inlined plotly.js and the page script."""
    return (
        f"<script type='application/json' id='m2m-data'>{book.to_json()}</script>"
        f"<script type='application/octet-stream' id='m2m-plotly'>{plotly_bundle_base64()}</script>"
        f"<script>{RENDER_JS}</script>"
    )
