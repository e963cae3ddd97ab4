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


def parse_error_text(exc: Exception) -> str:
    """One line for a YAML or JSON parse error: where it is (line and column, from 1) and what is wrong.

    PyYAML's messages span several lines (with a caret under the offending text); the CLI prints errors on
    one line, so this keeps the parser's position and problem only. Any other error is folded onto one line.
    """
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is not None and problem:  # yaml.MarkedYAMLError
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    lineno, colno, msg = (getattr(exc, k, None) for k in ("lineno", "colno", "msg"))
    if lineno is not None and msg:  # json.JSONDecodeError
        return f"line {lineno}, column {colno}: {msg}"
    return " ".join(str(exc).split())
