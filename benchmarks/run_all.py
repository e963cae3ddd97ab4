"""Run every benchmark script in this folder in turn and print their figures.

Usage: .venv/bin/python benchmarks/run_all.py   (or `make bench`)

The scripts run with the persistent design cache off (MINE2MAGNET_CACHE=off) unless MINE2MAGNET_CACHE is set,
so that their "cold" figures design every cut (bench_design.py --refinery times the cache itself, in a
temporary folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    env = {**os.environ}
    env.setdefault("MINE2MAGNET_CACHE", "off")
    print(f"MINE2MAGNET_CACHE={env['MINE2MAGNET_CACHE']}", flush=True)
    failed = []
    for script in sorted(here.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], check=False, env=env).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
