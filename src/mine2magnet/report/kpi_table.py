"""KPI rows as the report reads them: who each value is about, and totals where values add up."""

from __future__ import annotations

import pandas as pd

from mine2magnet.report.quantities import is_additive

TOTAL = "total"


def with_subjects(kpis: pd.DataFrame) -> pd.DataFrame:
    """``kpis`` plus a ``subject`` column: the facility/stage and/or element of a value, or ``total``."""
    frame = kpis.copy()
    facility = frame["facility"].fillna("").astype(str)
    element = frame["element"].fillna("").astype(str)
    subject = [" · ".join(p for p in (f, e) if p) or TOTAL for f, e in zip(facility, element, strict=True)]
    frame["subject"] = pd.Series(subject, index=frame.index, dtype=object)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame


def kpi_totals(kpis: pd.DataFrame) -> pd.DataFrame:
    """One number per (kpi, year) where one makes sense: columns year, kpi, value, unit.

    A row without facility and element is the total as the model states it; otherwise values in additive
    units (t, USD, Bq) are summed over facilities/elements. Shares and indices of several subjects have no
    total and are left out.
    """
    frame = with_subjects(kpis)
    rows = []
    for (kpi, year), group in frame.dropna(subset=["value"]).groupby(["kpi", "year"], sort=True):
        unit = str(group["unit"].iloc[0] or "")
        stated = group[group["subject"] == TOTAL]
        if len(stated):
            rows.append((year, kpi, float(stated["value"].sum()), unit))
        elif is_additive(unit):
            rows.append((year, kpi, float(group["value"].sum()), unit))
        elif group["subject"].nunique() == 1:
            rows.append((year, kpi, float(group["value"].iloc[0]), unit))
    return pd.DataFrame(rows, columns=["year", "kpi", "value", "unit"])


def kpi_by_subject(kpis: pd.DataFrame, kpi: str, year: int) -> list[tuple[str, float, str]]:
    """``[(subject, value, unit)]`` of one KPI in one year, largest first (totals excluded when split)."""
    frame = with_subjects(kpis)
    rows = frame[(frame["kpi"] == kpi) & (frame["year"] == year)].dropna(subset=["value"])
    if rows["subject"].nunique() > 1:
        rows = rows[rows["subject"] != TOTAL]
    rows = rows.groupby(["subject", "unit"], as_index=False)["value"].sum()
    rows = rows.sort_values("value", ascending=False, key=lambda s: s.abs())
    return [
        (s, float(v), str(u)) for s, v, u in zip(rows["subject"], rows["value"], rows["unit"], strict=True)
    ]


def subjects_at_facility_level(kpis: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """``with_subjects(kpis)``, but when a KPI has more than ``limit`` subjects in additive units, the
    subject is the facility alone (elements and details summed) so its chart stays readable."""
    frame = with_subjects(kpis)
    for _, group in frame.groupby("kpi"):
        if group["subject"].nunique() > limit and is_additive(str(group["unit"].iloc[0] or "")):
            facility = group["facility"].fillna("").astype(str).replace("", TOTAL)
            frame.loc[group.index, "subject"] = facility
    return frame
