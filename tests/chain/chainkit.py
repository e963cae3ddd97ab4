"""Small hand-built chains whose optimal flows can be worked out by hand."""

from __future__ import annotations

from mine2magnet.chain import (
    ChainModel,
    ChainNetwork,
    Facility,
    PerformanceCache,
    PriceDeck,
    RefineryPerformance,
    TradeLink,
    YearSeries,
    parse_attributes,
)


def fac(kind: str, name: str, **raw: object) -> Facility:
    return Facility(name, kind, parse_attributes(kind, raw, where=f"{kind}.{name}"))


#: A test double of a refinery: 90 % of each element to separated oxide, 2 t residue per t REO at 6 Bq/g.
TEST_PERFORMANCE = RefineryPerformance(
    "test-flowsheet",
    "test-feed",
    yields={"oxide": {"La": 0.9, "Ce": 0.9, "Pr": 0.9, "Nd": 0.9, "Dy": 0.9}, "mixed_oxide": {}},
    residues_t_per_t_reo={"WLP": 2.0},
    residue_bq_per_g={"WLP": 6.0},
    reagents_t_per_t_reo={"HCl": 1.5},
    opex_usd_per_t_reo=2000.0,
)
MIX = {"La": 0.3, "Ce": 0.4, "Pr": 0.06, "Nd": 0.2, "Dy": 0.04}
PRICES = {"La": 1000.0, "Ce": 1000.0, "Pr": 50000.0, "Nd": 50000.0, "Dy": 250000.0}


def deck(**kw: object) -> PriceDeck:
    return PriceDeck(
        {e: YearSeries.constant(v) for e, v in PRICES.items()},
        {"mrec": 0.6, "concentrate": 0.5},
        1.05,
        YearSeries.constant(100_000.0),
        {"Nd": 0.2, "Pr": 0.05, "Dy": 0.07},
    )


def small_chain(
    *,
    mine_cap: str = "1000 t/yr",
    ref_cap: str = "800 t/yr",
    demand: str = "100 t/yr",
    policies: list | None = None,
    years: list[int] | None = None,
    export_country: str = "XX",
    extra: list[Facility] | None = None,
    extra_links: list[TradeLink] | None = None,
    refinery: dict[str, object] | None = None,
) -> ChainModel:
    """Mine (country A) -> refinery (A) -> a demand market (B) for Nd+Pr and an open market (C)."""
    facilities = [
        fac(
            "mines",
            "Mine",
            country="A",
            product="mrec",
            composition=MIX,
            capacity=mine_cap,
            cost="1000 USD/t",
            resource="1 Mt",
            royalty_rate=0.1,
        ),
        fac(
            "refineries",
            "Refinery",
            country="A",
            flowsheet="test-flowsheet",
            feeds={"mrec": "test-feed"},
            capacity=ref_cap,
            **(refinery or {}),
        ),
        fac(
            "markets",
            "Demand",
            country="B",
            commodity="oxide",
            demand=demand,
            demand_split={"Nd": 0.8, "Pr": 0.2},
            price_factor=1.2,
        ),
        fac("markets", "Open", country=export_country, commodity="oxide", open=True, price_factor=0.8),
        fac("markets", "Raw buyers", country="C", commodity="mrec", open=True),
        *(extra or []),
    ]
    links = [
        TradeLink("Mine", "Refinery", "mrec", cost=10.0),
        TradeLink("Mine", "Raw buyers", "mrec", cost=100.0),
        TradeLink("Refinery", "Demand", "oxide", cost=100.0),
        TradeLink("Refinery", "Open", "oxide", cost=100.0),
        *(extra_links or []),
    ]
    cache = PerformanceCache()
    cap = YearSeries.constant(float(ref_cap.split()[0]))
    cache.put(TEST_PERFORMANCE, cap.at(0))
    return ChainModel(
        ChainNetwork({f.name: f for f in facilities}, tuple(links)),
        policies or [],
        deck(),
        years or [2024],
        focus_country="A",
        performances=cache,
    )


def kpi(result, name, facility=None, element=None, year=None) -> float:
    """A KPI of a chain result summed over the rows that match facility, element and year."""
    k = result.tables["kpis"]
    k = k[k.kpi == name]
    if facility is not None:
        k = k[k.facility == facility]
    if element is not None:
        k = k[k.element == element]
    if year is not None:
        k = k[k.year == year]
    return float(k.value.sum())


def assert_same_tables(a: dict, b: dict, rel: float = 1e-9) -> None:
    """Two runs' tables equal: the same columns and shapes, numbers within `rel` (with an absolute floor of
    1e-12 for values at round-off level such as residuals), everything else exactly."""
    import numpy as np
    import pandas as pd

    assert a.keys() == b.keys()
    for name in a:
        x, y = a[name], b[name]
        assert list(x.columns) == list(y.columns) and x.shape == y.shape, name
        for col in x.columns:
            if pd.api.types.is_numeric_dtype(x[col]) and not pd.api.types.is_bool_dtype(x[col]):
                u, v = x[col].to_numpy(float), y[col].to_numpy(float)
                assert np.array_equal(np.isfinite(u), np.isfinite(v)), (name, col)
                m = np.isfinite(u)
                assert np.allclose(u[m], v[m], rtol=rel, atol=1e-12), (name, col)
            else:
                pd.testing.assert_series_equal(x[col], y[col], check_exact=True, obj=f"{name}.{col}")
