"""Every kind of bad data file is refused with a message naming the file and the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mine2magnet.data import load_dataset
from mine2magnet.errors import InputError

SOURCES = """
sources:
  src-a:
    title: "A report"
    url: https://example.org/a
    publisher: Example Agency
    date: 2024-05-01
    type: government-report
"""


def _folder(tmp_path: Path, values: str, sources: str = SOURCES, extra_sources: str | None = None) -> Path:
    (tmp_path / "sources").mkdir()
    (tmp_path / "values").mkdir()
    (tmp_path / "sources" / "a.yaml").write_text(textwrap.dedent(sources))
    if extra_sources is not None:
        (tmp_path / "sources" / "b.yaml").write_text(textwrap.dedent(extra_sources))
    (tmp_path / "values" / "topic.yaml").write_text(textwrap.dedent(values))
    return tmp_path


def _refused(tmp_path: Path, values: str, **kw: str) -> str:
    with pytest.raises(InputError) as info:
        load_dataset(_folder(tmp_path, values, **kw))
    return str(info.value)


GOOD = """
values:
  - key: x.mass
    value: 5
    unit: t
    source: src-a
    kind: reported
"""


def test_good_folder_loads(tmp_path: Path) -> None:
    ds = load_dataset(_folder(tmp_path, GOOD))
    assert ds.value("x.mass", "kg") == pytest.approx(5000.0)


def test_missing_source_refused(tmp_path: Path) -> None:
    msg = _refused(tmp_path, "values:\n  - {key: x.mass, value: 5, unit: t, kind: reported}\n")
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[0].source:")
    assert "required" in msg.lower()


def test_unknown_source_id_refused(tmp_path: Path) -> None:
    msg = _refused(tmp_path, GOOD.replace("src-a", "usgs-mcs-2026"))
    assert msg == (
        f"{tmp_path}/values/topic.yaml: values[0].source: unknown source id 'usgs-mcs-2026' "
        "(not in any sources/*.yaml)"
    )


@pytest.mark.parametrize(
    ("value", "unit"),
    [(1.2, "fraction"), (101, "%"), (-0.1, "fraction"), (2_000_000, "ppm"), (150, "percent")],
)
def test_fraction_outside_unit_interval_refused(tmp_path: Path, value: float, unit: str) -> None:
    values = f"values:\n  - {{key: x.share, value: {value}, unit: '{unit}', source: src-a, kind: reported}}\n"
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[0].value:")
    assert "outside [0, 1]" in msg


def test_fraction_range_outside_unit_interval_refused(tmp_path: Path) -> None:
    values = (
        "values:\n  - {key: x.share, value: 90, unit: '%', range: [80, 120], source: src-a, kind: estimate}\n"
    )
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[0].range:")


def test_ratio_units_may_exceed_one(tmp_path: Path) -> None:
    values = "values:\n  - {key: x.residue, value: 13.41, unit: t/t, source: src-a, kind: reported}\n"
    assert load_dataset(_folder(tmp_path, values)).value("x.residue") == pytest.approx(13.41)


def test_incomplete_composition_declared_complete_refused(tmp_path: Path) -> None:
    values = """
    compositions:
      - key: feed.x
        basis: reo_percent
        complete: true
        tolerance: 1.0
        values: {La: 30, Ce: 50, Nd: 15}
        source: src-a
        kind: reported
    """
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: compositions[0].values:")
    assert "95.000 %" in msg and "complete" in msg


def test_complete_composition_within_tolerance_accepted(tmp_path: Path) -> None:
    values = """
    compositions:
      - {key: feed.x, basis: reo_percent, complete: true, tolerance: 1.0,
         values: {La: 30, Ce: 50, Nd: 19.5}, source: src-a, kind: reported}
    """
    comp = load_dataset(_folder(tmp_path, values)).composition("feed.x")
    assert comp.fractions["Nd"] == pytest.approx(0.195)
    assert comp.total() == pytest.approx(0.995)


def test_unknown_element_refused(tmp_path: Path) -> None:
    values = """
    compositions:
      - {key: feed.x, basis: reo_percent, complete: false, values: {La: 30, Xx: 5},
         source: src-a, kind: reported}
    """
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: compositions[0].values:")
    assert "unknown element 'Xx'" in msg


def test_composition_element_above_100_percent_refused(tmp_path: Path) -> None:
    values = """
    compositions:
      - {key: feed.x, basis: reo_percent, complete: false, values: {La: 130}, source: src-a, kind: reported}
    """
    assert "values.La" in _refused(tmp_path, values)


def test_unknown_unit_refused(tmp_path: Path) -> None:
    msg = _refused(tmp_path, GOOD.replace("unit: t", "unit: tonnez"))
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[0].unit:")
    assert "unknown unit 'tonnez'" in msg


def test_duplicate_source_id_across_files_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_dataset(_folder(tmp_path, GOOD, extra_sources=SOURCES))
    expected = f"{tmp_path}/sources/b.yaml: sources.src-a: duplicate source id 'src-a'"
    assert str(info.value).startswith(expected)
    assert f"{tmp_path}/sources/a.yaml" in str(info.value)


def test_duplicate_source_id_within_file_refused(tmp_path: Path) -> None:
    twice = SOURCES + SOURCES.replace("sources:\n", "")
    with pytest.raises(InputError) as info:
        load_dataset(_folder(tmp_path, GOOD, sources=twice))
    assert f"{tmp_path}/sources/a.yaml" in str(info.value) and "duplicate key 'src-a'" in str(info.value)


def test_number_without_unit_refused(tmp_path: Path) -> None:
    msg = _refused(tmp_path, "values:\n  - {key: x.m, value: 5, source: src-a, kind: reported}\n")
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[0].unit:")


def test_text_value_with_unit_refused(tmp_path: Path) -> None:
    values = "values:\n  - {key: x.p, value: Chinalco, unit: t, source: src-a, kind: reported}\n"
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[0].unit:")


def test_number_written_as_text_refused(tmp_path: Path) -> None:
    values = "values:\n  - {key: x.v, value: 800e9, unit: MYR, source: src-a, kind: reported}\n"
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[0].value:")


def test_value_outside_own_range_refused(tmp_path: Path) -> None:
    values = "values:\n  - {key: x.m, value: 5, unit: t, range: [6, 9], source: src-a, kind: estimate}\n"
    assert _refused(tmp_path, values).startswith(f"{tmp_path}/values/topic.yaml: values[0].range:")


def test_unknown_kind_refused(tmp_path: Path) -> None:
    msg = _refused(tmp_path, GOOD.replace("kind: reported", "kind: rumour"))
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[0].kind:")


def test_unknown_field_refused(tmp_path: Path) -> None:
    msg = _refused(tmp_path, GOOD + "    sauce: src-a\n")
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[0].sauce:")


def test_incompatible_units_for_one_key_refused(tmp_path: Path) -> None:
    values = GOOD + "  - {key: x.mass, value: 5, unit: USD, source: src-a, kind: reported}\n"
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[1].unit:")


def test_bad_source_date_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_dataset(_folder(tmp_path, GOOD, sources=SOURCES.replace("2024-05-01", "May 2024")))
    assert str(info.value).startswith(f"{tmp_path}/sources/a.yaml: sources.src-a.date:")


def test_invalid_yaml_refused(tmp_path: Path) -> None:
    msg = _refused(tmp_path, "values:\n  - key: [unclosed\n")
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: not valid YAML")


def test_missing_folder_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="data folder not found"):
        load_dataset(tmp_path / "nope")


def test_assumption_without_range_refused(tmp_path: Path) -> None:
    values = "values:\n  - {key: x.m, value: 5, unit: t, source: src-a, kind: assumption, note: guess}\n"
    assert _refused(tmp_path, values).startswith(f"{tmp_path}/values/topic.yaml: values[0].range:")


def test_assumption_without_note_refused(tmp_path: Path) -> None:
    values = "values:\n  - {key: x.m, value: 5, unit: t, range: [4, 6], source: src-a, kind: assumption}\n"
    assert _refused(tmp_path, values).startswith(f"{tmp_path}/values/topic.yaml: values[0].note:")


def test_unknown_derived_from_key_refused(tmp_path: Path) -> None:
    values = GOOD + "    derived_from: [x.nothing]\n"
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: values[0].derived_from[0]: unknown key 'x.nothing'")


def test_key_used_as_value_and_composition_refused(tmp_path: Path) -> None:
    values = GOOD.replace("x.mass", "feed.x") + (
        "compositions:\n  - {key: feed.x, basis: reo_percent, complete: false, values: {La: 30},\n"
        "     source: src-a, kind: reported}\n"
    )
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: compositions[0].key:")


def test_non_utf8_file_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, GOOD)
    (folder / "values" / "topic.yaml").write_bytes(b"values:\n  - key: \xff\xfe\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_dataset(folder)


def test_top_level_list_refused(tmp_path: Path) -> None:
    assert "values/topic.yaml: expected a mapping with top-level" in _refused(tmp_path, "- key: x\n")


def test_assumed_composition_without_a_range_for_every_element_refused(tmp_path: Path) -> None:
    values = """
    compositions:
      - {key: feed.x, basis: reo_percent, complete: false, values: {La: 30, Ce: 50},
         ranges: {La: [20, 40]}, source: src-a, kind: assumption, note: "constructed"}
    """
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: compositions[0].ranges:")
    assert "every element" in msg and "Ce" in msg


def test_composition_value_outside_its_range_refused(tmp_path: Path) -> None:
    values = """
    compositions:
      - {key: feed.x, basis: reo_percent, complete: false, values: {La: 30},
         ranges: {La: [31, 40]}, source: src-a, kind: reported}
    """
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: compositions[0].ranges.La:")
    assert "outside its range" in msg


def test_composition_fraction_basis_outside_unit_interval_refused(tmp_path: Path) -> None:
    values = """
    compositions:
      - {key: feed.x, basis: reo_fraction, complete: false, values: {La: 1.3}, source: src-a, kind: reported}
    """
    msg = _refused(tmp_path, values)
    assert msg.startswith(f"{tmp_path}/values/topic.yaml: compositions[0].values.La:")
    assert "outside [0, 1]" in msg
