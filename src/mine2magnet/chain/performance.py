"""A refinery's performance as the value chain needs it, built from one run of a refinery flowsheet.

The chain does not model separation itself: each refinery runs one of the flowsheets of
:mod:`mine2magnet.process` once per (flowsheet, feed) and the result is condensed into a
:class:`RefineryPerformance` — per element, the fraction of the feed that reaches separated oxides and
unseparated (mixed) products; residues, reagents and operating cost per t of feed TREO.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mine2magnet.errors import InputError

#: A product counts as a separated oxide when its purity is at least this (else it is a mixed product).
SEPARATED_PURITY = 0.90
#: ... and names at most this many elements (NdPr oxide is traded as a separated product; SEG is not).
MAX_ELEMENTS_SEPARATED = 2


@dataclass(frozen=True)
class RefineryPerformance:
    """Yields, residues, reagents and cost of a refinery per t TREO of one feed.

    ``yields[commodity][element]``: fraction of that element's feed reaching products of the commodity
    (``oxide`` for separated products, ``mixed_oxide`` for unseparated ones); the rest goes to residues and
    losses. ``residues_t_per_t_reo``, ``residue_bq_per_g`` and ``reagents_t_per_t_reo`` by type;
    ``opex_usd_per_t_reo`` the operating cost per t of feed TREO.
    """

    flowsheet: str
    feed: str
    yields: Mapping[str, Mapping[str, float]]
    residues_t_per_t_reo: Mapping[str, float] = field(default_factory=dict)
    residue_bq_per_g: Mapping[str, float] = field(default_factory=dict)
    reagents_t_per_t_reo: Mapping[str, float] = field(default_factory=dict)
    opex_usd_per_t_reo: float = 0.0
    mass_balance_error: float = 0.0
    opex_breakdown_usd_per_t_reo: Mapping[str, float] = field(default_factory=dict)
    capex_usd_per_t_reo: float = 0.0

    def __post_init__(self) -> None:
        for el in {e for y in self.yields.values() for e in y}:
            total = sum(y.get(el, 0.0) for y in self.yields.values())
            if not -1e-9 <= total <= 1.0 + 1e-6:
                raise InputError(
                    f"refinery {self.flowsheet!r} with feed {self.feed!r}: yields of {el} sum to "
                    f"{total:.6f}, expected within [0, 1]"
                )

    def yield_of(self, commodity: str, element: str) -> float:
        """Fraction of `element` in the feed reaching `commodity`."""
        return float(self.yields.get(commodity, {}).get(element, 0.0))


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, Mapping) else getattr(obj, name)


def _get_optional(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _commodity_of(product: Any) -> str | None:
    """The chain commodity of a refinery product (None: not saleable, counted with the losses)."""
    if isinstance(product, Mapping):
        saleable, form = product.get("saleable", True), product.get("form", "oxide")
        purity, named = float(product["purity"]), tuple(product.get("elements", ()))
    else:
        saleable, form = getattr(product, "saleable", True), getattr(product, "form", "oxide")
        purity, named = float(product.purity), tuple(getattr(product, "elements", ()))
    if not saleable:
        return None
    if form == "metal":
        return "metal"
    separated = purity >= SEPARATED_PURITY and len(named) <= MAX_ELEMENTS_SEPARATED
    return "oxide" if separated else "mixed_oxide"


def _residue_t_per_yr(residue: Any, result: Any) -> float:
    if hasattr(residue, "wet_t_per_yr"):
        return float(residue.wet_t_per_yr)
    if isinstance(residue, Mapping) and residue.get("t_per_yr") is not None:
        return float(residue["t_per_yr"])
    per = residue["t_per_t_reo"] if isinstance(residue, Mapping) else residue.t_per_t_reo
    return float(per) * float(getattr(result, "product_reo_t_per_yr", _get(result, "feed_reo_t_per_yr")))


def _residue_bq(residue: Any) -> float:
    if hasattr(residue, "activity_bq_per_g"):
        return float(max(residue.activity_bq_per_g().values(), default=0.0))
    return float(_get(residue, "bq_per_g") or 0.0)


def performance_from_result(result: Any, *, flowsheet: str, feed: str) -> RefineryPerformance:
    """Condense a ``mine2magnet.process`` RefineryResult into a :class:`RefineryPerformance`.

    Saleable products of purity >= :data:`SEPARATED_PURITY` naming at most :data:`MAX_ELEMENTS_SEPARATED`
    elements (e.g. Nd, Pr, NdPr, Dy, Tb oxides) count as separated ``oxide``; other saleable products (SEG or
    heavy rare-earth concentrates) as ``mixed_oxide``; metal products as ``metal``; unsaleable products with
    the losses. Residues (wet t), reagents and opex are divided by the feed TREO rate.
    """
    feed_reo = float(_get(result, "feed_reo_t_per_yr"))
    if not feed_reo > 0.0:
        raise InputError(f"refinery {flowsheet!r} with feed {feed!r}: the flowsheet run has no feed REO")
    products = _get(result, "products")
    kind = {name: _commodity_of(p) for name, p in products.items()}
    yields: dict[str, dict[str, float]] = {"oxide": {}, "mixed_oxide": {}, "metal": {}}
    for element, by_product in result.element_yield().items():
        for product, fraction in by_product.items():
            commodity = kind.get(product)
            if commodity is None:  # residues, losses, unsaleable products
                continue
            y = yields[commodity]
            y[element] = y.get(element, 0.0) + float(fraction)
    residues = _get(result, "residues")
    costs = _get(result, "costs")
    reagents = _get(result, "reagents")
    return RefineryPerformance(
        flowsheet=flowsheet,
        feed=feed,
        yields=yields,
        residues_t_per_t_reo={k: _residue_t_per_yr(v, result) / feed_reo for k, v in residues.items()},
        residue_bq_per_g={k: _residue_bq(v) for k, v in residues.items()},
        reagents_t_per_t_reo={k: float(v) / feed_reo for k, v in reagents.items()},
        opex_usd_per_t_reo=float(_get(costs, "opex_usd_per_yr")) / feed_reo,
        mass_balance_error=float(getattr(result, "mass_balance_error", 0.0) or 0.0),
        opex_breakdown_usd_per_t_reo={
            k: float(v) / feed_reo for k, v in (_get_optional(costs, "opex_breakdown") or {}).items()
        },
        capex_usd_per_t_reo=float(_get_optional(costs, "capex_usd") or 0.0) / feed_reo,
    )


class PerformanceCache:
    """Runs each (flowsheet, feed, rate) once per scenario run and keeps the performance."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, float | None], RefineryPerformance] = {}

    def get(self, flowsheet: str, feed: str, rate_t_per_yr: float | None = None) -> RefineryPerformance:
        """The performance of `flowsheet` on `feed` (runs the flowsheet the first time)."""
        key = (flowsheet, feed, rate_t_per_yr)
        if key not in self._cache:
            from mine2magnet import process  # the layer below; imported late so chain imports stay light

            fs = process.load_flowsheet(flowsheet)
            result = process.run_flowsheet(fs, feed=feed, rate_t_per_yr=rate_t_per_yr)
            self._cache[key] = performance_from_result(result, flowsheet=flowsheet, feed=feed)
        return self._cache[key]

    def put(self, perf: RefineryPerformance, rate_t_per_yr: float | None = None) -> None:
        """Store a performance (e.g. built in a test) under its flowsheet and feed."""
        self._cache[(perf.flowsheet, perf.feed, rate_t_per_yr)] = perf
