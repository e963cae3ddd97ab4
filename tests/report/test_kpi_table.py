"""KpiTable: the vectorised totals agree with the per-subject view (two code paths, one answer)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.report.kpi_table import TOTAL, KpiTable

rows = st.lists(
    st.tuples(
        st.sampled_from([2024, 2025]),
        st.sampled_from(["residue_t", "feed_sufficiency", "value_added"]),
        st.sampled_from(["", "total", "Lynas Malaysia", "Kalgoorlie"]),
        st.sampled_from(["", "Nd", "Pr"]),
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    ),
    max_size=30,
)
UNITS = {"residue_t": "t", "feed_sufficiency": "fraction", "value_added": "USD"}


@settings(max_examples=30, deadline=None)
@given(rows)
def test_totals_are_stated_or_summed_or_absent(records):
    frame = pd.DataFrame(records, columns=["year", "kpi", "facility", "element", "value"])
    frame["unit"] = frame["kpi"].map(UNITS)
    table = KpiTable(frame)
    for (kpi, year), group in frame.groupby(["kpi", "year"]):
        # a row is about (facility, element); ("", "") and ("total", "") are both the stated total
        subjects = {
            ("" if (f, e) == ("total", "") else f, e)
            for f, e in zip(group.facility, group.element, strict=True)
        }
        stated = group[(group.facility.isin(["", "total"])) & (group.element == "")]
        found = table.total(kpi, year)
        if len(stated):
            assert found[0] == pytest.approx(stated.value.sum(), abs=1e-6)
        elif UNITS[kpi] != "fraction":
            assert found[0] == pytest.approx(group.value.sum(), abs=1e-6)
            assert found[0] == pytest.approx(sum(v for _, v, _ in table.by_subject(kpi, year)), abs=1e-6)
        elif len(subjects) == 1:
            assert found[0] == pytest.approx(group.value.iloc[0])
        else:
            assert found is None  # shares of several subjects have no total
        listed = [s for s, _, _ in table.by_subject(kpi, year)]
        assert len(listed) == len(set(listed)) and (TOTAL not in listed or len(listed) == 1)


def test_cumulative_sums_additive_totals_only():
    frame = pd.DataFrame(
        [
            (2024, "smuggling_loss_usd", "route", "", 5.0, "USD"),
            (2025, "smuggling_loss_usd", "route", "", 7.0, "USD"),
            (2024, "feed_sufficiency", "refinery", "", 0.5, "fraction"),
        ],
        columns=["year", "kpi", "facility", "element", "value", "unit"],
    )
    table = KpiTable(frame)
    assert table.cumulative("smuggling_loss_usd") == (12.0, "USD")
    assert table.cumulative("feed_sufficiency") is None
    assert math.isclose(table.total("feed_sufficiency", 2024)[0], 0.5)
