"""Constant distribution ratios against the Kremser closed form (sx_theory.md a2; Rydberg et al. 2004).

(x_in - y_in/m) / (x_out - y_in/m) = (E^(N+1) - 1) / (E - 1),  E = m O/A,  m = D (N ideal stages).
"""

from __future__ import annotations

import math

import pytest

from mine2magnet.separation import simulate


def kremser_x_out(x_in: float, y_in: float, D: float, O: float, A: float, N: int) -> float:
    E = D * O / A
    ratio = N + 1 if abs(E - 1.0) < 1e-14 else (E ** (N + 1) - 1.0) / (E - 1.0)
    return y_in / D + (x_in - y_in / D) / ratio


def single(D, O, A, N, x_in, y_in=0.0, efficiency=1.0):
    return {
        "components": ["Nd"],
        "model": {"type": "constant-distribution", "distribution_ratios": {"Nd": D}},
        "stages": {"extraction": N},
        "feed": {"stage": N, "volume_flow": A, "concentration": {"Nd": x_in}},
        "organic": {"volume_flow": O, "concentration": {"Nd": y_in} if y_in else {}},
        "efficiency": efficiency,
    }


@pytest.mark.parametrize(
    ("D", "O", "A", "N", "y_in"),
    [
        (10.0, 1.0, 3.0, 6, 0.0),
        (0.5, 1.0, 1.0, 12, 0.0),
        (2.0, 1.0, 2.0, 20, 0.0),  # E = 1 exactly
        (4.0, 2.0, 1.0, 30, 0.002),  # loaded inlet organic (differentiable-flowsheets issue #104)
        (0.8, 1.5, 1.0, 9, 0.01),
    ],
)
def test_kremser_closed_form(D, O, A, N, y_in):
    res = simulate(single(D, O, A, N, 0.05, y_in))
    x_out = res.outlets["raffinate"][0] / A
    assert x_out == pytest.approx(kremser_x_out(0.05, y_in, D, O, A, N), rel=1e-10)
    assert res.mass_balance_error <= 1e-9


def test_worked_kremser_check_ten_over_three():
    """D = 10, O/A = 1/3: E = 3.33, 77 % extracted per stage; 99.9 % needs N = 5.4, i.e. 6 stages."""
    E = 10.0 / 3.0
    fraction = E / (1 + E)
    assert fraction == pytest.approx(0.77, abs=0.005)
    n_exact = math.log(1000.0 * (1 - 1 / E) + 1 / E) / math.log(E)
    assert n_exact == pytest.approx(5.4, abs=0.05)
    rec = {N: 1 - simulate(single(10.0, 1.0, 3.0, N, 0.05)).outlets["raffinate"][0] / 0.15 for N in (5, 6)}
    assert rec[5] < 0.999 < rec[6]


def test_murphree_single_stage():
    """One stage at Murphree efficiency eta: y = eta D x, so x = x_in / (1 + eta E)."""
    D, O, A, eta = 3.0, 1.0, 1.0, 0.6
    res = simulate(single(D, O, A, 1, 0.05, efficiency=eta))
    assert res.outlets["raffinate"][0] / A == pytest.approx(0.05 / (1 + eta * D * O / A), rel=1e-12)


def test_extract_scrub_strip_balances():
    spec = {
        "components": ["Pr", "Nd"],
        "model": {
            "type": "constant-distribution",
            "distribution_ratios": {
                "extraction": {"Pr": 0.8, "Nd": 1.4},
                "scrub": {"Pr": 0.7, "Nd": 1.2},
                "strip": {"Pr": 0.01, "Nd": 0.02},
            },
        },
        "stages": {"extraction": 15, "scrub": 15, "strip": 5},
        "feed": {"stage": 15, "volume_flow": 1.0, "concentration": {"Pr": 0.1, "Nd": 0.3}},
        "organic": {"volume_flow": 1.5},
        "scrub": {"volume_flow": 0.5},
        "strip": {"volume_flow": 0.4},
        "efficiency": {"extraction": 0.9, "scrub": 0.9, "strip": 1.0},
    }
    res = simulate(spec)
    d = res.to_dict()
    for comp in ("Pr", "Nd"):
        rec = d["recovery"][comp]
        assert rec["raffinate"] + rec["strip_liquor"] + rec["stripped_organic"] == pytest.approx(
            1.0, abs=1e-12
        )
        assert 0.0 <= rec["raffinate"] <= 1.0
    assert d["outlets"]["strip_liquor"]["purity"]["Nd"] > 0.75  # enriched in the more extractable Nd
    assert len(d["stages"]) == 35 and d["stages"][-1]["section"] == "strip"
