"""Headline KPIs of several runs side by side, as numbers (the report and `mine2magnet compare` render it)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mine2magnet.report.headlines import HEADLINE_KPIS
from mine2magnet.report.kpi_table import TOTAL
from mine2magnet.report.run_view import RunView


def kpi_comparison(views: Sequence[RunView], year: int) -> pd.DataFrame:
    """One row per headline KPI (and per facility/stage/element where it has no total), one column per run.

    Columns: ``kpi``, ``subject`` (``total`` or who the value is about), ``unit``, then each run's label
    with its value in ``year`` (NaN where the run does not report it). Totals are stated, or summed in
    additive units.
    """
    labels = [v.label for v in views]
    present = {str(k) for v in views for k in v.table("kpis")["kpi"].unique()}
    rows: list[dict] = []
    for kpi in (k for k in HEADLINE_KPIS if k in present):
        found = [v.kpis.total(kpi, year) for v in views]
        if any(found):
            unit = next(f[1] for f in found if f)
            row = {"kpi": kpi, "subject": TOTAL, "unit": unit}
            row |= {label: f[0] if f else float("nan") for label, f in zip(labels, found, strict=True)}
            rows.append(row)
            continue
        by_run = [{s: (val, u) for s, val, u in v.kpis.by_subject(kpi, year)} for v in views]
        for subject in dict.fromkeys(s for values in by_run for s in values):
            unit = next(values[subject][1] for values in by_run if subject in values)
            row = {"kpi": kpi, "subject": subject, "unit": unit}
            row |= {
                label: values[subject][0] if subject in values else float("nan")
                for label, values in zip(labels, by_run, strict=True)
            }
            rows.append(row)
    return pd.DataFrame(rows, columns=["kpi", "subject", "unit", *labels])
