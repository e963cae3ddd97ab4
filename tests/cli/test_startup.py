"""The top-level command loads a command's module only when that command runs (issue 12: ~3 s start-up).

The old CLI imported every command module (pandas, linopy, plotly, scipy, the whole model) before it
could even print ``--version``. Here each light invocation runs in a fresh interpreter and reports which heavy
libraries it imported; the wall time is measured too, with a generous bound (the suite runs on a busy
2-core machine; docs/benchmarks.md has the measured figures).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time

import click
import pytest

from mine2magnet.cli import COMMANDS, main

HEAVY = ("pandas", "scipy", "linopy", "plotly", "pint", "mine2magnet.chain", "mine2magnet.report")

PROBE = """
import json, sys
from mine2magnet.cli import main
try:
    main({args!r}, prog_name="mine2magnet")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def _heavy_imports(args: list[str]) -> tuple[list[str], float]:
    """The heavy modules that `mine2magnet ARGS` imported in a fresh interpreter, and its wall time (s)."""
    code = PROBE.format(args=args, heavy=HEAVY)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    return json.loads(done.stderr.strip().splitlines()[-1]), elapsed


def test_every_listed_command_exists_with_the_listed_name_and_help():
    for name, (module, attribute, help_text) in COMMANDS.items():
        command = getattr(importlib.import_module(f"mine2magnet.cli.{module}"), attribute)
        assert isinstance(command, click.Command), name
        assert command.name == name
        assert command.short_help == help_text, name
        assert main.get_command(click.Context(main), name) is command


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["runs", "--help"],
        ["export", "--help"],
        ["cascade", "--help"],
        ["claims", "--help"],
        ["backtest", "--help"],
        ["refinery", "--help"],
        ["sources", "--help"],
        ["data", "--help"],
    ],
)
def test_help_and_version_import_no_heavy_library(args):
    heavy, elapsed = _heavy_imports(args)
    assert heavy == [], f"`mine2magnet {' '.join(args)}` imported {heavy}"
    assert elapsed < 5.0  # ~0.1-0.4 s unloaded; the bound only catches the old 3 s start under load


def test_runs_lists_a_store_without_pandas(tmp_path):
    from mine2magnet.store import ResultsStore
    from store.sample_chain import sample_result

    store = tmp_path / "results.duckdb"
    ResultsStore(store).save(sample_result("demo"))
    heavy, _ = _heavy_imports(["runs", "--store", str(store)])
    assert heavy == []


def test_help_lists_every_command_without_importing_them():
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from mine2magnet.cli import main; main(['--help'])"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    for name, (_, _, help_text) in COMMANDS.items():
        assert f"{name}  " in result.stdout and help_text in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_the_backtest_default_is_the_analysis_layers_history_scenario():
    from mine2magnet.analysis import HISTORY_SCENARIO
    from mine2magnet.cli.backtest import HISTORY_SCENARIO as DEFAULT

    assert DEFAULT == HISTORY_SCENARIO


def test_an_unknown_command_is_refused_in_one_line():
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2 and "No such command 'frobnicate'" in result.output
