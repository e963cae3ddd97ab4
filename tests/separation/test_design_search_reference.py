"""The batched design search returns the designs of the stage-by-stage search it replaced.

``design_search_reference.json`` holds designs made before the search was batched (the tree at 4a61d11):
refinery SX cuts of malaysia-base and random P507 cuts (aqueous and organic feeds, purity and recovery
targets, cost objectives, two flow ladders). Stated tolerance: stage counts, feed stages and the trade-off's
stage counts identical; flows (closed forms times the ladder) to 1e-12 relative; the total-reflux minimum to
1e-12 relative; the verified outlet flows (``simulate`` of the same spec) to 1e-9 of the feed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mine2magnet.separation import design

REFERENCE = json.loads((Path(__file__).parent / "design_search_reference.json").read_text(encoding="utf-8"))


def _close(a: float, b: float, rel: float) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=0.0) or (math.isinf(a) and a == b)


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[c["name"] for c in REFERENCE["cases"]])
def test_same_design_as_the_stage_by_stage_search(case):
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in case["options"].items()}
    got = design(case["spec"], **options).to_dict()
    want = case["expected"]
    assert got["stages"] == want["stages"]
    assert got["feed_stage"] == want["feed_stage"]
    assert _close(got["organic"]["ree_flow"], want["organic_ree_flow"], 1e-12)
    assert _close(got["scrub"]["ree_flow"], want["scrub_ree_flow"], 1e-12)
    for key in ("organic_ree_flow", "scrub_ree_flow", "stages_total_reflux"):
        assert _close(got["minimum"][key], want["minimum"][key], 1e-12), key
    tradeoff = [
        [p["organic_ree_flow"], p["stages"]["extraction"], p["stages"]["scrub"], p["feed_stage"]]
        for p in got["tradeoff"]
    ]
    assert [t[1:] for t in tradeoff] == [t[1:] for t in want["tradeoff"]]
    for mine, theirs in zip(tradeoff, want["tradeoff"], strict=True):
        assert _close(mine[0], theirs[0], 1e-12)
    feed = math.fsum(case["spec"]["feed"]["flow"].values())
    for outlet in ("raffinate", "loaded_organic"):
        flows = got["verified"]["outlets"][outlet]["flow"]
        assert set(flows) == set(want[outlet])
        for comp, value in want[outlet].items():
            assert abs(flows[comp] - value) <= 1e-9 * feed, (outlet, comp)
