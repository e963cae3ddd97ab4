"""One run as the report sees it, whether it comes fresh from the model or from the results store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from mine2magnet.chain import TABLE_COLUMNS
from mine2magnet.errors import InputError
from mine2magnet.report.kpi_table import KpiTable
from mine2magnet.store import RunResult

#: What the report accepts: a ChainResult or a StoredRun (the store's view of a run result).
ReportableRun = RunResult


@dataclass(frozen=True)
class RunView:
    """A run's name, years, tidy tables (missing columns filled with blanks) and summary."""

    label: str
    scenario: str
    overrides: tuple[str, ...]
    years: tuple[int, ...]
    run_id: str | None
    tables: dict[str, pd.DataFrame] = field(repr=False)
    summary: dict = field(repr=False)
    focus_country: str = ""
    description: str = ""

    @cached_property
    def kpis(self) -> KpiTable:
        """The run's KPIs with totals and per-subject values computed once."""
        return KpiTable(self.tables["kpis"])

    def table(self, name: str) -> pd.DataFrame:
        """Tidy table ``name`` (flows, stocks, kpis, facilities, assumptions)."""
        return self.tables[name]


def _normalise(name: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    columns = TABLE_COLUMNS[name]
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    frame = frame.copy()
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for column in (
        "facility",
        "element",
        "kpi",
        "source",
        "target",
        "commodity",
        "stock",
        "unit",
        "type",
        "detail",
    ):
        if column in frame.columns:
            frame[column] = frame[column].map(lambda v: "" if v is None or v != v else str(v)).astype(object)
    return frame


def run_view(result: ReportableRun) -> RunView:
    """Read ``result`` (a ChainResult, a StoredRun or anything with the same attributes) into a RunView."""
    if isinstance(result, RunView):
        return result
    try:
        scenario = str(result.scenario_name)
        overrides = tuple(str(o) for o in result.overrides)
        years = tuple(int(y) for y in result.years)
        tables = dict(result.tables)
        summary = result.summary()
    except AttributeError as exc:
        raise InputError(
            f"{type(result).__name__} is not a run result (expected scenario_name, overrides, years, tables, "
            f"summary()): {exc}",
            field="results",
        ) from exc
    normalised = {name: _normalise(name, tables.get(name)) for name in TABLE_COLUMNS}
    for name, frame in tables.items():
        normalised.setdefault(name, frame)
    return RunView(
        label="+".join([scenario, *overrides]),
        scenario=scenario,
        overrides=overrides,
        years=years,
        run_id=getattr(result, "run_id", None),
        tables=normalised,
        summary=summary,
        focus_country=str(getattr(result, "focus_country", "") or summary.get("focus_country", "") or ""),
        description=str((getattr(result, "meta", None) or {}).get("description", "") or ""),
    )


def distinct_labels(views: Sequence[RunView]) -> list[RunView]:
    """The views with labels made unique (runs of one scenario get their run id or a number appended)."""
    seen: dict[str, int] = {}
    for view in views:
        seen[view.label] = seen.get(view.label, 0) + 1
    out, counter = [], {}
    for view in views:
        if seen[view.label] == 1:
            out.append(view)
            continue
        counter[view.label] = counter.get(view.label, 0) + 1
        suffix = view.run_id or f"#{counter[view.label]}"
        out.append(
            RunView(
                f"{view.label} ({suffix})",
                view.scenario,
                view.overrides,
                view.years,
                view.run_id,
                view.tables,
                view.summary,
                view.focus_country,
                view.description,
            )
        )
    return out
