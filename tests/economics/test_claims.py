"""The claim check on a hand-made run: units converted at the year's rate, verdicts by reading."""

from __future__ import annotations

from types import MappingProxyType, SimpleNamespace

import pandas as pd
import pytest

from mine2magnet.chain import ChainResult
from mine2magnet.data import Claim, Period, Source, load_dataset
from mine2magnet.economics.claims import check_claim

SOURCE = Source("test-source", "A test report", "Test publisher", "2025", "news", url="https://example.org")


def _result() -> ChainResult:
    kpis = pd.DataFrame(
        [
            (2025, "domestic_value_added_usd", "total", "", 500e6, "USD", ""),
            (2025, "jobs_direct", "total", "", 1500.0, "persons", ""),
            (2025, "jobs_total", "total", "", 3000.0, "persons", ""),
            (2025, "myr_per_usd", "total", "", 4.0, "MYR/USD", ""),
        ],
        columns=["year", "kpi", "facility", "element", "value", "unit", "detail"],
    )
    return ChainResult("test", [], [2025], {"kpis": kpis, "flows": pd.DataFrame()}, 0.0, focus_country="M")


def _claim(value: float, unit: str, reading: str = "about", **model) -> Claim:
    return Claim(
        key="claim.m.x.2025",
        claim="a claim",
        quantity="value_added",
        subject="M",
        period=Period.parse("2025"),
        value=value,
        unit=unit,
        source=SOURCE,
        kind="reported",
        reading=reading,
        model=MappingProxyType({"country": "M", **model}),
    )


MODEL = SimpleNamespace(network=SimpleNamespace(of_kind=lambda kind: []), prices=None)


@pytest.mark.parametrize(
    ("value", "unit", "reading", "verdict", "holds"),
    [
        (2.0, "billion MYR", "about", "within range", True),  # model 0.5 bn USD x 4 = 2 bn MYR
        (2.0, "billion MYR", "up_to", "within range", True),
        (9.5, "billion MYR", "up_to", "above", True),  # the ceiling is far above: the claim holds, loosely
        (9.5, "billion MYR", "about", "above", False),
        (0.5, "billion MYR", "at_least", "below", True),
        (0.9, "billion USD", "at_least", "above", False),
    ],
)
def test_verdicts_by_reading(value, unit, reading, verdict, holds):
    c = check_claim(
        _claim(value, unit, reading, measure="value_added"), MODEL, _result(), load_dataset(), 0.3
    )
    assert c.verdict == verdict and c.holds is holds
    assert c.model == pytest.approx(2.0 if unit == "billion MYR" else 0.5)
    assert c.low == pytest.approx(c.model * 0.7) and c.high == pytest.approx(c.model * 1.3)


def test_jobs_direct_or_total_and_what_is_not_modelled():
    ds = load_dataset()
    total = check_claim(
        _claim(7000, "dimensionless", measure="jobs", effects="total"), MODEL, _result(), ds, 0.3
    )
    assert total.model == pytest.approx(3000.0) and total.verdict == "above"
    direct = check_claim(_claim(1500, "dimensionless", measure="jobs"), MODEL, _result(), ds, 0.3)
    assert direct.verdict == "within range"
    assert check_claim(_claim(1, "billion USD"), MODEL, _result(), ds, 0.3).verdict == "not modelled"
    other_year = _claim(1, "billion USD", measure="value_added")
    other_year = Claim(**{**other_year.__dict__, "period": Period.parse("2030")})
    assert "not 2030" in check_claim(other_year, MODEL, _result(), ds, 0.3).reason


def test_every_seed_claim_has_a_verdict_with_its_numbers():
    from mine2magnet.cli.claims import checked_claims

    checks = {c.claim.key: c for c in checked_claims()}
    for key in (
        "claim.malaysia.ree_gdp_contribution.2025",
        "claim.malaysia.ree_industry_output.2026",
        "claim.malaysia.ree_jobs.2025",
        "claim.malaysia.mineral_sector_gdp.2030",
        "claim.malaysia.smuggling_tax_lost.2023",
    ):
        c = checks[key]
        assert c.verdict in ("within range", "above", "below", "not modelled")
        assert c.reason
        if c.verdict != "not modelled":
            assert c.model is not None and c.low <= c.model <= c.high
