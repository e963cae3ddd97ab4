"""Capacity: which unit limits throughput at a feed rate, and what a target output needs.

Each unit (and product line) with a ``capacity`` in the flowsheet is compared with its throughput at the
given feed rate (utilisation = throughput / capacity). Every flow of the model is proportional to the feed
rate (the SX designs are homogeneous of degree one in the flows), so the feed a target output needs is the
target divided by the output per t of feed REO, and circuit volumes scale by the same factor (stage numbers
do not change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mine2magnet.errors import InputError
from mine2magnet.process.flowsheet import Flowsheet, load_flowsheet
from mine2magnet.process.parameters import ParameterSet
from mine2magnet.process.refinery import RefineryResult, run_flowsheet

#: Utilisation above 1 by less than this is rounding, not over capacity (a target equal to a capacity).
OVER_CAPACITY_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Utilisation:
    """Throughput of one unit against its capacity."""

    unit: str
    measure: str
    throughput: float
    capacity: float

    @property
    def utilisation(self) -> float:
        """Throughput / capacity (dimensionless; > 1 is over capacity)."""
        return self.throughput / self.capacity

    def to_dict(self) -> dict[str, Any]:
        """JSON form (throughput and capacity in the unit's measure, e.g. t/yr concentrate)."""
        return {
            "unit": self.unit,
            "measure": self.measure,
            "throughput": self.throughput,
            "capacity": self.capacity,
            "utilisation": self.utilisation,
        }


def utilisations(fs: Flowsheet, result: RefineryResult) -> list[Utilisation]:
    """Utilisation of every unit and product line that has a capacity, highest first."""
    params = ParameterSet(overrides=fs.spec.parameters, file=fs.file)
    out = []
    for u in result.units:
        entry = fs.spec.units.get(u.unit)
        if entry is None or entry.capacity is None or u.throughput is None:
            continue
        measure, value = u.throughput
        cap = params.value(entry.capacity.key, entry.capacity.unit)
        out.append(Utilisation(u.unit, measure, value, cap))
    for name, p in fs.spec.products.items():
        if p.capacity is not None and name in result.products:
            cap = params.value(p.capacity.key, p.capacity.unit)
            out.append(Utilisation(f"product:{name}", f"t/yr {name}", result.products[name].t_per_yr, cap))
    return sorted(out, key=lambda x: -x.utilisation)


def limiting_unit(
    flowsheet: Flowsheet | str, feed_rate: float | None = None, feed: str | None = None
) -> dict[str, Any]:
    """The unit that limits throughput at `feed_rate` (t/yr feed REO), with every unit's utilisation.

    Returns ``{limiting: {...} | None, units: [...], max_feed_reo_t_per_yr}``: the limiting unit is the one
    with the highest utilisation; max feed is the rate at which it reaches 100 %.
    """
    fs = flowsheet if isinstance(flowsheet, Flowsheet) else load_flowsheet(flowsheet)
    result = run_flowsheet(fs, feed, feed_rate)
    util = utilisations(fs, result)
    top = util[0] if util else None
    out: dict[str, Any] = {
        "feed_reo_t_per_yr": result.feed_reo_t_per_yr,
        "limiting": top.to_dict() if top else None,
        "units": [u.to_dict() for u in util],
        "max_feed_reo_t_per_yr": result.feed_reo_t_per_yr / top.utilisation if top else None,
    }
    if top is None:
        out["note"] = f"{fs.file} gives no unit or product line a capacity: nothing limits throughput"
    return out


def required_for(
    flowsheet: Flowsheet | str, target_output: dict[str, float], feed: str | None = None
) -> dict[str, Any]:
    """Feed rate and circuit sizes needed to make `target_output` ({product name: t/yr}).

    The feed rate is set by the most demanding product; returns it with the resulting product slate, every
    unit's utilisation at that rate (> 1 means the plant must be enlarged) and the SX circuit sizes.
    """
    fs = flowsheet if isinstance(flowsheet, Flowsheet) else load_flowsheet(flowsheet)
    base = run_flowsheet(fs, feed, None)
    factors = {}
    for name, target in target_output.items():
        if name not in base.products:
            raise InputError(
                f"unknown product {name!r}; products: {', '.join(base.products)}", field="target"
            )
        made = base.products[name].t_per_yr
        if made <= 0.0:
            raise InputError(f"the flowsheet makes no {name!r} from this feed", field="target")
        factors[name] = target / made
    if not factors:
        raise InputError("give at least one product target", field="target")
    rate = base.feed_reo_t_per_yr * max(factors.values())
    result = run_flowsheet(fs, feed, rate)
    util = utilisations(fs, result)
    return {
        "feed_reo_t_per_yr": rate,
        "feed": result.feed,
        "driving_product": max(factors, key=lambda k: factors[k]),
        "products_t_per_yr": {n: p.t_per_yr for n, p in result.products.items()},
        "units": [u.to_dict() for u in util],
        "over_capacity": [u.unit for u in util if u.utilisation > 1.0 + OVER_CAPACITY_TOLERANCE],
        "circuits": [
            {k: c[k] for k in ("cut", "stages", "strip_stages", "mixer_settler_volume_m3", "organic_l_per_h")}
            for c in result.circuits
        ],
    }
