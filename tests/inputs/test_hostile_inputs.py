"""Regression tests for the hostile inputs of issue 17: each was a traceback, a hang or accepted nonsense.

Every refusal is an InputError on one line naming the file (and the field where there is one).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.data.reader import DEFAULT_MAX_BYTES, ENV_MAX_BYTES, read_input
from mine2magnet.errors import InputError
from mine2magnet.process.flowsheet import load_flowsheet
from mine2magnet.scenario import load_scenario
from mine2magnet.separation import load_spec

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "mine2magnet"
EXAMPLES = PACKAGE / "separation" / "examples"
BASE = PACKAGE / "scenario" / "scenarios" / "malaysia-base.yaml"


def _example(name: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / name).read_text("utf-8"))


def _refused(call: Any, *needles: str) -> str:
    with pytest.raises(InputError) as exc:
        call()
    message = str(exc.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    return message


def _write(tmp_path: Path, data: Any, name: str = "input.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- the reader


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfen\x00a\x00m\x00e\x00", "UTF-16"),
        ("name: x\n".encode("utf-16-le"), "binary data"),
        (bytes(range(256)), "binary data"),
        (b"name: caf\xe9\n", "not UTF-8"),
        (b"a: " + b"[" * 5000 + b"]" * 5000, "nested deeper"),
        ("".join(f"{' ' * i}k{i}:\n" for i in range(200)).encode(), "nested deeper"),
    ],
)
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_hostile_files_are_one_line_refusals_naming_the_file(
    tmp_path: Path, content: bytes, expected: str, suffix: str
) -> None:
    path = tmp_path / f"spec{suffix}"
    path.write_bytes(content)
    message = _refused(lambda: load_spec(path), str(path))
    assert expected in message or "not valid" in message


def test_a_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (EXAMPLES / "prnd_lsf.yaml").read_bytes())
    assert load_spec(path).components == ("Pr", "Nd")


def test_billion_laughs_is_refused_before_expansion(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]  # 9^10 strings
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    _refused(lambda: read_input(path), "aliases are expanded")


def test_a_file_past_the_size_limit_is_refused_quickly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"components: [" + b"1.5, " * 400_000 + b"1.5]\n")  # 2 MB
    monkeypatch.setenv(ENV_MAX_BYTES, str(1_000_000))
    _refused(lambda: load_spec(path), str(path), "larger than the input limit")
    monkeypatch.delenv(ENV_MAX_BYTES)
    assert DEFAULT_MAX_BYTES == 10 * 1024 * 1024
    _refused(lambda: read_input(path, max_bytes=1000), "larger than the input limit")


def test_duplicate_keys_are_refused_with_both_line_numbers(tmp_path: Path) -> None:
    text = (EXAMPLES / "prnd_lsf.yaml").read_text("utf-8")
    first = next(line for line in text.splitlines() if line.startswith("components"))
    path = tmp_path / "dup.yaml"
    path.write_text(text + first + "\n")
    n = len(text.splitlines()) + 1
    line = text.splitlines().index(first) + 1
    _refused(lambda: load_spec(path), f"duplicate key 'components' at lines {line} and {n}")
    json_path = tmp_path / "dup.json"
    json_path.write_text('{\n "a": 1,\n "a": 2\n}')
    _refused(lambda: read_input(json_path), "duplicate key 'a' at lines 2 and 3")


# ---------------------------------------------------------------------------------------------- cascade specs


@pytest.mark.parametrize(
    ("example", "path", "value", "field"),
    [
        ("lace_empirical_ph.yaml", ("model", "coefficients", "La", "a"), math.nan, "coefficients"),
        ("prnd_lsf.yaml", ("feed", "stage"), 10**12, "feed.stage"),
        ("prnd_lsf.yaml", ("model", "separation_factors", "Nd"), 1e30, "separation_factors"),
        ("prnd_lsf.yaml", ("feed", "flow", "Pr"), 1e300, "feed"),
        ("prnd_design.yaml", ("cut",), "Pr|Pr", "cut"),
        ("prnd_design.yaml", ("targets", "raffinate", "purity"), 0, "targets.raffinate.purity"),
        ("prnd_design.yaml", ("targets", "raffinate", "purity"), True, "targets.raffinate.purity"),
        ("prnd_mass_action_design.yaml", ("feed", "concentration", "Nd"), 2**63, "feed.concentration"),
        ("prnd_mass_action_design.yaml", ("feed", "concentration", "Nd"), True, "feed.concentration"),
    ],
)
def test_nonsense_in_cascade_specs_is_refused(
    tmp_path: Path, example: str, path: tuple[str, ...], value: Any, field: str
) -> None:
    data = _example(example)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    if "feed" in data and "stage" not in data["feed"]:
        data["feed"]["stage"] = 1  # what the designer puts before validation
    file = _write(tmp_path, data)
    _refused(lambda: load_spec(file), str(file), field)


def test_nan_log10_kex_is_refused_even_from_a_dict() -> None:
    data = _example("prnd_lsf.yaml")
    data["model"] = {
        "type": "mass-action",
        "extractant": {"log10_kex": {"Pr": math.nan, "Nd": -1.0}},
        "concentration": 0.5,
    }
    _refused(lambda: load_spec(data), "log10_kex")


@settings(max_examples=40, deadline=None)
@given(
    value=st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, True, False]), st.floats(max_value=-1e-9))
)
def test_property_no_nonsense_concentration_is_accepted(value: float) -> None:
    data = _example("lace_empirical_ph.yaml")
    comp = next(iter(data["feed"]["concentration"]))
    data["feed"]["concentration"][comp] = value
    with pytest.raises(InputError):
        load_spec(data)


# ---------------------------------------------------------------------------------------------- flowsheets


def test_unknown_element_in_a_refinery_product_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((PACKAGE / "process" / "flowsheets" / "lynas-malaysia.yaml").read_text("utf-8"))
    product = next(iter(data["products"]))
    data["products"][product]["elements"] = ["Xx"]
    file = _write(tmp_path, data)
    _refused(lambda: load_flowsheet(file), str(file), "Xx")


def test_inf_phosphate_per_re_is_refused(tmp_path: Path) -> None:
    from mine2magnet.process.feed import _read

    data = yaml.safe_load((PACKAGE / "process" / "feeds" / "mt-weld-concentrate.yaml").read_text("utf-8"))
    data["phosphate_per_re"] = math.inf
    file = _write(tmp_path, data)
    _refused(lambda: _read(file), str(file), "phosphate_per_re")


# ---------------------------------------------------------------------------------------------- scenarios


def _base() -> dict[str, Any]:
    return yaml.safe_load(BASE.read_text("utf-8"))


def _mine(d: dict[str, Any]) -> dict[str, Any]:
    return d["facilities"]["mines"][0]


SCENARIO_CASES: list[tuple[str, Any, str]] = [
    ("negative capacity", lambda d: _mine(d).update(capacity="-3000 t/yr"), "capacity"),
    ("huge capacity", lambda d: _mine(d).update(capacity="1e300 t/yr"), "capacity"),
    (
        "composition sums to 3",
        lambda d: _mine(d).update(composition={"La": 1, "Ce": 1, "Nd": 1}),
        "composition",
    ),
    ("negative resource", lambda d: _mine(d).update(resource="-5 t"), "resource"),
    ("lead time -inf", lambda d: _mine(d).update(permitting_lead_time=-math.inf), "permitting_lead_time"),
    ("NaN price", lambda d: d["prices"]["oxide"].update(La={2024: math.nan}), "prices.oxide.La"),
    (
        "negative oxide price",
        lambda d: d["prices"]["oxide"].update(La={2024: "-5 USD/kg"}),
        "prices.oxide.La",
    ),
    ("price for Xx", lambda d: d["prices"]["oxide"].update(Xx={2024: "5 USD/kg"}), "prices.oxide"),
    (
        "negative smuggling",
        lambda d: d["policies"]["smuggling"][0].update(volume="-1000 t/yr"),
        "policies.smuggling",
    ),
    (
        "negative residue factor",
        lambda d: d["facilities"]["crackers"][0]["residues"].update(WLP="-2 t/t"),
        "residues.WLP",
    ),
    (
        "magnet plant in 1800",
        lambda d: d["facilities"]["magnet_plants"][0].update(start_year=1800),
        "start_year",
    ),
    (
        "unknown source id",
        lambda d: _mine(d).update(
            cost={"value": "10 USD/kg", "source": "no-such-source", "kind": "reported"}
        ),
        "no-such-source",
    ),
    ("NaN demand", lambda d: d["facilities"]["markets"][0].update(demand=math.nan), "demand"),
    (
        "NaN quota",
        lambda d: d["policies"].setdefault("quotas", []).append({"name": "q", "limit": math.nan}),
        "quotas",
    ),
    ("years before 1990", lambda d: d.update(years=[1800, 2040]), "years"),
]


@pytest.mark.parametrize(("label", "change", "field"), SCENARIO_CASES, ids=[c[0] for c in SCENARIO_CASES])
def test_nonsense_in_scenarios_is_refused(tmp_path: Path, label: str, change: Any, field: str) -> None:
    data = _base()
    change(data)
    file = _write(tmp_path, data, "scenario.yaml")
    _refused(lambda: load_scenario(str(file)), str(file), field)


def test_a_truncated_scenario_is_refused(tmp_path: Path) -> None:
    text = BASE.read_bytes()
    file = tmp_path / "half.yaml"
    file.write_bytes(text[: len(text) // 2])
    _refused(lambda: load_scenario(str(file)), str(file))


@pytest.mark.parametrize(
    "name", ["../../../etc/passwd", "../scenarios/malaysia-base", "a/b", "..", "x\\..\\y"]
)
def test_scenario_names_never_read_outside_the_package(name: str) -> None:
    _refused(lambda: load_scenario(name), "not a built-in scenario name")


def test_a_scenario_file_given_as_a_path_is_fine(tmp_path: Path) -> None:
    file = _write(tmp_path, {"name": "mine", "description": "d", "base": "malaysia-crackdown"}, "mine.yaml")
    assert load_scenario(str(file)).name == "mine"


def test_json_scenarios_express_year_series(tmp_path: Path) -> None:
    """The same scenario in YAML and JSON (year keys are text in JSON) builds the same model inputs."""
    data = _base()
    yaml_file = _write(tmp_path, data, "s.yaml")
    json_file = tmp_path / "s.json"
    json_file.write_text(json.dumps(copy.deepcopy(data)))  # int year keys become "2024"...
    from_yaml, from_json = load_scenario(str(yaml_file)), load_scenario(str(json_file))
    assert from_json.data == from_yaml.data
    assert from_json.assumptions.equals(from_yaml.assumptions)


def test_a_sourced_value_without_ref_or_value_is_refused(tmp_path: Path) -> None:
    """A deleted `ref` left {note: ...}, which reached the accounts as a TypeError (found by the fuzzer)."""
    data = _base()
    data["economics"]["capex_per_t"]["cracking"] = {"note": "the ref was deleted"}
    file = _write(tmp_path, data, "scenario.yaml")
    _refused(lambda: load_scenario(str(file)), str(file), "economics.capex_per_t.cracking", "needs `ref`")


def test_a_bad_base_name_names_the_file(tmp_path: Path) -> None:
    file = _write(tmp_path, {"name": "x", "description": "d", "base": "-3000 t/yr"}, "s.yaml")
    _refused(lambda: load_scenario(str(file)), f"{file}: base: not a built-in scenario name")


def test_a_trace_beside_a_major_component_is_refused_in_physical_models() -> None:
    data = _example("lace_empirical_ph.yaml")
    data["feed"]["concentration"]["La"] = 1e-300
    _refused(lambda: load_spec(data), "cannot be resolved")


def test_a_missing_saponification_gives_a_result_or_a_clean_refusal() -> None:
    """Was a ZeroDivisionError in the design of the P507 Pr|Nd example (issue 17)."""
    from mine2magnet.errors import Mine2MagnetError
    from mine2magnet.separation import design

    data = _example("prnd_mass_action_design.yaml")
    del data["model"]["saponification"]
    try:
        result = design(data)
    except Mine2MagnetError as exc:
        assert "\n" not in str(exc)
    else:
        assert result.verified.mass_balance_error <= 1e-6
