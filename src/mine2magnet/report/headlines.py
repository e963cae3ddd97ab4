"""The report's first screen: a run's key numbers in plain words, for a minister, investor or engineer.

KPI names follow the chain layer (``mine2magnet.chain.kpis``): ``domestic_value_added_usd`` (by stage
and ``total``), ``raw_export_value_usd``, ``value_capture_ratio``, ``feed_sufficiency`` and
``feed_years_left`` (per refinery), ``magnet_self_sufficiency`` (per element), ``hhi`` (per stage, 0-1),
``residue_produced_t`` / ``residue_accumulated_t`` (/ ``_bq``), ``smuggled_t`` / ``smuggling_loss_usd``,
``unmet_demand_t``, ``secondary_supply_t``. A KPI the run does not report simply has no headline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mine2magnet.report.kpi_table import TOTAL
from mine2magnet.report.quantities import format_value
from mine2magnet.report.run_view import RunView


@dataclass(frozen=True)
class Headline:
    """One key figure: a short title, the number (naming the facility, stage or element it is about), a
    sentence saying what it means, and ``period``: what the figure does over the run's years."""

    kpi: str
    title: str
    number: str
    sentence: str
    period: str = ""


def _listing(items: list[tuple[str, float, str]], limit: int = 4) -> str:
    text = ", ".join(f"{s} {format_value(v, u)}" for s, v, u in items[:limit])
    if len(items) > limit:
        text += f" and {len(items) - limit} more"
    return text


def _total(view: RunView, kpi: str, year: int) -> tuple[float, str] | None:
    return view.kpis.total(kpi, year)


def _cumulative(view: RunView, kpi: str) -> tuple[float, str] | None:
    return view.kpis.cumulative(kpi)


def _span(view: RunView) -> str:
    years = sorted(view.years)
    return f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0]) if years else "all years"


def _where(view: RunView) -> str:
    return view.focus_country or "the country"


def _series(view: RunView, kpi: str) -> dict[str, dict[int, tuple[float, str]]]:
    """``{subject: {year: (value, unit)}}`` of one KPI over the run's years (totals left out when split)."""
    out: dict[str, dict[int, tuple[float, str]]] = {}
    for y in view.years:
        for subject, value, unit in view.kpis.by_subject(kpi, y):
            out.setdefault(subject, {})[int(y)] = (value, unit)
    return out


def _years_text(years: list[int]) -> str:
    years = sorted(years)
    return f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0]) if years else ""


def _range_over_years(view: RunView, kpi: str, limit: int = 4) -> str:
    """Per subject: its lowest and highest value and the years it is reported, e.g.
    ``Khazanah-China refinery 100 % (2029–2040)``, ``Lynas Malaysia 54–100 % (2024–2040)``."""
    parts = []
    for subject, by_year in sorted(_series(view, kpi).items(), key=lambda kv: min(kv[1])):
        values = [v for v, _ in by_year.values()]
        unit = next(iter(by_year.values()))[1]
        low, high = format_value(min(values), unit), format_value(max(values), unit)
        shown = (
            low
            if low == high
            else f"{low.split(' ')[0]}–{high}"
            if _same_unit(low, high)
            else f"{low} – {high}"
        )
        parts.append(f"{subject} {shown} ({_years_text(list(by_year))})")
    text = ", ".join(parts[:limit])
    if len(parts) > limit:
        text += f" and {len(parts) - limit} more"
    return text


def _same_unit(low: str, high: str) -> bool:
    """Whether two formatted values share a plain unit (``54 %``, ``100 %``): then write ``54–100 %``."""
    a, b = low.split(" "), high.split(" ")
    return len(a) == 2 and len(b) == 2 and a[1] == b[1] and not a[0].startswith(("USD", "MYR"))


def _cumulative_text(view: RunView, kpi: str) -> str:
    """``USD 1.2 bn over 2024–2040`` for an additive KPI, else empty."""
    cumulative = _cumulative(view, kpi)
    if cumulative is None or len(view.years) < 2:
        return ""
    return f"{format_value(*cumulative)} over {_span(view)}"


def money(view: RunView, value: float, unit: str, year: int) -> str:
    """A USD amount with its MYR equivalent at the run's rate of `year`, when the run has one."""
    text = format_value(value, unit)
    rate = _total(view, "myr_per_usd", year)
    if unit.startswith("USD") and rate is not None and rate[0] > 0:
        text += f" (RM {format_value(value * rate[0], 'MYR' + unit[3:]).removeprefix('MYR ')})"
    return text


def _value_added(view: RunView, year: int) -> Headline | None:
    kpi = "domestic_value_added_usd"
    total = _total(view, kpi, year)
    if total is None:
        return None
    national = _total(view, "national_value_added_usd", year)
    if national is not None:
        return _value_kept(view, year, total, national)
    parts = [p for p in view.kpis.by_subject(kpi, year) if p[0] != TOTAL and abs(p[1]) > 0]
    sentence = f"In {year} the chain adds {money(view, *total, year)} of value inside {_where(view)}"
    if parts:
        sentence += f" ({_listing(parts)})"
    cumulative = _cumulative(view, kpi)
    if cumulative and len(view.years) > 1:
        sentence += f"; {format_value(*cumulative)} over {_span(view)}"
    sentence += "."
    sentence += _capture_sentences(view, year)
    return Headline(
        kpi, "Value kept at home", money(view, *total, year), sentence, _cumulative_text(view, kpi)
    )


def _value_kept(view: RunView, year: int, total: tuple[float, str], national: tuple[float, str]) -> Headline:
    """Value kept at home from the accounts: value added, what of it leaves with foreign owners, and why."""
    where = _where(view)
    parts = [
        p for p in view.kpis.by_subject("domestic_value_added_usd", year) if p[0] != TOTAL and abs(p[1]) > 0
    ]
    sentence = (
        f"In {year} the rare-earth plants in {where} add {money(view, *total, year)} of value (wages, taxes "
        f"and operating surplus"
    )
    if parts:
        sentence += f"; {_listing(parts)}"
    sentence += ")"
    items = []
    for kpi, words in (("wages_usd", "wages"), ("taxes_usd", "royalties and taxes")):
        amount = _total(view, kpi, year)
        if amount is not None:
            items.append(f"{money(view, *amount, year)} in {words}")
    if items:
        sentence += ": " + " and ".join(items)
    foreign = _total(view, "foreign_income_usd", year)
    sentence += f". {money(view, *national, year)} stays with {where}"
    if foreign is not None and foreign[0] > 0:
        sentence += f" after {money(view, *foreign, year)} of profit and capital charge goes to owners abroad"
    elif foreign is not None and foreign[0] < 0:
        sentence += (
            f", more than is added: owners abroad bear a loss of {money(view, -foreign[0], foreign[1], year)}"
        )
    sentence += "."
    margin = _total(view, "gross_margin_usd", year)
    if margin is not None:
        sentence += f" (Output less rare-earth inputs, the gross margin alone, is {format_value(*margin)}.)"
    total_va = _total(view, "value_added_total_usd", year)
    jobs, jobs_total = _total(view, "jobs_direct", year), _total(view, "jobs_total", year)
    if jobs is not None:
        sentence += f" Direct jobs: {jobs[0]:,.0f}"
        if jobs_total is not None and jobs_total[0] > jobs[0]:
            sentence += f", {jobs_total[0]:,.0f} with suppliers' jobs (input-output multipliers)"
        if total_va is not None and total_va[0] > total[0]:
            sentence += f"; value added with suppliers {money(view, *total_va, year)}"
        sentence += "."
    sentence += _capture_sentences(view, year, subject="The gross margin")
    period = _cumulative_text(view, "national_value_added_usd")
    return Headline(
        "domestic_value_added_usd",
        "Value kept at home",
        money(view, *national, year),
        sentence,
        f"{period} kept at home" if period else "",
    )


def _capture_sentences(view: RunView, year: int, subject: str = "Value added at home") -> str:
    sentence = ""
    raw = _total(view, "raw_export_value_usd", year)
    if raw is not None and raw[0] > 0:
        sentence += f" Exporting the same year's mined rare earths raw would fetch {format_value(*raw)}."
    processed = _total(view, "domestic_processing_share", year)
    if processed is not None:
        sentence += (
            f" {format_value(*processed)} of the rare earths mined legally in {_where(view)} are processed in"
            " the country rather than exported raw."
        )
    capture = _total(view, "value_capture_ratio", year)
    if capture is not None:
        sentence += (
            f" {subject} equals {format_value(*capture)} of what the country's own mined rare"
            " earths are worth as separated oxides"
        )
        sentence += (
            " (more than all of it: plants at home also process imported feed)."
            if capture[0] > 1.0 and capture[1] in {"fraction", "1", "share"}
            else "."
        )
    return sentence


def _named(parts: list[tuple[str, float, str]], limit: int = 4) -> str:
    """``Lynas Malaysia 84 %, Khazanah-China refinery 100 %``: every subject named, lowest first."""
    ordered = sorted(parts, key=lambda p: p[1])
    return _listing(ordered, limit=limit)


def _feed(view: RunView, year: int) -> Headline | None:
    """Feed over capacity of each refinery that runs in `year`, each named (none hidden behind a minimum)."""
    parts = view.kpis.by_subject("feed_sufficiency", year)
    if not parts:
        return None
    sentence = f"Share of each refinery's capacity fed in {year}: {_listing(parts, limit=6)}."
    years_left = view.kpis.by_subject("feed_years_left", year)
    if years_left:
        sentence += (
            f" Accessible resource upstream lasts, at this year's rate: {_listing(years_left, limit=6)}."
        )
    short = [p for p in parts if p[1] < 0.999 and p[2] in {"fraction", "1", "share"}]
    if short:
        sentence += f" Short of feed: {', '.join(p[0] for p in short)}."
    later = {s: min(by_year) for s, by_year in _series(view, "feed_sufficiency").items()}
    starts = [f"{s} from {y}" for s, y in later.items() if view.years and y > min(view.years)]
    if starts:
        sentence += f" Starting later: {', '.join(starts)}."
    period = _range_over_years(view, "feed_sufficiency", limit=6)
    return Headline("feed_sufficiency", "Refinery feed", _named(parts), sentence, period)


def _magnets(view: RunView, year: int) -> Headline | None:
    parts = view.kpis.by_subject("magnet_self_sufficiency", year)
    if not parts:
        return None
    sentence = (
        f"Share of the domestic magnet plants' needs met from facilities in {_where(view)} in {year}, by "
        f"element: {_listing(parts, limit=6)}."
    )
    period = _range_over_years(view, "magnet_self_sufficiency", limit=6)
    return Headline("magnet_self_sufficiency", "Magnet needs met at home", _named(parts), sentence, period)


_STAGE_OF_TYPE = (
    ("informal", "mining"),
    ("mine", "mining"),
    ("crack", "cracking"),
    ("refin", "separation"),
    ("separat", "separation"),
    ("metal", "metal"),
    ("magnet", "magnet"),
    ("recycl", "recycling"),
)


def _countries_per_stage(view: RunView) -> dict[str, set[str]]:
    """The countries with a modelled facility at each stage (the ``stage`` column, else the facility type)."""
    facilities = view.table("facilities")
    stages = facilities["stage"] if "stage" in facilities.columns else [None] * len(facilities)
    out: dict[str, set[str]] = {}
    for kind, country, stage in zip(facilities["type"], facilities["country"], stages, strict=True):
        name = str(stage) if isinstance(stage, str) and stage else ""
        if not name:
            name = next((st for key, st in _STAGE_OF_TYPE if key in str(kind or "").lower()), "")
        if name:
            out.setdefault(name, set()).add("" if country is None or country != country else str(country))
    return out


def _hhi(view: RunView, year: int) -> Headline | None:
    """Concentration of production by country per stage; a stage the run models in one country only (one
    magnet plant) is 1 by construction and says nothing about the market, so it is named, not headlined."""
    parts = view.kpis.by_subject("hhi", year)
    if not parts:
        return None
    unit_one = "0-1" in parts[0][2] or all(v <= 1.0 for _, v, _ in parts)
    scale, threshold = ("1", "0.25") if unit_one else ("10,000", "2,500")
    countries = _countries_per_stage(view)
    single = [
        p
        for p in parts
        if p[1] >= 0.999 * float(scale.replace(",", "")) and len(countries.get(p[0], ())) <= 1
    ]
    informative = [p for p in parts if p not in single]
    sentence = (
        f"Herfindahl-Hirschman index of production by country, per stage, in {year}: "
        f"{_listing(informative or parts, limit=6)}. 0 means many countries share the stage, {scale} a "
        f"single country; above {threshold} counts as highly concentrated."
    )
    if single:
        names = ", ".join(p[0] for p in single)
        sentence += (
            f" Left out of the headline: {names}, modelled in one country only, so its index is "
            f"{scale} by construction and says nothing about the world market."
        )
    title = "Supply concentration (HHI)"
    if not informative:
        return Headline("hhi", title, "n/a (one country per stage modelled)", sentence)
    top = max(informative, key=lambda p: p[1])
    period = _range_over_years(view, "hhi", limit=6)
    return Headline("hhi", title, f"{top[0]} {format_value(top[1], top[2])}", sentence, period)


def _by_country(view: RunView, kpi: str, year: int) -> list[tuple[str, float, str]]:
    """``[(country, value, unit)]`` of an additive KPI reported per facility, largest first."""
    facilities = view.table("facilities")
    country_of = {
        str(f): str(c or "") for f, c in zip(facilities["facility"], facilities["country"], strict=True)
    }
    rows = view.kpis.subjects
    rows = rows[(rows["kpi"] == kpi) & (rows["year"] == year)]
    sums: dict[str, float] = {}
    for facility, value in zip(rows["facility"], rows["value"], strict=True):
        country = country_of.get(str(facility), "") or "unknown"
        sums[country] = sums.get(country, 0.0) + float(value)
    unit = str(rows["unit"].iloc[0]) if len(rows) else ""
    return sorted(((c, v, unit) for c, v in sums.items()), key=lambda p: -abs(p[1]))


def _produced_until(view: RunView, kpi: str, year: int) -> float:
    """A produced-per-year KPI summed over the run's years up to `year`."""
    total = 0.0
    for y in sorted(view.years):
        if y <= year:
            value = _total(view, kpi, y)
            total += value[0] if value is not None else 0.0
    return total


def _residue(view: RunView, year: int) -> Headline | None:
    """Residue held at the end of `year`, split into the pile the run opened with and what it added."""
    kpi = "residue_produced_t" if _total(view, "residue_produced_t", year) else "residue_t"
    produced = _total(view, kpi, year)
    accumulated = _total(view, "residue_accumulated_t", year)
    if produced is None and accumulated is None:
        return None
    sentences = []
    first = min(view.years) if view.years else year
    if produced is not None:
        text = f"{format_value(*produced)} of processing residue (tonnes of residue) produced in {year}"
        countries = [p for p in _by_country(view, kpi, year) if p[1] > 0]
        if len(countries) > 1:
            text += f": {_listing(countries)} by country of the plant"
        parts = view.kpis.by_subject(kpi, year)
        if len(parts) > 1:
            text += f" ({_listing(parts, limit=3)})"
        sentences.append(text + ".")
    if accumulated is not None:
        added = _produced_until(view, "residue_produced_t", year)
        legacy = max(accumulated[0] - added, 0.0)
        text = f"{format_value(*accumulated)} held in residue stores at the end of {year}"
        activity = _total(view, "residue_accumulated_bq", year)
        added_bq = _produced_until(view, "residue_produced_bq", year)
        if legacy > 0:
            text += (
                f": {format_value(legacy, accumulated[1])} already there when {first} began (the legacy pile"
            )
            if activity is not None:
                text += f", {format_value(max(activity[0] - added_bq, 0.0), activity[1])}"
            span = f"{first}–{year}" if year > first else str(year)
            text += f") and {format_value(added, accumulated[1])} added in {span}"
            if activity is not None:
                text += f" ({format_value(added_bq, activity[1])})"
        elif activity is not None:
            text += f", {format_value(*activity)} of activity"
        countries = [p for p in _by_country(view, "residue_accumulated_t", year) if p[1] > 0]
        if len(countries) > 1:
            text += f"; by country of the plant: {_listing(countries)}"
        sentences.append(text + ".")
    number = format_value(*(produced if produced is not None else accumulated))  # type: ignore[misc]
    period = _cumulative_text(view, kpi)
    return Headline(
        kpi, "Residue produced", number, " ".join(sentences), f"{period} produced" if period else ""
    )


def _smuggling(view: RunView, year: int) -> Headline | None:
    total = _total(view, "smuggling_loss_usd", year)
    if total is None:
        return None
    if total[0] <= 0:
        sentence = f"No royalties or taxes are lost to illegal mining and smuggling in {year}."
    else:
        lost = money(view, *total, year)
        sentence = f"Illegal mining and smuggling cost {lost} in lost royalties and taxes in {year}"
        tonnes = _total(view, "smuggled_t", year)
        if tonnes is not None:
            sentence += f" on {format_value(*tonnes)} leaving outside the formal chain"
        cumulative = _cumulative(view, "smuggling_loss_usd")
        if cumulative and len(view.years) > 1:
            sentence += f" ({format_value(*cumulative)} over {_span(view)})"
        sentence += "."
    period = _cumulative_text(view, "smuggling_loss_usd")
    return Headline(
        "smuggling_loss_usd",
        "Lost to smuggling",
        money(view, *total, year),
        sentence,
        f"{period} lost" if period else "",
    )


def _unmet(view: RunView, year: int) -> Headline | None:
    total = _total(view, "unmet_demand_t", year)
    if total is None:
        return None
    if total[0] <= 1e-9:
        sentence = f"All modelled demand is supplied in {year}."
    else:
        parts = [p for p in view.kpis.by_subject("unmet_demand_t", year) if p[1] > 1e-9]
        sentence = f"{format_value(*total)} of demand cannot be supplied in {year}"
        sentence += f" ({_listing(parts)})." if len(parts) > 1 else "."
    sentence += _worst_year(view, "unmet_demand_t", "goes unmet")
    period = _cumulative_text(view, "unmet_demand_t")
    return Headline(
        "unmet_demand_t", "Unmet demand", format_value(*total), sentence, f"{period} unmet" if period else ""
    )


def _worst_year(view: RunView, kpi: str, what: str) -> str:
    """' Over 2024–2040, X t goes unmet, most in 2026 (Y t).' when other years than the one shown have some:
    a shock (an embargo) may be over by the year the report shows."""
    by_year = {y: t for y in view.years if (t := _total(view, kpi, y)) is not None and t[0] > 1e-9}
    cumulative = _cumulative(view, kpi)
    if len(view.years) < 2 or not by_year or cumulative is None:
        return ""
    worst = max(by_year, key=lambda y: by_year[y][0])
    return (
        f" Over {_span(view)}, {format_value(*cumulative)} {what} in {len(by_year)} year(s), most in {worst}"
        f" ({format_value(*by_year[worst])})."
    )


def _recycling(view: RunView, year: int) -> Headline | None:
    total = _total(view, "secondary_supply_t", year)
    if total is None or total[0] <= 0:
        return None
    parts = view.kpis.by_subject("secondary_supply_t", year)
    sentence = f"Recyclers return {format_value(*total)} of rare earths to the chain in {year}"
    sentence += f" ({_listing(parts)})." if len(parts) > 1 else "."
    period = _cumulative_text(view, "secondary_supply_t")
    return Headline(
        "secondary_supply_t",
        "Recycled supply",
        format_value(*total),
        sentence,
        f"{period} recycled" if period else "",
    )


HEADLINE_BUILDERS: tuple[Callable[[RunView, int], Headline | None], ...] = (
    _value_added,
    _feed,
    _magnets,
    _hhi,
    _residue,
    _smuggling,
    _unmet,
    _recycling,
)
#: KPIs shown first (headlines, comparison table), in this order.
HEADLINE_KPIS = (
    "domestic_value_added_usd",
    "raw_export_value_usd",
    "value_capture_ratio",
    "domestic_processing_share",
    "feed_sufficiency",
    "feed_years_left",
    "magnet_self_sufficiency",
    "hhi",
    "residue_produced_t",
    "residue_t",
    "residue_accumulated_t",
    "smuggling_loss_usd",
    "smuggled_t",
    "unmet_demand_t",
    "secondary_supply_t",
)


def headlines(view: RunView, year: int) -> list[Headline]:
    """The key figures of ``view`` in ``year`` that the run reports, in plain words."""
    return [h for build in HEADLINE_BUILDERS if (h := build(view, year)) is not None]
