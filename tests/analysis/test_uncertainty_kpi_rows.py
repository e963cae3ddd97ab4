"""A draw's KPI rows (a loop over plain Python values) equal the same rows worked out with a pandas groupby,
on every built-in scenario's KPI table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mine2magnet.analysis.uncertainty.outputs import ADDITIVE_UNITS, HEADLINE_KPIS, kpi_rows
from mine2magnet.scenario import list_scenarios, load_scenario, run_scenario


def _by_groupby(kpis: pd.DataFrame, names: tuple[str, ...]) -> dict[tuple[int, str, str], float]:
    k = kpis[kpis["kpi"].isin(names) & kpis["value"].map(lambda v: math.isfinite(float(v)))].copy()
    for c in ("element", "facility", "detail", "unit"):
        k[c] = k[c].fillna("").astype(str)
    subject = k["element"].where(k["element"] != "", k["facility"])
    subject = subject.where(k["detail"] == "", subject + ":" + k["detail"])
    k["subject"] = subject.where(subject != "", "total")
    out = {
        (int(y), str(kpi), str(s)): math.fsum(g["value"].astype(float))
        for (kpi, y, s), g in k.groupby(["kpi", "year", "subject"], sort=False)
    }
    units = k.groupby(["kpi", "year", "subject"], sort=False)["unit"].first()
    with_total = {kpi for (_, kpi, s) in out if s == "total"}
    extra: dict[tuple[int, str, str], list[float]] = {}
    for (y, kpi, s), v in sorted(out.items(), key=lambda t: (t[0][1], t[0][0], t[0][2])):
        if kpi not in with_total and units[(kpi, y, s)] in ADDITIVE_UNITS:
            extra.setdefault((y, kpi, "total"), []).append(v)
    out.update({key: math.fsum(vs) for key, vs in extra.items()})
    return out


@pytest.mark.parametrize("name", [s[0] for s in list_scenarios()])
def test_kpi_rows_equal_a_groupby(name: str) -> None:
    kpis = run_scenario(load_scenario(name, [])).tables["kpis"]
    rows = kpi_rows(kpis, HEADLINE_KPIS)
    want = _by_groupby(kpis, HEADLINE_KPIS)
    assert {(y, k, s): v for y, k, s, v in rows} == want
    order = {n: i for i, n in enumerate(HEADLINE_KPIS)}
    assert [(order[k], y, s) for y, k, s, _ in rows] == sorted((order[k], y, s) for y, k, s, _ in rows)
