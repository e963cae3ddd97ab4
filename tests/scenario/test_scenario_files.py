"""Scenario files: the built-ins load with every number sourced; bad files give one-line errors naming the
file and the field; base + overrides combine."""

from __future__ import annotations

import pytest
from scenariokit import write

from mine2magnet.errors import InputError
from mine2magnet.scenario import list_scenarios, load_scenario
from mine2magnet.scenario.merge import merge

BUILT_INS = {
    "malaysia-base",
    "malaysia-china-refinery",
    "malaysia-no-ban",
    "malaysia-crackdown",
    "china-export-halt",
    "recycling",
}


def test_six_built_in_scenarios_with_descriptions():
    listed = dict(list_scenarios())
    assert set(listed) >= BUILT_INS
    assert all(listed[n] and "\n" not in listed[n] for n in BUILT_INS)


@pytest.mark.parametrize("name", sorted(BUILT_INS))
def test_built_ins_load_and_every_number_is_sourced(name):
    sc = load_scenario(name)
    a = sc.assumptions
    assert len(a) > 50
    assert (a.kind != "unsourced").all(), a[a.kind == "unsourced"].key.tolist()
    assert (a.source_id != "").all()
    assumed = a[(a.kind == "assumption") & (a.unit != "fraction of TREO")]  # compositions: per-element ranges
    assert assumed.range_low.notna().all() and (assumed.note != "").all()
    assert sc.model.years[0] == 2024 and sc.model.years[-1] == 2040


def test_overrides_combine_in_order():
    sc = load_scenario("malaysia-base", ["no-ban", "crackdown"])
    assert not [p for p in sc.model.policies if type(p).__name__ == "ExportBan"]
    smuggling = next(p for p in sc.model.policies if type(p).__name__ == "Smuggling")
    assert smuggling.leak(2030) == pytest.approx(0.2 * smuggling.volume.at(2030))
    assert smuggling.leak(2023) == pytest.approx(smuggling.volume.at(2023))


def test_merge_by_name_remove_and_append():
    base = {
        "facilities": {"mines": [{"name": "A", "capacity": 1, "country": "X"}, {"name": "B"}]},
        "trade_links": [{"source": "A", "target": "B", "commodity": "mrec", "cost": 1}],
    }
    over = {
        "facilities": {"mines": [{"name": "A", "capacity": 2}, {"name": "B", "remove": True}, {"name": "C"}]},
        "trade_links": [{"source": "A", "target": "B", "commodity": "mrec", "cost": 5}],
    }
    out = merge(base, over)
    assert out["facilities"]["mines"] == [{"name": "A", "capacity": 2, "country": "X"}, {"name": "C"}]
    assert out["trade_links"][0]["cost"] == 5
    assert base["facilities"]["mines"][0]["capacity"] == 1  # inputs untouched


def _error(tmp_path, body, overrides=()):
    path = write(tmp_path, "bad", {"base": "malaysia-base", **body})
    with pytest.raises(InputError) as exc:
        load_scenario(path, overrides)
    message = str(exc.value)
    assert "\n" not in message and message.startswith(path)
    return message


def test_unknown_facility_type(tmp_path):
    msg = _error(tmp_path, {"facilities": {"smelters": [{"name": "S"}]}})
    assert "facilities.smelters" in msg and "unknown facility type 'smelters'" in msg


def test_missing_unit(tmp_path):
    msg = _error(tmp_path, {"facilities": {"mines": [{"name": "Kenering ISL", "capacity": 3000}]}})
    assert "capacity" in msg and "missing unit" in msg


def test_link_to_a_facility_that_does_not_exist(tmp_path):
    msg = _error(
        tmp_path,
        {
            "trade_links": [
                {
                    "source": "Mt Weld",
                    "target": "Lynas Malaysa",
                    "commodity": "concentrate",
                    "cost": "10 USD/t",
                }
            ]
        },
    )
    assert "trade_links[" in msg and "does not exist: 'Lynas Malaysa'" in msg


def test_year_out_of_range(tmp_path):
    assert "year out of range" in _error(tmp_path, {"years": [2024, 2300]})
    msg = _error(
        tmp_path, {"facilities": {"mines": [{"name": "Kenering ISL", "capacity": {1850: "1 kt/yr"}}]}}
    )
    assert "capacity.1850" in msg and "year out of range" in msg


def test_unknown_override(tmp_path):
    msg = _error(tmp_path, {}, overrides=("no-bam",))
    assert "overrides[0]" in msg and "unknown override 'no-bam'" in msg and "no-ban" in msg


def test_unknown_flowsheet(tmp_path):
    msg = _error(
        tmp_path, {"facilities": {"refineries": [{"name": "Lynas Malaysia", "flowsheet": "lynas-malaysa"}]}}
    )
    assert "flowsheet" in msg and "unknown flowsheet 'lynas-malaysa'" in msg and "lynas-malaysia" in msg


def test_unknown_data_key_and_unsourced_assumption(tmp_path):
    msg = _error(
        tmp_path, {"facilities": {"mines": [{"name": "Kenering ISL", "capacity": {"ref": "facility.nope"}}]}}
    )
    assert "capacity.ref" in msg and "unknown data key" in msg
    msg = _error(
        tmp_path,
        {
            "facilities": {
                "mines": [{"name": "Kenering ISL", "capacity": {"value": "5 kt/yr", "kind": "assumption"}}]
            }
        },
    )
    assert "needs a range" in msg


def test_unknown_scenario_name():
    with pytest.raises(InputError, match=r"unknown scenario 'malaysia-bse'.*malaysia-base"):
        load_scenario("malaysia-bse")


def test_json_schema_names_the_sections():
    from mine2magnet.scenario import scenario_json_schema

    schema = scenario_json_schema()
    assert {"name", "description", "years", "facilities", "trade_links", "policies"} <= set(
        schema["properties"]
    )
    assert "name" in schema["required"]


def test_ionic_clay_light_override_is_the_dy_bet():
    sc = load_scenario("malaysia-base", ["ionic-clay-light"])
    kenering = sc.model.network.facilities["Kenering ISL"].attrs["composition"]
    assert kenering["Dy"] < 0.01 and kenering["Ce"] > 0.4


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"value": "5 kt/yr", "kind": "reported", "source": "no-such-source"}, "unknown source id"),
        ({"value": "5 kt/yr", "kind": "reported"}, "needs a source"),
        ({"value": "5 kt/yr", "kind": "guess", "source": "usgs-mcs-2025-ree"}, "kind must be one of"),
        ({"value": "5 kt/yr", "kind": "assumption", "range": [6000, 9000], "note": "x"}, "does not contain"),
        (
            {"value": "5 kt/yr", "kind": "assumption", "range": [1000, 9000], "note": "x", "colour": 1},
            "unknown field",
        ),
    ],
)
def test_bad_sourced_values(tmp_path, value, message):
    msg = _error(tmp_path, {"facilities": {"mines": [{"name": "Kenering ISL", "capacity": value}]}})
    assert "facilities.mines[" in msg and message in msg


def test_scale_by_a_sourced_factor_is_recorded(tmp_path):
    body = {
        "base": "malaysia-base",
        "policies": {
            "smuggling": [
                {
                    "name": "Illegal mining (Malaysia)",
                    "volume": {
                        "ref": "smuggling.malaysia.illegal_reo_2023",
                        "scale": {"ref": "chain.smuggling.crackdown_residual"},
                    },
                }
            ]
        },
    }
    sc = load_scenario(write(tmp_path, "scaled", body))
    assert "chain.smuggling.crackdown_residual" in set(sc.assumptions.data_key)
    smuggling = next(p for p in sc.model.policies if type(p).__name__ == "Smuggling")
    assert smuggling.volume.at(2030) == pytest.approx(0.2 * 16000)


def test_crackdown_enforcement_is_recorded():
    keys = set(load_scenario("malaysia-crackdown").assumptions.data_key)
    assert {"chain.smuggling.crackdown_enforcement", "chain.smuggling.enforcement.2025"} <= keys


def test_a_base_file_is_found_next_to_the_file_naming_it(tmp_path, monkeypatch):
    write(tmp_path, "mybase", {"base": "malaysia-base", "years": [2024, 2026]})
    child = write(tmp_path, "child", {"base": "mybase.yaml", "apply": ["crackdown"]})
    monkeypatch.chdir("/")
    sc = load_scenario(child)
    assert sc.model.years == [2024, 2025, 2026]
    assert sc.name == "child"


def test_export_quota_override_caps_raw_exports(flowsheet_cache):
    from mine2magnet.scenario import run_scenario

    sc = load_scenario("malaysia-base", ["export-quota"])
    sc.model.years = [2030, 2031]
    sc.model.performances = flowsheet_cache
    seen = []
    r = run_scenario(sc, progress=lambda msg, done, total: seen.append((done, total)))
    f = r.tables["flows"]
    fac = r.tables["facilities"].set_index("facility").country
    raw = f[f.commodity.isin(["mrec"]) & f.export & ~f.informal & f.source.map(fac).eq("Malaysia")]
    assert raw.groupby("year").t.sum().max() == pytest.approx(3000.0, rel=1e-6)
    assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)
