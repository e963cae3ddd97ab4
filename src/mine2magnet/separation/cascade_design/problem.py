"""A cut to design: the feed, the two sides of the cut, the targets and the product split they imply.

Built from a cascade spec's ``components``, ``model.separation_factors``, ``feed``, ``cut`` and ``targets``
(see ``docs/cascade-design.md``). Validation errors name the field (InputError) or say why the targets cannot
be met (InfeasibleError).

The product split. With the loaded-separation-factor cascade the extract flow E = S − W is fixed by the flows,
so the outlet totals are tied by the balance a_R − b_E = F_A − E (a: extract-side components, b:
raffinate-side components, subscripts R raffinate and E extract). Every target is then a bound on one
number, the raffinate-side flow b_E that reaches the extract:

* extract purity p_A:      b_E ≤ E (1 − p_A)
* extract recovery r_A:    b_E ≤ E − r_A F_A
* raffinate purity p_B:    b_E ≤ F_B − p_B (F − E)
* raffinate recovery r_B:  b_E ≤ F_B (1 − r_B)

E is chosen to make the separation easiest, i.e. to minimise the Fenske severity ln[(a_E/a_R)(b_R/b_E)] at the
largest allowed b_E (derived here); the stage search then only has to bring b_E below that bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from mine2magnet.errors import InfeasibleError, InputError

TARGET_KEYS = {"purity", "recovery"}
SIDES = ("raffinate", "extract")


@dataclass(frozen=True)
class SideTargets:
    """Targets of one outlet: purity (share of the outlet's metal on its own side) and recovery (share of that
    side's feed leaving in this outlet); fractions, None when not asked."""

    purity: float | None = None
    recovery: float | None = None


@dataclass(frozen=True)
class CutProblem:
    """A validated design problem. Flows in mol/h; separation factors relative (only ratios matter)."""

    components: tuple[str, ...]
    betas: dict[str, float]
    feed: dict[str, float]
    feed_phase: str
    raffinate_side: tuple[str, ...]
    extract_side: tuple[str, ...]
    light_key: str
    heavy_key: str
    raffinate: SideTargets
    extract: SideTargets

    @cached_property
    def feed_total(self) -> float:
        return math.fsum(self.feed.values())

    @cached_property
    def feed_a(self) -> float:
        """Extract-side feed, mol/h."""
        return math.fsum(self.feed[c] for c in self.extract_side)

    @cached_property
    def feed_b(self) -> float:
        """Raffinate-side feed, mol/h."""
        return math.fsum(self.feed[c] for c in self.raffinate_side)

    @cached_property
    def beta_key(self) -> float:
        """Separation factor of the key pair across the cut (first extract-side / last raffinate-side
        present)."""
        return self.betas[self.heavy_key] / self.betas[self.light_key]

    #: relative margin on the allowed impurity (set by the designer; 0 = the targets exactly)
    margin: float = 0.0

    def impurity_limit(self, extract: float) -> float:
        """The largest raffinate-side flow allowed in the extract (mol/h) when the extract flow is
        ``extract``.

        Returns a value ≤ the physical lower bound max(0, E − F_A) when no b_E satisfies the targets.
        """
        fa, fb, f = self.feed_a, self.feed_b, self.feed_total
        bounds = [fb]
        if self.extract.purity is not None:
            bounds.append(extract * (1.0 - self.extract.purity))
        if self.extract.recovery is not None:
            bounds.append(extract - self.extract.recovery * fa)
        if self.raffinate.purity is not None:
            bounds.append(fb - self.raffinate.purity * (f - extract))
        if self.raffinate.recovery is not None:
            bounds.append(fb * (1.0 - self.raffinate.recovery))
        return min(bounds) * (1.0 - self.margin)

    def impurity_limits(self, extract: np.ndarray) -> np.ndarray:
        """:meth:`impurity_limit` for an array of extract flows (mol/h)."""
        fa, fb, f = self.feed_a, self.feed_b, self.feed_total
        out = np.full(np.shape(extract), fb, dtype=float)
        if self.extract.purity is not None:
            out = np.minimum(out, extract * (1.0 - self.extract.purity))
        if self.extract.recovery is not None:
            out = np.minimum(out, extract - self.extract.recovery * fa)
        if self.raffinate.purity is not None:
            out = np.minimum(out, fb - self.raffinate.purity * (f - extract))
        if self.raffinate.recovery is not None:
            out = np.minimum(out, fb * (1.0 - self.raffinate.recovery))
        return out * (1.0 - self.margin)

    def severity(self, extract: float) -> float:
        """Fenske severity ln[(a_E/a_R)(b_R/b_E)] at the largest allowed b_E (inf when infeasible)."""
        fa, fb = self.feed_a, self.feed_b
        b_e = self.impurity_limit(extract)
        a_e = extract - b_e
        a_r = fa - a_e
        b_r = fb - b_e
        if not (b_e > 0.0 and a_r > 0.0 and a_e > 0.0 and b_r > 0.0):
            return math.inf
        return math.log(a_e / a_r) + math.log(b_r / b_e)

    def choose_split(self) -> tuple[float, float]:
        """(E, b_E limit): the extract flow that minimises the severity, and the impurity bound there (mol/h).

        The feasible extract flows form an interval (the impurity bound is a minimum of linear functions of E,
        hence concave, and must exceed max(0, E − F_A)): it is bracketed exactly by bisection around the
        most feasible E, then the severity is minimised on it. Raises InfeasibleError when the interval is
        empty (targets that contradict the mass balance).
        """
        f, fa = self.feed_total, self.feed_a

        def slack(e: float) -> float:
            u = self.impurity_limit(e)
            return min(u, u - (e - fa), f - e, e)

        # golden-section maximisation of the concave slack
        g = (math.sqrt(5.0) - 1.0) / 2.0
        a, b = 0.0, f
        for _ in range(200):
            c, d = b - g * (b - a), a + g * (b - a)
            if slack(c) >= slack(d):
                b = d
            else:
                a = c
        top = (a + b) / 2.0
        if not slack(top) > 0.0:
            raise InfeasibleError(
                "the targets contradict the mass balance: no extract flow gives both outlets their purity "
                f"and recovery (feed {self.feed_a:.6g} mol/h extract side, {self.feed_b:.6g} mol/h "
                "raffinate side)"
            )

        def edge(lo: float, hi: float) -> float:
            # lo infeasible (or the bound), hi feasible: the boundary, to 1e-15 of the feed
            for _ in range(200):
                mid = (lo + hi) / 2.0
                if slack(mid) > 0.0:
                    hi = mid
                else:
                    lo = mid
                if abs(hi - lo) <= 1e-15 * f:
                    break
            return hi

        e_lo, e_hi = edge(0.0, top), edge(f, top)
        grid = np.linspace(e_lo, e_hi, 401)
        sev = np.array([self.severity(float(e)) for e in grid])
        i = int(np.argmin(sev))
        a, b = float(grid[max(i - 1, 0)]), float(grid[min(i + 1, len(grid) - 1)])
        for _ in range(80):
            c, d = b - g * (b - a), a + g * (b - a)
            if self.severity(c) <= self.severity(d):
                b = d
            else:
                a = c
        best = min((float(grid[i]), (a + b) / 2.0), key=self.severity)
        if not math.isfinite(self.severity(best)):
            best = top
        return best, self.impurity_limit(best)


#: Depth of the bisection tree evaluated at once by :func:`total_reflux_stages` (2**depth − 1 stage counts).
REFLUX_TREE_DEPTH = 5


def total_reflux_stages(problem: CutProblem, n_max: float = 2000.0) -> float:
    """Fewest stages at total reflux that can meet the targets, multicomponent and exact for this model.

    At total reflux the organic leaving stage k has the composition of the aqueous leaving stage k+1, so each
    component's extract-to-raffinate ratio over N stages is c·β_i^N with one constant c (derived here; for two
    components and purity targets this is Fenske's equation). N is feasible when some c gives a split whose
    raffinate-side flow in the extract b_E is within the targets' bound at that split's extract flow. The
    smallest real N is found by bisection (feasibility is monotone in N) with a scan and a golden-section
    refinement over ln c. Dimensionless; inf if more than ``n_max``.

    The bisection is evaluated speculatively: every stage count it could visit in the next
    ``REFLUX_TREE_DEPTH`` steps (and, first, every count of the doubling bracket) is tested in one vectorised
    call, each with exactly the arithmetic of a single test, and the bisection then walks through the
    answers: the same result as testing one count at a time.
    """
    comps = [c for c in problem.components if problem.feed[c] > 0.0]
    log_b = np.log(np.array([problem.betas[c] for c in comps]))
    f = np.array([problem.feed[c] for c in comps])
    raff = np.array([c in problem.raffinate_side for c in comps])
    mid = 0.5 * (math.log(problem.betas[problem.light_key]) + math.log(problem.betas[problem.heavy_key]))
    spread = log_b[None, None, :] - mid
    fa = problem.feed_a

    def margin(n: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Slack of the targets (mol/h) at stage counts n (K,) and ln c values t (K, P); −inf where the split
        is not physical."""
        z = t[:, :, None] + n[:, None, None] * spread
        e = 0.5 * (1.0 + np.tanh(0.5 * z)) * f
        b_e = e[..., raff].sum(axis=-1)
        extract = e.sum(axis=-1)
        lim = problem.impurity_limits(extract)
        gap = lim - b_e
        return np.where((extract > 0.0) & (extract - b_e <= fa * (1.0 + 1e-12)), gap, -np.inf)

    grid = np.linspace(-80.0, 80.0, 161)
    g = (math.sqrt(5.0) - 1.0) / 2.0
    known: dict[float, bool] = {}

    def test(ns: list[float]) -> None:
        """Feasibility of each stage count in ns: a grid scan over ln c, then a golden-section search around
        the best grid point (36 steps), stopping as soon as a point meets the targets."""
        new = [n for n in dict.fromkeys(ns) if n not in known]
        if not new:
            return
        n_arr = np.array(new)
        k = n_arr.size
        m = margin(n_arr, np.broadcast_to(grid, (k, grid.size)))
        i = np.argmax(m, axis=1)
        ok = m[np.arange(k), i] >= 0.0
        a = grid[np.maximum(i - 1, 0)]
        b = grid[np.minimum(i + 1, grid.size - 1)]
        lanes = np.flatnonzero(~ok)
        for _ in range(36):
            if not lanes.size:
                break
            c = b[lanes] - g * (b[lanes] - a[lanes])
            d = a[lanes] + g * (b[lanes] - a[lanes])
            mm = margin(n_arr[lanes], np.stack([c, d], axis=1))
            hit = (mm[:, 0] >= 0.0) | (mm[:, 1] >= 0.0)
            ok[lanes[hit]] = True
            left = mm[:, 0] >= mm[:, 1]
            move_b, move_a = ~hit & left, ~hit & ~left
            b[lanes[move_b]] = d[move_b]
            a[lanes[move_a]] = c[move_a]
            lanes = lanes[~hit]
        known.update(zip(new, (bool(x) for x in ok), strict=True))

    def feasible(n: float) -> bool:
        if n not in known:
            test([n])
        return known[n]

    # the doubling bracket (from a few stages: cheaper than bisecting down from n_max), tested at once
    ladder = [0.0, 4.0]
    while ladder[-1] < n_max:
        ladder.append(min(2.0 * ladder[-1], n_max))
    test(ladder)
    if feasible(0.0):
        return 0.0
    lo, hi = 0.0, 4.0
    while not feasible(hi):
        lo = hi
        if hi >= n_max:
            return math.inf
        hi = min(2.0 * hi, n_max)
    for _ in range(80):
        mid_n = (lo + hi) / 2.0
        if mid_n not in known:
            test(_bisection_tree(lo, hi, REFLUX_TREE_DEPTH))
        if feasible(mid_n):
            hi = mid_n
        else:
            lo = mid_n
        if hi - lo < 1e-6 * max(1.0, hi):
            break
    return hi


def _bisection_tree(lo: float, hi: float, depth: int) -> list[float]:
    """Every midpoint a bisection of [lo, hi] can visit in its next ``depth`` steps (breadth first)."""
    out: list[float] = []
    level = [(lo, hi)]
    for _ in range(depth):
        nxt = []
        for a, b in level:
            m = (a + b) / 2.0
            out.append(m)
            nxt += [(a, m), (m, b)]
        level = nxt
    return out


def _fraction(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise InputError(f"expected a number (a fraction), got {value!r}", field=field)
    return float(value)


def parse_targets(
    targets: Mapping[str, Any] | None, file: str | None = None
) -> tuple[SideTargets, SideTargets]:
    """Validate ``targets: {raffinate: {purity, recovery}, extract: {purity, recovery}}``.

    Purity ≥ 1 or recovery ≥ 1 cannot be reached by a finite cascade (InfeasibleError); values ≤ 0, unknown
    keys or non-numbers are InputErrors naming the field.
    """
    if not targets:
        raise InputError(
            "a design needs targets, e.g. {raffinate: {purity: 0.999}, extract: {purity: 0.999}}",
            file=file,
            field="targets",
        )
    if not isinstance(targets, Mapping):
        raise InputError("expected a mapping {raffinate: {...}, extract: {...}}", file=file, field="targets")
    unknown = sorted(set(targets) - set(SIDES))
    if unknown:
        raise InputError(
            f"unknown outlet(s) {unknown}; expected raffinate and/or extract", file=file, field="targets"
        )
    out: dict[str, SideTargets] = {}
    for side in SIDES:
        raw = targets.get(side) or {}
        if not isinstance(raw, Mapping):
            raise InputError("expected {purity: ..., recovery: ...}", file=file, field=f"targets.{side}")
        bad = sorted(set(raw) - TARGET_KEYS)
        if bad:
            raise InputError(
                f"unknown target(s) {bad}; expected purity and/or recovery",
                file=file,
                field=f"targets.{side}",
            )
        vals: dict[str, float] = {}
        for key in sorted(TARGET_KEYS & set(raw)):
            if raw[key] is None:
                continue
            field = f"targets.{side}.{key}"
            v = _fraction(raw[key], field)
            if v <= 0.0:
                raise InputError(f"must be a fraction in (0, 1), got {v}", file=file, field=field)
            if v >= 1.0:
                raise InfeasibleError(
                    f"{field} = {v}: a {key} of 1 or more needs an infinite cascade (give a fraction below 1)"
                )
            vals[key] = v
        out[side] = SideTargets(**vals)
    raff, ext = out["raffinate"], out["extract"]
    if raff.purity is None and ext.recovery is None:
        raise InputError(
            "targets leave the extract-side loss to the raffinate unbounded: give targets.raffinate.purity "
            "or targets.extract.recovery",
            file=file,
            field="targets",
        )
    if ext.purity is None and raff.recovery is None:
        raise InputError(
            "targets leave the raffinate-side loss to the extract unbounded: give targets.extract.purity or "
            "targets.raffinate.recovery",
            file=file,
            field="targets",
        )
    return raff, ext


def parse_cut(
    cut: Any, betas: Mapping[str, float], file: str | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split the components at ``cut`` ("Nd|Sm": last raffinate-side | first extract-side component).

    The components are ordered by separation factor (extractability). The two named components must exist,
    the left one must be less extractable, and no component may lie strictly between them.
    """
    if not isinstance(cut, str) or cut.count("|") != 1:
        raise InputError(f"expected 'Light|Heavy' (e.g. 'Nd|Sm'), got {cut!r}", file=file, field="cut")
    left, right = (s.strip() for s in cut.split("|"))
    for name in (left, right):
        if name not in betas:
            raise InputError(f"{name!r} is not one of the components {sorted(betas)}", file=file, field="cut")
    bl, br = betas[left], betas[right]
    if not br > bl:
        raise InputError(
            f"{right} (separation factor {br:g}) must be more extractable than {left} ({bl:g}) for the cut "
            f"{left}|{right}",
            file=file,
            field="cut",
        )
    between = sorted(c for c, b in betas.items() if bl < b < br)
    if between:
        raise InputError(
            f"{left} and {right} are not adjacent in extractability order: {between} lie between them",
            file=file,
            field="cut",
        )
    raff = tuple(c for c, b in betas.items() if b <= bl)
    ext = tuple(c for c, b in betas.items() if b >= br)
    return raff, ext


def build_problem(
    components: tuple[str, ...],
    betas: Mapping[str, float],
    feed: Mapping[str, float],
    feed_phase: str,
    cut: Any,
    targets: Mapping[str, Any] | None,
    file: str | None = None,
) -> CutProblem:
    """Validate and assemble a :class:`CutProblem` (flows in mol/h)."""
    if cut is None:
        raise InputError("a design needs a cut, e.g. cut: 'Nd|Sm'", file=file, field="cut")
    betas = {c: float(betas[c]) for c in components}
    feed = {c: float(feed.get(c, 0.0)) for c in components}
    raff_side, ext_side = parse_cut(cut, betas, file)
    raffinate, extract = parse_targets(targets, file)
    present_b = [c for c in raff_side if feed[c] > 0.0]
    present_a = [c for c in ext_side if feed[c] > 0.0]
    for side, present, t in (("raffinate", present_b, raffinate), ("extract", present_a, extract)):
        if not present:
            names = raff_side if side == "raffinate" else ext_side
            raise InfeasibleError(
                f"the feed holds none of the {side}-side components {list(names)}: "
                + (
                    f"targets.{side} cannot be met"
                    if (t.purity is not None or t.recovery is not None)
                    else "there is nothing to separate at this cut"
                )
            )
    light = max(present_b, key=lambda c: betas[c])
    heavy = min(present_a, key=lambda c: betas[c])
    return CutProblem(
        components=tuple(components),
        betas=betas,
        feed=feed,
        feed_phase=feed_phase,
        raffinate_side=raff_side,
        extract_side=ext_side,
        light_key=light,
        heavy_key=heavy,
        raffinate=raffinate,
        extract=extract,
    )


def outlet_performance(
    problem: CutProblem, raffinate: Mapping[str, float], extract: Mapping[str, float]
) -> dict[str, dict[str, float]]:
    """Purity and recovery of both outlets from their component flows (mol/h), by side of the cut."""
    rb = math.fsum(raffinate.get(c, 0.0) for c in problem.raffinate_side)
    rt = math.fsum(raffinate.get(c, 0.0) for c in problem.components)
    ea = math.fsum(extract.get(c, 0.0) for c in problem.extract_side)
    et = math.fsum(extract.get(c, 0.0) for c in problem.components)
    return {
        "raffinate": {"purity": rb / rt if rt > 0 else 0.0, "recovery": rb / problem.feed_b},
        "extract": {"purity": ea / et if et > 0 else 0.0, "recovery": ea / problem.feed_a},
    }


def unmet_targets(
    problem: CutProblem, performance: Mapping[str, Mapping[str, float]], rtol: float = 1e-9
) -> list[str]:
    """Targets not met by ``performance`` (as from :func:`outlet_performance`), as readable strings."""
    missed = []
    for side, t in (("raffinate", problem.raffinate), ("extract", problem.extract)):
        for key in ("purity", "recovery"):
            want = getattr(t, key)
            if want is None:
                continue
            got = performance[side][key]
            # compare the losses (1 - value) relatively: purities close to 1 are judged on their impurity
            if (1.0 - got) > (1.0 - want) * (1.0 + rtol):
                missed.append(f"{side} {key} {got:.8g} < {want:.8g}")
    return missed
