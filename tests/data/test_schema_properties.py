"""Property tests of the entry schemas: what is accepted and refused for any numbers, not just examples."""

from __future__ import annotations

import itertools
import math
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from mine2magnet.data import Source, SourcedComposition
from mine2magnet.data.schema import CompositionEntry, ValueEntry
from mine2magnet.data.units import convert

BASE = {"key": "x.share", "source": "s", "kind": "reported"}
REE = ["Y", "La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu"]


@given(st.sampled_from(["fraction", "%", "ppm"]), st.floats(min_value=0.0, max_value=1.0))
def test_part_of_whole_inside_unit_interval_is_accepted(unit: str, fraction: float) -> None:
    value = convert(fraction, "fraction", unit)
    entry = ValueEntry.model_validate({**BASE, "value": value, "unit": unit})
    assert convert(entry.value, unit, "fraction") == pytest.approx(fraction)


@given(
    st.sampled_from(["fraction", "%", "ppm"]),
    st.one_of(st.floats(min_value=1.0001, max_value=1e6), st.floats(min_value=-1e6, max_value=-1e-6)),
)
def test_part_of_whole_outside_unit_interval_is_refused(unit: str, fraction: float) -> None:
    with pytest.raises(ValidationError, match=r"outside \[0, 1\]"):
        ValueEntry.model_validate({**BASE, "value": convert(fraction, "fraction", unit), "unit": unit})


@given(st.floats(min_value=0.0, max_value=1e6), st.floats(min_value=0.0, max_value=1e6))
def test_range_must_contain_value(value: float, other: float) -> None:
    low, high = sorted((value, other))
    ValueEntry.model_validate({**BASE, "key": "x.m", "value": value, "unit": "t", "range": [low, high]})
    if other > value:
        with pytest.raises(ValidationError, match="outside its stated range"):
            ValueEntry.model_validate(
                {**BASE, "key": "x.m", "value": value, "unit": "t", "range": [other, other]}
            )


#: A table is drawn in hundredths of a per cent, as data files print it: integer parts summing to 10,000.
#: (Normalising random float weights instead gave one-element tables of 100.00000000000001 %, outside
#: [0, 100], so the acceptance property failed on a rounding artefact rather than on the schema.)
HUNDREDTHS = 10_000


@st.composite
def distributions(draw: st.DrawFn) -> dict[str, float]:
    elements = draw(st.lists(st.sampled_from(REE), min_size=1, max_size=len(REE), unique=True))
    cuts = draw(
        st.lists(
            st.integers(min_value=1, max_value=HUNDREDTHS - 1),
            min_size=len(elements) - 1,
            max_size=len(elements) - 1,
            unique=True,
        )
    )
    bounds = [0, *sorted(cuts), HUNDREDTHS]
    parts = [b - a for a, b in itertools.pairwise(bounds)]
    assert sum(parts) == HUNDREDTHS and min(parts) >= 1
    return {el: n / 100.0 for el, n in zip(elements, parts, strict=True)}


def test_one_element_table_of_exactly_100_percent_is_accepted_and_a_hair_above_is_refused() -> None:
    """The boundary itself: 100 % is inside [0, 100]; the next float above is not (no silent slack)."""
    entry = {**BASE, "key": "f.x", "basis": "reo_percent", "complete": True, "tolerance": 1.0}
    assert CompositionEntry.model_validate({**entry, "values": {"Y": 100.0}}).fractions() == {"Y": 1.0}
    with pytest.raises(ValidationError, match="outside"):
        CompositionEntry.model_validate({**entry, "values": {"Y": math.nextafter(100.0, 200.0)}})


@given(distributions(), st.floats(min_value=0.0, max_value=0.9))
def test_complete_composition_within_tolerance_is_accepted(values: dict[str, float], drift: float) -> None:
    first = next(iter(values))
    shifted = {**values, first: values[first] * (1 - drift / 100.0)}  # loses at most 0.9 % points
    entry = CompositionEntry.model_validate(
        {**BASE, "key": "f.x", "basis": "reo_percent", "complete": True, "tolerance": 1.0, "values": shifted}
    )
    assert sum(entry.fractions().values()) == pytest.approx(sum(shifted.values()) / 100.0)


@given(distributions(), st.floats(min_value=1.5, max_value=60.0))
def test_complete_composition_short_of_100_is_refused(values: dict[str, float], missing: float) -> None:
    scaled = {el: v * (100.0 - missing) / 100.0 for el, v in values.items()}
    with pytest.raises(ValidationError, match="declared complete"):
        CompositionEntry.model_validate(
            {
                **BASE,
                "key": "f.x",
                "basis": "reo_percent",
                "complete": True,
                "tolerance": 1.0,
                "values": scaled,
            }
        )
    # The same table declared partial is fine.
    CompositionEntry.model_validate(
        {**BASE, "key": "f.x", "basis": "reo_percent", "complete": False, "values": scaled}
    )


@given(distributions(), st.floats(min_value=1e-3, max_value=1e6), st.booleans())
def test_sourced_composition_conserves_treo(
    values: dict[str, float], total_kg: float, normalise: bool
) -> None:
    """to_composition() puts total_kg x (listed share) of oxide into the Composition, element by element."""
    fractions = {el: v / 100.0 * 0.97 for el, v in values.items()}  # a partial table (97 % listed)
    comp = SourcedComposition(
        key="f.x",
        fractions=MappingProxyType(fractions),
        source=Source(id="s", title="t", publisher="p", date="2024", type="paper", url="https://example.org"),
        kind="reported",
        complete=False,
    )
    mixture = comp.to_composition(total_reo_kg=total_kg, normalise=normalise)
    expected_total = total_kg if normalise else total_kg * 0.97
    assert mixture.total_reo() == pytest.approx(expected_total, rel=1e-9)
    oxide = mixture.oxide_mass()
    scale = 1.0 / 0.97 if normalise else 1.0
    for el, f in fractions.items():
        assert oxide[el] == pytest.approx(f * scale * total_kg, rel=1e-9)
