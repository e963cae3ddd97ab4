"""The README's command-line tour stays true: every line names a real command, and the quick ones run.

The scenario runs of the tour (`run`, `compare`, `backtest`) and `refinery run` are exercised by
test_run_real.py, tests/analysis and tests/process; here they are only checked to parse (their `--help`
accepts the same options).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from mine2magnet.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
#: Commands checked to parse only: runs and export need a stored run, uncertainty is a study, serve runs until
#: stopped.
SLOW = {"run", "compare", "backtest", "claims", "runs", "export", "uncertainty", "serve"}


def tour_lines() -> list[list[str]]:
    """The argument lists of the README's tour (the fenced block under 'A tour of the command line')."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## A tour of the command line", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block, "README: the tour section has no fenced block"
    lines = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        assert words[0] == ".venv/bin/mine2magnet", line
        lines.append(words[1:])
    return lines


def test_the_tour_covers_every_command():
    named = {words[0] for words in tour_lines()}
    assert {"scenarios", "run", "compare", "refinery", "cascade", "sources", "data", "backtest"} <= named


@pytest.mark.parametrize("args", tour_lines(), ids=lambda a: " ".join(a[:3]))
def test_tour_line(args, tmp_path, monkeypatch):
    monkeypatch.chdir(README.parent)
    args = [str(tmp_path / Path(a).name) if a.endswith(".html") else a for a in args]
    if "--out" in args:
        args[args.index("--out") + 1] = str(tmp_path / "out")
    slow = args[0] in SLOW or args[:2] == ["refinery", "run"]
    if slow:
        options = {a for a in args if a.startswith("--")}
        help_text = CliRunner().invoke(main, [*args[: 2 if args[0] == "refinery" else 1], "--help"]).output
        assert options <= set(re.findall(r"--[a-z-]+", help_text)), (args, help_text)
        return
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.strip()
