"""The price deck's values read once a year (``DeckValues``) equal ``PriceDeck.value`` element by element, bit
for bit, for every commodity and year of every built-in scenario; a deck with a ``value`` of its own is asked
value by value."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mine2magnet.chain.kpis import DeckValues
from mine2magnet.chain.prices import PriceDeck
from mine2magnet.chain.simulation import _elements
from mine2magnet.scenario import list_scenarios, load_scenario

COMMODITIES = ("oxide", "metal", "magnet", "ore", "concentrate", "mrec", "mixed_oxide", "scrap", "unknown")


@pytest.mark.parametrize("name", [s[0] for s in list_scenarios()])
def test_deck_values_equal_the_deck(name: str) -> None:
    model = load_scenario(name, []).model
    E = _elements(model)
    deck = model.prices
    for year in range(min(model.years) - 2, max(model.years) + 3):
        values = DeckValues(deck, E, year)
        for c in COMMODITIES:
            want = np.array([deck.value(c, e, year) for e in E], dtype=float)
            assert np.array_equal(values[c], want), (name, year, c)
            assert not values[c].flags.writeable


def test_a_deck_with_its_own_value_is_asked_value_by_value() -> None:
    @dataclasses.dataclass(frozen=True)
    class Doubled(PriceDeck):
        def value(self, commodity: str, el: str, year: int) -> float:
            return 2.0 * super().value(commodity, el, year)

    model = load_scenario("malaysia-base", []).model
    E = _elements(model)
    doubled = Doubled(**{f.name: getattr(model.prices, f.name) for f in dataclasses.fields(PriceDeck)})
    got = DeckValues(doubled, E, 2030)["metal"]
    assert np.array_equal(got, 2.0 * DeckValues(model.prices, E, 2030)["metal"])
