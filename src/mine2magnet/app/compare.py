"""A base run beside any number of variants: the KPI table the compare page shows and exports.

Works on run summaries (the content of ``summary.json``: ``kpis`` maps a KPI to ``{year: value}``, where a
value is a number or ``{part: number, ..., "total": number}``). A KPI's cell is its value in the chosen year
(a split value gives a row per part, ``kpi`` and ``part``, its ``total`` first); the difference to the base
is given beside it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from mine2magnet.errors import InputError


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _parts(value: Any) -> dict[str, float | None]:
    """``{"": number}`` for a plain value, ``{part: number}`` for a split one (``total`` first)."""
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: (k != "total", str(k)))
        return {str(k): _number(value[k]) for k in keys if not isinstance(value[k], Mapping)}
    return {"": _number(value)}


def common_years(summaries: Sequence[Mapping[str, Any]]) -> list[int]:
    """The years every summary covers."""
    sets = [set(map(int, s.get("years") or [])) for s in summaries]
    return sorted(set.intersection(*sets)) if sets else []


def kpi_table(
    summaries: Sequence[Mapping[str, Any]], labels: Sequence[str], year: int | None = None
) -> pd.DataFrame:
    """One row per KPI, a column per run (``labels``, the first the base) and per difference to the base.

    ``year``: the year compared (default: the last year all runs cover). Raises InputError when the runs
    share no year or ``year`` is not one of them.
    """
    if len(summaries) != len(labels) or not summaries:
        raise InputError("expected one label per run and at least one run", field="runs")
    years = common_years(summaries)
    if not years:
        raise InputError("the runs have no year in common", field="runs")
    chosen = years[-1] if year is None else int(year)
    if chosen not in years:
        raise InputError(f"{chosen} is not a year all runs cover ({years[0]}-{years[-1]})", field="year")
    kpis = sorted({k for s in summaries for k in (s.get("kpis") or {})})
    rows = []
    for kpi in kpis:
        split = [_parts(((s.get("kpis") or {}).get(kpi) or {}).get(str(chosen))) for s in summaries]
        for part in dict.fromkeys(p for parts in split for p in parts):
            values = [parts.get(part) for parts in split]
            if all(v is None for v in values):
                continue
            row: dict[str, Any] = {"kpi": kpi, "part": part, "year": chosen}
            for label, value in zip(labels, values, strict=True):
                row[label] = value
            for label, value in zip(labels[1:], values[1:], strict=True):
                base = values[0]
                row[f"{label} - {labels[0]}"] = None if value is None or base is None else value - base
            rows.append(row)
    return pd.DataFrame(rows)


def to_csv(table: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV."""
    return table.to_csv(index=False).encode("utf-8")


def to_xlsx(table: pd.DataFrame) -> bytes:
    """The table as an Excel workbook (one sheet, ``comparison``)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="comparison", index=False)
    return buffer.getvalue()
