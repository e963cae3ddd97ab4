"""Stated conditions on a study's outputs ("the refinery is fed at >= 80 % every year to 2035"), output names.

An output of a draw is a KPI of one subject in one year (``kpi[subject]@year``; the subject is a facility,
an element, a stage, or ``total``). A condition compares one KPI of one subject with a threshold over a window
of years, in every year or in any year; a year in which the draw has no such output (a refinery not built
yet) does not satisfy the condition.

Text forms (the CLI, study files)::

    feed_sufficiency[Lynas Malaysia] >= 0.8 every year to 2035
    magnet_self_sufficiency[Dy] >= 0.5 in 2030
    unmet_demand_t < 100 any year from 2030 to 2040      (no subject: ``total``)
    national_value_added_usd[total]@2035                  (an output)
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mine2magnet.errors import InputError

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}

_NAME = r"(?P<kpi>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<subject>[^\]]+)\])?"
_OUTPUT = re.compile(rf"^\s*{_NAME}\s*(?:@\s*(?P<year>\d{{4}}))?\s*$")
_CONDITION = re.compile(
    rf"^\s*{_NAME}\s*(?P<op>>=|<=|==|>|<)\s*(?P<threshold>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"(?:\s+(?P<how>every|any)\s+years?)?"
    r"(?:\s+in\s+(?P<single>\d{4}))?"
    r"(?:\s+from\s+(?P<start>\d{4}))?"
    r"(?:\s+to\s+(?P<end>\d{4}))?\s*$"
)


@dataclass(frozen=True)
class OutputRef:
    """One output: a KPI of a subject, in a year (None: the last year of the run)."""

    kpi: str
    subject: str = "total"
    year: int | None = None

    @classmethod
    def parse(cls, text: str, field: str | None = None) -> OutputRef:
        """From ``kpi[subject]@year`` (subject and year optional)."""
        m = _OUTPUT.match(text)
        if not m:
            raise InputError(
                "expected an output as kpi[subject]@year (e.g. national_value_added_usd[total]@2035), "
                f"got {text!r}",
                field=field,
            )
        year = m.group("year")
        return cls(m.group("kpi"), (m.group("subject") or "total").strip(), int(year) if year else None)

    def text(self) -> str:
        """``kpi[subject]@year``."""
        return f"{self.kpi}[{self.subject}]" + (f"@{self.year}" if self.year is not None else "")


@dataclass(frozen=True)
class Condition:
    """`kpi` of `subject` `op` `threshold`, in every (or any) year of [start, end] (None: the run's ends)."""

    kpi: str
    op: str
    threshold: float
    subject: str = "total"
    start: int | None = None
    end: int | None = None
    every: bool = True

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise InputError(
                f"condition: unknown comparison {self.op!r}; expected one of {', '.join(OPERATORS)}"
            )
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InputError(f"condition {self.text()!r}: the window ends ({self.end}) before it starts")

    @classmethod
    def parse(cls, text: str, field: str | None = None) -> Condition:
        """From e.g. ``feed_sufficiency[Lynas Malaysia] >= 0.8 every year to 2035`` (see the module doc)."""
        m = _CONDITION.match(text)
        if not m:
            raise InputError(
                "expected a condition as kpi[subject] OP NUMBER [every|any year] [in YEAR | from YEAR] "
                "[to YEAR] "
                f"(e.g. 'feed_sufficiency[Lynas Malaysia] >= 0.8 every year to 2035'), got {text!r}",
                field=field,
            )
        single, start, end = m.group("single"), m.group("start"), m.group("end")
        if single and (start or end):
            raise InputError(f"condition {text!r}: give either 'in YEAR' or 'from YEAR to YEAR'", field=field)
        if single:
            start = end = single
        return cls(
            kpi=m.group("kpi"),
            op=m.group("op"),
            threshold=float(m.group("threshold")),
            subject=(m.group("subject") or "total").strip(),
            start=int(start) if start else None,
            end=int(end) if end else None,
            every=(m.group("how") or "every") == "every",
        )

    def holds(self, value: float) -> bool:
        """Whether one year's `value` satisfies the comparison."""
        return bool(OPERATORS[self.op](value, self.threshold))

    def text(self) -> str:
        """The condition in its text form."""
        window = ""
        if self.start is not None and self.start == self.end:
            window = f" in {self.start}"
        else:
            window += f" from {self.start}" if self.start is not None else ""
            window += f" to {self.end}" if self.end is not None else ""
        how = "every" if self.every else "any"
        return f"{self.kpi}[{self.subject}] {self.op} {self.threshold:g} {how} year{window}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields and text."""
        return {
            "text": self.text(),
            "kpi": self.kpi,
            "subject": self.subject,
            "op": self.op,
            "threshold": self.threshold,
            "start": self.start,
            "end": self.end,
            "every": self.every,
        }
