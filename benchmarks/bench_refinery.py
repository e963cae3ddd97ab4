"""Refinery flowsheet run times (cold: SX cuts designed from scratch; warm: designs cached), and the
one-at-a-time residue sensitivity of lynas-malaysia used in docs/validation.md.

Usage: .venv/bin/python benchmarks/bench_refinery.py [--sensitivity]
"""

from __future__ import annotations

import statistics
import sys
import time

import yaml

from mine2magnet.data import load_dataset
from mine2magnet.process import list_flowsheets, load_flowsheet, run_flowsheet
from mine2magnet.process.flowsheet import FLOWSHEETS_DIR
from mine2magnet.process.separation_train import _design_cached

CASES = [(name, None) for name in list_flowsheets()] + [("lynas-malaysia", "kalgoorlie-mrec")]


def timing() -> None:
    load_dataset()
    run_flowsheet("hre-circuit")  # imports and first-call set-up, not counted
    print("| flowsheet (feed) | cuts designed | cold run | warm run (median of 5) | warm, 2x rate |")
    print("|---|---|---|---|---|")
    for name, feed in CASES:
        _design_cached.cache_clear()
        t0 = time.perf_counter()
        r = run_flowsheet(name, feed)
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(5):
            t0 = time.perf_counter()
            run_flowsheet(name, feed)
            warm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_flowsheet(name, feed, 2 * r.feed_reo_t_per_yr)
        scaled = time.perf_counter() - t0
        n = sum(1 for c in r.circuits if not c.get("skipped"))
        print(
            f"| {name} ({r.feed}) | {n} | {cold:.2f} s | {statistics.median(warm) * 1000:.0f} ms | "
            f"{scaled * 1000:.0f} ms |"
        )


def sensitivity() -> None:
    ds = load_dataset()
    raw = yaml.safe_load((FLOWSHEETS_DIR / "lynas-malaysia.yaml").read_text())

    def run(over: dict) -> list[float]:
        res = run_flowsheet(load_flowsheet({**raw, "parameters": over}))
        d = res.to_dict()["residues"]
        return [d[k]["t_per_t_reo"] for k in ("WLP", "NUF", "FGD")] + [
            d["WLP"]["bq_per_g_by_parent"]["Th-232"]
        ]

    base = run({})
    print(
        f"central: WLP {base[0]:.2f} NUF {base[1]:.2f} FGD {base[2]:.2f} total {sum(base[:3]):.2f} "
        f"WLP {base[3]:.1f} Bq/g"
    )
    for key in (
        "process.acid_bake.acid_dose_t_per_t_concentrate",
        "process.acid_bake.offgas_fraction",
        "process.residue.wlp_moisture",
        "process.residue.nuf_moisture",
        "process.feed.mt_weld_concentrate.fe2o3_fraction",
        "process.feed.mt_weld_concentrate.cao_fraction",
        "process.acid_bake.fe_leach_fraction",
        "process.acid_bake.re_leach_recovery",
        "feed.mt_weld_concentrate.grade_treo",
    ):
        entry = ds.get(key)
        # the reported grade (~40 %) states no range: +-5 points is the sensitivity taken here
        rng = entry.range if entry.range is not None else (entry.value - 5, entry.value + 5)
        for v in rng:
            over = {
                key: {
                    "value": v,
                    "unit": entry.unit,
                    "source": entry.source.id,
                    "kind": "assumption",
                    "range": list(rng),
                }
            }
            x = run(over)
            print(
                f"{key} = {v}: WLP {x[0]:.2f} NUF {x[1]:.2f} FGD {x[2]:.2f} total {sum(x[:3]):.2f} "
                f"WLP {x[3]:.1f} Bq/g"
            )


if __name__ == "__main__":
    print("command: .venv/bin/python benchmarks/bench_refinery.py " + " ".join(sys.argv[1:]))
    if "--sensitivity" in sys.argv:
        sensitivity()
    else:
        timing()
