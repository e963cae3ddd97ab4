"""Closed forms for designing a counter-current extraction cut: Fenske, Underwood/Xu minimum flows, Xu's
optimum.

All functions are pure and work in rare-earth (RE) molar flows, any consistent unit (mol/h in the project).
Notation follows ``/work/shared/reference/sx_theory.md`` section a4 (Xu Guangxian's theory):

* A is the extract side (more extractable components, the heavier lanthanides with acidic extractants), B the
  raffinate side; β > 1 is the separation factor of the key pair across the cut, β = D_A / D_B.
* Stages 1…n form the extraction section (the raffinate leaves stage 1, barren organic enters it), stages
  n+1…n+m the scrub section (metal-free scrub liquor enters stage n+m, the loaded organic leaves it).
* S is the RE flow the organic carries between the scrub-section stages (for an aqueous feed also between the
  extraction-section stages), W the RE flow the aqueous phase carries down the scrub section — the convention
  of the cascade spec (``organic.ree_flow``, ``scrub.ree_flow``). Aqueous feed enters stage n, organic feed
  stage n+1. Either way the raffinate leaves with W + F − S and the extract with E = S − W. Aqueous feed F:
  extraction-section aqueous W + F. Organic feed F: extraction-section organic S − F.

What is derived here and what is quoted:

* Fenske (total reflux): M. R. Fenske, "Fractionation of straight-run Pennsylvania gasoline", Ind. Eng. Chem.
  24 (1932) 482–485; quoted for SX in sx_theory.md a3 (KitchinHUB ree-book chapter 03). For the
  constant-separation-factor cascade it is exact: at total reflux the organic leaving stage i has the
  composition of the aqueous leaving stage i+1, so the key ratio grows by β per stage (derived here).
* Minimum flows: derived here by the pinch at the feed stage (binary, general and sharp split) and by
  A. J. V. Underwood's method ("Fractional distillation of multicomponent mixtures", Chem. Eng. Prog. 44
  (1948) 603–614) transposed to extraction. The transposition is exact for the loaded-separation-factor
  (constant mixed extraction ratio) cascade: constant RE flows per section play the role of constant molar
  overflow, β_i the role of relative volatility, the organic the vapour and an aqueous (organic) feed the
  saturated liquid (vapour) feed, q = 1 (0). The binary sharp-split forms agree with the quoted k = 1 limit
  of Xu's back-off rule W = 1/(β^k − 1) (sx_theory.md a4, KitchinHUB chapter 17 following Zhang, Zhao &
  Schreiner 2016, doi:10.1007/978-3-319-28235-0) and with the statement of Cheng et al. 2014 (Adv. Mater.
  Phys. Chem. 4:275, doi:10.4236/ampc.2014.412030) that single-feed S_min/W_min are the 1970s forms; Xu's
  printed forms were not read, so these are *not* cited as Xu's equations.
* Optimum extraction factors (E_B = 1/√β extraction-controlled, E'_A = √β scrub-controlled), the stage-number
  estimates n = lg b / lg(β E_B), m = lg a / lg(β'/E'_A) and the back-off W = 1/(β^k − 1) with k ≈ 0.7 are
  quoted from Xu's theory via sx_theory.md a4 [secondary source]. The flows implied by the optimum extraction
  factors (S, W) are derived here from the section balances. The stage estimates are naive (feed-based a
  and b) and underestimate; they are starting points, the stage-wise simulation decides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from scipy.optimize import brentq

from mine2magnet.errors import InfeasibleError, InputError

FeedPhase = Literal["aqueous", "organic"]

#: Xu's empirical back-off exponent: "normally the optimum k value is 0.70 based on the process design of
#: hundreds of systems", 0.5–0.9 used in practice (sx_theory.md a4, quoted from Zhang et al. 2016 via
#: KitchinHUB).
XU_BACKOFF_K = 0.70


def _check_beta(beta: float, name: str = "beta") -> None:
    if not (math.isfinite(beta) and beta > 1.0):
        raise InfeasibleError(f"{name} must be > 1 for a separation across the cut, got {beta!r}")


def _check_fraction(x: float, name: str, *, open_interval: bool = True) -> None:
    ok = 0.0 < x < 1.0 if open_interval else 0.0 <= x <= 1.0
    if not (math.isfinite(x) and ok):
        raise InputError(f"must be a fraction strictly between 0 and 1, got {x!r}", field=name)


# --------------------------------------------------------------------------------------------- total reflux


def fenske_min_stages(beta: float, extract_purity: float, raffinate_purity: float) -> float:
    """Minimum number of equilibrium stages at total reflux for a two-component (or pseudo-binary) cut.

    N_min = ln[ (P_A/(1−P_A)) · (P_B/(1−P_B)) ] / ln β, with P_A the fraction of A (extract side) in the
    extract and P_B the fraction of B (raffinate side) in the raffinate; dimensionless. Source: Fenske
    1932, quoted in sx_theory.md a3 (β = 1.5, 0.9999/0.9999 -> 45.4; β = 3 -> 16.8).
    """
    _check_beta(beta)
    _check_fraction(extract_purity, "extract_purity")
    _check_fraction(raffinate_purity, "raffinate_purity")
    ratio = (extract_purity / (1.0 - extract_purity)) * (raffinate_purity / (1.0 - raffinate_purity))
    if ratio <= 1.0:
        return 0.0
    return math.log(ratio) / math.log(beta)


def fenske_min_stages_keys(
    beta_key: float,
    heavy_key_extract: float,
    heavy_key_raffinate: float,
    light_key_extract: float,
    light_key_raffinate: float,
) -> float:
    """Multicomponent Fenske: N_min = ln[(h_E/h_R)·(l_R/l_E)] / ln β_key for the key pair across the cut.

    ``heavy_key`` is the first extract-side component (A key), ``light_key`` the last raffinate-side component
    (B key); the four arguments are their outlet flows (any consistent unit, e.g. mol/h). Exact for the
    constant-separation-factor cascade at total reflux, whatever the other components do (the key ratio
    gains a factor β_key per stage independently of them). Dimensionless.
    """
    _check_beta(beta_key, "beta_key")
    flows = (heavy_key_extract, heavy_key_raffinate, light_key_extract, light_key_raffinate)
    if any(not (math.isfinite(f) and f > 0.0) for f in flows):
        raise InputError(f"key-component outlet flows must be positive and finite, got {flows}")
    ratio = (heavy_key_extract / heavy_key_raffinate) * (light_key_raffinate / light_key_extract)
    return max(0.0, math.log(ratio) / math.log(beta_key))


# --------------------------------------------------------------------------------------------- minimum flows


@dataclass(frozen=True)
class MinimumFlows:
    """Minimum RE flows of a cut (infinite stages), in the unit of the feed flows (mol/h in the project).

    ``organic_ree_flow`` is S_min (organic RE flow in the scrub section), ``scrub_ree_flow`` W_min
    (aqueous RE flow in the scrub section), ``theta`` the Underwood root used (None for the binary closed
    forms).
    """

    organic_ree_flow: float
    scrub_ree_flow: float
    theta: float | None = None


def minimum_flows_binary(
    beta: float,
    feed_fraction_a: float,
    extract_purity: float,
    raffinate_purity: float,
    feed_phase: FeedPhase = "aqueous",
    feed_flow: float = 1.0,
) -> MinimumFlows:
    """Minimum S and W for a two-component cut, general (non-sharp) split, by the pinch at the feed stage.

    Derived here (sx_theory.md a4 lists the same forms, also marked as derived). With E = f'_A·F the
    extract flow from the mass balance f'_A = (f_A − (1 − P_B)) / (P_A + P_B − 1):

    * aqueous feed: the operating lines cross at aqueous composition x = f_A, the pinch puts the equilibrium
      organic y* = β f_A / (1 + (β−1) f_A) on the scrub line, W_min = E (P_A − y*) / (y* − f_A)
      = E/(β−1) · [P_A/f_A − β(1−P_A)/f_B], S_min = W_min + E;
    * organic feed: the lines cross at organic composition y = f_A, the pinch aqueous x* = f_A / (β f_B + f_A)
      lies on the extraction line, W_min = R (f_A − x_R) / (f_A − x*), S_min = W_min + E (R raffinate flow,
      x_R = 1 − P_B its A fraction; the extraction section then carries S_min − F).

    Sharp split (P_A, P_B -> 1): aqueous feed W_min = F/(β−1), S_min = F(β f_A + f_B)/(β−1); organic feed
    S_min − F = F/(β−1) (extraction section), W_min = F(β f_B + f_A)/(β−1). Flows in the unit of
    ``feed_flow``.
    """
    _check_beta(beta)
    _check_fraction(feed_fraction_a, "feed_fraction_a")
    _check_fraction(extract_purity, "extract_purity")
    _check_fraction(raffinate_purity, "raffinate_purity")
    f_a = feed_fraction_a
    f_b = 1.0 - f_a
    p_a, p_b = extract_purity, raffinate_purity
    if not (p_a > f_a and p_b > f_b):
        raise InfeasibleError(
            f"purities must exceed the feed fractions (extract purity {p_a} > feed A fraction {f_a}, "
            f"raffinate purity {p_b} > feed B fraction {f_b}) for a separation to be needed"
        )
    extract_fraction = (f_a - (1.0 - p_b)) / (p_a + p_b - 1.0)
    extract = extract_fraction * feed_flow
    raffinate = feed_flow - extract
    if feed_phase == "aqueous":
        y_star = beta * f_a / (1.0 + (beta - 1.0) * f_a)
        w_min = extract * (p_a - y_star) / (y_star - f_a)
        w_min = max(w_min, 0.0)
        return MinimumFlows(organic_ree_flow=w_min + extract, scrub_ree_flow=w_min)
    if feed_phase == "organic":
        x_star = f_a / (beta * f_b + f_a)
        x_r = 1.0 - p_b
        w_min = max(raffinate * (f_a - x_r) / (f_a - x_star), raffinate)
        return MinimumFlows(organic_ree_flow=w_min + extract, scrub_ree_flow=w_min)
    raise InputError(f"feed phase must be 'aqueous' or 'organic', got {feed_phase!r}", field="feed.phase")


def underwood_theta(
    betas: Sequence[float],
    feed_flows: Sequence[float],
    beta_light_key: float,
    beta_heavy_key: float,
    q: float,
) -> float:
    """The Underwood root θ between the key separation factors: Σ β_i F_i / (β_i − θ) = (1 − q) Σ F_i.

    ``q`` is the fraction of the feed that joins the aqueous phase (1 for an aqueous feed, 0 for an organic
    feed); ``beta_light_key`` < θ < ``beta_heavy_key`` are the separation factors of the last
    raffinate-side and the first extract-side component present in the feed. Dimensionless. The left side
    is strictly increasing in θ on that interval and runs from −∞ to +∞, so the root is unique; it is found
    by Brent's method.
    """
    _check_beta(beta_heavy_key / beta_light_key, "beta_heavy_key / beta_light_key")
    total = math.fsum(feed_flows)
    if not total > 0.0:
        raise InputError("feed flows must sum to a positive value", field="feed.flow")

    def residual(theta: float) -> float:
        return (
            math.fsum(b * f / (b - theta) for b, f in zip(betas, feed_flows, strict=True)) - (1.0 - q) * total
        )

    span = beta_heavy_key - beta_light_key
    lo = beta_light_key + span * 1e-12
    hi = beta_heavy_key - span * 1e-12
    return float(brentq(residual, lo, hi, xtol=1e-14 * beta_heavy_key, rtol=1e-15, maxiter=200))


def minimum_flows_underwood(
    betas: Mapping[str, float],
    feed_flows: Mapping[str, float],
    extract_flows: Mapping[str, float],
    light_key: str,
    heavy_key: str,
    feed_phase: FeedPhase = "aqueous",
) -> MinimumFlows:
    """Minimum S and W for a multicomponent cut by Underwood's method, transposed to extraction (derived
    here).

    ``extract_flows`` are the component flows wanted in the loaded organic (the extract), ``light_key`` and
    ``heavy_key`` the last raffinate-side and first extract-side components present in the feed. The
    organic flow above the feed (scrub section) at minimum is S_min = V_min = Σ β_i e_i / (β_i − θ) and
    W_min = S_min − E (E extract total). Exact for the loaded-separation-factor cascade when the non-key
    components go wholly to their side (one root θ between the keys). Flows in the unit of the inputs
    (mol/h in the project).
    """
    names = list(feed_flows)
    b = [float(betas[c]) for c in names]
    f = [float(feed_flows[c]) for c in names]
    q = {"aqueous": 1.0, "organic": 0.0}.get(feed_phase)
    if q is None:
        raise InputError(f"feed phase must be 'aqueous' or 'organic', got {feed_phase!r}", field="feed.phase")
    theta = underwood_theta(b, f, float(betas[light_key]), float(betas[heavy_key]), q)
    v_min = math.fsum(betas[c] * extract_flows.get(c, 0.0) / (betas[c] - theta) for c in names)
    extract = math.fsum(extract_flows.get(c, 0.0) for c in names)
    return MinimumFlows(organic_ree_flow=v_min, scrub_ree_flow=v_min - extract, theta=theta)


def effective_separation_factor(
    betas: Mapping[str, float], feed_flows: Mapping[str, float], raffinate_side: Sequence[str]
) -> float:
    """The binary β that gives the same sharp-split minimum organic flow as multicomponent Underwood
    (derived).

    For an aqueous feed and a sharp split, the binary minimum S_min = F(β f_A + f_B)/(β − 1) is solved for
    β with S_min from :func:`minimum_flows_underwood` (all extract-side feed to the extract). It is ≥ the
    key-pair β when the extract side holds components more extractable than the heavy key, so it measures
    how much the non-key components ease the cut. (Zhong 2009 compares other 'effective separation factor'
    definitions; this one is defined here.) Dimensionless.
    """
    raff = set(raffinate_side)
    present = {c: v for c, v in feed_flows.items() if v > 0.0}
    a_side = [c for c in present if c not in raff]
    b_side = [c for c in present if c in raff]
    if not a_side or not b_side:
        raise InfeasibleError(
            "both sides of the cut need components in the feed to define a separation factor"
        )
    light = max(b_side, key=lambda c: betas[c])
    heavy = min(a_side, key=lambda c: betas[c])
    extract = {c: present[c] for c in a_side}
    s_min = minimum_flows_underwood(betas, present, extract, light, heavy, "aqueous").organic_ree_flow
    total = math.fsum(present.values())
    f_a = math.fsum(extract.values()) / total
    s = s_min / total
    # s = (β f_A + f_B)/(β − 1)  ->  β = (s + f_B)/(s − f_A)
    return (s + (1.0 - f_a)) / (s - f_a)


# --------------------------------------------------------------------------------------------- Xu's optimum


@dataclass(frozen=True)
class OptimumFlows:
    """Flows at Xu's optimum extraction factors, in the unit of the feed flow (mol/h in the project).

    ``controlling_section`` is "extraction" or "scrub": the section whose optimum needs the larger organic
    flow.
    """

    organic_ree_flow: float
    scrub_ree_flow: float
    controlling_section: str


def optimum_flows(
    beta: float,
    extract_fraction: float,
    feed_phase: FeedPhase = "aqueous",
    feed_flow: float = 1.0,
    beta_scrub: float | None = None,
) -> OptimumFlows:
    """S and W at Xu's optimum extraction factors (quoted rule, flows derived here from the section balances).

    Quoted (sx_theory.md a4, Xu's theory via Zhang et al. 2016 and KitchinHUB ch. 17): extraction-controlled
    optimum E_B ≈ E_M = 1/√β; scrub-controlled optimum E'_A ≈ E'_M = √β'. With E = extract flow, R = F − E:

    * aqueous feed, E_M = S/(W + F), E'_M = S/W, S − W = E: extraction S = R/(√β − 1);
      scrub S = √β' E/(√β' − 1);
    * organic feed, E_M = (S − F)/W, E'_M = S/W, W = S − E: extraction S − F = R/(√β − 1);
      scrub S = √β' E/(√β' − 1).

    The section that needs the larger S controls (for an aqueous feed this reproduces the quoted switch:
    extraction-controlled iff f'_B > √β/(√β + 1)). Flows in the unit of ``feed_flow``.
    """
    _check_beta(beta)
    bs = beta if beta_scrub is None else beta_scrub
    _check_beta(bs, "beta_scrub")
    _check_fraction(extract_fraction, "extract_fraction")
    e = extract_fraction * feed_flow
    r = feed_flow - e
    rb, rbs = math.sqrt(beta), math.sqrt(bs)
    if feed_phase == "aqueous":
        s_ext = r / (rb - 1.0)
        s_scr = rbs * e / (rbs - 1.0)
        s = max(s_ext, s_scr)
        return OptimumFlows(s, s - e, "extraction" if s_ext >= s_scr else "scrub")
    if feed_phase == "organic":
        # extraction section: E_B = (S − F)/W = 1/√β with W = S − E  ->  S − F = R/(√β − 1)
        s_ext = r / (rb - 1.0) + feed_flow
        # scrub section: E'_A = S/W = √β' with W = S − E  ->  S = √β' E/(√β' − 1)
        s_scr = rbs * e / (rbs - 1.0)
        s = max(s_ext, s_scr)
        return OptimumFlows(s, s - e, "extraction" if s_ext >= s_scr else "scrub")
    raise InputError(f"feed phase must be 'aqueous' or 'organic', got {feed_phase!r}", field="feed.phase")


def xu_backoff_scrub_flow(beta: float, k: float = XU_BACKOFF_K, feed_flow: float = 1.0) -> float:
    """Xu's practical scrub flow W = F/(β^k − 1), 0 < k ≤ 1 (k = 1: minimum flow; quoted, sx_theory.md a4).

    Sharp-split, aqueous-feed rule of thumb; flow in the unit of ``feed_flow``.
    """
    _check_beta(beta)
    if not 0.0 < k <= 1.0:
        raise InputError(f"k must be in (0, 1], got {k!r}", field="k")
    return feed_flow / (beta**k - 1.0)


@dataclass(frozen=True)
class StageEstimate:
    """Xu's naive stage-number estimates (dimensionless counts, not rounded)."""

    extraction: float
    scrub: float


def xu_stage_estimates(
    beta: float,
    feed_fraction_a: float,
    extract_purity: float,
    raffinate_purity: float,
    extraction_factor_b: float,
    scrub_extraction_factor_a: float,
    beta_scrub: float | None = None,
) -> StageEstimate:
    """n = lg b / lg(β E_B), m = lg a / lg(β'/E'_A) with feed-based concentrating factors (quoted, a4).

    b = [P_B/(1−P_B)]/(f_B/f_A) (raffinate), a = [P_A/(1−P_A)]/(f_A/f_B) (extract). Evaluated with the mixed
    extraction ratios (E_B ≈ E_M, E'_A ≈ E'_M) these underestimate the stages a stage-wise solution needs
    (sx_theory.md a4, 'Caution'); use them as starting points only.
    """
    _check_beta(beta)
    bs = beta if beta_scrub is None else beta_scrub
    f_a = feed_fraction_a
    f_b = 1.0 - f_a
    b = (raffinate_purity / (1.0 - raffinate_purity)) / (f_b / f_a)
    a = (extract_purity / (1.0 - extract_purity)) / (f_a / f_b)
    grow_n = beta * extraction_factor_b
    grow_m = bs / scrub_extraction_factor_a
    if grow_n <= 1.0 or grow_m <= 1.0:
        raise InfeasibleError(
            f"no enrichment per stage at these extraction factors (β·E_B = {grow_n:.4g}, "
            f"β'/E'_A = {grow_m:.4g})"
        )
    n = math.log(b) / math.log(grow_n) if b > 1.0 else 0.0
    m = math.log(a) / math.log(grow_m) if a > 1.0 else 0.0
    return StageEstimate(extraction=n, scrub=m)
