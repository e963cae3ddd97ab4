"""The report of a market scenario (``mine2magnet run embargo-2010``): price paths by market, the exposure of
each region in words, and how the yearly equilibria solved.

A self-contained page drawn by the report's page script from one data block and the report's partial
plotly.js bundle (:mod:`mine2magnet.report.charts`), like the main report.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path
from typing import Any

from mine2magnet import __version__
from mine2magnet.report.charts import ChartBook, Line, page_scripts
from mine2magnet.report.style import STYLE
from mine2magnet.store.atomic import atomic_write_text


def _price_charts(book: ChartBook, prices: Any) -> list[str]:
    """One chart per element: its price in each market, USD/kg by year (a sentence when flat)."""
    parts = []
    for element in sorted(set(prices["element"])):
        rows = prices[prices["element"] == element]
        lines = [
            Line(
                name=str(market),
                values={int(y): float(v) for y, v in zip(group["year"], group["usd_per_kg"], strict=True)},
                unit="USD/kg",
                kpi=f"price.{element}",
                subject=str(market),
            )
            for market, group in rows.groupby("market", sort=True)
        ]
        parts.append(f"<h3>{escape(str(element))}</h3>")
        parts.append(book.lines(f"{element} price by market (USD/kg)", lines, "USD/kg"))
    return parts


def _solver_sentence(summary: dict[str, Any]) -> str:
    solver = summary.get("solver") or {}
    statuses = ", ".join(solver.get("statuses", [])) or "unknown"
    balance = solver.get("worst_balance_residual_t", float("nan"))
    price = solver.get("worst_price_residual_usd_per_kg", float("nan"))
    return (
        f"Each year is one welfare-maximising equilibrium solved by HiGHS (statuses: {statuses}); worst "
        f"balance residual {balance:.2g} t, worst price residual {price:.2g} USD/kg, "
        f"{solver.get('seconds_total', float('nan')):.2f} s of solving in all."
    )


def render_market_report(run: Any) -> str:
    """The HTML of the report of market run ``run`` (a :class:`mine2magnet.market.run.MarketRun`)."""
    summary = run.summary()
    years = [int(y) for y in run.years]
    book = ChartBook(runs=[run.name], years=years)
    exposure = "".join(f"<li>{escape(s)}</li>" for s in run.exposure) or "<li>No exposure stated.</li>"
    body = [
        f"<h1>mine2magnet — {escape(run.name)}</h1>",
        f"<p class='meta'>{escape(run.description)} Years {years[0]}–{years[-1]}. Generated "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by mine2magnet {escape(__version__)}.</p>",
        "<section id='exposure'><h2>Exposure of each region</h2>",
        f"<ul>{exposure}</ul></section>",
        "<section id='prices'><h2>Price paths by market</h2>",
        "<p>Prices are the equilibrium's marginal values of each product in each market (USD/kg); "
        "the published paths they are compared with are in docs/scenarios.md.</p>",
        *_price_charts(book, run.prices),
        "</section>",
        f"<section id='solver'><h2>How it solved</h2><p>{escape(_solver_sentence(summary))}</p></section>",
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>mine2magnet — {escape(run.name)}</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(body)}</main>{page_scripts(book)}</body></html>"
    )


def write_market_report(run: Any, path: str | Path) -> Path:
    """Write the report of market run ``run`` to ``path`` (atomically) and return the path."""
    return atomic_write_text(Path(path), render_market_report(run))
