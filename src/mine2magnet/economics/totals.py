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
    mine = accounts[(accounts["country"] == country) & (accounts["item"] != "informal_output")]
    by_year: dict[int, dict[str, dict[str, float]]] = {}  # year -> stage -> item -> USD
    for year_, stage_, item_, usd in zip(
        mine["year"].tolist(),
        mine["stage"].astype(str).tolist(),
        mine["item"].astype(str).tolist(),
        mine["usd"].tolist(),
        strict=True,
    ):
        acc_ = by_year.setdefault(int(year_), {}).setdefault(stage_, {})
        acc_[item_] = acc_.get(item_, 0.0) + float(usd)
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
