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

    @cached_property
    def _by_subject_index(self) -> dict[tuple[str, int], list[tuple[str, float, str]]]:
        """:meth:`by_subject` of every (kpi, year), computed in one grouping."""
        valid = self.subjects.dropna(subset=["value"])
        if valid.empty:
            return {}
        summed = valid.groupby(["kpi", "year", "subject", "unit"], sort=False, dropna=False)["value"].sum()
        out: dict[tuple[str, int], list[tuple[str, float, str]]] = {}
        for (kpi, year, subject, unit), value in summed.items():
            out.setdefault((str(kpi), int(year)), []).append((str(subject), float(value), str(unit)))
        for key, rows in out.items():
            if len({s for s, _, _ in rows}) > 1:
                rows = [r for r in rows if r[0] != TOTAL]
            # largest first; ties keep the subjects' alphabetical order (as a stable sort of the grouping)
            out[key] = sorted(sorted(rows, key=lambda r: (r[0], r[2])), key=lambda r: -abs(r[1]))
        return out

    def by_subject(self, kpi: str, year: int) -> list[tuple[str, float, str]]:
        """``[(subject, value, unit)]`` of one KPI in one year, largest first (totals excluded when split)."""
        return list(self._by_subject_index.get((kpi, int(year)), []))


def kpi_totals(kpis: pd.DataFrame) -> pd.DataFrame:
    """Totals per (kpi, year) of a kpis table (see :attr:`KpiTable.totals`)."""
    return KpiTable(kpis).totals


def kpi_by_subject(kpis: pd.DataFrame, kpi: str, year: int) -> list[tuple[str, float, str]]:
    """``[(subject, value, unit)]`` of one KPI in one year (see :meth:`KpiTable.by_subject`)."""
    return KpiTable(kpis).by_subject(kpi, year)
