"""Conflict detection: properties that must hold for any entries (hypothesis) plus worked cases."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.data import Source, SourcedValue, find_conflict, load_dataset
from mine2magnet.errors import InputError

SRC_A = Source(id="a", title="A", publisher="P", date="2024", type="paper", url="https://example.org/a")
SRC_B = Source(id="b", title="B", publisher="P", date="2024", type="paper", url="https://example.org/b")


def _v(
    value: float | str, unit: str | None = "t", rng: tuple[float, float] | None = None, src: Source = SRC_A
):
    return SourcedValue(key="k", value=value, unit=unit, source=src, kind="reported", range=rng)


finite = st.floats(min_value=1e-3, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(finite)
def test_identical_values_never_conflict(x: float) -> None:
    assert find_conflict("k", [_v(x), _v(x, src=SRC_B)]) is None


@given(finite, finite)
def test_conflict_does_not_depend_on_order(x: float, y: float) -> None:
    ab = find_conflict("k", [_v(x), _v(y, src=SRC_B)])
    ba = find_conflict("k", [_v(y, src=SRC_B), _v(x)])
    assert (ab is None) == (ba is None)


@given(finite, finite)
def test_conflict_does_not_depend_on_unit(x: float, y: float) -> None:
    """The same two quantities written in t and in kt are judged alike."""
    in_t = find_conflict("k", [_v(x), _v(y, src=SRC_B)])
    mixed = find_conflict("k", [_v(x / 1000.0, unit="kt"), _v(y, src=SRC_B)])
    assert (in_t is None) == (mixed is None)


@given(finite, st.floats(min_value=0.0, max_value=0.5), st.floats(min_value=0.0, max_value=1.0))
def test_value_inside_other_range_never_conflicts(x: float, half_width: float, where: float) -> None:
    low, high = x * (1 - half_width), x * (1 + half_width)
    inside = low + where * (high - low)
    assert find_conflict("k", [_v(x, rng=(low, high)), _v(inside, src=SRC_B)]) is None


@given(finite, st.floats(min_value=0.03, max_value=10.0))
def test_values_apart_by_more_than_tolerance_conflict(x: float, gap: float) -> None:
    """Without ranges each value vouches for +-1 %; values more than ~2 % apart must conflict."""
    conflict = find_conflict("k", [_v(x), _v(x * (1 + gap), src=SRC_B)])
    assert conflict is not None
    assert len(conflict.values) == 2


def test_within_one_percent_agrees() -> None:
    assert find_conflict("k", [_v(1000.0), _v(1015.0, src=SRC_B)]) is None  # 1000+-10 and 1015+-10.15 overlap
    assert find_conflict("k", [_v(1000.0), _v(1030.0, src=SRC_B)]) is not None


def test_text_values_conflict_only_when_different() -> None:
    assert find_conflict("k", [_v("Chinalco", None), _v("Chinalco", None, src=SRC_B)]) is None
    conflict = find_conflict("k", [_v("Chinalco", None), _v("China Rare Earth Group", None, src=SRC_B)])
    assert conflict is not None and "Chinalco" in conflict.reason


def test_single_entry_is_never_a_conflict() -> None:
    assert find_conflict("k", [_v(1.0)]) is None


# --- keys that hold the same quantity (same_quantity_as) -----------------------------------------------
_SOURCES = """\
sources:
  src-a: {title: A, url: "https://example.org/a", publisher: P, date: "2024", type: paper}
  src-b: {title: B, url: "https://example.org/b", publisher: P, date: "2024", type: paper}
"""


def _folder(tmp_path: Path, values: str, observations: str | None = None) -> Path:
    for sub in ("sources", "values"):
        (tmp_path / sub).mkdir()
    (tmp_path / "sources" / "a.yaml").write_text(_SOURCES)
    (tmp_path / "values" / "topic.yaml").write_text(textwrap.dedent(values))
    if observations is not None:
        (tmp_path / "observations").mkdir()
        (tmp_path / "observations" / "history.yaml").write_text(textwrap.dedent(observations))
    return tmp_path


def _two_keys(old: str, new: str) -> str:
    return f"""\
    values:
      - {{key: output.old, value: {old}, unit: t/yr, source: src-a, kind: reported}}
      - {{key: output.new, value: {new}, unit: kt/yr, source: src-b, kind: reported,
          same_quantity_as: [output.old]}}
    """


def test_cross_key_conflict_found_in_converted_units(tmp_path: Path) -> None:
    ds = load_dataset(_folder(tmp_path, _two_keys("310", "19.081")))
    assert ds.same_quantity_groups() == [("output.new", "output.old")]
    [conflict] = ds.conflicts()
    assert conflict.key == "output.new" and conflict.keys == ("output.new", "output.old")
    assert {v.key for v in conflict.values} == {"output.old", "output.new"}
    assert "output.new and output.old hold the same quantity" in conflict.reason
    assert "(output.old)" in conflict.reason and "(output.new)" in conflict.reason
    assert conflict.to_dict()["keys"] == ["output.new", "output.old"]


def test_cross_key_agreement_not_reported(tmp_path: Path) -> None:
    """310 t/yr and 0.31 kt/yr are one figure: grouped, compared, not a conflict."""
    ds = load_dataset(_folder(tmp_path, _two_keys("310", "0.31")))
    assert ds.same_quantity_groups() == [("output.new", "output.old")]
    assert ds.conflicts() == []


def test_cross_key_conflict_with_an_observation(tmp_path: Path) -> None:
    observations = """\
    observations:
      - {key: history.output.2023, quantity: mine_output, subject: X, period: "2023", value: 19081,
         unit: t, source: src-b, kind: reported}
    """
    values = """\
    values:
      - {key: output.2023, value: 310, unit: t, source: src-a, kind: estimate,
         same_quantity_as: [history.output.2023]}
    """
    [conflict] = load_dataset(_folder(tmp_path, values, observations)).conflicts()
    assert conflict.keys == ("output.2023", "history.output.2023")
    assert sorted(v.magnitude("t") for v in conflict.values) == [310, 19081]


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("output.olf", "an unknown key 'output.olf'"),
        ("output.new", "its own key 'output.new'"),
    ],
)
def test_bad_same_quantity_key_refused_with_file_and_field(
    tmp_path: Path, declared: str, message: str
) -> None:
    values = _two_keys("310", "0.31").replace(
        "same_quantity_as: [output.old]", f"same_quantity_as: [{declared}]"
    )
    with pytest.raises(InputError) as info:
        load_dataset(_folder(tmp_path, values))
    assert info.value.file == f"{tmp_path}/values/topic.yaml"
    assert info.value.field == "values[1].same_quantity_as[0]"
    assert message in str(info.value)


def test_same_quantity_in_units_that_do_not_convert_refused(tmp_path: Path) -> None:
    values = _two_keys("310", "0.31").replace("unit: kt/yr", "unit: USD")
    with pytest.raises(InputError) as info:
        load_dataset(_folder(tmp_path, values))
    assert info.value.field == "values[1].same_quantity_as[0]"
    assert "does not convert" in str(info.value)


def test_package_china_quota_2023_conflicts_across_keys_and_2024_agrees() -> None:
    ds = load_dataset()
    by_key = {c.key: c for c in ds.conflicts()}
    conflict = by_key["production.china.2023"]
    assert conflict.keys == ("production.china.2023", "quota.china.mining.2023")
    assert sorted(v.magnitude("t/yr") for v in conflict.values) == [240_000, 255_000]
    assert ("production.china.2024", "quota.china.mining.2024") in ds.same_quantity_groups()
    assert not any("quota.china.mining.2024" in c.keys for c in ds.conflicts())


def test_observed_flow_over_a_period_compared_with_a_rate(tmp_path: Path) -> None:
    """A value in t/yr and an observation in t over a fiscal year (or quarter) are compared per year."""
    observations = """\
    observations:
      - {key: history.ndpr.fy2024, quantity: facility_output, subject: X, period: FY2024, value: 5655,
         unit: t, source: src-b, kind: reported}
      - {key: history.ndpr.fy2024q4, quantity: facility_output, subject: X, period: FY2024Q4, value: 1504,
         unit: t, source: src-b, kind: reported}
    """
    values = """\
    values:
      - {key: ndpr.fy2024, value: 5.655, unit: kt/yr, source: src-a, kind: reported,
         same_quantity_as: [history.ndpr.fy2024]}
      - {key: ndpr.fy2024q4, value: 5000, unit: t/yr, source: src-a, kind: estimate,
         same_quantity_as: [history.ndpr.fy2024q4]}
    """
    ds = load_dataset(_folder(tmp_path, values, observations))
    [conflict] = ds.conflicts()  # the annual figures agree; the quarter is 1504 t x 4 = 6016 t/yr vs 5000
    assert conflict.keys == ("ndpr.fy2024q4", "history.ndpr.fy2024q4")
    assert sorted(round(v.magnitude("t/yr")) for v in conflict.values) == [5000, 6016]
