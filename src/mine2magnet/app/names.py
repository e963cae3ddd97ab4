"""Names a user gives in the web app (variants, runs) and the paths they become.

A name is a short slug: letters, digits, ``-`` and ``_``, starting with a letter or digit, at most 64
characters. Anything else (``..``, ``/``, spaces, control characters) is refused, so no name can reach a
file outside the folder it belongs to; :func:`inside` checks that a path really resolves inside its folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from mine2magnet.errors import InputError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_name(name: str, field: str) -> str:
    """``name`` if it is a slug (see the module docstring); an InputError naming ``field`` otherwise."""
    if not isinstance(name, str) or not NAME.match(name):
        raise InputError(
            f"{name!r} is not a valid name: expected 1-64 letters, digits, '-' or '_', "
            "starting with a letter or digit",
            field=field,
        )
    return name


def inside(folder: Path, name: str, suffix: str = "") -> Path:
    """``folder / (name + suffix)`` after checking ``name`` and that the result stays inside ``folder``."""
    check_name(name, "name")
    path = (folder / f"{name}{suffix}").resolve()
    if path.parent != folder.resolve():
        raise InputError(f"{name!r} leads outside {folder}", field="name")
    return path
