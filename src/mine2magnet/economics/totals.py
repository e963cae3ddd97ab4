"""What stays in a country, year by year: value added, wages, taxes, foreign-owned income and jobs, from the
accounts; indirect and induced effects with input-output multipliers when they are switched on.

Rows follow the chain's KPI table (``year, kpi, facility, element, value, unit, detail``), so they join the
run's KPIs: ``facility`` is a stage name or ``total``.

================================  ====================================================================
``domestic_value_added_usd``      value added in the country (income approach), by stage and total
``national_value_added_usd``      the same less the income of foreign owners
``gross_margin_usd``              output value less rare-earth input value (what the chain alone knows)
``wages_usd``, ``taxes_usd``      wages; royalties + corporate income tax
``foreign_income_usd``            profit and capital charge that belongs to owners abroad
``jobs_direct``                   direct jobs (persons)
``value_added_total_usd``         direct value added x the stage's value-added multiplier
``jobs_total``                    direct jobs x the stage's employment multiplier
``myr_per_usd``                   the year's exchange rate (for showing MYR beside USD)
================================  ====================================================================
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from mine2magnet.chain.result import ACCOUNT_KPIS
from mine2magnet.economics.accounts import EconomicInputs

#: KPIs these totals add to a run (the chain's gross margin becomes ``gross_margin_usd``).
TOTAL_KPIS = ("domestic_value_added_usd", *ACCOUNT_KPIS)


def _row(year: int, kpi: str, facility: str, value: float, unit: str, detail: str = "") -> dict[str, object]:
    return {
        "year": int(year),
        "kpi": kpi,
        "facility": facility,
        "element": "",
        "value": float(value),
        "unit": unit,
        "detail": detail,
    }


def country_totals(
    accounts: pd.DataFrame,
    country: str,
    inputs: EconomicInputs,
    years: list[int],
    multipliers: Mapping[str, Mapping[str, float]] | None = None,
) -> list[dict[str, object]]:
    """KPI rows of the country's totals by year (see the module docstring); `multipliers` by stage, e.g.
    ``{"separation": {"value_added": 1.6, "employment": 2.1}}`` (none: the totals equal the direct figures).
    """
    by_year: dict[int, dict[str, dict[str, float]]] = {}  # year -> stage -> item -> USD
    # the rows of the country's accounts (not informal output), summed by year, stage and item over arrays:
    # np.bincount adds each group's USD in row order from 0, as a loop of ``acc[item] += usd`` would
    countries, country_names = pd.factorize(accounts["country"])
    items, item_names = pd.factorize(accounts["item"])
    stages, stage_names = pd.factorize(accounts["stage"])
    in_country = np.array([str(c) == country for c in country_names], dtype=bool)
    formal = np.array([str(i) != "informal_output" for i in item_names], dtype=bool)
    if countries.size and in_country.any():
        keep = in_country[countries] & formal[items] & (countries >= 0) & (items >= 0) & (stages >= 0)
        row_years = accounts["year"].to_numpy(dtype=np.int64)[keep]
        usd = accounts["usd"].to_numpy(dtype=float)[keep]
        n_item, n_stage = max(len(item_names), 1), max(len(stage_names), 1)
        key = (row_years * n_stage + stages[keep]) * n_item + items[keep]
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        sums = np.bincount(inverse.ravel(), weights=usd, minlength=uniq.size)
        stage_list, item_list = [str(x) for x in stage_names], [str(x) for x in item_names]
        for k in np.argsort(first, kind="stable").tolist():  # groups in the order of their first row
            code = int(uniq[k])
            item_, rest = code % n_item, code // n_item
            stage_, year_ = rest % n_stage, rest // n_stage
            acc_ = by_year.setdefault(int(year_), {}).setdefault(stage_list[stage_], {})
            acc_[item_list[item_]] = float(sums[k])
    rows: list[dict[str, object]] = []
    for year in years:
        rows.append(_row(year, "myr_per_usd", "total", inputs.myr_per_usd.at(year), "MYR/USD"))
        if year not in by_year:
            continue
        totals = dict.fromkeys(TOTAL_KPIS, 0.0)
        for stage, acc in sorted(by_year[year].items()):
            va = float(acc.get("value_added", 0.0))
            margin = float(acc.get("output", 0.0) - acc.get("re_inputs", 0.0))
            m = (multipliers or {}).get(str(stage), {})
            items = {
                "domestic_value_added_usd": va,
                "national_value_added_usd": float(acc.get("national_value_added", 0.0)),
                "gross_margin_usd": margin,
                "wages_usd": float(acc.get("wages", 0.0)),
                "taxes_usd": float(acc.get("royalties", 0.0) + acc.get("corporate_tax", 0.0)),
                "foreign_income_usd": float(acc.get("foreign_income", 0.0)),
                "jobs_direct": float(acc.get("jobs", 0.0)),
                "value_added_total_usd": va * float(m.get("value_added", 1.0)),
                "jobs_total": float(acc.get("jobs", 0.0)) * float(m.get("employment", 1.0)),
            }
            for kpi, value in items.items():
                unit = "persons" if kpi.startswith("jobs") else "USD"
                rows.append(_row(year, kpi, str(stage), value, unit))
                totals[kpi] += value
        for kpi in TOTAL_KPIS:
            if kpi != "myr_per_usd":
                rows.append(
                    _row(year, kpi, "total", totals[kpi], "persons" if kpi.startswith("jobs") else "USD")
                )
    return rows
