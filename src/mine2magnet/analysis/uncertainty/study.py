"""Run a study: draw the sample, evaluate every draw not yet in the store, keep the results.

>>> from mine2magnet.analysis.uncertainty import run_study, scenario_study
>>> result = run_study(*scenario_study("malaysia-base"), draws=200, workers=2, out="study")
>>> result.percentiles("national_value_added_usd")

A study is fixed by its model, inputs, correlations, method, number of draws and seed (its fingerprint):
draw ``i`` is always row ``i`` of the same sample, so a study gives the same results on any backend and a
resumed study picks up exactly the draws its store does not hold yet.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mine2magnet import __version__
from mine2magnet.analysis.uncertainty.draw_store import DrawOutcome, open_store_for
from mine2magnet.analysis.uncertainty.execution import (
    ProgressLine,
    choose_backend,
    chunks_of,
    connect_dask,
    run_chunks,
)
from mine2magnet.analysis.uncertainty.inputs import Input, check_names
from mine2magnet.analysis.uncertainty.results import StudyResult
from mine2magnet.analysis.uncertainty.sampling import Correlation, Sample, draw_sample
from mine2magnet.errors import InputError


def fingerprint(
    model: Any,
    inputs: Sequence[Input],
    correlations: Sequence[Correlation],
    method: str,
    draws: int,
    seed: int,
) -> str:
    """A hash of what fixes a study's draws and results (model, inputs, correlations, method, size, seed)."""
    record = {
        "model": model.describe(),
        "inputs": [i.to_dict() for i in inputs],
        "correlations": [[c.first, c.second, c.rho] for c in correlations],
        "method": method,
        "draws": draws,
        "seed": seed,
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:20]


def sample_frame(inputs: Sequence[Input], sample: Sample) -> pd.DataFrame:
    """The sample as tidy rows (draw, input, unit number, value, option label)."""
    n, d = sample.values.shape
    labels = [[inp.label(x) for x in sample.values[:, j]] for j, inp in enumerate(inputs)]
    return pd.DataFrame(
        {
            "draw": np.repeat(np.arange(n, dtype=np.int32), d),
            "input": np.tile(np.array(sample.names, dtype=object), n),
            "unit": sample.unit.reshape(-1),
            "value": sample.values.reshape(-1),
            "option": [labels[j][i] for i in range(n) for j in range(d)],
        }
    )


#: A large study sends up to this many times a model's own chunk of draws at once: each chunk is one
#: transaction of the store (3.0 ms of the study process's CPU a malaysia-base draw in chunks of 4, 1.4 ms in
#: chunks of 16), while every worker still gets at least :data:`CHUNKS_PER_WORKER` chunks.
MAX_CHUNK_FACTOR = 4
CHUNKS_PER_WORKER = 32


def chunk_size(per_chunk: int, draws: int, workers: int) -> int:
    """Draws sent to a worker at once: the model's `per_chunk`, more (up to ``MAX_CHUNK_FACTOR`` times) for
    a study of many `draws` on `workers`, so that the study's process stores fewer, larger chunks. Which
    worker runs a draw, and in which chunk, changes none of its outputs."""
    per_chunk = max(1, per_chunk)
    larger = draws // max(1, workers * CHUNKS_PER_WORKER)
    return max(per_chunk, min(MAX_CHUNK_FACTOR * per_chunk, larger))


def run_study(
    model: Any,
    inputs: Sequence[Input],
    *,
    correlations: Sequence[Correlation] = (),
    method: str = "lhs",
    draws: int = 100,
    seed: int = 0,
    workers: int = 1,
    backend: str | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool | Callable[[int, int], None] = False,
) -> StudyResult:
    """Evaluate `model` on a sample of `inputs` and return the results (kept in `out`/uncertainty.duckdb).

    `method`: mc, lhs, sobol or morris (``draws`` is the budget of model runs; Sobol' and Morris use the
    largest design that fits). `backend`: inline, pool or dask (default: dask with a `scheduler`, the pool
    with several `workers`, else inline). `resume` continues the study already in `out`. `progress`: True
    prints draws, rate and ETA to stderr; a callable gets (done, total).
    """
    inputs = list(inputs)
    check_names(inputs)
    backend = choose_backend(backend, workers, scheduler)
    sample = draw_sample(inputs, method, draws, seed, correlations)
    fp = fingerprint(model, inputs, correlations, method, draws, seed)
    if scheduler:  # an unreachable scheduler fails before any file is written
        client, _ = connect_dask(workers, scheduler)
        client.close()
    store, existing = open_store_for(out, resume, fp)
    try:
        if not existing:
            meta = {
                "fingerprint": fp,
                "model": model.describe(),
                "inputs": [i.to_dict() for i in inputs],
                "correlations": [{"first": c.first, "second": c.second, "rho": c.rho} for c in correlations],
                "method": method,
                "draws_asked": draws,
                "draws": sample.draws,
                "base_size": sample.base_size,
                "seed": seed,
                "version": __version__,
                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            store.start(meta, sample_frame(inputs, sample))
        finished = store.finished()
        todo = [d for d in range(sample.draws) if d not in finished]
        line = ProgressLine(sample.draws, len(finished)) if progress is True else None
        done = [len(finished)]

        def on_done(outcomes: list[DrawOutcome]) -> None:
            done[0] += store.append(outcomes)
            if line is not None:
                line.update(len(outcomes))
            elif callable(progress):
                progress(done[0], sample.draws)

        chunk = chunk_size(int(getattr(model, "draws_per_chunk", 1)), len(todo), workers)
        if todo:
            run_chunks(
                backend, model, inputs, chunks_of(todo, sample.values, chunk), on_done, workers, scheduler
            )
        if line is not None:
            line.close()
        counts = store.counts()
        if counts.get("ok", 0) == 0 and sample.draws > 0:
            errors = store.con.execute("SELECT error FROM draws WHERE status = 'failed' LIMIT 1").fetchall()
            raise InputError(f"every draw of the study failed; the first: {errors[0][0] if errors else '?'}")
        return StudyResult.from_store(store, inputs, sample, backend=backend)
    finally:
        store.close()


def scenario_study(
    scenario: str,
    overrides: Sequence[str] = (),
    inputs_files: Sequence[str | Path] = (),
    only: Sequence[str] = (),
    end_year: int | None = None,
    data: str | None = None,
    claims: bool = True,
) -> tuple[Any, Any]:
    """The model and the inputs (``StudyInputs``) of a study of a scenario (a built-in name or a file).

    The inputs are every ranged dataset number the scenario reads with its default or declared distribution,
    the declared choices (the ionic-clay composition) and correlations (``declarations.py``); `only` keeps
    those whose key starts with one of the prefixes; `inputs_files` add declarations on top.
    """
    from mine2magnet.analysis.uncertainty.declarations import load_declarations, scenario_inputs
    from mine2magnet.analysis.uncertainty.models import ScenarioModel

    model = ScenarioModel(scenario, tuple(overrides), end_year, data, claims=claims)
    base = model.scenario_for_base()
    settings = (base.data.get("settings") or {}).get("uncertainty")
    decl = load_declarations(inputs_files, settings)
    return model, scenario_inputs(base, model.dataset(), decl, only)


def run_scenario_study(
    scenario: str,
    *,
    draws: int = 100,
    method: str = "lhs",
    seed: int = 0,
    overrides: Sequence[str] = (),
    inputs_files: Sequence[str | Path] = (),
    only: Sequence[str] = (),
    end_year: int | None = None,
    claims: bool = True,
    **run: Any,
) -> StudyResult:
    """`mine2magnet uncertainty SCENARIO` from Python: the scenario's inputs, sampled and run (``run_study``
    keywords: workers, backend, scheduler, out, resume, progress)."""
    model, si = scenario_study(scenario, overrides, inputs_files, only, end_year, claims=claims)
    correlations = si.correlations if method in ("mc", "lhs") else []
    result = run_study(
        model, si.inputs, correlations=correlations, method=method, draws=draws, seed=seed, **run
    )
    result.meta["left_out"] = si.left_out
    result.meta["declarations"] = si.declarations
    if si.correlations and not correlations:
        result.meta["correlations_dropped"] = f"{method} indices assume independent inputs"
    return result
