"""Observed history: a published quantity for a stated period (the backtest's reference).

An observation is a sourced value of a different kind from a model input: what a facility produced, a
country exported, a stock held, a price averaged, over a stated period. Periods are written as published:

========================  =========================================================================
``2024``                   calendar year
``2024Q3``                 calendar quarter (July to September 2024)
``2024-06``                one month
``2018-12-31``             one day (a stock or inventory held on that date)
``FY2025``                 fiscal year ending in 2025; ``fiscal_year_end`` gives its last month
                           (default 6: July 2024 to June 2025, as Lynas reports)
``FY2025Q1``               first quarter of that fiscal year (July to September 2024)
========================  =========================================================================

:meth:`Period.year_weights` splits a period's months over calendar years, so a flow published by fiscal year
can be compared with a model that works by calendar year.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mine2magnet.data.source import Source
from mine2magnet.errors import InputError

#: What an observation measures.
QUANTITIES: tuple[str, ...] = (
    "facility_output",  # t produced by a facility over the period
    "facility_input",  # t fed to a facility
    "sales",  # t sold
    "revenue",  # money received
    "operating_costs",  # money spent to operate (cash costs before depreciation: revenue less EBITDA)
    "trade_flow",  # t or money moved between countries or facilities
    "mine_output",  # t mined in a country or at a mine
    "stock",  # t held at a date (stockpile, residue inventory)
    "price",  # money per mass, averaged over the period
    "quota",  # a state's production quota
    "event",  # a dated first (first output, licence decision): a number such as 1 for "happened"
)

_PERIOD = re.compile(
    r"^(?:(?P<fy>FY)(?P<fyear>\d{4})(?:Q(?P<fq>[1-4]))?"
    r"|(?P<year>\d{4})(?:Q(?P<q>[1-4])|-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?)$"
)


def _month_add(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Period:
    """A stated period: ``label`` as published, first and last day (inclusive), and its kind.

    ``kind`` is one of ``year``, ``quarter``, ``month``, ``day``, ``fiscal_year``, ``fiscal_quarter``.
    """

    label: str
    kind: str
    start: dt.date
    end: dt.date

    @classmethod
    def parse(cls, text: str, fiscal_year_end: int = 6) -> Period:
        """The period written `text` (see the module docstring); InputError when it is none of the forms."""
        m = _PERIOD.match(str(text).strip())
        if not m or not 1 <= fiscal_year_end <= 12:
            raise InputError(
                f"period {text!r} must be YYYY, YYYYQn, YYYY-MM, YYYY-MM-DD, FYYYYY or FYYYYYQn "
                f"(fiscal_year_end a month 1-12)"
            )
        if m["fy"]:
            end_year = int(m["fyear"])
            first = _month_add(end_year, fiscal_year_end, -11)
            if m["fq"]:
                first = _month_add(*first, 3 * (int(m["fq"]) - 1))
                return cls._months(str(text), "fiscal_quarter", first, 3)
            return cls._months(str(text), "fiscal_year", first, 12)
        year = int(m["year"])
        if m["q"]:
            return cls._months(str(text), "quarter", (year, 3 * int(m["q"]) - 2), 3)
        if m["day"]:
            try:
                day = dt.date(year, int(m["month"]), int(m["day"]))
            except ValueError as exc:
                raise InputError(f"period {text!r} is not a date ({exc})") from None
            return cls(str(text), "day", day, day)
        if m["month"]:
            if not 1 <= int(m["month"]) <= 12:
                raise InputError(f"period {text!r}: month must be 01-12")
            return cls._months(str(text), "month", (year, int(m["month"])), 1)
        return cls._months(str(text), "year", (year, 1), 12)

    @classmethod
    def _months(cls, label: str, kind: str, first: tuple[int, int], count: int) -> Period:
        last = _month_add(*first, count)  # first day of the month after the period
        end = dt.date(last[0], last[1], 1) - dt.timedelta(days=1)
        return cls(label, kind, dt.date(first[0], first[1], 1), end)

    @property
    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every month the period touches."""
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = _month_add(y, m, 1)
        return out

    def year_weights(self) -> dict[int, float]:
        """Calendar year -> share of a year's flow that falls in this period (months in it / 12).

        FY2025 (July 2024 - June 2025) gives {2024: 0.5, 2025: 0.5}; 2024Q3 gives {2024: 0.25}. A day gives
        {}: a stock at a date is read from the model's end-of-year stock instead (:attr:`stock_year`).
        """
        if self.kind == "day":
            return {}
        counts: dict[int, int] = {}
        for y, _ in self.months:
            counts[y] = counts.get(y, 0) + 1
        return {y: n / 12.0 for y, n in counts.items()}

    @property
    def stock_year(self) -> int:
        """The model year whose closing stock stands for a stock on this period's last day.

        A stock on 31 December Y (or in the last days of Y) is the closing stock of year Y; a stock on any
        earlier date is read from the closing stock of the year before.
        """
        if self.end.month == 12 and self.end.day >= 15:
            return self.end.year
        return self.end.year - 1

    def to_dict(self) -> dict[str, str]:
        """JSON-ready: label, kind, start and end (ISO dates)."""
        return {
            "label": self.label,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


@dataclass(frozen=True)
class Observation:
    """One published historical quantity, with its period, source, uncertainty and backtest tolerance.

    ``value`` is in ``unit`` (a pint spelling); ``range`` the stated uncertainty of the published figure.
    ``tolerance`` is the relative difference between model and published value the backtest accepts,
    declared with the data from the uncertainty of the model's inputs (``tolerance_basis`` says which), never
    fitted to a model run. ``model`` names the modelled counterpart (read by ``mine2magnet.analysis``), or
    is empty when the model has none. ``known_miss`` is the reason a comparison is expected to fail, when
    one is known.
    """

    key: str
    quantity: str
    subject: str
    period: Period
    value: float
    unit: str
    source: Source
    kind: str
    basis: str | None = None
    range: tuple[float, float] | None = None
    tolerance: float | None = None
    tolerance_basis: str | None = None
    model: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    known_miss: str | None = None
    note: str | None = None
    derived_from: tuple[str, ...] = ()
    file: str | None = None
    index: int | None = None

    @property
    def where(self) -> str:
        """``file: observations[i]`` — where the entry was read from."""
        return f"{self.file}: observations[{self.index}]" if self.file is not None else "(in memory)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the period and the full source."""
        return {
            "key": self.key,
            "quantity": self.quantity,
            "subject": self.subject,
            "period": self.period.to_dict(),
            "value": self.value,
            "unit": self.unit,
            "basis": self.basis,
            "kind": self.kind,
            "range": list(self.range) if self.range is not None else None,
            "tolerance": self.tolerance,
            "tolerance_basis": self.tolerance_basis,
            "model": dict(self.model),
            "known_miss": self.known_miss,
            "note": self.note,
            "derived_from": list(self.derived_from),
            "source": self.source.to_dict(),
            "file": self.file,
        }


#: How a claim's number is to be read.
CLAIM_READINGS: tuple[str, ...] = ("about", "up_to", "at_least")


@dataclass(frozen=True)
class Claim:
    """A published claim about a modelled quantity (a minister's GDP figure, a jobs promise), to be checked.

    ``reading`` says how its number is meant: ``about`` (the number itself), ``up_to`` (at most),
    ``at_least``. ``model`` names the counterpart (``mine2magnet.economics.claims`` measures), empty when the
    model cannot produce it.
    """

    key: str
    claim: str
    quantity: str
    subject: str
    period: Period
    value: float
    unit: str
    source: Source
    kind: str
    reading: str = "about"
    claimant: str | None = None
    range: tuple[float, float] | None = None
    model: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    note: str | None = None
    file: str | None = None
    index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the period and the full source."""
        return {
            "key": self.key,
            "claim": self.claim,
            "claimant": self.claimant,
            "quantity": self.quantity,
            "subject": self.subject,
            "period": self.period.to_dict(),
            "value": self.value,
            "unit": self.unit,
            "reading": self.reading,
            "range": list(self.range) if self.range is not None else None,
            "kind": self.kind,
            "model": dict(self.model),
            "note": self.note,
            "source": self.source.to_dict(),
            "file": self.file,
        }
