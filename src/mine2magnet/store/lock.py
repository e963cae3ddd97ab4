"""An inter-process file lock with retry and backoff, guarding the results store.

DuckDB lets one process at a time open a database file for writing. Every process that touches a store first
takes this lock (exclusive to write, shared to read) on a side file ``<store>.lock``; a process that finds the
lock taken waits with exponential backoff and jitter up to a timeout. The operating system releases the lock
when its holder exits, even after a crash, so a killed run never leaves the store locked.
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


@contextlib.contextmanager
def store_lock(store_path: Path, *, exclusive: bool = True, timeout_s: float = 120.0) -> Iterator[Path]:
    """Hold the lock of the store at ``store_path`` for the duration of the ``with`` block.

    Raises :class:`StoreBusyError` when the lock cannot be taken within ``timeout_s`` seconds.
    Yields the path of the lock file.
    """
    lock_path = store_path.with_name(store_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
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
            yield lock_path
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
