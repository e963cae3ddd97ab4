"""Benchmark: uncertainty studies of a scenario — draws per second by backend and workers, memory as draws
grow (issue 13).

Usage: .venv/bin/python benchmarks/bench_uncertainty.py [SCENARIO] [--draws N] [--workers 1,2]
       [--backends inline,pool,dask] [--memory N1,N2] [--track N] [--breakdown N] [--store N]

For each backend and worker count: wall and CPU seconds of a Latin-hypercube study of N draws (the first
draws of each worker include its start and the refinery flowsheet runs) and draws/s. --memory runs studies
of ishigami with N1, N2 ... draws through the store and reports the peak RSS of this process, to show the
engine's memory stays flat. --track N: a scenario study of N draws on the pool, RSS sampled as it goes.
--breakdown N: CPU ms per draw of each step, in process. --store N: N draws of 1,239 output rows each (the
size of a malaysia-base draw) appended to a study store on disk in chunks of 4, RSS of this process as the
file grows (the store alone). Prints the machine and the load average: figures measured while other work runs
on the machine are noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model, load
from mine2magnet.analysis.uncertainty import FunctionModel, ishigami, ishigami_inputs, run_study
from mine2magnet.analysis.uncertainty.study import run_scenario_study


def _rss_mb() -> tuple[float, float]:
    """Peak RSS of this process and of its finished children (MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def speed(scenario: str, draws: int, backend: str, workers: int) -> dict[str, float]:
    """Seconds and draws/s of one study (into a temporary folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        result = run_scenario_study(
            scenario, draws=draws, workers=workers, backend=backend, out=Path(tmp) / "study", claims=True
        )
        wall = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime for a, b in zip(c0, c1, strict=True))
    return {"draws": result.draws["ok"], "wall": wall, "cpu": cpu, "rate": result.draws["ok"] / wall}


def memory(draws: int) -> dict[str, float]:
    """Peak RSS after an ishigami study of `draws` draws through a store on disk."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_study(FunctionModel(ishigami), ishigami_inputs(), method="mc", draws=draws, out=Path(tmp) / "s")
        wall = time.perf_counter() - t0
    own, _ = _rss_mb()
    return {"draws": draws, "wall": wall, "rss_mb": own}


def track(scenario: str, draws: int, workers: int, engine: bool = False) -> list[tuple[int, float, float]]:
    """A study of `draws` draws on a `workers`-process pool, sampling (draws done, seconds, total RSS MB of
    this process and its workers) about 20 times: memory flat as draws grow. `engine`: ishigami in chunks of
    4 draws instead of the scenario (the store, the pool and the bookkeeping alone, at many draws)."""
    import psutil

    me = psutil.Process()
    samples: list[tuple[int, float, float]] = []
    t0 = time.perf_counter()
    step = max(1, draws // 20)

    def rss() -> float:
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a worker that just ended
                total += child.memory_info().rss
        return total / 2**20

    def progress(done: int, total: int) -> None:
        if not samples or done - samples[-1][0] >= step or done == total:
            samples.append((done, time.perf_counter() - t0, rss()))
            d, seconds, mb = samples[-1]
            print(f"  {d:6d} draws {seconds:8.1f} s RSS {mb:5.0f} MB load {load()}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "study"
        if engine:
            model = FunctionModel(ishigami, draws_per_chunk=4)
            result = run_study(
                model, ishigami_inputs(), draws=draws, workers=workers, out=out, progress=progress
            )
        else:
            result = run_scenario_study(scenario, draws=draws, workers=workers, out=out, progress=progress)
        # a failed draw ends fast: the rate means nothing unless every draw ran
        print(f"  draws ok {result.draws['ok']}, failed {result.draws['failed']}", flush=True)
    return samples


def store_memory(draws: int, rows_per_draw: int = 1239) -> list[tuple[int, float, float, float]]:
    """(draws appended, seconds, RSS MB of this process, store file MB) as a store grows by `draws` draws of
    `rows_per_draw` rows each (synthetic values), sampled every 1,000 draws."""
    import numpy as np
    import psutil

    from mine2magnet.analysis.uncertainty.draw_store import DrawOutcome, DrawStore

    rng = np.random.default_rng(0)
    kpis = [f"kpi_{i}" for i in range(13)]
    subjects = [f"subject {i}" for i in range(12)]
    keys = [(2024 + i % 17, kpis[i % 13], subjects[i % 12]) for i in range(rows_per_draw)]
    me = psutil.Process()
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.duckdb"
        store = DrawStore(path)
        t0 = time.perf_counter()
        for start in range(0, draws, 4):
            chunk = range(start, min(start + 4, draws))
            outcomes = []
            for d in chunk:
                values = rng.random(len(keys)).tolist()
                rows = [(*k, v) for k, v in zip(keys, values, strict=True)]
                outcomes.append(DrawOutcome(d, rows, None, 0.1, "w"))
            store.append(outcomes)
            done = chunk[-1] + 1
            if done == 4 or done % 1000 == 0 or done == draws:
                rss = me.memory_info().rss / 2**20
                samples.append((done, time.perf_counter() - t0, rss, path.stat().st_size / 2**20))
        store.close()
    return samples


def breakdown(scenario: str, draws: int, warm: int = 12) -> tuple[float, list[tuple[str, float]]]:
    """CPU ms per draw, in process, of each step of a draw (after `warm` draws that fill the caches and pass
    the flowsheet probes): the whole draw and the steps wrapped below (indented steps are within the one
    above: solve_year holds the HiGHS part)."""
    import collections
    import functools

    import mine2magnet.chain.allocation as allocation
    import mine2magnet.chain.simulation as simulation
    import mine2magnet.scenario as scenario_api
    from mine2magnet.analysis.uncertainty import flowsheet_runs, models
    from mine2magnet.analysis.uncertainty.inputs import draw_inputs
    from mine2magnet.analysis.uncertainty.sampling import draw_sample
    from mine2magnet.analysis.uncertainty.study import scenario_study

    spent: collections.Counter[str] = collections.Counter()

    def wrap(owner: object, name: str, label: str) -> None:
        f = getattr(owner, name)

        @functools.wraps(f)
        def timed(*a: object, **k: object) -> object:
            t = time.process_time()
            try:
                return f(*a, **k)
            finally:
                spent[label] += time.process_time() - t

        setattr(owner, name, timed)

    steps = (
        (scenario_api, "simulate", "simulate (chain years)"),
        (simulation, "solve_year", "  solve_year (LP)"),
        (allocation, "_solve_csc", "    HiGHS (model and solve)"),
        (simulation, "build_year", "  build_year"),
        (simulation, "year_kpis", "  year_kpis"),
        (simulation, "flow_rows", "  flow_rows"),
        (flowsheet_runs.FlowsheetRuns, "_run", "  flowsheet runs"),
        (scenario_api, "add_accounts", "add_accounts (economics)"),
        (models, "claim_rows", "claim check"),
        (models, "kpi_rows", "KPI rows"),
        (models.ScenarioModel, "scenario_for", "scenario load"),
    )
    for owner, name, label in steps:
        wrap(owner, name, label)
    model, si = scenario_study(scenario)
    sample = draw_sample(si.inputs, "lhs", warm + draws, 0, si.correlations)
    for d in range(warm):
        model(draw_inputs(si.inputs, sample.values[d]))
    spent.clear()
    t0 = time.process_time()
    for d in range(warm, warm + draws):
        model(draw_inputs(si.inputs, sample.values[d]))
    total = (time.process_time() - t0) / draws * 1000
    return total, [(label, spent[label] / draws * 1000) for _, _, label in steps]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="malaysia-base")
    p.add_argument("--draws", type=int, default=24, help="draws per worker [24]")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--backends", default="inline,pool")
    p.add_argument("--memory", default="", help="ishigami study sizes for the memory check, e.g. 1000,10000")
    p.add_argument("--track", type=int, default=0, help="a scenario study of N draws on the largest pool")
    p.add_argument("--track-engine", type=int, default=0, help="the same with ishigami (engine memory)")
    p.add_argument(
        "--breakdown", type=int, default=0, help="CPU ms per draw by step over N draws, in process"
    )
    p.add_argument("--store", type=int, default=0, help="RSS of a store as N synthetic draws are appended")
    args = p.parse_args()
    print(f"machine: {cpu_model()}, {platform.python_version()}, load average {load()}")
    print(f"command: {' '.join(sys.argv)}")
    for backend in [b for b in args.backends.split(",") if b]:
        for workers in [int(w) for w in args.workers.split(",") if w]:
            if backend == "inline" and workers > 1:
                continue
            n = args.draws * workers
            got = speed(args.scenario, n, backend, workers)
            print(
                f"{args.scenario} {backend:6s} workers {workers}: {got['draws']} draws "
                f"in {got['wall']:.1f} s "
                f"wall, {got['cpu']:.1f} s CPU -> {got['rate']:.2f} draws/s "
                f"({got['cpu'] / max(got['draws'], 1):.2f} s CPU per draw); load {load()}"
            )
            own, kids = _rss_mb()
            print(f"  peak RSS so far: this process {own:.0f} MB, largest worker {kids:.0f} MB")
    workers = max(int(w) for w in args.workers.split(",") if w)
    for n, engine in ((args.track, False), (args.track_engine, True)):
        if not n:
            continue
        what = "ishigami" if engine else args.scenario
        for done, seconds, mb in track(args.scenario, n, workers, engine):
            rate = done / seconds
            print(f"track {what}: {done:6d} draws {seconds:8.1f} s {rate:7.2f} draws/s RSS {mb:5.0f} MB")
        print(f"track done; load {load()}")
    if args.breakdown:
        total, parts = breakdown(args.scenario, args.breakdown)
        print(f"breakdown over {args.breakdown} draws (CPU ms per draw, in process): {total:.0f} ms")
        print(f"  load {load()}")
        for label, ms in parts:
            print(f"  {label:34s} {ms:7.1f} ms")
    if args.store:
        for done, seconds, mb, file_mb in store_memory(args.store):
            print(f"store: {done:6d} draws {seconds:6.1f} s RSS {mb:5.0f} MB file {file_mb:5.0f} MB")
        print(f"store done; load {load()}")
    for n in [int(x) for x in args.memory.split(",") if x]:
        got = memory(n)
        print(f"ishigami store check: {n} draws in {got['wall']:.1f} s, peak RSS {got['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
