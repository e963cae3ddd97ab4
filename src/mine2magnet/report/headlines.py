"""The report's first screen: a run's key numbers in plain words, for a minister, investor or engineer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from mine2magnet.report.kpi_table import kpi_by_subject, kpi_totals
from mine2magnet.report.quantities import format_value, is_additive
from mine2magnet.report.run_view import RunView


@dataclass(frozen=True)
class Headline:
    """One key figure: a short title, the number, and a sentence saying what it means."""

    kpi: str
    title: str
    number: str
    sentence: str


def _listing(items: list[tuple[str, float, str]], limit: int = 4) -> str:
    text = ", ".join(f"{s} {format_value(v, u)}" for s, v, u in items[:limit])
    if len(items) > limit:
        text += f" and {len(items) - limit} more"
    return text


def _total(view: RunView, kpi: str, year: int) -> tuple[float, str] | None:
    totals = kpi_totals(view.table("kpis"))
    row = totals[(totals["kpi"] == kpi) & (totals["year"] == year)]
    if row.empty:
        return None
    return float(row["value"].iloc[0]), str(row["unit"].iloc[0])


def _cumulative(view: RunView, kpi: str) -> tuple[float, str] | None:
    totals = kpi_totals(view.table("kpis"))
    rows = totals[totals["kpi"] == kpi]
    if rows.empty or not is_additive(str(rows["unit"].iloc[0])):
        return None
    return float(rows["value"].sum()), str(rows["unit"].iloc[0])


def _span(view: RunView) -> str:
    years = sorted(view.years)
    return f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0]) if years else "all years"


def _value_added(view: RunView, year: int) -> Headline | None:
    total = _total(view, "domestic_value_added_usd", year)
    if total is None:
        return None
    parts = kpi_by_subject(view.table("kpis"), "domestic_value_added_usd", year)
    sentence = f"In {year} the chain adds {format_value(*total)} of value inside the country"
    if len(parts) > 1:
        sentence += f" ({_listing(parts)})"
    cumulative = _cumulative(view, "domestic_value_added_usd")
    if cumulative and len(view.years) > 1:
        sentence += f"; {format_value(*cumulative)} over {_span(view)}"
    return Headline("domestic_value_added_usd", "Value kept at home", format_value(*total), sentence + ".")


def _feed(view: RunView, year: int) -> Headline | None:
    parts = kpi_by_subject(view.table("kpis"), "feed_sufficiency", year)
    if not parts:
        return None
    shares = ", ".join(f"{s} {format_value(v, u)}" for s, v, u in parts)
    low = min(parts, key=lambda p: p[1])
    sentence = f"Share of refinery capacity that can be fed in {year}: {shares}."
    if low[1] < 0.999 and low[2] in {"fraction", "1", "share"}:
        sentence += f" {low[0]} is short of feed."
    return Headline("feed_sufficiency", "Refinery feed (lowest)", format_value(low[1], low[2]), sentence)


def _magnets(view: RunView, year: int) -> Headline | None:
    parts = kpi_by_subject(view.table("kpis"), "magnet_self_sufficiency", year)
    if not parts:
        return None
    low = min(parts, key=lambda p: p[1])
    sentence = (
        f"Share of the domestic magnet plants' needs met from domestic refining in {year}: "
        f"{_listing(parts, limit=6)}."
    )
    return Headline(
        "magnet_self_sufficiency", "Magnets supplied from home", format_value(low[1], low[2]), sentence
    )


def _hhi(view: RunView, year: int) -> Headline | None:
    parts = kpi_by_subject(view.table("kpis"), "hhi", year)
    if not parts:
        return None
    top = max(parts, key=lambda p: p[1])
    sentence = (
        f"Herfindahl-Hirschman index of supply by stage in {year} ({_listing(parts, limit=6)}): 0 is a "
        f"perfectly spread market, 10,000 a single supplier; above 2,500 counts as highly concentrated."
    )
    return Headline("hhi", "Supply concentration (highest)", f"{top[1]:,.0f}", sentence)


def _residue(view: RunView, year: int) -> Headline | None:
    total = _total(view, "residue_t", year)
    if total is None:
        return None
    sentence = f"{format_value(*total)} of processing residue produced in {year}"
    parts = kpi_by_subject(view.table("kpis"), "residue_t", year)
    if len(parts) > 1:
        sentence += f" ({_listing(parts)})"
    stocks = view.table("stocks")
    held = stocks[(stocks["year"] == year) & stocks["stock"].astype(str).str.startswith("residue")]
    if len(held):
        sentence += f"; {format_value(float(pd.to_numeric(held['t']).sum()), 't')} held in residue stores"
    return Headline("residue_t", "Residue", format_value(*total), sentence + ".")


def _smuggling(view: RunView, year: int) -> Headline | None:
    total = _total(view, "smuggling_loss_usd", year)
    if total is None:
        return None
    if total[0] <= 0:
        sentence = f"No royalties or taxes are lost to illegal mining and smuggling in {year}."
    else:
        sentence = (
            f"Illegal mining and smuggling cost {format_value(*total)} in lost royalties and taxes in {year}"
        )
        cumulative = _cumulative(view, "smuggling_loss_usd")
        if cumulative and len(view.years) > 1:
            sentence += f" ({format_value(*cumulative)} over {_span(view)})"
        sentence += "."
    return Headline("smuggling_loss_usd", "Lost to smuggling", format_value(*total), sentence)


def _unmet(view: RunView, year: int) -> Headline | None:
    total = _total(view, "unmet_demand_t", year)
    if total is None:
        return None
    if total[0] <= 1e-9:
        sentence = f"All modelled demand is supplied in {year}."
    else:
        parts = kpi_by_subject(view.table("kpis"), "unmet_demand_t", year)
        sentence = f"{format_value(*total)} of demand cannot be supplied in {year}"
        sentence += f" ({_listing(parts)})." if len(parts) > 1 else "."
    return Headline("unmet_demand_t", "Unmet demand", format_value(*total), sentence)


HEADLINE_BUILDERS: tuple[Callable[[RunView, int], Headline | None], ...] = (
    _value_added,
    _feed,
    _magnets,
    _hhi,
    _residue,
    _smuggling,
    _unmet,
)
#: KPIs with a headline, in the order shown.
HEADLINE_KPIS = (
    "domestic_value_added_usd",
    "feed_sufficiency",
    "magnet_self_sufficiency",
    "hhi",
    "residue_t",
    "smuggling_loss_usd",
    "unmet_demand_t",
)


def headlines(view: RunView, year: int) -> list[Headline]:
    """The key figures of ``view`` in ``year`` that the run reports, in plain words."""
    return [h for build in HEADLINE_BUILDERS if (h := build(view, year)) is not None]
