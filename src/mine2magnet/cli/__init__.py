"""The `mine2magnet` command: a thin layer over the Python API.

Each command lives in a module of this package and is listed in ``COMMANDS`` with the module and attribute
that define it and its one-line help. The top-level group imports a command's module only when that command
runs, so ``--help``, ``--version`` and the light commands start without loading the model's heavy libraries
(pandas, linopy, plotly, scipy). Errors mine2magnet raises on purpose are printed on one line, in red, with
exit code 1.
"""

from __future__ import annotations

import importlib
import sys

import click

from mine2magnet import __version__
from mine2magnet.errors import Mine2MagnetError

#: Command name -> (module of this package, attribute, one-line help shown by ``mine2magnet --help``).
#: The help is the command's own ``short_help`` (tests/cli/test_startup.py keeps them equal).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "scenarios": ("run", "scenarios_command", "List the built-in scenarios."),
    "run": ("run", "run_command", "Run a scenario: report, summary and results store."),
    "compare": ("run", "compare_command", "Compare stored runs and scenarios side by side."),
    "runs": ("run", "runs_command", "List the runs in a results store."),
    "export": ("run", "export_command", "Export a stored run to Parquet, CSV or Excel."),
    "backtest": ("backtest", "backtest_command", "Compare a scenario with published history."),
    "claims": ("claims", "claims_command", "Published claims beside the model's figures."),
    "refinery": ("refinery", "refinery", "Refinery flowsheets: run, list, capacity."),
    "cascade": ("cascade", "cascade", "Solvent-extraction cascades: simulate, dynamics, design."),
    "sources": ("sources", "sources_command", "The bibliography and where sources disagree."),
    "data": ("sources", "data_group", "Sourced reference values: show, list, check, schema."),
    "serve": ("serve", "serve_command", "The web app: explore, edit, run and compare scenarios."),
    "uncertainty": ("uncertainty", "uncertainty_command", "Uncertainty and sensitivity study of a scenario."),
}

#: Modules of this package that contribute commands (each exposes ``commands``).
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(module for module, _, _ in COMMANDS.values()))


class _Group(click.Group):
    """The top-level group: commands loaded on first use; mine2magnet errors as one line and exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute, _ = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(f"mine2magnet.cli.{module}"), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from ``COMMANDS`` (no module is imported to print it)."""
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        rows += [(n, c.get_short_help_str()) for n, c in sorted(self.commands.items()) if n not in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Mine2MagnetError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"max_content_width": 80})
@click.version_option(__version__, prog_name="mine2magnet")
def main() -> None:
    """mine2magnet: rare-earth value chains from mine to magnet.

    Every command takes --help; every command that prints results takes --json.
    """
