"""Benchmark: how far inputs can grow on this machine (issue 17 item 5).

Cascade stages and components, scenario horizon and facility count, with the wall time and the peak memory of
each case in a fresh process.

Usage: .venv/bin/python benchmarks/input_limits.py [--quick] [--timeout S]

Each case runs in its own Python process (``python benchmarks/input_limits.py --case KIND ARGS``) so that the
peak resident memory (``ru_maxrss``) is the case's own; a case past --timeout is reported as such. Cascades
are synthetic: a constant-distribution (linear) cascade of C rare earths with distribution ratios spread
0.5-2 in geometric steps, and Xu's loaded-separation-factor model on the shipped Pr/Nd example stretched to
N stages. Scenarios: malaysia-base from empty residue piles (no history run) over 2024..2024+H-1, and with K
copies of the Kenering ISL mine (each with its trade links) added. Prints one line per case and a Markdown
table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import cpu_model, load

RARE_EARTHS = ["La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def case_linear(stages: int, components: int) -> dict[str, float]:
    from mine2magnet.separation import load_spec, simulate

    comps = RARE_EARTHS[:components]
    ratios = {c: 0.5 * 4.0 ** (i / max(1, components - 1)) for i, c in enumerate(comps)}
    half = stages // 2
    spec = load_spec(
        {
            "components": comps,
            "model": {"type": "constant-distribution", "distribution_ratios": ratios},
            "stages": {"extraction": half, "scrub": stages - half},
            "feed": {"stage": half, "volume_flow": 1.0, "concentration": dict.fromkeys(comps, 0.1)},
            "organic": {"volume_flow": 1.0},
            "scrub": {"volume_flow": 0.5},
        }
    )
    t0 = time.perf_counter()
    result = simulate(spec)
    return {"seconds": time.perf_counter() - t0, "balance": float(result.mass_balance_error)}


def case_lsf(stages: int) -> dict[str, float]:
    import yaml

    from mine2magnet.separation import load_spec, simulate

    here = Path(__file__).resolve().parents[1] / "src" / "mine2magnet" / "separation" / "examples"
    data = yaml.safe_load((here / "prnd_lsf.yaml").read_text("utf-8"))
    half = stages // 2
    data["stages"] = {"extraction": half, "scrub": stages - half}
    data["feed"]["stage"] = half
    spec = load_spec(data)
    t0 = time.perf_counter()
    result = simulate(spec)
    return {"seconds": time.perf_counter() - t0, "balance": float(result.mass_balance_error)}


def case_physical(stages: int) -> dict[str, float]:
    """PrOMMiS's 12-component empirical-pH case (proton balance, impurities) stretched to N stages."""
    import yaml

    from mine2magnet.separation import load_spec, simulate

    here = Path(__file__).resolve().parents[1] / "src" / "mine2magnet" / "separation" / "examples"
    data = yaml.safe_load((here / "prommis" / "sx_steady_1_1.yaml").read_text("utf-8"))
    data["stages"] = {"extraction": stages}
    data["feed"]["stage"] = stages
    spec = load_spec(data)
    t0 = time.perf_counter()
    result = simulate(spec)
    return {"seconds": time.perf_counter() - t0, "balance": float(result.mass_balance_error)}


def _base_scenario() -> dict:
    import yaml

    here = Path(__file__).resolve().parents[1] / "src" / "mine2magnet" / "scenario" / "scenarios"
    data = yaml.safe_load((here / "malaysia-base.yaml").read_text("utf-8"))
    data.pop("start_from", None)
    return data


def _run_scenario(data: dict) -> dict[str, float]:
    import tempfile

    import yaml

    from mine2magnet.scenario import load_scenario, run_scenario

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "limits.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        t0 = time.perf_counter()
        scenario = load_scenario(str(path))
        result = run_scenario(scenario)
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "flow_rows": float(len(result.tables["flows"]))}


def case_horizon(years: int) -> dict[str, float]:
    data = _base_scenario()
    data["years"] = [2024, 2024 + years - 1]
    return _run_scenario(data)


def case_facilities(extra_mines: int, years: int) -> dict[str, float]:
    data = _base_scenario()
    data["years"] = [2024, 2024 + years - 1]
    mines = data["facilities"]["mines"]
    template = next(m for m in mines if m["name"] == "Kenering ISL")
    links = [t for t in data["trade_links"] if t["source"] == template["name"]]
    for k in range(extra_mines):
        name = f"Kenering ISL copy {k + 1}"
        mines.append({**copy.deepcopy(template), "name": name})
        data["trade_links"] += [{**copy.deepcopy(t), "source": name} for t in links]
    out = _run_scenario(data)
    out["facilities"] = float(sum(len(v) for v in data["facilities"].values()))
    return out


CASES = {
    "linear": case_linear,
    "lsf": case_lsf,
    "physical": case_physical,
    "horizon": case_horizon,
    "facilities": case_facilities,
}


def run_case(kind: str, args: list[int], timeout: float) -> dict[str, object]:
    """One case in a fresh process: its result, peak memory (MB) and wall time with imports (s)."""
    command = [sys.executable, __file__, "--case", kind, *map(str, args)]
    t0 = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "args": args, "status": f"past {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"kind": kind, "args": args, "status": f"failed: {last[:160]}", "wall": wall}
    return {"kind": kind, "args": args, "status": "ok", "wall": wall, **json.loads(done.stdout)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="the small cases only")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument(
        "--only", help="comma-separated case kinds (linear, lsf, physical, horizon, facilities)"
    )
    args = parser.parse_args()
    if args.case:
        kind, *rest = args.case
        out = CASES[kind](*map(int, rest))
        out["peak_mb"] = _peak_mb()
        print(json.dumps(out))
        return 0
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, load {load()}, {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )
    plan: list[tuple[str, list[int]]] = []
    if args.only:
        kinds = set(args.only.split(","))
    stages = [100, 500, 2000] if args.quick else [100, 500, 1000, 2000, 4000]
    plan += [("linear", [n, c]) for c in (2, 8, 15) for n in stages]
    plan += [("lsf", [n]) for n in stages]
    plan += [("physical", [n]) for n in ((3, 30, 300) if args.quick else (3, 30, 100, 300, 1000, 2000))]
    plan += [("horizon", [h]) for h in ((5, 17) if args.quick else (5, 17, 40, 77))]
    plan += [("facilities", [k, 7]) for k in ((0, 10) if args.quick else (0, 10, 50, 200))]
    if args.only:
        plan = [p for p in plan if p[0] in kinds]
    rows = []
    for kind, case_args in plan:
        row = run_case(kind, case_args, args.timeout)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| case | size | solve/run s | process wall s | peak MB | status |\n|---|---|---|---|---|---|")
    for r in rows:
        size = {
            "linear": lambda a: f"{a[0]} stages x {a[1]} components",
            "lsf": lambda a: f"{a[0]} stages x 2 components",
            "physical": lambda a: f"{a[0]} stages x 12 components",
            "horizon": lambda a: f"{a[0]} years",
            "facilities": lambda a: f"+{a[0]} mines, 7 years",
        }[str(r["kind"])](r["args"])
        seconds = f"{r['seconds']:.2f}" if "seconds" in r else "-"
        wall = f"{r['wall']:.1f}" if "wall" in r else "-"
        peak = f"{r['peak_mb']:.0f}" if "peak_mb" in r else "-"
        print(f"| {r['kind']} | {size} | {seconds} | {wall} | {peak} | {r['status']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
