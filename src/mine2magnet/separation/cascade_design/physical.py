"""Design of a cut with a physical equilibrium model: constant-distribution, empirical-ph or mass-action.

The physical cascade is designed through its loaded-separation-factor equivalent and then refined, point by
point, by stage-wise simulation with the physical model itself:

1. **Effective separation factors** β_i = D_i / D_ref from the physical model: the extraction-section D of a
   constant-distribution model; for mass-action D_i = Kex_i [(HA)2]^k / [H+]^z (a constant ratio when the
   components share k and z); for empirical-ph log10 D = a pH + b. Both at the feed pH, then re-evaluated at
   the feed-stage pH and free extractant of the first simulation (the pinch, where the separation is
   decided).
2. The **loaded-separation-factor design** (:func:`.search.design_lsf`) of the cut at those factors gives
   the closed forms (Fenske stages at total reflux, Underwood/Xu minimum flows) and, for each organic RE
   flow S of a short ladder, the fewest stages n + m and the scrub RE flow W.
3. **Calibration by simulation.** Xu's S is the metal the organic carries out of the feed stage and W the
   metal the aqueous carries back into it (so S − W is the extract). The organic and scrub volume flows
   (L/h) that give the physical cascade the same S and extract S − W are found by a Broyden iteration on
   (ln Vo, ln Vs), started from the stoichiometry (mass-action: the saponified organic holds
   sap·2[(HA)2]/z̄ mol/L of metal, the scrub acid returns c/z̄ mol of metal per litre) or from the
   distribution ratios (S = Vo·Σ D_i c_i at the feed stage and S = Vo·Σ D_i c_i at the first scrub stage),
   with the Jacobian of E = S − W as its first guess.
4. **Refinement.** At fixed stages and organic flow the scrub flow moves the cut: more scrub liquor lowers
   the raffinate-side metal in the extract and raises the extract-side metal in the raffinate. The scrub
   flow is set by a bracketed root find (Illinois regula falsi on ln Vs) that balances the two groups of
   target slacks (ln of allowed/actual loss); the point is feasible when the balanced slack is ≥ 0 (the
   search stops as soon as one simulated point meets every target, or as soon as the bracket proves none
   can). Stages are added one at a time (to the section whose addition helps more) until the targets are
   met, and at the optimum removed while they still are: fewest stages at that organic flow.
5. The **optimum** minimises Vo·(n + m) (organic volume flow × stages, the physical form of Xu's S·(n+m)) or
   the stated cost with Vo in L/h; its simulation is ``verified``.

Units: mol/h for metal flows, L/h for volume flows, mol/L for concentrations.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mine2magnet.errors import ConvergenceError, InfeasibleError, InputError
from mine2magnet.separation.cascade_design.problem import (
    CutProblem,
    build_problem,
    outlet_performance,
    unmet_targets,
)
from mine2magnet.separation.cascade_design.request import PHASE_RATIO_BOUNDS, Objective
from mine2magnet.separation.cascade_design.result import DesignResult, TradeoffPoint
from mine2magnet.separation.cascade_design.search import design_lsf
from mine2magnet.separation.contract.result import CascadeResult
from mine2magnet.separation.contract.spec import (
    CascadeSpec,
    ConstantDistributionModel,
    Efficiency,
    EmpiricalPhModel,
    Entrainment,
    MassActionModel,
    load_spec,
)
from mine2magnet.separation.solvers.steady.simulate import (
    _distribution_model,
    _volume_profile,
    simulate,
    stage_efficiency,
)

#: Organic flows tried for a physical design, as multiples of the (effective) S_min: the trade-off curve.
PHYSICAL_FLOW_LADDER = (1.12, 1.3, 1.6, 2.2, 3.2)
#: Broyden iterations allowed to match the physical S and extract to the loaded-separation-factor ones.
CALIBRATION_ITERATIONS = 10
#: Relative accuracy of the calibrated extract flow (the scrub root find then pins the split exactly).
CALIBRATION_TOLERANCE = 2e-3
#: Simulations allowed per scrub-flow root find.
ROOT_EVALUATIONS = 30
#: A design must beat every target by this relative margin on the allowed loss (ln(1 + margin) in slack).
SLACK_MARGIN = 1e-6
#: Moves of one stage between the sections tried at most when trimming the chosen design.
MAX_SPLIT_STEPS = 60
#: Relative change of the key-pair separation factor that triggers a second loaded-separation-factor design.
BETA_UPDATE_TOLERANCE = 0.01


# ------------------------------------------------------------------------------------------------ results


def _finite(x: float) -> float | None:
    """JSON has no inf/nan: None instead."""
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class PhysicalTradeoffPoint(TradeoffPoint):
    """A trade-off point of a physical design: stages, Xu flows (mol/h) and volume flows (L/h).

    ``verified`` says whether a simulation with the physical model met every target at this point.
    """

    organic_volume_flow: float = math.nan
    scrub_volume_flow: float = math.nan
    verified: bool = False
    #: organic/aqueous volume flow ratio per section ({"extraction": O/A, "scrub": O/A})
    phase_ratio: dict[str, float] = field(default_factory=dict)
    #: whether every section's O/A lies within the design's bounds (points outside are not chosen)
    within_phase_ratio_bounds: bool = True

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        if not self.verified:  # no design met the targets at this flow: no stages, no objective
            d["objective"] = None
            d["stages"] = None
            d["feed_stage"] = None
        d["organic_volume_flow"] = self.organic_volume_flow
        d["scrub_volume_flow"] = self.scrub_volume_flow
        d["verified_by_simulation"] = self.verified
        d["phase_ratio"] = self.phase_ratio
        d["within_phase_ratio_bounds"] = self.within_phase_ratio_bounds
        return d


@dataclass(frozen=True)
class PhysicalDesignResult(DesignResult):
    """A physical-model design confirmed by simulation: the DesignResult keys plus volume flows (L/h).

    ``organic_ree_flow``/``scrub_ree_flow`` are Xu's S and W measured on the verified simulation (metal
    the organic carries out of the feed stage, metal the aqueous carries back into it, mol/h);
    ``minimum_*_volume_flow`` the minimum flows as volumes (L/h, see ``docs/cascade-design.md``).
    """

    model_type: str = ""
    organic_volume_flow: float = math.nan
    scrub_volume_flow: float = math.nan
    scrub_acidity: dict[str, float] = field(default_factory=dict)
    minimum_organic_volume_flow: float = math.nan
    minimum_scrub_volume_flow: float = math.nan
    effective_separation_factors: dict[str, float] = field(default_factory=dict)
    #: O/A of the chosen design per section and the bounds it was chosen within
    phase_ratio: dict[str, Any] = field(default_factory=dict)
    #: the saponification degree chosen, its base and every degree tried (when the design chose it)
    saponification: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The DesignResult contract with ``organic.volume_flow``, ``scrub.volume_flow`` (L/h), the scrub
        acidity, ``minimum.organic_volume_flow``/``scrub_volume_flow``, ``model``, ``phase_ratio`` and, when
        the spec gives a stage efficiency or entrainment, ``plant`` (stages a real plant needs)."""
        d = super().to_dict()
        d["model"] = self.model_type
        d["phase_ratio"] = self.phase_ratio
        d["organic"]["volume_flow"] = self.organic_volume_flow
        d["scrub"]["volume_flow"] = self.scrub_volume_flow
        d["scrub"].update(self.scrub_acidity)
        d["minimum"]["organic_volume_flow"] = _finite(self.minimum_organic_volume_flow)
        d["minimum"]["scrub_volume_flow"] = _finite(self.minimum_scrub_volume_flow)
        d["effective_separation_factors"] = self.effective_separation_factors
        if self.saponification is not None:
            d["saponification"] = self.saponification
        return d

    def summary(self) -> str:
        """The loaded-separation-factor summary with the volume flows of the physical design."""
        lines = super().summary().splitlines()
        lines.insert(
            3,
            f"organic {self.organic_volume_flow:.6g} L/h, scrub liquor {self.scrub_volume_flow:.6g} L/h "
            f"({self.model_type}); minimum {self.minimum_organic_volume_flow:.6g} L/h organic",
        )
        if self.plant is not None:
            st = self.plant["stages"]
            lines.insert(
                4,
                f"plant ({self.plant['basis']}): {st['extraction']} + {st['scrub']} stages, "
                f"{self.plant['extra_stages']} more than the ideal "
                f"{self.stages_extraction + self.stages_scrub}; "
                f"scrub liquor {self.plant['scrub']['volume_flow']:.6g} L/h",
            )
        lines[-len(self.tradeoff) - 1] = "trade-off (S mol/h, organic L/h: extraction + scrub stages):"
        for i, p in enumerate(self.tradeoff):
            lines[-len(self.tradeoff) + i] = (
                f"  {p.organic_ree_flow:10.6g} {p.organic_volume_flow:10.6g}: {p.extraction:3d} + "
                f"{p.scrub:3d} = {p.total:3d}"
                if p.verified
                else f"  {'':10s} {p.organic_volume_flow:10.6g}: no design met the targets by simulation"
            )
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ the cut


@dataclass
class _Eval:
    """One simulation of the physical cascade: Xu's S and W (mol/h), the extract E, the two target slacks."""

    n: int
    m: int
    organic: float
    scrub: float
    result: CascadeResult | None
    spec: dict[str, Any]
    s_flow: float = math.nan
    w_flow: float = math.nan
    extract: float = math.nan
    up: float = math.nan  # slack of the targets that improve with more scrub (extract purity, raff. recovery)
    down: float = math.nan  # slack of those that worsen (raffinate purity, extract recovery)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def slack(self) -> float:
        return min(self.up, self.down) if self.ok else -math.inf

    @property
    def feasible(self) -> bool:
        return self.ok and self.slack >= math.log1p(SLACK_MARGIN)


def _verified_point(ev: _Eval, objective: Objective) -> PhysicalTradeoffPoint:
    """The trade-off point of a simulation that met every target (flows in mol/h and L/h)."""
    return PhysicalTradeoffPoint(
        organic_ree_flow=ev.s_flow,
        scrub_ree_flow=ev.w_flow,
        extraction=ev.n,
        scrub=ev.m,
        feed_stage=ev.n,
        objective=objective(ev.organic, ev.n + ev.m),
        organic_volume_flow=ev.organic,
        scrub_volume_flow=ev.scrub,
        verified=True,
    )


def _loss_slack(want: float | None, got: float) -> float:
    if want is None:
        return math.inf
    return math.log(1.0 - want) - math.log(max(1.0 - got, 1e-300))


class PhysicalCut:
    """Simulations of one physical cut at chosen stages and volume flows (cached), and searches on them."""

    def __init__(self, cascade: CascadeSpec, problem: CutProblem, file: str | None) -> None:
        self.cascade = cascade
        self.problem = problem
        self.file = file
        self.cache: dict[tuple[int, int, float, float], _Eval] = {}
        #: converged simulations to warm-start later ones from (kept when the cache is cleared: a simulation
        #: does not depend on the effective separation factors)
        self.converged: list[_Eval] = []
        #: constant-distribution cascades are solved directly (one linear solve): no warm starts
        self.direct = isinstance(cascade.model, ConstantDistributionModel)
        self.simulations = 0
        self.failures = 0
        self.seconds = 0.0
        self.last_error = ""
        #: the balanced slack of the last :meth:`balance` (exact, or the middle of its proven bounds)
        self.last_estimate = -math.inf
        #: ids of the evaluations returned by a downward stage search
        self.searched_down: set[int] = set()
        feed = cascade.feed.model_dump(exclude_none=True)
        feed.pop("stage", None)
        feed["phase"] = "aqueous"
        self.feed = feed
        scrub = cascade.scrub.model_dump(exclude_none=True) if cascade.scrub is not None else {}
        for k in ("ree_flow", "volume_flow"):
            scrub.pop(k, None)
        self.scrub = scrub
        self.model = cascade.model.model_dump()

    def spec_dict(self, n: int, m: int, organic: float, scrub: float) -> dict[str, Any]:
        """The physical cascade spec (simulate schema): n extraction, m scrub stages, the flows (L/h)."""
        spec: dict[str, Any] = {
            "components": list(self.cascade.components),
            "model": self.model,
            "stages": {"extraction": n, "scrub": m},
            "feed": {**self.feed, "stage": n},
            "organic": {"volume_flow": organic},
        }
        if self.cascade.charges:
            spec["charges"] = dict(self.cascade.charges)
        if m > 0:
            spec["scrub"] = {**self.scrub, "volume_flow": scrub}
        if self.cascade.efficiency != Efficiency():
            spec["efficiency"] = self.cascade.efficiency.model_dump(exclude_none=True)
        if self.cascade.entrainment.any:
            spec["entrainment"] = self.cascade.entrainment.model_dump()
        return spec

    def evaluate(self, n: int, m: int, organic: float, scrub: float) -> _Eval:
        """Simulate (cached); a solve that fails or does not converge gives an Eval with ``ok`` False."""

        key = (n, m, organic, scrub)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        spec = self.spec_dict(n, m, organic, scrub)
        t0 = time.perf_counter()
        self.simulations += 1
        try:
            with np.errstate(all="ignore"):
                warm = None if self.direct else self.nearest(n, m, organic, scrub)
                result = simulate(load_spec(spec), initial=warm)
        except (ConvergenceError, InputError) as exc:
            self.failures += 1
            self.last_error = str(exc)
            ev = _Eval(n, m, organic, scrub, None, spec, error=str(exc))
        else:
            ev = self._measure(n, m, organic, scrub, result, spec)
            self.converged.append(ev)
        self.seconds += time.perf_counter() - t0
        self.cache[key] = ev
        return ev

    def nearest(self, n: int, m: int, organic: float, scrub: float) -> CascadeResult | None:
        """The converged simulation nearest to (n, m, organic, scrub) with the same sections (a scrub section
        or none), in the sum of |ln ratio| of the stage counts and volume flows (L/h); None if there is none.
        """
        best, best_d = None, math.inf
        for ev in self.converged:
            if (ev.m > 0) != (m > 0):
                continue
            d = abs(math.log(ev.n / n)) + abs(math.log(ev.organic / organic))
            if m > 0:
                d += abs(math.log(ev.m / m)) + abs(math.log(ev.scrub / scrub))
            if d < best_d:
                best, best_d = ev, d
        return best.result if best is not None else None

    def _measure(
        self, n: int, m: int, organic: float, scrub: float, result: CascadeResult, spec: dict[str, Any]
    ) -> _Eval:
        comps = self.cascade.components
        aq = result.aqueous.sum(axis=1)
        org = result.organic.sum(axis=1)
        raff = dict(zip(comps, (float(v) for v in result.outlets["raffinate"]), strict=True))
        ext = dict(zip(comps, (float(v) for v in result.outlets["loaded_organic"]), strict=True))
        perf = outlet_performance(self.problem, raff, ext)
        p = self.problem
        up = min(
            _loss_slack(p.extract.purity, perf["extract"]["purity"]),
            _loss_slack(p.raffinate.recovery, perf["raffinate"]["recovery"]),
        )
        down = min(
            _loss_slack(p.raffinate.purity, perf["raffinate"]["purity"]),
            _loss_slack(p.extract.recovery, perf["extract"]["recovery"]),
        )
        return _Eval(
            n,
            m,
            organic,
            scrub,
            result,
            spec,
            s_flow=float(org[n - 1]),
            w_flow=float(aq[n]) if m > 0 else 0.0,
            extract=float(org[n + m - 1]),
            up=up,
            down=down,
        )

    # --------------------------------------------------------------------------------------- calibration
    def calibrate(
        self,
        n: int,
        m: int,
        s_target: float,
        e_target: float,
        organic: float,
        scrub: float,
        jac: np.ndarray | None,
    ) -> tuple[_Eval | None, np.ndarray]:
        """Volume flows (L/h) at which the simulated S and extract match ``s_target``/``e_target`` (mol/h).

        Broyden on u = (ln Vo, ln Vs), r = (ln S − ln S*, ln E − ln E*); a failed simulation halves the step.
        Returns the last good evaluation (None if none) and the Jacobian estimate.
        """
        if jac is None:
            w = max(s_target - e_target, 1e-12)
            jac = np.array([[1.0, 0.0], [s_target / e_target, -w / e_target]])
        u = np.log([organic, scrub])
        ev = self.evaluate(n, m, organic, scrub)
        if not ev.ok or ev.extract <= 0.0:
            return None, jac
        r = np.array([math.log(ev.s_flow / s_target), math.log(ev.extract / e_target)])
        best = ev
        for _ in range(CALIBRATION_ITERATIONS):
            if abs(r[1]) <= CALIBRATION_TOLERANCE and abs(r[0]) <= 10 * CALIBRATION_TOLERANCE:
                break
            try:
                step = np.linalg.solve(jac, -r)
            except np.linalg.LinAlgError:
                break
            big = float(np.abs(step).max())
            if big > 0.5:
                step *= 0.5 / big
            for _half in range(6):
                un = u + step
                ev = self.evaluate(n, m, float(math.exp(un[0])), float(math.exp(un[1])))
                if ev.ok and ev.extract > 0.0:
                    break
                step *= 0.5
            else:
                break
            rn = np.array([math.log(ev.s_flow / s_target), math.log(ev.extract / e_target)])
            dr, du = rn - r, un - u
            denom = float(du @ du)
            if denom > 0.0:
                jac = jac + np.outer(dr - jac @ du, du) / denom
            u, r, best = un, rn, ev
        return best, jac

    # --------------------------------------------------------------------------------------- scrub flow
    def balance(self, n: int, m: int, organic: float, scrub: float) -> _Eval | None:
        """A feasible evaluation at these stages and organic flow, adjusting the scrub flow; else the best.

        f(ln Vs) = up − down increases with Vs; its root maximises the smaller slack. Bracketed by steps
        growing ×3 from 1e-3, then Illinois regula falsi. Returns as soon as an evaluation is feasible, or
        when the bracket bounds the balanced slack below the margin (then the best evaluation, infeasible),
        or None when the simulations fail.
        """
        if m == 0:
            ev = self.evaluate(n, m, organic, scrub)
            self.last_estimate = ev.slack
            return ev if ev.ok else None
        evals: list[_Eval] = []

        def f(x: float) -> float:
            ev = self.evaluate(n, m, organic, float(math.exp(x)))
            evals.append(ev)
            if not ev.ok:
                return math.nan
            return _clip(ev.up) - _clip(ev.down)

        def best(estimate: float | None = None) -> _Eval | None:
            good = [e for e in evals if e.ok]
            found = max(good, key=lambda e: e.slack) if good else None
            self.last_estimate = estimate if estimate is not None else (found.slack if found else -math.inf)
            return found

        def done(ev: _Eval) -> _Eval:
            self.last_estimate = ev.slack
            return ev

        x0 = math.log(scrub)
        f0 = f(x0)
        if not math.isfinite(f0):
            return None
        if evals[-1].feasible:
            return done(evals[-1])
        step = 1e-3 if f0 < 0 else -1e-3
        a, fa = x0, f0
        b, fb = x0, f0
        for _ in range(14):
            b = a + step
            fb = f(b)
            if not math.isfinite(fb):
                step /= 4.0
                continue
            if evals[-1].feasible:
                return done(evals[-1])
            if fb * f0 <= 0.0:
                break
            a, fa = b, fb
            step *= 3.0
        else:
            return best()
        if fb * fa > 0.0:
            return best()
        # the root lies between a and b: Illinois regula falsi, stopping on a feasible point or a proof
        for _ in range(ROOT_EVALUATIONS):
            ea = self.cache[(n, m, organic, float(math.exp(a)))]
            eb = self.cache[(n, m, organic, float(math.exp(b)))]
            lo, hi = (ea, eb) if fa < 0 else (eb, ea)  # lo: up < down (too little scrub)
            upper = min(_clip(lo.down), _clip(hi.up))
            lower = max(_clip(lo.up), _clip(hi.down))
            if upper < math.log1p(SLACK_MARGIN) or abs(b - a) < 1e-13:
                return best(0.5 * (lower + upper))
            x = (a * fb - b * fa) / (fb - fa)
            fx = f(x)
            if not math.isfinite(fx):
                x = 0.5 * (a + b)
                fx = f(x)
                if not math.isfinite(fx):
                    return best()
            if evals[-1].feasible:
                return done(evals[-1])
            if fx * fb < 0.0:
                a, fa = b, fb
            else:
                fa *= 0.5
            b, fb = x, fx
        return best()

    # --------------------------------------------------------------------------------------- stages
    def fewest_stages(
        self,
        n0: int,
        m0: int,
        organic: float,
        scrub: float,
        max_stages: int,
        down: bool,
    ) -> _Eval | None:
        """The fewest stages meeting every target at this organic flow, from the estimate (n0, m0).

        Both sections are scaled together, (n, m) = round(t·(n0, m0)): from t = 1 up by extrapolating the
        balanced slack in t (at most ×2 a step, up to ``max_stages``) until feasible, then bisection on t
        between the last infeasible and the feasible scale. With ``down`` the search also scales down from a
        feasible start, and the result is trimmed one stage at a time (either section) while it stays
        feasible. Returns the feasible evaluation with the fewest stages, the best infeasible one when none is
        found, or None when the simulations fail.
        """

        def pair(t: float) -> tuple[int, int]:
            return max(1, round(n0 * t)), (max(1, round(m0 * t)) if m0 > 0 else 0)

        ev = self.balance(n0, m0, organic, scrub)
        if ev is None:
            return None
        estimate = self.last_estimate
        good: tuple[float, _Eval] | None = (1.0, ev) if ev.feasible else None
        bad: float | None = None if ev.feasible else 1.0
        worst = ev
        t_cap = max_stages / max(n0 + m0, 1)
        history = [(1.0, estimate)]
        vs = ev.scrub
        t = 1.0
        while good is None:
            if len(history) >= 2 and history[-1][1] > history[-2][1]:
                (t1, s1), (t2, s2) = history[-2], history[-1]
                t_new = t2 + 1.15 * (-s2) * (t2 - t1) / (s2 - s1)
            else:
                t_new = 1.25 * t
            t_new = min(max(t_new, 1.05 * t, t + 1.0 / max(n0 + m0, 1)), 2.0 * t, t_cap)
            if t_new <= t or len(history) > 14:
                return worst
            n, m = pair(t_new)
            trial = self.balance(n, m, organic, vs)
            if trial is None:
                return worst
            history.append((t_new, self.last_estimate))
            t = t_new
            if trial.feasible:
                good = (t_new, trial)
            else:
                bad, worst, vs = t_new, trial, trial.scrub
        if down and bad is None:
            t = 1.0
            while bad is None:
                t_new = 0.9 * t
                n, m = pair(t_new)
                if n + m >= sum(pair(t)) or n + m <= 2:
                    bad = t_new
                    break
                trial = self.balance(n, m, organic, good[1].scrub)
                if trial is None or not trial.feasible:
                    bad = t_new
                else:
                    good, t = (t_new, trial), t_new
        if bad is not None:
            lo, (hi, best) = bad, good
            while True:
                mid = 0.5 * (lo + hi)
                n, m = pair(mid)
                if (n, m) in (pair(lo), pair(hi)) or n + m >= best.n + best.m:
                    break
                trial = self.balance(n, m, organic, best.scrub)
                if trial is not None and trial.feasible:
                    hi, best = mid, trial
                else:
                    lo = mid
            good = (hi, best)
        ev = good[1]
        if not down:
            return ev
        while ev.n + ev.m > 2:
            trials = []
            for n, m in ((ev.n - 1, ev.m), (ev.n, ev.m - 1)):
                if n < 1 or (m < 1 and ev.m > 0):
                    continue
                trial = self.balance(n, m, organic, ev.scrub)
                if trial is not None:
                    trials.append(trial)
            feasible = [t for t in trials if t.feasible]
            if not feasible and len(trials) == 2:
                # one stage fewer fails at both neighbouring splits: walk the split of n + m - 1 stages
                # towards the better neighbour while the balanced slack grows
                shifted = self._walk_split(trials, organic)
                feasible = [shifted] if shifted is not None else []
            if not feasible:
                break
            ev = max(feasible, key=lambda e: e.slack)
        return ev

    def _walk_split(self, trials: list[_Eval], organic: float) -> _Eval | None:
        """A feasible split of a fixed total found by moving stages between the sections, or None."""
        a, b = trials  # (n-1, m) and (n, m-1): the same total
        step = -1 if a.slack >= b.slack else 1  # towards fewer extraction stages, or fewer scrub stages
        cur = a if step < 0 else b
        for _ in range(MAX_SPLIT_STEPS):
            n, m = cur.n + step, cur.m - step
            if n < 1 or m < 1:
                return None
            trial = self.balance(n, m, organic, cur.scrub)
            if trial is None or trial.slack <= cur.slack:
                return None
            if trial.feasible:
                return trial
            cur = trial
        return None


def _clip(s: float) -> float:
    """Slacks of losses that vanish (1e-300) are capped so that differences stay finite."""
    return max(min(s, 700.0), -700.0)


# ------------------------------------------------------------------------------------------------ set-up


def _distribution(cascade: CascadeSpec) -> Any:

    charge = np.array([cascade.charge(c) for c in cascade.components], dtype=float)
    dmodel, _proton, base = _distribution_model(cascade, charge)
    return dmodel, charge, base


def effective_separation_factors(
    cascade: CascadeSpec, ph: float | None = None, free_fraction: float = 1.0
) -> dict[str, float]:
    """β_i = D_i / min_j D_j (dimensionless) of the physical model at one stage state.

    constant-distribution: the extraction-section D. empirical-ph and mass-action: D at pH ``ph`` (default
    the feed's) and free-extractant fraction ``free_fraction``.
    """
    comps = cascade.components
    model = cascade.model
    if isinstance(model, ConstantDistributionModel):
        table = model.distribution_ratios.get("extraction") or model.distribution_ratios.get("scrub")
        if table is None or any(c not in table for c in comps):
            raise InputError(
                "a design needs a distribution ratio for every component in the extraction section",
                field="model.distribution_ratios.extraction",
            )
        d = np.array([float(table[c]) for c in comps])
    else:
        if ph is None:
            h = cascade.feed.proton_concentration()
            if h is None or not h > 0.0:
                raise InputError("the design needs the feed acidity: give pH or acid", field="feed.pH")
            ph = -math.log10(h)
        dmodel, _charge, _base = _distribution(cascade)
        lnd, _dh, _dphi = dmodel.log_d(
            np.array([-ph * math.log(10.0)]), np.array([math.log(max(free_fraction, 1e-12))])
        )
        d = np.exp(lnd[0])
    if not (np.isfinite(d).all() and (d > 0.0).all()):
        raise InputError(
            "every component needs a positive finite distribution ratio for a design", field="model"
        )
    base = float(d.min())
    return {c: float(v / base) for c, v in zip(comps, d, strict=True)}


def _check_physical(cascade: CascadeSpec, file: str | None) -> None:
    model = cascade.model
    if cascade.feed.phase != "aqueous":
        raise InputError(
            "a physical-model design takes an aqueous feed (organic feeds: loaded-separation-factor model)",
            file=file,
            field="feed.phase",
        )
    if cascade.feed.volume_flow is None:
        raise InputError(
            "a physical-model design needs the feed volume flow, L/h (flows in mol/h alone: use the "
            "loaded-separation-factor model)",
            file=file,
            field="feed.volume_flow",
        )
    if (
        cascade.entrainment.any
        and not isinstance(model, ConstantDistributionModel)
        and any(getattr(st, "sulfate", None) for st in (cascade.feed, cascade.scrub))
    ):
        raise InputError(
            "entrainment is not modelled with sulfate speciation yet", file=file, field="entrainment"
        )
    if cascade.organic is not None and cascade.organic.concentration:
        raise InputError("design takes a metal-free organic inlet", file=file, field="organic.concentration")
    if cascade.scrub is not None and cascade.scrub.concentration:
        raise InputError("design takes a metal-free scrub liquor", file=file, field="scrub.concentration")
    if isinstance(model, EmpiricalPhModel | MassActionModel):
        if cascade.feed.proton_concentration() is None:
            raise InputError("the design needs the feed acidity: give pH or acid", file=file, field="feed.pH")
        if cascade.scrub is None or cascade.scrub.proton_concentration() is None:
            raise InputError(
                "a physical-model design needs the scrub liquor acidity: give scrub: {acid: mol/L} or "
                "{pH: ...}; design chooses its volume flow",
                file=file,
                field="scrub.acid",
            )


def _start_flows(
    cascade: CascadeSpec, betas: dict[str, float], pseudo: DesignResult, s: float, w: float
) -> tuple[float, float]:
    """First organic and scrub volume flows (L/h) for Xu flows S, W (mol/h), before calibration."""
    model = cascade.model
    comps = cascade.components
    vf = float(cascade.feed.volume_flow or 0.0)
    feed = np.array([cascade.feed.component_flow(comps)[c] for c in comps])
    f_total = float(feed.sum())
    charge = np.array([cascade.charge(c) for c in comps], dtype=float)
    zbar = float((charge * feed).sum() / f_total)
    if isinstance(model, MassActionModel) and model.saponification > 0.0:
        q = model.saponification * 2.0 * model.concentration / zbar  # metal per L of saponified organic
        acid = float(cascade.scrub.total_acidity(10.0**-model.bisulfate_pKa) or 0.0) if cascade.scrub else 0.0
        return s / q, max(zbar * w / max(acid, 1e-12), 1e-6 * vf)
    # distribution ratios at the feed stage (extraction) and at the first scrub stage
    n = pseudo.stages_extraction
    aq = pseudo.verified.aqueous
    x_feed = aq[n - 1] / aq[n - 1].sum()
    x_scrub = aq[n] / aq[n].sum() if aq.shape[0] > n and aq[n].sum() > 0 else x_feed
    if isinstance(model, ConstantDistributionModel):
        ext = model.distribution_ratios.get("extraction") or {}
        scr = model.distribution_ratios.get("scrub") or ext
        d_ext = np.array([float(ext.get(c, 0.0)) for c in comps])
        d_scr = np.array([float(scr.get(c, 0.0)) for c in comps])
    else:
        h = cascade.feed.proton_concentration() or 1e-2
        dmodel, _c, _b = _distribution(cascade)
        d_ext = np.exp(dmodel.log_d(np.array([math.log(h)]), np.array([0.0]))[0][0])
        d_scr = d_ext
    dm, dms = float(d_ext @ x_feed), float(d_scr @ x_scrub)
    den = dm * (w + f_total) - dms * w
    if not den > 0.05 * dm * f_total:
        den = dm * f_total
    vo = s * vf / den
    vs = vo * dms * w / s
    return vo, max(vs, 1e-6 * vf)


def _pseudo_spec(cascade: CascadeSpec, betas: dict[str, float]) -> dict[str, Any]:
    return {
        "components": list(cascade.components),
        "model": {"type": "loaded-separation-factor", "separation_factors": betas},
        "feed": {"phase": "aqueous", "flow": cascade.feed.component_flow(cascade.components)},
        "cut": cascade.cut,
        "targets": cascade.targets,
    }


# ------------------------------------------------------------------------------------------------ design


def design_physical(
    cascade: CascadeSpec,
    objective: Objective,
    file: str | None,
    *,
    max_stages: int,
    flow_ladder: tuple[float, ...] | None = None,
    phase_ratio: tuple[float, float] = PHASE_RATIO_BOUNDS,
) -> PhysicalDesignResult:
    """Design the cut of a constant-distribution, empirical-ph or mass-action spec (see the module docstring).

    Returns a PhysicalDesignResult whose ``verified`` is the converged simulation of the chosen design that
    meets every target. Raises InputError (malformed spec), InfeasibleError (targets no design within
    ``max_stages`` meets, or that the loaded-separation-factor equivalent already cannot meet) or
    ConvergenceError (no simulation of the physical cascade converged near the design; with the solver's
    message).

    ``phase_ratio``: bounds (min, max) of the organic/aqueous volume flow ratio in each section; trade-off
    points outside them are reported but not chosen. With a stage efficiency (fixed or kinetic) or
    entrainment in the spec, the design is made with ideal stages and then the plant is sized: at the chosen
    organic flow, the fewest stages (both sections scaled together, the scrub flow re-balanced) meeting every
    target with the plant's stages, reported as ``plant`` beside the ideal count.
    """
    t_start = time.perf_counter()
    _check_physical(cascade, file)
    realistic = cascade
    cascade = cascade.model_copy(update={"efficiency": Efficiency(), "entrainment": Entrainment()})
    plant_wanted = realistic.efficiency != Efficiency() or realistic.entrainment.any
    ladder = tuple(flow_ladder) if flow_ladder is not None else PHYSICAL_FLOW_LADDER
    betas = effective_separation_factors(cascade)
    feed = cascade.feed.component_flow(cascade.components)
    problem = build_problem(cascade.components, betas, feed, "aqueous", cascade.cut, cascade.targets, file)
    pseudo = design_lsf(_pseudo_spec(cascade, betas), max_stages=max_stages, flow_ladder=ladder)
    cut = PhysicalCut(cascade, problem, file)
    lsf_designs = 1
    if isinstance(cascade.model, ConstantDistributionModel):
        refined, infeasible, vo_per_s, vs_per_w = _ladder_constant(cut, pseudo, ladder, max_stages)
    else:
        refined, infeasible, vo_per_s, vs_per_w, betas, pseudo, lsf_designs = _ladder_calibrated(
            cut, pseudo, betas, ladder, max_stages
        )
        problem = cut.problem
    if not refined:
        detail = f"; last solver message: {cut.last_error}" if cut.last_error else ""
        raise InfeasibleError(
            f"no {cascade.model.type} design of the cut {cascade.cut} met the targets by simulation within "
            f"{max_stages} stages at the {len(pseudo.tradeoff)} organic flows tried (loaded-separation-"
            f"factor estimate {pseudo.stages_extraction} + {pseudo.stages_scrub} stages at effective "
            f"β = {problem.beta_key:.4g}){detail}"
        )
    vf = float(cascade.feed.volume_flow or 0.0)
    lo_r, hi_r = phase_ratio

    def ratios(ev: _Eval) -> dict[str, float]:
        out = {"extraction": ev.organic / (vf + (ev.scrub if ev.m > 0 else 0.0))}
        if ev.m > 0:
            out["scrub"] = ev.organic / ev.scrub
        return out

    def within(ev: _Eval) -> bool:
        return all(lo_r * (1 - 1e-12) <= r <= hi_r * (1 + 1e-12) for r in ratios(ev).values())

    points = [
        dataclasses.replace(
            _verified_point(ev, objective), phase_ratio=ratios(ev), within_phase_ratio_bounds=within(ev)
        )
        for _pt, ev in refined
    ]
    if not any(p.within_phase_ratio_bounds for p in points):
        found = "; ".join(", ".join(f"{sec} {r:.3g}" for sec, r in p.phase_ratio.items()) for p in points)
        raise InfeasibleError(
            f"no design of the cut {cascade.cut} keeps O/A within {lo_r:g}-{hi_r:g} in every section "
            f"(designs found: {found}); widen phase_ratio or change the scrub acidity or extractant"
        )
    points += [
        PhysicalTradeoffPoint(
            organic_ree_flow=pt.organic_ree_flow,
            scrub_ree_flow=pt.scrub_ree_flow,
            extraction=pt.extraction,
            scrub=pt.scrub,
            feed_stage=pt.feed_stage,
            objective=math.inf,
            organic_volume_flow=vo,
            scrub_volume_flow=vs,
            verified=False,
        )
        for pt, vo, vs in infeasible
    ]
    allowed = [j for j in range(len(refined)) if points[j].within_phase_ratio_bounds]
    k = min(allowed, key=lambda j: (points[j].objective, points[j].total))
    best = refined[k][1]
    # stage removal at the chosen flow, unless that point was already searched downwards
    better = None
    if id(best) not in cut.searched_down:
        better = cut.fewest_stages(best.n, best.m, best.organic, best.scrub, max_stages, down=True)
    if better is not None and better.feasible and better.n + better.m <= best.n + best.m and within(better):
        best = better
        points[k] = dataclasses.replace(
            _verified_point(best, objective), phase_ratio=ratios(best), within_phase_ratio_bounds=True
        )
    result = best.result
    assert result is not None
    if not (result.converged and result.mass_balance_error <= 1e-9):
        raise ConvergenceError(
            "the verifying simulation of the chosen design did not close its balances",
            residual=result.mass_balance_error,
        )
    vspec = load_spec(best.spec)
    comps = cascade.components
    perf = outlet_performance(
        problem,
        dict(zip(comps, (float(v) for v in result.outlets["raffinate"]), strict=True)),
        dict(zip(comps, (float(v) for v in result.outlets["loaded_organic"]), strict=True)),
    )
    missed = unmet_targets(problem, perf)
    if missed:  # cannot happen for a feasible evaluation (margin 1e-6); kept as the contract's guard
        raise InfeasibleError(f"the chosen design missed targets when simulated: {'; '.join(missed)}")
    scrub_acidity: dict[str, float] = {}
    if cascade.scrub is not None:
        for key in ("acid", "pH", "sulfate"):
            v = getattr(cascade.scrub, key)
            if v is not None:
                scrub_acidity[key] = float(v)
    min_vo, min_vs = _minimum_volumes(cascade, pseudo, vo_per_s, vs_per_w)
    plant = (
        _plant(realistic, problem, file, best, max_stages, objective, ratios, (lo_r, hi_r))
        if plant_wanted
        else None
    )
    return PhysicalDesignResult(
        cut=str(cascade.cut),
        stages_extraction=best.n,
        stages_scrub=best.m,
        feed_stage=best.n,
        organic_ree_flow=best.s_flow,
        scrub_ree_flow=best.w_flow,
        minimum_organic_ree_flow=pseudo.minimum_organic_ree_flow,
        minimum_scrub_ree_flow=pseudo.minimum_scrub_ree_flow,
        stages_total_reflux=pseudo.stages_total_reflux,
        tradeoff=tuple(sorted(points, key=lambda p: p.organic_volume_flow)),
        verified=result,
        spec=vspec,
        objective=objective,
        objective_value=objective(best.organic, best.n + best.m),
        performance=perf,
        verification={"solver": "simulate"},
        key_pair=pseudo.key_pair,
        beta_key=pseudo.beta_key,
        extract_flow=best.extract,
        controlling_section=pseudo.controlling_section,
        estimates={
            **pseudo.estimates,
            "loaded_separation_factor_design": {
                "stages": {"extraction": pseudo.stages_extraction, "scrub": pseudo.stages_scrub},
                "organic_ree_flow": pseudo.organic_ree_flow,
                "scrub_ree_flow": pseudo.scrub_ree_flow,
            },
            "organic_volume_per_ree_flow": vo_per_s,
            "scrub_volume_per_ree_flow": vs_per_w,
        },
        search={
            "simulations": cut.simulations,
            "failed_simulations": cut.failures,
            "simulation_seconds": cut.seconds,
            "loaded_separation_factor_designs": lsf_designs,
            "seconds": time.perf_counter() - t_start,
            "flows_without_design": [f"organic {vo:.6g} L/h" for _p, vo, _vs in infeasible],
        },
        model_type=cascade.model.type,
        organic_volume_flow=best.organic,
        scrub_volume_flow=best.scrub,
        scrub_acidity=scrub_acidity,
        minimum_organic_volume_flow=min_vo,
        minimum_scrub_volume_flow=min_vs,
        effective_separation_factors=betas,
        phase_ratio={**ratios(best), "bounds": [lo_r, hi_r]},
        plant=plant,
    )


def _plant(
    realistic: CascadeSpec,
    problem: CutProblem,
    file: str | None,
    ideal: _Eval,
    max_stages: int,
    objective: Objective,
    ratios: Any,
    bounds: tuple[float, float],
) -> dict[str, Any]:
    """The stages the ideal design ``ideal`` needs with the spec's stage efficiency and entrainment.

    At the ideal design's organic volume flow, both sections are scaled up together from the ideal counts
    and the scrub flow re-balanced (:meth:`PhysicalCut.fewest_stages`) until a simulation with the plant's
    stages meets every target. Raises InfeasibleError when none does within ``max_stages``.
    """

    cut = PhysicalCut(realistic, problem, file)
    ev = cut.fewest_stages(ideal.n, ideal.m, ideal.organic, ideal.scrub, max_stages, down=False)
    if ev is None or not ev.feasible or ev.result is None:
        detail = f"; last solver message: {cut.last_error}" if cut.last_error else ""
        raise InfeasibleError(
            f"with the plant's stage efficiency and entrainment no cascade of at most {max_stages} stages "
            f"meets the targets of the cut {realistic.cut} at the ideal design's organic flow "
            f"{ideal.organic:.6g} L/h (ideal design {ideal.n} + {ideal.m} stages){detail}"
        )
    result = ev.result
    comps = realistic.components
    perf = outlet_performance(
        problem,
        dict(zip(comps, (float(v) for v in result.outlets["raffinate"]), strict=True)),
        dict(zip(comps, (float(v) for v in result.outlets["loaded_organic"]), strict=True)),
    )
    eff = realistic.efficiency
    sections = result.sections
    n_main = ev.n + ev.m
    efficiency: dict[str, Any] = {"kinetic": eff.kinetic}
    if eff.kinetic:
        efficiency.update(rate_constant=eff.rate_constant, mixer_volume=eff.mixer_volume)
    # the efficiency each section's stages work at (kinetic: from their residence times)
    vspec = load_spec(ev.spec)
    va, vo, _vorg, _vs = _volume_profile(vspec, n_main)
    per_stage = stage_efficiency(vspec, tuple(sections[:n_main]), va, vo)
    for sec in ("extraction", "scrub"):
        mask = np.array([s == sec for s in sections[:n_main]])
        if mask.any():
            efficiency[sec] = float(per_stage[mask].mean())
    rat = ratios(ev)
    parts = (
        ["kinetic stage efficiency" if eff.kinetic else "Murphree efficiency"] if eff != Efficiency() else []
    )
    if realistic.entrainment.any:
        parts.append("entrainment")
    basis = " and ".join(parts)
    return {
        "basis": basis,
        "stages": {"extraction": ev.n, "scrub": ev.m, "total": ev.n + ev.m},
        "feed_stage": ev.n,
        "extra_stages": ev.n + ev.m - ideal.n - ideal.m,
        "ideal_stages": {"extraction": ideal.n, "scrub": ideal.m, "total": ideal.n + ideal.m},
        "organic": {"volume_flow": ev.organic},
        "scrub": {"volume_flow": ev.scrub},
        "efficiency": efficiency,
        "entrainment": realistic.entrainment.model_dump() if realistic.entrainment.any else None,
        "phase_ratio": {**rat, "within_bounds": all(bounds[0] <= r <= bounds[1] for r in rat.values())},
        "objective": objective(ev.organic, ev.n + ev.m),
        "performance": perf,
        "simulations": cut.simulations,
        "verified": result.to_dict(),
    }


def _minimum_volumes(
    cascade: CascadeSpec, pseudo: DesignResult, vo_per_s: float, vs_per_w: float
) -> tuple[float, float]:
    """Minimum organic and scrub volume flows, L/h.

    constant-distribution: exact sharp-split limit of infinitely many stages (every raffinate-side component
    scrubbed back, E'_i = D_i Vo/Vs < 1 in the scrub section, and every extract-side one extracted,
    E_i = D_i Vo/(Vs + Vf) > 1 in the extraction section): Vo_min = Vf/(D_HK,ext − D_LK,scrub),
    Vs_min = D_LK,scrub·Vo_min (derived here). Other models: the effective S_min and W_min converted with the
    calibrated volume per mol of the design.
    """
    model = cascade.model
    if isinstance(model, ConstantDistributionModel):
        lk, hk = pseudo.key_pair
        ext = model.distribution_ratios.get("extraction") or {}
        scr = model.distribution_ratios.get("scrub") or ext
        feed = cascade.feed.component_flow(cascade.components)
        raff_side = [
            c for c in cascade.components if feed[c] > 0 and float(ext.get(c, 0.0)) <= float(ext[lk])
        ]
        ext_side = [c for c in cascade.components if feed[c] > 0 and float(ext.get(c, 0.0)) >= float(ext[hk])]
        d_hk = min(float(ext[c]) for c in ext_side)
        d_lk = max(float(scr.get(c, ext[c])) for c in raff_side)
        vf = float(cascade.feed.volume_flow or 0.0)
        if d_hk > d_lk:
            vo = vf / (d_hk - d_lk)
            return vo, d_lk * vo
        return math.inf, math.inf
    return pseudo.minimum_organic_ree_flow * vo_per_s, pseudo.minimum_scrub_ree_flow * vs_per_w


def _order(points: tuple[TradeoffPoint, ...]) -> list[TradeoffPoint]:
    """Ladder points, the loaded-separation-factor optimum first, then by distance in ln S from it."""
    best = min(points, key=lambda p: (p.objective, p.total))
    return sorted(points, key=lambda p: abs(math.log(p.organic_ree_flow / best.organic_ree_flow)))


def _ladder_calibrated(
    cut: PhysicalCut,
    pseudo: DesignResult,
    betas: dict[str, float],
    ladder: tuple[float, ...],
    max_stages: int,
) -> tuple[
    list[tuple[TradeoffPoint, _Eval]],
    list[tuple[TradeoffPoint, float, float]],
    float,
    float,
    dict[str, float],
    DesignResult,
    int,
]:
    """empirical-ph and mass-action: each loaded-separation-factor ladder point calibrated to volume flows
    by simulation, then refined (scrub root find, stage search). Returns the refined points, the points
    without a design, the calibrated L/h per mol/h of S and of W, the (updated) factors, the LSF design and
    how many LSF designs were made."""
    cascade = cut.cascade
    feed = cascade.feed.component_flow(cascade.components)
    lsf_designs = 1
    # the LSF optimum first: calibrate there (and, for empirical-ph, update the effective factors once)
    for attempt in range(3):
        first = _order(pseudo.tradeoff)[0]
        vo0, vs0 = _start_flows(cascade, betas, pseudo, first.organic_ree_flow, first.scrub_ree_flow)
        s_target, e_target = first.organic_ree_flow, first.organic_ree_flow - first.scrub_ree_flow
        cal, jac = cut.calibrate(first.extraction, first.scrub, s_target, e_target, vo0, vs0, None)
        if cal is None:
            raise ConvergenceError(
                f"the {cascade.model.type} cascade at the first design estimate ({first.extraction} + "
                f"{first.scrub} stages, organic {vo0:.6g} L/h, scrub {vs0:.6g} L/h) could not be simulated: "
                f"{cut.last_error}"
            )
        if attempt == 2 or cal.result is None or cal.result.pH is None:
            break
        k = first.extraction - 1
        loading = cal.result.loading
        new = effective_separation_factors(
            cascade,
            ph=float(cal.result.pH[k]),
            free_fraction=1.0 - float(loading[k]) if loading is not None else 1.0,
        )
        lk, hk = cut.problem.light_key, cut.problem.heavy_key
        if abs(math.log((new[hk] / new[lk]) / (betas[hk] / betas[lk]))) <= BETA_UPDATE_TOLERANCE:
            break
        betas = new
        cut.problem = build_problem(
            cascade.components, betas, feed, "aqueous", cascade.cut, cascade.targets, cut.file
        )
        pseudo = design_lsf(_pseudo_spec(cascade, betas), max_stages=max_stages, flow_ladder=ladder)
        cut.cache.clear()
        lsf_designs += 1
    vo_per_s = cal.organic / cal.s_flow
    vs_per_w = cal.scrub / cal.w_flow if cal.w_flow > 0 else cal.scrub / max(first.scrub_ree_flow, 1e-12)
    refined: list[tuple[TradeoffPoint, _Eval]] = []
    infeasible: list[tuple[TradeoffPoint, float, float]] = []
    for i, pt in enumerate(_order(pseudo.tradeoff)):
        vo, vs = cal.organic, cal.scrub
        if i == 0:
            start: _Eval | None = cal
        else:
            vo, vs = pt.organic_ree_flow * vo_per_s, pt.scrub_ree_flow * vs_per_w
            e_pt = pt.organic_ree_flow - pt.scrub_ree_flow
            start, jac = cut.calibrate(pt.extraction, pt.scrub, pt.organic_ree_flow, e_pt, vo, vs, jac)
        if start is None:
            infeasible.append((pt, vo, vs))
            continue
        down = not refined  # the first point with a design is searched downwards too
        ev = cut.fewest_stages(pt.extraction, pt.scrub, start.organic, start.scrub, max_stages, down=down)
        if ev is None or not ev.feasible:
            infeasible.append((pt, start.organic, start.scrub))
            continue
        refined.append((pt, ev))
        if down:
            cut.searched_down.add(id(ev))
    return refined, infeasible, vo_per_s, vs_per_w, betas, pseudo, lsf_designs


def _ladder_constant(
    cut: PhysicalCut, pseudo: DesignResult, ladder: tuple[float, ...], max_stages: int
) -> tuple[list[tuple[TradeoffPoint, _Eval]], list[tuple[TradeoffPoint, float, float]], float, float]:
    """constant-distribution: organic volume flows Vo = multiple × the exact sharp-split minimum; at each,
    the scrub flow starts midway between the two pinches (E'_LK = 1 in the scrub, E_HK = 1 in the
    extraction section) and the stages from the loaded-separation-factor ladder point of the same rank."""
    cascade = cut.cascade
    model = cascade.model
    assert isinstance(model, ConstantDistributionModel)
    vo_min, vs_min = _minimum_volumes(cascade, pseudo, math.nan, math.nan)
    if not math.isfinite(vo_min):
        raise InfeasibleError(
            f"the cut {cascade.cut} cannot be made with these distribution ratios: the extract-side key must "
            "have a larger D in the extraction section than the raffinate-side key in the scrub section"
        )
    d_lk = vs_min / vo_min
    d_hk = d_lk + float(cascade.feed.volume_flow or 0.0) / vo_min
    vf = float(cascade.feed.volume_flow or 0.0)
    lsf_points = sorted(pseudo.tradeoff, key=lambda p: p.organic_ree_flow)
    refined: list[tuple[TradeoffPoint, _Eval]] = []
    infeasible: list[tuple[TradeoffPoint, float, float]] = []
    for i, mult in enumerate(sorted(ladder)):
        vo = vo_min * mult
        vs = 0.5 * (d_lk * vo + d_hk * vo - vf)
        pt = lsf_points[min(i, len(lsf_points) - 1)]
        ev = cut.fewest_stages(pt.extraction, pt.scrub, vo, vs, max_stages, down=True)
        if ev is None or not ev.feasible:
            infeasible.append((pt, vo, vs))
            continue
        refined.append((pt, ev))
        cut.searched_down.add(id(ev))
    s_ref = [ev.s_flow for _p, ev in refined]
    vo_per_s = refined[0][1].organic / s_ref[0] if refined else math.nan
    vs_per_w = (
        refined[0][1].scrub / refined[0][1].w_flow if refined and refined[0][1].w_flow > 0 else math.nan
    )
    return refined, infeasible, vo_per_s, vs_per_w
