"""Flowsheet and feed files: bad input is refused with the file, the field and what was expected."""

from __future__ import annotations

import copy

import pytest
import yaml

from mine2magnet.errors import InputError
from mine2magnet.process import list_feeds, list_flowsheets, load_flowsheet, run_flowsheet
from mine2magnet.process.flowsheet import FLOWSHEETS_DIR
from mine2magnet.process.parameters import ParameterSet


@pytest.fixture()
def raw():
    return yaml.safe_load((FLOWSHEETS_DIR / "hre-circuit.yaml").read_text())


def _write(tmp_path, data, name="fs.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_reference_flowsheets_and_feeds_are_listed_and_valid():
    assert {"lynas-malaysia", "ionic-clay-refinery", "hre-circuit"} <= set(list_flowsheets())
    assert {"mt-weld-concentrate", "kalgoorlie-mrec"} <= set(list_feeds())
    for name in list_flowsheets():
        assert load_flowsheet(name).name == name


def test_unknown_flowsheet_names_the_known_ones():
    with pytest.raises(InputError, match=r"reference flowsheets: .*lynas-malaysia"):
        load_flowsheet("lynas-kuantan")


def test_unknown_field_names_file_and_field(tmp_path, raw):
    raw["units"]["separation"]["stages"] = 12
    path = _write(tmp_path, raw)
    with pytest.raises(InputError) as exc:
        load_flowsheet(path)
    assert "fs.yaml" in str(exc.value) and exc.value.field == "units.separation.stages"


def test_unknown_unit_type(tmp_path, raw):
    raw["units"]["separation"]["type"] = "centrifuge"
    with pytest.raises(InputError) as exc:
        load_flowsheet(_write(tmp_path, raw))
    assert exc.value.field == "units.separation.type"
    assert "acid-bake-leach" in str(exc.value)


def test_route_naming_an_unknown_unit(tmp_path, raw):
    raw["routes"]["chloride-liquor"] = ["purification", "separation"]
    with pytest.raises(InputError, match=r"routes\.chloride-liquor: unknown unit 'purification'"):
        load_flowsheet(_write(tmp_path, raw))


def test_cut_sending_to_nothing(tmp_path, raw):
    raw["units"]["separation"]["cuts"][1]["raffinate"] = "Tb metal"
    with pytest.raises(InputError, match="'Tb metal' is neither a cut nor a product"):
        load_flowsheet(_write(tmp_path, raw))


def test_cut_fed_by_the_wrong_outlet(tmp_path, raw):
    raw["units"]["separation"]["cuts"][1]["feed"] = "seg-hre.raffinate"
    with pytest.raises(InputError, match=r"must be 'seg-hre\.extract'"):
        load_flowsheet(_write(tmp_path, raw))


def test_product_no_cut_makes(tmp_path, raw):
    raw["products"]["Gd oxide"] = {"elements": ["Gd"], "min_purity": 0.999}
    with pytest.raises(InputError, match="not made by any cut"):
        load_flowsheet(_write(tmp_path, raw))


def test_purity_outside_zero_one(tmp_path, raw):
    raw["products"]["Tb oxide"]["min_purity"] = 1.5
    with pytest.raises(InputError) as exc:
        load_flowsheet(_write(tmp_path, raw))
    assert exc.value.field == "products.Tb oxide.min_purity"


def test_parameter_override_needs_a_known_source(raw):
    bad = copy.deepcopy(raw)
    bad["parameters"] = {
        "process.sx.organic_loading_mol_per_l": {
            "value": 0.2,
            "unit": "mol/L",
            "source": "my-guess",
            "kind": "assumption",
            "range": [0.1, 0.3],
        }
    }
    with pytest.raises(InputError, match="unknown source id 'my-guess'"):
        run_flowsheet(load_flowsheet(bad))
    with pytest.raises(InputError, match="needs a range"):
        ParameterSet(
            overrides={
                "k": {"value": 1, "unit": "t", "source": "mine2magnet-assumption", "kind": "assumption"}
            }
        )


def test_feed_form_without_route(raw):
    with pytest.raises(InputError, match="no route for a concentrate feed"):
        run_flowsheet(load_flowsheet(raw), feed="mt-weld-concentrate")


def test_unknown_feed_and_bad_rate():
    with pytest.raises(InputError, match="unknown feed 'mt-weld'"):
        run_flowsheet("hre-circuit", feed="mt-weld")
    with pytest.raises(InputError, match="positive number"):
        run_flowsheet("hre-circuit", rate_t_per_yr=-5)


def test_bad_feed_file(tmp_path):
    path = tmp_path / "feed.yaml"
    path.write_text(
        yaml.safe_dump({"name": "x", "form": "slurry", "distribution": "feed.mt_weld_concentrate"})
    )
    with pytest.raises(InputError) as exc:
        run_flowsheet("hre-circuit", feed=str(path))
    assert exc.value.field == "form" and "feed.yaml" in str(exc.value)


def test_unknown_purity_source(raw):
    raw["products"]["Tb oxide"]["purity_source"] = "a-friend"
    with pytest.raises(InputError) as exc:
        run_flowsheet(load_flowsheet(raw))
    assert exc.value.field == "products.Tb oxide.purity_source" and "unknown source id 'a-friend'" in str(
        exc.value
    )


def test_separation_factors_in_the_file_need_a_source(raw):
    unit = raw["units"]["separation"]
    del unit["extractant"]
    unit["separation_factors"] = {"Sm": 1.0, "Eu": 2.0, "Gd": 2.8, "Tb": 5.6, "Dy": 11.2}
    with pytest.raises(InputError) as exc:
        run_flowsheet(load_flowsheet(raw))
    assert exc.value.field == "units.separation.separation_factors_source"
    unit["separation_factors_source"] = "not-a-source"
    with pytest.raises(InputError, match="unknown source id 'not-a-source'"):
        run_flowsheet(load_flowsheet(raw))


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("name: [\n", None, "cannot read feed file"),
        ("- a\n- b\n", None, "must hold a mapping"),
        (
            "name: x\nform: mrec\ndistribution: feed.mt_weld_concentrate\ngrade_treo: no.such.key\n",
            "grade_treo",
            "unknown value key 'no.such.key'",
        ),
        (
            "name: x\nform: mrec\ndistribution: feed.mt_weld_concentrate\nth_ppm_of_reo: nope\n",
            "th_ppm_of_reo",
            "nope",
        ),
    ],
)
def test_bad_feed_files_give_one_line_errors_naming_file_and_field(tmp_path, text, field, expected):
    path = tmp_path / "myfeed.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        run_flowsheet("lynas-malaysia", feed=str(path))
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg and expected in msg
    assert exc.value.field == field


def test_missing_feed_file_and_unreadable_flowsheet(tmp_path):
    with pytest.raises(InputError, match="feed file not found"):
        run_flowsheet("hre-circuit", feed=str(tmp_path / "absent.yaml"))
    bad = tmp_path / "plant.yaml"
    bad.write_text("name: [\n")
    with pytest.raises(InputError) as exc:
        load_flowsheet(bad)
    assert "\n" not in str(exc.value) and "cannot read flowsheet" in str(exc.value)


def test_recovery_spec_must_be_below_one_and_sourced_by_a_known_id(tmp_path, raw):
    raw["products"]["Tb oxide"]["min_recovery"] = 1.0
    with pytest.raises(InputError) as exc:
        load_flowsheet(_write(tmp_path, raw))
    assert exc.value.field == "products.Tb oxide.min_recovery" and "less than 1" in str(exc.value)
    raw["products"]["Tb oxide"]["min_recovery"] = 0.95
    raw["products"]["Tb oxide"]["recovery_source"] = "hearsay"
    with pytest.raises(InputError) as exc:
        run_flowsheet(load_flowsheet(raw))
    assert exc.value.field == "products.Tb oxide.recovery_source"
