"""Refinery SX stage counts at the shipped P507 separation factors, or at a what-if set (issue 16, item 5).

    .venv/bin/python benchmarks/bench_design_factor_sensitivity.py          # shipped factors
    .venv/bin/python benchmarks/bench_design_factor_sensitivity.py whatif   # the issue's suggested values

The what-if replaces the preferred value of three P507 pairs with the middle of the ranges the issue suggests
(Ce/La 5.0 of 3-7, Sm/Nd 9.0 of 8-10, Tb/Gd 4.5 of 3.5-5.5; unsourced, so not shipped) in a copy of the
dataset (``Dataset.with_values``), designs every cut of the shipped flowsheets with the persistent design
cache off, and prints one JSON object {flowsheet (feed): [[cut, split, extraction, scrub, total], ...]}.
"""

from __future__ import annotations

import json
import os
import sys

os.environ["MINE2MAGNET_CACHE"] = "off"

import mine2magnet.separation.equilibrium.extractants as extractants
from mine2magnet.data import load_dataset
from mine2magnet.process import run_flowsheet

WHAT_IF = {
    "separation.extractant.P507.beta.Ce_La": 5.0,
    "separation.extractant.P507.beta.Sm_Nd": 9.0,
    "separation.extractant.P507.beta.Tb_Gd": 4.5,
}
CASES = (
    ("lynas-malaysia", None),
    ("lynas-malaysia", "kalgoorlie-mrec"),
    ("hre-circuit", None),
    ("ionic-clay-refinery", None),
)


def main() -> int:
    if "whatif" in sys.argv[1:]:
        ds = load_dataset().with_values(WHAT_IF)
        loader = extractants._load
        extractants._load_packaged = lambda name: loader(name, ds)  # the refinery's lookups use the copy
    out: dict[str, list[list[object]]] = {}
    for flowsheet, feed in CASES:
        result = run_flowsheet(flowsheet, feed)
        out[f"{flowsheet} ({feed or 'design feed'})"] = [
            [c["cut"], c.get("split"), c["extraction_stages"], c["scrub_stages"], c["stages"]]
            for c in (x if isinstance(x, dict) else x.to_dict() for x in result.circuits)
        ]
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
