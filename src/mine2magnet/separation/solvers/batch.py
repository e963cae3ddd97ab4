"""Many cascades of one topology in one vectorised call (Monte Carlo, sensitivity, design scans).

``simulate_batch(spec, **arrays)`` takes a spec for the topology (components, stages, feed stage and phase)
and arrays that vary per case; every array is broadcast to the number of cases B. All cases are solved
together: one LAPACK call per Newton iteration for a whole chunk of cases.

Supported models: ``loaded-separation-factor`` (arrays ``separation_factors``, ``organic_ree_flow`` (S),
``scrub_ree_flow`` (W), ``feed_flow``) and ``constant-distribution`` (arrays ``distribution_ratios`` for the
extraction section and, if present, ``scrub_distribution_ratios``; ``organic_volume_flow``, ``feed_flow``).
Per-component arrays are (B, C) in the spec's component order, or a {component: (B,)} mapping.

Cases that cannot run (flows that cannot carry the feed) or do not converge are flagged, never raised:
``feasible`` and ``converged`` masks, NaN outlets for infeasible cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mine2magnet.errors import InputError
from mine2magnet.separation.contract.spec import (
    CascadeSpec,
    ConstantDistributionModel,
    LoadedSeparationFactorModel,
    load_spec,
)
from mine2magnet.separation.solvers.steady.binary_lsf import BinaryBatch, solve_binary_lsf_batch
from mine2magnet.separation.solvers.steady.linear_cascade import solve_linear_cascade
from mine2magnet.separation.solvers.steady.loaded_separation_factor import solve_lsf

ArrayLike = Any


@dataclass(frozen=True)
class BatchResult:
    """Outlets of B cascades, mol/h: arrays (B, C) in ``components`` order; per-case flags (B,)."""

    components: tuple[str, ...]
    feed: np.ndarray
    raffinate: np.ndarray
    loaded_organic: np.ndarray
    feasible: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    mass_balance_error: np.ndarray

    def __len__(self) -> int:
        return int(self.feed.shape[0])

    def purity(self, outlet: str) -> np.ndarray:
        """Share of each component in the outlet's metal, (B, C)."""
        flow = getattr(self, outlet)
        total = flow.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, flow / total, 0.0)

    def recovery(self, outlet: str) -> np.ndarray:
        """Fraction of each component's feed leaving in the outlet, (B, C)."""
        flow = getattr(self, outlet)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.feed > 0, flow / self.feed, 0.0)


def _per_component(value: ArrayLike, comps: tuple[str, ...], name: str) -> np.ndarray:
    """(B, C) array from a (B, C)/(C,) array or a {component: (B,) or scalar} mapping."""
    if isinstance(value, Mapping):
        missing = [c for c in comps if c not in value]
        if missing:
            raise InputError(f"missing component(s) {missing}", field=name)
        cols = [np.atleast_1d(np.asarray(value[c], dtype=float)) for c in comps]
        n = max(len(col) for col in cols)
        return np.column_stack([np.broadcast_to(col, (n,)) for col in cols])
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != len(comps):
        raise InputError(f"expected shape (B, {len(comps)}), got {np.shape(value)}", field=name)
    return arr


def _cases(*arrays: np.ndarray) -> int:
    sizes = {a.shape[0] for a in arrays if a.shape[0] != 1}
    if len(sizes) > 1:
        raise InputError(f"batch arrays have different numbers of cases: {sorted(sizes)}", field="arrays")
    return sizes.pop() if sizes else 1


def simulate_batch(spec: CascadeSpec | Mapping[str, Any] | str, **arrays: ArrayLike) -> BatchResult:
    """Simulate B cascades sharing the spec's topology; keyword arrays vary per case (see module doc).

    Raises:
        InputError: unknown array names, wrong shapes, or a model that is not vectorised.
    """
    spec = load_spec(spec)
    if spec.stages is None:
        raise InputError("simulate_batch needs the number of stages", field="stages")
    if isinstance(spec.model, LoadedSeparationFactorModel):
        return _batch_lsf(spec, spec.model, arrays)
    if isinstance(spec.model, ConstantDistributionModel):
        return _batch_constant(spec, spec.model, arrays)
    raise InputError(
        f"simulate_batch vectorises loaded-separation-factor and constant-distribution; "
        f"call simulate per case for {spec.model.type}",
        field="model.type",
    )


def _check_names(arrays: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(arrays) - allowed)
    if unknown:
        raise InputError(
            f"unknown batch array(s) {unknown}; expected some of {sorted(allowed)}", field="arrays"
        )


def _feed_matrix(spec: CascadeSpec, arrays: Mapping[str, Any]) -> np.ndarray:
    comps = spec.components
    if "feed_flow" in arrays:
        return _per_component(arrays["feed_flow"], comps, "feed_flow")
    flow = spec.feed.component_flow(comps)
    return np.array([[flow[c] for c in comps]])


def _batch_lsf(
    spec: CascadeSpec, model: LoadedSeparationFactorModel, arrays: Mapping[str, Any]
) -> BatchResult:
    _check_names(arrays, {"separation_factors", "organic_ree_flow", "scrub_ree_flow", "feed_flow"})
    assert spec.stages is not None
    comps = spec.components
    N = spec.stages.extraction + spec.stages.scrub
    beta = _per_component(
        arrays.get("separation_factors", model.separation_factors), comps, "separation_factors"
    )
    f = _feed_matrix(spec, arrays)
    S0 = spec.organic.ree_flow if spec.organic is not None else None
    W0 = spec.scrub.ree_flow if spec.scrub is not None else None
    S = np.atleast_1d(np.asarray(arrays.get("organic_ree_flow", S0 if S0 is not None else np.nan), float))
    W = np.atleast_1d(np.asarray(arrays.get("scrub_ree_flow", W0 if W0 is not None else 0.0), float))
    B = _cases(beta, f, S[:, None], W[:, None])
    beta, f = np.broadcast_to(beta, (B, len(comps))), np.broadcast_to(f, (B, len(comps)))
    S, W = np.broadcast_to(S, (B,)).astype(float), np.broadcast_to(W, (B,)).astype(float)
    if np.isnan(S).any():
        raise InputError("S is needed (spec or organic_ree_flow array)", field="organic.ree_flow")
    organic_feed = spec.feed.phase == "organic"
    feasible = _lsf_feasible(S, W, f.sum(1), N, spec.feed.stage, organic_feed)
    feasible &= (f > 0).all(1) & (beta > 0).all(1)
    raff = np.full((B, len(comps)), np.nan)
    loaded = np.full_like(raff, np.nan)
    conv = np.zeros(B, dtype=bool)
    its = np.zeros(B, dtype=int)
    mbe = np.full(B, np.nan)
    idx = np.flatnonzero(feasible)
    if len(comps) == 2 and idx.size:
        # the exact scalar formulation, vectorised; cases it leaves unconverged go to the general solver
        for lo in range(0, len(idx), BINARY_CHUNK):
            sel = idx[lo : lo + BINARY_CHUNK]
            r, p, ok, it = _binary_cases(beta[sel], f[sel], S[sel], W[sel], N, spec.feed.stage, organic_feed)
            raff[sel], loaded[sel], its[sel] = r, p, it
            fin = f[sel].sum(-1)
            mbe[sel] = np.abs(f[sel] - r - p).sum(-1) / fin
            conv[sel] = ok & (mbe[sel] <= 1e-9)
        idx = idx[~conv[idx]]
    for lo in range(0, len(idx), CHUNK):
        sel = idx[lo : lo + CHUNK]
        fa = np.zeros((len(sel), N, len(comps)))
        fo = np.zeros_like(fa)
        (fo if organic_feed else fa)[:, spec.feed.stage - 1] = f[sel]
        sol = solve_lsf(beta[sel], fa, fo, S[sel], W[sel])
        raff[sel] = sol.aqueous[:, 0]
        loaded[sel] = sol.organic[:, -1]
        conv[sel] = sol.converged & (sol.mass_balance_error <= 1e-9)
        its[sel] += sol.iterations
        mbe[sel] = sol.mass_balance_error
    return BatchResult(comps, np.array(f, dtype=float), raff, loaded, feasible, conv, its, mbe)


def _lsf_feasible(
    S: np.ndarray, W: np.ndarray, F: np.ndarray, N: int, feed_stage: int, organic_feed: bool
) -> np.ndarray:
    """Every stage total (``loaded_separation_factor.stage_totals``) positive, in closed form: raffinate
    W + F - S, loaded organic S - W, organic S - F below an organic feed, aqueous W above the feed."""
    ok = (W + F - S > 0) & (S - W > 0) & (W >= 0)
    if organic_feed and feed_stage > 1:
        ok &= S - F > 0
    if (1 if organic_feed else feed_stage) < N:
        ok &= W > 0
    return ok


def _binary_cases(
    beta: np.ndarray,
    f: np.ndarray,
    S: np.ndarray,
    W: np.ndarray,
    N: int,
    feed_stage: int,
    organic_feed: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two-component cases by :func:`solve_binary_lsf_batch`: (raffinate, loaded (B, 2), converged, its)."""
    swap = beta[:, 0] > beta[:, 1]  # component A (the more extractable) is column 1 unless swapped
    ia = np.where(swap, 0, 1)
    rows = np.arange(len(beta))
    F = f.sum(-1)
    cases = BinaryBatch(
        beta=beta[rows, ia] / beta[rows, 1 - ia],
        feed_a=f[rows, ia],
        feed_b=f[rows, 1 - ia],
        stages=N,
        feed_stage=feed_stage,
        raffinate_total=W + F - S,
        loaded_total=S - W,
        organic_below=S - F if organic_feed else S.copy(),
        aqueous_above=W.copy(),
    )
    r_ab, p_ab, ok, its, _ = solve_binary_lsf_batch(cases)
    r = np.where(swap[:, None], r_ab, r_ab[:, ::-1])
    p = np.where(swap[:, None], p_ab, p_ab[:, ::-1])
    return r, p, ok, its


#: Cases per solver call: large enough to amortise Python overhead, small enough to stay in cache.
CHUNK = 2048
#: Cases per call of the two-component scalar solver (its arrays are (B,), so larger chunks pay).
BINARY_CHUNK = 8192


def _batch_constant(
    spec: CascadeSpec, model: ConstantDistributionModel, arrays: Mapping[str, Any]
) -> BatchResult:
    _check_names(
        arrays, {"distribution_ratios", "scrub_distribution_ratios", "organic_volume_flow", "feed_flow"}
    )
    assert spec.stages is not None
    comps = spec.components
    C = len(comps)
    n, m = spec.stages.extraction, spec.stages.scrub
    N = n + m
    ext = model.distribution_ratios.get("extraction", {})
    Dx = _per_component(arrays.get("distribution_ratios", ext), comps, "distribution_ratios")
    Ds = _per_component(
        arrays.get("scrub_distribution_ratios", model.distribution_ratios.get("scrub", ext)),
        comps,
        "scrub_distribution_ratios",
    )
    f = _feed_matrix(spec, arrays)
    has_vo = spec.organic is not None and spec.organic.volume_flow is not None
    vo0 = spec.organic.volume_flow if has_vo else np.nan  # type: ignore[union-attr]
    vo = np.atleast_1d(np.asarray(arrays.get("organic_volume_flow", vo0), float))
    B = _cases(Dx, Ds, f, vo[:, None])
    Dx, Ds, f = (np.broadcast_to(a, (B, C)) for a in (Dx, Ds, f))
    vo = np.broadcast_to(vo, (B,))
    vfeed = spec.feed.volume_flow or 0.0
    vscrub = spec.scrub.volume_flow if spec.scrub is not None and spec.scrub.volume_flow else 0.0
    k = np.arange(1, N + 1)
    if spec.feed.phase == "aqueous":
        Va = vscrub + np.where(k <= spec.feed.stage, vfeed, 0.0)
        Vo = vo[:, None] + 0.0 * k
    else:
        Va = np.full(N, vscrub)
        Vo = vo[:, None] + np.where(k >= spec.feed.stage, vfeed, 0.0)
    feasible = (Va > 0).all() & (vo > 0) & np.isfinite(vo)
    D = np.concatenate(
        [np.repeat(Dx[:, :, None], n, 2), np.repeat(Ds[:, :, None], m, 2)], axis=2
    )  # (B, C, N)
    feed = np.zeros((B, C, N))
    feed[:, :, spec.feed.stage - 1] = f
    eta = np.array([spec.efficiency.of("extraction")] * n + [spec.efficiency.of("scrub")] * m)
    Vo_b = np.broadcast_to(Vo, (B, N))
    a, o = solve_linear_cascade(
        D.reshape(B * C, N),
        np.broadcast_to(Va, (B * C, N)),
        np.repeat(Vo_b, C, axis=0),
        feed.reshape(B * C, N),
        np.zeros(B * C),
        np.zeros(B * C),
        np.broadcast_to(eta, (B * C, N)),
        np.repeat(vo, C),
    )
    a = a.reshape(B, C, N)
    o = o.reshape(B, C, N)
    raff = np.where(feasible[:, None], a[:, :, 0], np.nan)
    loaded = np.where(feasible[:, None], o[:, :, -1], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        mbe = np.abs(f - raff - loaded).sum(1) / f.sum(1)
    conv = feasible & (mbe <= 1e-9)
    return BatchResult(comps, np.array(f, dtype=float), raff, loaded, feasible, conv, np.ones(B, int), mbe)
