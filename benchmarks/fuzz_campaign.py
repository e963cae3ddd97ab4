"""The large fuzz campaign (issue 17): every shipped input kind mutated, each mutant run and classified.

    .venv/bin/python benchmarks/fuzz_campaign.py                 # all kinds, seed 0, 40 tree mutants per file
    .venv/bin/python benchmarks/fuzz_campaign.py --kinds cascade,feed --seed 7 --mutants 100 --large
    .venv/bin/python benchmarks/fuzz_campaign.py --json out/fuzz.json

Deterministic for a given --seed. Prints a table of outcomes per input kind and every defect (refused-unclear,
insane, traceback, hang, memory, warning) with its mutant; exit code 1 when there is a defect. The fuzzer is
``tests/fuzz/fuzzer.py`` (its fast subset runs in the test suite: ``tests/fuzz/test_fuzz_ci.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz.fuzzer import DEFECTS, KINDS, Outcome, campaign, tally
from machine import cpu_model, load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, from {','.join(KINDS)}")
    parser.add_argument("--seed", type=int, default=0, help="master seed (the campaign is deterministic)")
    parser.add_argument("--mutants", type=int, default=40, help="structural mutants per seed file")
    parser.add_argument("--large", action="store_true", help="also 50 MB files and a 9 MB list in a field")
    parser.add_argument("--timeout", type=float, default=60.0, help="wall-time limit per mutant, s")
    parser.add_argument("--memory", type=int, default=2048, help="address-space limit per mutant, MB")
    parser.add_argument("--json", dest="json_path", help="write every outcome to this JSON file")
    args = parser.parse_args()
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, load {load()}, {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )
    start = time.perf_counter()

    def progress(o: Outcome) -> None:
        mark = "!" if o.outcome in DEFECTS else "."
        print(mark, end="", flush=True)

    outcomes = campaign(
        kinds,
        args.seed,
        args.mutants,
        large=args.large,
        timeout=args.timeout,
        memory_mb=args.memory,
        progress=progress,
    )
    print()
    elapsed = time.perf_counter() - start
    for kind in kinds:
        mine = [o for o in outcomes if o.seed.startswith(f"{kind}:")]
        print(f"{kind:10s} {len(mine):5d} mutants  {tally(mine)}")
    print(f"total      {len(outcomes):5d} mutants  {tally(outcomes)}  in {elapsed:.0f} s")
    defects = [o for o in outcomes if o.outcome in DEFECTS]
    for o in defects:
        print(f"{o.outcome:16s} {o.mutant}: {o.detail}")
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
