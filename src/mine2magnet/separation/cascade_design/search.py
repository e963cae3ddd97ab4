"""Design a counter-current extraction cut: minimum flows, minimum stages, the optimal design, the trade-off.

``design(spec)`` takes a cascade spec (path, dict or :class:`CascadeSpec`) with the
loaded-separation-factor model, a ``feed``, a ``cut`` ("Nd|Sm") and ``targets`` (purity and/or recovery of
each outlet), and returns a :class:`DesignResult` (a spec with a physical model, constant-distribution,
empirical-ph or mass-action, is designed by :mod:`design_physical` through this design at its effective
separation factors, and gets volume flows too):

1. closed forms (:mod:`design_theory`): Fenske stages at total reflux for the key pair, Underwood minimum
   flows, Xu's optimum flows and stage estimates;
2. the product split that makes the targets easiest (:mod:`design_problem`);
3. for a ladder of organic flows S from just above S_min upward, the fewest stages (with the best feed stage)
   whose stage-wise solution meets every target, found by bisection on the stage count with batched
   loaded-separation-factor solves over candidate feed stages (started from an exact McCabe–Thiele stepping of
   the pseudo-binary cut, :mod:`design_stepping`) — this ladder is the trade-off curve stages vs flow;
4. the point that minimises the objective (default ``flow-stages``: S·(n + m), Xu's "maximum output per mixer
   volume" criterion) is simulated once more with :func:`mine2magnet.separation.simulate` and returned only
   if that simulation converged and meets every target.

Units: mol/h for flows (the feed's unit), stage counts dimensionless.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mine2magnet.errors import ConvergenceError, InfeasibleError, InputError
from mine2magnet.separation.cascade_design.lsf import solve_cut, solve_cuts
from mine2magnet.separation.cascade_design.lsf import stage_totals as cut_stage_totals
from mine2magnet.separation.cascade_design.problem import (
    CutProblem,
    build_problem,
    outlet_performance,
    total_reflux_stages,
    unmet_targets,
)
from mine2magnet.separation.cascade_design.request import Objective, load_design_spec
from mine2magnet.separation.cascade_design.result import DesignResult, TradeoffPoint
from mine2magnet.separation.cascade_design.stepping import step_stages
from mine2magnet.separation.cascade_design.theory import (
    fenske_min_stages_keys,
    minimum_flows_underwood,
    optimum_flows,
    xu_stage_estimates,
)
from mine2magnet.separation.contract.result import CascadeResult
from mine2magnet.separation.contract.spec import CascadeSpec, LoadedSeparationFactorModel, load_spec
from mine2magnet.separation.solvers.steady.loaded_separation_factor import solve_lsf
from mine2magnet.separation.solvers.steady.lsf_shooting import (
    ShootingCascade,
    shooting_profiles,
    solve_shooting,
)
from mine2magnet.separation.solvers.steady.simulate import simulate

#: Organic flows tried, as multiples of the minimum S_min (the trade-off curve).
FLOW_LADDER = (1.03, 1.07, 1.13, 1.22, 1.35, 1.5, 1.75, 2.1, 2.7, 4.0)
#: Largest number of extraction + scrub stages a design may use.
MAX_STAGES = 300
#: Targets are designed with this relative margin on the allowed impurity, so that the verified simulation
#: (a separate solve) meets them without depending on the last digits.
IMPURITY_MARGIN = 1e-6
#: Newton iterations allowed per stage-wise solve inside the search (a probe needing more counts as failed).
SEARCH_ITERATIONS = 40
#: Convergence tolerance of the search's mixing-factor Newton (max |ln(λ_k Σ β a) − ln O_k|): b_E to ~1e-9
#: relative, far inside the 1e-6 margin the targets are designed with (the verifying simulation is exact).
SEARCH_TOLERANCE = 1e-9


# ------------------------------------------------------------------------------------------------ search


class _Evaluator:
    """Batched stage-wise solves of the cut: the raffinate-side flow reaching the extract (b_E, mol/h) for a
    batch of feed stages at given flows and stage count.

    The cascades of a batch are solved together by :func:`design_lsf.solve_cuts` (one Newton per case on the
    stage mixing factors, the linear algebra of all cases and components in single LAPACK calls), each
    started from the nearest converged solution seen so far (same flows first, then the fewest stages and
    feed stages apart; its profile stretched to the new stage count). A case whose Newton stalls (a
    composition front that the damped steps move one stage per iteration), or that has no neighbour yet, is
    solved by shooting from both outlets (:mod:`lsf_shooting`: C + 1 unknowns, the split of each component,
    started from the nearest neighbour's split), then by the simulator's solver
    (:func:`loaded_separation_factor.solve_lsf`), then by :func:`design_lsf.solve_cut` (Newton from the
    plain start, then the separation-factor homotopy). Every converged solve is the cascade's unique
    solution, so the order and the starts change the effort, not the answer.
    """

    def __init__(self, problem: CutProblem) -> None:
        self.problem = problem
        comps = problem.components
        self.beta = np.array([problem.betas[c] for c in comps])
        self.feed = np.array([problem.feed[c] for c in comps])
        self.active = self.feed > 0.0
        self.raff_mask = np.array([c in problem.raffinate_side for c in comps])[self.active]
        self.beta_a = self.beta[self.active]
        self.feed_a = self.feed[self.active]
        self.organic_feed = problem.feed_phase == "organic"
        self.calls = 0
        self.cases = 0
        self.seconds = 0.0
        self.fallbacks = 0
        self.failures = 0
        self.iterations = SEARCH_ITERATIONS
        #: converged mixing factors λ (N,) and split logits ln(r/p) (C,) by (organic, scrub, n, feed stage)
        self._mixing: dict[tuple[float, float, int, int], np.ndarray] = {}
        self._splits: dict[tuple[float, float, int, int], np.ndarray] = {}
        #: b_E by (organic, scrub, n_total, feed_stage, iteration budget): a probe asked twice is solved once
        self._known: dict[tuple[float, float, int, int, int], float] = {}

    @staticmethod
    def _nearest(
        store: dict[tuple[float, float, int, int], np.ndarray], organic: float, scrub: float, n: int, k: int
    ) -> tuple[int, np.ndarray] | None:
        """(stage count, value) of the stored solution nearest to (organic, scrub, n, k): same flows first,
        then the fewest stages and feed stages apart, the most recent on a tie."""
        best, best_key = None, None
        for order, ((o, w, n_old, k_old), value) in enumerate(store.items()):
            key = (o != organic or w != scrub, abs(n_old - n) + abs(k_old - k), -order)
            if best_key is None or key < best_key:
                best, best_key = (n_old, value), key
        return best

    def _mixing_start(self, organic: float, scrub: float, n_total: int, feed_stage: int) -> np.ndarray | None:
        """The nearest converged mixing-factor profile, stretched to n_total stages (a start for Newton)."""
        near = self._nearest(self._mixing, organic, scrub, n_total, feed_stage)
        if near is None:
            return None
        n_old, lam = near
        if n_old == n_total:
            return lam
        x_old = np.linspace(0.0, 1.0, n_old)
        return np.exp(np.interp(np.linspace(0.0, 1.0, n_total), x_old, np.log(lam)))

    def feed_stage_range(self, n_total: int) -> tuple[int, int]:
        """Feed stages that leave at least one stage in each section."""
        return (2, n_total) if self.organic_feed else (1, n_total - 1)

    def impurity(self, organic: float, scrub: float, n_total: int, feed_stages: np.ndarray) -> np.ndarray:
        """b_E (mol/h) for each feed stage; NaN where the solve did not converge."""
        t0 = time.perf_counter()
        ks = [int(k) for k in feed_stages]
        keys = [(organic, scrub, n_total, k, self.iterations) for k in ks]
        out = np.array([self._known.get(key, np.nan) for key in keys])
        todo = [i for i, key in enumerate(keys) if key not in self._known]
        if todo:
            out[todo] = self._solve(organic, scrub, n_total, [ks[i] for i in todo])
            for i in todo:
                self._known[keys[i]] = float(out[i])
        self.calls += 1
        self.cases += len(todo)
        self.seconds += time.perf_counter() - t0
        return out

    def _remember(self, key: tuple[float, float, int, int], aqueous: np.ndarray, organic: np.ndarray) -> None:
        """Keep a converged profile's mixing factors λ_k = O_k / Σ_i β_i a_ik and split logits ln(r_i/p_i)."""
        with np.errstate(all="ignore"):
            lam = organic.sum(axis=1) / (aqueous @ self.beta_a)
            split = np.log(np.maximum(aqueous[0], 1e-300)) - np.log(np.maximum(organic[-1], 1e-300))
        if np.isfinite(lam).all() and (lam > 0.0).all():
            self._mixing[key] = lam
        self._splits[key] = split

    def _solve(self, organic: float, scrub: float, n_total: int, ks: list[int]) -> np.ndarray:
        """b_E for each feed stage in ks (the solvers of the class docstring in turn); NaN: none converged."""
        b, c = len(ks), len(self.feed_a)
        out = np.full(b, np.nan)
        f_total = float(self.feed_a.sum())
        placed = np.zeros((b, n_total, c))
        placed[np.arange(b), np.array(ks) - 1, :] = self.feed_a
        totals = [cut_stage_totals(n_total, k, f_total, organic, scrub, self.organic_feed) for k in ks]
        aq_tot = np.array([t[0] for t in totals])
        org_tot = np.array([t[1] for t in totals])
        starts = [self._mixing_start(organic, scrub, n_total, k) for k in ks]
        warm = [i for i in range(b) if starts[i] is not None]
        failed = [i for i in range(b) if starts[i] is None]
        if warm:
            with np.errstate(all="ignore"):  # non-finite trial points are rejected by the line search
                sol = solve_cuts(
                    self.beta_a,
                    placed[warm],
                    aq_tot[warm],
                    org_tot[warm],
                    np.array([starts[i] for i in warm]),
                    tolerance=SEARCH_TOLERANCE,
                    max_iterations=self.iterations,
                )
            for j, i in enumerate(warm):
                if sol.converged[j]:
                    out[i] = sol.organic[j, -1, self.raff_mask].sum()
                    self._remember((organic, scrub, n_total, ks[i]), sol.aqueous[j], sol.organic[j])
                else:
                    failed.append(i)
        if not failed:
            return out
        self.fallbacks += len(failed)
        # shooting from both outlets, from the nearest neighbour's split
        rest_cases = []
        for i in sorted(failed):
            k = ks[i]
            cascade = ShootingCascade(
                beta=self.beta_a,
                feed=self.feed_a,
                stages=n_total,
                feed_stage=k,
                raffinate_total=float(aq_tot[i][0]),
                organic_below=float(org_tot[i][0]),
                aqueous_above=float(aq_tot[i][k]) if k < n_total else 1.0,
            )
            near = self._nearest(self._splits, organic, scrub, n_total, k)
            shot = solve_shooting(
                cascade, self.iterations, start=None if near is None else near[1], homotopy=False
            )
            if shot.converged:
                out[i] = np.exp(shot.log_loaded[self.raff_mask]).sum()
                with np.errstate(all="ignore"):
                    aq, org, _ = shooting_profiles(cascade, shot)
                self._remember((organic, scrub, n_total, k), aq, org)
                self._splits[(organic, scrub, n_total, k)] = shot.xi
            else:
                rest_cases.append(i)
        if not rest_cases:
            return out
        # the simulator's solver, then Newton from the plain start and the separation-factor homotopy
        rest = np.array(rest_cases)
        zeros = np.zeros_like(placed[rest])
        aq_in, org_in = (zeros, placed[rest]) if self.organic_feed else (placed[rest], zeros)
        with np.errstate(all="ignore"):  # its start may take logs of zero flows; non-finite = not converged
            other = solve_lsf(
                np.broadcast_to(self.beta_a, (rest.size, c)),
                aq_in,
                org_in,
                np.full(rest.size, organic),
                np.full(rest.size, scrub),
                max_iterations=self.iterations,
            )
        for j, i in enumerate(rest):
            key = (organic, scrub, n_total, ks[i])
            if other.converged[j]:
                out[i] = other.organic[j, -1, self.raff_mask].sum()
                self._remember(key, other.aqueous[j], other.organic[j])
                continue
            mine = solve_cut(self.beta_a, placed[i], aq_tot[i], org_tot[i], max_iterations=self.iterations)
            if mine.converged:
                out[i] = mine.organic[-1, self.raff_mask].sum()
                self._remember(key, mine.aqueous, mine.organic)
            else:
                self.failures += 1
        return out


@dataclass
class _Probe:
    feasible: bool
    feed_stage: int
    impurity: float

    @property
    def failed(self) -> bool:
        """No feed stage tried converged."""
        return not math.isfinite(self.impurity)


def _probe(ev: _Evaluator, organic: float, scrub: float, n_total: int, frac: float, limit: float) -> _Probe:
    """Best feed stage for n_total stages: three stages around frac·n_total, then walk downhill (b_E is
    unimodal in the feed stage)."""
    lo_k, hi_k = ev.feed_stage_range(n_total)
    if hi_k < lo_k:
        return _Probe(False, lo_k, math.inf)
    centre = min(max(round(frac * n_total), lo_k), hi_k)
    seen: dict[int, float] = {}

    def look(ks: list[int]) -> None:
        ks = [k for k in ks if lo_k <= k <= hi_k and k not in seen]
        if ks:
            arr = np.array(ks, dtype=int)
            for k, v in zip(ks, ev.impurity(organic, scrub, n_total, arr), strict=True):
                seen[k] = float(v) if np.isfinite(v) else math.inf

    look([centre - 1, centre, centre + 1])
    for _ in range(4 * n_total):
        best = min(seen, key=lambda k: seen[k])
        if best - 1 >= lo_k and best - 1 not in seen:
            look([best - 1])
        elif best + 1 <= hi_k and best + 1 not in seen:
            look([best + 1])
        else:
            break
    best = min(seen, key=lambda k: seen[k])
    return _Probe(seen[best] <= limit, best, seen[best])


def _fewest_stages(
    ev: _Evaluator,
    organic: float,
    scrub: float,
    limit: float,
    n_floor: int,
    start: int,
    frac: float,
    max_stages: int,
) -> tuple[int, _Probe] | None:
    """Fewest total stages meeting ``limit`` at these flows; None if more than ``max_stages`` are needed.

    Starts at ``start`` (an estimate), walks down while feasible or climbs in growing steps until feasible,
    then bisects. Cascades far more powerful than the split needs have extreme profiles on which the stage
    solvers converge slowly or not at all; a probe on which no solve converged is therefore taken as "more
    than enough stages" for bracketing, and the answer is re-solved with a larger iteration budget.
    """
    lo = max(n_floor - 1, 1)  # below Fenske: infeasible at any flow
    n = min(max(start, lo + 1), max_stages)
    p = _probe(ev, organic, scrub, n, frac, limit)
    while p.failed and n - 1 > lo:  # start probably far above the answer: come down to solvable cascades
        n = max(lo + 1, (2 * n) // 3)
        p = _probe(ev, organic, scrub, n, frac, limit)
    if p.feasible or p.failed:
        best = (n, p)
        step = 1
        while n - step > lo:
            q = _probe(ev, organic, scrub, n - step, p.feed_stage / n, limit)
            if not (q.feasible or q.failed):
                lo = n - step
                break
            n, p = n - step, q
            best = (n, p)
            step *= 2
        hi = best[0]
    else:
        lo = n
        step = 1
        while True:
            if n >= max_stages:
                return None
            n = min(max_stages, n + step)
            step *= 2
            p = _probe(ev, organic, scrub, n, p.feed_stage / lo, limit)
            if p.feasible or p.failed:
                hi, best = n, (n, p)
                break
            lo = n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        q = _probe(ev, organic, scrub, mid, best[1].feed_stage / best[0], limit)
        if q.feasible or q.failed:
            best, hi = (mid, q), mid
        else:
            lo = mid
    if best[1].failed:
        ev.iterations, saved = 10 * SEARCH_ITERATIONS, ev.iterations
        try:
            q = _probe(ev, organic, scrub, best[0], best[1].feed_stage / best[0], limit)
        finally:
            ev.iterations = saved
        if not q.feasible:
            return None
        best = (best[0], q)
    return best


def _sections(phase: str, n_total: int, feed_stage: int) -> tuple[int, int]:
    """(extraction, scrub) stage counts: an aqueous feed enters the last extraction stage n, an organic feed
    the first scrub stage n + 1."""
    n = feed_stage if phase == "aqueous" else feed_stage - 1
    return n, n_total - n


def _key_flows(problem: CutProblem, extract: float, impurity: float) -> dict[str, float]:
    """Component flows to the extract for the Underwood minimum: the side totals with the losses on the
    keys."""
    flows = {c: (problem.feed[c] if c in problem.extract_side else 0.0) for c in problem.components}
    loss_a = problem.feed_a - (extract - impurity)  # extract-side flow to the raffinate
    for c in sorted(problem.extract_side, key=lambda c: problem.betas[c]):
        take = min(flows[c], loss_a)
        flows[c] -= take
        loss_a -= take
    gain_b = impurity
    for c in sorted(problem.raffinate_side, key=lambda c: -problem.betas[c]):
        take = min(problem.feed[c], gain_b)
        flows[c] += take
        gain_b -= take
    return flows


def _stepping_beta(problem: CutProblem, s_min: float, extract: float) -> float:
    """Binary separation factor whose sharp-split minimum flow equals the multicomponent Underwood S_min.

    From S_min = (β E + R)/(β − 1) (aqueous feed) or S_min − F = F/(β − 1) scaled (organic feed); used only
    to start the stage search of a multicomponent cut near its answer. Falls back to the key-pair β.
    """
    f = problem.feed_total
    r = f - extract
    if problem.feed_phase == "aqueous":
        beta = (s_min + r) / (s_min - extract) if s_min > extract else problem.beta_key
    else:
        beta = 1.0 + f / (s_min - f) if s_min > f else problem.beta_key
    return beta if math.isfinite(beta) and beta > 1.0 else problem.beta_key


def _independent_verification(spec: CascadeSpec, problem: CutProblem) -> CascadeResult:
    """Solve the chosen design with :func:`design_lsf.solve_cut` and package it like ``simulate`` does.

    Raises ConvergenceError when it does not converge or its mass balance is not closed to 1e-9.
    """
    assert spec.stages is not None
    comps = spec.components
    n_total = spec.stages.extraction + spec.stages.scrub
    f = np.array([problem.feed[c] for c in comps])
    present = f > 0
    beta = np.array([problem.betas[c] for c in comps])[present]
    placed = np.zeros((n_total, int(present.sum())))
    placed[spec.feed.stage - 1] = f[present]
    assert spec.organic is not None and spec.organic.ree_flow is not None
    organic = float(spec.organic.ree_flow)
    scrub = float(spec.scrub.ree_flow) if spec.scrub is not None and spec.scrub.ree_flow is not None else 0.0
    totals = cut_stage_totals(
        n_total, spec.feed.stage, float(f.sum()), organic, scrub, spec.feed.phase == "organic"
    )
    sol = solve_cut(beta, placed, *totals, max_iterations=400)
    if not sol.converged or sol.mass_balance_error > 1e-9:
        raise ConvergenceError(
            "the verifying simulation of the chosen design did not converge (simulate and the independent "
            "mixing-factor solver both failed)",
            residual=sol.residual,
            iterations=sol.iterations,
        )
    aq = np.zeros((n_total, len(comps)))
    org = np.zeros((n_total, len(comps)))
    aq[:, present] = sol.aqueous
    org[:, present] = sol.organic
    return CascadeResult(
        components=comps,
        sections=("extraction",) * spec.stages.extraction + ("scrub",) * spec.stages.scrub,
        aqueous=aq,
        organic=org,
        feed=f,
        outlets={"raffinate": aq[0].copy(), "loaded_organic": org[-1].copy()},
        terminal_outlets=("raffinate", "loaded_organic"),
        converged=True,
        iterations=sol.iterations,
        mass_balance_error=sol.mass_balance_error,
        residual=sol.residual,
        model="loaded-separation-factor",
    )


def _verify_spec(spec: CascadeSpec, n: int, m: int, feed_stage: int, organic: float, scrub: float) -> dict:
    feed = spec.feed.component_flow(spec.components)
    return {
        "components": list(spec.components),
        "model": spec.model.model_dump(),
        "stages": {"extraction": n, "scrub": m},
        "feed": {"stage": feed_stage, "phase": spec.feed.phase, "flow": feed},
        "organic": {"ree_flow": organic},
        "scrub": {"ree_flow": scrub},
        "cut": spec.cut,
        "targets": spec.targets,
    }


def _lsf_plant(
    cascade: CascadeSpec, problem: CutProblem, ideal: TradeoffPoint, efficiency: Any, max_stages: int
) -> dict[str, Any]:
    """The stages an ideal loaded-separation-factor design needs with Murphree stages of ``efficiency``.

    At the design's flows S and W (the minimum flows do not depend on the stage efficiency), both sections
    are scaled together, (n, m) = round(t (n0, m0)), t growing by 10 % until a simulation with the plant's
    stages meets every target, then bisected on the total down to the fewest. Raises InfeasibleError when no
    cascade of at most ``max_stages`` stages does.
    """
    n0, m0 = ideal.extraction, ideal.scrub
    t0 = n0 + m0
    organic_feed = cascade.feed.phase == "organic"
    cache: dict[int, tuple[bool, Any, dict[str, Any], tuple[int, int]]] = {}

    def trial(total: int) -> tuple[bool, Any, dict[str, Any], tuple[int, int]]:
        if total not in cache:
            n = max(1, round(total * n0 / t0))
            m = max(1, total - n) if m0 > 0 else 0
            spec = _verify_spec(
                cascade, n, m, n + 1 if organic_feed else n, ideal.organic_ree_flow, ideal.scrub_ree_flow
            )
            spec["efficiency"] = efficiency.model_dump(exclude_none=True)
            with np.errstate(all="ignore"):
                result = simulate(load_spec(spec))
            outlets = result.to_dict()["outlets"]
            perf = outlet_performance(
                problem, outlets["raffinate"]["flow"], outlets["loaded_organic"]["flow"]
            )
            cache[total] = (not unmet_targets(problem, perf), result, perf, (n, m))
        return cache[total]

    bad, good = t0 - 1, None
    total = t0
    while total <= max_stages:
        if trial(total)[0]:
            good = total
            break
        bad = total
        total = max(total + 1, math.ceil(total * 1.1))
    if good is None:
        raise InfeasibleError(
            f"with the plant's Murphree efficiency no cascade of at most {max_stages} stages meets the "
            f"targets of the cut {cascade.cut} at the ideal design's flows "
            f"(S = {ideal.organic_ree_flow:.6g}, W = {ideal.scrub_ree_flow:.6g} mol/h; ideal design "
            f"{n0} + {m0} stages)"
        )
    while good - bad > 1:
        mid = (good + bad) // 2
        if trial(mid)[0]:
            good = mid
        else:
            bad = mid
    _ok, result, perf, (n, m) = trial(good)
    return {
        "basis": "Murphree efficiency",
        "stages": {"extraction": n, "scrub": m, "total": n + m},
        "feed_stage": n + 1 if organic_feed else n,
        "extra_stages": n + m - t0,
        "ideal_stages": {"extraction": n0, "scrub": m0, "total": t0},
        "organic": {"ree_flow": ideal.organic_ree_flow},
        "scrub": {"ree_flow": ideal.scrub_ree_flow},
        "efficiency": {"kinetic": False, "extraction": efficiency.extraction, "scrub": efficiency.scrub},
        "entrainment": None,
        "performance": perf,
        "simulations": len(cache),
        "verified": result.to_dict(),
    }


def design_lsf(
    spec: str | Path | Mapping[str, Any] | CascadeSpec,
    *,
    max_stages: int = MAX_STAGES,
    flow_ladder: tuple[float, ...] = FLOW_LADDER,
) -> DesignResult:
    """Design the cut of a loaded-separation-factor spec (path, dict or CascadeSpec): see the module
    docstring. The physical models' designs come here with a pseudo spec at their effective separation
    factors; :func:`mine2magnet.separation.design` takes every model.

    Raises:
        InputError: a malformed spec, cut or targets (names the file and field), or a physical model.
        InfeasibleError: targets no cascade can meet (e.g. a purity for a side absent from the feed), or not
            within ``max_stages`` stages at the flows tried (says what was achieved).
        ConvergenceError: the verifying simulation did not converge.
    """
    t_start = time.perf_counter()
    request = load_design_spec(spec)
    if request.saponification is not None:
        raise InputError(
            "the saponification degree is a design variable of the mass-action model only",
            file=request.file,
            field="saponification",
        )
    return design_loaded_lsf(
        request.cascade,
        request.objective,
        request.file,
        request.phase_ratio,
        max_stages=max_stages,
        flow_ladder=flow_ladder,
        started=t_start,
    )


def design_loaded_lsf(
    cascade: CascadeSpec,
    objective: Objective,
    file: str | None,
    phase_ratio: tuple[float, float] | None,
    *,
    max_stages: int,
    flow_ladder: tuple[float, ...],
    started: float,
) -> DesignResult:
    """The design search of an already read loaded-separation-factor spec (``started``: the
    ``time.perf_counter()`` at which the request was received, for the reported seconds)."""
    t_start = started
    if not isinstance(cascade.model, LoadedSeparationFactorModel):
        raise InputError(
            f"the design search works on the loaded-separation-factor model, got {cascade.model.type!r} "
            "(use mine2magnet.separation.design)",
            file=file,
            field="model",
        )
    if cascade.efficiency.kinetic:
        raise InputError(
            "a kinetic efficiency needs volume flows (mixer residence times): give the loaded-separation-"
            "factor design a fixed Murphree efficiency per section",
            file=file,
            field="efficiency",
        )
    plant_efficiency = cascade.efficiency
    cascade = cascade.model_copy(update={"efficiency": type(plant_efficiency)()})
    if cascade.entrainment.any:
        raise InputError(
            "entrainment is designed with the constant-distribution model (the loaded-separation-factor "
            "model has no volume flows)",
            file=file,
            field="entrainment",
        )
    if phase_ratio is not None:
        raise InputError(
            "O/A bounds need volume flows: the loaded-separation-factor design works in mol/h",
            file=file,
            field="phase_ratio",
        )
    if not (isinstance(max_stages, int) and max_stages >= 2):
        raise InputError(f"max_stages must be an integer ≥ 2, got {max_stages!r}", field="max_stages")
    feed = cascade.feed.component_flow(cascade.components)
    problem = build_problem(
        cascade.components,
        cascade.model.separation_factors,
        feed,
        cascade.feed.phase,
        cascade.cut,
        cascade.targets,
        file,
    )
    total_feed = problem.feed_total
    problem = dataclasses.replace(problem, margin=IMPURITY_MARGIN)
    extract, limit = problem.choose_split()
    impurity_max = limit / (1.0 - IMPURITY_MARGIN)
    a_e = extract - limit
    b_r = problem.feed_b - limit

    # --- closed forms
    e_flows = _key_flows(problem, extract, limit)
    hk, lk = problem.heavy_key, problem.light_key
    key_flows = (
        e_flows[hk],
        problem.feed[hk] - e_flows[hk],
        e_flows[lk],
        problem.feed[lk] - e_flows[lk],
    )
    # Fenske for the key pair with the losses on the keys; when a key's feed is too small to carry its side's
    # whole loss, the side totals are used instead (then it is an estimate, not a floor for the search)
    # Fenske for the key pair with the losses on the keys (an estimate when a key cannot carry them), and
    # the exact multicomponent minimum at total reflux, a true floor for the stage search
    keys_carry = all(f > 0.0 for f in key_flows)
    if keys_carry:
        n_fenske = fenske_min_stages_keys(problem.beta_key, *key_flows)
    else:
        n_fenske = fenske_min_stages_keys(problem.beta_key, a_e, problem.feed_a - a_e, limit, b_r)
    n_min = total_reflux_stages(problem, n_max=float(max_stages) + 1.0)
    if n_min > max_stages:
        raise InfeasibleError(
            f"the cut {cascade.cut} needs more than max_stages = {max_stages} stages even at total reflux "
            f"(key pair {lk}/{hk}, β = {problem.beta_key:.4g}, Fenske estimate {n_fenske:.1f})"
        )
    present = {c: v for c, v in problem.feed.items() if v > 0.0}
    minimum = minimum_flows_underwood(
        problem.betas, present, {c: e_flows[c] for c in present}, lk, hk, problem.feed_phase
    )
    # the flows must also leave metal in every stream: W = S − E > 0, and below an organic feed S − F > 0
    s_floor = total_feed if problem.feed_phase == "organic" else extract
    s_min = max(minimum.organic_ree_flow, s_floor)
    w_min = s_min - extract
    e_frac = extract / total_feed
    opt = optimum_flows(problem.beta_key, e_frac, problem.feed_phase, total_feed)
    estimates: dict[str, Any] = {
        "fenske_stages_key_pair": n_fenske,
        "total_reflux_stages": n_min,
        "xu_optimum": {
            "organic_ree_flow": opt.organic_ree_flow,
            "scrub_ree_flow": opt.scrub_ree_flow,
            "controlling_section": opt.controlling_section,
        },
        "underwood_theta": minimum.theta,
        "underwood_organic_ree_flow": minimum.organic_ree_flow,
    }
    fa_frac = problem.feed_a / total_feed
    try:
        if problem.feed_phase == "aqueous":
            e_b = opt.organic_ree_flow / (opt.scrub_ree_flow + total_feed)
            e_a = opt.organic_ree_flow / opt.scrub_ree_flow
        else:
            e_b = (opt.organic_ree_flow - total_feed) / opt.scrub_ree_flow
            e_a = opt.organic_ree_flow / opt.scrub_ree_flow
        xu = xu_stage_estimates(
            problem.beta_key, fa_frac, a_e / extract, b_r / (total_feed - extract), e_b, e_a
        )
        estimates["xu_stages_at_optimum"] = {"extraction": xu.extraction, "scrub": xu.scrub}
    except (InfeasibleError, InputError, ValueError, ZeroDivisionError):
        estimates["xu_stages_at_optimum"] = None

    # --- the ladder of organic flows
    ev = _Evaluator(problem)
    n_floor = max(2, math.ceil(n_min - 1e-9))
    binary = int(ev.active.sum()) == 2
    # multicomponent estimates step the pseudo-binary cut with the Underwood-equivalent separation factor
    beta_step = problem.beta_key if binary else _stepping_beta(problem, s_min, extract)
    estimates["stepping_separation_factor"] = beta_step
    points: list[TradeoffPoint] = []
    failures: list[str] = []
    frac_guess: float | None = None
    ratio = 0.9
    # from the largest flow down: stages grow as the flow falls, so once a flow needs more than max_stages
    # every smaller one does too and the search stops there
    exhausted = False
    for mult in sorted(flow_ladder, reverse=True):
        organic = s_min * mult
        scrub = organic - extract
        if exhausted:
            failures.append(f"S = {organic:.6g}")
            continue
        if scrub <= 0.0 or organic - (total_feed if problem.feed_phase == "organic" else 0.0) <= 0.0:
            continue
        try:
            stepped = step_stages(
                beta_step,
                organic,
                scrub,
                problem.feed_a,
                problem.feed_b,
                limit,
                problem.feed_phase,
                max_stages=4 * max_stages,
            )
        except InfeasibleError:
            stepped = None
        if binary:
            # two components: the McCabe-Thiele stepping is exact for this model (verified below by simulate)
            if stepped is None or stepped.total > max_stages or stepped.scrub < 1 or stepped.extraction < 1:
                failures.append(f"S = {organic:.6g}")
                exhausted = stepped is None or stepped.total > max_stages
                continue
            n, m = stepped.extraction, stepped.scrub
            feed_stage = n if problem.feed_phase == "aqueous" else n + 1
            points.append(TradeoffPoint(organic, scrub, n, m, feed_stage, objective(organic, n + m)))
            continue
        if stepped is not None:
            # the stepping estimate, scaled by what the stage-wise search found at the previous flow
            start = max(n_floor, round(ratio * stepped.total))
            frac = (stepped.extraction + (problem.feed_phase == "organic")) / max(stepped.total, 1)
            if frac_guess is not None:
                frac = frac_guess
        else:
            start, frac = 2 * n_floor, frac_guess or 0.5
        if start > max_stages:
            failures.append(f"S = {organic:.6g}")
            exhausted = True
            continue
        # the climb is bounded at twice the calibrated estimate: beyond that the flow is too close to the
        # minimum for this ladder and smaller flows are left out of the trade-off
        ceiling = min(max_stages, max(2 * start, start + 20))
        found = _fewest_stages(ev, organic, scrub, limit, n_floor, start, frac, ceiling)
        if found is None:
            failures.append(f"S = {organic:.6g}")
            exhausted = True
            continue
        n_total, probe = found
        n, m = _sections(problem.feed_phase, n_total, probe.feed_stage)
        frac_guess = probe.feed_stage / n_total
        if stepped is not None:
            ratio = n_total / max(stepped.total, 1)
        points.append(TradeoffPoint(organic, scrub, n, m, probe.feed_stage, objective(organic, n_total)))
    if not points:
        raise InfeasibleError(
            f"no design of the cut {cascade.cut} meets the targets within {max_stages} stages at organic "
            f"flows up to {max(flow_ladder):g}·S_min = {s_min * max(flow_ladder):.6g} mol/h "
            f"(S_min = {s_min:.6g}, minimum {n_min:.1f} stages at total reflux); allow more stages or relax "
            "the targets"
        )

    # --- the optimum, verified by simulation
    candidates = sorted(points, key=lambda p: (p.objective, p.total))
    last_problem = ""
    best = candidates[0]
    for attempt in range(4):
        vspec = load_spec(
            _verify_spec(
                cascade,
                best.extraction,
                best.scrub,
                best.feed_stage,
                best.organic_ree_flow,
                best.scrub_ree_flow,
            )
        )
        try:
            with np.errstate(
                all="ignore"
            ):  # numpy warnings inside the solver are not results; convergence is
                result = simulate(vspec)  # checked by simulate itself (it raises)
            verification = {"solver": "simulate"}
        except ConvergenceError as exc:
            # the simulator's Newton did not converge on this cascade: solve it with the independent
            # mixing-factor Newton instead, and say so; if that fails too, the design is not returned
            result = _independent_verification(vspec, problem)
            verification = {"solver": "design_lsf (mixing-factor Newton)", "simulate_error": str(exc)}
        outlets = result.to_dict()["outlets"]
        perf = outlet_performance(problem, outlets["raffinate"]["flow"], outlets["loaded_organic"]["flow"])
        missed = unmet_targets(problem, perf)
        if not missed:
            plant = (
                _lsf_plant(cascade, problem, best, plant_efficiency, max_stages)
                if plant_efficiency != type(plant_efficiency)()
                else None
            )
            return DesignResult(
                cut=str(cascade.cut),
                stages_extraction=best.extraction,
                stages_scrub=best.scrub,
                feed_stage=best.feed_stage,
                organic_ree_flow=best.organic_ree_flow,
                scrub_ree_flow=best.scrub_ree_flow,
                minimum_organic_ree_flow=s_min,
                minimum_scrub_ree_flow=w_min,
                stages_total_reflux=n_min,
                tradeoff=tuple(sorted(points, key=lambda p: p.organic_ree_flow)),
                verified=result,
                spec=vspec,
                objective=objective,
                objective_value=best.objective,
                performance=perf,
                verification=verification,
                key_pair=(lk, hk),
                beta_key=problem.beta_key,
                extract_flow=extract,
                controlling_section=opt.controlling_section,
                estimates=estimates,
                search={
                    "solver_calls": ev.calls,
                    "cascades_solved": ev.cases,
                    "solver_fallbacks": ev.fallbacks,
                    "solver_failures": ev.failures,
                    "solver_seconds": ev.seconds,
                    "seconds": time.perf_counter() - t_start,
                    "flows_without_design": failures,
                    "impurity_limit": impurity_max,
                },
                plant=plant,
            )
        last_problem = "; ".join(missed)
        if attempt == 3:
            break
        # a rounding miss: search again at this flow from one stage more, with the stage-wise solver
        found = _fewest_stages(
            ev,
            best.organic_ree_flow,
            best.scrub_ree_flow,
            limit,
            best.total + 1,
            best.total + 1,
            best.feed_stage / best.total,
            max_stages,
        )
        if found is None:
            break
        n_total, probe = found
        n, m = _sections(problem.feed_phase, n_total, probe.feed_stage)
        best = TradeoffPoint(
            best.organic_ree_flow,
            best.scrub_ree_flow,
            n,
            m,
            probe.feed_stage,
            objective(best.organic_ree_flow, n_total),
        )
        points = [p for p in points if p.organic_ree_flow != best.organic_ree_flow] + [best]
    raise InfeasibleError(
        f"the best designs found for the cut {cascade.cut} did not meet the targets when simulated: "
        f"{last_problem}"
    )
