"""Facilities of a built model that can never receive feed, found before the model runs.

A refinery, cracker, metal plant, magnet plant or market added without a trade link bringing it what it takes,
or whose every link in is closed in every year of the run (an export ban or embargo that covers it, a link
capacity of zero, a source that never operates, feed years outside the run), idles at 0 % without an error:
the allocation is feasible, just empty. :func:`unreachable_facilities` names those facilities and says why,
so that the command line can warn before the run and record the warning with it.

>>> from mine2magnet.scenario import load_scenario, unreachable_facilities
>>> [str(u) for u in unreachable_facilities(load_scenario("malaysia-base").model)]   # doctest: +SKIP
[]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mine2magnet.chain import ChainModel, Embargo, ExportBan, Smuggling, TechnologyRestriction, TradeLink
from mine2magnet.chain.network import Facility, inputs_of

#: Facility type -> the word used in messages.
_NOUN = {
    "crackers": "cracker",
    "refineries": "refinery",
    "metal_plants": "metal plant",
    "magnet_plants": "magnet plant",
    "markets": "market",
}


@dataclass(frozen=True)
class UnreachableFacility:
    """A facility that no feed can reach in any year of the run, and why."""

    name: str
    kind: str  # facility type, e.g. "refineries"
    reason: str

    def __str__(self) -> str:
        verb = "be supplied" if self.kind == "markets" else "receive feed"
        return f"{_NOUN.get(self.kind, self.kind)} {self.name!r} can never {verb}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        """``{"facility", "type", "reason", "message"}`` (JSON-ready)."""
        return {"facility": self.name, "type": self.kind, "reason": self.reason, "message": str(self)}


def _year(value: Any) -> int:
    """A year given as an int or as a resolved quantity."""
    return int(getattr(value, "value", value))


def _why_closed(link: TradeLink, model: ChainModel, target: Facility, year: int) -> str | None:
    """Why `link` carries nothing in `year` (None when it is open)."""
    net = model.network
    for p in model.policies:
        if isinstance(p, ExportBan) and p.closes(link, net, year):
            return f"{p.country}'s export ban"
        if isinstance(p, Embargo) and p.closes(link, net, year):
            return f"{p.country}'s embargo"
    if link.capacity.at(year) <= 0.0:
        return "a link capacity of zero"
    if net.facilities[link.source].availability(year) <= 0.0:
        return f"{link.source!r} not operating"
    window = (target.attrs.get("feed_years") or {}).get(link.commodity)
    if window is not None and not _year(window[0]) <= year <= _year(window[1]):
        return f"{link.commodity} taken only in {_year(window[0])}-{_year(window[1])}"
    return None


def _span(years: Sequence[int]) -> str:
    return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])


def unreachable_facilities(model: ChainModel) -> list[UnreachableFacility]:
    """The facilities of `model` that take feed through trade links but can receive none in any year.

    A facility is unreachable when no trade link brings it a commodity it takes, or when in every year of
    ``model.years`` each such link is closed (by an export ban or embargo of ``model.policies``, a capacity
    of zero, a source that does not operate that year, or the facility's ``feed_years``), or when a
    technology restriction forbids it to operate in every year. Markets that smuggled material reaches
    count as reachable. Mines, suppliers and recyclers take no feed through links and are never listed.
    """
    net, years = model.network, [int(y) for y in model.years]
    smuggled_to = {p.destination for p in model.policies if isinstance(p, Smuggling)}
    found: list[UnreachableFacility] = []
    for f in net.facilities.values():
        takes = inputs_of(f)
        if not takes or f.name in smuggled_to:
            continue
        if years and all(
            any(isinstance(p, TechnologyRestriction) and p.forbids(f, y) for p in model.policies)
            for y in years
        ):
            found.append(
                UnreachableFacility(f.name, f.kind, f"a technology restriction forbids it in {_span(years)}")
            )
            continue
        links_in = [link for link in net.links if link.target == f.name and link.commodity in takes]
        if not links_in:
            found.append(UnreachableFacility(f.name, f.kind, f"no trade link brings it {' or '.join(takes)}"))
            continue
        reasons: dict[str, None] = {}
        for year in years:
            closed = [_why_closed(link, model, f, year) for link in links_in]
            if any(why is None for why in closed):
                break
            reasons.update(dict.fromkeys(closed))  # type: ignore[arg-type]
        else:
            if not years:
                continue
            names = ", ".join(f"{link.source} ({link.commodity})" for link in links_in)
            found.append(
                UnreachableFacility(
                    f.name,
                    f.kind,
                    f"every trade link in ({names}) is closed in {_span(years)}: {'; '.join(reasons)}",
                )
            )
    return found


__all__ = ["UnreachableFacility", "unreachable_facilities"]
