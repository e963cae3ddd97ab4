"""Key performance indicators of one solved year, as tidy rows.

Each row: ``year, kpi, facility, element, value, unit, detail``. ``facility`` holds a facility name, or a
stage name for by-stage KPIs (``mining``, ``cracking``, ``separation``, ``metal``, ``magnet``, ``recycling``,
``total``); ``element`` and ``detail`` (residue type, reagent, commodity) are ``""`` when not applicable.

KPIs (units in brackets):

- ``production_t`` [t] output of each facility by element (``detail`` = commodity);
  ``domestic_production_t`` [t] the focus country's output by stage and element (separation: separated
  oxides only);
- ``domestic_value_added_usd`` [USD] value of the focus country's output minus the value of its inputs, by
  stage (``total`` too), with commodities at price-deck values; ``raw_export_value_usd`` [USD] what the
  country's mined output would fetch exported raw (as mixed carbonate); ``value_capture_ratio`` [-] total
  domestic value added over the value of the country's mined rare earths as separated oxides (above 1 when
  the country also refines imported feed); ``domestic_processing_share`` [fraction] of the country's
  (formally) mined rare earths delivered to facilities in the country rather than exported raw;
- ``feed_sufficiency`` [fraction] feed over feed capacity of each refinery (NdPr output over NdPr capacity
  when only that is given); ``feed_years_left`` [yr] accessible resource left in the mines linked upstream
  of the refinery divided by this year's feed; ``feed_years_at_capacity`` [yr] the same at full capacity;
- ``magnet_self_sufficiency`` [fraction] per element, rare earths reaching the focus country's magnet plants
  from facilities in that country over what the plants need at (available) nameplate capacity;
- ``hhi`` [0-1] Herfindahl-Hirschman index of production by country, per stage (modelled facilities only;
  an aggregate supplier counts at the stage of what it supplies, e.g. China's oxide exports at separation);
- ``residue_produced_t`` / ``residue_accumulated_t`` [t] and ``residue_produced_bq`` /
  ``residue_accumulated_bq`` [Bq] by facility (``detail`` = residue type);
- ``reagent_t`` [t] by refinery and reagent; ``royalties_usd`` [USD] by mine;
- ``smuggled_t`` [t] and ``smuggling_loss_usd`` [USD] (royalties and taxes lost) by smuggling route;
- ``unmet_demand_t`` [t] by market and element; ``secondary_supply_t`` [t] by recycler and element.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mine2magnet.chain.allocation import YearSolution
from mine2magnet.chain.model import BuiltYear, ChainModel, magnet_need
from mine2magnet.chain.prices import PriceDeck
from mine2magnet.chain.stocks import ChainState

STAGES = ("mining", "cracking", "separation", "metal", "magnet", "recycling")


class DeckValues(dict[str, np.ndarray]):
    """USD per t of each element of `E` carried as each commodity in one year: the price deck's values
    (``deck.value(commodity, element, year)``), read once per commodity and year and kept read-only.

    For a :class:`PriceDeck` itself (not a subclass with its own ``value``) the oxide prices of the year are
    read once and each commodity's vector is formed from them the way ``PriceDeck.value`` forms one value
    (the same arithmetic, element by element); a test holds the two equal for every commodity, element and
    year of the built-in scenarios.
    """

    def __init__(self, deck: PriceDeck, E: Sequence[str], year: int) -> None:
        super().__init__()
        self.deck, self.elements, self.year = deck, tuple(E), year
        self._oxide: np.ndarray | None = None

    def __missing__(self, commodity: str) -> np.ndarray:
        deck, year = self.deck, self.year
        if type(deck).value is not PriceDeck.value:  # a deck of its own kind: ask it value by value
            found = np.array([deck.value(commodity, e, year) for e in self.elements], dtype=float)
        else:
            if self._oxide is None:
                self._oxide = np.array([deck.oxide_price(e, year) for e in self.elements], dtype=float)
            if commodity == "oxide":
                found = self._oxide.copy()
            elif commodity == "metal":
                found = self._oxide * deck.metal_factor
            elif commodity == "magnet":
                reo = deck.magnet_reo_per_t()
                per_t = deck.magnet_usd_per_t.at(year) / reo if reo > 0 else 0.0
                found = np.full(len(self.elements), per_t, dtype=float)
            else:
                found = self._oxide * deck.payability.get(commodity, 0.0)
        found.flags.writeable = False
        self[commodity] = found
        return found


def _row(year: int, kpi: str, facility: str, element: str, value: float, unit: str, detail: str = "") -> dict:
    return {
        "year": year,
        "kpi": kpi,
        "facility": facility,
        "element": element,
        "value": float(value),
        "unit": unit,
        "detail": detail,
    }


def hhi(shares_by_country: Mapping[str, float]) -> float:
    """Herfindahl-Hirschman index (0-1) of quantities by country; NaN if the total is zero."""
    total = sum(shares_by_country.values())
    if total <= 0:
        return math.nan
    return float(sum((v / total) ** 2 for v in shares_by_country.values()))


def year_kpis(
    model: ChainModel,
    y: BuiltYear,
    sol: YearSolution,
    state: ChainState,
    start_resource: Mapping[str, float],
    E: Sequence[str],
    values: DeckValues | None = None,
) -> list[dict[str, Any]]:
    """Every KPI of one solved year (see module docstring); `values`: the year's deck values if already
    read (USD per t of each element by commodity)."""
    net, deck, year = model.network, model.prices, sol.year
    if values is None:
        values = DeckValues(deck, E, year)
    n = len(E)
    rows: list[dict[str, Any]] = []
    focus = model.focus_country
    # per-process in/out --------------------------------------------------------------------------------
    produced: dict[str, dict[str, np.ndarray]] = {}
    consumed: dict[str, dict[str, np.ndarray]] = {}
    for p in y.problem.processes:
        use = sol.use[p.name]
        out = produced.setdefault(p.facility, {})
        for c, yld in p.outputs.items():
            out[c] = out.get(c, np.zeros(n)) + yld * use
        if p.input is not None:
            inp = consumed.setdefault(p.facility, {})
            inp[p.input] = inp.get(p.input, np.zeros(n)) + use
    by_kind: dict[str, list[Any]] = {}  # facilities of each type, in definition order (net.of_kind)
    for f in net.facilities.values():
        by_kind.setdefault(f.kind, []).append(f)

    def of_kind(kind: str) -> list[Any]:
        return by_kind.get(kind, [])

    country_of = {f.name: f.country for f in net.facilities.values()}
    stage_of = {f.name: f.stage for f in net.facilities.values()}
    for name, (pol, _) in y.smuggled.items():
        country_of[name] = pol.country
        stage_of[name] = "mining"
    supply_stage = {
        "ore": "mining",
        "concentrate": "mining",
        "mrec": "cracking",
        "mixed_oxide": "separation",
        "oxide": "separation",
        "metal": "metal",
        "magnet": "magnet",
    }
    for f in of_kind("suppliers"):  # an aggregate supplier counts at the stage of what it supplies
        stage_of[f.name] = supply_stage.get(f.attrs["commodity"], "supply")
    for fac, outs in produced.items():
        for c, arr in outs.items():
            for e, v in zip(E, arr.tolist(), strict=True):
                if v > 1e-9:
                    rows.append(_row(year, "production_t", fac, e, v, "t", c))
    # value added by stage in the focus country ----------------------------------------------------------
    by_stage: dict[str, np.ndarray] = {}  # the focus country's output by stage (main product of each stage)
    for fac, outs in produced.items():
        if fac in net.facilities and country_of.get(fac) == focus and net.facilities[fac].kind != "suppliers":
            stage = stage_of[fac]
            main = {"separation": ("oxide",)}.get(stage, tuple(outs))
            total = sum((outs[c] for c in main if c in outs), np.zeros(n))
            by_stage[stage] = by_stage.get(stage, np.zeros(n)) + total
    for stage, arr in by_stage.items():
        for e, v in zip(E, arr.tolist(), strict=True):
            if v > 1e-9:
                rows.append(_row(year, "domestic_production_t", stage, e, v, "t"))
    va = dict.fromkeys(STAGES, 0.0)
    for fac, outs in produced.items():
        if fac not in net.facilities or country_of.get(fac) != focus or stage_of[fac] not in va:
            continue
        if net.facilities[fac].kind == "suppliers":  # bought in, not made here
            continue
        v_out = sum(float(np.dot(arr, values[c])) for c, arr in outs.items())
        v_in = sum(float(np.dot(arr, values[c])) for c, arr in consumed.get(fac, {}).items())
        va[stage_of[fac]] += v_out - v_in
    for stage, v in va.items():
        rows.append(_row(year, "domestic_value_added_usd", stage, "", v, "USD"))
    rows.append(_row(year, "domestic_value_added_usd", "total", "", sum(va.values()), "USD"))
    mined = np.zeros(n)
    for f in of_kind("mines"):
        if f.country == focus:
            mined += produced.get(f.name, {}).get(f.attrs["product"], np.zeros(n))
    raw = float(np.dot(mined, values["mrec"]))
    sep = float(np.dot(mined, values["oxide"]))
    rows.append(_row(year, "raw_export_value_usd", "total", "", raw, "USD"))
    home = np.zeros(n)  # the country's mined rare earths delivered to facilities in the country
    for link in y.problem.links:
        src = net.facilities.get(link.source)
        if (
            src is not None
            and src.kind == "mines"
            and src.country == focus
            and country_of.get(link.target) == focus
        ):
            home += sol.flow[link.name]
    share = float(home.sum() / mined.sum()) if mined.sum() > 1e-9 else math.nan
    if not math.isnan(share):
        rows.append(_row(year, "domestic_processing_share", "total", "", share, "fraction"))
    rows.append(
        _row(
            year,
            "value_capture_ratio",
            "total",
            "",
            sum(va.values()) / sep if sep > 0 else math.nan,
            "fraction",
        )
    )
    # feed sufficiency ------------------------------------------------------------------------------------
    for f in of_kind("refineries"):
        feed = sum((arr for arr in consumed.get(f.name, {}).values()), np.zeros(n))
        feed_t = float(feed.sum())
        avail = f.availability(year)
        cap = f.series("capacity", year) * avail
        share = math.nan
        if math.isfinite(cap) and cap > 0:
            share = feed_t / cap
        else:
            ndpr_cap = f.series("ndpr_capacity", year) * avail
            ox = produced.get(f.name, {}).get("oxide", np.zeros(n))
            ndpr = sum(float(ox[j]) for j, e in enumerate(E) if e in ("Nd", "Pr"))
            if math.isfinite(ndpr_cap) and ndpr_cap > 0:
                share = ndpr / ndpr_cap
        if not math.isnan(share):
            rows.append(_row(year, "feed_sufficiency", f.name, "", share, "fraction"))
        upstream = net.upstream_mines(f.name)
        left = sum(start_resource.get(mn, 0.0) for mn in upstream)
        if feed_t > 1e-9 and math.isfinite(left):
            rows.append(_row(year, "feed_years_left", f.name, "", left / feed_t, "yr"))
        if math.isfinite(cap) and cap > 0 and math.isfinite(left):
            rows.append(_row(year, "feed_years_at_capacity", f.name, "", left / cap, "yr"))
    # magnet self-sufficiency ------------------------------------------------------------------------------

    need = np.zeros(n)
    domestic = np.zeros(n)
    for f in of_kind("magnet_plants"):
        if f.country != focus:
            continue
        per_t, _ = magnet_need(f, E)
        need += per_t * f.series("capacity", year) * f.availability(year)
        for link in y.problem.links:
            if link.target == f.name and country_of.get(link.source) == focus:
                domestic += sol.flow[link.name]
    for e, nd, dm in zip(E, need.tolist(), domestic.tolist(), strict=True):
        if nd > 1e-9:
            rows.append(_row(year, "magnet_self_sufficiency", "", e, min(dm / nd, 1.0), "fraction"))
    # HHI by stage -----------------------------------------------------------------------------------------
    for stage in ("mining", "cracking", "separation", "metal", "magnet"):
        by_country: dict[str, float] = {}
        for fac, outs in produced.items():
            if stage_of.get(fac) != stage:
                continue
            main = "oxide" if stage == "separation" else None
            total = float(sum(arr.sum() for c, arr in outs.items() if main is None or c == main))
            by_country[country_of[fac]] = by_country.get(country_of[fac], 0.0) + total
        value = hhi(by_country)
        if not math.isnan(value):
            rows.append(_row(year, "hhi", stage, "", value, "index (0-1)"))
    # residues and reagents -------------------------------------------------------------------------------
    for pname, kinds in y.residues.items():
        fac = pname.split(":", 1)[0]
        used = float(sol.use[pname].sum())
        for kind, (t_per_t, bq) in kinds.items():
            rows.append(_row(year, "residue_produced_t", fac, "", used * t_per_t, "t", kind))
            rows.append(_row(year, "residue_produced_bq", fac, "", used * t_per_t * 1e6 * bq, "Bq", kind))
    for (fac, kind), t in state.residue_t.items():
        rows.append(_row(year, "residue_accumulated_t", fac, "", t, "t", kind))
        rows.append(_row(year, "residue_accumulated_bq", fac, "", state.residue_bq[(fac, kind)], "Bq", kind))
    for pname, per_t in y.reagents.items():
        fac = pname.split(":", 1)[0]
        used = float(sol.use[pname].sum())
        for reagent, t in per_t.items():
            rows.append(_row(year, "reagent_t", fac, "", used * t, "t", reagent))
    # royalties, smuggling, unmet demand, secondary supply ---------------------------------------------------
    for f in of_kind("mines"):
        out = produced.get(f.name, {}).get(f.attrs["product"])
        if out is not None and f.attrs["royalty_rate"] > 0:
            value = float(np.dot(out, values[f.attrs["product"]]))
            rows.append(_row(year, "royalties_usd", f.name, "", value * f.attrs["royalty_rate"], "USD"))
    for name, (pol, leak) in y.smuggled.items():
        if pol.unit_value is not None:  # the value it is traded at (USD/t TREO)
            value = float(leak.sum()) * pol.unit_value.at(year)
        else:
            dest = net.facilities[pol.destination]
            value = float(np.dot(leak, dest.attrs["price_factor"] * values[pol.commodity]))
        rows.append(_row(year, "smuggled_t", name, "", float(leak.sum()), "t"))
        rows.append(_row(year, "smuggling_loss_usd", name, "", value * pol.lost_revenue_rate, "USD"))
    for k in y.problem.markets:
        if k.demand is None:
            continue
        unmet = sol.unmet[k.name].tolist()
        for e, d, u in zip(E, np.asarray(k.demand, dtype=float).tolist(), unmet, strict=True):
            if d > 1e-9:
                rows.append(_row(year, "unmet_demand_t", k.name, e, u, "t"))
    for f in of_kind("recyclers"):
        out = produced.get(f.name, {}).get("oxide", np.zeros(n))
        for e, v in zip(E, out.tolist(), strict=True):
            if v > 1e-9:
                rows.append(_row(year, "secondary_supply_t", f.name, e, v, "t"))
    return rows
