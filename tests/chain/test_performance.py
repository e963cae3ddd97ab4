"""Condensing a refinery run into the chain's RefineryPerformance (a stand-in result with known numbers)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from mine2magnet.chain import performance_from_result
from mine2magnet.errors import InputError


@dataclass
class P:
    t_per_yr: float
    purity: float
    elements: tuple[str, ...]
    saleable: bool = True
    form: str = "oxide"


@dataclass
class R:
    wet_t_per_yr: float
    bq: float

    def activity_bq_per_g(self) -> dict[str, float]:
        return {"Th-232": self.bq, "U-238": self.bq / 10}


@dataclass
class C:
    opex_usd_per_yr: float


@dataclass
class Result:
    feed_reo_t_per_yr: float = 1000.0
    products: dict = field(
        default_factory=lambda: {
            "NdPr oxide": P(200, 0.99, ("Nd", "Pr")),
            "SEG": P(30, 0.95, ("Sm", "Eu", "Gd")),
            "La-Ce": P(600, 0.99, ("La", "Ce"), saleable=False),
        }
    )
    residues: dict = field(default_factory=lambda: {"WLP": R(2850.0, 6.0), "NUF": R(7930.0, 0.0)})
    reagents: dict = field(default_factory=lambda: {"HCl": 1500.0})
    costs: C = field(default_factory=lambda: C(5.0e6))
    mass_balance_error: float = 1e-9

    def element_yield(self):
        return {
            "Nd": {"NdPr oxide": 0.95, "WLP": 0.01},
            "Pr": {"NdPr oxide": 0.94},
            "Sm": {"SEG": 0.8},
            "La": {"La-Ce": 0.97},
        }


def test_products_are_classified_and_per_t_figures_use_the_feed():
    perf = performance_from_result(Result(), flowsheet="fs", feed="f")
    assert perf.yield_of("oxide", "Nd") == 0.95 and perf.yield_of("oxide", "Pr") == 0.94
    assert perf.yield_of("mixed_oxide", "Sm") == 0.8  # three named elements: not a separated product
    assert perf.yield_of("oxide", "La") == 0.0  # unsaleable: with the losses
    assert perf.residues_t_per_t_reo == {"WLP": 2.85, "NUF": 7.93}
    assert perf.residue_bq_per_g["WLP"] == 6.0
    assert perf.reagents_t_per_t_reo["HCl"] == 1.5 and perf.opex_usd_per_t_reo == 5000.0


def test_yields_above_one_are_refused():
    bad = Result()
    bad.element_yield = lambda: {"Nd": {"NdPr oxide": 0.7, "SEG": 0.5}}  # type: ignore[method-assign]
    with pytest.raises(InputError, match=r"yields of Nd sum to 1\.2"):
        performance_from_result(bad, flowsheet="fs", feed="f")
