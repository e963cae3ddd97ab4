"""Exception types shared by every layer.

Messages say what to fix; the CLI prints them on one line.
"""

from __future__ import annotations


class Mine2MagnetError(Exception):
    """Base class of every error mine2magnet raises on purpose."""


class InputError(Mine2MagnetError, ValueError):
    """Bad user input: names the file (if any), the field and what was expected."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None) -> None:
        self.file = file
        self.field = field
        where = ": ".join(p for p in (file, field) if p)
        super().__init__(f"{where}: {message}" if where else message)


class ConvergenceError(Mine2MagnetError, RuntimeError):
    """A solver did not converge; carries the final residual instead of returning numbers."""

    def __init__(self, message: str, *, residual: float | None = None, iterations: int | None = None) -> None:
        self.residual = residual
        self.iterations = iterations
        extra = []
        if iterations is not None:
            extra.append(f"iterations={iterations}")
        if residual is not None:
            extra.append(f"residual={residual:.3e}")
        super().__init__(f"{message} ({', '.join(extra)})" if extra else message)


class InfeasibleError(Mine2MagnetError, ValueError):
    """A specification that cannot be met (e.g. a purity target for a component absent from the feed)."""
