"""Policies that apply by year: export bans, technology restrictions, quotas, embargoes and smuggling.

Each policy is a small frozen record with a ``years`` window (first, last; inclusive) and a pure method that
says how it changes the year's allocation problem: which trade links close, which facilities may not operate,
which sums of flows are capped, which flows are forced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mine2magnet.chain.network import ChainNetwork, Facility, TradeLink
from mine2magnet.chain.series import YearSeries

#: Commodities an export ban on "unprocessed" material covers unless told otherwise.
UNPROCESSED: tuple[str, ...] = ("ore", "concentrate", "mrec")


@dataclass(frozen=True)
class Window:
    """Years a policy applies, inclusive."""

    first: int = -10_000
    last: int = 10_000

    def __contains__(self, year: object) -> bool:
        return isinstance(year, int) and self.first <= year <= self.last


@dataclass(frozen=True)
class ExportBan:
    """No export of the listed (unprocessed) commodities from `country`, except from named facilities."""

    country: str
    commodities: tuple[str, ...] = UNPROCESSED
    exceptions: tuple[str, ...] = ()
    years: Window = field(default_factory=Window)

    def closes(self, link: TradeLink, net: ChainNetwork, year: int) -> bool:
        """True if this ban closes `link` in `year`."""
        src = net.facilities[link.source]
        return (
            year in self.years
            and not link.informal
            and src.country == self.country
            and net.is_export(link)
            and link.commodity in self.commodities
            and link.source not in self.exceptions
        )


@dataclass(frozen=True)
class TechnologyRestriction:
    """A partner's technology may be used only by state-linked operators (else the facility cannot run)."""

    technology_origin: str
    country: str | None = None  # restrict only facilities in this country (None: everywhere)
    years: Window = field(default_factory=Window)
    facility_types: tuple[str, ...] = ()  # e.g. ("refineries",) for separation technology; empty: all

    def forbids(self, f: Facility, year: int) -> bool:
        """True if facility `f` may not operate in `year`."""
        return (
            year in self.years
            and (not self.facility_types or f.kind in self.facility_types)
            and f.technology_origin == self.technology_origin
            and (self.country is None or f.country == self.country)
            and not f.state_linked
        )


@dataclass(frozen=True)
class Quota:
    """A cap on the t TREO per year carried by the matching trade links (e.g. an export quota)."""

    name: str
    limit: YearSeries
    commodities: tuple[str, ...] = ()  # empty: every commodity
    sources: tuple[str, ...] = ()  # facility names; empty: any
    country: str | None = None  # only links leaving facilities of this country
    exports_only: bool = True
    years: Window = field(default_factory=Window)

    def covers(self, link: TradeLink, net: ChainNetwork) -> bool:
        """True if `link` counts towards this quota."""
        src = net.facilities[link.source]
        return (
            (not self.commodities or link.commodity in self.commodities)
            and (not self.sources or link.source in self.sources)
            and (self.country is None or src.country == self.country)
            and (not self.exports_only or net.is_export(link))
        )


@dataclass(frozen=True)
class Embargo:
    """`country` halts exports (of the listed commodities, or all) for the years given: an embargo shock."""

    country: str
    commodities: tuple[str, ...] = ()
    years: Window = field(default_factory=Window)

    def closes(self, link: TradeLink, net: ChainNetwork, year: int) -> bool:
        """True if this embargo closes `link` in `year`."""
        src = net.facilities[link.source]
        return (
            year in self.years
            and src.country == self.country
            and net.is_export(link)
            and (not self.commodities or link.commodity in self.commodities)
        )


@dataclass(frozen=True)
class Smuggling:
    """Illegal mining: a fixed leak of rare earths outside the formal chain to a buyer abroad.

    ``volume`` is t TREO per year; the material goes by an informal link from an informal mine in `country`
    to the market `destination`. Royalties and taxes are lost at ``lost_revenue_rate`` (fraction of the
    material's value): by default its value at the destination's price; with ``unit_value`` (USD per t
    TREO, by year) the value it is actually traded at, e.g. the customs unit value of such shipments.
    """

    name: str
    country: str
    volume: YearSeries
    composition: Mapping[str, float]
    destination: str
    commodity: str = "mrec"
    lost_revenue_rate: float = 0.0
    years: Window = field(default_factory=Window)
    unit_value: YearSeries | None = None

    def leak(self, year: int) -> float:
        """t TREO smuggled in `year`."""
        return self.volume.at(year) if year in self.years else 0.0


Policy = ExportBan | TechnologyRestriction | Quota | Embargo | Smuggling
