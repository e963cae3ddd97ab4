"""The briefing: the report's first pages, the seed questions answered one screen each.

Each :class:`Answer` gives a number, its range where one is known, the years it refers to and one sentence
of reasoning, from the runs' own results (the first run is the reference; the others are the scenarios it is
compared with: no ban, a new refinery, a Chinese export halt, a crackdown, recycling). A question the runs
cannot answer says which run would.

``check`` records where the number comes from in the run's summary (``summary.json`` for the reference
run, the store's summary for the others): ``{"run", "kpi", "years", "keys", "agg", "value", "unit"}``, so a
test can recompute it. Ranges: ``ranges={kpi or answer key: (p5, p50, p95)}`` (from the uncertainty
analysis, e.g. ``uncertainty.json``) are shown beside the number of the answer they belong to, in the same
unit and aggregation as that number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from html import escape
from typing import Any

from mine2magnet.analysis import Backtest
from mine2magnet.economics.claims import ClaimCheck
from mine2magnet.elements.palette import series_colour
from mine2magnet.report.backtest_page import summary_sentence
from mine2magnet.report.charts import ChartBook, Line
from mine2magnet.report.claims_section import claims_sentence
from mine2magnet.report.comparison import value_kept_change
from mine2magnet.report.headlines import money
from mine2magnet.report.kpi_table import TOTAL
from mine2magnet.report.quantities import format_value
from mine2magnet.report.run_view import RunView

#: A KPI's (p5, p50, p95), in the unit of the answer's number.
Range = tuple[float, float, float]


@dataclass(frozen=True)
class Answer:
    """One seed question answered: ``number`` (text) about ``years``, its ``range`` (text, or empty when
    none is known), one ``sentence`` of reasoning, an optional chart (HTML) and ``check`` (see module)."""

    key: str
    question: str
    number: str
    years: str
    sentence: str
    range: str = ""
    chart: str = ""
    check: dict[str, Any] | None = field(default=None, compare=False)
    inputs: str = ""


@dataclass
class Context:
    """What the answers are built from."""

    views: Sequence[RunView]
    year: int
    book: ChartBook
    backtest: Backtest | None = None
    claims: Sequence[ClaimCheck] | None = None
    ranges: Mapping[str, Range] | None = None

    @property
    def ref(self) -> RunView:
        return self.views[0]

    def run_index(self, view: RunView) -> int:
        return next(i for i, v in enumerate(self.views) if v is view)


def amount(value: float, unit: str) -> str:
    """A briefing number: tonnes to three significant digits (``7.98 Mt``, ``79,000 t``), else as
    :func:`~mine2magnet.report.quantities.format_value` writes it."""
    if unit in {"t", "t REO"} and math.isfinite(value) and abs(value) >= 1_000:
        scaled, suffix = (value / 1e6, "Mt") if abs(value) >= 1e6 else (value, unit)
        rounded = float(f"{scaled:.3g}")
        return f"{rounded:,.0f} {suffix}" if abs(rounded) >= 100 else f"{rounded:.3g} {suffix}"
    return format_value(value, unit)


def _span(years: Sequence[int]) -> str:
    years = sorted(years)
    if not years:
        return ""
    return f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])


def _series(view: RunView, kpi: str, subject: str | None = None) -> dict[int, float]:
    """``{year: value}`` of one subject of a KPI (``None``: the total) over the run's years."""
    out: dict[int, float] = {}
    for y in view.years:
        if subject is None:
            found = view.kpis.total(kpi, y)
            if found is not None and math.isfinite(found[0]):
                out[int(y)] = found[0]
        else:
            for s, v, _ in view.kpis.by_subject(kpi, y):
                if s == subject and math.isfinite(v):
                    out[int(y)] = v
    return out


def _unit(view: RunView, kpi: str) -> str:
    rows = view.kpis.subjects
    rows = rows[rows["kpi"] == kpi]
    return str(rows["unit"].iloc[0]) if len(rows) else ""


def _subjects(view: RunView, kpi: str) -> list[str]:
    rows = view.kpis.subjects
    names = [str(s) for s in dict.fromkeys(rows.loc[rows["kpi"] == kpi, "subject"])]
    return [s for s in names if s != TOTAL] or names


def _find(views: Sequence[RunView], *words: str) -> RunView | None:
    """The first compared run (not the reference) whose label holds one of ``words``."""
    for v in views[1:]:
        if any(w in v.label for w in words):
            return v
    return None


def _range_text(ctx: Context, key: str, kpi: str, unit: str, what: str = "") -> str:
    """P5 – P95 of the answer's figure (`what` names it when the number shows more than that figure)."""
    found = (ctx.ranges or {}).get(key) or (ctx.ranges or {}).get(kpi)
    if not found:
        return ""
    p5, p50, p95 = (float(x) for x in found)
    return (
        f"{what}{format_value(p5, unit)} – {format_value(p95, unit)} (5th–95th percentile of the uncertainty "
        f"analysis; median {format_value(p50, unit)})"
    )


def _residue_range_text(ctx: Context, years: Sequence[int]) -> str:
    """Held at the end (t, Bq) and added over the years (t, Bq): P5 – P95 of each draw's figure."""
    got = {k: (ctx.ranges or {}).get(k) for k in ("residue", "residue_bq", "residue_new", "residue_new_bq")}
    got["residue"] = got["residue"] or (ctx.ranges or {}).get("residue_accumulated_t")
    if not got["residue"]:
        return ""

    def span(key: str, unit: str) -> str:
        p5, _, p95 = (float(x) for x in got[key])  # type: ignore[union-attr]
        return f"{amount(p5, unit) if unit == 't' else format_value(p5, unit)} – " + (
            amount(p95, unit) if unit == "t" else format_value(p95, unit)
        )

    text = "held " + span("residue", "t") + (f", {span('residue_bq', 'Bq')}" if got["residue_bq"] else "")
    if got["residue_new"]:
        text += f"; added over {_span(years)} " + span("residue_new", "t")
        text += f" ({span('residue_new_bq', 'Bq')})" if got["residue_new_bq"] else ""
    median = amount(float(got["residue"][1]), "t")  # type: ignore[index]
    return f"{text} (5th–95th percentiles of the uncertainty analysis; median held {median})"


def _check(
    run: RunView,
    kpi: str,
    years: Sequence[int],
    keys: Sequence[str] | None,
    agg: str,
    value: float,
    unit: str,
    path: Sequence[str] = (),
) -> dict[str, Any]:
    """Where a number comes from in the run's summary: per year ``summary["kpis"][kpi][year]``, then down
    ``path``; the ``keys`` of the mapping found (``None``: all of them, or the number itself when it is one),
    over all years, summed (``agg="sum"``) or the least (``"min"``)."""
    return {
        "run": run.label,
        "run_id": run.run_id,
        "kpi": kpi,
        "years": [int(y) for y in years],
        "path": list(path),
        "keys": None if keys is None else list(keys),
        "agg": agg,
        "value": value,
        "unit": unit,
    }


# ------------------------------------------------------------------------------------------------ answers


def feed(ctx: Context) -> Answer | None:
    """Can the country feed a (new) light + heavy refinery, and from when?"""
    kpi = "feed_sufficiency"
    old = set(_subjects(ctx.ref, kpi))
    choice: tuple[RunView, str] | None = None
    for v in ctx.views[1:]:
        new = [s for s in _subjects(v, kpi) if s not in old]
        if new:
            choice = (v, new[0])
            break
    if choice is None:  # no run adds a refinery: the reference's latest-starting one
        subjects = _subjects(ctx.ref, kpi)
        if not subjects:
            return None
        choice = (ctx.ref, max(subjects, key=lambda s: min(_series(ctx.ref, kpi, s) or {0: 0})))
    view, refinery = choice
    series = _series(view, kpi, refinery)
    if not series:
        return None
    unit = _unit(view, kpi)
    years = sorted(series)
    low, high = min(series.values()), max(series.values())
    full = [y for y in years if series[y] >= 0.999]
    number = (
        f"{format_value(low, unit)}"
        if format_value(low, unit) == format_value(high, unit)
        else f"{format_value(low, unit)} – {format_value(high, unit)}"
    ) + " of capacity fed"
    fills = (
        format_value(low, unit)
        if format_value(low, unit) == format_value(high, unit)
        else f"{format_value(low, unit)} to {format_value(high, unit)}"
    )
    sentence = (
        f"In {view.label}, {refinery} runs from {years[0]}; its feed fills {fills} of its capacity, and it "
        f"runs full in {len(full)} of its {len(years)} years"
    )
    left = _series(view, "feed_years_left", refinery)
    if left:
        last = max(left)
        sentence += (
            f"; at the rate of {last} the accessible resource upstream lasts "
            f"{format_value(left[last], _unit(view, 'feed_years_left'))}"
        )
    others = [s for s in _subjects(view, kpi) if s != refinery]
    if others:
        parts = []
        for s in others:
            ser = {y: v for y, v in _series(view, kpi, s).items() if y in series}
            if ser:
                lo, hi = format_value(min(ser.values()), unit), format_value(max(ser.values()), unit)
                parts.append(f"{s} {lo if lo == hi else lo + '–' + hi}")
        if parts:
            sentence += f"; in the same years {', '.join(parts)}"
    sentence += "."
    lines = [
        Line(s, _series(view, kpi, s), unit, run=ctx.run_index(view), kpi=kpi, subject=s)
        for s in _subjects(view, kpi)
    ]
    chart = ctx.book.lines(f"Refinery feed, share of capacity ({view.label})", lines, unit, height=300)
    return Answer(
        "feed",
        f"Can {ctx.ref.focus_country or 'the country'} feed a light + heavy refinery, and from when?",
        f"{refinery}: {number}",
        _span(years),
        sentence,
        _range_text(ctx, f"feed:{refinery}", kpi, unit, "lowest year "),
        chart,
        _check(view, kpi, years, [refinery], "min", low, unit),
    )


def _value_kpi(view: RunView) -> str:
    return (
        "national_value_added_usd"
        if _series(view, "national_value_added_usd")
        else "domestic_value_added_usd"
    )


def value(ctx: Context) -> Answer | None:
    """What value stays home, with and without the export ban, and why."""
    kpi = _value_kpi(ctx.ref)
    series = _series(ctx.ref, kpi)
    if not series:
        return None
    unit = _unit(ctx.ref, kpi)
    years = sorted(series)
    total = sum(series.values())
    where = ctx.ref.focus_country or "the country"
    kept = "stays with" if kpi == "national_value_added_usd" else "is added in"
    sentence = f"With the ban, {format_value(total, unit)} {kept} {where} over {_span(years)}"
    noban = _find(ctx.views, "no-ban", "noban")
    if noban is not None:
        other = _series(noban, _value_kpi(noban))
        common = [y for y in years if y in other]
        if common:
            a, b = sum(series[y] for y in common), sum(other[y] for y in common)
            sentence += f"; without it ({noban.label}) {format_value(b, unit)} ({_signed(b - a, unit)})"
        why = value_kept_change(ctx.ref, noban, ctx.year)
        if why:
            sentence += f". Why, {why}"
    else:
        sentence += "; run the no-ban scenario beside it (--compare all) to see the ban's effect"
    sentence += "."
    lines = []
    for v in ctx.views:
        if v is ctx.ref or v is noban:
            lines.append(
                Line(
                    v.label,
                    _series(v, _value_kpi(v)),
                    unit,
                    run=ctx.run_index(v),
                    kpi=_value_kpi(v),
                    subject=TOTAL,
                )
            )
    chart = ctx.book.lines("Value kept at home per year (USD)", _run_colours(ctx, lines), unit, height=300)
    return Answer(
        "value",
        "What value stays at home, with and without the export ban, and why?",
        f"{format_value(total, unit)} over {_span(years)}"
        + (
            f" ({money(ctx.ref, series[ctx.year], unit, ctx.year)} in {ctx.year})"
            if ctx.year in series
            else ""
        ),
        _span(years),
        sentence,
        _range_text(ctx, "value", kpi, unit),
        chart,
        _check(ctx.ref, kpi, years, [TOTAL], "sum", total, unit),
    )


def _signed(x: float, unit: str) -> str:
    return ("+" if x >= 0 else "−") + format_value(abs(x), unit)


def _run_colours(ctx: Context, lines: list[Line]) -> list[Line]:
    """Runs keep their colour across the report: the run's index in the series palette."""
    for ln in lines:
        ln.colour = series_colour(ln.run)
    return lines


def magnets(ctx: Context) -> Answer | None:
    """What the magnet plant needs and where it comes from."""
    kpi = "magnet_self_sufficiency"
    view = ctx.ref
    elements = _subjects(view, kpi)
    series = {e: _series(view, kpi, e) for e in elements}
    series = {e: s for e, s in series.items() if s}
    if not series:
        return None
    unit = _unit(view, kpi)
    years = sorted({y for s in series.values() for y in s})
    low = min(v for s in series.values() for v in s.values())
    worst = min(series, key=lambda e: min(series[e].values()))
    worst_year = min(series[worst], key=lambda y: series[worst][y])
    if low >= 0.999:
        number = f"{format_value(low, unit)} of needs met at home, every year"
    else:
        number = f"{format_value(low, unit)} at the lowest ({worst}, {worst_year})"
    facilities = view.table("facilities")
    magnet_plants = {
        str(f)
        for f, t in zip(facilities["facility"], facilities["type"], strict=True)
        if "magnet" in str(t) and "market" not in str(t)
    }
    flows = view.table("flows")
    flows = flows[(flows["year"] == ctx.year) & flows["target"].isin(magnet_plants)]
    sentence = (
        f"Share of the magnet plants' needs met from {view.focus_country or 'domestic'} refining, by "
        f"element, over {_span(years)}"
    )
    if ctx.year in years:
        now = ", ".join(f"{e} {format_value(s[ctx.year], unit)}" for e, s in series.items() if ctx.year in s)
        sentence += f" ({now} in {ctx.year})"
    if len(flows):
        t = flows.assign(t=flows["t"].astype(float)).groupby("element")["t"].sum()
        t = t[t > 0].sort_values(ascending=False)
        src = flows.assign(t=flows["t"].astype(float)).groupby("source")["t"].sum()
        src = src[src > 0].sort_values(ascending=False)
        if len(t):
            sentence += (
                f". In {ctx.year} the plants take {format_value(float(t.sum()), 't')} of rare earths ("
                + ", ".join(f"{e} {format_value(float(v), 't')}" for e, v in t.items())
                + ") from "
                + ", ".join(f"{s} {format_value(float(v), 't')}" for s, v in src.head(4).items())
            )
    recycling = _find(ctx.views, "recycl")
    if recycling is not None:
        other = [v for e in elements for v in _series(recycling, kpi, e).values()]
        if other:
            sentence += (
                f"; with recycling ({recycling.label}) the lowest share is {format_value(min(other), unit)}"
            )
    sentence += "."
    lines = [Line(e, s, unit, run=0, kpi=kpi, subject=e) for e, s in series.items()]
    chart = ctx.book.lines("Magnet plants' needs met at home, by element", lines, unit, height=300)
    return Answer(
        "magnets",
        "What does the magnet plant need, and where does it come from?",
        number,
        _span(years),
        sentence,
        _range_text(ctx, "magnets", kpi, unit),
        chart,
        _check(view, kpi, years, None, "min", low, unit),
    )


def _country_of(view: RunView) -> dict[str, str]:
    f = view.table("facilities")
    return {
        str(a): "" if c is None or c != c else str(c)
        for a, c in zip(f["facility"], f["country"], strict=True)
    }


def _facility_rows(view: RunView, kpi: str, year: int, country: str | None) -> list[tuple[str, str, float]]:
    """(facility, detail, value) rows of a residue KPI in ``year``, in ``country`` (``None``: all)."""
    rows = view.kpis.subjects
    rows = rows[(rows["kpi"] == kpi) & (rows["year"] == year)]
    where = _country_of(view)
    out: dict[tuple[str, str], float] = {}
    for f, d, v in zip(rows["facility"], rows["detail"], rows["value"], strict=True):
        if country and where.get(str(f), "") != country:
            continue
        if v == v:
            out[(str(f), str(d))] = out.get((str(f), str(d)), 0.0) + float(v)
    return [(f, d, v) for (f, d), v in out.items()]


def residue(ctx: Context) -> Answer | None:
    """Residue: the legacy pile and what the run adds, in tonnes and becquerel."""
    view = ctx.ref
    country = view.focus_country or None
    years = sorted(view.years)
    last, first = years[-1], years[0]
    held = _facility_rows(view, "residue_accumulated_t", last, country)
    if not held:
        return None
    held_t = sum(v for *_, v in held)
    produced = sum(v for y in years for *_, v in _facility_rows(view, "residue_produced_t", y, country))
    held_bq = sum(v for *_, v in _facility_rows(view, "residue_accumulated_bq", last, country))
    produced_bq = sum(v for y in years for *_, v in _facility_rows(view, "residue_produced_bq", y, country))
    legacy = max(held_t - produced, 0.0)
    where = f" in {country}" if country else ""
    number = f"{amount(held_t, 't')}, {format_value(held_bq, 'Bq')}"
    sentence = (
        f"Residue held{where} at the end of {last}: {amount(legacy, 't')} were already there when "
        f"{first} began (the legacy pile, {format_value(max(held_bq - produced_bq, 0.0), 'Bq')}) and "
        f"{amount(produced, 't')} ({format_value(produced_bq, 'Bq')}) are added over {_span(years)}"
    )
    by_fac: dict[str, float] = {}
    for f, _, v in held:
        by_fac[f] = by_fac.get(f, 0.0) + v
    sentence += "; by plant: " + ", ".join(
        f"{f} {amount(v, 't')}" for f, v in sorted(by_fac.items(), key=lambda kv: -kv[1])[:3]
    )
    new = next((v for v in ctx.views[1:] if set(_country_of(v)) - set(_country_of(view))), None)
    if new is not None:
        extra = sum(v for *_, v in _facility_rows(new, "residue_accumulated_t", last, country)) - held_t
        if abs(extra) > 0:
            sentence += (
                f"; {new.label} holds {('+' if extra >= 0 else '−') + amount(abs(extra), 't')} more by {last}"
            )
    sentence += ". Activity in Bq is the residues' thorium and uranium series as modelled (see Assumptions)."
    keys = [f"{f}:{d}" for f, d, _ in held]
    held_by_year = {
        y: sum(v for *_, v in _facility_rows(view, "residue_accumulated_t", y, country)) for y in years
    }
    lines = [
        Line(f"held{where}", held_by_year, "t", run=0, kpi="residue_accumulated_t", subject=f"held{where}")
    ]
    chart = ctx.book.lines(
        f"Residue held{where} at the end of each year (t)", _run_colours(ctx, lines), "t", height=280
    )
    return Answer(
        "residue",
        "How much residue, legacy and new, in tonnes and becquerel?",
        number,
        f"end of {last}",
        sentence,
        _residue_range_text(ctx, years),
        chart,
        _check(view, "residue_t", [last], keys, "sum", held_t, "t", path=["accumulated"]),
    )


def smuggling(ctx: Context) -> Answer | None:
    """What smuggling costs, and what a crackdown changes."""
    kpi = "smuggling_loss_usd"
    series = _series(ctx.ref, kpi)
    if not series:
        return None
    unit = _unit(ctx.ref, kpi)
    years = sorted(series)
    total = sum(series.values())
    tonnes = _series(ctx.ref, "smuggled_t")
    sentence = (
        f"Illegal mining and smuggling cost {format_value(total, unit)} in lost royalties and taxes over "
        f"{_span(years)}"
    )
    if tonnes:
        sentence += f", on {format_value(sum(tonnes.values()), 't')} leaving outside the formal chain"
    crack = _find(ctx.views, "crackdown")
    lines = [Line(ctx.ref.label, series, unit, run=0, kpi=kpi, subject=TOTAL)]
    if crack is not None:
        other = _series(crack, kpi)
        if other:
            sentence += f"; with a crackdown ({crack.label}) {format_value(sum(other.values()), unit)}"
            lines.append(Line(crack.label, other, unit, run=ctx.run_index(crack), kpi=kpi, subject=TOTAL))
    sentence += "."
    chart = ctx.book.lines(
        "Royalties and taxes lost to smuggling per year (USD)", _run_colours(ctx, lines), unit, height=280
    )
    return Answer(
        "smuggling",
        "What does smuggling cost?",
        f"{format_value(total, unit)} over {_span(years)}",
        _span(years),
        sentence,
        _range_text(ctx, "smuggling", kpi, unit),
        chart,
        _check(ctx.ref, kpi, years, None, "sum", total, unit),
    )


def export_halt(ctx: Context) -> Answer | None:
    """Exposure to a Chinese export halt: demand that goes unmet, and when."""
    halt = _find(ctx.views, "export-halt", "halt", "embargo")
    if halt is None:
        return Answer(
            "export_halt",
            "How exposed is the chain to a Chinese export halt?",
            "not run",
            "",
            "Run the china-export-halt scenario beside this one (mine2magnet run … --compare all) to answer.",
        )
    kpi = "unmet_demand_t"
    unit = _unit(halt, kpi) or "t"
    by_year = {y: sum(v for _, v, _ in halt.kpis.by_subject(kpi, y)) for y in halt.years}
    base = {y: sum(v for _, v, _ in ctx.ref.kpis.by_subject(kpi, y)) for y in ctx.ref.years}
    short = [y for y, v in by_year.items() if v > 1e-9]
    total = sum(by_year.values())
    if short:
        worst = max(short, key=lambda y: by_year[y])
        sentence = (
            f"In {halt.label}, {format_value(total, unit)} of demand goes unmet in {len(short)} year(s) "
            f"({_span(short)}), most in {worst} ({format_value(by_year[worst], unit)}); without the halt "
            f"{format_value(sum(base.values()), unit)}"
        )
        years_text = _span(short)
    else:
        sentence = f"In {halt.label} all modelled demand is still supplied"
        years_text = _span(halt.years)
    ss = {
        (e, y): v
        for e in _subjects(halt, "magnet_self_sufficiency")
        for y, v in _series(halt, "magnet_self_sufficiency", e).items()
    }
    if ss:
        (element, when), least = min(ss.items(), key=lambda kv: (kv[1], kv[0][1]))
        sentence += (
            f"; the magnet plants' needs met at home fall to {format_value(least, 'fraction')} ({element}, "
            f"{when})"
            if least < 0.999
            else "; the magnet plants' needs are still met at home"
        )
    sentence += "."
    lines = [
        Line(ctx.ref.label, base, unit, run=0, kpi=kpi, subject="all elements"),
        Line(halt.label, by_year, unit, run=ctx.run_index(halt), kpi=kpi, subject="all elements"),
    ]
    chart = ctx.book.lines("Demand that goes unmet per year (t)", _run_colours(ctx, lines), unit, height=280)
    return Answer(
        "export_halt",
        "How exposed is the chain to a Chinese export halt?",
        f"{amount(total, unit)} unmet",
        years_text,
        sentence,
        _range_text(ctx, "export_halt", kpi, unit),
        chart,
        _check(halt, kpi, sorted(halt.years), None, "sum", total, unit),
    )


def recycling(ctx: Context) -> Answer | None:
    """What recycling adds."""
    rec = _find(ctx.views, "recycl")
    view = rec or ctx.ref
    kpi = "secondary_supply_t"
    series = _series(view, kpi)
    total = sum(series.values())
    if rec is None and total <= 0:
        return Answer(
            "recycling",
            "What does recycling add?",
            "not run",
            "",
            "Run the recycling scenario beside this one (mine2magnet run … --compare all) to answer.",
        )
    unit = _unit(view, kpi) or "t"
    years = sorted(y for y, v in series.items() if v > 0) or sorted(series)
    sentence = (
        f"In {view.label}, recyclers return {format_value(total, unit)} of rare earths over {_span(years)}"
    )
    if years and series:
        last = max(series)
        sentence += f" ({format_value(series[last], unit)} in {last})"
    va, va_ref = _series(view, _value_kpi(view)), _series(ctx.ref, _value_kpi(ctx.ref))
    common = [y for y in va if y in va_ref]
    if rec is not None and common:
        d = sum(va[y] for y in common) - sum(va_ref[y] for y in common)
        sentence += f"; value kept at home changes by {_signed(d, 'USD')} over {_span(common)}"
    sentence += "."
    lines = [Line(view.label, series, unit, run=ctx.run_index(view), kpi=kpi, subject=TOTAL)]
    chart = ctx.book.lines("Recycled supply per year (t)", _run_colours(ctx, lines), unit, height=280)
    return Answer(
        "recycling",
        "What does recycling add?",
        f"{amount(total, unit)} over {_span(years)}",
        _span(years),
        sentence,
        _range_text(ctx, "recycling", kpi, unit),
        chart,
        _check(view, kpi, sorted(series), None, "sum", total, unit),
    )


def claims(ctx: Context) -> Answer | None:
    """The published claims checked (and the backtest against history)."""
    if not ctx.claims and ctx.backtest is None:
        return None
    parts, number, years = [], "", ""
    if ctx.claims:
        checked = [c for c in ctx.claims if c.verdict != "not modelled"]
        agree = sum(1 for c in checked if c.holds)
        number = f"{agree} of {len(checked)} checkable claims hold"
        parts.append(claims_sentence(ctx.claims))
        ys = sorted({c.claim.period.end.year for c in ctx.claims})
        years = _span(ys)
        off = sorted(
            (
                c
                for c in checked
                if c.holds is False and c.model and c.claim.value and c.low is not None and c.high is not None
            ),
            key=lambda c: -abs(math.log(abs(c.claim.value) / abs(c.model))) if c.model else 0,
        )
        if off:
            c = off[0]
            parts.append(
                f"Furthest off: “{c.claim.claim}” ({c.claim.claimant or c.claim.source.title}, "
                f"{c.claim.period.end.year}): model {c.model:,.3g} {c.claim.unit} "
                f"(range {c.low:,.3g}–{c.high:,.3g}) "
                f"against {c.claim.value:,.3g} {c.claim.unit}."
            )
    if ctx.backtest is not None:
        parts.append(f"Checked against history: {summary_sentence(ctx.backtest)}")
        if not number:
            n = ctx.backtest.counts()
            number = (
                f"{n['pass']} of {n['pass'] + n['fail'] + n['known miss']} history figures within tolerance"
            )
    return Answer(
        "claims",
        "Do the published claims hold up?",
        number,
        years,
        " ".join(parts),
        "model ranges ±30 % until the uncertainty analysis gives one" if ctx.claims else "",
    )


#: Per answer, the inputs that drive it (matched in an assumption's ``data_key`` or ``key``): their stated
#: ranges are shown under the answer until the uncertainty analysis gives the answer's own range.
DRIVERS: dict[str, tuple[str, ...]] = {
    "feed": (
        "chain.isl.accessible_fraction",
        "chain.isl_new.capacity",
        "kelantan_mrec.capacity",
        "isl.ramp_up",
    ),
    "value": ("price.NdPr_oxide", "chain.royalty.malaysia_ree", "economics.discount_rate", "payability.mrec"),
    "magnets": ("magnet.ndfeb.market_bom", "chain.js_link.start_year"),
    "smuggling": ("chain.smuggling.lost_revenue_rate", "chain.smuggling.enforcement", "smuggling."),
    "export_halt": ("policy.china.export_licensing.approved_share", "chain.demand.magnet_ree.ex_china"),
    "recycling": ("chain.magnet.lifetime_mean", "chain.magnet.lifetime_sd"),
}


def _number(value: Any) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def input_ranges(view: RunView, patterns: Sequence[str], limit: int = 4) -> str:
    """The stated ranges of the run's inputs matching ``patterns`` (in ``data_key`` or ``key``), e.g.
    ``chain.isl.accessible_fraction 0.3 fraction (0.1–0.6, assumption)``; one entry per data key."""
    frame = view.table("assumptions")
    if frame.empty or not patterns:
        return ""
    parts: dict[str, str] = {}
    for rec in frame.to_dict("records"):
        low, high = rec.get("range_low"), rec.get("range_high")
        if low is None or high is None or low != low or high != high:
            continue
        name = str(rec.get("data_key") or "") or str(rec.get("key") or "")
        if name == "nan":
            name = str(rec.get("key") or "")
        if name in parts or not any(p in name or p in str(rec.get("key") or "") for p in patterns):
            continue
        unit = str(rec.get("unit") or "")
        unit = "" if unit in {"nan", "dimensionless"} else f" {unit}"
        kind = str(rec.get("kind") or "")
        parts[name] = (
            f"{name} {_number(rec.get('value'))}{unit} ({_number(low)}–{_number(high)}"
            + (f", {kind}" if kind and kind != "nan" else "")
            + ")"
        )
        if len(parts) >= limit:
            break
    return "; ".join(parts.values())


QUESTIONS: tuple[Callable[[Context], Answer | None], ...] = (
    feed,
    value,
    magnets,
    residue,
    smuggling,
    export_halt,
    recycling,
    claims,
)


#: What the briefing says of an answer without a range: no uncertainty sample for the run, or a sample that
#: does not cover this answer (its KPIs by year are in uncertainty.json).
_NO_RANGE = {
    False: "not known yet (no uncertainty analysis for this run; `mine2magnet run --ranges` adds one)",
    True: "not in this run's uncertainty sample (its KPIs by year are in uncertainty.json)",
}


def answers(
    views: Sequence[RunView],
    year: int,
    book: ChartBook,
    *,
    backtest: Backtest | None = None,
    claims_checked: Sequence[ClaimCheck] | None = None,
    ranges: Mapping[str, Range] | None = None,
) -> list[Answer]:
    """The seed questions the runs can answer, in order (charts are added to ``book``)."""
    ctx = Context(list(views), int(year), book, backtest, claims_checked, ranges)
    out = []
    for question in QUESTIONS:
        a = question(ctx)
        if a is None:
            continue
        if a.key in DRIVERS and not a.range:
            run = next((v for v in ctx.views if a.check and v.label == a.check["run"]), ctx.ref)
            a = replace(a, inputs=input_ranges(run, DRIVERS[a.key]))
        out.append(a)
    return out


def briefing_html(items: Sequence[Answer], *, sampled: bool = False) -> str:
    """The answers as one screen each (``<section class='q'>``); the number carries its check as data.
    ``sampled``: the run has an uncertainty sample (an answer without a range is one it does not cover)."""
    if not items:
        return "<p>These runs report none of the figures the briefing answers with.</p>"
    out = []
    for a in items:
        check = (
            f" data-check='{escape(json.dumps(a.check, ensure_ascii=False, allow_nan=False), quote=True)}'"
            if a.check
            else ""
        )
        rng = (
            f"<div class='range'>Range: {escape(a.range)}</div>"
            if a.range
            else (f"<div class='range muted'>Range: {_NO_RANGE[sampled]}</div>" if a.check else "")
        )
        years = f"<div class='years'>{escape(a.years)}</div>" if a.years else ""
        inputs = (
            "<p class='inputs muted'>Inputs with a stated range (sources under Assumptions): "
            f"{escape(a.inputs)}.</p>"
            if a.inputs
            else ""
        )
        out.append(
            f"<section class='q' id='q-{escape(a.key, quote=True)}'><h2>{escape(a.question)}</h2>"
            f"<div class='answer'><div class='number'{check}>{escape(a.number)}</div>{years}{rng}</div>"
            f"<p class='why'>{escape(a.sentence)}</p>{inputs}{a.chart}</section>"
        )
    return "".join(out)
