"""A process the crash-safety tests start and kill (``python -m store.crash_driver MODE ...``).

Modes:
- ``save STORE N``: save N sample runs into STORE, each table write slowed by a few ms so that a kill lands
  inside a save as often as between saves; prints ``ready`` first and ``saved <id>`` after each save.
- ``run OUT LABEL N``: ``mine2magnet run LABEL --out OUT --keep -q`` N times over a stand-in scenario layer
  (the sample chain, a run of ~0.1-0.3 s with progress) and a stand-in report writer (the report is not
  what these tests check); prints ``ready`` first and ``ran`` after each run.
- ``summary PATH N TAG START``: from the epoch time START on, write_summary N times to PATH; prints the
  number of failures.
- ``fork MODE ARGS...``: import everything once, then for each ``go`` line on stdin fork a child running
  MODE (without its ``ready`` line), print ``child <pid>``, wait for the child (the test kills it) and print
  ``reaped <status>``; ``quit`` ends. This spares the tests an interpreter start-up per kill.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from store.sample_chain import sample_result


def _slow_saves(store_path: str, n: int, announce: bool = True) -> None:
    from mine2magnet.store import ResultsStore, results_store

    real = results_store._write_table

    def slow_write(*args, **kwargs):
        time.sleep(random.uniform(0.0, 0.02))
        return real(*args, **kwargs)

    results_store._write_table = slow_write
    store = ResultsStore(store_path)
    if announce:
        print("ready", flush=True)
    for i in range(n):
        run_id = store.save(sample_result(f"killed-{i}", scale=2.0 + i))
        print(f"saved {run_id}", flush=True)


def _fake_api() -> SimpleNamespace:
    def load_scenario(name, overrides=()):
        return SimpleNamespace(name=name, overrides=list(overrides), model=name)

    def run_scenario(scenario, progress=None):
        for year in range(3):
            time.sleep(random.uniform(0.03, 0.1))
            if progress:
                progress(f"allocating {2024 + year}", year + 1, 3)
        return sample_result(scenario.name, 1.0 + random.random(), overrides=tuple(scenario.overrides))

    return SimpleNamespace(
        list_scenarios=lambda: [],
        load_scenario=load_scenario,
        run_scenario=run_scenario,
        unreachable_facilities=lambda model: [],
    )


def _runs(out: str, label: str, n: int, announce: bool = True) -> None:
    from mine2magnet.cli import main
    from mine2magnet.cli import run as run_module
    from mine2magnet.store import atomic_write_text

    def write_report(runs, report, **options):
        body = "".join(f"<p>{r.run_id}</p>" for r in runs)
        return atomic_write_text(report, f"<html>{body}</html>\n")

    run_module.scenario_api = _fake_api
    run_module.write_report_atomically = write_report
    if announce:
        print("ready", flush=True)
    for _ in range(n):
        main(["run", label, "--out", out, "--keep", "-q"], standalone_mode=False)
        print("ran", flush=True)


def _summaries(path: str, n: int, tag: str, start_at: float) -> None:
    from mine2magnet.store import write_summary

    time.sleep(max(0.0, start_at - time.time()))  # both writers start together
    failures = 0
    for i in range(n):
        try:
            write_summary({"writer": tag, "i": i, "payload": list(range(200))}, Path(path))
        except OSError:
            failures += 1
    print(failures, flush=True)


def _start(mode: str, args: list[str], announce: bool = True) -> None:
    if mode == "save":
        _slow_saves(args[0], int(args[1]), announce)
    elif mode == "run":
        _runs(args[0], args[1], int(args[2]), announce)
    elif mode == "summary":
        _summaries(args[0], int(args[1]), args[2], float(args[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


def _fork_server(mode: str, args: list[str]) -> None:
    import mine2magnet.cli.run  # noqa: F401  (everything the children use, imported once)
    from mine2magnet.store import ResultsStore  # noqa: F401

    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            break
        pid = os.fork()
        if pid == 0:  # the child: do the work, never return into the server's loop
            code = 0
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)  # the server's stdout carries only its own lines
                sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
                random.seed()
                _start(mode, args, announce=False)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        print(f"child {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"reaped {status}", flush=True)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "fork":
        _fork_server(args[0], args[1:])
    else:
        _start(mode, args)
