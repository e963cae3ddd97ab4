"""The briefing's ranges from a study's outputs: each draw's own figure (a sum, a minimum, a total held at the
end in the focus country), then its percentiles — checked on outputs written out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mine2magnet.analysis.uncertainty.answers import briefing_ranges


class Outputs:
    """A stand-in for StudyResult.outputs(kpi): tidy rows (draw, year, kpi, subject, value)."""

    def __init__(self, rows: list[tuple[int, int, str, str, float]]) -> None:
        self.frame = pd.DataFrame(rows, columns=["draw", "year", "kpi", "subject", "value"])

    def outputs(self, kpi: str) -> pd.DataFrame:
        return self.frame[self.frame["kpi"] == kpi].reset_index(drop=True)


def pct(values: list[float]) -> tuple[float, float, float]:
    return tuple(float(x) for x in np.percentile(values, [5, 50, 95]))  # type: ignore[return-value]


ROWS = [
    # value kept: draw 0 sums to 3, draw 1 to 7, draw 2 lacks 2031 (left out of the sum)
    (0, 2030, "national_value_added_usd", "total", 1.0),
    (0, 2031, "national_value_added_usd", "total", 2.0),
    (1, 2030, "national_value_added_usd", "total", 3.0),
    (1, 2031, "national_value_added_usd", "total", 4.0),
    (2, 2030, "national_value_added_usd", "total", 9.0),
    # feed: lowest year per draw of each refinery
    (0, 2030, "feed_sufficiency", "R1", 0.9),
    (0, 2031, "feed_sufficiency", "R1", 0.5),
    (1, 2030, "feed_sufficiency", "R1", 0.7),
    (1, 2031, "feed_sufficiency", "R1", 0.8),
    (2, 2031, "feed_sufficiency", "R1", 1.0),
    # magnets: lowest over elements and years
    (0, 2030, "magnet_self_sufficiency", "Nd", 0.6),
    (0, 2030, "magnet_self_sufficiency", "Dy", 0.2),
    (1, 2031, "magnet_self_sufficiency", "Nd", 0.4),
    (2, 2030, "magnet_self_sufficiency", "Dy", 0.9),
    # residue held at the end (2031) in country A only; added over the years in country A
    (0, 2031, "residue_accumulated_t", "Home:WLP", 10.0),
    (0, 2031, "residue_accumulated_t", "Home:NUF", 5.0),
    (0, 2031, "residue_accumulated_t", "Abroad:WLP", 100.0),
    (0, 2031, "residue_accumulated_t", "total", 115.0),
    (1, 2031, "residue_accumulated_t", "Abroad:WLP", 50.0),  # nothing held at home: 0
    (2, 2030, "residue_accumulated_t", "Home:WLP", 7.0),  # not the last year
    (2, 2031, "residue_accumulated_t", "Home:WLP", 8.0),
    (0, 2030, "residue_produced_t", "Home:WLP", 1.0),
    (0, 2031, "residue_produced_t", "Home:WLP", 2.0),
    (0, 2031, "residue_produced_t", "Abroad:WLP", 40.0),
    (1, 2031, "residue_produced_t", "Home:NUF", 4.0),
]


def test_each_draws_figure_then_its_percentiles() -> None:
    got = briefing_ranges(Outputs(ROWS), {"Home": "A", "Abroad": "B"}, "A")
    assert got["value"] == pytest.approx(pct([3.0, 7.0]))
    assert got["feed:R1"] == pytest.approx(pct([0.5, 0.7, 1.0]))
    assert got["magnets"] == pytest.approx(pct([0.2, 0.4, 0.9]))
    assert got["residue"] == pytest.approx(pct([15.0, 0.0, 8.0]))
    assert got["residue_new"] == pytest.approx(pct([3.0, 4.0]))
    assert "smuggling" not in got and "residue_bq" not in got  # no outputs: no range


def test_without_countries_every_facility_counts() -> None:
    got = briefing_ranges(Outputs(ROWS))
    assert got["residue"] == pytest.approx(pct([115.0, 50.0, 8.0]))
