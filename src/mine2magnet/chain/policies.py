"""Policies that apply by year: export bans, technology restrictions, quotas, embargoes, smuggling, export
licensing and licence conditions.

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
    """No export of the listed (unprocessed) commodities from `country`, except from named facilities and to
    the countries in `exempt_destinations` (a trade agreement's partners)."""

    country: str
    commodities: tuple[str, ...] = UNPROCESSED
    exceptions: tuple[str, ...] = ()
    years: Window = field(default_factory=Window)
    exempt_destinations: tuple[str, ...] = ()

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
            and net.facilities[link.target].country not in self.exempt_destinations
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
    ``enforcement`` (fraction by year) is the share of the volume that raids, customs and bans stop.
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
    enforcement: YearSeries | None = None

    def leak(self, year: int) -> float:
        """t TREO smuggled in `year`: the volume less the share enforcement stops."""
        if year not in self.years:
            return 0.0
        stopped = min(max(self.enforcement.at(year), 0.0), 1.0) if self.enforcement is not None else 0.0
        return self.volume.at(year) * (1.0 - stopped)


@dataclass(frozen=True)
class ExportLicensing:
    """Exports of the listed elements from `country` need a licence: only `approved` of them still leave.

    ``approved`` is the share of the exports that would otherwise leave which is licensed (by year); the
    controls start in ``start_month`` of the first year (1-12: January to December), so that year keeps the
    months before it unrestricted. Applied to the country's suppliers of the listed commodities.
    """

    name: str
    country: str
    elements: tuple[str, ...]
    approved: YearSeries
    commodities: tuple[str, ...] = ("oxide", "metal", "magnet")
    start_month: int = 1
    years: Window = field(default_factory=Window)

    def factor(self, element: str, commodity: str, country: str, year: int) -> float:
        """Share of `element` carried as `commodity` from `country` that may leave in `year` (1: all)."""
        if (
            year not in self.years
            or country != self.country
            or element not in self.elements
            or commodity not in self.commodities
        ):
            return 1.0
        restricted = (13 - self.start_month) / 12.0 if year == self.years.first else 1.0
        return 1.0 - restricted * (1.0 - min(max(self.approved.at(year), 0.0), 1.0))


@dataclass(frozen=True)
class LicenceCondition:
    """An operating-licence condition on a residue: a facility may not take the feeds that make it while the
    residue's activity concentration is above `max_activity` (Bq/g), in the years the condition is enforced.
    """

    name: str
    facility: str
    residue: str
    max_activity: float
    feeds: tuple[str, ...] = ("concentrate",)
    years: Window = field(default_factory=Window)

    def closes_feed(self, facility: str, commodity: str, activity: float, year: int) -> bool:
        """True if the facility may not take `commodity` in `year`, its residue being at `activity` Bq/g."""
        return (
            year in self.years
            and facility == self.facility
            and commodity in self.feeds
            and activity > self.max_activity
        )


Policy = ExportBan | TechnologyRestriction | Quota | Embargo | Smuggling | ExportLicensing | LicenceCondition
