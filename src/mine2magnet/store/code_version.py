"""The version of the code that produced a run: package version plus git commit when one is available."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from mine2magnet import __version__


@cache
def git_commit(directory: Path | None = None) -> str | None:
    """The git commit (short hash, ``+dirty`` if tracked files under ``directory`` changed) of its checkout.

    ``directory`` defaults to the whole ``mine2magnet`` package (code, shipped data and scenarios), so a
    change anywhere in it marks the run ``+dirty``. ``None`` when git is missing, the package is not inside a
    git checkout, or git fails for any reason: recording a run must never fail for lack of git.
    """
    where = directory or Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if head.returncode != 0 or not head.stdout.strip():
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    suffix = "+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else ""
    return head.stdout.strip() + suffix


def code_version() -> str:
    """``"<package version>"`` or ``"<package version> (git <commit>)"``, e.g. ``"0.1.0 (git 1a2b3c4d)"``."""
    commit = git_commit()
    return f"{__version__} (git {commit})" if commit else __version__
