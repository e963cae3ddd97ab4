"""Stage-by-stage stepping (McCabe–Thiele) for a two-component loaded-separation-factor cut.

For the constant-mixed-extraction-ratio cascade (constant RE flows per section, organic composition
y = β x / (1 + (β − 1) x) of the aqueous leaving the same stage) the operating lines are straight, so the
stages needed for given flows and outlet compositions follow by stepping from the raffinate end (stage 1)
upward: equilibrium y_i from x_i, then the operating line gives x_{i+1} from y_i. Below the feed (balance
over stages 1…i): L_ext x_{i+1} = V_ext y_i + R x_R; above it (balance over stages i+1…n+m):
V_scr y_i (+ F f_A when an organic feed joins at i = n) = W x_{i+1} + E y_E. The feed stage is placed where
the step crosses the q-line (x = f_A for an aqueous feed, y = f_A for an organic one), which minimises the
total for a concave equilibrium curve (the McCabe–Thiele rule: W. L. McCabe and E. W. Thiele, Ind. Eng.
Chem. 17 (1925) 605). Derived here for extraction; exact for two components, an estimate for a
multicomponent cut lumped into its two sides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mine2magnet.errors import InfeasibleError
from mine2magnet.separation.cascade_design.theory import FeedPhase


@dataclass(frozen=True)
class SteppedStages:
    """Stages found by stepping: counts of the extraction (incl. the aqueous feed stage) and scrub
    sections."""

    extraction: int
    scrub: int

    @property
    def total(self) -> int:
        """n + m."""
        return self.extraction + self.scrub


def step_stages(
    beta: float,
    organic_ree_flow: float,
    scrub_ree_flow: float,
    feed_a: float,
    feed_b: float,
    extract_impurity_b: float,
    feed_phase: FeedPhase = "aqueous",
    max_stages: int = 400,
) -> SteppedStages:
    """Fewest equilibrium stages (with the best feed stage) for a two-component cut at given flows.

    ``organic_ree_flow`` S and ``scrub_ree_flow`` W as in :mod:`design_theory` (mol/h);
    ``feed_a``/``feed_b`` the A- and B-side feed flows (mol/h); ``extract_impurity_b`` the B flow allowed
    in the extract (mol/h). The extract flow E is fixed by the flows, so the raffinate's A flow follows
    from the A balance. Raises InfeasibleError when the flows cannot reach the target within ``max_stages``
    (below the minimum flows, or a split the balance forbids).
    """
    feed = feed_a + feed_b
    extract = organic_ree_flow - scrub_ree_flow
    if feed_phase == "aqueous":
        l_ext, v_ext, v_scr = scrub_ree_flow + feed, organic_ree_flow, organic_ree_flow
    else:
        l_ext, v_ext, v_scr = scrub_ree_flow, organic_ree_flow - feed, organic_ree_flow
    raffinate = feed - extract
    a_raff = feed_a - extract + extract_impurity_b
    if not (0.0 < extract < feed and v_ext > 0.0 and a_raff > 0.0 and extract_impurity_b > 0.0):
        raise InfeasibleError(
            f"flows S={organic_ree_flow:.6g}, W={scrub_ree_flow:.6g} give extract {extract:.6g} and "
            f"raffinate "
            f"{raffinate:.6g} mol/h, which cannot carry the requested split of the feed ({feed_a:.6g} A, "
            f"{feed_b:.6g} B)"
        )
    x_r = a_raff / raffinate
    y_e = (extract - extract_impurity_b) / extract
    l_scr = scrub_ree_flow

    def equilibrium(x: float) -> float:
        return beta * x / (1.0 + (beta - 1.0) * x)

    x = x_r
    in_scrub = False
    n = 0
    for stage in range(1, max_stages + 1):
        y = equilibrium(x)
        if y >= y_e:
            return SteppedStages(extraction=n if in_scrub else stage, scrub=stage - n if in_scrub else 0)
        x_ext = (v_ext * y + raffinate * x_r) / l_ext
        if feed_phase == "aqueous":
            x_scr = (v_scr * y - extract * y_e) / l_scr if l_scr > 0.0 else math.inf
        else:
            x_scr = (v_ext * y + feed_a - extract * y_e) / l_scr if l_scr > 0.0 else math.inf
        # switch to the scrub line where the step crosses the q-line: for an aqueous feed the lines meet on
        # x = f_A and the scrub line then gives the larger step; for an organic feed they meet on y = f_A
        crossed = x_scr >= x_ext if feed_phase == "aqueous" else y >= feed_a / feed
        if not in_scrub and crossed:
            in_scrub, n = True, stage
            x_next = x_scr
        elif in_scrub:
            x_next = ((v_scr * y - extract * y_e) / l_scr) if l_scr > 0.0 else math.inf
        else:
            x_next = x_ext
        if not (x_next > x * (1.0 + 1e-12) and x_next <= 1.0):
            raise InfeasibleError(
                f"pinch at stage {stage}: S={organic_ree_flow:.6g}, W={scrub_ree_flow:.6g} mol/h are at or "
                f"below the minimum flows for this split"
            )
        x = x_next
    raise InfeasibleError(f"more than {max_stages} stages needed at S={organic_ree_flow:.6g} mol/h")
