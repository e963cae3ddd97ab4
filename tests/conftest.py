"""Suite-wide settings: Hypothesis without per-example deadlines (timing belongs in benchmarks/), and
derandomised on CI so that a CI run is reproducible (locally, examples stay random to find new cases)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("mine2magnet", deadline=None)
settings.register_profile("ci", parent=settings.get_profile("mine2magnet"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else "mine2magnet")
