"""A small, hand-built value-chain result following the ChainResult contract, for store/report/CLI tests.

The numbers are test data chosen to be easy to check by hand (not model output, not shipped figures):
a mine sends ore to a cracker, the cracker sends MREC to a refinery, the refinery sends oxides to a magnet
plant and to an export market; element shares are fixed so every flow splits the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mine2magnet.chain import TABLE_COLUMNS

SHARES = {"La": 0.25, "Ce": 0.45, "Pr": 0.05, "Nd": 0.25}
#: (source, target, commodity, t REO per year, USD per t)
ARCS = [
    ("Mt Weld", "Kalgoorlie cracker", "concentrate", 10_000.0, 1_000.0),
    ("Kalgoorlie cracker", "Lynas Malaysia", "MREC", 9_000.0, 3_000.0),
    ("Lynas Malaysia", "JS Link magnets", "oxide", 1_500.0, 20_000.0),
    ("Lynas Malaysia", "Export market", "oxide", 6_500.0, 10_000.0),
    ("JS Link magnets", "Domestic magnet market", "magnet", 1_400.0, 60_000.0),
]
FACILITIES = [
    ("Mt Weld", "mine", "Australia", "Lynas", False, "Australia", 12_000.0),
    ("Kalgoorlie cracker", "cracker", "Australia", "Lynas", False, "Australia", 12_000.0),
    ("Lynas Malaysia", "refinery", "Malaysia", "Lynas", False, "Australia", 10_500.0),
    ("JS Link magnets", "magnet_plant", "Malaysia", "JS Link", False, "South Korea", 3_000.0),
    ("Export market", "market", "World", "", False, "", 0.0),
    ("Domestic magnet market", "market", "Malaysia", "", False, "", 0.0),
]


@dataclass
class SampleResult:
    """Duck-typed stand-in for mine2magnet.chain.ChainResult."""

    scenario_name: str
    overrides: list[str]
    years: list[int]
    tables: dict[str, pd.DataFrame]
    mass_balance_error: float = 0.0
    focus_country: str = "Malaysia"
    meta: dict = field(default_factory=dict)

    def summary(self) -> dict:
        kpis = self.tables.get("kpis", pd.DataFrame(columns=["kpi", "year"]))
        out: dict = {}
        for kpi, rows in kpis.groupby("kpi", sort=False):
            by_year: dict = {}
            for year, yr in rows.groupby("year"):
                keyed = {
                    (f or e or "total"): float(v)
                    for f, e, v in zip(yr.facility, yr.element, yr.value, strict=False)
                }
                by_year[int(year)] = keyed["total"] if list(keyed) == ["total"] else keyed
            out[str(kpi)] = by_year
        return {
            "scenario": self.scenario_name,
            "overrides": self.overrides,
            "years": self.years,
            "focus_country": self.focus_country,
            "kpis": out,
        }


def sample_result(
    scenario: str = "sample-base",
    scale: float = 1.0,
    years: tuple[int, ...] = (2024, 2025, 2026),
    overrides: tuple[str, ...] = (),
) -> SampleResult:
    """A result whose flows grow 10 % a year; ``scale`` multiplies every flow (to tell scenarios apart)."""
    flows, stocks, kpis = [], [], []
    for i, year in enumerate(years):
        growth = scale * 1.1**i
        for source, target, commodity, t, price in ARCS:
            for el, share in SHARES.items():
                flows.append(
                    (year, source, target, commodity, el, t * growth * share, t * growth * share * price)
                )
        residue = 0.5 * 9_000.0 * growth
        stocks.append((year, "Lynas Malaysia", "residue:WLP", "", residue * (i + 1)))
        stocks.append((year, "Domestic magnet market", "in_use_magnets", "Nd", 300.0 * (i + 1) * growth))
        va_separation = (1_500 * 20_000 + 6_500 * 10_000 - 9_000 * 3_000) * growth
        va_magnet = (1_400 * 60_000 - 1_500 * 20_000) * growth
        kpis += [
            (year, "domestic_value_added_usd", "separation", "", va_separation, "USD", ""),
            (year, "domestic_value_added_usd", "magnet", "", va_magnet, "USD", ""),
            (year, "domestic_value_added_usd", "total", "", va_separation + va_magnet, "USD", ""),
            (year, "raw_export_value_usd", "total", "", 0.0, "USD", ""),
            (
                year,
                "feed_sufficiency",
                "Lynas Malaysia",
                "",
                min(1.0, 9_000 * growth / 10_500),
                "fraction",
                "",
            ),
            (year, "feed_years_left", "Lynas Malaysia", "", 20.0 - i, "yr", ""),
            (year, "magnet_self_sufficiency", "", "Nd", 0.8, "fraction", ""),
            (year, "magnet_self_sufficiency", "", "Pr", 0.6, "fraction", ""),
            (year, "hhi", "separation", "", 1.0, "index (0-1)", ""),
            (year, "hhi", "mining", "", 0.5, "index (0-1)", ""),
            (year, "residue_produced_t", "Lynas Malaysia", "", residue, "t", "WLP"),
            (year, "residue_accumulated_t", "Lynas Malaysia", "", residue * (i + 1), "t", "WLP"),
            (year, "smuggled_t", "illegal-ore", "", 100.0 / scale, "t", ""),
            (year, "smuggling_loss_usd", "illegal-ore", "", 5e6 / scale, "USD", ""),
            (year, "unmet_demand_t", "Export market", "Nd", max(0.0, 2_000 - 1_400 * growth), "t", ""),
        ]
    tables = {
        "flows": pd.DataFrame(
            flows, columns=["year", "source", "target", "commodity", "element", "t", "value_usd"]
        ),
        "stocks": pd.DataFrame(stocks, columns=["year", "facility", "stock", "element", "t"]),
        "kpis": pd.DataFrame(kpis, columns=["year", "kpi", "facility", "element", "value", "unit", "detail"]),
        "facilities": pd.DataFrame(
            FACILITIES,
            columns=[
                "facility",
                "type",
                "country",
                "owner",
                "state_linked",
                "technology_origin",
                "capacity_t_per_yr",
            ],
        ),
        "assumptions": pd.DataFrame(
            [
                (
                    "price.Nd2O3",
                    60.0,
                    "USD/kg",
                    "reported",
                    "usgs-mcs-2025-ree",
                    "Mineral Commodity Summaries 2025: Rare Earths",
                    "https://pubs.usgs.gov/periodicals/mcs2025/mcs2025-rare-earths.pdf",
                    "2025-01-31",
                    55.0,
                    70.0,
                    "",
                ),
                (
                    "smuggling.share",
                    0.1,
                    "fraction",
                    "assumption",
                    "",
                    "",
                    "",
                    "",
                    0.0,
                    0.3,
                    "test assumption <with> markup & ampersand",
                ),
            ],
            columns=list(TABLE_COLUMNS["assumptions"]),
        ),
    }
    return SampleResult(scenario, list(overrides), list(years), tables)
