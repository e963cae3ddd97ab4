"""The fuzz harness's fast subset (issue 17): every shipped input kind mutated, 0 tracebacks, hangs or memory
blow-ups; accepted mutants are physically sane.

Each mutant runs in a forked child (wall-time and address-space limits), so a crash or a hang is counted, not
suffered. Kept small for CI (about a minute on 2 cores): the smallest cascade examples, one flowsheet with a
feed, a scenario cut to a three-year horizon, one values and one sources file; the large campaign is
``benchmarks/fuzz_campaign.py``.
"""

from __future__ import annotations

import os

import pytest

from fuzz.fuzzer import DEFECTS, Seed, campaign, mutants, run_mutant, seeds, tally

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the harness forks a child per mutant")

#: outcomes that fail the suite (a refusal that does not name the file is reported, not failed)
FAILING = ("traceback", "hang", "memory", "insane", "warning")

HOSTILE_FILES = {
    "binary",
    "UTF-16 with BOM",
    "latin-1 byte",
    "deep nesting 5000",
    "alias bomb",
    "file of 11 MB",
}
CI_SEEDS = {
    "cascade:separation/examples/prnd_lsf.yaml",
    "cascade:separation/examples/lace_empirical_ph.yaml",
    "cascade:separation/examples/prommis/sx_steady_1_1.yaml",
    "feed:process/feeds/kalgoorlie-mrec.yaml",
    "scenario:scenario/scenarios/malaysia-crackdown.yaml",
    "scenario:scenario/scenarios/malaysia-base.yaml",
    "flowsheet:process/flowsheets/hre-circuit.yaml",
    "scenario:scenario/scenarios/overrides.yaml",
    "data:data/values/prices.yaml",
    "data:data/sources/usgs.yaml",
}


def _short(data: object) -> object:
    """A scenario cut to three years and started from empty residue piles (no history run)."""
    if (isinstance(data, dict) and "name" in data and "overrides" not in data) or "base" in data:
        data = dict(data)  # type: ignore[arg-type]
        data["years"] = [2024, 2026]
        data.pop("start_from", None)
    return data


def _ci(seed: Seed) -> Seed | None:
    if seed.name not in CI_SEEDS:
        return None
    if seed.kind == "scenario":
        return Seed(seed.kind, seed.path, prepare=_short)
    return seed


@pytest.fixture(scope="module")
def outcomes() -> list:
    return campaign(
        ("cascade", "flowsheet", "feed", "scenario", "data"),
        master_seed=17,
        n_tree=6,
        raw=True,
        timeout=60.0,
        memory_mb=1536,
        seed_filter=_ci,
    )


def test_ci_subset_has_no_traceback_hang_or_memory_blow_up(outcomes: list) -> None:
    bad = [f"{o.outcome}: {o.mutant}: {o.detail}" for o in outcomes if o.outcome in FAILING]
    assert len(outcomes) >= 100, tally(outcomes)
    assert not bad, "\n".join(bad)


def test_ci_subset_covers_every_kind_and_refuses_hostile_files(outcomes: list) -> None:
    kinds = {o.seed.split(":")[0] for o in outcomes}
    assert kinds == {"cascade", "flowsheet", "feed", "scenario", "data"}
    for o in outcomes:
        if o.mutation in HOSTILE_FILES:
            assert o.outcome == "refused", f"{o.mutant}: {o.outcome} {o.detail}"
    assert set(DEFECTS) >= set(FAILING)


def test_design_spec_files_go_through_the_shared_reader() -> None:
    seed = next(s for s in seeds(("cascade",)) if s.path.name == "prnd_design.yaml")
    binary = next(m for m in mutants(seed, 17, 0) if m.mutation == "binary")
    outcome = run_mutant(binary, timeout=30.0)
    assert outcome.outcome == "refused", outcome
