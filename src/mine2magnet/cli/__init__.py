"""The `mine2magnet` command: a thin layer over the Python API.

Each command group lives in its own module here and is listed in ``COMMAND_MODULES``; every module exposes
``commands``, a list of click commands or groups to add to the top-level group. Errors mine2magnet raises on
purpose are printed on one line, in red, with exit code 1.
"""

from __future__ import annotations

import importlib
import sys

import click

from mine2magnet import __version__
from mine2magnet.errors import Mine2MagnetError

#: Modules of this package that contribute commands (each exposes ``commands``).
COMMAND_MODULES: tuple[str, ...] = ("sources", "run", "cascade", "refinery", "backtest", "claims")


class _Group(click.Group):
    """A click group that turns mine2magnet errors into a one-line message and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Mine2MagnetError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="mine2magnet")
def main() -> None:
    """mine2magnet: rare-earth value chains from mine to magnet."""


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(f"mine2magnet.cli.{_name}").commands:
        main.add_command(_command)
