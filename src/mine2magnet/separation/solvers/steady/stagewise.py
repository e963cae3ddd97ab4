"""The physical cascade solver: concentrations, proton balance and free extractant, stage by stage.

Models ``empirical-ph`` and ``mass-action`` (see :mod:`mine2magnet.separation.equilibrium.distribution`).
Per stage k the unknowns are ln c_ik (aqueous metal, mol/L), ln [H+]_k (with the proton balance) and
ln phi_k (the free extractant fraction, when D depends on it). With Va_k, Vo_k the aqueous/organic volume
flows leaving stage k (L/h) and y_ik = D_ik c_ik:

    metal i:   Va_k c_ik + Vo_k y_ik - Va_{k+1} c_i,k+1 - Vo_{k-1} y_i,k-1 = feed_ik
    protons:   Va_k h_k - Va_{k+1} h_k+1 - acid_k + base_k = sum_i z_i T_ik,
               T_ik = Vo_k y_ik - Vo_{k-1} y_i,k-1 - organic feed_ik  (net metal extracted in stage k)
    extractant: phi_k + sum_i nu_i y_ik / T - 1 - extra_extractant = 0   (extra: inlet metal held on top)

(each ion of charge z extracted releases z H+; a saponified organic brings its base into stage 1, where it
neutralises acid). In sulfate media h_k is the total acidic proton concentration [H+] + [HSO4-] and the free
[H+] that sets D follows from the bisulfate equilibrium (see :func:`free_proton`). Adding z_i times the
metal balances to the proton balance gives the conservation of the aqueous anions (chloride, nitrate,
sulfate: they do not extract), so the proton balance is equivalent to electroneutrality of each outgoing
aqueous phase with a known anion profile:

    h_k = Q_k - sum_i z_i c_ik,   Va_k Q_k = sum_{j>=k} (acid_j - base_j + sum_i z_i aqueous feed_ij) + inlet

The solver eliminates [H+] this way and runs Newton on ln c (and ln phi) only, with the exact
block-tridiagonal Jacobian (the [H+] coupling makes its blocks dense) and rows scaled by each equation's
throughput. Steps that raise a concentration are taken in log space (orders of magnitude at once), steps that
lower one as in linear space (never through zero); they are backtracked on the scaled residual norm and on
[H+] > 0. Stepping ln[H+] itself fails on the stiff cases (a small pH change moves the raffinate by orders
of magnitude); stepping the metal profile, with [H+] following locally, does not. The start comes from
relaxation sweeps (see ``_start``). A saponified organic whose cold Newton fails first gets a capped
transient of the stage dynamics (``COLD_TRANSIENT_ITERATIONS``: the base sets the pH of the whole extraction
section, which the sweeps only guess; this removed a cliff of 0.8-3.7 s cold solves of 60-90-stage P507
cascades, now 0.15-0.3 s); then the homotopy in the base; pseudo-transient continuation is the fallback
when Newton stalls, and
after it implicit-Euler stage dynamics with the free extractant on its local balance (``_stage_dynamics``,
``_LocalExtractantSystem``) for metal trapped between the extraction and scrub sections, and last a homotopy
in the scrub acid (``_acid_continuation``). Converged solutions are polished to rounding level (``_polish``).
A warm start (``solve_stagewise(pb, initial)``: the aqueous profile of a neighbouring cascade) is tried
before all of this, Newton then a capped transient from it (``_warm_solve``); the cold path follows
unchanged when it does not converge.

Organic-phase Murphree efficiency E_k < 1 (``StagewiseProblem.efficiency``): the organic leaving stage k is
y_k = y_k-1 + E_k (D_k c_k - y_k-1) instead of D_k c_k, so ln y joins the unknowns (see ``_MurphreeSystem``);
the metal, proton and extractant balances carry the actual organic y, the Jacobian stays exact and block
tridiagonal. Fallback of last resort: a homotopy in E from the ideal solution. With every E = 1 the ideal
system above is solved unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from scipy.linalg import lapack

from mine2magnet.errors import ConvergenceError, InputError
from mine2magnet.separation.contract.spec import (
    BISULFATE_PKA,
    AqueousStream,
    CascadeSpec,
    EmpiricalPhModel,
    MassActionModel,
)
from mine2magnet.separation.equilibrium.distribution import EmpiricalPh, MassAction
from mine2magnet.separation.solvers.steady.block_tridiagonal import (
    solve_block_tridiagonal,
    solve_cascade_chains,
    solve_tridiagonal,
)

TOLERANCE = 1e-11
#: Converged solutions are polished by full Newton steps down to this residual (see ``_polish``).
POLISHED = 1e-14
NEWTON_ITERATIONS = 60
#: Newton iterations allowed from a warm start before its transient takes over (a good guess needs a few).
WARM_NEWTON_ITERATIONS = 8
#: Stage-dynamics (or pseudo-transient) steps allowed from a warm start before the cold path takes over.
WARM_TRANSIENT_ITERATIONS = 600
#: Cap of the stage-dynamics attempt that a cold saponified solve makes before the homotopy in the base
#: (the same as the later fallback's, which it replaces for these cascades).
COLD_TRANSIENT_ITERATIONS = 3000
MAX_LOG_STEP = 2.0
PTC_MAX_STEP = 20.0
PTC_ITERATIONS = 400
START_SWEEPS = 60
DYNAMICS_ITERATIONS = 3000
#: Stage dynamics give up when the pseudo-time step is still below DYNAMICS_STALL_DT after this many steps
#: (a transient that does not recover; the acid homotopy takes over).
DYNAMICS_STALL = 300
DYNAMICS_STALL_DT = 1e-4
#: Stage dynamics give up after this many steps without halving their best residual norm.
DYNAMICS_PLATEAU = 1200
#: The first pseudo-transient continuation gives up after this many steps without halving its best
#: residual (the stage dynamics that follow reach the trapped-metal cases it stalls on).
PTC_PLATEAU = 150
#: Pseudo-transient steps allowed per step of the efficiency homotopy when Newton fails there.
EFFICIENCY_PTC_ITERATIONS = 200
#: Levels of the scrub acid (fraction of its value) the acid homotopy tries to start from, in turn.
ACID_START = (0.3, 0.1, 0.03)
#: Stage-dynamics steps allowed per solve inside the acid homotopy.
ACID_DYNAMICS_ITERATIONS = 1500
#: Stage throughputs below this fraction of the total metal flow are nil: they are not resolved relatively
#: (far below any assay) and do not count towards convergence.
NEGLIGIBLE = 1e-30
#: Lower bound of ln c (mol/L): keeps 60-stage cascades with D ~ 1e4 from underflowing double precision.
LN_C_MIN = math.log(1e-290)
#: Cap of ln D in the exact linear metal cascades of the start (D = e^230 ~ 1e100): products of larger
#: extraction factors overflow the tridiagonal elimination.
LN_D_MAX = 230.0


@dataclass(frozen=True)
class StagewiseProblem:
    """One cascade section chain (stages 1..N) with fixed volume flows. Flows mol/h, volumes L/h."""

    Va: np.ndarray  # (N,) aqueous volume flow leaving each stage
    Vo: np.ndarray  # (N,) organic volume flow leaving each stage
    vo_in: float  # organic inlet volume flow (into stage 1)
    feed_aq: np.ndarray  # (N, C)
    feed_org: np.ndarray  # (N, C)
    aq_inlet: np.ndarray  # (C,) metal entering stage N with the aqueous inlet
    org_inlet: np.ndarray  # (C,) metal entering stage 1 with the organic inlet
    acid_in: np.ndarray  # (N,) H+ entering with aqueous streams
    base_in: np.ndarray  # (N,) base entering (saponified organic, stage 1)
    charge: np.ndarray  # (C,)
    model: EmpiricalPh | MassAction
    proton_balance: bool = True
    #: (N,) total sulfate ([SO4 2-] + [HSO4-]) entering each stage with aqueous streams, mol/h; None: no
    #: sulfate speciation (the acid is all free H+). With sulfate, ``acid_in`` counts [H+] + [HSO4-].
    sulfate_in: np.ndarray | None = None
    #: HSO4- <=> H+ + SO4 2- dissociation constant, mol/L (concentration basis)
    bisulfate_ka: float = 10.0**-1.99
    #: extractant held by metal on top of the capacity T, as a fraction of T: with the "inlet" basis T is the
    #: free extractant of the fresh organic and the metal that organic carries in holds this much more
    #: (PrOMMiS's convention); 0 when T is all the extractant (the inlet metal occupies part of it).
    extra_extractant: float = 0.0
    #: (N,) organic-phase Murphree efficiency of each stage, 0 < E <= 1; None (or all 1): ideal stages
    efficiency: np.ndarray | None = None
    #: (N,) L of aqueous carried up per L of organic leaving each stage (entrainment; ideal stages only)
    entrained_aqueous: np.ndarray | None = None
    #: (N,) L of organic carried down per L of aqueous leaving each stage
    entrained_organic: np.ndarray | None = None

    @property
    def entrains(self) -> bool:
        """Whether any stage entrains one phase in the other."""
        return self.entrained_aqueous is not None and bool(
            np.any(self.entrained_aqueous > 0) or np.any(np.asarray(self.entrained_organic) > 0)
        )


def free_proton(total: np.ndarray, sulfate: np.ndarray, ka: float) -> tuple[np.ndarray, np.ndarray]:
    """Free [H+] (mol/L) and d[H+]/d(total) from the total acidic protons and the total sulfate.

    Solves h + S h / (h + Ka) = H_T (H_T = [H+] + [HSO4-], S = [SO4 2-] + [HSO4-], Ka = [H+][SO4 2-]/[HSO4-]),
    the positive root of h^2 + (Ka + S - H_T) h - Ka H_T = 0, in the cancellation-free form
    2 Ka H_T / (b + sqrt(b^2 + 4 Ka H_T)) for b >= 0. Without sulfate h = H_T. Not positive for H_T <= 0.
    """
    b = ka + sulfate - total
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt(b * b + 4.0 * ka * total)
        h = np.where(b >= 0.0, 2.0 * ka * total / (b + root), 0.5 * (root - b))
        slope = 1.0 / (1.0 + sulfate * ka / (h + ka) ** 2)
    return h, slope


def total_acidity(h: np.ndarray | float, sulfate: np.ndarray | float, ka: float) -> np.ndarray | float:
    """Total acidic protons [H+] + [HSO4-], mol/L, of a solution at free [H+] = h with total sulfate S."""
    return h + sulfate * h / (h + ka)


def with_aqueous_chemistry(pb: StagewiseProblem, spec: CascadeSpec, section: str) -> StagewiseProblem:
    """The spec's sulfate speciation and extractant basis applied to a problem built from its flows.

    ``section`` is "main" (extraction + scrub: the aqueous feed at its stage, the scrub liquor at the last
    stage) or "strip" (the strip liquor at the last strip stage). For each of those streams with `sulfate`
    (mol/L) its sulfate (mol/h) enters ``sulfate_in`` and, if its acidity is given as a `pH` (free H+), the
    HSO4- it holds at that pH is added to ``acid_in`` (``acid`` already counts it). The extractant basis
    "inlet" (the extractant given is the free extractant of the fresh organic, PrOMMiS's convention) adds
    the extractant its metal holds as ``extra_extractant`` (both sections: the same organic circulates).
    Returns ``pb`` itself when the spec uses neither option.
    """
    model = spec.model
    ka = 10.0 ** -float(getattr(model, "bisulfate_pKa", BISULFATE_PKA))
    N = len(pb.Va)
    inlets: list[tuple[AqueousStream | None, int]] = []
    if section == "strip":
        inlets.append((spec.strip, N - 1))
    else:
        if spec.feed.phase == "aqueous":
            inlets.append((spec.feed, spec.feed.stage - 1))
        if spec.scrub is not None and spec.stages is not None and spec.stages.scrub > 0:
            inlets.append((spec.scrub, N - 1))
    sulfate = np.zeros(N)
    acid = pb.acid_in.copy()
    for stream, k in inlets:
        if stream is None or not stream.sulfate or not stream.volume_flow:
            continue
        sulfate[k] += stream.sulfate * stream.volume_flow
        if stream.acid is None and stream.pH is not None:
            h = 10.0 ** (-stream.pH)
            acid[k] += stream.sulfate * h / (h + ka) * stream.volume_flow
    extra = 0.0
    ext = getattr(model, "extractant", None)
    if isinstance(model, EmpiricalPhModel) and ext is not None and ext.basis == "inlet" and spec.organic:
        # the fresh organic's metal (mol/L) binds per_charge x z extractant each, on top of T; the loaded
        # organic feeding a strip section still holds that extractant
        bound = sum(ext.per_charge * spec.charge(c) * y for c, y in spec.organic.concentration.items())
        extra = bound / ext.concentration
    if not sulfate.any() and extra == 0.0:
        return pb
    assert isinstance(model, EmpiricalPhModel | MassActionModel)
    return replace(
        pb,
        acid_in=acid,
        sulfate_in=sulfate if sulfate.any() else None,
        bisulfate_ka=ka,
        extra_extractant=extra,
    )


@dataclass(frozen=True)
class StagewiseSolution:
    c: np.ndarray  # (N, C) aqueous mol/L
    y: np.ndarray  # (N, C) organic mol/L
    h: np.ndarray  # (N,) mol/L
    phi: np.ndarray  # (N,) free share of all the extractant in the stage's organic (1 - loading)
    iterations: int
    residual: float
    mass_balance_error: float
    proton_balance_error: float


class _System:
    """Residual and Jacobian of a StagewiseProblem in the unknowns ln c (N, C) and ln phi (N,)."""

    def __init__(self, pb: StagewiseProblem) -> None:
        self.pb = pb
        self.N, self.C = pb.feed_aq.shape
        self.neutral = pb.proton_balance
        self.cap = pb.model.capacity
        #: leading columns of x that are log concentrations (ln c; with Murphree stages also ln y)
        self.n_log = self.C
        self.P = self.C + int(self.cap is not None)
        self.iw = self.C if self.cap is not None else None
        self.feed = pb.feed_aq + pb.feed_org
        z = pb.charge
        # anion equivalents per L of the aqueous leaving each stage (fixed by the inlets)
        inflow = pb.acid_in - pb.base_in + (pb.feed_aq * z).sum(1)
        inflow[-1] += float((pb.aq_inlet * z).sum())
        self.Q = self.aqueous_profile(inflow)
        # total sulfate in the aqueous leaving each stage (it does not extract), mol/L
        self.sulfate = None
        if pb.sulfate_in is not None and np.any(pb.sulfate_in > 0):
            if not pb.bisulfate_ka > 0:
                raise InputError("the bisulfate dissociation constant must be positive", field="bisulfate_ka")
            self.sulfate = self.aqueous_profile(pb.sulfate_in)
        # [H+] from mixing the acid inlets alone (used without a proton balance, and for the start)
        self.h_mix = self.free(np.maximum(self.aqueous_profile(pb.acid_in), 1e-14))[0]
        # free-extractant balance: phi + sum nu y / T = phi_total (1, or more if the inlet metal comes on top)
        self.phi_total = 1.0 + (pb.extra_extractant if self.cap is not None else 0.0)
        if self.phi_total <= 0:
            raise InputError("the extractant capacity must be positive", field="model.extractant")
        total = self.feed.sum() + pb.aq_inlet.sum() + pb.org_inlet.sum()
        # metal rows whose throughput is below this (mol/h) are physically nil (see NEGLIGIBLE)
        self.floor = NEGLIGIBLE * float(total)

    def aqueous_profile(self, inflow: np.ndarray) -> np.ndarray:
        """Concentration (per L) in the aqueous leaving each stage of a species that stays in the aqueous
        (anion equivalents, sulfate, acid), from what enters each stage (per h). Down the aqueous flow it
        accumulates, Va_k q_k = sum_{j >= k} inflow_j; with entrainment the aqueous the organic carries up
        recirculates: (Va_k + ea_k Vo_k) q_k - Va_k+1 q_k+1 - ea_k-1 Vo_k-1 q_k-1 = inflow_k (tridiagonal)."""
        pb = self.pb
        if not pb.entrains:
            return np.cumsum(inflow[::-1])[::-1] / pb.Va
        up = np.asarray(pb.entrained_aqueous, float) * pb.Vo
        lower = np.concatenate([[0.0], -up[:-1]])
        upper = np.concatenate([-pb.Va[1:], [0.0]])
        return solve_tridiagonal(lower, pb.Va + up, upper, np.asarray(inflow, float))

    def free(self, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Free [H+] and d[H+]/d(total acidity) per stage (sulfate speciation, if any)."""
        if self.sulfate is None:
            return total, np.ones_like(total)
        return free_proton(total, self.sulfate, self.pb.bisulfate_ka)

    def total_acid(self, h: np.ndarray) -> np.ndarray:
        """Total acidic protons per stage, mol/L, at free [H+] = h."""
        return h if self.sulfate is None else total_acidity(h, self.sulfate, self.pb.bisulfate_ka)

    def hydrogen(self, c: np.ndarray) -> np.ndarray:
        """Free [H+] per stage, mol/L (electroneutrality with the proton balance, else the inlet acidity)."""
        if self.neutral:
            return self.free(self.Q - c @ self.pb.charge)[0]
        return self.h_mix

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = np.exp(x[:, : self.C])
        h = self.hydrogen(c)
        ln_phi = x[:, self.iw] if self.iw is not None else np.zeros(self.N)
        with np.errstate(invalid="ignore", divide="ignore"):
            return c, np.log(h), ln_phi

    def evaluate(self, x: np.ndarray, jacobian: bool = True):
        """Unscaled residual (N, P), row scales (N, P), Jacobian blocks; residual inf where [H+] <= 0."""
        pb, N, C, P = self.pb, self.N, self.C, self.P
        c, ln_h, ln_phi = self.split(x)
        if not np.isfinite(ln_h).all():
            return np.full((N, P), np.inf), np.ones((N, P)), None
        lnd, dh, dphi = pb.model.log_d(ln_h, ln_phi)
        y, aq, og, r_metal, s_metal = _metal_balances(pb, c, lnd, self.feed)
        r = np.empty((N, P))
        s = np.empty((N, P))
        r[:, :C] = r_metal
        s[:, :C] = s_metal
        if self.cap is not None:
            nu, T = self.cap
            r[:, C] = np.exp(ln_phi) + (nu * y).sum(1) / T - self.phi_total
            s[:, C] = 1.0
        if not jacobian:
            return r, s, None
        eye = np.eye(C)
        if self.neutral:
            h = np.exp(ln_h)
            slope = self.free(self.Q - c @ pb.charge)[1] if self.sulfate is not None else 1.0
            # d ln D_i / d ln c_j through [H+] = free(Q - sum z c)
            G = dh[:, :, None] * (-(pb.charge * c) * np.reshape(slope / h, (-1, 1)))[:, None, :]
            dog = og[:, :, None] * (eye + G)
        else:
            G = None
            dog = og[:, :, None] * eye
        diag = np.zeros((N, P, P))
        lower = np.zeros((N, P, P))
        upper = np.zeros((N, P, P))
        ic = np.arange(C)
        diag[:, :C, :C] = dog
        diag[:, ic, ic] += aq
        lower[1:, :C, :C] = -dog[:-1]
        upper[:-1, ic, ic] = -aq[1:]
        if pb.entrains:  # the entrained outflows (same derivatives as their phases) and inflows
            ent_up, ent_dn = _entrained(pb, c, y)
            dent = ent_dn[:, :, None] * (dog / np.where(og > 0, og, 1.0)[:, :, None])
            diag[:, :C, :C] += dent
            diag[:, ic, ic] += ent_up
            lower[1:, ic, ic] -= ent_up[:-1]
            upper[:-1, :C, :C] -= dent[1:]
        if self.cap is not None:
            nu, T = self.cap
            og_dphi = og * dphi
            diag[:, ic, C] = og_dphi
            lower[1:, ic, C] = -og_dphi[:-1]
            if pb.entrains:
                dn_dphi = ent_dn * dphi
                diag[:, ic, C] += dn_dphi
                upper[:-1, ic, C] = -dn_dphi[1:]
            ny = nu * y / T
            diag[:, C, :C] = ny if G is None else ny + np.einsum("ni,nij->nj", ny, G)
            diag[:, C, C] = np.exp(ln_phi) + (ny * dphi).sum(1)
        return r, s, (lower, diag, upper)

    def metal_at(self, ln_h: np.ndarray, ln_phi: np.ndarray) -> np.ndarray:
        """Aqueous metal (N, C), mol/L, solving the metal balances exactly at a given [H+] and phi profile.

        At fixed [H+] and phi every D is fixed, so the metal balances are a linear cascade per component
        (an M-matrix: positive solution), one tridiagonal LAPACK call for all components.
        """
        pb = self.pb
        lnd, _, _ = pb.model.log_d(ln_h, ln_phi)
        if pb.entrains:  # the linear cascade with entrainment (block elimination, pivoting)
            from mine2magnet.separation.solvers.steady.linear_cascade import solve_linear_cascade

            C = self.C
            a, _o = solve_linear_cascade(
                np.exp(np.minimum(lnd, LN_D_MAX)).T,
                np.broadcast_to(pb.Va, (C, self.N)),
                np.broadcast_to(pb.Vo, (C, self.N)),
                self.feed.T,
                pb.aq_inlet,
                pb.org_inlet,
                1.0,
                pb.vo_in,
                np.broadcast_to(np.asarray(pb.entrained_aqueous, float), (C, self.N)),
                np.broadcast_to(np.asarray(pb.entrained_organic, float), (C, self.N)),
            )
            return np.maximum(a.T / pb.Va[:, None], math.exp(LN_C_MIN))
        # (C, N) extraction factors, capped at e^LN_D_MAX so the elimination cannot overflow (a larger D
        # changes no flow: the stage's aqueous is then below e^-LN_D_MAX of its organic)
        E = (np.exp(np.minimum(lnd, LN_D_MAX)) * (pb.Vo / pb.Va)[:, None]).T
        rhs = self.feed.T.copy()
        rhs[:, -1] += pb.aq_inlet
        rhs[:, 0] += pb.org_inlet
        a = solve_cascade_chains(E, rhs).T
        return np.maximum(a / pb.Va[:, None], math.exp(LN_C_MIN))

    def solve_step(
        self, lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray
    ) -> np.ndarray:
        """Solve the (scaled) block-tridiagonal Newton system, blocks (N, P, P), rhs (N, P)."""
        return solve_block_tridiagonal(lower[None], diag[None], upper[None], rhs[None])[0]

    def pack(self, c: np.ndarray, ln_h: np.ndarray, ln_phi: np.ndarray) -> np.ndarray:
        """The unknowns x (N, P) of an aqueous profile c (mol/L) and free-extractant profile ln phi."""
        x = np.zeros((self.N, self.P))
        x[:, : self.C] = np.log(c)
        if self.iw is not None:
            x[:, self.iw] = ln_phi
        return x

    def organic(self, x: np.ndarray) -> np.ndarray:
        """Organic leaving each stage (N, C), mol/L: in equilibrium with the aqueous (ideal stages)."""
        c, ln_h, ln_phi = self.split(x)
        lnd, _, _ = self.pb.model.log_d(ln_h, ln_phi)
        return np.exp(lnd) * c


class _MurphreeSystem(_System):
    """Stages of organic-phase Murphree efficiency E_k < 1: unknowns ln c (N, C), ln y (N, C), ln phi (N,).

    The organic leaving stage k is not in equilibrium with its aqueous; it moved a fraction E_k of the way
    from the organic entering the stage (y_in,k = y_k-1, the organic inlet concentration for stage 1) to the
    organic in equilibrium with the outgoing aqueous, y*_ik = D_ik(h_k, phi_k) c_ik:

        Murphree i:  Vo_k y_ik - Vo_k (1 - E_k) y_i,k-1 - Vo_k E_k y*_ik = 0

    (the same definition as the constant-distribution cascade, :mod:`linear_cascade`). The metal balances
    carry the actual organic y, the proton balance (through electroneutrality, h_k = free(Q_k - sum z c_k))
    the actual transfer, and the free extractant phi_k is that of the actual outgoing organic; D_k is taken
    at that stage's outlet [H+] and phi. The Murphree rows couple stage k to k-1 only, so the Jacobian stays
    block tridiagonal (blocks of 2C + 1) and exact.
    """

    def __init__(self, pb: StagewiseProblem) -> None:
        super().__init__(pb)
        assert pb.efficiency is not None
        self.eta = np.asarray(pb.efficiency, dtype=float)
        C = self.C
        self.n_log = 2 * C
        self.P = 2 * C + int(self.cap is not None)
        self.iw = 2 * C if self.cap is not None else None
        self.y_inlet = pb.org_inlet / pb.vo_in  # organic entering stage 1, mol/L

    def organic(self, x: np.ndarray) -> np.ndarray:
        """Organic leaving each stage (N, C), mol/L: the Murphree unknowns."""
        return np.exp(x[:, self.C : 2 * self.C])

    def solve_step(
        self, lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray
    ) -> np.ndarray:
        """Solve the Newton system as a band of half-width P (not 2P - 1): the coupling blocks are sparse.

        With the unknowns ordered (ln c, ln y, ln phi) per stage, stage k couples to stage k-1 only through
        ln y_i,k-1 in rows i and C + i, and to stage k+1 only through ln c_i,k+1 in row i: every entry lies
        within P of the diagonal, so LAPACK's banded LU (``dgbsv``, partial pivoting) works on half the
        bandwidth of a general block-tridiagonal matrix (about 4x fewer operations).
        """
        if self.pb.entrains:  # the entrained organic couples stage k to ln y of stage k+1: full blocks
            return super().solve_step(lower, diag, upper, rhs)
        N, P = rhs.shape
        idx_ab, take_l, take_u, kl = _murphree_band(N, P)
        n = N * P
        ab = np.zeros((3 * kl + 1) * n)
        ab[idx_ab] = np.concatenate([diag.ravel(), lower.ravel()[take_l], upper.ravel()[take_u]])
        _, _, x, info = lapack.dgbsv(kl, kl, ab.reshape(3 * kl + 1, n), rhs.reshape(-1, 1).copy(), 1, 1)
        if info != 0:
            raise ConvergenceError(f"singular stage Jacobian (LAPACK dgbsv info={info})")
        return x.reshape(N, P)

    def equilibrium_organic(self, c: np.ndarray, ln_h: np.ndarray, ln_phi: np.ndarray) -> np.ndarray:
        """Actual organic (N, C), mol/L, from the Murphree recurrence y_k = (1 - E_k) y_k-1 + E_k D_k c_k."""
        lnd, _, _ = self.pb.model.log_d(ln_h, ln_phi)
        ystar = np.exp(np.minimum(lnd, 700.0)) * c
        y = np.empty_like(ystar)
        prev = self.y_inlet
        for k in range(self.N):
            prev = (1.0 - self.eta[k]) * prev + self.eta[k] * ystar[k]
            y[k] = prev
        return y

    def pack(self, c: np.ndarray, ln_h: np.ndarray, ln_phi: np.ndarray) -> np.ndarray:
        x = np.zeros((self.N, self.P))
        x[:, : self.C] = np.log(c)
        y = self.equilibrium_organic(c, ln_h, ln_phi)
        x[:, self.C : 2 * self.C] = np.log(np.maximum(y, math.exp(LN_C_MIN)))
        if self.iw is not None:
            x[:, self.iw] = ln_phi
        return x

    def evaluate(self, x: np.ndarray, jacobian: bool = True):
        """Unscaled residual (N, P), row scales (N, P), Jacobian blocks; residual inf where [H+] <= 0."""
        pb, N, C, P = self.pb, self.N, self.C, self.P
        c, ln_h, ln_phi = self.split(x)
        if not np.isfinite(ln_h).all():
            return np.full((N, P), np.inf), np.ones((N, P)), None
        lnd, dh, dphi = pb.model.log_d(ln_h, ln_phi)
        ystar = np.exp(lnd) * c
        y = np.exp(x[:, C : 2 * C])
        Va, Vo = pb.Va[:, None], pb.Vo[:, None]
        eta = self.eta[:, None]
        aq = Va * c
        og = Vo * y
        og_prev = np.vstack([pb.org_inlet[None], og[:-1]])
        aq_next = np.vstack([aq[1:], pb.aq_inlet[None]])
        y_in = np.vstack([self.y_inlet[None], y[:-1]])
        keep = Vo * (1.0 - eta) * y_in  # the organic's share that passes the stage unchanged, mol/h
        move = Vo * eta * ystar  # the share brought to equilibrium, mol/h
        r = np.empty((N, P))
        s = np.empty((N, P))
        r[:, :C] = aq + og - aq_next - og_prev - self.feed
        s[:, :C] = aq + og + aq_next + og_prev + self.feed
        if pb.entrains:
            up, dn = _entrained(pb, c, y)
            r[:, :C] += up + dn
            r[1:, :C] -= up[:-1]
            r[:-1, :C] -= dn[1:]
            s[:, :C] += up + dn
            s[1:, :C] += up[:-1]
            s[:-1, :C] += dn[1:]
        r[:, C : 2 * C] = og - keep - move
        s[:, C : 2 * C] = og + keep + move
        if self.cap is not None:
            nu, T = self.cap
            r[:, 2 * C] = np.exp(ln_phi) + (nu * y).sum(1) / T - self.phi_total
            s[:, 2 * C] = 1.0
        if not jacobian:
            return r, s, None
        eye = np.eye(C)
        if self.neutral:
            h = np.exp(ln_h)
            slope = self.free(self.Q - c @ pb.charge)[1] if self.sulfate is not None else 1.0
            G = dh[:, :, None] * (-(pb.charge * c) * np.reshape(slope / h, (-1, 1)))[:, None, :]
            dmove = move[:, :, None] * (eye + G)
        else:
            dmove = move[:, :, None] * eye
        diag = np.zeros((N, P, P))
        lower = np.zeros((N, P, P))
        upper = np.zeros((N, P, P))
        ic = np.arange(C)
        iy = C + ic
        # metal balances: d/d ln c (this stage, the stage above), d/d ln y (this stage, the stage below)
        diag[:, ic, ic] = aq
        diag[:, ic, iy] = og
        lower[1:, ic, iy] = -og[:-1]
        upper[:-1, ic, ic] = -aq[1:]
        if pb.entrains:  # entrained aqueous up (in ln c), entrained organic down (in ln y)
            diag[:, ic, ic] += up
            diag[:, ic, iy] += dn
            lower[1:, ic, ic] = -up[:-1]
            upper[:-1, ic, iy] = -dn[1:]
        # Murphree rows
        diag[:, iy, iy] = og
        lower[1:, iy, iy] = -keep[1:]
        diag[:, C : 2 * C, :C] = -dmove
        if self.cap is not None:
            nu, T = self.cap
            diag[:, iy, 2 * C] = -move * dphi
            diag[:, 2 * C, C : 2 * C] = nu * y / T
            diag[:, 2 * C, 2 * C] = np.exp(ln_phi)
        return r, s, (lower, diag, upper)

    def metal_at(self, ln_h: np.ndarray, ln_phi: np.ndarray) -> np.ndarray:
        """Aqueous metal (N, C), mol/L, solving the metal balances with Murphree stages at fixed [H+], phi.

        At fixed D each component is a linear cascade in the flows (a_k, o_k): balance
        a_k + o_k - a_k+1 - o_k-1 = f_k and Murphree o_k - (1 - E_k) (Vo_k/Vo_k-1) o_k-1 - E_k e_k a_k = 0
        (e_k = D_k Vo_k/Va_k). Ordered a_1, o_1, a_2, ... per component, the matrix has band half-widths
        2 and 2; all components go to one LAPACK ``dgbsv`` call. Trace flows may lose relative accuracy
        (pivoting), which only matters for the start (floored at e^LN_C_MIN; Newton takes over).
        """
        pb, N, C = self.pb, self.N, self.C
        lnd, _, _ = pb.model.log_d(ln_h, ln_phi)
        if pb.entrains:
            from mine2magnet.separation.solvers.steady.linear_cascade import solve_linear_cascade

            a, _o = solve_linear_cascade(
                np.exp(np.minimum(lnd, 700.0)).T,
                np.broadcast_to(pb.Va, (C, N)),
                np.broadcast_to(pb.Vo, (C, N)),
                self.feed.T,
                pb.aq_inlet,
                pb.org_inlet,
                np.broadcast_to(self.eta, (C, N)),
                pb.vo_in,
                np.broadcast_to(np.asarray(pb.entrained_aqueous, float), (C, N)),
                np.broadcast_to(np.asarray(pb.entrained_organic, float), (C, N)),
            )
            return np.maximum(a.T / pb.Va[:, None], math.exp(LN_C_MIN))
        n = 2 * N * C
        vo_prev = np.concatenate([[pb.vo_in], pb.Vo[:-1]])
        ab = np.zeros((7, C, N, 2))  # LAPACK band rows (2 kl + ku + 1 = 7) x (component, stage, a/o) columns
        ab[4] = 1.0  # diagonal: a_k in its balance, o_k in its Murphree row
        ab[3, :, :, 1] = 1.0  # balance k: o_k
        ab[2, :, 1:, 0] = -1.0  # balance k: a_k+1 (column of a_k+1)
        ab[5, :, :-1, 1] = -1.0  # balance k+1: o_k
        extraction = np.exp(np.minimum(lnd, 700.0)) * (pb.Vo / pb.Va)[:, None]  # (N, C)
        ab[5, :, :, 0] = -(self.eta[:, None] * extraction).T  # Murphree k: a_k
        ab[6, :, :-1, 1] = -((1.0 - self.eta) * pb.Vo / vo_prev)[1:]  # Murphree k+1: o_k
        rhs = np.zeros((C, N, 2))
        rhs[:, :, 0] = self.feed.T
        rhs[:, -1, 0] += pb.aq_inlet
        rhs[:, 0, 0] += pb.org_inlet
        rhs[:, 0, 1] += (1.0 - self.eta[0]) * pb.Vo[0] / pb.vo_in * pb.org_inlet
        _, _, x, info = lapack.dgbsv(2, 2, ab.reshape(7, n), rhs.reshape(n, 1), 1, 1)
        if info != 0:
            raise ConvergenceError(f"singular Murphree cascade (LAPACK dgbsv info={info})")
        a = x.reshape(C, N, 2)[:, :, 0].T
        return np.maximum(a / pb.Va[:, None], math.exp(LN_C_MIN))


class _LocalExtractantSystem(_System):
    """The ideal-stage system with the free extractant eliminated: unknowns ln c (N, C) only.

    Like [H+] (electroneutrality), phi_k follows locally from each stage's aqueous: the free-extractant
    balance phi + sum_i nu_i D_i(h_k, phi) c_ik / T = phi_total has one root in (0, phi_total]
    (:func:`_local_free_extractant`), so every iterate has an organic within its capacity. The Jacobian stays
    exact and block tridiagonal, by the implicit function theorem per stage: with L_i = nu_i y_i / T and
    a_j = d ln h / d ln c_j,

        d ln phi / d ln c_j = -(L_j + a_j sum_i L_i dlnD_i/dln h) / (phi + sum_i L_i dlnD_i/dln phi).

    Used by the fallback :func:`_stage_dynamics` for loaded organics near saturation, where phi as a free
    unknown lets the iterates overload the organic by orders of magnitude.
    """

    def __init__(self, pb: StagewiseProblem) -> None:
        super().__init__(pb)
        assert self.cap is not None
        self.P = self.C
        self.iw = None

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = np.exp(x[:, : self.C])
        with np.errstate(invalid="ignore", divide="ignore"):
            ln_h = np.log(self.hydrogen(c))
        if not np.isfinite(ln_h).all():
            return c, ln_h, np.zeros(self.N)
        return c, ln_h, _local_free_extractant(self, c, ln_h)

    def pack(self, c: np.ndarray, ln_h: np.ndarray, ln_phi: np.ndarray) -> np.ndarray:
        return np.log(c)

    def evaluate(self, x: np.ndarray, jacobian: bool = True):
        """Metal-balance residual (N, C), row scales (N, C), Jacobian blocks; inf where [H+] <= 0."""
        pb, N, C = self.pb, self.N, self.C
        c, ln_h, ln_phi = self.split(x)
        if not np.isfinite(ln_h).all():
            return np.full((N, C), np.inf), np.ones((N, C)), None
        lnd, dh, dphi = pb.model.log_d(ln_h, ln_phi)
        y, aq, og, r, s = _metal_balances(pb, c, lnd, self.feed)
        if not jacobian:
            return r, s, None
        nu, T = self.cap  # type: ignore[misc]
        load = nu * y / T
        if self.neutral:
            slope = self.free(self.Q - c @ pb.charge)[1] if self.sulfate is not None else 1.0
            a = -(pb.charge * c) * np.reshape(slope / np.exp(ln_h), (-1, 1))
        else:
            a = np.zeros((N, C))
        denom = np.exp(ln_phi) + (load * dphi).sum(1)
        b = -(load + (load * dh).sum(1)[:, None] * a) / denom[:, None]
        G = dh[:, :, None] * a[:, None, :] + dphi[:, :, None] * b[:, None, :]
        dog = og[:, :, None] * (np.eye(C) + G)
        ic = np.arange(C)
        diag = dog.copy()
        diag[:, ic, ic] += aq
        lower = np.zeros((N, C, C))
        upper = np.zeros((N, C, C))
        lower[1:] = -dog[:-1]
        upper[:-1, ic, ic] = -aq[1:]
        if pb.entrains:
            ent_up, ent_dn = _entrained(pb, c, y)
            dent = ent_dn[:, :, None] * (np.eye(C) + G)
            diag += dent
            diag[:, ic, ic] += ent_up
            lower[1:, ic, ic] -= ent_up[:-1]
            upper[:-1] -= dent[1:]
        return r, s, (lower, diag, upper)


def _metal_balances(
    pb: StagewiseProblem, c: np.ndarray, lnd: np.ndarray, feed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stage metal balances of ideal stages at aqueous concentrations `c` (N, C; mol/L) and ln D `lnd`:
    organic concentrations y (mol/L), aqueous and organic outflows aq, og (mol/h), the residual
    out - in (mol/h) and its row scale out + in (mol/h)."""
    y = np.exp(lnd) * c
    aq = pb.Va[:, None] * c
    og = pb.Vo[:, None] * y
    og_prev = np.vstack([pb.org_inlet[None], og[:-1]])
    aq_next = np.vstack([aq[1:], pb.aq_inlet[None]])
    r = aq + og - aq_next - og_prev - feed
    s = aq + og + aq_next + og_prev + feed
    if pb.entrains:
        up, dn = _entrained(pb, c, y)
        r = r + up + dn
        r[1:] -= up[:-1]
        r[:-1] -= dn[1:]
        s = s + up + dn
        s[1:] += up[:-1]
        s[:-1] += dn[1:]
    return y, aq, og, r, s


def _entrained(pb: StagewiseProblem, c: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metal each stage sends up in the aqueous its organic entrains, and down in the organic its aqueous
    entrains (N, C), mol/h."""
    ea = np.asarray(pb.entrained_aqueous, float)[:, None]
    eo = np.asarray(pb.entrained_organic, float)[:, None]
    return ea * pb.Vo[:, None] * c, eo * pb.Va[:, None] * y


@lru_cache(maxsize=32)
def _murphree_band(N: int, P: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Band storage of a Murphree Newton matrix: flat indices into the (3P + 1, N P) LAPACK array for the
    diagonal blocks (all entries), then the lower blocks' entries j >= i (stages 2..N) and the upper blocks'
    entries j <= i (stages 1..N-1), with the flat indices of those entries in their (N, P, P) arrays."""
    kl = P
    n = N * P
    k = np.arange(N)[:, None, None]
    i = np.arange(P)[None, :, None]
    j = np.arange(P)[None, None, :]
    full = np.broadcast_to(np.ones((1, P, P), dtype=bool), (N, P, P))
    lower_in = full & (j >= i) & (k >= 1)
    upper_in = full & (j <= i) & (k <= N - 2)

    def band(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return (2 * kl + rows - cols) * n + cols

    rows = np.broadcast_to(k * P + i, (N, P, P))
    d_idx = band(rows, np.broadcast_to(k * P + j, (N, P, P))).ravel()
    l_idx = band(rows, np.broadcast_to((k - 1) * P + j, (N, P, P)))[lower_in]
    u_idx = band(rows, np.broadcast_to((k + 1) * P + j, (N, P, P)))[upper_in]
    take_l = np.flatnonzero(lower_in.ravel())
    take_u = np.flatnonzero(upper_in.ravel())
    return np.concatenate([d_idx, l_idx, u_idx]), take_l, take_u, kl


def _system(pb: StagewiseProblem) -> _System:
    """The equation system of a problem: ideal stages, or Murphree stages if any efficiency is below 1."""
    if pb.efficiency is not None and np.any(np.asarray(pb.efficiency) != 1.0):
        return _MurphreeSystem(pb)
    return _System(pb)


def _log_step(d: np.ndarray) -> np.ndarray:
    """Map a Newton direction in log variables to the step taken.

    Increases are taken in log space (orders of magnitude at once); decreases as in linear space,
    ln(1 + d), which is exact for equations linear in the unknown and never crosses zero (floored at e^-69).
    Both agree to first order, so the quadratic convergence is kept.
    """
    return np.where(d >= 0.0, d, np.log(np.maximum(1.0 + d, 1e-30)))


def _newton(system: _System, x: np.ndarray, max_iter: int) -> tuple[np.ndarray, bool, int, float]:
    """Damped Newton; returns (x, converged, iterations, max weighted residual).

    The Newton direction is exact (rows scaled by their throughput only for conditioning). Convergence and the
    line search use weights 1/(throughput + nil level), fixed within an iteration, for which the Newton
    direction is a descent direction.
    """
    floor = np.zeros(system.P)
    floor[: system.n_log] = system.floor
    g, s, jac = system.evaluate(x)
    w = 1.0 / (s + floor)
    res = float(np.abs(g * w).max())
    for it in range(max_iter):
        if res < TOLERANCE:
            return x, True, it, res
        if not np.isfinite(res) or jac is None:
            return x, False, it, res
        merit = float(np.sqrt(((g * w) ** 2).sum()))
        inv = 1.0 / s[:, :, None]
        try:
            dx = system.solve_step(jac[0] * inv, jac[1] * inv, jac[2] * inv, -(g / s))
        except ConvergenceError:
            return x, False, it, res
        if not np.isfinite(dx).all():
            return x, False, it, res
        significant = s > floor
        rise = float(np.where(significant, dx, 0.0).max())
        t = min(1.0, MAX_LOG_STEP / max(rise, 1e-300))
        for _ in range(40):
            trial = x + np.minimum(_log_step(t * dx), MAX_LOG_STEP)
            trial[:, : system.n_log] = np.maximum(trial[:, : system.n_log], LN_C_MIN)
            g2, _, _ = system.evaluate(trial, jacobian=False)
            m2 = float(np.sqrt(((g2 * w) ** 2).sum()))
            if np.isfinite(m2) and m2 <= merit * (1.0 - 1e-4 * t):
                break
            t *= 0.5
        else:
            return x, False, it, res
        x = trial
        g, s, jac = system.evaluate(x)
        w = 1.0 / (s + floor)
        res = float(np.abs(g * w).max())
    return x, res < TOLERANCE, max_iter, res


def _polish(system: _System, x: np.ndarray, res: float, steps: int = 2) -> tuple[np.ndarray, float, int]:
    """Full Newton steps from a converged x while they lower the max weighted residual below POLISHED.

    The convergence test (TOLERANCE, 1e-11 relative per row) leaves up to ~1e-8 relative in the flows of
    ill-conditioned cascades (long scrub sections near saturation); one or two more quadratic steps bring
    the residual to rounding level, so solves by different paths (another component order, a homotopy)
    agree to ~1e-12. Returns (x, residual, steps taken).
    """
    floor = np.zeros(system.P)
    floor[: system.n_log] = system.floor
    taken = 0
    for _ in range(steps):
        if res < POLISHED:
            break
        g, s, jac = system.evaluate(x)
        if jac is None:
            break
        inv = 1.0 / s[:, :, None]
        try:
            dx = system.solve_step(jac[0] * inv, jac[1] * inv, jac[2] * inv, -(g / s))
        except ConvergenceError:
            break
        trial = x + np.minimum(_log_step(dx), MAX_LOG_STEP)
        trial[:, : system.n_log] = np.maximum(trial[:, : system.n_log], LN_C_MIN)
        g2, s2, _ = system.evaluate(trial, jacobian=False)
        res2 = float(np.abs(g2 / (s2 + floor)).max())
        if not (np.isfinite(res2) and res2 < res):
            break
        x, res, taken = trial, res2, taken + 1
    return x, res, taken


def _pseudo_transient(
    system: _System,
    x: np.ndarray,
    max_iter: int,
    dt: float = 0.5,
    growth: float = 0.5,
    plateau: int | None = None,
) -> tuple[np.ndarray, bool, int, float]:
    """Pseudo-transient continuation: implicit-Euler steps of the stage dynamics towards steady state.

    Each step solves (J + I/dt) dx = -r in the throughput-scaled rows (every row a stage inventory relaxing
    on the same time scale); dt grows as the residual falls (switched evolution relaxation) and shrinks when a
    step fails, so the iteration turns into Newton's method near the solution. Globally robust where a line
    search on Newton's direction stalls (the stiff proton-coupled cascades). ``growth``: the factor dt grows
    by at least after a step that did not double the residual (0.5: the plain residual-ratio rule, which can
    stall on a long transient whose residual stays flat; 2: dt doubles through it). ``plateau``: give up
    after that many steps without halving the best residual (None: never).
    """
    floor = np.zeros(system.P)
    floor[: system.n_log] = system.floor
    g, s, jac = system.evaluate(x)
    res = float(np.abs(g / (s + floor)).max())
    norm = float(np.sqrt(((g / (s + floor)) ** 2).sum()))
    eye = np.eye(system.P)
    best, best_it = res, 0
    for it in range(max_iter):
        if res < TOLERANCE:
            return x, True, it, res
        if res < 0.5 * best:
            best, best_it = res, it
        elif plateau is not None and it - best_it > plateau:
            return x, False, it, res
        if jac is None or not np.isfinite(res):
            return x, False, it, res
        inv = 1.0 / s[:, :, None]
        for _ in range(30):
            try:
                dx = system.solve_step(jac[0] * inv, jac[1] * inv + eye / dt, jac[2] * inv, -(g / s))
            except ConvergenceError:
                dx = np.full_like(x, np.nan)
            trial = x + np.minimum(_log_step(dx), PTC_MAX_STEP)
            trial[:, : system.n_log] = np.maximum(trial[:, : system.n_log], LN_C_MIN)
            g2, s2, jac2 = system.evaluate(trial) if np.isfinite(dx).all() else (None, None, None)
            if g2 is not None and jac2 is not None:
                norm2 = float(np.sqrt(((g2 / (s2 + floor)) ** 2).sum()))
                if np.isfinite(norm2) and norm2 < 10.0 * norm:
                    break
            dt *= 0.25
        else:
            return x, False, it, res
        floor_growth = growth if norm2 < 2.0 * norm else 0.5
        dt = min(dt * max(floor_growth, min(norm / max(norm2, 1e-300), 10.0)), 1e12)
        x, g, s, jac, norm = trial, g2, s2, jac2, norm2
        res = float(np.abs(g / (s + floor)).max())
    return x, res < TOLERANCE, max_iter, res


def _stage_dynamics(
    system: _System, x: np.ndarray, max_iter: int, dt: float = 0.1
) -> tuple[np.ndarray, bool, int, float]:
    """Implicit-Euler time stepping of the stage inventories to steady state (unknowns ln c only).

    Each step solves (J + M/dt) dx = -r with M = d(Va_k c_k + Vo_k y_k)/d ln c_k, the stage's own metal
    inventory (the diagonal Jacobian block), rows scaled by throughput: the dynamics of a cascade whose stages
    hold their throughput times dt, a stable physical process whose end state is the steady state sought. dt
    doubles after each step that lowers the residual (so the iteration becomes Newton's method), and quarters
    when a step fails. This reaches the accumulations (metal trapped between the extraction and scrub
    sections, organic near saturation) that the other iterations cannot.
    """
    floor = system.floor
    g, s, jac = system.evaluate(x)
    res = float(np.abs(g / (s + floor)).max())
    norm = float(np.sqrt(((g / (s + floor)) ** 2).sum()))
    best, best_it = norm, 0
    for it in range(max_iter):
        if res < TOLERANCE:
            return x, True, it, res
        if jac is None or not np.isfinite(res):
            return x, False, it, res
        if norm < 0.5 * best:
            best, best_it = norm, it
        elif it - best_it > DYNAMICS_PLATEAU:  # filling plateaus last up to ~900 steps; this one does not end
            return x, False, it, res
        inv = 1.0 / s[:, :, None]
        for _ in range(30):
            try:
                dx = system.solve_step(jac[0] * inv, jac[1] * (1.0 + 1.0 / dt) * inv, jac[2] * inv, -(g / s))
            except ConvergenceError:
                dx = np.full_like(x, np.nan)
            trial = np.maximum(x + np.clip(_log_step(dx), -PTC_MAX_STEP, MAX_LOG_STEP), LN_C_MIN)
            g2, s2, jac2 = system.evaluate(trial) if np.isfinite(dx).all() else (None, None, None)
            if g2 is not None and s2 is not None and jac2 is not None:
                norm2 = float(np.sqrt(((g2 / (s2 + floor)) ** 2).sum()))
                if np.isfinite(norm2) and norm2 < 3.0 * norm:
                    break
            dt *= 0.25
        else:
            return x, False, it, res
        dt = min(dt * (2.0 if norm2 < norm else 1.0), 1e12)
        x, g, s, jac, norm = trial, g2, s2, jac2, norm2
        res = float(np.abs(g / (s + floor)).max())
        if it >= DYNAMICS_STALL and dt < DYNAMICS_STALL_DT:  # the step never recovered: a stalled transient
            return x, False, it + 1, res
    return x, res < TOLERANCE, max_iter, res


def _local_free_extractant(system: _System, c: np.ndarray, ln_h: np.ndarray) -> np.ndarray:
    """ln phi per stage solving phi + sum_i nu_i D_i(phi) c_i / T = phi_total at given aqueous c and [H+].

    The left side increases with phi (D never falls as free extractant rises), is -phi_total at phi = 0 and
    >= 0 at phi = phi_total (1 unless the inlet metal comes on top). Newton on
    F(u) = ln((phi + sum_i L_i) / phi_total) in u = ln phi, from u = ln phi_total, safeguarded by the bracket
    it builds (bisection in u inside [ln 1e-300, ln phi_total]), converges for every stage at once: with the
    mass-action loading L_i ~ phi^k, F is close to linear in u, so a loaded organic near saturation
    (phi << 1) takes a few steps, where Newton on phi gains a factor (k - 1)/k per step.
    """
    nu, T = system.cap  # type: ignore[misc]
    N = system.N
    lo = np.full(N, math.log(1e-300))
    hi = np.full(N, math.log(system.phi_total))
    u = hi.copy()
    for _ in range(80):
        lnd, _, dphi = system.pb.model.log_d(ln_h, u)
        load = nu * np.exp(np.minimum(lnd, 700.0)) * c / T  # (N, C)
        phi = np.exp(u)
        total = phi + load.sum(1)
        F = np.log(total / system.phi_total)
        hi = np.where(F >= 0, u, hi)
        lo = np.where(F <= 0, u, lo)
        step = u - F * total / (phi + (load * dphi).sum(1))
        inside = (step >= lo) & (step <= hi)
        new = np.where(inside, step, 0.5 * (lo + hi))
        if np.abs(new - u).max() < 1e-13:
            return new
        u = new
    return u


def _start(system: _System, sweeps: int = START_SWEEPS, tolerance: float = 1e-3) -> np.ndarray:
    """Cold start by relaxation sweeps on the [H+] and phi profiles, the metal solved exactly at each sweep.

    Start at the most acidic profile possible (all metal extracted, [H+] = Q) and all extractant free. Each
    sweep solves the linear metal cascade at the current profile, then moves ln[H+] towards the
    electroneutral value ln(Q - sum z c) with a per-stage relaxation factor that halves whenever a stage
    overshoots (the plain fixed point oscillates on stiff cases) and grows otherwise, and sets phi to the
    local free-extractant balance of each stage. A few tens of sweeps of one tridiagonal solve each bring
    Newton within its quadratic range; pseudo-transient continuation takes over where they do not.
    """
    pb, N = system.pb, system.N
    ln_h_max = np.log(system.free(system.Q)[0]) if system.neutral else np.log(system.h_mix)
    ln_h = ln_h_max.copy()
    ln_phi = np.full(N, math.log(system.phi_total))
    omega_h = np.full(N, 1.0)
    last_h = np.zeros(N)
    c = system.metal_at(ln_h, ln_phi)
    for _ in range(sweeps):
        moved = 0.0
        if system.neutral:
            free_acid = system.Q - c @ pb.charge
            target = np.log(system.free(np.maximum(free_acid, 1e-3 * system.Q))[0])
            d = np.clip(target - ln_h, -3.0, 3.0)
            flip = d * last_h < 0
            omega_h = np.where(flip, 0.5 * omega_h, np.minimum(1.0, 1.5 * omega_h))
            ln_h = np.minimum(ln_h + omega_h * d, ln_h_max)
            last_h = d
            moved = float(np.abs(d).max())
        if system.cap is not None:
            new_phi = _local_free_extractant(system, c, ln_h)
            moved = max(moved, float(np.abs(new_phi - ln_phi).max()))
            ln_phi = new_phi
        c_new = system.metal_at(ln_h, ln_phi)
        if not np.isfinite(c_new).all():  # a fixed-D profile that traps metal without bound: keep the last
            break
        c = c_new
        if moved < tolerance:
            break
    if system.neutral:  # keep the start electroneutral with room to spare
        charge = c @ pb.charge
        c = c * np.minimum(1.0, 0.99 * system.Q / np.maximum(charge, 1e-300))[:, None]
        c = np.maximum(c, math.exp(LN_C_MIN))
    return system.pack(c, ln_h, ln_phi)


def _base_continuation(pb: StagewiseProblem, x0: np.ndarray) -> tuple[np.ndarray, bool, int, float]:
    """Homotopy in the saponification base: solve without base, then add it in adaptive steps."""
    total = 0
    x = x0
    last = float("inf")
    done = 0.0
    step = 1.0
    first = True
    while done < 1.0:
        level = 0.0 if first else min(1.0, done + step)
        system = _system(replace(pb, base_in=pb.base_in * level))
        x_new, ok, it, res = _newton(system, x if not first else _start(system), NEWTON_ITERATIONS)
        if not ok:
            x_new, ok, it2, res = _pseudo_transient(system, x if not first else _start(system), 100)
            it += it2
        total += it
        if ok:
            x, last = x_new, res
            if not first:
                done = level
                step = min(1.0, 2.0 * step)
            first = False
            step = min(step, 1.0 - done) if done < 1.0 else step
        elif first:
            return x, False, total, res
        else:
            step *= 0.25
            if step < 1e-3:
                return x, False, total, res
    return x, True, total, last


def _efficiency_continuation(pb: StagewiseProblem) -> tuple[np.ndarray, bool, int, float]:
    """Homotopy in the Murphree efficiency: solve ideal stages, then lower E towards its value in steps.

    E(t) = 1 - t (1 - E_target), t from 0 to 1 in adaptive steps, each a Newton solve from the last one.
    """
    assert pb.efficiency is not None
    target = np.asarray(pb.efficiency, dtype=float)
    ideal_pb = replace(pb, efficiency=None)
    ideal = _System(ideal_pb)
    x_ideal, ok, total, res = _solve_x(ideal, ideal_pb)
    if not ok:
        return x_ideal, False, total, res
    c, ln_h, ln_phi = ideal.split(x_ideal)
    x = _MurphreeSystem(pb).pack(c, ln_h, ln_phi)  # at E = 1: y = D c, the ideal solution exactly
    done, step = 0.0, 0.25
    while done < 1.0:
        level = min(1.0, done + step)
        system = _MurphreeSystem(replace(pb, efficiency=1.0 - level * (1.0 - target)))
        x_new, ok, it, res = _newton(system, x, NEWTON_ITERATIONS)
        total += it
        if not ok:  # pseudo-time steps from the last solution before a shorter step
            x_new, ok, it, res = _pseudo_transient(system, x, EFFICIENCY_PTC_ITERATIONS, growth=2.0)
            total += it
        if ok:
            x, done, step = x_new, level, min(1.0, 2.0 * step)
        else:
            step *= 0.25
            if step < 1e-4:
                return x, False, total, res
    return x, True, total, res


def _solve_x(system: _System, pb: StagewiseProblem) -> tuple[np.ndarray, bool, int, float]:
    """Cold start, Newton, then the fallbacks in turn (saponification homotopy, pseudo-transient
    continuation, stage dynamics with the free extractant eliminated for ideal stages, and for Murphree
    stages a homotopy in the efficiency). Returns (x, converged,
    iterations, residual)."""
    x0 = _start(system)
    x, ok, iterations, res = _newton(system, x0, NEWTON_ITERATIONS)
    dynamics_tried = False
    if not ok and pb.base_in.any() and system.cap is not None and not isinstance(system, _MurphreeSystem):
        # a saponified organic: its base sets the pH profile of the whole extraction section, which the
        # sweeps of the cold start only guess; the stage dynamics from the cold start reach that steady
        # state in a few hundred cheap steps (a 60-stage, 12-component P507 cascade: 0.2 s) where the
        # homotopy in the base crawls (2-4 s), so they are tried first (and not again below: the same
        # start gives the same transient)
        x, ok, it, res = _dynamics_then_newton(pb, system, x0, COLD_TRANSIENT_ITERATIONS)
        iterations += it
        dynamics_tried = True
    if not ok and pb.base_in.any():
        x, ok, it, res = _base_continuation(pb, x0)
        iterations += it
    if not ok:
        x, ok, it, res = _pseudo_transient(system, x0, PTC_ITERATIONS, plateau=PTC_PLATEAU)
        iterations += it
    if not ok and not isinstance(system, _MurphreeSystem) and not dynamics_tried:
        if system.cap is not None:  # stage dynamics with phi on its local balance (never overloaded)
            reduced = _LocalExtractantSystem(pb)
            xr, ok, it, res = _stage_dynamics(reduced, reduced.pack(*system.split(x0)), DYNAMICS_ITERATIONS)
            iterations += it
            if ok:  # back to the unknowns of the full system, Newton-polished
                x, ok, it, res = _newton(system, system.pack(*reduced.split(xr)), NEWTON_ITERATIONS)
                iterations += it
        else:  # a long transient: pseudo-time steps that keep growing while the residual stays flat
            x, ok, it, res = _pseudo_transient(system, x0, DYNAMICS_ITERATIONS, growth=2.0)
            iterations += it
    if not ok and system.cap is not None and not isinstance(system, _MurphreeSystem):
        x, ok, it, res = _acid_continuation(pb)
        iterations += it
    if not ok and isinstance(system, _MurphreeSystem):
        x, ok, it, res = _efficiency_continuation(pb)
        iterations += it
    return x, ok, iterations, res


def _dynamics_then_newton(
    pb: StagewiseProblem, system: _System, x: np.ndarray, max_iter: int
) -> tuple[np.ndarray, bool, int, float]:
    """Stage dynamics with phi on its local balance from ``x``, then Newton on the full unknowns."""
    reduced = _LocalExtractantSystem(pb)
    xr, ok, total, res = _stage_dynamics(reduced, reduced.pack(*system.split(x)), max_iter)
    if not ok:
        return x, False, total, res
    x, ok, it, res = _newton(system, system.pack(*reduced.split(xr)), NEWTON_ITERATIONS)
    return x, ok, total + it, res


def _acid_continuation(pb: StagewiseProblem) -> tuple[np.ndarray, bool, int, float]:
    """Homotopy in the acid entering the last stage (the scrub liquor's): from a weak scrub up to its value.

    A weaker scrub traps less metal between the sections, and the cold start converges there; the acid
    then rises to its value in adaptive steps (lambda: ACID_START -> 1), each started from the last
    solution: Newton, or stage dynamics then Newton when Newton alone fails, a step a quarter as long when
    both do. Only the last stage's acid changes, so every intermediate problem is a physical cascade (the
    aqueous anions of the lower stages are kept), and lambda = 1 is the problem itself.
    """
    acid_last = float(pb.acid_in[-1])
    if acid_last <= 0.0:
        return np.zeros((len(pb.Va), 1)), False, 0, float("inf")

    def at(level: float) -> tuple[StagewiseProblem, _System]:
        acid = pb.acid_in.copy()
        acid[-1] = level * acid_last
        sub = replace(pb, acid_in=acid)
        return sub, _System(sub)

    total = 0
    res = float("inf")
    x = None
    done = 0.0
    for level in ACID_START:
        sub, system = at(level)
        if (system.Q <= 0).any():
            continue
        x0 = _start(system)
        x, ok, it, res = _newton(system, x0, NEWTON_ITERATIONS)
        total += it
        if not ok:
            x, ok, it, res = _dynamics_then_newton(sub, system, x0, ACID_DYNAMICS_ITERATIONS)
            total += it
        if ok:
            done = level
            break
    if x is None or done == 0.0:
        return np.zeros((len(pb.Va), 1)) if x is None else x, False, total, res
    step = min(0.25, 1.0 - done)
    while done < 1.0:
        level = min(1.0, done + step)
        sub, system = at(level)
        x_new, ok, it, res = _newton(system, x, NEWTON_ITERATIONS)
        total += it
        if not ok:
            x_new, ok, it, res = _dynamics_then_newton(sub, system, x, ACID_DYNAMICS_ITERATIONS)
            total += it
        if ok:
            x, done, step = x_new, level, min(2.0 * step, 1.0)
        else:
            step *= 0.25
            if step < 1e-4:
                return x, False, total, res
    return x, True, total, res


def metal_free_solution(pb: StagewiseProblem) -> StagewiseSolution:
    """The stages of a section no metal enters (mol/L): no metal anywhere, the acid of the inlets mixed
    down the stages ([H+] free of the bisulfate it forms), all extractant free."""
    system = _System(pb)
    N, C = pb.feed_aq.shape
    zeros = np.zeros((N, C))
    return StagewiseSolution(zeros, zeros.copy(), system.h_mix, np.ones(N), 0, 0.0, 0.0, 0.0)


def _warm_start(system: _System, initial: np.ndarray) -> np.ndarray | None:
    """The unknowns x of a warm start from an aqueous profile ``initial`` (N, C), mol/L; None if unusable.

    [H+] follows from electroneutrality (the profile is scaled down where its metal would exceed the anions,
    as in the cold start) and ln phi from each stage's local free-extractant balance, so the guess is
    consistent with the problem's own proton and extractant rows; only the metal profile is guessed.
    """
    c = np.asarray(initial, dtype=float)
    if c.shape != (system.N, system.C) or not np.isfinite(c).all():
        return None
    c = np.maximum(c, math.exp(LN_C_MIN))
    if system.neutral:
        charge = c @ system.pb.charge
        c = c * np.minimum(1.0, 0.99 * system.Q / np.maximum(charge, 1e-300))[:, None]
        c = np.maximum(c, math.exp(LN_C_MIN))
    with np.errstate(invalid="ignore", divide="ignore"):
        ln_h = np.log(system.hydrogen(c))
    if not np.isfinite(ln_h).all():
        return None
    ln_phi = _local_free_extractant(system, c, ln_h) if system.cap is not None else np.zeros(system.N)
    x = system.pack(c, ln_h, ln_phi)
    return x if np.isfinite(x).all() else None


def _warm_solve(system: _System, pb: StagewiseProblem, x0: np.ndarray) -> tuple[np.ndarray, bool, int, float]:
    """Newton from a warm start, then a short transient from it; returns (x, converged, iterations, residual).

    Neighbouring saponified cascades near a sharp cut differ by factors of e in their trace flows for a
    0.1 % change of a volume flow, and Newton's line search can stall from the neighbour's profile; the
    stage dynamics (free extractant on its local balance, then Newton on the full unknowns) or, without a
    capacity or with Murphree stages, pseudo-transient steps of growing length reach the new steady state
    in a fraction of the steps a cold start needs. Both are capped so a poor guess costs little.
    """
    x, ok, iterations, res = _newton(system, x0, WARM_NEWTON_ITERATIONS)
    if ok:
        return x, ok, iterations, res
    if system.cap is not None and not isinstance(system, _MurphreeSystem):
        x, ok, it, res = _dynamics_then_newton(pb, system, x0, WARM_TRANSIENT_ITERATIONS)
    else:
        x, ok, it, res = _pseudo_transient(system, x0, WARM_TRANSIENT_ITERATIONS, growth=2.0)
    return x, ok, iterations + it, res


def solve_stagewise(pb: StagewiseProblem, initial: np.ndarray | None = None) -> StagewiseSolution:
    """Solve one chain of stages (ideal stages, or organic-phase Murphree efficiency).

    ``initial``: an optional guess of the aqueous metal profile (N, C), mol/L, e.g. the converged profile of
    a neighbouring cascade resampled to these stages. Newton, then a short transient, are tried from it
    first (see ``_warm_start``, ``_warm_solve``); if they do not converge, the solve starts cold exactly as
    without a guess. A warm-started solution passes the same convergence test, polish and balance checks
    as a cold one.

    Raises:
        InputError: if the inlets bring less acid than base (no electroneutral aqueous phase exists), or an
            efficiency is outside (0, 1].
        ConvergenceError: with the residual, if Newton fails.
    """
    if pb.efficiency is not None:
        eta = np.asarray(pb.efficiency, dtype=float)
        if eta.shape != (len(pb.Va),) or not np.all((eta > 0.0) & (eta <= 1.0)):
            raise InputError(
                "the Murphree efficiency must be one number per stage, 0 < E <= 1", field="efficiency"
            )
    system = _system(pb)
    if system.neutral and (system.Q <= 0).any():
        raise InputError(
            "the saponified organic brings more base than the aqueous streams bring acid and metal: "
            "no aqueous phase can leave stage 1; lower the saponification or add acid",
            field="model.saponification",
        )
    with np.errstate(all="ignore"):  # overflowing trial iterates are rejected by their non-finite residual
        ok, iterations = False, 0
        x0 = _warm_start(system, initial) if initial is not None else None
        if x0 is not None:
            x, ok, iterations, res = _warm_solve(system, pb, x0)
        if not ok:  # no guess, or Newton did not converge from it: the cold path, unchanged
            x, ok, it, res = _solve_x(system, pb)
            iterations += it
        if ok:
            x, res, it = _polish(system, x, res)
            iterations += it
    if not ok:
        raise ConvergenceError("stage-wise solve did not converge", residual=res, iterations=iterations)
    c, ln_h, ln_phi = system.split(x)
    y = system.organic(x)
    metal_in = system.feed.sum(0) + pb.aq_inlet + pb.org_inlet
    up, dn = _entrained(pb, c, y) if pb.entrains else (np.zeros_like(c), np.zeros_like(c))
    metal_out = pb.Va[0] * c[0] + dn[0] + pb.Vo[-1] * y[-1] + up[-1]
    mbe = float(np.abs(metal_in - metal_out).sum() / metal_in.sum())
    h = np.exp(ln_h)
    if system.neutral:
        # metal carried into the organic phase (its outlet and what the raffinate entrains) released z H+
        organic_out = pb.Vo[-1] * y[-1] + dn[0]
        extracted = (pb.charge * (organic_out - pb.org_inlet - pb.feed_org.sum(0))).sum()
        h_in = pb.acid_in.sum() - pb.base_in.sum() + extracted
        scale = pb.acid_in.sum() + pb.base_in.sum() + abs(extracted)
        acid = system.total_acid(h)
        acid_out = pb.Va[0] * acid[0]
        if pb.entrains:  # the aqueous the loaded organic entrains carries its acid out
            acid_out += float(np.asarray(pb.entrained_aqueous)[-1] * pb.Vo[-1] * acid[-1])
        pbe = float(abs(h_in - acid_out) / max(scale, 1e-300))
    else:
        pbe = 0.0
    phi = np.exp(ln_phi) / system.phi_total  # all the extractant is phi_total x T
    return StagewiseSolution(c, y, h, phi, iterations, res, mbe, pbe)
