"""The value-chain network: facilities (one attribute table per type) joined by trade links.

Commodities along the chain (all tracked per element on the REO basis, t/yr):

========== ==========================================================================================
ore        run-of-mine ore (not normally traded)
concentrate mineral concentrate (e.g. Mt Weld flotation concentrate)
mrec       mixed rare-earth carbonate (from cracking and leaching, or from ionic-clay leach liquor)
mixed_oxide unseparated product of a refinery (e.g. SEG or heavy rare-earth concentrate)
oxide      separated oxides, by element
metal      rare-earth metals and alloys, oxide-equivalent
magnet     NdFeB magnets, counted by the oxide equivalent of their rare-earth content
========== ==========================================================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mine2magnet.chain.series import YearSeries
from mine2magnet.errors import InputError

COMMODITIES: tuple[str, ...] = ("ore", "concentrate", "mrec", "mixed_oxide", "oxide", "metal", "magnet")

#: The stage each facility type belongs to (for KPIs by stage).
STAGE_OF_TYPE: dict[str, str] = {
    "mines": "mining",
    "crackers": "cracking",
    "refineries": "separation",
    "metal_plants": "metal",
    "magnet_plants": "magnet",
    "recyclers": "recycling",
    "suppliers": "supply",
    "markets": "market",
}

#: Facility types that can be a trade link's source (they produce something).
PRODUCERS = ("mines", "crackers", "refineries", "metal_plants", "magnet_plants", "recyclers", "suppliers")


@dataclass(frozen=True)
class Facility:
    """A mine, cracker, refinery, metal plant, magnet plant, recycler, supplier or market.

    ``attrs`` holds every attribute of the type's table in internal units (see
    :func:`mine2magnet.chain.attributes.parse_attributes`).
    """

    name: str
    kind: str
    attrs: Mapping[str, Any]

    @property
    def country(self) -> str:
        """Country the facility is in ("" if not given)."""
        return str(self.attrs.get("country") or "")

    @property
    def owner(self) -> str:
        """Operator or owner ("" if not given)."""
        return str(self.attrs.get("owner") or "")

    @property
    def state_linked(self) -> bool:
        """True for a state-linked (government-linked) operator."""
        return bool(self.attrs.get("state_linked"))

    @property
    def technology_origin(self) -> str:
        """Country or company whose process technology the facility uses ("" if not given)."""
        return str(self.attrs.get("technology_origin") or "")

    @property
    def stage(self) -> str:
        """Value-chain stage of the facility type (mining, cracking, separation, metal, magnet, ...)."""
        return STAGE_OF_TYPE[self.kind]

    def first_year(self) -> int | None:
        """First operating year (decision year + permitting lead time for mines), or None if always."""
        a = self.attrs
        if a.get("decision_year") is not None:
            return int(a["decision_year"] + math.ceil(a.get("permitting_lead_time") or 0.0))
        return a.get("start_year")

    def availability(self, year: int) -> float:
        """Share of nameplate available in `year`: 0 before start and after end, linear over the ramp-up."""
        first = self.first_year()
        end = self.attrs.get("end_year", 9999)
        if year > end or (first is not None and year < first):
            return 0.0
        ramp = float(self.attrs.get("ramp_up") or 0.0)
        if first is None or ramp <= 0.0:
            return 1.0
        return min(1.0, (year - first + 1) / (ramp + 1.0))

    def series(self, name: str, year: int) -> float:
        """A series attribute in `year` (infinity when absent)."""
        s = self.attrs.get(name)
        return s.at(year) if isinstance(s, YearSeries) else math.inf


@dataclass(frozen=True)
class TradeLink:
    """A link carrying one commodity from one facility to another, with freight cost, tariff and capacity."""

    source: str
    target: str
    commodity: str
    cost: float = 0.0  # USD per t TREO
    tariff: float = 0.0  # fraction of value carried
    capacity: YearSeries = field(default_factory=lambda: YearSeries.constant(math.inf))
    informal: bool = False  # outside the formal chain (smuggling)

    @property
    def name(self) -> str:
        """Unique label of the link: "source -> target (commodity)"."""
        return f"{self.source} -> {self.target} ({self.commodity})"


def inputs_of(f: Facility) -> tuple[str, ...]:
    """Commodities a facility takes in through trade links."""
    a = f.attrs
    if f.kind == "crackers":
        return (a["input"],)
    if f.kind == "refineries":
        return tuple(a["feeds"] or {})
    if f.kind == "metal_plants":
        return ("oxide",)
    if f.kind == "magnet_plants":
        return (a["input"],)
    if f.kind == "markets":
        return (a["commodity"],)
    return ()


def outputs_of(
    f: Facility, refinery_outputs: Sequence[str] = ("oxide", "mixed_oxide", "metal")
) -> tuple[str, ...]:
    """Commodities a facility sends out through trade links."""
    a = f.attrs
    if f.kind == "mines":
        return (a["product"],)
    if f.kind == "crackers":
        return (a["output"],)
    if f.kind == "refineries":
        return tuple(refinery_outputs)
    if f.kind == "metal_plants":
        return ("metal",)
    if f.kind == "magnet_plants":
        return ("magnet",)
    if f.kind == "recyclers":
        return ("oxide",)
    if f.kind == "suppliers":
        return (a["commodity"],)
    return ()


@dataclass(frozen=True)
class ChainNetwork:
    """Facilities by name and the trade links between them (validated on construction)."""

    facilities: Mapping[str, Facility]
    links: tuple[TradeLink, ...]
    file: str | None = None

    def __post_init__(self) -> None:
        for i, link in enumerate(self.links):
            where = f"trade_links[{i}]"
            for end in ("source", "target"):
                name = getattr(link, end)
                if name not in self.facilities:
                    raise InputError(
                        f"trade link to a facility that does not exist: {name!r}; known: "
                        f"{', '.join(sorted(self.facilities))}",
                        file=self.file,
                        field=f"{where}.{end}",
                    )
            if link.commodity not in COMMODITIES:
                raise InputError(
                    f"unknown commodity {link.commodity!r}; known: {', '.join(COMMODITIES)}",
                    file=self.file,
                    field=f"{where}.commodity",
                )
            src, dst = self.facilities[link.source], self.facilities[link.target]
            if link.commodity not in outputs_of(src):
                raise InputError(
                    f"{src.name!r} ({src.kind}) does not produce {link.commodity!r}; it produces "
                    f"{', '.join(outputs_of(src)) or 'nothing'}",
                    file=self.file,
                    field=f"{where}.source",
                )
            if link.commodity not in inputs_of(dst):
                raise InputError(
                    f"{dst.name!r} ({dst.kind}) does not take {link.commodity!r}; it takes "
                    f"{', '.join(inputs_of(dst)) or 'nothing'}",
                    file=self.file,
                    field=f"{where}.target",
                )
        for f in self.facilities.values():
            if f.kind == "recyclers":
                src = f.attrs.get("collects_from")
                if src not in self.facilities or self.facilities[src].kind != "markets":
                    raise InputError(
                        f"recycler collects from {src!r}, which is not a market of this scenario",
                        file=self.file,
                        field=f"facilities.recyclers.{f.name}.collects_from",
                    )

    def of_kind(self, kind: str) -> list[Facility]:
        """Facilities of one type, in definition order."""
        return [f for f in self.facilities.values() if f.kind == kind]

    def is_export(self, link: TradeLink) -> bool:
        """True if the link crosses a border."""
        return self.facilities[link.source].country != self.facilities[link.target].country

    def upstream_mines(self, name: str) -> list[str]:
        """Mines from which material can reach facility `name` through trade links."""
        seen: set[str] = set()
        stack = [name]
        while stack:
            node = stack.pop()
            for link in self.links:
                if link.target == node and link.source not in seen and not link.informal:
                    seen.add(link.source)
                    stack.append(link.source)
        return [n for n in self.facilities if n in seen and self.facilities[n].kind == "mines"]
