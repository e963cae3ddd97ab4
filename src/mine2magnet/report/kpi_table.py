"""KPI rows as the report reads them: who each value is about, and totals where values add up."""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from mine2magnet.report.quantities import is_additive

TOTAL = "total"


def with_subjects(kpis: pd.DataFrame) -> pd.DataFrame:
    """``kpis`` plus a ``subject`` column: the facility/stage, element and detail of a value, or ``total``."""
    frame = kpis.copy()
    parts = [frame[c].fillna("").astype(str) for c in ("facility", "element", "detail") if c in frame.columns]
    subject = [" · ".join(p for p in row if p) or TOTAL for row in zip(*parts, strict=True)]
    frame["subject"] = pd.Series(subject, index=frame.index, dtype=object)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame


class KpiTable:
    """A run's ``kpis`` table with its per-subject view and totals computed once."""

    def __init__(self, kpis: pd.DataFrame) -> None:
        self.frame = kpis

    @cached_property
    def subjects(self) -> pd.DataFrame:
        """The rows with a ``subject`` column (see :func:`with_subjects`)."""
        return with_subjects(self.frame)

    @cached_property
    def _groups(self) -> dict[tuple[str, int], pd.DataFrame]:
        valid = self.subjects.dropna(subset=["value"])
        return {(str(k), int(y)): g for (k, y), g in valid.groupby(["kpi", "year"], sort=True)}

    @cached_property
    def totals(self) -> pd.DataFrame:
        """One number per (kpi, year) where one makes sense: columns year, kpi, value, unit.

        A row whose subject is ``total`` is the total as the model states it; otherwise values in additive
        units (t, USD, Bq) are summed over facilities/elements. Shares and indices of several subjects have no
        total and are left out.
        """
        valid = self.subjects.dropna(subset=["value"])
        if valid.empty:
            return pd.DataFrame(columns=["year", "kpi", "value", "unit"])
        keys = ["kpi", "year"]
        grouped = valid.groupby(keys, sort=True)
        summary = grouped.agg(unit=("unit", "first"), total=("value", "sum"), subjects=("subject", "nunique"))
        summary["first"] = grouped["value"].first()
        stated = valid[valid["subject"] == TOTAL].groupby(keys)["value"].sum()
        summary["stated"] = stated.reindex(summary.index)
        additive = summary["unit"].map(lambda u: is_additive(str(u or "")))
        value = summary["stated"].where(summary["stated"].notna())
        value = value.fillna(summary["total"].where(additive))
        value = value.fillna(summary["first"].where(summary["subjects"] == 1))
        out = summary.assign(value=value).dropna(subset=["value"]).reset_index()
        out["unit"] = out["unit"].fillna("").astype(str)
        out["value"] = out["value"].astype(float)
        return out[["year", "kpi", "value", "unit"]]

    @cached_property
    def _total_index(self) -> dict[tuple[str, int], tuple[float, str]]:
        t = self.totals
        return {
            (k, int(y)): (float(v), str(u))
            for k, y, v, u in zip(t["kpi"], t["year"], t["value"], t["unit"], strict=True)
        }

    def total(self, kpi: str, year: int) -> tuple[float, str] | None:
        """``(value, unit)`` of ``kpi`` in ``year`` as a total, or ``None``."""
        return self._total_index.get((kpi, int(year)))

    def cumulative(self, kpi: str) -> tuple[float, str] | None:
        """``(sum over years, unit)`` of an additive KPI's totals, or ``None``."""
        values = [(v, u) for (k, _), (v, u) in self._total_index.items() if k == kpi]
        if not values or not is_additive(values[0][1]):
            return None
        return sum(v for v, _ in values), values[0][1]

    def by_subject(self, kpi: str, year: int) -> list[tuple[str, float, str]]:
        """``[(subject, value, unit)]`` of one KPI in one year, largest first (totals excluded when split)."""
        rows = self._groups.get((kpi, int(year)))
        if rows is None:
            return []
        if rows["subject"].nunique() > 1:
            rows = rows[rows["subject"] != TOTAL]
        rows = rows.groupby(["subject", "unit"], as_index=False)["value"].sum()
        rows = rows.sort_values("value", ascending=False, key=lambda s: s.abs())
        return [
            (s, float(v), str(u))
            for s, v, u in zip(rows["subject"], rows["value"], rows["unit"], strict=True)
        ]


def kpi_totals(kpis: pd.DataFrame) -> pd.DataFrame:
    """Totals per (kpi, year) of a kpis table (see :attr:`KpiTable.totals`)."""
    return KpiTable(kpis).totals


def kpi_by_subject(kpis: pd.DataFrame, kpi: str, year: int) -> list[tuple[str, float, str]]:
    """``[(subject, value, unit)]`` of one KPI in one year (see :meth:`KpiTable.by_subject`)."""
    return KpiTable(kpis).by_subject(kpi, year)
