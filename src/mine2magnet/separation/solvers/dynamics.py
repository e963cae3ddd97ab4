"""Dynamic mixer-settler cascade: ``simulate_dynamic(spec)`` for start-up, upsets and the way to steady state.

Units: h for time, L for volumes, L/h for volume flows, mol/h for component flows, mol for holdups, mol/L for
concentrations. Stage 1 is the raffinate end, as in the steady engine (docs/cascade-spec.md).

Each stage is a **mixer** (volume ``dynamics.mixer_volume``, its phases perfectly mixed and at equilibrium)
followed by a **settler** per phase (``settler_volume``, ``settler_cells`` stirred cells in series: one cell
is a stirred volume, many approach plug flow with the delay volume / flow). The state is the holdup of every
unit: per mixer the metal of both phases (mol), with a proton balance the aqueous anion equivalents (and
total sulfate), and per settler cell its metal (and anions). Holdups are states, so the integrator carries
the conservation laws: every outflow of a unit is the inflow of the next or leaves the cascade.

The mixer's phases follow from its holdups by the equilibrium of the steady engine's models (the same
:mod:`distribution` laws and the same anion/proton bookkeeping as :mod:`stagewise`):

* ``constant-distribution``: c_i = m_i / (V_aq + V_org D_i), linear.
* ``empirical-ph`` / ``mass-action``: ln[H+] and ln phi (free extractant) solved per mixer from
  electroneutrality, H_T(h) + sum_i z_i c_i = anions / V_aq, and the extractant balance,
  phi + sum_i nu_i y_i / T = 1 (+ the inlet basis' extra), with c_i = m_i / (V_aq + V_org D_i(h, phi)).
* ``loaded-separation-factor``: Xu's constant-flow model has fixed stage totals (the raffinate carries
  W + F - S, ...). A mixer holds H_aq = tau A_k and H_org = tau O_k mol of rare earths (tau its residence
  time, from the volume flows the spec must give for holdups) and y_i = beta_i x_i / sum_j beta_j x_j; the
  outflows carry the fixed totals A_k, O_k at the mixer's compositions.

Murphree efficiency E < 1 (organic phase): a share 1 - E of each mixer's organic holdup is bypassed (a stirred
volume fed (1 - E) Vo_k at the concentration of the organic arriving from the previous stage, the inlet
organic for stage 1), the rest is in equilibrium with the aqueous, and D takes the free extractant of the
mixed outgoing organic. At steady state the bypass carries the incoming organic unchanged, so the stage
obeys the steady engine's y_k = y_in + E (D x_k - y_in) exactly.

The ODE (holdups; mixer equilibria solved inside each evaluation, warm-started) is integrated by SciPy's BDF
or Radau with an exact sparse Jacobian: streams depend on their own unit's holdups only (the mixer blocks by
the implicit function theorem on its equilibrium), and a constant routing matrix sends each stream to the
next unit, so J = routing x d(streams)/d(holdups). The integrator's steps then conserve every component to
rounding error (the routing's columns sum to zero over the holdups and the cumulated outlets).

Events (``dynamics.events``) change inlet streams at given times; the mixer and settler volumes stay, the
integration restarts from the state reached. A run ends at ``until`` or, without it, when every outlet is
within ``tolerance`` (a fraction of the total metal inflow) of the steady state that ``simulate`` gives for
the spec after its last event. An integration that fails raises :class:`~mine2magnet.errors.ConvergenceError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from mine2magnet.errors import ConvergenceError, InputError
from mine2magnet.separation.contract.result import CascadeResult
from mine2magnet.separation.contract.spec import (
    EVENT_STREAMS,
    CascadeSpec,
    ConstantDistributionModel,
    InitialProfile,
    LoadedSeparationFactorModel,
    load_spec,
)
from mine2magnet.separation.equilibrium.distribution import EmpiricalPh, MassAction
from mine2magnet.separation.solvers.steady.counter_ion import counter_ion_setup, with_counter_ion
from mine2magnet.separation.solvers.steady.loaded_separation_factor import stage_totals
from mine2magnet.separation.solvers.steady.simulate import (
    _acid,
    _distribution_model,
    _feed_vector,
    _no_entrainment,
    _section_D,
    _sections,
    _volume_profile,
    lsf_flows,
    simulate,
    stage_efficiency,
    stage_entrainment,
)
from mine2magnet.separation.solvers.steady.stagewise import (
    StagewiseProblem,
    free_proton,
    total_acidity,
    with_aqueous_chemistry,
)

#: Lower bound of ln[H+] and ln phi in the mixer equilibria (mol/L, fraction).
LN_TINY = math.log(1e-300)
#: Newton iterations of the fast mixer-equilibrium path before the bracketed solve takes a stage over.
FAST_ITERATIONS = 12
#: Iterations of each bracketed one-dimensional solve (bisection guarantees 1e-14 in ln within ~60).
BRACKET_ITERATIONS = 200
#: Convergence of the mixer equilibria, in ln[H+], ln phi and ln s.
LOCAL_TOLERANCE = 1e-13
#: Newton steps (ln[H+], ln phi) below this end the fast mixer-equilibrium path: the step is taken and the
#: phases follow it to first order, leaving an error of the order of its square.
FAST_STEP = 1e-6
#: Absolute integrator tolerance of each holdup: this times ``rtol`` times the holdup's scale (mol).
ATOL_FACTOR = 1e-2
#: Default longest run without `until`, in residence times of the slowest stage.
MAX_RESIDENCE_TIMES = 1e5


def _logistic(v: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-v) without overflow (SciPy's expit, kept here so importing the package stays light)."""
    e = np.exp(-np.abs(v))
    return np.where(v >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class _LocalFailure(Exception):  # noqa: N818 - internal signal, never raised to users
    """A mixer equilibrium without a solution (the integrator then shortens its step)."""


# ---------------------------------------------------------------------------------------------- chains


@dataclass
class _Chain:
    """One chain of stages at the current inlets: the main chain (extraction + scrub) or the strip section.

    The aqueous flows from the chain's last stage to its first; the organic from the first to the last and
    on into the next chain (the main chain's loaded organic feeds the strip section).
    """

    name: str  # "main" | "strip"
    sections: tuple[str, ...]
    Va: np.ndarray  # (n,) aqueous volume flow leaving each stage, L/h
    Vo: np.ndarray  # (n,) organic volume flow leaving each stage, L/h
    vo_in: float  # volume flow of the organic arriving at the first stage, L/h
    metal_in: np.ndarray  # (n, C) metal entering from outside (feed, aqueous inlet of the last stage), mol/h
    org_inlet: np.ndarray  # (C,) metal of the organic inlet of the first stage (main chain), mol/h
    extras_in: np.ndarray  # (n, X) anion equivalents (eq/h) and total sulfate (mol/h) entering, aqueous
    efficiency: np.ndarray  # (n,) Murphree efficiency of the organic
    D: np.ndarray | None = None  # (n, C) constant distribution ratios
    A: np.ndarray | None = None  # (n,) LSF: rare-earth flow of the aqueous leaving each stage, mol/h
    O: np.ndarray | None = None  # (n,) LSF: ... of the organic, mol/h
    model: EmpiricalPh | MassAction | None = None  # physical models
    proton: bool = False
    sulfate: bool = False
    bisulfate_ka: float = 10.0**-1.99
    phi_total: float = 1.0
    h_fixed: np.ndarray | None = None  # (n,) [H+] without a proton balance, mol/L
    #: (n,) L of aqueous carried per L of organic leaving each stage (up), constant-distribution only
    entrained_aqueous: np.ndarray | None = None
    #: (n,) L of organic carried per L of aqueous leaving each stage (down)
    entrained_organic: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.Va)

    @property
    def X(self) -> int:
        """Aqueous species carried beside the metal: anion equivalents, and total sulfate."""
        return (1 + int(self.sulfate)) if self.proton else 0


def _chains(spec: CascadeSpec) -> list[_Chain]:
    """The chains of a spec at its inlets (flows, inflows, equilibrium parameters)."""
    model = spec.model
    if isinstance(model, LoadedSeparationFactorModel):
        return _lsf_chains(spec, model)
    if isinstance(model, ConstantDistributionModel):
        return _constant_chains(spec, model)
    return _physical_chains(spec)


def _main_feed(spec: CascadeSpec, N: int) -> tuple[np.ndarray, np.ndarray]:
    C = len(spec.components)
    f = _feed_vector(spec)
    feed_aq = np.zeros((N, C))
    feed_org = np.zeros((N, C))
    (feed_aq if spec.feed.phase == "aqueous" else feed_org)[spec.feed.stage - 1] = f
    return feed_aq, feed_org


def _conc(stream: Any, comps: tuple[str, ...]) -> np.ndarray:
    """Metal concentrations (mol/L) of an inlet stream of the spec (zeros without the stream)."""
    if stream is None:
        return np.zeros(len(comps))
    return np.array([float(stream.concentration.get(c, 0.0)) for c in comps])


def _constant_chains(spec: CascadeSpec, model: ConstantDistributionModel) -> list[_Chain]:
    assert spec.stages is not None
    comps = spec.components
    C = len(comps)
    n, m, p = spec.stages.extraction, spec.stages.scrub, spec.stages.strip
    N = n + m
    sections = _sections(spec)
    Va, Vo, vorg, vscrub = _volume_profile(spec, N)
    feed_aq, feed_org = _main_feed(spec, N)
    metal_in = feed_aq + feed_org
    metal_in[-1] += _conc(spec.scrub, comps) * vscrub
    org_in = _conc(spec.organic, comps) * vorg
    D = np.stack([_section_D(model, spec, sections[k]) for k in range(N)])
    eff = stage_efficiency(spec, sections[:N], Va, Vo)
    chains = [
        _Chain(
            "main", sections[:N], Va, Vo, vorg, metal_in, np.asarray(org_in, float), np.zeros((N, 0)), eff, D
        )
    ]
    _entrain(spec, chains[0])
    if p > 0:
        strip = spec.strip
        if strip is None or strip.volume_flow is None:
            raise InputError(
                "a strip section needs the strip liquor volume flow, L/h", field="strip.volume_flow"
            )
        Ds = _section_D(model, spec, "strip")
        s_in = np.zeros((p, C))
        s_in[-1] = _conc(strip, comps) * strip.volume_flow
        chains.append(
            _strip_chain(spec, p, strip.volume_flow, float(Vo[-1]), float(Vo[-1]), s_in, np.tile(Ds, (p, 1)))
        )
        _entrain(spec, chains[-1])
    return chains


def _entrain(spec: CascadeSpec, chain: _Chain) -> None:
    """Set the chain's entrained volume fractions per stage (left None when nothing is entrained)."""
    if not spec.entrainment.any:
        return
    ea, eo = stage_entrainment(spec, chain.sections)
    chain.entrained_aqueous, chain.entrained_organic = ea, eo


def _strip_chain(
    spec: CascadeSpec, p: int, vs: float, vo: float, vo_in: float, metal_in: np.ndarray, D: np.ndarray
) -> _Chain:
    C = len(spec.components)
    return _Chain(
        "strip",
        ("strip",) * p,
        np.full(p, vs),
        np.full(p, vo),
        vo_in,
        metal_in,
        np.zeros(C),
        np.zeros((p, 0)),
        stage_efficiency(spec, ("strip",) * p, np.full(p, vs), np.full(p, vo)),
        D,
    )


def _lsf_chains(spec: CascadeSpec, model: LoadedSeparationFactorModel) -> list[_Chain]:
    """Xu's constant-flow cascade; its holdups need the volume flows (organic, feed, scrub)."""
    assert spec.stages is not None
    comps = spec.components
    C = len(comps)
    n, m, p = spec.stages.extraction, spec.stages.scrub, spec.stages.strip
    N = n + m
    eff = spec.efficiency
    if eff.extraction != 1.0 or eff.scrub != 1.0 or eff.kinetic:
        sec = "rate_constant" if eff.kinetic else "extraction" if eff.extraction != 1.0 else "scrub"
        raise InputError(
            "the loaded-separation-factor model has ideal stages; Murphree efficiency is supported by "
            "the other models",
            field=f"efficiency.{sec}",
        )
    S, W, _ = lsf_flows(spec, m)
    try:
        Va, Vo, vorg, _ = _volume_profile(spec, N)
    except InputError as exc:
        raise InputError(
            f"{str(exc).split(': ', 1)[-1]} (the dynamics of the loaded-separation-factor model need the "
            "volume flows for the holdups)",
            field=exc.field,
        ) from None
    feed_aq, feed_org = _main_feed(spec, N)
    A, O = stage_totals(np.array([S]), np.array([W]), feed_aq[None], feed_org[None])
    chains = [
        _Chain(
            "main",
            _sections(spec)[:N],
            Va,
            Vo,
            vorg,
            feed_aq + feed_org,
            np.zeros(C),
            np.zeros((N, 0)),
            np.ones(N),
            A=A[0],
            O=O[0],
        )
    ]
    if p > 0:
        strip = spec.strip
        if strip is None:
            raise InputError(
                "a strip section needs `strip: {complete: true}` or strip D and flows", field="strip"
            )
        if strip.volume_flow is None:
            raise InputError(
                "the dynamics of a strip section need the strip liquor volume flow for its holdups, L/h",
                field="strip.volume_flow",
            )
        if strip.complete:
            Ds = np.zeros(C)
        else:
            if strip.distribution_ratios is None:
                raise InputError("give `complete: true` or `distribution_ratios`", field="strip")
            missing = [c for c in comps if c not in strip.distribution_ratios]
            if missing:
                raise InputError(f"missing component(s) {missing}", field="strip.distribution_ratios")
            Ds = np.array([strip.distribution_ratios[c] for c in comps])
        vo = strip.organic_volume_flow or vorg
        s_in = np.zeros((p, C))
        s_in[-1] = _conc(strip, comps) * strip.volume_flow
        chains.append(_strip_chain(spec, p, strip.volume_flow, vo, vo, s_in, np.tile(Ds, (p, 1))))
    return chains


def _physical_chains(spec: CascadeSpec) -> list[_Chain]:
    """empirical-ph and mass-action: the steady engine's stage-wise problem, its inflows as streams."""
    assert spec.stages is not None
    comps = spec.components
    C = len(comps)
    n, m, p = spec.stages.extraction, spec.stages.scrub, spec.stages.strip
    N = n + m
    sections = _sections(spec)
    charge = np.array([spec.charge(c) for c in comps], dtype=float)
    dmodel, proton, base_per_l = _distribution_model(spec, charge)
    # a saponified organic's counter-ion is one more component, the last, as in simulate (no base added)
    counter = counter_ion_setup(spec)
    if counter is not None:
        assert isinstance(dmodel, MassAction)
        dmodel, charge = with_counter_ion(dmodel, charge, counter)
        base_per_l = 0.0
    extra = len(charge) - C
    Va, Vo, vorg, vscrub = _volume_profile(spec, N)
    feed_aq, feed_org = (np.pad(a, ((0, 0), (0, extra))) for a in _main_feed(spec, N))
    acid_in = np.zeros(N)
    if spec.feed.phase == "aqueous":
        acid_in[spec.feed.stage - 1] += _acid(spec.feed, "feed.pH", True) * float(
            spec.feed.volume_flow or 0.0
        )
    if vscrub > 0:
        acid_in[-1] += _acid(spec.scrub, "scrub.pH", True) * vscrub
    base_in = np.zeros(N)
    base_in[0] = base_per_l * vorg
    org_in = _conc(spec.organic, comps) * vorg
    scrub_in = np.append(_conc(spec.scrub, comps) * vscrub, np.zeros(extra))
    if counter is not None:
        org_in = np.append(org_in, counter.organic_concentration * vorg)
    eff = stage_efficiency(spec, sections[:N], Va, Vo)
    pb = with_aqueous_chemistry(
        StagewiseProblem(
            Va, Vo, vorg, feed_aq, feed_org, scrub_in, org_in, acid_in, base_in, charge, dmodel, proton
        ),
        spec,
        "main",
    )
    chains = [_physical_chain("main", sections[:N], pb, eff)]
    if p > 0:
        strip = spec.strip
        if strip is None or strip.volume_flow is None:
            raise InputError(
                "a strip section needs the strip liquor volume flow, L/h", field="strip.volume_flow"
            )
        vs = strip.volume_flow
        s_acid = np.zeros(p)
        s_acid[-1] = _acid(strip, "strip.pH", True) * vs
        sp_ = StagewiseProblem(
            np.full(p, vs),
            np.full(p, Vo[-1]),
            float(Vo[-1]),
            np.zeros((p, C + extra)),
            np.zeros((p, C + extra)),
            np.append(_conc(strip, comps) * vs, np.zeros(extra)),
            np.zeros(C + extra),
            s_acid,
            np.zeros(p),
            charge,
            dmodel,
            proton,
        )
        chains.append(
            _physical_chain(
                "strip",
                ("strip",) * p,
                with_aqueous_chemistry(sp_, spec, "strip"),
                stage_efficiency(spec, ("strip",) * p, np.full(p, vs), np.full(p, Vo[-1])),
            )
        )
    return chains


def _physical_chain(name: str, sections: tuple[str, ...], pb: StagewiseProblem, eff: np.ndarray) -> _Chain:
    """A chain from the steady engine's problem: the aqueous inlet at the last stage, anions as streams.

    The anion equivalents entering a stage are its acid minus base plus the charge of the aqueous metal that
    enters with it (anions do not extract): the conserved quantity behind the steady engine's
    electroneutrality, h_T = Q - sum z c.
    """
    N = pb.feed_aq.shape[0]
    z = pb.charge
    metal_in = pb.feed_aq + pb.feed_org
    metal_in[-1] += pb.aq_inlet
    sulfate = pb.sulfate_in is not None and bool(np.any(pb.sulfate_in > 0))
    extras = []
    if pb.proton_balance:
        anions = pb.acid_in - pb.base_in + (pb.feed_aq * z).sum(1)
        anions[-1] += float((pb.aq_inlet * z).sum())
        extras.append(anions)
        if sulfate:
            extras.append(np.asarray(pb.sulfate_in, float))
    h_fixed = None
    if not pb.proton_balance:
        total = np.maximum(np.cumsum(pb.acid_in[::-1])[::-1] / pb.Va, 1e-14)
        s_prof = np.cumsum(pb.sulfate_in[::-1])[::-1] / pb.Va if sulfate else np.zeros(N)
        h_fixed = free_proton(total, s_prof, pb.bisulfate_ka)[0] if sulfate else total
    cap = pb.model.capacity
    return _Chain(
        name,
        sections,
        pb.Va,
        pb.Vo,
        float(pb.vo_in),
        metal_in,
        np.asarray(pb.org_inlet, float),
        np.column_stack(extras) if extras else np.zeros((N, 0)),
        eff,
        model=pb.model,
        proton=pb.proton_balance,
        sulfate=sulfate and pb.proton_balance,
        bisulfate_ka=pb.bisulfate_ka,
        phi_total=1.0 + (pb.extra_extractant if cap is not None else 0.0),
        h_fixed=h_fixed,
    )


# ---------------------------------------------------------------------------------------------- mixers


class _Mixers:
    """The mixers of one chain: stream outputs per unit flow and their derivatives from the holdups.

    ``solve(local)`` takes the local holdups (n, P) and returns (aq, org, d aq, d org): the aqueous and the
    (contacted) organic outflow per unit of the chain's stream multipliers (``flow_aq``, ``flow_org``), each
    (n, C), and their derivatives (n, C, P) with respect to the local holdups.
    """

    P: int

    def flow_multipliers(self, chain: _Chain) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def solve(self, local: np.ndarray, derivatives: bool = True):
        raise NotImplementedError

    def set_flows(self, chain: _Chain) -> None:
        """Adopt flow-dependent parameters of the chain (after an event)."""

    def phases(self) -> dict[str, np.ndarray]:
        """Per-mixer pH and extractant use at the last solution (physical models; else empty)."""
        return {}


class _ConstantMixers(_Mixers):
    """Constant D per stage: c_i = m_i (1 - w_i) / V_aq and y*_i = m_i w_i / V_c with
    w_i = V_c D_i / (V_aq + V_c D_i) (V_c = E V_org, the organic in contact)."""

    def __init__(self, chain: _Chain, Vaq: np.ndarray, Vorg: np.ndarray, bypass: bool) -> None:
        assert chain.D is not None
        C = chain.D.shape[1]
        self.C = C
        self.Vaq = Vaq
        self.Vc = chain.efficiency * Vorg
        self.P = C + (C if bypass else 0)
        with np.errstate(divide="ignore"):
            self.w = _logistic(np.log(chain.D) + np.log(self.Vc / Vaq)[:, None])
        self.eff = chain.efficiency

    def flow_multipliers(self, chain: _Chain) -> tuple[np.ndarray, np.ndarray]:
        return chain.Va, chain.efficiency * chain.Vo

    def solve(self, local: np.ndarray, derivatives: bool = True):
        m = local[:, : self.C]
        n, C = m.shape
        ka = (1.0 - self.w) / self.Vaq[:, None]
        ko = self.w / self.Vc[:, None]
        if not derivatives:
            return m * ka, m * ko, None, None
        daq = np.zeros((n, C, self.P))
        dorg = np.zeros((n, C, self.P))
        ic = np.arange(C)
        daq[:, ic, ic] = ka
        dorg[:, ic, ic] = ko
        return m * ka, m * ko, daq, dorg


class _LsfMixers(_Mixers):
    """Xu's constant-flow stages: holdups H_aq, H_org (mol) at compositions x, y = beta x / sum beta x.

    Given the metal m (C) of a mixer: x_i = m_i s / (H_aq' s + H_org beta_i) with s = sum_j beta_j x_j the
    root of sum_i beta_i m_i / (H_aq' s + H_org beta_i) = 1 (decreasing in s, bracketed by the smallest and
    largest beta); H_aq' = sum m - H_org (the aqueous takes any drift of the mixer's total). Outflows: A_k x,
    O_k y.
    """

    def __init__(self, beta: np.ndarray, H_aq: np.ndarray, H_org: np.ndarray) -> None:
        self.beta = beta
        self.C = len(beta)
        self.P = self.C
        self.H_org = H_org
        self.lo = math.log(float(beta.min())) - 1.0
        self.hi = math.log(float(beta.max())) + 1.0
        self.u = np.full(len(H_aq), 0.5 * (self.lo + self.hi))

    def flow_multipliers(self, chain: _Chain) -> tuple[np.ndarray, np.ndarray]:
        assert chain.A is not None and chain.O is not None
        return chain.A, chain.O

    def _root(self, m: np.ndarray, Ha: np.ndarray) -> np.ndarray:
        beta = self.beta
        Ho = self.H_org[:, None]
        bm = beta * m
        lo = np.full(len(m), self.lo)
        hi = np.full(len(m), self.hi)
        u = np.clip(self.u, lo, hi)
        for _ in range(BRACKET_ITERATIONS):
            s = np.exp(u)[:, None]
            d = Ha[:, None] * s + Ho * beta
            total = (bm / d).sum(1)
            G = np.log(total)
            dG = -(bm * Ha[:, None] * s / d**2).sum(1) / total
            lo = np.where(G >= 0, u, lo)
            hi = np.where(G <= 0, u, hi)
            step = u - G / dG
            new = np.where((step > lo) & (step < hi), step, 0.5 * (lo + hi))
            if not np.isfinite(new).all():
                raise _LocalFailure("no loaded-separation-factor composition")
            if np.abs(new - u).max() < LOCAL_TOLERANCE:
                return new
            u = new
        raise _LocalFailure("the loaded-separation-factor composition did not converge")

    def solve(self, local: np.ndarray, derivatives: bool = True):
        m = local
        C = m.shape[1]
        Ha = m.sum(1) - self.H_org
        if not (Ha > 0).all():
            raise _LocalFailure("a stage holds less metal than its organic carries")
        u = self._root(m, Ha)
        self.u = u
        beta = self.beta
        s = np.exp(u)[:, None]
        Ho = self.H_org[:, None]
        d = Ha[:, None] * s + Ho * beta
        x = m * s / d
        y = beta * x / s
        if not derivatives:
            return x, y, None, None
        bm = beta * m
        total = (bm / d).sum(1)[:, None]
        G_u = -(bm * Ha[:, None] * s / d**2).sum(1)[:, None] / total  # (n, 1)
        G_m = (beta / d - (bm * s / d**2).sum(1)[:, None]) / total  # (n, C)
        du = -G_m / G_u  # (n, C): d u / d m_j
        ic = np.arange(C)
        dx = -(x * s / d)[:, :, None] * np.ones((1, 1, C))
        dx[:, ic, ic] += s / d
        dx += (x * Ho * beta / d)[:, :, None] * du[:, None, :]
        dy = (beta / s)[:, :, None] * (dx - x[:, :, None] * du[:, None, :])
        return x, y, dx, dy


class _PhysicalMixers(_Mixers):
    """empirical-ph and mass-action mixers: [H+] and free extractant solved from the holdups.

    Local holdups per mixer: metal m (C, mol), with a proton balance the anion equivalents q (eq) and total
    sulfate (mol) of the aqueous, and with E < 1 the bypassed organic's metal b (C, mol). With h the free
    [H+] and phi the free extractant fraction, c_i = m_i (1 - w_i) / V_aq and y*_i = m_i w_i / V_c
    (w_i = V_c D_i / (V_aq + V_c D_i), V_c = E V_org); the unknowns solve

        F1 = ln((H_T(h) + sum_i z_i c_i) / (q / V_aq)) = 0          (electroneutrality; H_T with bisulfate)
        F2 = ln((phi + sum_i nu_i (b_i / V_org + E y*_i) / T) / phi_total) = 0   (extractant balance)

    by Newton from the last solution, and stage by stage by bracketed one-dimensional solves (ln h outside,
    ln phi inside, each monotone) where Newton does not converge. The derivatives of the outflows follow by
    the implicit function theorem.
    """

    def __init__(
        self, chain: _Chain, Vaq: np.ndarray, Vorg: np.ndarray, charge: np.ndarray, bypass: bool
    ) -> None:
        assert chain.model is not None
        self.model = chain.model
        self.C = C = len(charge)
        self.z = charge
        self.cap = chain.model.capacity
        self.Vaq = Vaq
        self.Vorg = Vorg
        self.eff = chain.efficiency
        self.Vc = chain.efficiency * Vorg
        self.lnr = np.log(self.Vc / Vaq)
        self.proton = chain.proton
        self.sulfate = chain.sulfate
        self.X = chain.X
        self.bypass = bypass
        self.P = C + self.X + (C if bypass else 0)
        self.ka = chain.bisulfate_ka
        self.phi_total = chain.phi_total
        n = len(Vaq)
        self.ln_h = np.full(n, math.log(0.1))
        self.ln_phi = np.full(n, math.log(self.phi_total))
        self.h_fixed = chain.h_fixed

    def set_flows(self, chain: _Chain) -> None:
        self.h_fixed = chain.h_fixed

    def flow_multipliers(self, chain: _Chain) -> tuple[np.ndarray, np.ndarray]:
        return chain.Va, chain.efficiency * chain.Vo

    # -- pieces
    def _unpack(self, local: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        C, X = self.C, self.X
        n = len(local)
        m = local[:, :C]
        A = local[:, C] / self.Vaq if self.proton else np.ones(n)
        S = local[:, C + 1] / self.Vaq if self.sulfate else np.zeros(n)
        yb = local[:, C + X :] / self.Vorg[:, None] if self.bypass else np.zeros((n, C))
        return m, A, S, yb

    def _evaluate(self, idx: np.ndarray, ln_h: np.ndarray, ln_phi: np.ndarray, m, A, S, yb) -> dict[str, Any]:
        """Residuals (ln form), their derivatives in (ln h, ln phi), and the phases, for the stages idx."""
        lnd, gh, gp = self.model.log_d(ln_h, ln_phi)
        w = _logistic(lnd + self.lnr[idx, None])
        c = m * (1.0 - w) / self.Vaq[idx, None]
        ys = m * w / self.Vc[idx, None]
        out: dict[str, Any] = {"w": w, "c": c, "ys": ys, "gh": gh, "gp": gp}
        # derivatives of c and y* in ln h and ln phi
        dc_h = -c * w * gh
        dc_p = -c * w * gp
        dy_h = ys * (1.0 - w) * gh
        dy_p = ys * (1.0 - w) * gp
        out.update(dc_h=dc_h, dc_p=dc_p, dy_h=dy_h, dy_p=dy_p)
        if self.proton:
            h = np.exp(ln_h)
            HT = total_acidity(h, S, self.ka)
            N1 = HT + c @ self.z
            out["F1"] = np.log(N1 / A)
            hdH = h * (1.0 + S * self.ka / (h + self.ka) ** 2)
            out["N1"] = N1
            out["J11"] = (hdH + dc_h @ self.z) / N1
            out["J12"] = (dc_p @ self.z) / N1
            out["h"] = h
        if self.cap is not None:
            nu, T = self.cap
            eff = self.eff[idx, None]
            phi = np.exp(ln_phi)
            N2 = phi + (nu * (yb + eff * ys)).sum(1) / T
            out["F2"] = np.log(N2 / self.phi_total)
            out["N2"] = N2
            out["J21"] = (nu * eff * dy_h).sum(1) / T / N2
            out["J22"] = (phi + (nu * eff * dy_p).sum(1) / T) / N2
            out["phi"] = phi
        return out

    def _ln_h_max(self, A: np.ndarray, S: np.ndarray) -> np.ndarray:
        """ln of the free [H+] with every metal extracted (the upper end of the bracket)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(free_proton(A, S, self.ka)[0] if self.sulfate else A)

    def _equilibrate(self, m, A, S, yb) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """ln h, ln phi and the phases (``_evaluate``) at the mixers' equilibria.

        Newton on both unknowns from the last solution; when every step is below FAST_STEP the last step is
        taken and the phases follow it to first order (their error is then of the order of the step
        squared). Stages that do not get there in FAST_ITERATIONS go to the bracketed solve.
        """
        n = len(m)
        idx = np.arange(n)
        if self.proton:
            if not (A > 0).all():
                raise _LocalFailure("a mixer's aqueous holds more base than acid (no electroneutral aqueous)")
            ln_h_max = self._ln_h_max(A, S)
            ln_h = np.minimum(self.ln_h, ln_h_max)
        else:
            assert self.h_fixed is not None
            ln_h = np.log(self.h_fixed)
            ln_h_max = ln_h
        ln_phi_max = math.log(self.phi_total)
        ln_phi = np.minimum(self.ln_phi, ln_phi_max) if self.cap is not None else np.zeros(n)
        if not self.proton and self.cap is None:
            return ln_h, ln_phi, self._evaluate(idx, ln_h, ln_phi, m, A, S, yb)
        ok = np.zeros(n, dtype=bool)
        for _ in range(FAST_ITERATIONS):
            ev = self._evaluate(idx, ln_h, ln_phi, m, A, S, yb)
            dh, dp = self._newton_step(ev, n)
            ok = np.isfinite(dh) & np.isfinite(dp)
            if ok.all() and max(float(np.abs(dh).max()), float(np.abs(dp).max())) < FAST_STEP:
                for key, d_h, d_p in (("c", "dc_h", "dc_p"), ("ys", "dy_h", "dy_p")):
                    ev[key] = ev[key] + ev[d_h] * dh[:, None] + ev[d_p] * dp[:, None]
                return ln_h + dh, ln_phi + dp, ev
            dh = np.clip(np.where(ok, dh, 0.0), -3.0, 3.0)
            dp = np.clip(np.where(ok, dp, 0.0), -3.0, 3.0)
            new_h = ln_h + dh
            new_p = ln_phi + dp
            ln_h = np.where(new_h > ln_h_max, 0.5 * (ln_h + ln_h_max), new_h)
            ln_phi = np.where(new_p > ln_phi_max, 0.5 * (ln_phi + ln_phi_max), new_p)
        bad = np.flatnonzero(~ok | (np.abs(dh) >= FAST_STEP) | (np.abs(dp) >= FAST_STEP))
        hb, pb = self._bracketed(
            bad, m[bad], A[bad], S[bad], yb[bad], ln_h_max[bad] if self.proton else ln_h[bad]
        )
        ln_h = ln_h.copy()
        ln_phi = ln_phi.copy()
        ln_h[bad] = hb
        ln_phi[bad] = pb
        return ln_h, ln_phi, self._evaluate(idx, ln_h, ln_phi, m, A, S, yb)

    def _newton_step(self, ev: dict[str, Any], n: int) -> tuple[np.ndarray, np.ndarray]:
        """The Newton step in (ln h, ln phi) (zero in an unknown the model does not have)."""
        if self.proton and self.cap is not None:
            det = ev["J11"] * ev["J22"] - ev["J12"] * ev["J21"]
            dh = -(ev["J22"] * ev["F1"] - ev["J12"] * ev["F2"]) / det
            dp = -(ev["J11"] * ev["F2"] - ev["J21"] * ev["F1"]) / det
            return dh, dp
        if self.proton:
            return -ev["F1"] / ev["J11"], np.zeros(n)
        return np.zeros(n), -ev["F2"] / ev["J22"]

    def _inner_phi(self, idx, ln_h, m, yb) -> np.ndarray:
        """ln phi solving the extractant balance at fixed ln h (bracketed Newton; increasing in ln phi)."""
        n = len(idx)
        if self.cap is None:
            return np.zeros(n)
        lo = np.full(n, LN_TINY)
        hi = np.full(n, math.log(self.phi_total))
        u = np.clip(self.ln_phi[idx], lo, hi)
        for _ in range(BRACKET_ITERATIONS):
            F, dF = self._evaluate_phi(idx, ln_h, u, m, yb)
            hi = np.where(F >= 0, u, hi)
            lo = np.where(F <= 0, u, lo)
            step = u - F / dF
            new = np.where((step > lo) & (step < hi), step, 0.5 * (lo + hi))
            if np.abs(new - u).max() < LOCAL_TOLERANCE:
                return new
            u = new
        raise _LocalFailure("the free extractant of a mixer did not converge")

    def _evaluate_phi(self, idx, ln_h, u, m, yb) -> tuple[np.ndarray, np.ndarray]:
        nu, T = self.cap  # type: ignore[misc]
        lnd, _, gp = self.model.log_d(ln_h, u)
        w = _logistic(lnd + self.lnr[idx, None])
        ys = m * w / self.Vc[idx, None]
        eff = self.eff[idx, None]
        phi = np.exp(u)
        N2 = phi + (nu * (yb + eff * ys)).sum(1) / T
        dN2 = phi + (nu * eff * ys * (1.0 - w) * gp).sum(1) / T
        return np.log(N2 / self.phi_total), dN2 / N2

    def _bracketed(self, idx, m, A, S, yb, ln_h_hi) -> tuple[np.ndarray, np.ndarray]:
        """Stage by stage: ln h by a bracketed Newton on F1 along the extractant balance (ln phi inside)."""
        n = len(idx)
        if not self.proton:
            return ln_h_hi, self._inner_phi(idx, ln_h_hi, m, yb)
        lo = np.full(n, LN_TINY)
        hi = ln_h_hi.copy()
        u = np.clip(self.ln_h[idx], lo, hi)
        for _ in range(BRACKET_ITERATIONS):
            ln_phi = self._inner_phi(idx, u, m, yb)
            ev = self._evaluate(idx, u, ln_phi, m, A, S, yb)
            F = ev["F1"]
            dF = ev["J11"]
            if self.cap is not None:
                dF = dF - ev["J12"] * ev["J21"] / ev["J22"]
            hi = np.where(F >= 0, u, hi)
            lo = np.where(F <= 0, u, lo)
            step = u - F / dF
            new = np.where(np.isfinite(step) & (step > lo) & (step < hi), step, 0.5 * (lo + hi))
            if np.abs(new - u).max() < LOCAL_TOLERANCE:
                if np.any(new <= LN_TINY + 1.0):
                    raise _LocalFailure(
                        "a mixer's metal that cannot extract carries more charge than the aqueous anions"
                    )
                return new, self._inner_phi(idx, new, m, yb)
            u = new
        raise _LocalFailure("the [H+] of a mixer did not converge")

    def solve(self, local: np.ndarray, derivatives: bool = True):
        m, A, S, yb = self._unpack(local)
        n, C = m.shape
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            ln_h, ln_phi, ev = self._equilibrate(m, A, S, yb)
        if not (np.isfinite(ev["c"]).all() and np.isfinite(ev["ys"]).all()):
            raise _LocalFailure("a mixer equilibrium is not finite")
        self.ln_h, self.ln_phi = ln_h, ln_phi
        w, c, ys = ev["w"], ev["c"], ev["ys"]
        if not derivatives:
            return c, ys, None, None
        P, X = self.P, self.X
        # partial derivatives at fixed (ln h, ln phi)
        ic = np.arange(C)
        daq = np.zeros((n, C, P))
        dorg = np.zeros((n, C, P))
        daq[:, ic, ic] = (1.0 - w) / self.Vaq[:, None]
        dorg[:, ic, ic] = w / self.Vc[:, None]
        # the unknowns' response (implicit function theorem): Ju du = -F_x dx
        Fx = np.zeros((n, 2, P))
        Ju = np.zeros((n, 2, 2))
        Ju[:, 0, 0] = 1.0
        Ju[:, 1, 1] = 1.0
        if self.proton:
            N1 = ev["N1"]
            h = ev["h"]
            Fx[:, 0, :C] = self.z * (1.0 - w) / self.Vaq[:, None] / N1[:, None]
            Fx[:, 0, C] = -1.0 / (A * self.Vaq)  # d ln(N1/A) / d q = -1/(V_aq A)
            if self.sulfate:
                Fx[:, 0, C + 1] = h / (h + self.ka) / self.Vaq / N1
            Ju[:, 0, 0] = ev["J11"]
            Ju[:, 0, 1] = ev["J12"] if self.cap is not None else 0.0
        if self.cap is not None:
            nu, T = self.cap
            N2 = ev["N2"]
            Fx[:, 1, :C] = nu * self.eff[:, None] * w / self.Vc[:, None] / T / N2[:, None]
            if self.bypass:
                Fx[:, 1, C + X :] = nu / (self.Vorg[:, None] * T) / N2[:, None]
            Ju[:, 1, 1] = ev["J22"]
            Ju[:, 1, 0] = ev["J21"] if self.proton else 0.0
        det = Ju[:, 0, 0] * Ju[:, 1, 1] - Ju[:, 0, 1] * Ju[:, 1, 0]
        du = np.empty_like(Fx)  # (n, 2, P): -Ju^-1 Fx
        du[:, 0] = -(Ju[:, 1, 1, None] * Fx[:, 0] - Ju[:, 0, 1, None] * Fx[:, 1]) / det[:, None]
        du[:, 1] = -(Ju[:, 0, 0, None] * Fx[:, 1] - Ju[:, 1, 0, None] * Fx[:, 0]) / det[:, None]
        dc_u = np.stack([ev["dc_h"], ev["dc_p"]], axis=2)  # (n, C, 2)
        dy_u = np.stack([ev["dy_h"], ev["dy_p"]], axis=2)
        daq += dc_u @ du
        dorg += dy_u @ du
        return c, ys, daq, dorg

    def phases(self) -> dict[str, np.ndarray]:
        """pH and the used share of the extractant per mixer at the last solution."""
        out: dict[str, np.ndarray] = {}
        h = np.exp(self.ln_h) if self.proton else self.h_fixed
        if h is not None:
            out["pH"] = -np.log10(h)
        if self.cap is not None:
            out["loading"] = 1.0 - np.exp(self.ln_phi) / self.phi_total
        return out


# ---------------------------------------------------------------------------------------------- the ODE


@dataclass
class _Block:
    """State and stream indices of one chain's stages (arrays of global indices)."""

    chain_index: int
    first_stage: int  # global 0-based stage number of its first stage
    m: np.ndarray  # (n, C) mixer metal
    x: np.ndarray  # (n, X) mixer anions / sulfate
    b: np.ndarray  # (n, C) or (n, 0) bypassed organic metal
    local: np.ndarray  # (n, P) the mixer's local holdups [m, x, b]
    ac: np.ndarray  # (n, cells, C + X) aqueous settler cells
    oc: np.ndarray  # (n, cells, C) organic settler cells
    s_aq: np.ndarray  # (n, C + X) mixer aqueous stream
    s_org: np.ndarray  # (n, C) contacted organic stream
    s_bp: np.ndarray  # (n, C) bypass stream
    s_ac: np.ndarray  # (n, cells, C + X)
    s_oc: np.ndarray  # (n, cells, C)
    s_ea: np.ndarray  # (n, C) or (n, 0) aqueous entrained up with the organic (straight to the next mixer)
    s_eo: np.ndarray  # (n, C) or (n, 0) organic entrained down with the aqueous


class _CascadeOde:
    """Holdups of every unit as the ODE state; streams, routing, Jacobian, and what a run reports."""

    def __init__(self, spec: CascadeSpec, chains: list[_Chain]) -> None:
        dyn = spec.dynamics
        assert dyn is not None and spec.stages is not None
        self.spec = spec
        #: the saponified organic's counter-ion, solved as the last component (None without one)
        self.counter = counter_ion_setup(spec)
        #: the spec's components (the metals); ``comps`` adds the counter-ion when there is one
        self.metals = len(spec.components)
        self.comps = spec.components + ((f"{self.counter.ion}+",) if self.counter is not None else ())
        self.C = len(self.comps)
        self.charge = np.array(
            [spec.charge(c) for c in spec.components] + ([1.0] if self.counter is not None else []),
            dtype=float,
        )
        self.model_type = spec.model.type
        self.chains = chains
        self.sections = tuple(s for ch in chains for s in ch.sections)
        self.K = len(self.sections)
        vs = dyn.settler_volume
        self.n_sa = dyn.settler_cells if vs.aqueous > 0 else 0
        self.n_so = dyn.settler_cells if vs.organic > 0 else 0
        self.cell_aq = vs.aqueous / max(self.n_sa, 1)
        self.cell_org = vs.organic / max(self.n_so, 1)
        # mixer phase volumes (fixed through the run)
        self.Vaq: list[np.ndarray] = []
        self.Vorg: list[np.ndarray] = []
        for ch in chains:
            frac = dyn.aqueous_fraction if dyn.aqueous_fraction is not None else ch.Va / (ch.Va + ch.Vo)
            self.Vaq.append(np.broadcast_to(frac * dyn.mixer_volume, (ch.n,)).astype(float))
            self.Vorg.append(
                np.broadcast_to((1.0 - np.asarray(frac)) * dyn.mixer_volume, (ch.n,)).astype(float)
            )
        self.mixers: list[_Mixers] = []
        for g, ch in enumerate(chains):
            bypass = bool((ch.efficiency < 1.0).any())
            if ch.D is not None:
                self.mixers.append(_ConstantMixers(ch, self.Vaq[g], self.Vorg[g], bypass))
            elif ch.A is not None:
                assert isinstance(spec.model, LoadedSeparationFactorModel) and ch.O is not None
                beta = np.array([spec.model.separation_factors[c] for c in self.comps], dtype=float)
                H_aq = self.Vaq[g] * ch.A / ch.Va
                H_org = self.Vorg[g] * ch.O / ch.Vo
                self.mixers.append(_LsfMixers(beta, H_aq, H_org))
            else:
                self.mixers.append(_PhysicalMixers(ch, self.Vaq[g], self.Vorg[g], self.charge, bypass))
        self.n_rhs = 0
        self.last_failure = ""
        self._layout()
        self.set_chains(chains)

    # -- layout
    def _layout(self) -> None:
        C = self.C
        state = 0
        stream = 0
        stage = 0
        self.blocks: list[_Block] = []
        for g, ch in enumerate(self.chains):
            n, X = ch.n, ch.X
            P = self.mixers[g].P
            nb = P - C - X  # bypass columns (0 or C)
            ne = C if ch.entrained_aqueous is not None else 0  # entrained streams (0 or C each)
            B = P + self.n_sa * (C + X) + self.n_so * C
            Q = (C + X) + C + nb + self.n_sa * (C + X) + self.n_so * C + 2 * ne
            base = state + np.arange(n)[:, None] * B
            sbase = stream + np.arange(n)[:, None] * Q
            local = base + np.arange(P)
            ac = (base + P + np.arange(self.n_sa * (C + X))).reshape(n, self.n_sa, C + X)
            oc = (base + P + self.n_sa * (C + X) + np.arange(self.n_so * C)).reshape(n, self.n_so, C)
            s_aq = sbase + np.arange(C + X)
            s_org = sbase + C + X + np.arange(C)
            s_bp = sbase + 2 * C + X + np.arange(nb)
            off = 2 * C + X + nb
            s_ac = (sbase + off + np.arange(self.n_sa * (C + X))).reshape(n, self.n_sa, C + X)
            s_oc = (sbase + off + self.n_sa * (C + X) + np.arange(self.n_so * C)).reshape(n, self.n_so, C)
            off_e = off + self.n_sa * (C + X) + self.n_so * C
            s_ea = sbase + off_e + np.arange(ne)
            s_eo = sbase + off_e + ne + np.arange(ne)
            self.blocks.append(
                _Block(
                    g,
                    stage,
                    local[:, :C],
                    local[:, C : C + X],
                    local[:, C + X :],
                    local,
                    ac,
                    oc,
                    s_aq,
                    s_org,
                    s_bp,
                    s_ac,
                    s_oc,
                    s_ea,
                    s_eo,
                )
            )
            state += n * B
            stream += n * Q
            stage += n
        # outlets: the streams that leave each chain's ends
        self.outlet_streams: dict[str, list[np.ndarray]] = {}
        names = {"main": ("raffinate", "loaded_organic"), "strip": ("strip_liquor", "stripped_organic")}
        for blk, ch in zip(self.blocks, self.chains, strict=True):
            aq_name, org_name = names[ch.name]
            self.outlet_streams[aq_name] = [blk.s_ac[0, -1, :C] if self.n_sa else blk.s_aq[0, :C]]
            self.outlet_streams[org_name] = (
                [blk.s_oc[-1, -1]]
                if self.n_so
                else [blk.s_org[-1], *([blk.s_bp[-1]] if blk.s_bp.shape[1] else [])]
            )
            if blk.s_ea.shape[1]:  # what the outlets entrain leaves with them
                self.outlet_streams[aq_name].append(blk.s_eo[0])
                self.outlet_streams[org_name].append(blk.s_ea[-1])
        self.terminal = (
            ("raffinate", "loaded_organic")
            if len(self.chains) == 1
            else (
                "raffinate",
                "strip_liquor",
                "stripped_organic",
            )
        )
        self.cum = {name: state + i * C + np.arange(C) for i, name in enumerate(self.terminal)}
        self.n_state = state + len(self.terminal) * C
        self.n_stream = stream
        # which states hold metal of component i (inventory), as a (C, n_state) matrix
        rows, cols = [], []
        for blk in self.blocks:
            for arr in (blk.m, blk.b, blk.ac[:, :, :C], blk.oc):
                if arr.size:
                    rows.append(np.broadcast_to(np.arange(arr.shape[-1]), arr.shape).ravel())
                    cols.append(arr.ravel())
        r = np.concatenate(rows)
        self.inventory_matrix = sp.csr_matrix(
            (np.ones(len(r)), (r, np.concatenate(cols))), shape=(C, self.n_state)
        )

    # -- flows (built at the start and after every event)
    def set_chains(self, chains: list[_Chain]) -> None:
        """Routing, linear streams and inflows for the chains' flows (the holdup volumes stay)."""
        C = self.C
        self.chains = chains
        R_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        W_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        e = np.zeros(self.n_state)
        self.flow_aq = []
        self.flow_org = []

        def route(stream: np.ndarray, state: np.ndarray, *dests: tuple[np.ndarray, Any]) -> None:
            """Stream elements drain their source state; each destination (index array, -1 where the stream
            leaves the cascade) receives its share of them."""
            R_parts.append((state.ravel(), stream.ravel(), -np.ones(stream.size)))
            for dest, frac in dests:
                d = np.broadcast_to(dest, stream.shape).ravel()
                f = np.broadcast_to(frac, stream.shape).ravel().astype(float)
                keep = d >= 0
                R_parts.append((d[keep], stream.ravel()[keep], f[keep]))

        def linear(stream: np.ndarray, state: np.ndarray, coef: Any) -> None:
            W_parts.append(
                (stream.ravel(), state.ravel(), np.broadcast_to(coef, stream.shape).ravel().astype(float))
            )

        names = {"main": ("raffinate", "loaded_organic"), "strip": ("strip_liquor", "stripped_organic")}
        self.cum_in = np.zeros(C)
        for g, (blk, ch) in enumerate(zip(self.blocks, chains, strict=True)):
            mix = self.mixers[g]
            mix.set_flows(ch)
            fa, fo = mix.flow_multipliers(ch)
            self.flow_aq.append(np.asarray(fa, float))
            self.flow_org.append(np.asarray(fo, float))
            n, X = ch.n, ch.X
            Va, Vo = ch.Va[:, None], ch.Vo[:, None]
            aq_out, org_out = names[ch.name]
            # aqueous destination of each stage: the mixer below; stage 1's metal leaves as an outlet
            aq_dest = np.full((n, C + X), -1, dtype=np.int64)
            aq_dest[1:, :C] = blk.m[:-1]
            aq_dest[1:, C:] = blk.x[:-1]
            aq_dest[0, :C] = self.cum[aq_out]
            mixer_aq = np.concatenate([blk.m, blk.x], axis=1)
            route(blk.s_aq, mixer_aq, (blk.ac[:, 0] if self.n_sa else aq_dest, 1.0))
            if X:
                linear(blk.s_aq[:, C:], blk.x, Va / self.Vaq[g][:, None])
            for cell in range(self.n_sa):
                dest = blk.ac[:, cell + 1] if cell < self.n_sa - 1 else aq_dest
                route(blk.s_ac[:, cell], blk.ac[:, cell], (dest, 1.0))
                linear(blk.s_ac[:, cell], blk.ac[:, cell], Va / self.cell_aq)
            # organic destination of each stage: the next mixer, split between its contacted zone and bypass
            nxt_m, nxt_b, frac = self._organic_next(g, org_out)
            org_dests = ((nxt_m, 1.0 - frac), (nxt_b, frac))
            sources = [(blk.s_org, blk.m)]
            if blk.b.shape[1]:
                sources.append((blk.s_bp, blk.b))
                linear(blk.s_bp, blk.b, Vo / self.Vorg[g][:, None])
            for stream, state in sources:
                if self.n_so:
                    route(stream, state, (blk.oc[:, 0], 1.0))
                else:
                    route(stream, state, *org_dests)
            for cell in range(self.n_so):
                if cell < self.n_so - 1:
                    route(blk.s_oc[:, cell], blk.oc[:, cell], (blk.oc[:, cell + 1], 1.0))
                else:
                    route(blk.s_oc[:, cell], blk.oc[:, cell], *org_dests)
                linear(blk.s_oc[:, cell], blk.oc[:, cell], Vo / self.cell_org)
            if blk.s_ea.shape[1]:
                # entrainment (constant D, ideal stages): the aqueous the organic carries up, at the mixer's
                # aqueous concentration c = m (1 - w) / V_aq, goes straight to the next mixer (or out with
                # the loaded organic); the organic the aqueous carries down, at y = m w / V_org, to the
                # mixer below (or out with the raffinate)
                mix_c = self.mixers[g]
                assert isinstance(mix_c, _ConstantMixers)
                ea = np.asarray(ch.entrained_aqueous, float)[:, None]
                eo = np.asarray(ch.entrained_organic, float)[:, None]
                linear(blk.s_ea, blk.m, ea * Vo * (1.0 - mix_c.w) / self.Vaq[g][:, None])
                linear(blk.s_eo, blk.m, eo * Va * mix_c.w / mix_c.Vc[:, None])
                route(blk.s_ea, blk.m, (nxt_m, 1.0))
                down = np.full((n, C), -1, dtype=np.int64)
                down[1:] = blk.m[:-1]
                down[0] = self.cum[aq_out]
                route(blk.s_eo, blk.m, (down, 1.0))
            # inflows from outside
            np.add.at(e, blk.m.ravel(), ch.metal_in.ravel())
            if X:
                np.add.at(e, blk.x.ravel(), ch.extras_in.ravel())
            if ch.org_inlet.any():
                fb = (1.0 - ch.efficiency[0]) * ch.Vo[0] / ch.vo_in if blk.b.shape[1] else 0.0
                e[blk.m[0]] += (1.0 - fb) * ch.org_inlet
                if blk.b.shape[1]:
                    e[blk.b[0]] += fb * ch.org_inlet
            self.cum_in += ch.metal_in.sum(0) + ch.org_inlet
        self.e = e
        self.R = _sparse(R_parts, (self.n_state, self.n_stream))
        self.W_lin = _sparse(W_parts, (self.n_stream, self.n_state))
        # nonlinear stream rows (mixer aqueous metal, contacted organic) and their local columns
        rows, cols = [], []
        for blk in self.blocks:
            P = blk.local.shape[1]
            for s in (blk.s_aq[:, :C], blk.s_org):
                rows.append(np.repeat(s[:, :, None], P, axis=2).ravel())
                cols.append(np.repeat(blk.local[:, None, :], C, axis=1).ravel())
        self._nl_rows = np.concatenate(rows)
        self._nl_cols = np.concatenate(cols)

    def _organic_next(self, g: int, org_out: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where each stage's outgoing organic goes: the next stage's mixer metal (n, C) and bypass (n, C, -1
        without one), and the bypass share (n, 1) = (1 - E') Vo' / Vo_arriving. The last stage's organic goes
        to the next chain's first stage, or leaves the cascade (its cumulated outlet)."""
        blk, ch = self.blocks[g], self.chains[g]
        n, C = ch.n, self.C
        nxt_m = np.full((n, C), -1, dtype=np.int64)
        nxt_b = np.full((n, C), -1, dtype=np.int64)
        frac = np.zeros((n, 1))
        nxt_m[:-1] = blk.m[1:]
        if blk.b.shape[1]:
            nxt_b[:-1] = blk.b[1:]
            frac[:-1, 0] = (1.0 - ch.efficiency[1:]) * ch.Vo[1:] / ch.Vo[:-1]
        if g + 1 < len(self.blocks):
            nb, nc = self.blocks[g + 1], self.chains[g + 1]
            nxt_m[-1] = nb.m[0]
            if nb.b.shape[1]:
                nxt_b[-1] = nb.b[0]
                frac[-1, 0] = (1.0 - nc.efficiency[0]) * nc.Vo[0] / nc.vo_in
        else:
            nxt_m[-1] = self.cum[org_out]
        return nxt_m, nxt_b, frac

    # -- evaluation
    def streams(self, x: np.ndarray, derivatives: bool = False):
        """Every stream (mol/h, eq/h) at holdups x; with ``derivatives`` also the mixer blocks of ds/dx."""
        s = self.W_lin @ x
        derivs = []
        for g, blk in enumerate(self.blocks):
            aq, org, daq, dorg = self.mixers[g].solve(x[blk.local], derivatives)
            s[blk.s_aq[:, : self.C]] = self.flow_aq[g][:, None] * aq
            s[blk.s_org] = self.flow_org[g][:, None] * org
            if derivatives:
                derivs.append((self.flow_aq[g][:, None, None] * daq, self.flow_org[g][:, None, None] * dorg))
        return s, derivs

    def rhs(self, t: float, x: np.ndarray) -> np.ndarray:
        """d(holdups)/dt, mol/h; NaN where a mixer has no equilibrium (the integrator shortens its step)."""
        self.n_rhs += 1
        try:
            s, _ = self.streams(x)
        except _LocalFailure as exc:
            self.last_failure = str(exc)
            return np.full_like(x, np.nan)
        return self.R @ s + self.e

    def jac(self, t: float, x: np.ndarray) -> sp.csc_matrix:
        """The exact Jacobian routing x d(streams)/d(holdups), sparse (CSC)."""
        try:
            _, derivs = self.streams(x, derivatives=True)
        except _LocalFailure as exc:
            raise ConvergenceError(f"dynamic cascade: {exc} at t = {t:.6g} h") from None
        data = np.concatenate([np.concatenate([da.ravel(), do.ravel()]) for da, do in derivs])
        W = self.W_lin + sp.csr_matrix((data, (self._nl_rows, self._nl_cols)), shape=self.W_lin.shape)
        return (self.R @ W).tocsc()

    # -- what a run reports
    def outlet_flows(self, s: np.ndarray) -> dict[str, np.ndarray]:
        """Metal flow of every outlet (mol/h) from the streams."""
        return {
            name: sum((s[i] for i in parts), np.zeros(self.C)) for name, parts in self.outlet_streams.items()
        }

    def outlet_volume(self, name: str) -> float:
        """Volume flow of an outlet at the current inlets, L/h."""
        main = self.chains[0]
        strip = self.chains[-1]
        return float(
            {
                "raffinate": main.Va[0],
                "loaded_organic": main.Vo[-1],
                "strip_liquor": strip.Va[0],
                "stripped_organic": strip.Vo[-1],
            }[name]
        )

    def outlet_ph(self, x: np.ndarray) -> dict[str, float]:
        """pH of the aqueous outlets (physical models), from the unit the aqueous leaves (call after
        ``streams``: a mixer's [H+] is its last solution)."""
        out: dict[str, float] = {}
        for g, (blk, ch) in enumerate(zip(self.blocks, self.chains, strict=True)):
            mix = self.mixers[g]
            if not isinstance(mix, _PhysicalMixers):
                continue
            name = "raffinate" if ch.name == "main" else "strip_liquor"
            if ch.proton and self.n_sa:
                cell = x[blk.ac[0, -1]] / self.cell_aq
                total = cell[self.C] - float(cell[: self.C] @ self.charge)
                sulfate = cell[self.C + 1] if ch.sulfate else 0.0
                h = (
                    free_proton(np.array([total]), np.array([sulfate]), ch.bisulfate_ka)[0][0]
                    if ch.sulfate
                    else total
                )
            elif ch.proton:
                h = math.exp(mix.ln_h[0])
            else:
                assert ch.h_fixed is not None
                h = float(ch.h_fixed[0])
            out[name] = -math.log10(h) if h > 0 else float("nan")
        return out

    def stage_profile(self, s: np.ndarray) -> StageProfile:
        """Flows leaving each mixer (mol/h), pH and extractant use, from the streams (after ``streams``)."""
        aq, org, ph, load = [], [], [], []
        for g, blk in enumerate(self.blocks):
            aq.append(s[blk.s_aq[:, : self.C]])
            o = s[blk.s_org]
            if blk.s_bp.shape[1]:
                o = o + s[blk.s_bp]
            org.append(o)
            phases = self.mixers[g].phases()
            ph.append(phases.get("pH"))
            load.append(phases.get("loading"))
        return StageProfile(
            np.vstack(aq),
            np.vstack(org),
            np.concatenate(ph) if all(p is not None for p in ph) else None,
            np.concatenate(load) if all(v is not None for v in load) else None,
        )

    def residence_time(self) -> float:
        """The longest residence time of a stage (mixer plus both settlers), h."""
        worst = 0.0
        for g, ch in enumerate(self.chains):
            mixer = (self.Vaq[g] + self.Vorg[g]) / (ch.Va + ch.Vo)
            settlers = self.n_sa * self.cell_aq / ch.Va + self.n_so * self.cell_org / ch.Vo
            worst = max(worst, float((mixer + settlers).max()))
        return worst

    def scales(self) -> np.ndarray:
        """A typical size of every holdup (metal in mol, anions in eq): its throughput scale times the
        unit's residence time; the integrator's absolute tolerance is proportional to it."""
        metal = max(float(self.cum_in.sum()), 1e-300)
        out = np.zeros(self.n_state)
        for g, (blk, ch) in enumerate(zip(self.blocks, self.chains, strict=True)):
            extras = np.abs(ch.extras_in).sum(0) if ch.X else np.zeros(0)
            extras = np.where(extras > 0, extras, 1.0)
            tau_m = ((self.Vaq[g] + self.Vorg[g]) / (ch.Va + ch.Vo))[:, None]
            out[blk.m] = metal * tau_m
            if ch.X:
                out[blk.x] = extras * tau_m
            if blk.b.shape[1]:
                out[blk.b] = metal * (self.Vorg[g] / ch.Vo)[:, None]
            if self.n_sa:
                tau = (self.cell_aq / ch.Va)[:, None, None]
                out[blk.ac[:, :, : self.C]] = metal * tau
                if ch.X:
                    out[blk.ac[:, :, self.C :]] = extras * tau
            if self.n_so:
                out[blk.oc] = metal * (self.cell_org / ch.Vo)[:, None, None]
        for idx in self.cum.values():
            out[idx] = metal * self.residence_time()
        return out


def _sparse(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], shape: tuple[int, int]) -> sp.csr_matrix:
    if not parts:
        return sp.csr_matrix(shape)
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    vals = np.concatenate([p[2] for p in parts])
    return sp.csr_matrix((vals, (rows, cols)), shape=shape)


# ---------------------------------------------------------------------------------------------- states


def _steady_extras(ch: _Chain) -> np.ndarray:
    """Steady anion equivalents and sulfate per L of each stage's aqueous (they do not extract), (n, X)."""
    return np.cumsum(ch.extras_in[::-1], axis=0)[::-1] / ch.Va[:, None]


def _fill(ode: _CascadeOde, aq: np.ndarray, org: np.ndarray, org_arriving: np.ndarray) -> np.ndarray:
    """Holdups of every unit for stage outflows ``aq``, ``org`` (K, C; mol/h) passing through unchanged.

    Mixers hold the phases that leave them (with E < 1: the contacted organic at y* and the bypass at the
    arriving organic), settler cells the streams they pass on, the aqueous its steady anions and sulfate.
    ``org_arriving``: the organic metal entering the first stage, mol/h.
    """
    x = np.zeros(ode.n_state)
    C = ode.C
    for g, (blk, ch) in enumerate(zip(ode.blocks, ode.chains, strict=True)):
        k0 = blk.first_stage
        a = aq[k0 : k0 + ch.n]
        o = org[k0 : k0 + ch.n]
        mix = ode.mixers[g]
        if isinstance(mix, _LsfMixers):
            assert ch.A is not None and ch.O is not None
            xa = a / ch.A[:, None]
            yo = o / ch.O[:, None]
            x[blk.m] = mix.H_org[:, None] * yo + (ode.Vaq[g] * ch.A / ch.Va)[:, None] * xa
        else:
            c = a / ch.Va[:, None]
            y = o / ch.Vo[:, None]
            arriving = org_arriving / ch.vo_in if g == 0 else org[k0 - 1] / ch.vo_in
            y_in = np.vstack([arriving[None], y[:-1]])
            eff = ch.efficiency[:, None]
            ys = np.maximum((y - (1.0 - eff) * y_in) / eff, 0.0)
            x[blk.m] = ode.Vaq[g][:, None] * c + eff * ode.Vorg[g][:, None] * ys
            if blk.b.shape[1]:
                x[blk.b] = (1.0 - eff) * ode.Vorg[g][:, None] * y_in
        if ch.X:
            x[blk.x] = ode.Vaq[g][:, None] * _steady_extras(ch)
        for cell in range(ode.n_sa):
            x[blk.ac[:, cell, :C]] = a * ode.cell_aq / ch.Va[:, None]
            if ch.X:
                x[blk.ac[:, cell, C:]] = ode.cell_aq * _steady_extras(ch)
        for cell in range(ode.n_so):
            x[blk.oc[:, cell]] = o * ode.cell_org / ch.Vo[:, None]
    return x


def _with_counter_ion_stages(ode: _CascadeOde, result: CascadeResult) -> tuple[np.ndarray, np.ndarray]:
    """A steady result's stage flows (K, C) with the counter-ion's as the last column when the run has one."""
    if ode.counter is None:
        return result.aqueous, result.organic
    assert result.counter_ion is not None
    stages = result.counter_ion["stages"]
    return (
        np.column_stack([result.aqueous, stages["aqueous"]]),
        np.column_stack([result.organic, stages["organic"]]),
    )


def _with_counter_ion_outlets(ode: _CascadeOde, result: CascadeResult) -> dict[str, np.ndarray]:
    """A steady result's outlet flows with the counter-ion's appended when the run has one."""
    if ode.counter is None:
        return result.outlets
    assert result.counter_ion is not None
    ion = result.counter_ion["outlets"]
    return {name: np.append(flow, ion[name]["mol_h"]) for name, flow in result.outlets.items()}


def _profile_array(values: Mapping[str, Any], comps: tuple[str, ...], K: int) -> np.ndarray:
    out = np.zeros((K, len(comps)))
    for i, c in enumerate(comps):
        if c in values:
            out[:, i] = np.asarray(values[c], dtype=float)
    return out


def _initial_state(ode: _CascadeOde, spec: CascadeSpec, steady: CascadeResult | None) -> np.ndarray:
    """Holdups at t = 0 for ``dynamics.initial`` (fresh, steady, or explicit stage contents)."""
    dyn = spec.dynamics
    assert dyn is not None
    K, C = ode.K, ode.C
    main = ode.chains[0]
    if dyn.initial == "steady":
        assert steady is not None
        aq, org = _with_counter_ion_stages(ode, steady)
        return _fill(ode, aq, org, main.org_inlet)
    aq = np.zeros((K, C))
    org = np.zeros((K, C))
    if isinstance(dyn.initial, InitialProfile):
        c0 = _profile_array(dyn.initial.aqueous, ode.comps, K)
        y0 = _profile_array(dyn.initial.organic, ode.comps, K)
        k = 0
        for ch in ode.chains:
            if ch.A is not None and ch.O is not None:
                aq[k : k + ch.n] = ch.A[:, None] * _composition(c0[k : k + ch.n], spec)
                org[k : k + ch.n] = ch.O[:, None] * _composition(y0[k : k + ch.n], spec)
            else:
                aq[k : k + ch.n] = ch.Va[:, None] * c0[k : k + ch.n]
                org[k : k + ch.n] = ch.Vo[:, None] * y0[k : k + ch.n]
            k += ch.n
        return _fill(ode, aq, org, main.org_inlet)
    # fresh: metal-free aqueous at its steady acidity, the inlet organic; LSF: stages at the feed composition
    if main.A is not None and main.O is not None:
        z = _composition(np.zeros((main.n, C)), spec)
        aq[: main.n] = main.A[:, None] * z
        org[: main.n] = main.O[:, None] * z
    else:
        org[: main.n] = main.Vo[:, None] * (main.org_inlet / main.vo_in)
    return _fill(ode, aq, org, main.org_inlet)


def _composition(rows: np.ndarray, spec: CascadeSpec) -> np.ndarray:
    """Rows normalised to sum 1; rows without metal take the feed's composition."""
    f = _feed_vector(spec)
    total = rows.sum(1, keepdims=True)
    return np.where(total > 0, rows / np.where(total > 0, total, 1.0), f / f.sum())


# ---------------------------------------------------------------------------------------------- events


def _merge(base: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    exclusive = (("pH", "acid"), ("flow", "concentration"))
    for a, b in exclusive:
        if a in change and b not in change:
            out.pop(b, None)
        if b in change and a not in change:
            out.pop(a, None)
    return out


def _event_specs(spec: CascadeSpec, file: str | None) -> list[CascadeSpec]:
    """The spec in force after each event (the inlet fields merged in turn)."""
    assert spec.dynamics is not None
    out = [spec]
    current = spec.model_dump(exclude_none=True)
    for i, ev in enumerate(spec.dynamics.events):
        for name in EVENT_STREAMS:
            change = getattr(ev, name)
            if change is not None:
                current[name] = _merge(dict(current.get(name, {})), change)
        try:
            out.append(load_spec(current))
        except InputError as exc:
            raise _event_error(exc, i, file) from None
    return out


def _event_error(exc: InputError, i: int, file: str | None) -> InputError:
    field_ = exc.field or "(spec)"
    message = str(exc).split(f"{exc.field}: ", 1)[-1] if exc.field else str(exc)
    return InputError(message, file=file, field=f"dynamics.events[{i}].{field_}")


# ---------------------------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class StageProfile:
    """Stage flows at one time: what leaves each mixer (before its settler), mol/h; pH and extractant use."""

    aqueous: np.ndarray  # (K, C) mol/h
    organic: np.ndarray  # (K, C) mol/h
    pH: np.ndarray | None = None  # noqa: N815
    loading: np.ndarray | None = None


@dataclass(frozen=True)
class DynamicResult:
    """A dynamic run (a failed integration raises instead of returning one).

    Attributes:
        components, sections, model: as in :class:`CascadeResult`.
        times: (T,) output times, h.
        outlets: outlet name -> (T, C) flows, mol/h ("raffinate", "loaded_organic"; with a strip section also
            "strip_liquor", "stripped_organic").
        outlet_volume_flow: outlet name -> (T,) volume flow, L/h (steps at events).
        outlet_pH: aqueous outlet name -> (T,) pH (physical models).
        inventory: (T, C) metal held in the cascade, mol.
        profiles: time (h) -> :class:`StageProfile`.
        time_to_steady_state: first output time (h) from which every outlet flow stays within ``tolerance``
            of the total metal inflow of its steady value; None if the run did not get there.
        steady: the steady state of the spec after its last event (``simulate``), None if it did not
            converge (the run's final state is then the reference).
        steady_state_deviation: max |outlet flow at the end - steady| / total metal inflow (None without
            a steady state to compare with).
        mass_balance_error: |holdup change + metal out - metal in| summed over components, relative to the
            metal held at the start plus all metal in.
        events: times of the events, h. solver: integrator statistics.
    """

    components: tuple[str, ...]
    sections: tuple[str, ...]
    model: str
    times: np.ndarray
    outlets: dict[str, np.ndarray]
    outlet_volume_flow: dict[str, np.ndarray]
    outlet_pH: dict[str, np.ndarray]  # noqa: N815
    inventory: np.ndarray
    profiles: dict[float, StageProfile]
    time_to_steady_state: float | None
    tolerance: float
    steady: CascadeResult | None
    steady_state_deviation: float | None
    mass_balance_error: float
    terminal_outlets: tuple[str, ...]
    events: tuple[float, ...] = ()
    solver: dict[str, Any] = field(default_factory=dict)
    #: the saponified organic's counter-ion (``model.counter_ion``): its outlet flows (mol/h) and inventory
    #: (mol) over time, kept out of the metal arrays; None without one
    counter_ion: dict[str, Any] | None = None

    def concentration(self, outlet: str) -> np.ndarray:
        """(T, C) concentrations of an outlet, mol/L."""
        return self.outlets[outlet] / self.outlet_volume_flow[outlet][:, None]

    def purity(self, outlet: str) -> np.ndarray:
        """(T, C) share of each component in the outlet's metal (NaN while it carries none)."""
        flow = self.outlets[outlet]
        total = flow.sum(1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, flow / np.where(total > 0, total, 1.0), np.nan)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (docs/cascade-spec.md): times, outlets, stages_at, time_to_steady_state, ..."""
        comps = self.components

        def series(arr: np.ndarray) -> dict[str, list[float | None]]:
            clean = np.where(np.isfinite(arr), arr, np.nan)
            return {
                c: [None if math.isnan(v) else v for v in clean[:, i].tolist()] for i, c in enumerate(comps)
            }

        outlets: dict[str, Any] = {}
        for name, flow in self.outlets.items():
            entry: dict[str, Any] = {
                "concentration": series(self.concentration(name)),
                "purity": series(self.purity(name)),
                "flow": series(flow),
                "volume_flow": self.outlet_volume_flow[name].tolist(),
            }
            if name in self.outlet_pH:
                entry["pH"] = self.outlet_pH[name].tolist()
            outlets[name] = entry
        stages_at: dict[str, Any] = {}
        for t, prof in self.profiles.items():
            rows = []
            aq, org = prof.aqueous.tolist(), prof.organic.tolist()
            for k, sec in enumerate(self.sections):
                row: dict[str, Any] = {
                    "stage": k + 1,
                    "section": sec,
                    "aqueous": dict(zip(comps, aq[k], strict=True)),
                    "organic": dict(zip(comps, org[k], strict=True)),
                }
                if prof.pH is not None:
                    row["pH"] = float(prof.pH[k])
                if prof.loading is not None:
                    row["loading"] = float(prof.loading[k])
                rows.append(row)
            stages_at[_time_key(t)] = rows
        return {
            "model": self.model,
            "components": list(comps),
            "times": self.times.tolist(),
            "outlets": outlets,
            "terminal_outlets": list(self.terminal_outlets),
            "stages_at": stages_at,
            "time_to_steady_state": self.time_to_steady_state,
            "tolerance": self.tolerance,
            "steady_state_deviation": self.steady_state_deviation,
            "steady_state": (
                {
                    name: dict(zip(comps, flow.tolist(), strict=True))
                    for name, flow in self.steady.outlets.items()
                }
                if self.steady is not None
                else None
            ),
            "mass_balance_error": self.mass_balance_error,
            "inventory": series(self.inventory),
            "events": list(self.events),
            "solver": dict(self.solver),
            **({"counter_ion": self.counter_ion} if self.counter_ion is not None else {}),
        }


def _time_key(t: float) -> str:
    return f"{t:.10g}"


# ---------------------------------------------------------------------------------------------- the run


@dataclass
class _Recorder:
    """Outlets, inventories and (at chosen times) stage profiles along the run."""

    ode: _CascadeOde
    profile_times: list[float]
    times: list[float] = field(default_factory=list)
    outlets: dict[str, list[np.ndarray]] = field(default_factory=dict)
    volume: dict[str, list[float]] = field(default_factory=dict)
    pH: dict[str, list[float]] = field(default_factory=dict)  # noqa: N815
    inventory: list[np.ndarray] = field(default_factory=list)
    profiles: dict[float, StageProfile] = field(default_factory=dict)

    def record(
        self, t: float, x: np.ndarray, profile: bool = False, again: bool = False
    ) -> dict[str, np.ndarray]:
        """Record the outlets at time t (once per time, or ``again`` right after an event: a step in the
        series where volume flows change); with ``profile`` also the stage profile."""
        ode = self.ode
        try:
            s, _ = ode.streams(x)
        except _LocalFailure as exc:
            raise ConvergenceError(f"dynamic cascade: {exc} at t = {t:.6g} h") from None
        outs = ode.outlet_flows(s)
        if profile:
            self.profiles[t] = ode.stage_profile(s)
        if self.times and (t < self.times[-1] or (t == self.times[-1] and not again)):
            return outs
        self.times.append(t)
        for name, flow in outs.items():
            self.outlets.setdefault(name, []).append(flow)
            self.volume.setdefault(name, []).append(ode.outlet_volume(name))
        for name, ph in ode.outlet_ph(x).items():
            self.pH.setdefault(name, []).append(ph)
        self.inventory.append(ode.inventory_matrix @ x)
        return outs


def _deviation(outs: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray], scale: float) -> float:
    return max(float(np.abs(outs[k] - reference[k]).max()) for k in reference if k in outs) / scale


def simulate_dynamic(spec: CascadeSpec | Mapping[str, Any] | str | Path) -> DynamicResult:
    """Simulate the start-up (or an upset) of a mixer-settler cascade over time.

    Args:
        spec: a CascadeSpec, its dict form, or a path to a YAML/JSON spec file, with a ``dynamics:`` block
            (mixer and settler volumes in L, times in h; see docs/cascade-spec.md).

    Returns:
        DynamicResult: outlet flows (mol/h), concentrations (mol/L), purities and pH over time (h), stage
        profiles at chosen times, the time to steady state, and the deviation of the final state from the
        steady state ``simulate`` gives.

    Raises:
        InputError: missing or inconsistent fields (names the file and the field, e.g.
            ``dynamics.events[0].feed.pH``).
        ConvergenceError: the integration failed (a step size underflow, a mixer without equilibrium), or
            no `until` was given and the steady state was not reached within ``max_time``.
    """
    file = str(spec) if isinstance(spec, str | Path) else None
    spec = load_spec(spec)
    dyn = spec.dynamics
    if dyn is None:
        raise InputError(
            "a dynamic run needs a `dynamics:` block (mixer_volume, ...)", file=file, field="dynamics"
        )
    if spec.stages is None:
        raise InputError("a dynamic run needs the number of stages", file=file, field="stages")
    if spec.entrainment.any and not isinstance(spec.model, ConstantDistributionModel):
        try:
            _no_entrainment(spec, f"the {spec.model.type} model")
        except InputError as exc:
            raise InputError(str(exc).split(f"{exc.field}: ", 1)[-1], file=file, field=exc.field) from None
    if spec.entrainment.any and (
        spec.efficiency.kinetic
        or any(spec.efficiency.of(sec) != 1.0 for sec in ("extraction", "scrub", "strip"))
    ):
        raise InputError(
            "a dynamic run takes entrainment with ideal stages only (no Murphree bypass beside it yet)",
            file=file,
            field="entrainment",
        )
    specs = _event_specs(spec, file)
    phases = []
    for i, s in enumerate(specs):
        try:
            phases.append(_chains(s))
        except InputError as exc:
            if i == 0:
                raise InputError(
                    str(exc).split(f"{exc.field}: ", 1)[-1], file=file, field=exc.field
                ) from None
            raise _event_error(exc, i - 1, file) from None
    ode = _CascadeOde(spec, phases[0])
    for i, chains in enumerate(phases[1:]):
        if [ch.X for ch in chains] != [ch.X for ch in phases[0]]:
            raise InputError(
                "an event cannot add or remove sulfate (the aqueous species carried are fixed at the start)",
                file=file,
                field=f"dynamics.events[{i}]",
            )
    steady0 = simulate(spec) if dyn.initial == "steady" else None
    try:
        steady = simulate(specs[-1]) if len(specs) > 1 or steady0 is None else steady0
    except ConvergenceError:
        steady = None
    if steady is None and dyn.until is None:
        raise InputError(
            "the steady state of this spec did not converge, so a run cannot stop at it: give `until`",
            file=file,
            field="dynamics.until",
        )
    x0 = _initial_state(ode, spec, steady0)
    return _run(ode, x0, spec, phases, steady)


def _run(
    ode: _CascadeOde,
    x0: np.ndarray,
    spec: CascadeSpec,
    phases: list[list[_Chain]],
    steady: CascadeResult | None,
) -> DynamicResult:
    dyn = spec.dynamics
    assert dyn is not None
    tau = ode.residence_time()
    event_times = [ev.at for ev in dyn.events]
    open_ended = dyn.until is None
    t_end = dyn.until if dyn.until is not None else (dyn.max_time or MAX_RESIDENCE_TIMES * tau)
    every = dyn.output_every or (dyn.until / 200.0 if dyn.until is not None else None)
    profile_times = sorted(set(dyn.profiles_at)) if dyn.profiles_at is not None else [0.0]
    planned = sorted(
        {t for t in profile_times if t <= t_end}
        | set(event_times)
        | (
            set(np.arange(1, int(t_end / every) + 1) * every)
            if every is not None and not open_ended
            else set()
        )
        | ({t_end} if not open_ended else set())
    )
    if every is not None and open_ended:
        planned = sorted(set(planned) | set(np.arange(1, int(min(t_end, 1e5 * every) / every) + 1) * every))
    rec = _Recorder(ode, profile_times)
    reference = _with_counter_ion_outlets(ode, steady) if steady is not None else None
    from scipy.integrate import BDF, Radau  # here: importing the package stays light

    method = BDF if dyn.method == "BDF" else Radau
    atol = ATOL_FACTOR * dyn.rtol * ode.scales()
    stats = {
        "method": dyn.method,
        "rtol": dyn.rtol,
        "steps": 0,
        "rhs_evaluations": 0,
        "jacobians": 0,
        "lu": 0,
    }
    outs = rec.record(0.0, x0, profile=0.0 in profile_times)
    scale = float(ode.cum_in.sum())
    x, t = x0, 0.0
    in_total = np.zeros(ode.C)
    stopped = False
    pending = [p for p in planned if p > 0.0]
    bounds = [*event_times, t_end]
    for j, seg_end in enumerate(bounds):
        if j > 0:
            ode.set_chains(phases[j])
            outs = rec.record(t, x, again=True)  # the outlets right after the event, at the same time
        last = j == len(bounds) - 1
        if (
            last
            and open_ended
            and reference is not None
            and _deviation(outs, reference, float(ode.cum_in.sum())) <= dyn.tolerance
        ):
            stopped = True
            break
        if seg_end <= t:
            continue
        f0 = ode.rhs(t, x)
        if not np.isfinite(f0).all():
            raise ConvergenceError(f"dynamic cascade: {ode.last_failure} at t = {t:.6g} h")
        solver = method(ode.rhs, t, x, seg_end, rtol=dyn.rtol, atol=atol, jac=ode.jac)
        t_seg = t
        while solver.status == "running":
            # SciPy's BDF keeps its difference table in np.empty storage and subtracts rows it has not filled
            # yet when it raises the order: whatever those bytes hold can warn "invalid value" on a sound
            # step (seen in one full-suite run). The state it returns is checked below instead.
            with np.errstate(invalid="ignore", over="ignore"):
                message = solver.step()
            stats["steps"] += 1
            if solver.status != "failed" and not np.isfinite(solver.y).all():
                raise ConvergenceError(f"dynamic cascade: non-finite state at t = {solver.t:.6g} h")
            if solver.status == "failed":
                raise ConvergenceError(
                    f"dynamic cascade: the integration failed at t = {solver.t:.6g} h ({message}"
                    + (f"; {ode.last_failure}" if ode.last_failure else "")
                    + ")"
                )
            dense = None
            while pending and pending[0] <= solver.t:
                tp = pending.pop(0)
                dense = dense or solver.dense_output()
                rec.record(tp, dense(tp), profile=tp in profile_times)
            if open_ended and every is None and solver.t < seg_end:
                outs = rec.record(solver.t, solver.y)
            if last and open_ended and reference is not None:
                outs_now = (
                    outs
                    if (rec.times and rec.times[-1] == solver.t)
                    else ode.outlet_flows(ode.streams(solver.y)[0])
                )
                if _deviation(outs_now, reference, float(ode.cum_in.sum())) <= dyn.tolerance:
                    stopped = True
                    break
        stats["rhs_evaluations"] += solver.nfev
        stats["jacobians"] += solver.njev
        stats["lu"] += solver.nlu
        in_total += ode.cum_in * (solver.t - t_seg)
        x, t = solver.y, solver.t
        if stopped:
            break
    if open_ended and not stopped:
        raise ConvergenceError(
            f"dynamic cascade: not within {dyn.tolerance:g} of the steady state after {t:.6g} h "
            "(raise dynamics.max_time or give until)"
        )
    outs = rec.record(t, x, profile=True)
    if dyn.profiles_at is None:
        rec.profiles.setdefault(t, ode.stage_profile(ode.streams(x)[0]))
    # conservation: holdups + metal out = holdups at the start + metal in
    held0 = ode.inventory_matrix @ x0
    out_total = sum((x[ode.cum[name]] for name in ode.terminal), np.zeros(ode.C))
    imbalance = np.abs(ode.inventory_matrix @ x + out_total - held0 - in_total).sum()
    mbe = float(imbalance / max(float((held0 + in_total).sum()), 1e-300))
    if mbe > 1e-9:
        raise ConvergenceError(
            f"dynamic cascade: mass balance not closed (relative error {mbe:.2e})", residual=mbe
        )
    times = np.array(rec.times)
    outlets = {k: np.array(v) for k, v in rec.outlets.items()}
    inventory = np.array(rec.inventory)
    final = {k: v[-1] for k, v in outlets.items()}
    ref = reference if reference is not None else final
    scale = float(ode.cum_in.sum())
    dev = np.array([_deviation({k: v[i] for k, v in outlets.items()}, ref, scale) for i in range(len(times))])
    within = dev <= dyn.tolerance
    if within[-1]:
        first = len(within) - int(np.argmin(within[::-1])) if not within.all() else 0
        t_ss: float | None = float(times[first])
    else:
        t_ss = None
    profiles = dict(sorted(rec.profiles.items()))
    counter_block = None
    if ode.counter is not None:
        # the counter-ion leaves the metal arrays and is reported on its own (as simulate does)
        M = ode.metals
        counter_block = {
            "ion": ode.counter.ion,
            "saponification": ode.counter.saponification,
            "log10_k": ode.counter.log10_k,
            "outlets": {k: v[:, M].tolist() for k, v in outlets.items()},
            "inventory": inventory[:, M].tolist(),
        }
        vo = np.concatenate([ch.Vo for ch in ode.chains])
        total = ode.chains[0].model.total_dimer  # type: ignore[union-attr]
        profiles = {
            t: StageProfile(
                prof.aqueous[:, :M],
                prof.organic[:, :M],
                prof.pH,
                prof.loading - prof.organic[:, M] / vo / total if prof.loading is not None else None,
            )
            for t, prof in profiles.items()
        }
        outlets = {k: v[:, :M] for k, v in outlets.items()}
        inventory = inventory[:, :M]
    return DynamicResult(
        components=ode.comps[: ode.metals],
        sections=ode.sections,
        model=ode.model_type,
        times=times,
        outlets=outlets,
        outlet_volume_flow={k: np.array(v) for k, v in rec.volume.items()},
        outlet_pH={k: np.array(v) for k, v in rec.pH.items()},
        inventory=inventory,
        profiles=profiles,
        time_to_steady_state=t_ss,
        tolerance=dyn.tolerance,
        steady=steady,
        steady_state_deviation=float(dev[-1]) if reference is not None else None,
        mass_balance_error=mbe,
        terminal_outlets=ode.terminal,
        events=tuple(event_times),
        solver=stats,
        counter_ion=counter_block,
    )
