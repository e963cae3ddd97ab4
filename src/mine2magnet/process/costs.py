"""Refinery economics: capex by capacity scaling, opex from reagents, labour and maintenance, revenue.

- capex = C_ref x (Q / Q_ref)^n (six-tenths rule; exponent a parameter), from a sourced reference plant; the
  measure Q is the plant's feed REO or product REO (t/yr) as the flowsheet states. No escalation between the
  reference year and today is applied (stated, not hidden). AUD converted with fx.AUD_per_USD.
- opex/yr = sum(reagent t/yr x price) + electricity kWh/yr x tariff (MYR converted with fx.MYR_per_USD)
  + headcount x cost per person + maintenance share x capex. Only the energy uses with a sourced figure are
  counted (calcination and SX electricity); the result's notes say what is left out.
- revenue/yr = sum over saleable products of t/yr x price (price deck of the data layer, USD/kg); a mixed
  concentrate is valued at payability x the sum of its contained oxides' prices. Products without a price in
  the deck are listed in ``unpriced`` and earn nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mine2magnet.data.units import convert
from mine2magnet.elements import ELEMENTS
from mine2magnet.process.parameters import ParameterSet

#: Price deck years searched, nearest first, around the flowsheet's price year.
_YEAR_WINDOW = 3


@dataclass
class Costs:
    capex_usd: float
    opex_usd_per_yr: float
    revenue_usd_per_yr: float
    opex_breakdown: dict[str, float] = field(default_factory=dict)
    revenue_breakdown: dict[str, float] = field(default_factory=dict)
    prices_usd_per_kg: dict[str, dict[str, Any]] = field(default_factory=dict)
    unpriced: list[str] = field(default_factory=list)
    method: str = ""

    @property
    def margin_usd_per_yr(self) -> float:
        """Revenue - opex, USD/yr (before capital charges)."""
        return self.revenue_usd_per_yr - self.opex_usd_per_yr

    def to_dict(self) -> dict[str, Any]:
        """The ``costs`` entry of the JSON contract (USD, USD/yr, prices in USD/kg)."""
        return {
            "capex_usd": self.capex_usd,
            "opex_usd_per_yr": self.opex_usd_per_yr,
            "revenue_usd_per_yr": self.revenue_usd_per_yr,
            "margin_usd_per_yr": self.margin_usd_per_yr,
            "opex_breakdown_usd_per_yr": self.opex_breakdown,
            "revenue_breakdown_usd_per_yr": self.revenue_breakdown,
            "prices_usd_per_kg": self.prices_usd_per_kg,
            "unpriced_products": self.unpriced,
            "method": self.method,
        }


def _to_usd(params: ParameterSet, key: str) -> float:
    entry = params.dataset.get(key)
    unit = str(entry.unit)
    value = params.value(key)
    scale = convert(1.0, unit.replace("AUD", "").replace("USD", "").strip() or "1", "1") if unit else 1.0
    if "AUD" in unit:
        fx_key = "fx.AUD_per_USD" if params.has("fx.AUD_per_USD") else "process.fx.AUD_per_USD"
        return value * scale / params.value(fx_key)
    return value * scale


def _electricity_usd_per_kwh(params: ParameterSet) -> float:
    """Electricity tariff, USD/kWh (a tariff in MYR/kWh is converted at fx.MYR_per_USD)."""
    key = "process.price.electricity"
    unit = str(params.dataset.get(key).unit)
    if unit.startswith("MYR/"):
        per_kwh = convert(1.0, "1/" + unit.removeprefix("MYR/"), "1/kWh")
        return params.value(key) * per_kwh / params.value("fx.MYR_per_USD", "MYR/USD")
    return params.value(key, "USD/kWh")


def price_usd_per_kg(params: ParameterSet, stem: str, year: int) -> tuple[float, str] | None:
    """Price (USD/kg) for a deck key stem such as ``price.Nd2O3``, at `year` or the nearest year available."""
    for dy in sorted(range(-_YEAR_WINDOW, _YEAR_WINDOW + 1), key=lambda d: (abs(d), -d)):
        key = f"{stem}.{year + dy}"
        if params.has(key):
            return params.value(key, "USD/kg"), key
    return None


def reference_capex_usd(
    params: ParameterSet, reference: str, reference_capacity: str, exponent: str, q: float
) -> float:
    """Capex scaled from a reference plant to capacity `q` (same measure as the reference capacity)."""
    c_ref = _to_usd(params, reference)
    q_ref = params.value(reference_capacity)
    n = params.value(exponent, "fraction")
    return c_ref * (q / q_ref) ** n


def compute_costs(
    params: ParameterSet,
    capex_usd: float,
    reagents: Mapping[str, float],
    headcount: float,
    products: Mapping[str, tuple[Mapping[str, float], bool, str | None, bool]],
    price_year: int,
    electricity_kwh_per_yr: float = 0.0,
) -> Costs:
    """Opex and revenue, USD/yr (capex in USD).

    Args:
        reagents: t/yr by reagent name (priced by ``process.price.<name>``).
        electricity_kwh_per_yr: electricity use, kWh/yr (priced by ``process.price.electricity``).
        products: name -> (oxide t/yr by element, saleable, price key stem or None, basket?).
    """
    opex: dict[str, float] = {}
    for name, t in reagents.items():
        if t <= 0.0:
            continue
        opex[f"reagent:{name}"] = t * params.value(f"process.price.{name}", "USD/t")
    if electricity_kwh_per_yr > 0.0:
        opex["energy:electricity"] = electricity_kwh_per_yr * _electricity_usd_per_kwh(params)
    opex["labour"] = headcount * params.value("process.labour.cost_per_person", "USD")
    opex["maintenance"] = capex_usd * params.value("process.maintenance.fraction_of_capex", "fraction")
    revenue: dict[str, float] = {}
    prices: dict[str, dict[str, Any]] = {}
    unpriced: list[str] = []
    for name, (oxides, saleable, stem, basket) in products.items():
        if not saleable:
            continue
        total_t = sum(oxides.values())
        if basket:
            pay = params.value("process.payability.mixed_concentrate", "fraction")
            value = 0.0
            keys = []
            missing = []
            for el, t in oxides.items():
                p = price_usd_per_kg(params, f"price.{ELEMENTS[el].oxide_formula}", price_year)
                if p is None:
                    missing.append(el)
                    continue
                value += t * 1000.0 * p[0]
                keys.append(p[1])
            if not keys:
                unpriced.append(name)
                continue
            revenue[name] = pay * value
            prices[name] = {
                "usd_per_kg": pay * value / (total_t * 1000.0) if total_t else 0.0,
                "keys": keys,
                "payability": pay,
                "elements_without_price": missing,
            }
            continue
        p = price_usd_per_kg(params, stem, price_year) if stem else None
        if p is None:
            unpriced.append(name)
            continue
        revenue[name] = total_t * 1000.0 * p[0]
        prices[name] = {"usd_per_kg": p[0], "keys": [p[1]]}
    return Costs(
        capex_usd=capex_usd,
        opex_usd_per_yr=sum(opex.values()),
        revenue_usd_per_yr=sum(revenue.values()),
        opex_breakdown=opex,
        revenue_breakdown=revenue,
        prices_usd_per_kg=prices,
        unpriced=unpriced,
        method=(
            "capex = reference capex x (capacity/reference capacity)^n, no escalation; "
            "opex = reagents x prices + electricity (calcination, SX) x tariff + headcount x cost per "
            "person + maintenance share of capex (kiln fuel and electrolysis energy not sourced, not "
            "included); "
            "revenue = saleable products x price deck (mixed concentrates: payability x contained value)"
        ),
    )
