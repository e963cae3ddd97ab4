"""The separation train: an ordered tree of solvent-extraction cuts, each designed for the feed it receives.

Each cut (e.g. ``Ce|Pr``: La, Ce to the raffinate; Pr and heavier to the loaded organic/extract) receives the
actual stream from upstream, is designed by the cascade engine (:func:`mine2magnet.separation.design`) to meet
its targets, and the **verified simulation's** outlet split (not the targets) is what flows downstream. Minor
components are kept. Non-rare-earth elements left after purification are not extracted at SX pH and leave with
the first cut's raffinate to effluent treatment.

Reagents follow from the designed flows (derived): loading S mol/h of RE on the organic exchanges 3S mol/h of
protons, neutralised by pre-saponifying the organic (base = 3 S x degree); stripping it takes 3 S x excess
mol/h of HCl. Circuit size: mixer-settler volume = stage count x phase flow x residence time, with volume
flows from assumed organic loading and aqueous concentrations; the strip section (not designed by the cascade
engine) has an assumed number of stages carrying the loaded organic and the strip liquor.

Energy: SX electricity (mixing, pumping) per kg of REO entering the train, once for the whole train (sourced
estimate, ``process.energy.sx_electricity``).

The loaded-separation-factor model is homogeneous of degree one in the flows (only ratios enter), so each cut
is designed for its feed normalised to 100 mol/h and scaled back; designs are cached by normalised feed, in
the process and on disk (:mod:`mine2magnet.separation.cascade_design.cache`: a user cache folder, or
``$MINE2MAGNET_CACHE``; ``MINE2MAGNET_CACHE=off`` disables it).
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mine2magnet.elements import ELEMENTS, RARE_EARTHS
from mine2magnet.errors import ConvergenceError, InfeasibleError, InputError
from mine2magnet.process import species
from mine2magnet.process.parameters import ParameterSet
from mine2magnet.process.stream import Stream
from mine2magnet.process.unit import UnitResult

#: Feed flow the designs are normalised to, mol/h.
DESIGN_BASIS_MOL_PER_H = 100.0
#: Organic flows (multiples of the minimum) the refinery asks the cut designer to try: a coarser trade-off
#: than the designer's default ladder, so a flowsheet of several cuts runs in seconds.
REFINERY_FLOW_LADDER = (1.15, 1.4, 2.0)
#: Components below this share of a cut's feed are dropped from the design and follow their side of the cut.
TRACE_SHARE = 1e-9


@dataclass(frozen=True)
class CutSpec:
    """One cut of the train (from the flowsheet file).

    Attributes:
        id: cut id.
        cut: "Light|Heavy" (last raffinate-side | first extract-side element, in extractability order).
        feed: "train" or "<cut id>.raffinate" / "<cut id>.extract".
        targets: {raffinate: {purity?, recovery?}, extract: {purity?, recovery?}} as in a design spec.
        raffinate, extract: where each outlet goes: a product name or a cut id (then that cut's feed must
            name this outlet).
    """

    id: str
    cut: str
    feed: str
    targets: Mapping[str, Mapping[str, float]]
    raffinate: str
    extract: str
    optional: bool = False


def _order(betas: Mapping[str, float]) -> list[str]:
    return sorted(betas, key=lambda c: betas[c])


def _resolve_cut(cut: str, full_betas: Mapping[str, float], present: list[str], cut_id: str) -> str:
    """The cut restated on the components present: last present at or below Light | first present at or above
    Heavy. Raises InfeasibleError if one side is empty."""
    left, right = (s.strip() for s in cut.split("|"))
    for name in (left, right):
        if name not in full_betas:
            raise InputError(f"cut {cut!r}: {name!r} has no separation factor", field=f"cuts.{cut_id}.cut")
    bl, br = full_betas[left], full_betas[right]
    raff = [c for c in present if full_betas[c] <= bl]
    ext = [c for c in present if full_betas[c] >= br]
    if not raff or not ext:
        side = "raffinate" if not raff else "extract"
        raise InfeasibleError(
            f"cut {cut_id} ({cut}): the feed it receives holds no {side}-side rare earth "
            f"(present: {', '.join(present) or 'none'}); its product cannot be made"
        )
    return f"{max(raff, key=lambda c: full_betas[c])}|{min(ext, key=lambda c: full_betas[c])}"


@lru_cache(maxsize=512)
def _design_cached(spec_json: str) -> dict[str, Any]:
    # the cascade designer behind its persistent cache (mine2magnet.separation.cascade_design.cache: a design
    # made by this code for this normalised cut is read back, not redone), imported when a cut is first
    # designed
    cached_design = importlib.import_module("mine2magnet.separation.cascade_design.cache").cached_design

    return cached_design(json.loads(spec_json), flow_ladder=REFINERY_FLOW_LADDER)


def design_cut(
    cut_id: str, cut: str, feed_mol_per_h: Mapping[str, float], betas: Mapping[str, float], targets: Mapping
) -> dict[str, Any]:
    """Design one cut for a feed (mol/h), returning the design's ``to_dict()`` scaled to the actual feed."""
    total = math.fsum(feed_mol_per_h.values())
    scale = total / DESIGN_BASIS_MOL_PER_H
    comps = _order({c: betas[c] for c in feed_mol_per_h})
    spec = {
        "components": comps,
        "model": {"type": "loaded-separation-factor", "separation_factors": {c: betas[c] for c in comps}},
        "feed": {"phase": "aqueous", "flow": {c: round(feed_mol_per_h[c] / scale, 12) for c in comps}},
        "cut": cut,
        "targets": {k: dict(v) for k, v in targets.items()},
    }
    try:
        result = _design_cached(json.dumps(spec, sort_keys=True))
    except ImportError as exc:
        raise InfeasibleError(f"cut {cut_id}: the cascade design engine is not available ({exc})") from None
    except InfeasibleError as exc:
        raise InfeasibleError(f"cut {cut_id} ({cut}): {exc}") from None
    verified = result.get("verified", {})
    if not verified.get("converged", False):
        raise ConvergenceError(f"cut {cut_id} ({cut}): the verified simulation did not converge")
    return {"design": result, "scale": scale}


def _split_from_verified(verified: Mapping[str, Any]) -> dict[str, float]:
    """Share of each component leaving in the raffinate, from the verified simulation's outlet flows."""
    outlets = verified["outlets"]
    raff = outlets["raffinate"]["flow"]
    ext_name = "strip_liquor" if "strip_liquor" in outlets else "loaded_organic"
    ext = outlets[ext_name]["flow"]
    shares = {}
    for c in set(raff) | set(ext):
        r, e = float(raff.get(c, 0.0)), float(ext.get(c, 0.0))
        shares[c] = r / (r + e) if r + e > 0.0 else 0.0
    return shares


def separation_train(
    unit_id: str,
    inlet: Stream,
    cuts: list[CutSpec],
    betas: Mapping[str, float],
    params: ParameterSet,
    saponification_base: str = "NaOH",
) -> tuple[UnitResult, dict[str, Stream], list[dict[str, Any]]]:
    """Run the train on `inlet`. Returns (unit result, product streams by name, circuit records)."""
    hours = params.value("process.operating_hours_per_year", "h")
    c_org = params.value("process.sx.organic_loading_mol_per_l", "mol/L")
    c_aq = params.value("process.sx.aqueous_re_mol_per_l", "mol/L")
    t_res = params.value("process.sx.mixer_residence_time", "min") + params.value(
        "process.sx.settler_residence_time", "min"
    )
    strip_excess = params.value("process.sx.strip_acid_excess", "mol/mol")
    sapon = params.value("process.sx.saponification_degree", "fraction")
    loss_l_per_m3 = params.value("process.sx.organic_loss_l_per_m3", "L/m**3")
    extractant_share = params.value("process.sx.extractant_volume_fraction", "fraction")
    rho = params.value("process.sx.organic_density", "kg/L")
    n_strip = round(params.value("process.sx.strip_stages", "dimensionless"))
    sx_kwh_per_kg = params.value("process.energy.sx_electricity", "kWh/kg")

    re_in = inlet.select(RARE_EARTHS, "train feed")
    others = Stream(
        "SX effluent", {s: v for s, v in inlet.elements.items() if s not in RARE_EARTHS}, inlet.ions
    )
    missing = sorted(s for s in re_in.elements if s not in betas and re_in.get(s) > 0.0)
    if missing:
        raise InputError(
            f"no separation factor for {', '.join(missing)}", field=f"units.{unit_id}.separation_factors"
        )

    streams: dict[str, Stream] = {"train": re_in}
    products: dict[str, Stream] = {}
    circuits: list[dict[str, Any]] = []
    strip_hcl_kmol = 0.0
    base_kmol = 0.0
    aqueous_m3 = 0.0
    pending = list(cuts)
    while pending:
        ready = [c for c in pending if c.feed in streams]
        if not ready:
            raise InputError(
                f"cuts {[c.id for c in pending]} are fed by outlets that no cut produces",
                field=f"units.{unit_id}.cuts",
            )
        for cs in ready:
            pending.remove(cs)
            feed = streams.pop(cs.feed)
            mol_h = feed.mol_per_h(hours)
            total = math.fsum(mol_h.values())
            present = [c for c, v in mol_h.items() if total > 0 and v / total > TRACE_SHARE]
            cut_ids = {c.id for c in cuts}
            try:
                cut = _resolve_cut(cs.cut, betas, present, cs.id)
            except InfeasibleError:
                if not cs.optional:
                    raise
                # nothing to separate: everything goes to the side that is present
                bl = betas[cs.cut.split("|")[0].strip()]
                to_raff = all(betas[c] <= bl for c in present)
                raff, ext = feed.split({s: 1.0 if to_raff else 0.0 for s in feed.elements}, "r", "e")
                for name, stream in (
                    (cs.raffinate, raff.renamed(f"{cs.id}.raffinate")),
                    (cs.extract, ext.renamed(f"{cs.id}.extract")),
                ):
                    if name in cut_ids:
                        streams[stream.name] = stream
                    else:
                        products[name] = stream.renamed(name)
                circuits.append(
                    {
                        "cut": cs.id,
                        "split": cs.cut,
                        "stages": 0,
                        "strip_stages": 0,
                        "skipped": "one side of the cut is absent from its feed",
                        "mixer_settler_volume_m3": 0.0,
                        "organic_l_per_h": 0.0,
                    }
                )
                continue
            out = design_cut(cs.id, cut, {c: mol_h[c] for c in present}, betas, cs.targets)
            d, scale = out["design"], out["scale"]
            shares = _split_from_verified(d["verified"])
            bl = betas[cut.split("|")[0]]
            fractions = {
                s: shares.get(s, 1.0 if betas.get(s, math.inf) <= bl else 0.0) for s in feed.elements
            }
            raff, ext = feed.split(fractions, f"{cs.id}.raffinate", f"{cs.id}.extract")
            for name, stream in ((cs.raffinate, raff), (cs.extract, ext)):
                if name in cut_ids:
                    streams[stream.name] = stream
                else:
                    products[name] = stream.renamed(name)
            s_org = float(d["organic"]["ree_flow"]) * scale  # mol/h RE on the loaded organic
            w_scrub = float(d["scrub"]["ree_flow"]) * scale
            q_org = s_org / c_org  # L/h
            q_feed = total / c_aq
            q_scrub = w_scrub / c_aq
            q_strip = s_org / c_aq
            n_ext = int(d["stages"]["extraction"])
            n_scrub = int(d["stages"]["scrub"])
            volume_l = (n_ext * (q_org + q_feed + q_scrub) + n_scrub * (q_org + q_scrub)) * t_res / 60.0
            strip_l = n_strip * (q_org + q_strip) * t_res / 60.0
            strip_hcl_kmol += 3.0 * s_org * strip_excess * hours / 1000.0
            base_kmol += 3.0 * s_org * sapon * hours / 1000.0
            aqueous_m3 += (q_feed + q_scrub + q_strip) * hours / 1000.0
            verified = d["verified"]
            circuits.append(
                {
                    "cut": cs.id,
                    "split": cut,
                    "stages": n_ext + n_scrub,
                    "extraction_stages": n_ext,
                    "scrub_stages": n_scrub,
                    "feed_stage": d.get("feed_stage"),
                    "feed_mol_per_h": total,
                    "organic_ree_mol_per_h": s_org,
                    "scrub_ree_mol_per_h": w_scrub,
                    "organic_l_per_h": q_org,
                    "aqueous_l_per_h": q_feed + q_scrub,
                    "strip_liquor_l_per_h": q_strip,
                    "strip_stages": n_strip,
                    "mixer_settler_volume_m3": (volume_l + strip_l) / 1000.0,
                    "extraction_scrub_volume_m3": volume_l / 1000.0,
                    "strip_volume_m3": strip_l / 1000.0,
                    "minimum": d.get("minimum"),
                    "purity": {
                        "raffinate": verified["outlets"]["raffinate"].get("purity"),
                        "extract": (
                            verified["outlets"].get("strip_liquor") or verified["outlets"]["loaded_organic"]
                        ).get("purity"),
                    },
                    "converged": verified.get("converged"),
                    "iterations": verified.get("iterations"),
                    "mass_balance_error": verified.get("mass_balance_error"),
                    "stage_profile": _profile(verified, scale),
                    "targets": {k: dict(v) for k, v in cs.targets.items()},
                    "raffinate_to": cs.raffinate,
                    "extract_to": cs.extract,
                }
            )
    if streams:
        raise InputError(
            f"outlets {sorted(streams)} are neither products nor fed to a cut", field=f"units.{unit_id}.cuts"
        )
    reagents = {"HCl": strip_hcl_kmol * species.molar_mass("HCl") / 1000.0}
    reagent_el = Stream("saponification")
    if saponification_base not in species.BASE_EQUIVALENTS:
        raise InputError(
            f"unknown saponification base {saponification_base!r}; "
            f"expected one of {sorted(species.BASE_EQUIVALENTS)}",
            field=f"units.{unit_id}.saponification_base",
        )
    base_formula_kmol = base_kmol / species.BASE_EQUIVALENTS[saponification_base]
    reagents[saponification_base] = base_formula_kmol * species.molar_mass(saponification_base) / 1000.0
    metal = {"NaOH": "Na", "MgO": "Mg", "CaO": "Ca"}.get(saponification_base)
    if metal:
        reagent_el = Stream(
            "saponification", {metal: base_formula_kmol * ELEMENTS[metal].atomic_weight / 1000.0}
        )
    organic_lost_l = aqueous_m3 * loss_l_per_m3
    reagents["extractant"] = organic_lost_l * extractant_share * rho / 1000.0
    reagents["diluent"] = organic_lost_l * (1.0 - extractant_share) * rho / 1000.0
    effluent = Stream(
        "SX effluent",
        {**others.elements, **{k: others.get(k) + v for k, v in reagent_el.elements.items()}},
        {"SO4": others.ions.get("SO4", 0.0), "Cl": others.ions.get("Cl", 0.0) + strip_hcl_kmol},
    )
    result = UnitResult(
        unit_id,
        "separation-train",
        inlet,
        Stream("train outlet"),
        side={"SX effluent": effluent, **{f"product:{k}": v for k, v in products.items()}},
        reagents=reagents,
        reagent_elements=reagent_el,
        throughput=("t/yr REO", inlet.reo_t_per_yr()),
        energy_kwh_per_yr={"electricity": sx_kwh_per_kg * inlet.reo_t_per_yr() * 1000.0},
        detail={"circuits": len(circuits)},
    )
    return result, products, circuits


def _profile(verified: Mapping[str, Any], scale: float) -> list[dict[str, Any]]:
    """Stage profile (aqueous composition per stage) for charts, if the simulation reports one."""
    stages = verified.get("stages") or []
    out = []
    for k, st in enumerate(stages):
        if not isinstance(st, Mapping):
            continue
        aq = st.get("aqueous") or st.get("aqueous_flow") or {}
        if isinstance(aq, Mapping) and "flow" in aq:
            aq = aq["flow"]
        if isinstance(aq, Mapping):
            out.append(
                {
                    "stage": st.get("stage", k + 1),
                    "aqueous_mol_per_h": {c: float(v) * scale for c, v in aq.items()},
                }
            )
    return out
