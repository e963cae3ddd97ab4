"""The shared input reader: what it accepts equals what the standard parsers read; whatever the bytes, the
only failure is an InputError naming the file; solver failures on an input name the input."""

from __future__ import annotations

import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from mine2magnet.data.reader import input_computation, read_input
from mine2magnet.errors import InputError

keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
)
documents = st.dictionaries(
    keys,
    st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4)
    ),
    max_size=6,
)

NONFINITE_TEXT = ("nan", "inf", "-inf", "+inf")
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(doc=documents)
def test_property_reader_reads_what_the_standard_parsers_read(tmp_path: Path, doc: dict) -> None:
    """Independent references: json.loads and yaml.safe_load of the same text."""
    if any(isinstance(v, str) and v.strip().lower().startswith(NONFINITE_TEXT) for v in _all(doc)):
        return  # text reading like a non-finite quantity ("inf t/yr") is refused on purpose
    text_json = json.dumps(doc)
    (tmp_path / "d.json").write_text(text_json, encoding="utf-8")
    assert read_input(tmp_path / "d.json") == json.loads(text_json)
    text_yaml = yaml.safe_dump(doc, allow_unicode=True)
    (tmp_path / "d.yaml").write_text(text_yaml, encoding="utf-8")
    if any(
        isinstance(v, str) and v.strip().lower().startswith(("nan", "inf", "-inf", "+inf")) for v in _all(doc)
    ):
        return  # text reading like a non-finite quantity is refused on purpose
    assert read_input(tmp_path / "d.yaml") == yaml.safe_load(text_yaml)


def _all(doc: object) -> list[object]:
    if isinstance(doc, dict):
        return [x for v in doc.values() for x in _all(v)]
    if isinstance(doc, list):
        return [x for v in doc for x in _all(v)]
    return [doc]


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".yaml", ".json"]))
def test_property_any_bytes_give_data_or_one_input_error(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"x{suffix}"
    path.write_bytes(data)
    try:
        read_input(path)
    except InputError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


def test_non_finite_values_are_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a:\n  b: [1, .nan]\n")
    with pytest.raises(InputError, match=r"a\.b\[1\]: expected a finite number"):
        read_input(path)
    path.write_text("a: {capacity: '-inf t/yr'}\n")
    with pytest.raises(InputError, match=r"a\.capacity"):
        read_input(path)
    assert read_input(path, finite=False) == {"a": {"capacity": "-inf t/yr"}}


@pytest.mark.parametrize(
    "failure",
    [
        lambda: 1 / 0,
        lambda: math.log(-1.0),
        lambda: brentq(lambda x: x * x + 1.0, 0.0, 1.0),
        lambda: {"La": 1}["Xx"],
        lambda: math.exp(1e6),
    ],
)
def test_numeric_failures_name_the_input(failure: object) -> None:
    with (
        pytest.raises(InputError, match=r"^spec\.yaml: model: ") as exc,
        input_computation("spec.yaml", field="model"),
    ):
        failure()  # type: ignore[operator]
    assert "\n" not in str(exc.value)


def test_other_errors_pass_through_unchanged() -> None:
    with pytest.raises(ValueError, match="something else"), input_computation("spec.yaml"):
        raise ValueError("something else")


def test_numpy_warnings_are_collected_not_leaked() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a leaked warning would fail here
        with input_computation("spec.yaml") as warned, np.errstate(all="warn"):
            np.exp(np.array([1000.0]))
    assert warned and "overflow" in warned[0]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_long_list_under_the_size_limit_is_refused_quickly(tmp_path: Path, suffix: str) -> None:
    """A 9 MB list under a known field took 31 s and 960 MB to compose before being refused; the event
    stream (YAML) or the separators (JSON) are counted first."""
    path = tmp_path / f"list{suffix}"
    path.write_text('{"components": [' + "1.5, " * 1_900_000 + "1.5]}\n")
    start = time.perf_counter()
    with pytest.raises(InputError, match="more than 200,000 values"):
        read_input(path)
    assert time.perf_counter() - start < 10.0  # 0.3 s at load 10 on 2 cores
