"""A command's computation on an input file: its numeric failures (a division by zero, an overflow, a root
finder that cannot bracket) become one line naming the file, and the floating-point warnings it raised are
printed on stderr, one line each, instead of leaking as Python warnings
(``data.reader.input_computation``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click


@contextmanager
def computing(label: str) -> Iterator[None]:
    """Run the block as the computation on input ``label`` (a file path or a reference name)."""
    from mine2magnet.data.reader import input_computation  # on first use: `--help` loads no data layer
    from mine2magnet.errors import InfeasibleError, InputError

    try:
        with input_computation(label) as warned:
            yield
    except InputError as exc:
        if exc.file:
            raise
        # a refusal raised deep in a solver knows the field, not the file: name the file the command read
        message = str(exc)[len(exc.field) + 2 :] if exc.field else str(exc)
        raise InputError(message, file=label, field=exc.field) from exc
    except InfeasibleError as exc:
        if str(exc).startswith(label):
            raise
        raise InfeasibleError(f"{label}: {exc}") from exc
    for line in dict.fromkeys(warned):  # each distinct warning once
        click.secho(f"warning: {label}: {line}", fg="yellow", err=True)
