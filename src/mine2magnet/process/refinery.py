"""Run a refinery flowsheet on a feed: product slate, recovery, reagents, residues, SX circuits and costs.

``run_flowsheet(flowsheet, feed=None, rate_t_per_yr=None)``: `feed` is a feed name, a feed file, a
:class:`~mine2magnet.elements.Composition` (taken as a purified chloride liquor of that REO distribution) or
None (the flowsheet's default feed); `rate_t_per_yr` is **t/yr of REO in the feed** (default: the flowsheet's
design rate). The units of the feed's route run in order, then the SX tree, finishing of each product
(optionally to metal) and neutralisation of every effluent. The plant-level element balance (feed + elements
brought by reagents = products + residues + treated water + losses) is checked to 1e-6 relative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mine2magnet.elements import ELEMENTS, RARE_EARTHS, Composition
from mine2magnet.errors import ConvergenceError, InfeasibleError, InputError
from mine2magnet.process.costs import Costs, compute_costs, reference_capex_usd
from mine2magnet.process.feed import Feed, feed_from_composition, load_feed
from mine2magnet.process.feed_preparation import acid_bake_leach, carbonate_precipitation, hcl_dissolution
from mine2magnet.process.finishing import electrolysis, finishing
from mine2magnet.process.flowsheet import Flowsheet, load_flowsheet
from mine2magnet.process.neutralisation import neutralisation
from mine2magnet.process.parameters import ParameterSet
from mine2magnet.process.purification import purification
from mine2magnet.process.residue import Residue, combine
from mine2magnet.process.separation_train import CutSpec, separation_train
from mine2magnet.process.stream import Stream, total
from mine2magnet.process.unit import UnitResult

#: Plant-level element balance tolerance (relative to the total element inflow).
PLANT_BALANCE_TOLERANCE = 1e-6
#: Energy use by unit kind, for the ``energy.by_use_kwh_per_yr`` summary.
_ENERGY_USE = {
    "oxalate-finishing": "calcination",
    "carbonate-finishing": "calcination",
    "separation-train": "solvent extraction",
}
#: Energy uses with no sourced figure, left out of energy and opex (reported in ``energy.not_counted``).
ENERGY_NOT_COUNTED = ("acid-bake kiln fuel", "oxide-to-metal electrolysis electricity")


@dataclass(frozen=True)
class Product:
    """A product of the refinery.

    Attributes:
        name: product name.
        t_per_yr: t/yr of product oxide (rare-earth oxides of the product stream, REO basis), or of metal if
            the product is reduced to metal.
        purity: share of the product's named elements in its rare-earth oxide (oxide mass basis).
        composition: fraction of each element in the product (oxide mass basis, rare earths and others).
        elements: the elements that count towards purity.
        min_purity: the product spec (None if none).
        saleable: whether it earns revenue.
        form: "oxide" or "metal".
        min_recovery: the product's SX recovery spec (None if none).
        sx_recovery: share of the product's elements in the SX train feed that reach it (before finishing).
    """

    name: str
    t_per_yr: float
    purity: float
    composition: dict[str, float]
    elements: tuple[str, ...]
    min_purity: float | None
    saleable: bool
    form: str = "oxide"
    min_recovery: float | None = None
    sx_recovery: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The product's entry in the JSON contract (t/yr, oxide-mass fractions)."""
        return {
            "t_per_yr": self.t_per_yr,
            "purity": self.purity,
            "composition": self.composition,
            "elements": list(self.elements),
            "min_purity": self.min_purity,
            "saleable": self.saleable,
            "form": self.form,
            "min_recovery": self.min_recovery,
            "sx_recovery": self.sx_recovery,
        }


@dataclass
class RefineryResult:
    """Result of :func:`run_flowsheet`. ``to_dict()`` is the JSON contract of ``refinery run --json``."""

    flowsheet: str
    feed: str
    feed_reo_t_per_yr: float
    products: dict[str, Product]
    recovery: dict[str, float]
    reagents: dict[str, float]
    residues: dict[str, Residue]
    circuits: list[dict[str, Any]]
    costs: Costs
    mass_balance_error: float
    energy: dict[str, Any] = field(default_factory=dict)
    units: list[UnitResult] = field(default_factory=list)
    product_streams: dict[str, Stream] = field(default_factory=dict)
    feed_stream: Stream | None = None
    parameters: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def product_reo_t_per_yr(self) -> float:
        """t/yr of REO in saleable products (the basis of residues per t REO)."""
        return sum(s.reo_t_per_yr() for n, s in self.product_streams.items() if self.products[n].saleable)

    def element_yield(self) -> dict[str, dict[str, float]]:
        """element -> {product name: fraction of that element's feed reporting to the product}."""
        assert self.feed_stream is not None
        out: dict[str, dict[str, float]] = {}
        for el, fed in self.feed_stream.elements.items():
            if fed <= 0.0 or el not in RARE_EARTHS:
                continue
            out[el] = {n: s.get(el) / fed for n, s in self.product_streams.items() if s.get(el) > 0.0}
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``refinery run --json`` (see docs/flowsheets.md), t/yr and USD."""
        per = self.product_reo_t_per_yr
        return {
            "flowsheet": self.flowsheet,
            "feed": self.feed,
            "feed_reo_t_per_yr": self.feed_reo_t_per_yr,
            "product_reo_t_per_yr": per,
            "products": {n: p.to_dict() for n, p in self.products.items()},
            "recovery": self.recovery,
            "reagents": self.reagents,
            "residues": {n: r.to_dict(per) for n, r in self.residues.items()},
            "circuits": self.circuits,
            "costs": self.costs.to_dict(),
            "mass_balance_error": self.mass_balance_error,
            "energy": self.energy,
            "element_yield": self.element_yield(),
            "parameters": self.parameters,
            "notes": self.notes,
        }


def _energy_by_use(units: list[UnitResult]) -> dict[str, dict[str, float]]:
    """use (calcination, solvent extraction...) -> carrier -> kWh/yr, summed over the units."""
    out: dict[str, dict[str, float]] = {}
    for u in units:
        for carrier, kwh in u.energy_kwh_per_yr.items():
            if kwh > 0.0:
                use = out.setdefault(_ENERGY_USE.get(u.kind, u.kind), {})
                use[carrier] = use.get(carrier, 0.0) + kwh
    return out


def _product(name: str, stream: Stream, spec: Any, form: str) -> Product:
    oxides = stream.oxide_t_per_yr()
    reo = sum(v for s, v in oxides.items() if ELEMENTS[s].rare_earth)
    allox = sum(oxides.values())
    purity = sum(oxides.get(s, 0.0) for s in spec.elements) / reo if reo > 0 else 0.0
    comp = {s: v / allox for s, v in oxides.items()} if allox > 0 else {}
    t = reo if form == "oxide" else sum(v for s, v in stream.elements.items() if ELEMENTS[s].rare_earth)
    return Product(name, t, purity, comp, tuple(spec.elements), spec.min_purity, spec.saleable, form)


def _betas(fs: Flowsheet, unit_id: str, params: ParameterSet) -> dict[str, float]:
    unit = fs.spec.units[unit_id]
    if unit.separation_factors is not None:
        return dict(unit.separation_factors)
    try:
        from mine2magnet.separation.equilibrium.extractants import load_extractant
    except ImportError as exc:
        raise InfeasibleError(f"extractant parameter sets are not available ({exc})") from None
    ext = load_extractant(unit.extractant)
    return dict(ext.separation_factors(list(ext.order)))


#: Rounds of target tightening the train may take to meet the product specs.
MAX_TIGHTENING_ROUNDS = 6


def _path_to(product: str, cuts: list[CutSpec]) -> list[tuple[int, str]]:
    """(cut index, side) pairs from the train feed down to `product`: every cut outlet the product passes
    through, in order (e.g. light-heavy.extract, seg-hre.extract, tb-dy.extract, dy-heavy.raffinate)."""
    index = {c.id: k for k, c in enumerate(cuts)}
    hit = next(
        (
            (k, side)
            for k, c in enumerate(cuts)
            for side in ("raffinate", "extract")
            if getattr(c, side) == product
        ),
        None,
    )
    if hit is None:
        return []
    path = [hit]
    feed = cuts[hit[0]].feed
    while feed != "train":
        cut_id, _, side = feed.partition(".")
        k = index[cut_id]
        path.insert(0, (k, side))
        feed = cuts[k].feed
    return path


def _tightened(cut: CutSpec, side: str, factor: float, measure: str = "purity") -> CutSpec:
    """The cut with the `measure` target ("purity" or "recovery") of one outlet tightened: its shortfall
    (1 - target; 1e-2 if the outlet had no such target) multiplied by `factor` (< 1)."""
    targets = {k: dict(v) for k, v in cut.targets.items()}
    side_t = targets.setdefault(side, {})
    old = side_t.get(measure)
    base_gap = 1.0 - old if old is not None else 1e-2
    side_t[measure] = min(1.0 - base_gap * factor, 1.0 - 1e-9)
    return replace(cut, targets=targets)


def sx_recovery(product: Stream, train_feed: Stream, elements: tuple[str, ...] | list[str]) -> float:
    """Share of `elements` in the SX train feed that reaches the product liquor (before finishing)."""
    fed = sum(train_feed.get(el) for el in elements)
    return sum(product.get(el) for el in elements) / fed if fed > 0.0 else 0.0


def _train_meeting_specs(
    fs: Flowsheet, uid: str, stream: Stream, params: ParameterSet
) -> tuple[UnitResult, dict[str, Stream], list[dict[str, Any]]]:
    """Run the SX train; where a product misses its purity (or SX recovery) spec, tighten the purity (or
    recovery) targets of every cut outlet on the path to it (shortfall x 0.5 x spec gap / achieved gap) and
    design again."""
    unit = fs.spec.units[uid]
    cuts = fs.cuts(uid)
    betas = _betas(fs, uid, params)
    for name, pspec in fs.spec.products.items():
        has_spec = pspec.min_purity is not None or pspec.min_recovery is not None
        if has_spec and not any(stream.get(el) > 0.0 for el in pspec.elements):
            spec_text = f"purity {pspec.min_purity}" if pspec.min_purity is not None else ""
            if pspec.min_recovery is not None:
                spec_text += (", " if spec_text else "") + f"recovery {pspec.min_recovery}"
            raise InfeasibleError(
                f"product {name!r} (spec {spec_text} of {'+'.join(pspec.elements)}) cannot be made: "
                f"the feed to the SX train holds no {'/'.join(pspec.elements)}"
            )
    for _round in range(MAX_TIGHTENING_ROUNDS + 1):
        res, products_raw, circuits = separation_train(
            uid, stream, cuts, betas, params, unit.saponification_base
        )
        failing: list[tuple[str, str, float, float]] = []
        for name, pstream in products_raw.items():
            pspec = fs.spec.products[name]
            prod = _product(name, pstream, pspec, "oxide")
            if prod.t_per_yr > 0.0 and pspec.min_purity is not None and prod.purity < pspec.min_purity:
                failing.append((name, "purity", prod.purity, pspec.min_purity))
            if pspec.min_recovery is not None:
                rec = sx_recovery(pstream, stream, pspec.elements)
                if rec < pspec.min_recovery:
                    failing.append((name, "recovery", rec, pspec.min_recovery))
        if not failing:
            for c in circuits:
                c["tightening_rounds"] = _round
            return res, products_raw, circuits
        for name, measure, achieved, spec_value in failing:
            factor = 0.5 * (1.0 - spec_value) / max(1.0 - achieved, 1e-15)
            for k, side in _path_to(name, cuts):
                cuts[k] = _tightened(cuts[k], side, factor, measure)
    worst = ", ".join(f"{n}: {m} {a:.6f} < {p}" for n, m, a, p in failing)
    raise InfeasibleError(
        f"{fs.file}: the SX train cannot meet the product specs after {MAX_TIGHTENING_ROUNDS} rounds of "
        f"tightening the cut targets ({worst})"
    )


def _check_sources(fs: Flowsheet, params: ParameterSet) -> None:
    """Source ids a flowsheet names (product specs, separation factors) must be in the bibliography;
    separation factors given in the file must name their source."""
    known = params.dataset.sources
    for name, p in fs.spec.products.items():
        for attr in ("purity_source", "recovery_source"):
            src = getattr(p, attr)
            if src is not None and src not in known:
                raise InputError(
                    f"unknown source id {src!r} (expected a bibliography id of the dataset)",
                    file=fs.file,
                    field=f"products.{name}.{attr}",
                )
    for uid, u in fs.spec.units.items():
        if u.separation_factors is None:
            continue
        src = u.separation_factors_source
        if src is None or src not in known:
            what = "give the bibliography id of" if src is None else f"unknown source id {src!r} for"
            raise InputError(
                f"{what} the separation factors (a dataset source id, or mine2magnet-assumption)",
                file=fs.file,
                field=f"units.{uid}.separation_factors_source",
            )


def resolve_feed(fs: Flowsheet, feed: str | Path | Composition | None, params: ParameterSet) -> Feed:
    """The feed of a run: a Composition (a purified chloride liquor), a feed name or file, or the default."""
    if isinstance(feed, Composition):
        return feed_from_composition("composition", feed)
    return load_feed(feed if feed is not None else fs.spec.feeds.default, params)


def run_flowsheet(
    flowsheet: Flowsheet | str | Path,
    feed: str | Path | Composition | None = None,
    rate_t_per_yr: float | None = None,
) -> RefineryResult:
    """Run a flowsheet. `rate_t_per_yr`: t/yr of REO in the feed (default: the flowsheet's design rate)."""
    fs = flowsheet if isinstance(flowsheet, Flowsheet) else load_flowsheet(flowsheet)
    spec = fs.spec
    params = ParameterSet(overrides=spec.parameters, file=fs.file)
    _check_sources(fs, params)
    fd = resolve_feed(fs, feed, params)
    rate = params.value(spec.feeds.design_rate, "t/yr") if rate_t_per_yr is None else float(rate_t_per_yr)
    if not (rate > 0.0 and math.isfinite(rate)):
        raise InputError(
            f"feed rate must be a positive number of t/yr REO, got {rate_t_per_yr!r}", field="rate"
        )
    route = spec.routes.get(fd.form)  # type: ignore[call-overload]
    if route is None:
        raise InputError(
            f"flowsheet {fs.name!r} has no route for a {fd.form} feed (routes: {', '.join(spec.routes)})",
            file=fs.file,
            field="routes",
        )
    feed_stream, material = fd.at_rate(rate)
    units: list[UnitResult] = []
    effluents: list[Stream] = []
    stream = feed_stream
    products_raw: dict[str, Stream] = {}
    circuits: list[dict[str, Any]] = []
    train_feed = feed_stream  # replaced by the stream the SX train receives (every route ends with it)
    first = True
    for uid in route:
        u = spec.units[uid]
        mass = material if first else None
        if u.type == "acid-bake-leach":
            res = acid_bake_leach(uid, stream, mass, params)
        elif u.type == "hcl-dissolution":
            res = hcl_dissolution(uid, stream, mass, params)
        elif u.type == "carbonate-precipitation":
            res = carbonate_precipitation(uid, stream, params)
        elif u.type == "purification":
            res = purification(uid, stream, params, u.residue or "WLP")
        else:
            res, products_raw, circuits = _train_meeting_specs(fs, uid, stream, params)
            train_feed = stream
        first = False
        res.check_balance()
        units.append(res)
        effluents += [s for k, s in res.side.items() if not k.startswith("product:")]
        stream = res.outlet
    product_streams: dict[str, Stream] = {}
    losses: list[Stream] = []
    for name, pstream in products_raw.items():
        pspec = spec.products[name]
        fin = finishing(f"finishing:{name}", pstream, params, pspec.finishing)
        fin.check_balance()
        units.append(fin)
        effluents.append(fin.side["supernatant"])
        out = fin.outlet
        if pspec.metal:
            el = electrolysis(f"metal:{name}", out, params)
            el.check_balance()
            units.append(el)
            losses.append(el.side["electrolysis losses"])
            out = el.outlet
        product_streams[name] = out.renamed(name)
    neut = neutralisation("neutralisation", effluents, params)
    neut.check_balance()
    units.append(neut)

    residues = combine(r for u in units for r in u.residues)
    reagents: dict[str, float] = {}
    for u in units:
        for k, v in u.reagents.items():
            reagents[k] = reagents.get(k, 0.0) + v
    energy_by_unit = {
        u.unit: dict(u.energy_kwh_per_yr) for u in units if any(v > 0.0 for v in u.energy_kwh_per_yr.values())
    }
    electricity = sum(e.get("electricity", 0.0) for e in energy_by_unit.values())
    reagent_elements = total((u.reagent_elements for u in units), "reagent elements")
    outflow = total(
        [*product_streams.values(), *(r.elements for r in residues.values()), neut.outlet, *losses], "out"
    )
    inflow = feed_stream + reagent_elements
    scale = inflow.total_t_per_yr()
    mbe = (
        max(abs(inflow.get(s) - outflow.get(s)) for s in set(inflow.elements) | set(outflow.elements)) / scale
    )
    if mbe > PLANT_BALANCE_TOLERANCE:
        raise ConvergenceError(f"flowsheet {fs.name!r}: plant element balance does not close", residual=mbe)

    products = {
        n: replace(
            _product(n, s, spec.products[n], "metal" if spec.products[n].metal else "oxide"),
            min_recovery=spec.products[n].min_recovery,
            sx_recovery=sx_recovery(products_raw[n], train_feed, spec.products[n].elements),
        )
        for n, s in product_streams.items()
    }
    for n, p in products.items():
        if p.t_per_yr > 0.0 and p.min_purity is not None and p.purity < p.min_purity * (1.0 - 1e-9):
            raise InfeasibleError(
                f"product {n!r}: purity {p.purity:.6f} below its spec {p.min_purity} with the cut targets of "
                f"{fs.file}; tighten the targets of the cuts feeding it"
            )
    saleable = [n for n, p in products.items() if p.saleable]
    recovery = {
        el: sum(product_streams[n].get(el) for n in saleable) / fed
        for el, fed in feed_stream.elements.items()
        if el in RARE_EARTHS and fed > 0.0
    }
    # costs
    cx = spec.costs.capex
    product_reo = sum(product_streams[n].reo_t_per_yr() for n in saleable)
    q = rate if cx.measure == "feed_reo" else product_reo
    capex = reference_capex_usd(params, cx.reference, cx.reference_capacity, cx.exponent, q)
    prod_values = {}
    for n, s in product_streams.items():
        ps = spec.products[n]
        oxides = {el: v for el, v in s.oxide_t_per_yr().items() if ELEMENTS[el].rare_earth}
        stem = ps.price.key
        if stem is None and len(ps.elements) == 1:
            stem = f"price.{ELEMENTS[ps.elements[0]].oxide_formula}"
        prod_values[n] = (oxides, ps.saleable, stem, ps.price.basket)
    costs = compute_costs(
        params,
        capex,
        reagents,
        params.value(spec.costs.headcount),
        prod_values,
        spec.costs.price_year,
        electricity_kwh_per_yr=electricity,
    )
    notes = []
    if costs.unpriced:
        notes.append(f"no price in the deck for {', '.join(costs.unpriced)}: they earn no revenue here")
    for n, p in products.items():
        if p.form == "metal" and spec.products[n].price.key is None:
            notes.append(
                f"{n} is metal but is priced with its oxide's price key: give products.{n}.price.key"
            )
    notes.append(
        "energy: calcination electricity and SX (mixing and pumping) electricity are counted (sourced "
        "figures); the acid-bake kiln fuel and the oxide-to-metal electrolysis have no sourced energy figure "
        "and are left out; water use is not reported (no sourced figure)"
    )
    return RefineryResult(
        flowsheet=fs.name,
        feed=fd.name,
        feed_reo_t_per_yr=rate,
        products=products,
        recovery=recovery,
        reagents=reagents,
        residues=residues,
        circuits=circuits,
        costs=costs,
        mass_balance_error=mbe,
        energy={
            "electricity_kwh_per_yr": electricity,
            "by_unit_kwh_per_yr": energy_by_unit,
            "by_use_kwh_per_yr": _energy_by_use(units),
            "not_counted": list(ENERGY_NOT_COUNTED),
        },
        units=units,
        product_streams=product_streams,
        feed_stream=feed_stream,
        parameters=params.provenance(),
        notes=notes,
    )
