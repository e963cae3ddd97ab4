"""Default distributions of ranged assumptions: uniform when the value is the range's middle, else triangular
peaking at the stated value (so a sample's median does not move away from the author's best guess)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.analysis.uncertainty.declarations import default_distribution
from mine2magnet.analysis.uncertainty.distributions import Triangular, Uniform
from mine2magnet.data import load_dataset


def test_an_off_centre_assumption_peaks_at_its_value_and_a_centred_one_stays_uniform():
    ds = load_dataset()
    # 4,000 USD/t in [2,000, 8,000]: off the middle (5,000)
    entry = ds.get("chain.cost.hard_rock_mining")
    assert entry.kind == "assumption"
    dist, origin = default_distribution(ds, "chain.cost.hard_rock_mining")
    assert isinstance(dist, Triangular) and "off its middle" in origin
    assert (dist.low, dist.mode, dist.high) == (2000.0, 4000.0, 8000.0)
    # 0.10 in [0.05, 0.15]: the middle
    dist, origin = default_distribution(ds, "chain.royalty.malaysia_ree")
    assert isinstance(dist, Uniform) and "centred" in origin


def test_the_triangular_median_sits_between_the_value_and_the_uniform_median():
    # triangular(2,000, 4,000, 8,000): F(mode) = 1/3, so the median is 8,000 - sqrt(0.5 x 6,000 x 4,000)
    tri = Triangular(2000.0, 4000.0, 8000.0)
    median = float(tri.ppf(np.array([0.5]))[0])
    assert median == pytest.approx(8000.0 - (0.5 * 6000.0 * 4000.0) ** 0.5, rel=1e-9)
    assert 4000.0 < median < 5000.0


@given(st.floats(-1e6, 1e6), st.floats(1e-2, 1e6), st.floats(0.0, 1.0))
def test_a_triangular_median_lies_between_the_stated_value_and_the_middle(low, width, where):
    # why the rule holds: peaking at the value keeps the median on the value's side of the middle
    high, value, middle = low + width, low + where * width, low + width / 2.0
    median = float(Triangular(low, value, high).ppf(np.array([0.5]))[0])
    slack = 1e-9 * max(1.0, abs(low), abs(high))
    assert min(value, middle) - slack <= median <= max(value, middle) + slack


def _market_bom_sample(ds, element: str, n: int, seed: int) -> np.ndarray:
    """The market-average content of `element` (kg/kg) recomputed from its components: each component
    triangular at its value on its range, segment and grade shares renormalised to 1."""
    rs = np.random.default_rng(seed)
    segments = ("ev_traction", "wind", "industrial_motors", "electronics", "other")
    grades = ("standard", "high_coercivity", "ev_wind")

    def draw(key):
        e = ds.get(key)
        v = float(e.magnitude())
        if not e.range or e.range[0] == e.range[1]:
            return np.full(n, v)
        low, high = float(e.range[0]), float(e.range[1])
        return rs.triangular(low, min(max(v, low), high), high, n)

    shares = np.array([draw(f"magnet.ndfeb.segment_share.{s}") for s in segments])
    shares /= shares.sum(axis=0)
    bom = {gr: draw(f"magnet.ndfeb.grade.{gr}.bom.{element}") for gr in grades}  # one grade, one BOM
    total = np.zeros(n)
    for i, s in enumerate(segments):
        g = np.array([draw(f"magnet.ndfeb.segment.{s}.grade_share.{gr}") for gr in grades])
        g /= g.sum(axis=0)
        total += shares[i] * sum(g[j] * bom[gr] for j, gr in enumerate(grades))
    return total


@pytest.mark.parametrize("element", ["Nd", "Pr", "Dy", "Tb"])
def test_the_market_bom_spread_is_the_monte_carlo_of_its_components(element):
    from mine2magnet.analysis.uncertainty.declarations import load_declarations

    ds = load_dataset()
    key = f"magnet.ndfeb.market_bom.{element}"
    spec = load_declarations().distributions[key]
    assert spec.distribution == "normal" and (spec.low, spec.high) == ds.get(key).range
    sample = _market_bom_sample(ds, element, 40_000, seed=7)
    assert spec.sd == pytest.approx(sample.std(), rel=0.05)
    # the interval bounds are far outside the combination's P5-P95: they are not a P5-P95
    p5, p95 = np.percentile(sample, [5, 95])
    assert spec.low < p5 and p95 < spec.high
