"""The result of a multi-year chain run: tidy tables, the summary (summary.json) and Sankey data."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Tables every result holds, with their required columns (extra columns may follow).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "flows": ("year", "source", "target", "commodity", "element", "t", "value_usd"),
    "stocks": ("year", "facility", "stock", "element", "t"),
    "kpis": ("year", "kpi", "facility", "element", "value", "unit"),
    "facilities": (
        "facility",
        "type",
        "country",
        "owner",
        "state_linked",
        "technology_origin",
        "capacity_t_per_yr",
    ),
    "assumptions": (
        "key",
        "value",
        "unit",
        "kind",
        "source_id",
        "source_title",
        "source_url",
        "source_date",
        "range_low",
        "range_high",
        "note",
    ),
}


#: KPIs that the economic accounts add to a run (``mine2magnet.economics``), by stage and ``total``.
ACCOUNT_KPIS = (
    "national_value_added_usd",
    "gross_margin_usd",
    "wages_usd",
    "taxes_usd",
    "foreign_income_usd",
    "jobs_direct",
    "value_added_total_usd",
    "jobs_total",
    "myr_per_usd",
)


def _clean(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


@dataclass
class ChainResult:
    """Tables of one scenario run (``flows``, ``stocks``, ``kpis``, ``facilities``, ``assumptions``).

    Units: ``t`` is tonnes of each element as its oxide (REO basis); money in USD of the price deck.
    """

    scenario_name: str
    overrides: list[str]
    years: list[int]
    tables: dict[str, pd.DataFrame]
    mass_balance_error: float
    focus_country: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def kpi(self, name: str) -> pd.DataFrame:
        """Rows of one KPI."""
        k = self.tables["kpis"]
        return k[k["kpi"] == name]

    def kpi_by_year(
        self, name: str, *, by: str | None = None, facility: str | None = None, detail: str | None = None
    ) -> dict[int, Any]:
        """{year: value} of a KPI summed over rows, or {year: {by-value: value}} when `by` is a column."""
        k = self.kpi(name)
        if facility is not None:
            k = k[k["facility"] == facility]
        if detail is not None:
            k = k[k["detail"] == detail]
        out: dict[int, Any] = {}
        for year in self.years:
            ky = k[k["year"] == year]
            if by is None:
                out[year] = float(ky["value"].sum()) if len(ky) else 0.0
            else:
                out[year] = {str(key): float(v) for key, v in ky.groupby(by)["value"].sum().items()}
        return out

    def summary(self) -> dict[str, Any]:
        """The summary.json content: scenario, overrides, years and the headline KPIs by year."""
        k = self.tables["kpis"]

        def per_year_nested(kpi: str, by: str) -> dict[int, dict[str, float]]:
            return self.kpi_by_year(kpi, by=by)

        residue: dict[int, dict[str, Any]] = {}
        for year in self.years:
            ky = k[k["year"] == year]
            block: dict[str, Any] = {}
            for kpi, label in (
                ("residue_produced_t", "produced"),
                ("residue_accumulated_t", "accumulated"),
                ("residue_produced_bq", "produced_bq"),
                ("residue_accumulated_bq", "accumulated_bq"),
            ):
                # a facility's processes (e.g. a concentrate and an MREC line) each report their residue
                # types: sum them per facility and type
                totals = ky[ky["kpi"] == kpi].groupby(["facility", "detail"], sort=False)["value"].sum()
                block[label] = {f"{fac}:{kind}": float(v) for (fac, kind), v in totals.items()}
            residue[year] = block
        ss: dict[int, dict[str, float]] = {}
        for year in self.years:
            rows = k[(k["year"] == year) & (k["kpi"] == "magnet_self_sufficiency")]
            ss[year] = {r.element: float(r.value) for r in rows.itertuples()}
        return {
            "scenario": self.scenario_name,
            "overrides": list(self.overrides),
            "years": list(self.years),
            "focus_country": self.focus_country,
            "mass_balance_error": float(self.mass_balance_error),
            "kpis": {
                "domestic_value_added_usd": per_year_nested("domestic_value_added_usd", "facility"),
                "raw_export_value_usd": self.kpi_by_year("raw_export_value_usd"),
                "value_capture_ratio": {
                    y: _clean(v) for y, v in self.kpi_by_year("value_capture_ratio").items()
                },
                "domestic_processing_share": {
                    y: _clean(v) for y, v in self.kpi_by_year("domestic_processing_share").items()
                },
                "feed_sufficiency": per_year_nested("feed_sufficiency", "facility"),
                "feed_years_left": per_year_nested("feed_years_left", "facility"),
                "feed_years_at_capacity": per_year_nested("feed_years_at_capacity", "facility"),
                "magnet_self_sufficiency": ss,
                "hhi": per_year_nested("hhi", "facility"),
                "residue_t": residue,
                "smuggling_loss_usd": self.kpi_by_year("smuggling_loss_usd"),
                "smuggled_t": self.kpi_by_year("smuggled_t"),
                "unmet_demand_t": per_year_nested("unmet_demand_t", "element"),
                "royalties_usd": self.kpi_by_year("royalties_usd"),
                "secondary_supply_t": self.kpi_by_year("secondary_supply_t"),
                "reagent_t": per_year_nested("reagent_t", "detail"),
                **{
                    kpi: per_year_nested(kpi, "facility")
                    for kpi in ACCOUNT_KPIS
                    if kpi != "myr_per_usd" and (k["kpi"] == kpi).any()
                },
                **(
                    {"myr_per_usd": self.kpi_by_year("myr_per_usd")}
                    if (k["kpi"] == "myr_per_usd").any()
                    else {}
                ),
            },
        }

    def sankey(self, year: int | None = None) -> dict[str, Any]:
        """Nodes and links of the flows of `year` (default: last), summed over elements, for a Sankey."""
        year = self.years[-1] if year is None else year
        f = self.tables["flows"]
        f = f[f["year"] == year]
        agg = f.groupby(["source", "target", "commodity"], sort=False)["t"].sum().reset_index()
        nodes: list[str] = []
        for name in list(agg["source"]) + list(agg["target"]):
            if name not in nodes:
                nodes.append(name)
        links = [
            {"source": r.source, "target": r.target, "value": float(r.t), "commodity": r.commodity}
            for r in agg.itertuples()
            if r.t > 0
        ]
        return {"year": year, "nodes": nodes, "links": links}
