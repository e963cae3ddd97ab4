"""Headline KPIs of several runs side by side, as numbers (the report and `mine2magnet compare` render it)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mine2magnet.report.headlines import HEADLINE_KPIS
from mine2magnet.report.kpi_table import TOTAL
from mine2magnet.report.quantities import format_value, is_additive, is_fraction
from mine2magnet.report.run_view import RunView, distinct_labels

#: Headline KPIs compared by subject (stage) as well as in total: where value is added matters as much as
#: how much (e.g. lifting the export ban adds value at the mining stage only).
ALSO_BY_SUBJECT = ("domestic_value_added_usd",)


def kpi_comparison(views: Sequence[RunView], year: int) -> pd.DataFrame:
    """One row per headline KPI (per facility/stage/element for shares and indices), one column per run.

    Columns: ``kpi``, ``subject`` (``total`` or who the value is about), ``unit``, then each run's label
    with its value in ``year`` (NaN where the run does not report it). Totals are stated, or summed in
    additive units; KPIs in :data:`ALSO_BY_SUBJECT` follow their total with one row per subject.
    """
    views = distinct_labels(views)
    labels = [v.label for v in views]
    present = {str(k) for v in views for k in v.table("kpis")["kpi"].unique()}
    rows: list[dict] = []
    for kpi in (k for k in HEADLINE_KPIS if k in present):
        found = [v.kpis.total(kpi, year) for v in views]
        by_run = [{s: (val, u) for s, val, u in v.kpis.by_subject(kpi, year)} for v in views]
        stated = any(TOTAL in values for values in by_run)
        if any(found) and (stated or is_additive(next(f[1] for f in found if f))):
            unit = next(f[1] for f in found if f)
            row = {"kpi": kpi, "subject": TOTAL, "unit": unit}
            row |= {label: f[0] if f else float("nan") for label, f in zip(labels, found, strict=True)}
            rows.append(row)
            if kpi not in ALSO_BY_SUBJECT:
                continue
        for subject in dict.fromkeys(s for values in by_run for s in values if s != TOTAL):
            unit = next(values[subject][1] for values in by_run if subject in values)
            row = {"kpi": kpi, "subject": subject, "unit": unit}
            row |= {
                label: values[subject][0] if subject in values else float("nan")
                for label, values in zip(labels, by_run, strict=True)
            }
            if kpi in ALSO_BY_SUBJECT and not any(row[label] for label in labels if row[label] == row[label]):
                continue  # a stage where no run adds anything
            rows.append(row)
    return pd.DataFrame(rows, columns=["kpi", "subject", "unit", *labels])


#: Plain names of the headline KPIs, for sentences.
KPI_WORDS = {
    "domestic_value_added_usd": "domestic value added",
    "raw_export_value_usd": "value of the mined ore if exported raw",
    "value_capture_ratio": "value capture ratio",
    "domestic_processing_share": "share of mined rare earths processed at home",
    "feed_sufficiency": "refinery feed",
    "feed_years_left": "years of feed left",
    "magnet_self_sufficiency": "magnet needs met at home",
    "hhi": "supply concentration (HHI)",
    "residue_produced_t": "residue produced",
    "residue_t": "residue produced",
    "residue_accumulated_t": "residue held",
    "smuggling_loss_usd": "royalties and taxes lost to smuggling",
    "smuggled_t": "tonnes smuggled",
    "unmet_demand_t": "unmet demand",
    "secondary_supply_t": "recycled supply",
    "national_value_added_usd": "value kept at home (after owners abroad)",
    "jobs_direct": "direct jobs",
}


def _changed(reference: float, value: float, unit: str, relative: float) -> bool:
    if reference != reference or value != value:  # NaN: one side does not report it
        return reference == reference or value == value
    if is_fraction(unit) or "0-1" in unit:
        return abs(value - reference) >= 0.01  # one percentage point / 0.01 of an index
    scale = max(abs(reference), abs(value))
    return scale > 0 and abs(value - reference) >= relative * scale


def what_changes(views: Sequence[RunView], year: int, relative: float = 0.05) -> dict[str, list[str]]:
    """For each run after the first (the reference): sentences naming the headline KPIs that differ.

    A KPI counts as changed when it moves by at least ``relative`` (default 5 %) of the larger value, or by
    one percentage point for shares; additive KPIs are compared in ``year`` and summed over the years both
    runs share. Returns ``{run label: [sentence, ...]}`` (an empty list: no headline KPI changes).
    """
    if len(views) < 2:
        return {}
    views = distinct_labels(views)
    reference = views[0]
    table = kpi_comparison(views, year)
    common = sorted(set.intersection(*(set(v.years) for v in views)))
    span = f"{common[0]}–{common[-1]}" if len(common) > 1 else ""
    out: dict[str, list[str]] = {}
    for view in views[1:]:
        sentences = []
        for rec in table.to_dict("records"):
            kpi, subject, unit = rec["kpi"], rec["subject"], rec["unit"]
            ref, val = rec[reference.label], rec[view.label]
            parts = []
            if _changed(ref, val, unit, relative):
                parts.append(f"in {year}: {format_value(ref, unit)} → {format_value(val, unit)}")
            if subject == TOTAL and is_additive(unit) and span:
                a = sum(v for y in common if (v := _total_in(reference, kpi, y)) is not None)
                b = sum(v for y in common if (v := _total_in(view, kpi, y)) is not None)
                if _changed(a, b, unit, relative):
                    parts.append(f"over {span}: {format_value(a, unit)} → {format_value(b, unit)}")
            if parts:
                name = KPI_WORDS.get(kpi, kpi) + ("" if subject == TOTAL else f" ({subject})")
                sentences.append(f"{name} " + "; ".join(parts))
        why = value_kept_change(reference, view, year)
        out[view.label] = ([why] if why else []) + sentences
    return out


def _stage_values(view: RunView, year: int) -> dict[str, float]:
    """Value added by stage and in total (``TOTAL``) in `year`; empty when the run reports none."""
    out = {str(s): float(v) for s, v, _ in view.kpis.by_subject("domestic_value_added_usd", year)}
    total = _total_in(view, "domestic_value_added_usd", year)
    if total is not None:
        out[TOTAL] = total
    return out


def value_kept_change(reference: RunView, view: RunView, year: int) -> str | None:
    """Why value kept at home differs from the reference, in `year`: the change in value added decomposed
    into mining (ore mined rather than left in the ground, or the reverse), processing at home (cracking to
    magnets), and the royalties and taxes lost to illegal exports. None without accounts in both runs."""
    ref, new = _stage_values(reference, year), _stage_values(view, year)
    if TOTAL not in ref or TOTAL not in new or _total_in(view, "national_value_added_usd", year) is None:
        return None
    mining = new.get("mining", 0.0) - ref.get("mining", 0.0)
    processing = (new[TOTAL] - new.get("mining", 0.0)) - (ref[TOTAL] - ref.get("mining", 0.0))
    lost = (_total_in(view, "smuggling_loss_usd", year) or 0.0) - (
        _total_in(reference, "smuggling_loss_usd", year) or 0.0
    )
    if max(abs(mining), abs(processing), abs(lost)) < 1e-6 * max(abs(ref[TOTAL]), 1.0):
        return None

    def signed(x: float) -> str:
        x = round(x)
        return ("+" if x >= 0 else "−") + format_value(abs(x), "USD")

    mined = "more ore mined" if mining > 0 else "ore left in the ground" if mining < 0 else "no change"
    before, after = format_value(ref[TOTAL], "USD"), format_value(new[TOTAL], "USD")
    return (
        f"value added at home in {year}: {before} → {after}, because of mining {signed(mining)} ({mined}), "
        f"processing at home {signed(processing)}, and royalties and taxes lost to illegal exports "
        f"{signed(lost)}"
    )


def _total_in(view: RunView, kpi: str, year: int) -> float | None:
    found = view.kpis.total(kpi, year)
    return None if found is None else found[0]
