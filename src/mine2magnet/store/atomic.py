"""Atomic file writes with unique temporary names, safe when several processes write the same file.

A file is written under a temporary name unique to the writer (``.<name>.<random>.tmp`` in the target's own
folder, so that the final rename stays on one file system) and then renamed over the target with
:func:`os.replace`, which is atomic on POSIX and Windows: a reader sees the old file or the new one, never a
half-written one, and two writers never share a temporary file (the fixed name ``.summary.json.tmp`` that
two runs shared made one of them fail). A writer killed between the two steps leaves its temporary file,
never a truncated target.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

#: Permissions of a written file before the umask (as ``open`` would create it).
_PERMISSIONS = 0o666


def _umask() -> int:
    """The process's umask, read without changing it (``os.umask`` would, racing other threads)."""
    with suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[Path], object], *, suffix: str = ".tmp"
) -> Path:
    """Call ``write(tmp)`` to fill a unique temporary file next to ``path``, then rename it to ``path``.

    The folder of ``path`` is created if needed. If ``write`` raises, the temporary file is removed and
    ``path`` is left as it was. ``suffix`` ends the temporary name (for writers that look at it). Returns
    ``path``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, _PERMISSIONS & ~_umask())  # mkstemp makes 0600; a report is read by others too
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`); returns ``path``."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding=encoding))


__all__ = ["atomic_write", "atomic_write_text"]
