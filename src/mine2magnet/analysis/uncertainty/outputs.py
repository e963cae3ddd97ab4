"""What a draw of a scenario study keeps: headline KPIs by year as tidy rows (year, kpi, subject, value).

The rows come from a run's KPI table (``ChainResult.tables["kpis"]``: year, kpi, facility, element, value,
unit, detail). The subject of a row is its element if it has one, else its facility (a facility, a stage such
as ``mining``, or ``total``), with the detail after a colon (``Lynas Malaysia:WLP``). Rows of one (year, kpi,
subject) are summed (unmet demand of Dy over the markets). A quantity (t, USD, persons) that has no ``total``
row gets the sum of its subjects as ``total``; a fraction never does.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

#: The headline KPIs a scenario study keeps by default.
HEADLINE_KPIS: tuple[str, ...] = (
    "national_value_added_usd",
    "domestic_value_added_usd",
    "value_added_total_usd",
    "jobs_total",
    "feed_sufficiency",
    "magnet_self_sufficiency",
    "unmet_demand_t",
    "smuggling_loss_usd",
    "royalties_usd",
    "residue_accumulated_t",
)

#: Units whose quantities add up over subjects (a ``total`` is formed when the run gives none).
ADDITIVE_UNITS = frozenset({"t", "USD", "persons", "Bq", "t/yr"})

#: One output of one draw: (year, kpi, subject, value).
Row = tuple[int, str, str, float]


def kpi_rows(kpis: pd.DataFrame, names: Iterable[str] = HEADLINE_KPIS) -> list[Row]:
    """Tidy rows of the KPIs `names` from a run's KPI table; a KPI the run does not have gives no row."""
    wanted = list(dict.fromkeys(names))
    k = kpis[kpis["kpi"].isin(wanted)]
    if k.empty:
        return []
    element = k["element"].fillna("").astype(str)
    facility = k["facility"].fillna("").astype(str)
    detail = k["detail"].fillna("").astype(str)
    subject = np.where(element != "", element, facility)
    subject = np.where(detail != "", pd.Series(subject, index=k.index) + ":" + detail, subject)
    subject = np.where(subject == "", "total", subject)
    value = pd.to_numeric(k["value"], errors="coerce")
    frame = pd.DataFrame(
        {
            "year": k["year"].astype(int),
            "kpi": k["kpi"],
            "subject": subject,
            "value": value,
            "unit": k["unit"],
        }
    )
    frame = frame[np.isfinite(frame["value"])]
    rows = frame.groupby(["kpi", "year", "subject"], sort=True).agg(
        value=("value", "sum"), unit=("unit", "first")
    )
    rows = rows.reset_index()
    has_total = set(rows.loc[rows["subject"] == "total", "kpi"])
    sums = rows[~rows["kpi"].isin(has_total) & rows["unit"].isin(ADDITIVE_UNITS)]
    sums = sums.groupby(["kpi", "year"], sort=True)["value"].sum().reset_index()
    sums["subject"] = "total"
    out = pd.concat([rows[["year", "kpi", "subject", "value"]], sums[["year", "kpi", "subject", "value"]]])
    order = {name: i for i, name in enumerate(wanted)}
    out = out.assign(_o=out["kpi"].map(order)).sort_values(["_o", "year", "subject"], kind="stable")
    return [
        (int(y), str(kpi), str(s), float(v))
        for y, kpi, s, v in zip(out["year"], out["kpi"], out["subject"], out["value"], strict=True)
    ]
