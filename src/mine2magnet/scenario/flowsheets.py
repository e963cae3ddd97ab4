"""Checks of the refinery flowsheets a scenario names (against :mod:`mine2magnet.process`)."""

from __future__ import annotations

from pathlib import Path

from mine2magnet.errors import InputError


def known_flowsheets() -> list[str]:
    """Names of the reference flowsheets of the refinery layer."""
    from mine2magnet import process

    return list(process.list_flowsheets())


def check_flowsheet(name: str, file: str | None, where: str) -> None:
    """InputError naming file and field unless `name` is a reference flowsheet or an existing file."""
    if Path(name).suffix in (".yaml", ".yml", ".json"):
        if not Path(name).exists():
            raise InputError(f"flowsheet file not found: {name!r}", file=file, field=where)
        return
    known = known_flowsheets()
    if name not in known:
        raise InputError(f"unknown flowsheet {name!r}; known: {', '.join(known)}", file=file, field=where)
