"""Variants: a base scenario with assumptions changed, facilities added/removed and policies switched, written
as a scenario file that loads (and so runs) exactly as the command line loads it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mine2magnet.app.variants import VariantRequest, VariantStore, catalogue, override_at
from mine2magnet.errors import InputError
from mine2magnet.scenario import load_scenario


@pytest.fixture(scope="module")
def base():
    return load_scenario("malaysia-base")


def _row(scenario, key: str) -> dict:
    rows = scenario.assumptions.set_index("key")
    return rows.loc[key].to_dict()


def test_override_refers_to_items_by_name_not_position(base) -> None:
    part = override_at(base.data, "facilities.mines[2].capacity", {"value": 1.0})
    name = base.data["facilities"]["mines"][2]["name"]
    assert part == {"facilities": {"mines": [{"name": name, "capacity": {"value": 1.0}}]}}


def test_edited_assumption_is_an_explicit_assumption_citing_what_it_replaced(tmp_path: Path, base) -> None:
    key = "facilities.mines[2].capacity"
    before = _row(base, key)
    path, variant = VariantStore(tmp_path).create(
        VariantRequest(name="more-kelantan", base="malaysia-base", edits=[{"key": key, "value": 5000.0}])
    )
    after = _row(variant, key)
    assert after["value"] == 5000.0 and after["unit"] == before["unit"]
    assert after["kind"] == "assumption"
    assert before["data_key"] in after["note"]
    assert after["range_low"] <= 5000.0 <= after["range_high"]
    # the file is an ordinary scenario file: the command line loads it to the same model
    again = load_scenario(str(path))
    assert _row(again, key)["value"] == 5000.0
    untouched = [k for k in base.assumptions["key"] if k != key]
    same = again.assumptions.set_index("key").loc[untouched, "value"]
    assert list(same) == list(base.assumptions.set_index("key").loc[untouched, "value"])


def test_a_year_of_a_series_is_changed_alone(tmp_path: Path, base) -> None:
    _, variant = VariantStore(tmp_path).create(
        VariantRequest(
            name="weld",
            base="malaysia-base",
            edits=[{"key": "facilities.mines[0].capacity.2024", "value": 25000}],
        )
    )
    assert _row(variant, "facilities.mines[0].capacity.2024")["value"] == 25000
    assert (
        _row(variant, "facilities.mines[0].capacity.2026")["value"]
        == _row(base, "facilities.mines[0].capacity.2026")["value"]
    )


def test_catalogue_facility_comes_with_its_trade_links(tmp_path: Path, base) -> None:
    names = {e.name for e in catalogue()}
    assert "Khazanah-China refinery" in names
    _, variant = VariantStore(tmp_path).create(
        VariantRequest(name="refinery", base="malaysia-base", add_facilities=["Khazanah-China refinery"])
    )
    facilities = {f.name for f in variant.model.facilities} if hasattr(variant.model, "facilities") else set()
    refineries = [f["name"] for f in variant.data["facilities"]["refineries"]]
    assert "Khazanah-China refinery" in refineries or "Khazanah-China refinery" in facilities
    into = [t for t in variant.data["trade_links"] if t["target"] == "Khazanah-China refinery"]
    out_of = [t for t in variant.data["trade_links"] if t["source"] == "Khazanah-China refinery"]
    assert into and out_of
    # a facility the base already has is not offered again
    assert "Kenering ISL" not in {
        e.name for e in catalogue([f["name"] for f in base.data["facilities"]["mines"]])
    }


def test_removing_a_facility_removes_its_trade_links(tmp_path: Path, base) -> None:
    _, variant = VariantStore(tmp_path).create(
        VariantRequest(name="no-kenering", base="malaysia-base", remove_facilities=["Kenering ISL"])
    )
    assert "Kenering ISL" not in [m["name"] for m in variant.data["facilities"]["mines"]]
    assert not [t for t in variant.data["trade_links"] if "Kenering ISL" in (t["source"], t["target"])]
    for items in variant.data["policies"].values():
        assert not [p for p in items if "Kenering ISL" in str(p)]


def test_switching_policies(tmp_path: Path, base) -> None:
    policy = next(iter(base.data["policies"]["export_bans"]))["name"]
    _, variant = VariantStore(tmp_path).create(
        VariantRequest(name="open", base="malaysia-base", remove_policies=[policy], apply=["crackdown"])
    )
    assert policy not in [p["name"] for p in variant.data["policies"].get("export_bans", [])]


def test_a_variant_of_a_variant(tmp_path: Path) -> None:
    store = VariantStore(tmp_path)
    store.create(VariantRequest(name="first", base="malaysia-base", apply=["crackdown"]))
    _, second = store.create(
        VariantRequest(
            name="second", base="first", edits=[{"key": "facilities.mines[2].capacity", "value": 3000}]
        )
    )
    assert _row(second, "facilities.mines[2].capacity")["value"] == 3000
    assert "first.yaml" in store.text("second")


@pytest.mark.parametrize(
    ("request_fields", "expected"),
    [
        ({"edits": [{"key": "facilities.mines[2].capacity", "value": -3000}]}, "expected a value >= 0"),
        ({"edits": [{"key": "facilities.mines[2].accessible_fraction", "value": 3}]}, "not a fraction"),
        ({"edits": [{"key": "facilities.mines[99].capacity", "value": 1}]}, "not an assumption"),
        ({"edits": [{"key": "facilities.mines[0].composition", "value": 1}]}, "not a number"),
        ({"apply": ["no-such-override"]}, "unknown override"),
        ({"add_facilities": ["Atlantis refinery"]}, "no facility 'Atlantis refinery' in the catalogue"),
        ({"remove_facilities": ["Atlantis"]}, "no facility 'Atlantis' in the base"),
        ({"name": "malaysia-base"}, "built-in scenario's name"),
        ({"base": "../../etc/passwd"}, "not a valid name"),
    ],
)
def test_refused_variants_leave_no_file(tmp_path: Path, request_fields: dict, expected: str) -> None:
    fields = {"name": "v", "base": "malaysia-base", **request_fields}
    store = VariantStore(tmp_path)
    with pytest.raises(InputError, match=expected):
        store.create(VariantRequest(**fields))
    assert not list(tmp_path.glob("*.yaml"))


@pytest.mark.parametrize("name", ["../x", "a/b", "", " x", "x" * 65, "ä", ".hidden"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        VariantRequest(name=name, base="malaysia-base")


def test_non_finite_values_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        VariantRequest(name="v", base="malaysia-base", edits=[{"key": "k", "value": math.nan}])


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_numeric_assumption_within_its_range_round_trips(tmp_path: Path, base, data) -> None:
    rows = base.assumptions
    numeric = rows[[isinstance(v, int | float) and not isinstance(v, bool) for v in rows["value"]]]
    numeric = numeric[numeric["range_low"].notna() & numeric["range_high"].notna()]
    row = numeric.iloc[data.draw(st.integers(0, len(numeric) - 1))]
    value = data.draw(st.floats(float(row["range_low"]), float(row["range_high"]), allow_nan=False))
    name = f"v{data.draw(st.integers(0, 10**6))}"
    try:
        _, variant = VariantStore(tmp_path).create(
            VariantRequest(name=name, base="malaysia-base", edits=[{"key": row["key"], "value": value}])
        )
    except InputError as exc:  # the scenario's own rules may refuse a value its range allows; say so clearly
        assert str(exc)
        return
    assert _row(variant, row["key"])["value"] == pytest.approx(value)
