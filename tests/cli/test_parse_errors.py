"""A file that is not valid YAML or JSON is refused on one line naming the file and the parser's position,
whatever kind of file it is (cascade spec, design spec, scenario, flowsheet, feed)."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from mine2magnet.cli import main
from mine2magnet.errors import parse_error_text

BROKEN_YAML = "components: [Pr, Nd\nmodel: {type: loaded-separation-factor}\n"


@pytest.mark.parametrize(
    "args",
    [
        ["cascade", "simulate", "{file}"],
        ["cascade", "design", "{file}"],
        ["run", "{file}", "--out", "{out}", "-q"],
        ["refinery", "run", "{file}"],
        ["refinery", "run", "lynas-malaysia", "--feed", "{file}"],
    ],
    ids=["cascade-simulate", "cascade-design", "scenario", "flowsheet", "feed"],
)
def test_broken_yaml_is_one_line_with_file_and_position(tmp_path, args):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_YAML, encoding="utf-8")
    argv = [a.format(file=path, out=tmp_path / "out") for a in args]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(path) in lines[0] and "line 2, column" in lines[0]


def test_parse_error_text_of_yaml_and_json():
    with pytest.raises(yaml.YAMLError) as y:
        yaml.safe_load(BROKEN_YAML)
    # the unclosed list swallows `model`; the parser stops at its colon, the 6th character of line 2
    assert parse_error_text(y.value) == "line 2, column 6: expected ',' or ']', but got ':'"
    with pytest.raises(json.JSONDecodeError) as j:
        json.loads('{"a": 1,\n "b": }')
    assert parse_error_text(j.value) == "line 2, column 7: Expecting value"
    assert parse_error_text(ValueError("two\nlines")) == "two lines"
