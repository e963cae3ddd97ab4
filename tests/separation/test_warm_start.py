"""Warm starts of the stage-wise solver: ``simulate(spec, initial=result)``.

A warm start changes the path, never the answer: the warm-started solve meets the same convergence test,
polish and balance checks as a cold one, so it must equal the cold solve of the same spec (to 1e-9 relative
on every stage and outlet), whatever the neighbour it starts from, and fall back to the cold path when the
guess is poor. The cold solve is the reference (no initial guess: the solver's unchanged default path).
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
import yaml

from mine2magnet.errors import InputError
from mine2magnet.separation import simulate
from mine2magnet.separation.contract.result import CascadeResult
from mine2magnet.separation.solvers.steady import stagewise
from mine2magnet.separation.solvers.steady.simulate import warm_profile

EXAMPLES = resources.files("mine2magnet.separation") / "examples"


def _example(name: str, n: int, m: int, organic: float, scrub: float) -> dict:
    """An example design spec's cascade (cut and targets dropped) at n + m stages and volume flows, L/h."""
    spec = yaml.safe_load((EXAMPLES / name).read_text())
    for key in ("cut", "targets"):
        spec.pop(key)
    spec["stages"] = {"extraction": n, "scrub": m}
    spec["feed"]["stage"] = n
    spec["organic"] = {"volume_flow": organic}
    spec["scrub"]["volume_flow"] = scrub
    return spec


def _mass_action(n: int, m: int, organic: float, scrub: float) -> dict:
    """The P507 Pr|Nd example cascade (saponified, 4 mol/L HCl scrub)."""
    return _example("prnd_mass_action_design.yaml", n, m, organic, scrub)


def _empirical_ph(n: int, m: int, organic: float, scrub: float) -> dict:
    """The Dy|Ho empirical-ph example cascade."""
    return _example("dyho_empirical_ph_design.yaml", n, m, organic, scrub)


def _murphree_strip(organic: float, stages: tuple[int, int, int]) -> dict:
    """A three-section mass-action cascade with Murphree stages and a strip section (flows L/h)."""
    n, m, p = stages
    return {
        "components": ["La", "Ce", "Pr"],
        "model": {"type": "mass-action", "extractant": "P507", "concentration": 0.5, "saponification": 0.2},
        "stages": {"extraction": n, "scrub": m, "strip": p},
        "feed": {"phase": "aqueous", "stage": n, "volume_flow": 1.0, "pH": 2.0,
                 "concentration": {"La": 0.05, "Ce": 0.1, "Pr": 0.05}},
        "organic": {"volume_flow": organic},
        "scrub": {"volume_flow": 0.3, "acid": 1.0},
        "strip": {"volume_flow": 0.5, "acid": 4.0},
        "efficiency": {"extraction": 0.9, "scrub": 0.85, "strip": 0.95},
    }  # fmt: skip


def assert_same(warm: CascadeResult, cold: CascadeResult, rtol: float = 1e-9) -> None:
    """Every stage flow and outlet agrees to ``rtol`` relative (per entry), and both closed their balances."""
    assert warm.converged and cold.converged
    assert warm.mass_balance_error <= 1e-9 and cold.mass_balance_error <= 1e-9
    assert warm.sections == cold.sections
    np.testing.assert_allclose(warm.aqueous, cold.aqueous, rtol=rtol, atol=0.0)
    np.testing.assert_allclose(warm.organic, cold.organic, rtol=rtol, atol=0.0)
    assert warm.outlets.keys() == cold.outlets.keys()
    for name in cold.outlets:
        np.testing.assert_allclose(warm.outlets[name], cold.outlets[name], rtol=rtol, atol=0.0)
    if cold.pH is not None:
        assert warm.pH is not None
        np.testing.assert_allclose(warm.pH, cold.pH, rtol=rtol)
    if cold.loading is not None:
        assert warm.loading is not None
        np.testing.assert_allclose(warm.loading, cold.loading, rtol=rtol, atol=1e-12)


@pytest.fixture(scope="module")
def mass_action_base() -> CascadeResult:
    return simulate(_mass_action(30, 34, 10.8, 1.192))


@pytest.mark.parametrize(
    "target",
    [
        (30, 34, 10.8, 1.193),  # the scrub root find's step: the trace outlets move by a factor ~e
        (31, 34, 10.8, 1.192),  # one stage more (the stage search)
        (28, 36, 11.5, 1.25),  # both flows and both sections changed
    ],
)
def test_warm_start_from_a_neighbour_equals_the_cold_solve(mass_action_base, target):
    spec = _mass_action(*target)
    assert_same(simulate(spec, initial=mass_action_base), simulate(spec))


def test_warm_start_converges_without_the_cold_path(mass_action_base, monkeypatch):
    """A neighbouring design converges from the warm start alone, to the cold answer. (Its iterations are no
    longer a fraction of the cold ones: since the cold path tries the stage dynamics first for a saponified
    organic, this cascade's cold solve takes ~80 iterations instead of ~1,300.)"""
    spec = _mass_action(30, 34, 10.8, 1.193)
    cold = simulate(spec)

    def no_cold_path(system, pb):
        raise AssertionError("the warm start fell back to the cold path")

    monkeypatch.setattr(stagewise, "_solve_x", no_cold_path)
    warm = simulate(spec, initial=mass_action_base)
    assert_same(warm, cold)


def test_warm_start_from_its_own_solution_takes_no_step(mass_action_base):
    again = simulate(_mass_action(30, 34, 10.8, 1.192), initial=mass_action_base)
    assert_same(again, mass_action_base, rtol=1e-12)
    assert again.iterations <= 2


@pytest.mark.parametrize(
    "target",
    [
        (12, 8, 4.0, 0.5),  # far fewer stages, less than half the flows
        (45, 50, 25.0, 3.0),  # more stages, more than twice the flows
        (30, 34, 3.0, 0.2),  # the organic cannot take the feed: another regime entirely
    ],
)
def test_warm_start_from_a_distant_cascade_still_gives_the_cold_answer(mass_action_base, target):
    spec = _mass_action(*target)
    assert_same(simulate(spec, initial=mass_action_base), simulate(spec))


def test_a_warm_start_that_fails_falls_back_to_the_unchanged_cold_path(mass_action_base, monkeypatch):
    """With no warm iterations allowed the guess is tried and dropped: the cold path gives the cold answer."""
    spec = _mass_action(28, 36, 11.5, 1.25)
    cold = simulate(spec)
    monkeypatch.setattr(stagewise, "WARM_NEWTON_ITERATIONS", 0)
    monkeypatch.setattr(stagewise, "WARM_TRANSIENT_ITERATIONS", 0)
    warm = simulate(spec, initial=mass_action_base)
    assert_same(warm, cold, rtol=0.0)
    assert warm.iterations == cold.iterations


def test_warm_start_empirical_ph():
    base = simulate(_empirical_ph(39, 22, 1.718, 3.459))
    for target in ((39, 22, 1.718, 3.47), (40, 21, 1.7, 3.459), (10, 5, 5.0, 0.5)):
        spec = _empirical_ph(*target)
        assert_same(simulate(spec, initial=base), simulate(spec))


def test_warm_start_with_murphree_stages_and_a_strip_section():
    base = simulate(_murphree_strip(2.0, (6, 5, 3)))
    for organic, stages in ((2.1, (6, 5, 3)), (2.0, (8, 4, 5)), (0.6, (3, 9, 2))):
        spec = _murphree_strip(organic, stages)
        assert_same(simulate(spec, initial=base), simulate(spec))


def test_warm_start_from_a_cascade_without_the_section_starts_cold(mass_action_base):
    """No scrub section in the guess: nothing to resample the scrub stages from, the solve is cold."""
    no_scrub = simulate(dict(_mass_action(20, 0, 2.0, 1.0), scrub=None))
    assert warm_profile(no_scrub, mass_action_base.sections, "scrub") is None
    spec = _mass_action(30, 34, 10.8, 1.192)
    cold = simulate(spec)
    warm = simulate(spec, initial=no_scrub)
    assert_same(warm, cold, rtol=0.0)
    assert warm.iterations == cold.iterations


def test_warm_profile_resamples_each_section_on_its_own_index(mass_action_base):
    res = mass_action_base
    sections = ("extraction",) * 59 + ("scrub",) * 34
    ext = warm_profile(res, sections, "extraction")
    scr = warm_profile(res, sections, "scrub")
    assert ext is not None and scr is not None
    assert ext.shape == (59, 2) and scr.shape == (34, 2)
    # the end stages map onto each other: the raffinate stage, the feed stage, the scrub-liquor stage
    np.testing.assert_allclose(ext[0], res.aqueous[0], rtol=1e-12)
    np.testing.assert_allclose(ext[-1], res.aqueous[29], rtol=1e-12)
    np.testing.assert_allclose(scr, res.aqueous[30:], rtol=1e-12)
    # in between: log-linear in the old stage index (new stage 2 sits at old stage 1.5)
    np.testing.assert_allclose(ext[1], np.sqrt(res.aqueous[0] * res.aqueous[1]), rtol=1e-12)


def test_warm_start_with_other_components_is_an_input_error(mass_action_base):
    other = _mass_action(30, 34, 10.8, 1.192)
    other["components"] = ["Nd", "Pr"]
    with pytest.raises(InputError, match="components"):
        simulate(other, initial=mass_action_base)
