"""Conflict detection: properties that must hold for any entries (hypothesis) plus worked cases."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.data import Source, SourcedValue, find_conflict

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
