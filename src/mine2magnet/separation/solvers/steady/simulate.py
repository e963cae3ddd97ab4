"""``simulate(spec)``: solve one cascade with the spec's equilibrium model and return a CascadeResult.

Dispatches on ``spec.model.type``. The strip section is downstream of the extraction+scrub sections (fed by
the loaded organic, with its own aqueous loop), so it is solved after them with the loaded organic as inlet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from dataclasses import replace as dataclass_replace
from pathlib import Path
from typing import Any

import numpy as np

from mine2magnet.errors import ConvergenceError, InputError
from mine2magnet.separation.contract.result import CascadeResult
from mine2magnet.separation.contract.spec import (
    CascadeSpec,
    ConstantDistributionModel,
    EmpiricalPhModel,
    ExtractantParameters,
    LoadedSeparationFactorModel,
    MassActionModel,
    load_spec,
)
from mine2magnet.separation.equilibrium.distribution import EmpiricalPh, MassAction
from mine2magnet.separation.solvers.steady import counter_ion as counter_ions
from mine2magnet.separation.solvers.steady.binary_lsf import BinaryCascade, binary_profiles, solve_binary_lsf
from mine2magnet.separation.solvers.steady.linear_cascade import outlet_streams, solve_linear_cascade
from mine2magnet.separation.solvers.steady.loaded_separation_factor import TOLERANCE, solve_lsf
from mine2magnet.separation.solvers.steady.stagewise import (
    NEGLIGIBLE,
    StagewiseProblem,
    StagewiseSolution,
    metal_free_solution,
    solve_stagewise,
    with_aqueous_chemistry,
)

#: Every solve must close each component's mass balance to this relative error.
MASS_BALANCE_TOLERANCE = 1e-9


def simulate(
    spec: CascadeSpec | Mapping[str, Any] | str | Path, *, initial: CascadeResult | None = None
) -> CascadeResult:
    """Simulate a cascade at steady state.

    Args:
        spec: a CascadeSpec, its dict form, or a path to a YAML/JSON spec file.
        initial: optional warm start for the physical models (empirical-ph, mass-action): the result of a
            neighbouring cascade with the same components (other flows or stage counts). Its stage profiles
            are resampled to this cascade's sections (see :func:`warm_profile`) and the stage-wise Newton
            starts from them; if that does not converge the solve starts cold. The answer is the same
            either way (same equations, same convergence and balance checks); ignored by the other models.

    Returns:
        CascadeResult with stage profiles (mol/h), outlets, recoveries, convergence and mass-balance error.

    Raises:
        InputError: missing or inconsistent fields (names the field), or flows that cannot carry the feed.
        ConvergenceError: the solver did not converge (carries the residual); never returns numbers then.
    """
    spec = load_spec(spec)
    if spec.stages is None:
        raise InputError("simulate needs the number of stages", field="stages")
    model = spec.model
    if isinstance(model, LoadedSeparationFactorModel):
        return _simulate_lsf(spec, model)
    if isinstance(model, ConstantDistributionModel):
        return _simulate_constant(spec, model)
    return _simulate_physical(spec, initial)


def _sections(spec: CascadeSpec) -> tuple[str, ...]:
    assert spec.stages is not None
    st = spec.stages
    return ("extraction",) * st.extraction + ("scrub",) * st.scrub + ("strip",) * st.strip


def stage_efficiency(
    spec: CascadeSpec, sections: tuple[str, ...], aqueous: np.ndarray, organic: np.ndarray
) -> np.ndarray:
    """Murphree efficiency of each stage (organic phase): the section's fixed value, or the kinetic
    1 - exp(-k tau) with tau = mixer_volume / (Va_k + Vo_k), from the volume flows leaving each stage, L/h."""
    return np.array(
        [
            spec.efficiency.at(sec, float(va), float(vo))
            for sec, va, vo in zip(sections, aqueous, organic, strict=True)
        ]
    )


def stage_entrainment(spec: CascadeSpec, sections: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per stage: L of aqueous entrained per L of organic leaving, and L of organic per L of aqueous."""
    ent = [spec.entrainment.of(sec) for sec in sections]
    return (
        np.array([e.aqueous_in_organic for e in ent], dtype=float),
        np.array([e.organic_in_aqueous for e in ent], dtype=float),
    )


def _no_entrainment(spec: CascadeSpec, model_name: str) -> None:
    """InputError when a model without entrainment is given some."""
    if spec.entrainment.any:
        sec = next(
            s
            for s in ("extraction", "scrub", "strip")
            if spec.entrainment.of(s).aqueous_in_organic > 0 or spec.entrainment.of(s).organic_in_aqueous > 0
        )
        raise InputError(
            f"entrainment is modelled with the constant-distribution model, not yet with {model_name}",
            field=f"entrainment.{sec}",
        )


def _feed_vector(spec: CascadeSpec) -> np.ndarray:
    flow = spec.feed.component_flow(spec.components)
    f = np.array([flow[c] for c in spec.components])
    if not f.sum() > 0:
        raise InputError("the feed carries no metal", field="feed")
    return f


def _check_balance(result_in: np.ndarray, terminal: list[np.ndarray]) -> float:
    """The worst component's balance error relative to its own inflow (mol/h in - out, / in): a trace
    element off by a part in 1e7 of its inflow shows as 1e-7, not hidden in the total. A component with no
    inflow is measured against the total inflow."""
    out = terminal[0]
    for flow in terminal[1:]:
        out = out + flow
    own = np.where(result_in > 0, result_in, max(float(result_in.sum()), np.finfo(float).tiny))
    return float((np.abs(result_in - out) / own).max())


#: Stage flows this many times the inflow mean metal trapped between the sections of a linear cascade.
TRAPPED_FACTOR = 1e4


def _held(aq: np.ndarray, org: np.ndarray, inflow: np.ndarray) -> float:
    """The largest stage flow of a component over that component's own inflow (stages x components)."""
    largest = np.maximum(aq.max(axis=0), org.max(axis=0))
    has = inflow > 0
    return float((largest[has] / inflow[has]).max()) if has.any() else 0.0


def _trapped(message: str, held: float) -> str:
    """``message``, with the reason when the cascade traps metal: with constant distribution ratios nothing
    bounds the inventory between extraction and scrub, and flows many orders above the inflow cannot be
    balanced in double precision."""
    if held <= TRAPPED_FACTOR:
        return message
    return (
        f"{message}: metal is trapped between the sections (a component's stage flows reach {held:.1e} times "
        "its inflow); "
        "with constant distribution ratios nothing bounds that inventory, where a real organic saturates: "
        "raise the scrub's or lower the extraction's distribution ratios, or use a loading-limited model "
        "(mass-action, empirical-ph, loaded-separation-factor)"
    )


# ---------------------------------------------------------------------------------------------- LSF


def _lsf_totals(spec: CascadeSpec, S: float, W: float, f: np.ndarray) -> None:
    """Check that the fixed stage totals are all positive (the flows can carry the feed); InputError if not.

    Same totals as :func:`stage_totals`, in scalars: raffinate W + F - S, loaded organic S - W, organic
    S - F below an organic feed, aqueous W above the feed.
    """
    assert spec.stages is not None
    N = spec.stages.extraction + spec.stages.scrub
    fs = spec.feed.stage
    F = float(f.sum())
    raffinate = W + F - S
    if raffinate <= 0:
        raise InputError(
            f"the flows cannot carry the feed: the raffinate would carry W + F - S = {raffinate:.6g} mol/h "
            f"(S = {S:g}, W = {W:g}, F = {F:g}); lower S or raise W",
            field="organic.ree_flow",
        )
    if S - W <= 0:
        raise InputError(
            f"the loaded organic would carry S - W = {S - W:.6g} mol/h; S must exceed W",
            field="scrub.ree_flow",
        )
    organic_feed = spec.feed.phase == "organic"
    if organic_feed and fs > 1 and S - F <= 0:
        raise InputError(
            "the organic feed exceeds S: the organic below the feed stage would carry no metal",
            field="organic.ree_flow",
        )
    # aqueous above the feed (or above stage 1 for an organic feed) carries W
    if W <= 0 and (1 if organic_feed else fs) < N:
        raise InputError("an aqueous stage flow is not positive", field="scrub.ree_flow")


def lsf_flows(spec: CascadeSpec, m: int) -> tuple[float, float, np.ndarray]:
    """The loaded-separation-factor model's molar flows: S (organic) and W (scrub liquor), mol/h, and the
    feed vector (mol/h by component), checked to carry the feed through `m` scrub stages (InputError)."""
    if spec.organic is None or spec.organic.ree_flow is None:
        raise InputError("the loaded-separation-factor model needs S, mol/h", field="organic.ree_flow")
    S = spec.organic.ree_flow
    W = spec.scrub.ree_flow if spec.scrub is not None and spec.scrub.ree_flow is not None else None
    if m > 0 and W is None:
        raise InputError("a scrub section needs W, mol/h", field="scrub.ree_flow")
    W = W or 0.0
    if m == 0 and W > 0:
        raise InputError("scrub liquor W > 0 but there are no scrub stages", field="scrub.ree_flow")
    f = _feed_vector(spec)
    _lsf_totals(spec, S, W, f)
    return S, W, f


def _simulate_lsf(spec: CascadeSpec, model: LoadedSeparationFactorModel) -> CascadeResult:
    assert spec.stages is not None
    comps = spec.components
    m, p = spec.stages.scrub, spec.stages.strip
    eff = spec.efficiency
    if eff.kinetic:
        raise InputError(
            "a kinetic efficiency needs volume flows (mixer residence times): give the loaded-separation-"
            "factor model a fixed Murphree efficiency per section",
            field="efficiency.rate_constant",
        )
    _no_entrainment(spec, "the loaded-separation-factor model (it has no volume flows)")
    S, W, f = lsf_flows(spec, m)
    present = f > 0
    beta = np.array([model.separation_factors[c] for c in comps])
    solved = _solve_lsf_binary(spec, beta, f, S, W) if int(present.sum()) == 2 else None
    if solved is None:
        solved = _solve_lsf_general(spec, beta, f, present, S, W)
    aq, org, iterations, residual = solved
    eta = np.array([eff.of(sec) for sec in _sections(spec)[: len(aq)]])
    if (eta != 1.0).any():
        aq, org, it, residual = _lsf_murphree(spec, beta, f, present, S, W, eta, aq, org)
        iterations += it
    outlets = {"raffinate": aq[0].copy(), "loaded_organic": org[-1].copy()}
    terminal: tuple[str, ...] = ("raffinate", "loaded_organic")
    inlet = None
    if p > 0:
        s_aq, s_org = _lsf_strip(spec, org[-1], p)
        aq = np.vstack([aq, s_aq])
        org = np.vstack([org, s_org])
        outlets["strip_liquor"] = s_aq[0].copy()
        outlets["stripped_organic"] = s_org[-1].copy()
        terminal = ("raffinate", "strip_liquor", "stripped_organic")
        if spec.strip is not None and spec.strip.volume_flow:
            inlet = np.array([spec.strip.concentration.get(c, 0.0) for c in comps]) * spec.strip.volume_flow
    mbe = _check_balance(f if inlet is None else f + inlet, [outlets[t] for t in terminal])
    if mbe > MASS_BALANCE_TOLERANCE:
        raise ConvergenceError(f"mass balance not closed (relative error {mbe:.2e})", residual=mbe)
    return CascadeResult(
        components=comps,
        sections=_sections(spec),
        aqueous=aq,
        organic=org,
        feed=f,
        outlets=outlets,
        terminal_outlets=terminal,
        converged=True,
        iterations=iterations,
        mass_balance_error=mbe,
        residual=residual,
        model=model.type,
        inlet_metal=inlet if inlet is not None and inlet.any() else None,
    )


def _solve_lsf_binary(
    spec: CascadeSpec, beta: np.ndarray, f: np.ndarray, S: float, W: float
) -> tuple[np.ndarray, np.ndarray, int, float] | None:
    """Two components with feed: the exact scalar formulation (binary_lsf); None if it did not converge."""
    assert spec.stages is not None
    N = spec.stages.extraction + spec.stages.scrub
    fs = spec.feed.stage
    i0, i1 = (int(i) for i in np.flatnonzero(f > 0))
    ia, ib = (i1, i0) if beta[i1] >= beta[i0] else (i0, i1)
    F = float(f[i0] + f[i1])
    cascade = BinaryCascade(
        beta=float(beta[ia] / beta[ib]),
        feed_a=float(f[ia]),
        feed_b=float(f[ib]),
        stages=N,
        feed_stage=fs,
        raffinate_total=W + F - S,
        loaded_total=S - W,
        organic_below=S - F if spec.feed.phase == "organic" else S,
        aqueous_above=W,
    )
    sol = solve_binary_lsf(cascade)
    if not sol.converged:
        return None
    a_ab, o_ab, residual = binary_profiles(cascade, sol)
    if not residual < TOLERANCE:
        return None
    aq = np.zeros((N, len(f)))
    org = np.zeros((N, len(f)))
    aq[:, [ia, ib]] = a_ab
    org[:, [ia, ib]] = o_ab
    return aq, org, sol.iterations, residual


def _solve_lsf_general(
    spec: CascadeSpec, beta: np.ndarray, f: np.ndarray, present: np.ndarray, S: float, W: float
) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Any number of components: the block-tridiagonal Newton solver (loaded_separation_factor)."""
    assert spec.stages is not None
    N = spec.stages.extraction + spec.stages.scrub
    fa = np.zeros((1, N, int(present.sum())))
    fo = np.zeros_like(fa)
    (fa if spec.feed.phase == "aqueous" else fo)[0, spec.feed.stage - 1] = f[present]
    sol = solve_lsf(beta[None, present], fa, fo, np.array([S]), np.array([W]))
    if not sol.converged[0]:
        raise ConvergenceError(
            "loaded-separation-factor cascade did not converge",
            residual=float(sol.residual[0]),
            iterations=int(sol.iterations[0]),
        )
    aq = np.zeros((N, len(f)))
    org = np.zeros((N, len(f)))
    aq[:, present] = sol.aqueous[0]
    org[:, present] = sol.organic[0]
    return aq, org, int(sol.iterations[0]), float(sol.residual[0])


def _lsf_murphree(
    spec: CascadeSpec,
    beta: np.ndarray,
    f: np.ndarray,
    present: np.ndarray,
    S: float,
    W: float,
    eta: np.ndarray,
    aq: np.ndarray,
    org: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int, float]:
    """The cascade with Murphree stages (organic composition, Xu's totals), from its ideal solution."""
    from mine2magnet.separation.solvers.steady.loaded_separation_factor import stage_totals
    from mine2magnet.separation.solvers.steady.lsf_murphree import solve_lsf_murphree

    N = len(eta)
    fa = np.zeros((N, int(present.sum())))
    fo = np.zeros_like(fa)
    (fa if spec.feed.phase == "aqueous" else fo)[spec.feed.stage - 1] = f[present]
    _A, O = stage_totals(np.array([S]), np.array([W]), fa[None], fo[None])
    sol = solve_lsf_murphree(beta[present], fa + fo, O[0], eta, aq[:, present], org[:, present])
    aq2 = np.zeros_like(aq)
    org2 = np.zeros_like(org)
    aq2[:, present] = sol.aqueous
    org2[:, present] = sol.organic
    return aq2, org2, sol.iterations, sol.residual


def _lsf_strip(spec: CascadeSpec, loaded: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Strip section behind an LSF cascade: complete strip, or constant strip D with volume flows."""
    strip = spec.strip
    C = len(spec.components)
    if strip is None:
        raise InputError(
            "a strip section needs `strip: {complete: true}` or strip D and flows", field="strip"
        )
    if strip.complete:
        aq = np.zeros((p, C))
        aq[0] = loaded
        return aq, np.zeros((p, C))
    if strip.distribution_ratios is None or strip.volume_flow is None or strip.organic_volume_flow is None:
        raise InputError(
            "give `complete: true`, or `distribution_ratios`, `volume_flow` and `organic_volume_flow`",
            field="strip",
        )
    missing = [c for c in spec.components if c not in strip.distribution_ratios]
    if missing:
        raise InputError(f"missing component(s) {missing}", field="strip.distribution_ratios")
    D = np.array([[strip.distribution_ratios[c]] * p for c in spec.components])
    inlet = np.array([strip.concentration.get(c, 0.0) for c in spec.components]) * strip.volume_flow
    a, o = solve_linear_cascade(
        D,
        np.full((C, p), strip.volume_flow),
        np.full((C, p), strip.organic_volume_flow),
        np.zeros((C, p)),
        inlet,
        loaded,
        spec.efficiency.strip,
    )
    return a.T, o.T


# ---------------------------------------------------------------------------------------------- constant D


def _volume_profile(spec: CascadeSpec, N: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Aqueous and organic volume flows leaving stages 1..N (L/h), organic inlet volume, scrub volume."""
    if spec.organic is None or spec.organic.volume_flow is None:
        raise InputError("this model needs the organic volume flow, L/h", field="organic.volume_flow")
    vorg = spec.organic.volume_flow
    vscrub = spec.scrub.volume_flow if spec.scrub is not None and spec.scrub.volume_flow else 0.0
    assert spec.stages is not None
    if spec.stages.scrub > 0 and vscrub <= 0:
        raise InputError("a scrub section needs the scrub liquor volume flow, L/h", field="scrub.volume_flow")
    vfeed = spec.feed.volume_flow
    if vfeed is None:
        raise InputError("this model needs the feed volume flow, L/h", field="feed.volume_flow")
    k = np.arange(1, N + 1)
    fs = spec.feed.stage
    if spec.feed.phase == "aqueous":
        Va = vscrub + np.where(k <= fs, vfeed, 0.0)
        Vo = np.full(N, vorg)
    else:
        Va = np.full(N, vscrub)
        Vo = vorg + np.where(k >= fs, vfeed, 0.0)
    if (Va <= 0).any():
        raise InputError(
            "stages above the feed carry no aqueous phase: add a scrub liquor or feed the last stage",
            field="scrub.volume_flow",
        )
    return Va, Vo, vorg, vscrub


def _section_D(model: ConstantDistributionModel, spec: CascadeSpec, section: str) -> np.ndarray:
    table = model.distribution_ratios.get(section)
    if table is None:
        raise InputError(
            f"no distribution ratios for the {section} section", field=f"model.distribution_ratios.{section}"
        )
    missing = [c for c in spec.components if c not in table]
    if missing:
        raise InputError(f"missing component(s) {missing}", field=f"model.distribution_ratios.{section}")
    return np.array([table[c] for c in spec.components])


def _simulate_constant(spec: CascadeSpec, model: ConstantDistributionModel) -> CascadeResult:
    assert spec.stages is not None
    comps = spec.components
    C = len(comps)
    n, m, p = spec.stages.extraction, spec.stages.scrub, spec.stages.strip
    N = n + m
    f = _feed_vector(spec)
    Va, Vo, vorg, vscrub = _volume_profile(spec, N)
    sections = _sections(spec)
    D = np.stack([_section_D(model, spec, sections[k]) for k in range(N)], axis=1)  # (C, N)
    eta = stage_efficiency(spec, sections[:N], Va, Vo)
    ea, eo = stage_entrainment(spec, sections[:N])
    feed = np.zeros((C, N))
    feed[:, spec.feed.stage - 1] = f
    org_in = (
        np.array([spec.organic.concentration.get(c, 0.0) for c in comps]) * vorg
        if spec.organic
        else np.zeros(C)
    )
    scrub_in = (
        np.array([spec.scrub.concentration.get(c, 0.0) for c in comps]) * vscrub
        if spec.scrub is not None
        else np.zeros(C)
    )
    a, o = solve_linear_cascade(
        D, Va[None], Vo[None], feed, scrub_in, org_in, eta[None], vorg, ea[None], eo[None]
    )
    raffinate, loaded = outlet_streams(a, o, Va[None], Vo[None], ea[None], eo[None])
    aq, org = a.T.copy(), o.T.copy()
    outlets = {"raffinate": raffinate, "loaded_organic": loaded}
    terminal = ["raffinate", "loaded_organic"]
    inlet = org_in + scrub_in
    if p > 0:
        strip = spec.strip
        if strip is None or strip.volume_flow is None:
            raise InputError(
                "a strip section needs the strip liquor volume flow, L/h", field="strip.volume_flow"
            )
        Ds = _section_D(model, spec, "strip")
        strip_in = np.array([strip.concentration.get(c, 0.0) for c in comps]) * strip.volume_flow
        Vs_a, Vs_o = np.full(p, strip.volume_flow), np.full(p, Vo[-1])
        s_eta = stage_efficiency(spec, ("strip",) * p, Vs_a, Vs_o)
        s_ea, s_eo = stage_entrainment(spec, ("strip",) * p)
        # the aqueous the loaded organic entrains joins the strip liquor of the first strip stage
        s_feed = np.zeros((C, p))
        s_feed[:, 0] = loaded - org[-1]
        sa, so = solve_linear_cascade(
            np.repeat(Ds[:, None], p, axis=1),
            np.broadcast_to(Vs_a, (C, p)),
            np.broadcast_to(Vs_o, (C, p)),
            s_feed,
            strip_in,
            org[-1],
            s_eta[None],
            None,
            s_ea[None],
            s_eo[None],
        )
        strip_liquor, stripped = outlet_streams(sa, so, Vs_a[None], Vs_o[None], s_ea[None], s_eo[None])
        aq = np.vstack([aq, sa.T])
        org = np.vstack([org, so.T])
        outlets["strip_liquor"] = strip_liquor
        outlets["stripped_organic"] = stripped
        terminal = ["raffinate", "strip_liquor", "stripped_organic"]
        inlet = inlet + strip_in
    held = _held(aq, org, f + inlet)
    if (aq < -1e-12 * f.sum()).any() or (org < -1e-12 * f.sum()).any():
        raise ConvergenceError(_trapped("negative stage flows in the linear cascade solve", held))
    mbe = _check_balance(f + inlet, [outlets[t] for t in terminal])
    if mbe > MASS_BALANCE_TOLERANCE:
        raise ConvergenceError(
            _trapped(f"mass balance not closed (worst component {mbe:.2e})", held), residual=mbe
        )
    return CascadeResult(
        components=comps,
        sections=sections,
        aqueous=aq,
        organic=org,
        feed=f,
        outlets=outlets,
        terminal_outlets=tuple(terminal),
        converged=True,
        iterations=1,
        mass_balance_error=mbe,
        residual=0.0,
        model=model.type,
        inlet_metal=inlet if inlet.any() else None,
    )


# ------------------------------------------------------------------------------------------- physical models


def _extractant_parameters(model: MassActionModel) -> ExtractantParameters:
    """The explicit parameters, or a shipped parameter set looked up by name."""
    if isinstance(model.extractant, ExtractantParameters):
        return model.extractant
    try:
        from mine2magnet.separation.equilibrium.extractants import load_extractant  # B2's parameter sets
    except ImportError:
        raise InputError(
            "no shipped extractant parameter sets are available; give the parameters explicitly",
            field="model.extractant",
        ) from None
    try:
        ext = load_extractant(model.extractant)
    except (KeyError, ValueError, LookupError) as exc:
        raise InputError(
            f"unknown extractant {model.extractant!r} ({exc})", field="model.extractant"
        ) from None
    kex = dict(ext.log10_kex)
    comps = [c for c in ext.order if c in kex] if hasattr(ext, "order") else list(kex)
    wanted = list(ext.order) if hasattr(ext, "order") else list(kex)
    if not comps:
        raise InputError(
            f"the {model.extractant} parameter set has no sourced Kex; give log10_kex explicitly",
            field="model.extractant",
        )
    # fill the elements without a sourced Kex from the sourced separation factors: Kex_i / Kex_ref = beta_i
    if hasattr(ext, "separation_factors") and len(kex) < len(wanted):
        beta = ext.separation_factors(wanted)
        ref = comps[0]
        for el in wanted:
            kex.setdefault(el, kex[ref] + math.log10(beta[el] / beta[ref]))
    sources = getattr(ext, "sources", ())
    return ExtractantParameters(
        name=str(getattr(ext, "name", model.extractant)),
        log10_kex=kex,
        source="; ".join(str(getattr(src, "id", src)) for src in sources) or "shipped parameter set",
    )


def _per_component(value: dict[str, float] | float, comps: tuple[str, ...], field: str) -> np.ndarray:
    if isinstance(value, dict):
        missing = [c for c in comps if c not in value]
        if missing:
            raise InputError(f"missing component(s) {missing}", field=field)
        return np.array([float(value[c]) for c in comps])
    return np.full(len(comps), float(value))


def _distribution_model(
    spec: CascadeSpec, charge: np.ndarray
) -> tuple[EmpiricalPh | MassAction, bool, float]:
    """The distribution model, whether it has a proton balance, and its saponification base per L organic."""
    comps = spec.components
    model = spec.model
    if isinstance(model, EmpiricalPhModel):
        co = [model.coefficients[c] for c in comps]
        nan = float("nan")
        a = np.array([(k.a if k.a is not None else k.a0) if k.D is None else nan for k in co], dtype=float)
        b = np.array([(k.b if k.b is not None else k.b0) if k.D is None else nan for k in co], dtype=float)
        ext = model.extractant
        capacity = None
        vol = 1.0
        free = False
        if ext is not None:
            vol = ext.volume_percent
            free = ext.free and any(k.uses_dosage for k in co)
            if free:
                capacity = (ext.per_charge * charge, ext.concentration)
        return (
            EmpiricalPh(
                a=np.nan_to_num(a),
                b=np.nan_to_num(b),
                a1=np.array([k.a1 for k in co]),
                b1=np.array([k.b1 for k in co]),
                constant=np.array([k.D if k.D is not None else np.inf for k in co], dtype=float),
                volume_percent=vol,
                free_dosage=free,
                capacity=capacity,
            ),
            model.proton_balance,
            0.0,
        )
    assert isinstance(model, MassActionModel)
    par = _extractant_parameters(model)
    kex = _per_component(par.log10_kex, comps, "model.extractant.log10_kex")
    k = _per_component(par.exponent, comps, "model.extractant.exponent")
    nu = _per_component(par.stoichiometry, comps, "model.extractant.stoichiometry")
    T = model.concentration
    base = model.saponification * 2.0 * T  # mol base per L organic (monomer basis: 2 per dimer)
    return MassAction(kex * np.log(10.0), k, charge, T, (nu, T)), True, base


def _acid(stream: object, field: str, required: bool) -> float:
    h = stream.proton_concentration() if stream is not None else None  # type: ignore[attr-defined]
    if h is None:
        if required:
            raise InputError("the proton balance needs the acidity: give pH or acid (mol/L H+)", field=field)
        return 0.0
    return float(h)


def warm_profile(initial: CascadeResult, sections: tuple[str, ...], section: str) -> np.ndarray | None:
    """The aqueous flows (mol/h) of ``initial``'s stages in one section, resampled to its count in
    ``sections``: each section interpolated in ln flow on its own stage index (first and last stages map
    onto each other; the feed stage is the last extraction stage). None if ``initial`` lacks the section
    or the cascade has none. Zero flows are floored at 1e-300 mol/h (ln interpolation)."""
    old = np.flatnonzero(np.array(initial.sections) == section)
    n_new = sum(1 for s in sections if s == section)
    if n_new == 0 or old.size == 0 or initial.aqueous.shape[0] != len(initial.sections):
        return None
    flows = np.asarray(initial.aqueous, dtype=float)[old]
    if old.size == 1 or n_new == 1:
        pos = np.zeros(n_new) if old.size == 1 else np.array([old.size - 1.0])
    else:
        pos = np.arange(n_new) * (old.size - 1) / (n_new - 1)
    tiny = 1e-300
    ln_f = np.log(np.maximum(flows, tiny))
    grid = np.arange(old.size, dtype=float)
    out = np.column_stack([np.interp(pos, grid, ln_f[:, i]) for i in range(flows.shape[1])])
    return np.exp(out)


def _initial_concentrations(
    spec: CascadeSpec,
    initial: CascadeResult | None,
    section: str,
    volume: np.ndarray,
    counter_ion: bool = False,
) -> np.ndarray | None:
    """Warm-start aqueous profile (K, C), mol/L, of one solved chain: "main" (extraction + scrub) or
    "strip"; ``volume`` the chain's aqueous volume flows leaving each stage, L/h. None: start cold. With
    ``counter_ion`` the counter-ion's profile is the last column (cold when ``initial`` has none).

    Raises:
        InputError: if ``initial`` has other components (or another order) than the cascade.
    """
    if initial is None:
        return None
    if tuple(initial.components) != tuple(spec.components):
        raise InputError(
            f"the warm start has components {list(initial.components)}, the cascade {list(spec.components)}",
            field="initial",
        )
    if counter_ion:
        if initial.counter_ion is None:
            return None
        ion = np.asarray(initial.counter_ion["stages"]["aqueous"], dtype=float)
        if ion.shape[0] != initial.aqueous.shape[0]:
            return None
        initial = dataclass_replace(
            initial,
            components=(*initial.components, "counter-ion"),
            aqueous=np.column_stack([initial.aqueous, ion]),
        )
    sections = _sections(spec)
    names = ("strip",) if section == "strip" else ("extraction", "scrub")
    parts = []
    for name in names:
        if name not in sections:
            continue
        part = warm_profile(initial, sections, name)
        if part is None:
            return None
        parts.append(part)
    if not parts:
        return None
    flows = np.vstack(parts)
    if flows.shape[0] != len(volume):
        return None
    return flows / volume[:, None]


def _simulate_physical(spec: CascadeSpec, initial: CascadeResult | None = None) -> CascadeResult:
    assert spec.stages is not None
    comps = spec.components
    C = len(comps)
    n, m, p = spec.stages.extraction, spec.stages.scrub, spec.stages.strip
    N = n + m
    sections = _sections(spec)
    ea, eo = stage_entrainment(spec, sections)
    entrains = bool(ea.any() or eo.any())
    if entrains and any(
        stream is not None and getattr(stream, "sulfate", None)
        for stream in (spec.feed, spec.scrub, spec.strip)
    ):
        raise InputError(
            "entrainment is not modelled with sulfate speciation yet (the entrained aqueous would carry the "
            "sulfate between sections)",
            field="entrainment",
        )
    charge = np.array([spec.charge(c) for c in comps], dtype=float)
    dmodel, proton, base_per_l = _distribution_model(spec, charge)
    # a counter-ion is solved as one more component, the last (see counter_ion.py); no base is added then
    counter = counter_ions.counter_ion_setup(spec)
    if counter is not None:
        assert isinstance(dmodel, MassAction)
        dmodel, charge = counter_ions.with_counter_ion(dmodel, charge, counter)
        base_per_l = 0.0
    CC = len(charge)
    f = np.append(_feed_vector(spec), np.zeros(CC - C))
    Va, Vo, vorg, vscrub = _volume_profile(spec, N)
    eta = stage_efficiency(spec, sections[:N], Va, Vo)  # Murphree (organic) per stage
    fs = spec.feed.stage - 1
    feed_aq = np.zeros((N, CC))
    feed_org = np.zeros((N, CC))
    acid_in = np.zeros(N)
    if spec.feed.phase == "aqueous":
        feed_aq[fs] = f
        acid_in[fs] += _acid(spec.feed, "feed.pH", True) * float(spec.feed.volume_flow or 0.0)
    else:
        feed_org[fs] = f
    if vscrub > 0:
        acid_in[-1] += _acid(spec.scrub, "scrub.pH", True) * vscrub
    base_in = np.zeros(N)
    base_in[0] = base_per_l * vorg
    assert spec.organic is not None
    org_in = np.array([spec.organic.concentration.get(c, 0.0) for c in comps]) * vorg
    scrub_in = (
        np.array([spec.scrub.concentration.get(c, 0.0) for c in comps]) * vscrub
        if spec.scrub is not None
        else np.zeros(C)
    )
    if counter is not None:
        org_in = np.append(org_in, counter.organic_concentration * vorg)
        scrub_in = np.append(scrub_in, 0.0)
    present = (f + org_in + scrub_in) > 0
    main = _solve_present(
        with_aqueous_chemistry(
            StagewiseProblem(
                Va,
                Vo,
                vorg,
                feed_aq,
                feed_org,
                scrub_in,
                org_in,
                acid_in,
                base_in,
                charge,
                dmodel,
                proton,
                efficiency=eta if (eta != 1.0).any() else None,
                entrained_aqueous=ea[:N] if entrains else None,
                entrained_organic=eo[:N] if entrains else None,
            ),
            spec,
            "main",
        ),
        present,
        _initial_concentrations(spec, initial, "main", Va, counter is not None),
    )
    aq = Va[:, None] * main.c
    org = Vo[:, None] * main.y
    ph = -np.log10(main.h)
    loading = 1.0 - main.phi if dmodel.capacity is not None else None
    # the outlets carry what they entrain: organic in the raffinate, aqueous (and its acid) in the organic
    raff_ent = eo[0] * Va[0] * main.y[0]
    loaded_ent = ea[N - 1] * Vo[-1] * main.c[-1]
    outlets = {"raffinate": aq[0] + raff_ent, "loaded_organic": org[-1] + loaded_ent}
    outlet_ph = {"raffinate": float(ph[0])}
    terminal = ["raffinate", "loaded_organic"]
    inlet = org_in + scrub_in
    iterations, residual = main.iterations, main.residual
    proton_error = main.proton_balance_error
    acid_total = float(acid_in.sum())
    if p > 0:
        strip = spec.strip
        if strip is None or strip.volume_flow is None:
            raise InputError(
                "a strip section needs the strip liquor volume flow, L/h", field="strip.volume_flow"
            )
        vs = strip.volume_flow
        strip_in = np.append(
            np.array([strip.concentration.get(c, 0.0) for c in comps]) * vs, np.zeros(CC - C)
        )
        s_acid = np.zeros(p)
        s_acid[-1] = _acid(strip, "strip.pH", True) * vs
        s_eta = stage_efficiency(spec, ("strip",) * p, np.full(p, vs), np.full(p, Vo[-1]))
        s_feed = np.zeros((p, CC))
        # the aqueous the loaded organic entrains joins the first strip stage, with its metal and acid
        s_feed[0] = loaded_ent
        s_acid[0] += ea[N - 1] * Vo[-1] * float(main.h[-1])
        sp = StagewiseProblem(
            np.full(p, vs),
            np.full(p, Vo[-1]),
            float(Vo[-1]),
            s_feed,
            np.zeros((p, CC)),
            strip_in,
            org[-1].copy(),
            s_acid,
            np.zeros(p),
            charge,
            dmodel,
            proton,
            efficiency=s_eta if (s_eta != 1.0).any() else None,
            entrained_aqueous=ea[N:] if entrains else None,
            entrained_organic=eo[N:] if entrains else None,
        )
        # metal the loaded organic carries below NEGLIGIBLE of the cascade's inflow is nil (below the float
        # range of the strip's concentrations it could not be balanced): it is not stripped
        strip_present = (org[-1] + strip_in + loaded_ent) > NEGLIGIBLE * float((f + inlet).sum())
        strip_pb = with_aqueous_chemistry(sp, spec, "strip")
        if strip_present.any():
            sol = _solve_present(
                strip_pb,
                strip_present,
                _initial_concentrations(spec, initial, "strip", np.full(p, vs), counter is not None),
            )
        else:
            sol = metal_free_solution(strip_pb)
        s_aq = vs * sol.c
        s_org = Vo[-1] * sol.y
        aq = np.vstack([aq, s_aq])
        org = np.vstack([org, s_org])
        ph = np.concatenate([ph, -np.log10(sol.h)])
        if loading is not None:
            loading = np.concatenate([loading, 1.0 - sol.phi])
        outlets["strip_liquor"] = s_aq[0] + eo[N] * vs * sol.y[0]
        outlets["stripped_organic"] = s_org[-1] + ea[-1] * Vo[-1] * sol.c[-1]
        outlet_ph["strip_liquor"] = float(-np.log10(sol.h[0]))
        terminal = ["raffinate", "strip_liquor", "stripped_organic"]
        inlet = inlet + strip_in
        iterations += sol.iterations
        residual = max(residual, sol.residual)
        proton_error = max(proton_error, sol.proton_balance_error)
        acid_total += float(s_acid.sum())
    mbe = _check_balance(f + inlet, [outlets[t] for t in terminal])
    if mbe > MASS_BALANCE_TOLERANCE or proton_error > MASS_BALANCE_TOLERANCE:
        raise ConvergenceError(
            f"balance not closed (metal {mbe:.2e}, protons {proton_error:.2e})", residual=mbe
        )
    released = float(
        (charge[:C] * (org[N - 1, :C] + raff_ent[:C] - org_in[:C] - feed_org[:, :C].sum(0))).sum()
    )
    reagents = {
        "acid_mol_h": acid_total,
        "base_mol_h": float(base_in.sum()) if counter is None else float(org_in[C]),
        "protons_released_mol_h": released,
    }
    counter_block = None
    if counter is not None:
        # the counter-ion leaves the rare-earth arrays; its dimers leave the rare earths' loading
        total_dimer = dmodel.total_dimer
        held = org[:, C] / np.concatenate([Vo, np.full(p, Vo[-1])]) / total_dimer
        if loading is not None:
            loading = loading - held
        volumes = {"raffinate": float(Va[0]), "loaded_organic": float(Vo[-1])}
        if p > 0:
            volumes.update({"strip_liquor": float(spec.strip.volume_flow), "stripped_organic": float(Vo[-1])})
        counter_block = counter_ions.summary(
            counter,
            spec,
            aq[:, C],
            org[:, C],
            {name: float(flow[C]) for name, flow in outlets.items()},
            volumes,
            float(org_in[C]),
            held,
        )
        aq, org, f, inlet = aq[:, :C], org[:, :C], f[:C], inlet[:C]
        outlets = {name: flow[:C] for name, flow in outlets.items()}
    return CascadeResult(
        components=comps,
        sections=sections,
        aqueous=aq,
        organic=org,
        feed=f,
        outlets=outlets,
        terminal_outlets=tuple(terminal),
        converged=True,
        iterations=iterations,
        mass_balance_error=max(mbe, proton_error),
        residual=residual,
        model=spec.model.type,
        pH=ph if proton or acid_total > 0 else None,
        loading=loading,
        outlet_pH=outlet_ph,
        reagents=reagents,
        inlet_metal=inlet if inlet.any() else None,
        counter_ion=counter_block,
    )


def _solve_present(
    pb: StagewiseProblem, present: np.ndarray, initial: np.ndarray | None = None
) -> StagewiseSolution:
    """Solve with only the components that are present (absent ones are exactly zero everywhere).

    ``initial``: optional warm-start aqueous profile (N, C) of all components, mol/L."""
    if present.all():
        return solve_stagewise(pb) if initial is None else solve_stagewise(pb, initial)
    if not present.any():
        raise InputError("no metal enters this section", field="feed")
    model = pb.model
    sel = present
    if isinstance(model, EmpiricalPh):
        cap = (model.capacity[0][sel], model.capacity[1]) if model.capacity is not None else None
        sub_model: EmpiricalPh | MassAction = EmpiricalPh(
            model.a[sel],
            model.b[sel],
            model.a1[sel],
            model.b1[sel],
            model.constant[sel],
            model.volume_percent,
            model.free_dosage,
            cap,
        )
    else:
        cap = (model.capacity[0][sel], model.capacity[1]) if model.capacity is not None else None
        sub_model = MassAction(
            model.ln_kex[sel], model.exponent[sel], model.charge[sel], model.total_dimer, cap
        )
    sub = replace(
        pb,
        feed_aq=pb.feed_aq[:, sel],
        feed_org=pb.feed_org[:, sel],
        aq_inlet=pb.aq_inlet[sel],
        org_inlet=pb.org_inlet[sel],
        charge=pb.charge[sel],
        model=sub_model,
    )
    sol = solve_stagewise(sub) if initial is None else solve_stagewise(sub, initial[:, sel])
    N, C = pb.feed_aq.shape
    c = np.zeros((N, C))
    y = np.zeros((N, C))
    c[:, sel] = sol.c
    y[:, sel] = sol.y
    return StagewiseSolution(
        c, y, sol.h, sol.phi, sol.iterations, sol.residual, sol.mass_balance_error, sol.proton_balance_error
    )
