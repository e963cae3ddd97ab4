"""The result of a cut design: the trade-off curve of stages against flow and the chosen design, confirmed by
simulation. Flows in mol/h, stage counts dimensionless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mine2magnet.separation.cascade_design.request import Objective
from mine2magnet.separation.contract.result import CascadeResult
from mine2magnet.separation.contract.spec import CascadeSpec, LoadedSeparationFactorModel


@dataclass(frozen=True)
class TradeoffPoint:
    """One point of the stages-vs-flow curve: the fewest stages meeting every target at this organic flow."""

    organic_ree_flow: float
    scrub_ree_flow: float
    extraction: int
    scrub: int
    feed_stage: int
    objective: float

    @property
    def total(self) -> int:
        return self.extraction + self.scrub

    def to_dict(self) -> dict[str, Any]:
        return {
            "organic_ree_flow": self.organic_ree_flow,
            "scrub_ree_flow": self.scrub_ree_flow,
            "stages": {"extraction": self.extraction, "scrub": self.scrub, "total": self.total},
            "feed_stage": self.feed_stage,
            "objective": self.objective,
        }


@dataclass(frozen=True)
class DesignResult:
    """An optimal cut design confirmed by simulation. Flows in mol/h.

    ``verified`` is the :class:`~mine2magnet.separation.CascadeResult` of the chosen design (same schema as
    ``simulate``); ``spec`` the complete cascade spec that produced it; ``verification`` names the solver that
    produced ``verified`` (``simulate``, or the independent mixing-factor solver when simulate did not
    converge, with simulate's error).
    """

    cut: str
    stages_extraction: int
    stages_scrub: int
    feed_stage: int
    organic_ree_flow: float
    scrub_ree_flow: float
    minimum_organic_ree_flow: float
    minimum_scrub_ree_flow: float
    stages_total_reflux: float
    tradeoff: tuple[TradeoffPoint, ...]
    verified: CascadeResult
    spec: CascadeSpec
    objective: Objective
    objective_value: float
    performance: dict[str, dict[str, float]]
    verification: dict[str, str]
    key_pair: tuple[str, str]
    beta_key: float
    extract_flow: float
    controlling_section: str
    estimates: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] = field(default_factory=dict)
    #: the plant the ideal design becomes with the spec's stage efficiency (and, for the physical models,
    #: entrainment): its stages beside the ideal count (None: ideal stages only)
    plant: dict[str, Any] | None = None

    @property
    def model_is_lsf(self) -> bool:
        """Whether the design is of the loaded-separation-factor model itself (not a physical model's)."""
        return isinstance(self.spec.model, LoadedSeparationFactorModel)

    @property
    def reflux(self) -> float:
        """Scrub RE flow per unit extract product, W/E (dimensionless)."""
        return self.scrub_ree_flow / self.extract_flow

    @property
    def k_backoff(self) -> float | None:
        """Xu's back-off exponent k of the chosen scrub flow, from W = F/(β^k − 1) (sharp-split aqueous form).

        k → 1 at the minimum flow; Xu's practice is k ≈ 0.7. None for an organic feed.
        """
        if self.spec.feed.phase != "aqueous" or self.scrub_ree_flow <= 0.0:
            return None
        feed = math.fsum(self.spec.feed.component_flow(self.spec.components).values())
        return math.log1p(feed / self.scrub_ree_flow) / math.log(self.beta_key)

    def summary(self) -> str:
        """A few lines for people: the design, its minimum, its verified performance, the trade-off."""
        lk, hk = self.key_pair
        lines = [
            f"cut {self.cut} (key pair {lk}/{hk}, β = {self.beta_key:.4g}); objective {self.objective.name} "
            f"= {self.objective_value:.6g}",
            f"stages: extraction {self.stages_extraction}, scrub {self.stages_scrub}; "
            f"feed stage {self.feed_stage}",
            f"organic S = {self.organic_ree_flow:.6g} mol/h, scrub W = {self.scrub_ree_flow:.6g} mol/h "
            f"(reflux W/E = {self.reflux:.4g})",
            f"minimum: S_min = {self.minimum_organic_ree_flow:.6g}, "
            f"W_min = {self.minimum_scrub_ree_flow:.6g} mol/h; "
            f"{self.stages_total_reflux:.2f} stages at total reflux",
        ]
        for side in ("raffinate", "extract"):
            p = self.performance[side]
            lines.append(f"{side}: purity {p['purity']:.6f}, recovery {p['recovery']:.6f}")
        lines.append(f"verified by {self.verification['solver']}")
        if self.plant is not None and self.model_is_lsf:
            st = self.plant["stages"]
            lines.append(
                f"plant ({self.plant['basis']}): {st['extraction']} + {st['scrub']} stages, "
                f"{self.plant['extra_stages']} more than the ideal "
                f"{self.stages_extraction + self.stages_scrub}"
            )
        lines.append("trade-off (S mol/h: extraction + scrub stages):")
        lines.extend(
            f"  {p.organic_ree_flow:10.6g}: {p.extraction:3d} + {p.scrub:3d} = {p.total:3d}"
            for p in self.tradeoff
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; keys ``stages``, ``feed_stage``, ``organic``, ``scrub``, ``minimum``,
        ``tradeoff``, ``verified`` (the simulate schema) are the public contract."""
        return {
            "cut": self.cut,
            "stages": {"extraction": self.stages_extraction, "scrub": self.stages_scrub},
            "feed_stage": self.feed_stage,
            "organic": {"ree_flow": self.organic_ree_flow},
            "scrub": {"ree_flow": self.scrub_ree_flow},
            "minimum": {
                "organic_ree_flow": self.minimum_organic_ree_flow,
                "scrub_ree_flow": self.minimum_scrub_ree_flow,
                "stages_total_reflux": self.stages_total_reflux,
            },
            "tradeoff": [p.to_dict() for p in self.tradeoff],
            "objective": {**self.objective.to_dict(), "value": self.objective_value},
            "performance": self.performance,
            "verification": self.verification,
            "key_pair": {"raffinate": self.key_pair[0], "extract": self.key_pair[1], "beta": self.beta_key},
            "extract_ree_flow": self.extract_flow,
            "reflux": self.reflux,
            "k_backoff": self.k_backoff,
            "controlling_section": self.controlling_section,
            "estimates": self.estimates,
            "search": self.search,
            "verified": self.verified.to_dict(),
            **({"plant": self.plant} if self.plant is not None else {}),
        }
