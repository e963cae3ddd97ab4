"""An inter-process lock with retry and backoff, guarding the results store.

DuckDB lets one process at a time open a database file for writing. Every process that touches a store first
takes this lock (exclusive to write, shared to read); a process that finds it taken waits with exponential
backoff and jitter up to a timeout. On POSIX the lock is a ``flock`` on the store's *folder* itself, so no
lock file is created or left behind (an earlier version left a 0-byte ``results.duckdb.lock`` beside every
store; such a leftover is removed the next time the store is written). One lock per folder means two stores
in the same folder are written one after the other, which costs nothing in practice. The operating system
releases the lock when its holder exits, even after ``kill -9``, so a killed run never leaves the store
locked. Windows cannot lock a folder: there a ``<store>.lock`` side file is locked and removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

from mine2magnet.errors import Mine2MagnetError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


class StoreBusyError(Mine2MagnetError, TimeoutError):
    """The store stayed locked by another process for longer than the timeout."""


def _try_lock(fd: int, exclusive: bool) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    try:  # pragma: no cover - Windows: byte-range lock, always exclusive
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:  # pragma: no cover - Windows
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def backoff_delays(first_s: float = 0.01, longest_s: float = 0.5) -> Iterator[float]:
    """Endless waits in seconds: doubling from ``first_s`` up to ``longest_s``, each with ±50 % jitter."""
    delay = first_s
    while True:
        yield delay * random.uniform(0.5, 1.5)
        delay = min(2.0 * delay, longest_s)


def legacy_lock_file(store_path: Path) -> Path:
    """The side file older versions locked (``<store>.lock``)."""
    return store_path.with_name(store_path.name + ".lock")


@contextlib.contextmanager
def store_lock(store_path: Path, *, exclusive: bool = True, timeout_s: float = 120.0) -> Iterator[Path]:
    """Hold the lock of the store at ``store_path`` for the duration of the ``with`` block.

    The store's folder is created if missing. Raises :class:`StoreBusyError` when the lock cannot be taken
    within ``timeout_s`` seconds. Yields the path that is locked (the folder; the side file on Windows).
    """
    store_path = Path(store_path)
    folder = store_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is not None:
        locked, fd = folder, os.open(folder, os.O_RDONLY)
    else:  # pragma: no cover - Windows
        locked = legacy_lock_file(store_path)
        fd = os.open(locked, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        for delay in backoff_delays():
            if _try_lock(fd, exclusive):
                break
            if time.monotonic() + delay > deadline:
                raise StoreBusyError(
                    f"{store_path}: the results store is locked by another process (waited {timeout_s:g} s); "
                    f"retry when it has finished, or use another store file"
                )
            time.sleep(delay)
        try:
            if exclusive and fcntl is not None:
                _remove_empty(legacy_lock_file(store_path))
            yield locked
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
        if fcntl is None:  # pragma: no cover - Windows: best effort, another process may hold it now
            with contextlib.suppress(OSError):
                locked.unlink()


def _remove_empty(path: Path) -> None:
    """Remove ``path`` if it is an empty regular file (a lock file an older version left behind)."""
    with contextlib.suppress(OSError):
        if path.is_file() and path.stat().st_size == 0:
            path.unlink()


__all__ = ["StoreBusyError", "backoff_delays", "legacy_lock_file", "store_lock"]
