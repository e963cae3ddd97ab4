"""Tables and text for the terminal: fitted to its width (80 columns when output is not a terminal).

Every table the command line prints is built with :func:`new_table` and printed with :func:`print_table`:
columns wrap at words (names at ``-``, ``+`` and ``.``) so that no line is wider than the console, and
``--wide`` prints each row whole on one line instead (full ids and URLs, every column), however wide.
``--json`` (each command's own) gives everything in full, for programs.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click
from rich import box
from rich.console import Console
from rich.table import Table

#: Width of the console when output is not a terminal and COLUMNS is not set (rich's default as well).
DEFAULT_WIDTH = 80
#: Width of a ``--wide`` console: rows are never wrapped.
UNLIMITED = 100_000

F = TypeVar("F", bound=Callable[..., Any])


def wide_option(function: F) -> F:
    """The ``--wide`` flag: one line per row, every column, nothing wrapped or shortened."""
    return click.option(
        "--wide",
        is_flag=True,
        help="One line per row with every column and full ids and URLs (wider than the terminal).",
    )(function)


def stdout_console(wide: bool = False) -> Console:
    """The console for results: the terminal's width (80 columns when piped), unlimited with ``wide``."""
    if wide:
        return Console(width=UNLIMITED, soft_wrap=True)
    return Console(highlight=False)


def new_table(title: str | None = None, caption: str | None = None, **options: Any) -> Table:
    """A table in the house style: a rule under the header, no outer border, title and caption on the left."""
    options = {"box": box.SIMPLE_HEAD, "pad_edge": False, "highlight": False, **options}
    return Table(title=title, caption=caption, title_justify="left", caption_justify="left", **options)


def print_table(console: Console, table: Table) -> None:
    """Print `table`; on a ``--wide`` console, no wider than the table's natural width."""
    if console.width >= UNLIMITED:
        natural = console.measure(table).maximum
        Console(width=max(natural, DEFAULT_WIDTH), file=console.file, highlight=False).print(table)
        return
    console.print(table)


_BREAK = re.compile(r"(?<=[-.:/_])|(?=\+)")


def breakable(name: str, width: int) -> str:
    """`name` on lines no longer than `width`, broken after ``-``, ``.``, ``:``, ``/``, ``_`` or before ``+``.

    Rich wraps cells at spaces only; a long scenario label such as ``malaysia-china-refinery+no-ban`` would
    otherwise be cut anywhere. A piece longer than `width` stays whole (the table folds it).
    """
    lines: list[str] = []
    for piece in (p for p in _BREAK.split(name) if p):
        if lines and len(lines[-1]) + len(piece) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    return "\n".join(lines)


def echo_wrapped(text: str, console: Console, indent: str = "", hang: str = "") -> None:
    """Print plain `text` wrapped at words to the console's width; `indent` first, `hang` after."""
    if console.width >= UNLIMITED:
        click.echo(indent + text)
        return
    width = max(console.width, 20)
    for line in textwrap.wrap(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=hang or indent,
        break_on_hyphens=False,
        break_long_words=True,
    ) or [indent]:
        click.echo(line)


def longest(values: Iterable[str]) -> int:
    """The longest line among `values` (0 for none)."""
    return max((len(line) for v in values for line in str(v).splitlines()), default=0)


__all__ = [
    "DEFAULT_WIDTH",
    "UNLIMITED",
    "breakable",
    "echo_wrapped",
    "longest",
    "new_table",
    "print_table",
    "stdout_console",
    "wide_option",
]
