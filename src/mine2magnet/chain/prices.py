"""The price deck: what a t of each element is worth in each commodity, by year (USD per t REO basis)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from mine2magnet.chain.series import YearSeries
from mine2magnet.elements import element


@dataclass(frozen=True)
class PriceDeck:
    """Prices of separated oxides and the factors that price the other commodities from them.

    - ``oxide[el]``: USD per t of oxide, by year;
    - ``payability[commodity]``: share of the contained separated-oxide value paid for ``concentrate``,
      ``mrec``, ``mixed_oxide`` or ``ore``;
    - ``metal_factor``: value of metal per t oxide equivalent relative to the oxide;
    - ``magnet_usd_per_t``: price of a t of magnet, by year; ``magnet_bom``: kg of each rare-earth metal per
      kg of magnet, used to express a magnet's value per t of its rare-earth oxide equivalent.
    """

    oxide: Mapping[str, YearSeries]
    payability: Mapping[str, float] = field(default_factory=dict)
    metal_factor: float = 1.0
    magnet_usd_per_t: YearSeries = field(default_factory=lambda: YearSeries.constant(0.0))
    magnet_bom: Mapping[str, float] = field(default_factory=dict)

    def oxide_price(self, el: str, year: int) -> float:
        """USD per t of the separated oxide of `el` (0 if unpriced)."""
        s = self.oxide.get(el)
        return s.at(year) if s is not None else 0.0

    def magnet_reo_per_t(self) -> float:
        """t of rare-earth oxide equivalent per t of magnet (from the bill of materials)."""
        return sum(kg * element(el).oxide_per_element for el, kg in self.magnet_bom.items())

    def value(self, commodity: str, el: str, year: int) -> float:
        """USD per t TREO of `el` carried as `commodity` in `year`."""
        if commodity == "oxide":
            return self.oxide_price(el, year)
        if commodity == "metal":
            return self.oxide_price(el, year) * self.metal_factor
        if commodity == "magnet":
            reo = self.magnet_reo_per_t()
            return self.magnet_usd_per_t.at(year) / reo if reo > 0 else 0.0
        return self.oxide_price(el, year) * self.payability.get(commodity, 0.0)

    def with_oxide_prices(self, usd_per_kg: Mapping[str, Mapping[int, float]]) -> PriceDeck:
        """A copy whose separated-oxide prices of the named elements are replaced, USD/kg by year (e.g. the
        prices a ``mine2magnet.market`` run gives: ``MarketRun.oxide_prices(market)``); other elements keep
        their deck. Held flat before the first and after the last year given."""
        oxide = dict(self.oxide)
        for el, points in usd_per_kg.items():
            oxide[el] = YearSeries({int(y): float(v) * 1000.0 for y, v in points.items()})
        return replace(self, oxide=oxide)
