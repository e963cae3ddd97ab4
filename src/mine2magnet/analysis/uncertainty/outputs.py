"""What a draw of a scenario study keeps: headline KPIs by year as tidy rows (year, kpi, subject, value).

The rows come from a run's KPI table (``ChainResult.tables["kpis"]``: year, kpi, facility, element, value,
unit, detail). The subject of a row is its element if it has one, else its facility (a facility, a stage such
as ``mining``, or ``total``), with the detail after a colon (``Lynas Malaysia:WLP``). Rows of one (year, kpi,
subject) are summed (unmet demand of Dy over the markets). A quantity (t, USD, persons) that has no ``total``
row gets the sum of its subjects as ``total``; a fraction never does.
"""

from __future__ import annotations

import math
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
    "residue_accumulated_bq",
    "residue_produced_t",
    "residue_produced_bq",
)

#: Units whose quantities add up over subjects (a ``total`` is formed when the run gives none).
ADDITIVE_UNITS = frozenset({"t", "USD", "persons", "Bq", "t/yr"})

#: One output of one draw: (year, kpi, subject, value).
Row = tuple[int, str, str, float]


def kpi_rows(kpis: pd.DataFrame, names: Iterable[str] = HEADLINE_KPIS) -> list[Row]:
    """Tidy rows of the KPIs `names` from a run's KPI table; a KPI the run does not have gives no row.

    Rows come in the order of `names`, then by year and subject.
    """
    wanted = list(dict.fromkeys(names))
    k = kpis[kpis["kpi"].isin(wanted)]
    if k.empty:
        return []

    def text(column: str) -> list[str]:
        return ["" if v is None or v != v else str(v) for v in k[column].to_numpy(object)]

    # plain Python values (lists) for the loop: numpy scalars cost a conversion per row
    value = pd.to_numeric(k["value"], errors="coerce").to_numpy(float).tolist()
    sums: dict[tuple[str, int, str], list[float]] = {}
    unit_of: dict[tuple[str, int, str], str] = {}  # the first row's unit of each group
    for kpi, year, el, fac, det, unit, v in zip(
        [str(x) for x in k["kpi"].to_numpy(object)],
        k["year"].to_numpy(dtype=np.int64).tolist(),
        text("element"),
        text("facility"),
        text("detail"),
        text("unit"),
        value,
        strict=True,
    ):
        if not math.isfinite(v):
            continue
        subject = el or fac
        if det:
            subject = f"{subject}:{det}"
        key = (kpi, year, subject or "total")
        found = sums.get(key)
        if found is None:
            sums[key] = [v]
            unit_of[key] = unit
        else:
            found.append(v)
    out: dict[tuple[str, int, str], float] = {key: math.fsum(vs) for key, vs in sums.items()}
    has_total = {kpi for kpi, _, subject in out if subject == "total"}
    totals: dict[tuple[str, int, str], list[float]] = {}
    for key, v in out.items():  # math.fsum is exact: the order the subjects come in does not matter
        if key[0] not in has_total and unit_of[key] in ADDITIVE_UNITS:
            totals.setdefault((key[0], key[1], "total"), []).append(v)
    out.update({key: math.fsum(vs) for key, vs in totals.items()})
    order = {name: i for i, name in enumerate(wanted)}
    return [
        (year, kpi, subject, out[(kpi, year, subject)])
        for kpi, year, subject in sorted(out, key=lambda t: (order[t[0]], t[1], t[2]))
    ]
