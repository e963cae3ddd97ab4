"""Where the draws of a study run: in this process, a local process pool, or a Dask cluster.

Draws travel in chunks ``[(draw, row of the sample), ...]``; a worker evaluates each draw of its chunk from
its row alone (``evaluate_chunk``), so a draw's outputs do not depend on the backend, the worker or the order.
Finished chunks come back to the calling process, which writes them to the study's store as they arrive.
At most two chunks per worker are in flight, so memory stays flat however many draws a study has.

A Dask scheduler given by address must answer within :data:`SCHEDULER_TIMEOUT_S` seconds, else an
:class:`~mine2magnet.errors.InputError` names the address.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TextIO

import numpy as np

from mine2magnet.analysis.uncertainty.draw_store import DrawOutcome
from mine2magnet.analysis.uncertainty.inputs import Input, draw_inputs
from mine2magnet.errors import InputError

#: Backends by name.
BACKENDS: tuple[str, ...] = ("inline", "pool", "dask")

#: Seconds to wait for a Dask scheduler given by address.
SCHEDULER_TIMEOUT_S = 5.0

#: Chunks in flight per worker.
IN_FLIGHT_PER_WORKER = 2

Chunk = list[tuple[int, np.ndarray]]


def evaluate_chunk(model: Callable[[Any], Any], inputs: Sequence[Input], chunk: Chunk) -> list[DrawOutcome]:
    """Run `model` on each draw of `chunk`; a draw that raises is recorded as failed with its error."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    out: list[DrawOutcome] = []
    for draw, row in chunk:
        t0 = time.perf_counter()
        try:
            rows = model(draw_inputs(inputs, np.asarray(row, dtype=float)))
            out.append(DrawOutcome(int(draw), rows, None, time.perf_counter() - t0, worker))
        except Exception as exc:  # a draw's failure is data (recorded, counted), not the end of the study
            where = traceback.extract_tb(exc.__traceback__)[-1]
            error = f"{type(exc).__name__}: {' '.join(str(exc).split())} ({where.filename}:{where.lineno})"
            out.append(DrawOutcome(int(draw), (), error, time.perf_counter() - t0, worker))
    return out


def chunks_of(draws: Sequence[int], rows: np.ndarray, size: int) -> Iterator[Chunk]:
    """`draws` (with their rows of the sample) in chunks of `size`, in order."""
    size = max(1, int(size))
    for i in range(0, len(draws), size):
        part = draws[i : i + size]
        yield [(int(d), rows[int(d)]) for d in part]


def choose_backend(backend: str | None, workers: int, scheduler: str | None) -> str:
    """The backend: as asked, else Dask with a scheduler, the pool with several workers, else inline."""
    if workers < 1:
        raise InputError(f"workers: expected at least 1, got {workers}", field="workers")
    if backend is None:
        return "dask" if scheduler else "pool" if workers > 1 else "inline"
    if backend not in BACKENDS:
        raise InputError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}", field="backend")
    if scheduler and backend != "dask":
        raise InputError(f"a scheduler address is for the dask backend, not {backend!r}", field="scheduler")
    return backend


def run_chunks(
    backend: str,
    model: Callable[[Any], Any],
    inputs: Sequence[Input],
    chunks: Iterable[Chunk],
    on_done: Callable[[list[DrawOutcome]], None],
    workers: int = 1,
    scheduler: str | None = None,
) -> None:
    """Evaluate every chunk on `backend` and hand each finished chunk to `on_done` (in this process)."""
    if backend == "inline":
        for chunk in chunks:
            on_done(evaluate_chunk(model, inputs, chunk))
    elif backend == "pool":
        _run_pool(model, inputs, chunks, on_done, workers)
    elif backend == "dask":
        _run_dask(model, inputs, chunks, on_done, workers, scheduler)
    else:
        raise InputError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}", field="backend")


def _run_pool(
    model: Callable[[Any], Any],
    inputs: Sequence[Input],
    chunks: Iterable[Chunk],
    on_done: Callable[[list[DrawOutcome]], None],
    workers: int,
) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    pending: set[Future[list[DrawOutcome]]] = set()
    limit = IN_FLIGHT_PER_WORKER * workers
    # fork where the platform has it: workers start at once with what this process has loaded (the dataset,
    # flowsheet runs) and a script without a __main__ guard works; spawn elsewhere. Python 3.12+ warns when
    # a threaded process forks; the workers only run draws (no lock of this process is taken there).
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            for chunk in chunks:
                if len(pending) >= limit:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        on_done(f.result())
                pending.add(pool.submit(evaluate_chunk, model, inputs, chunk))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    on_done(f.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def connect_dask(workers: int, scheduler: str | None) -> tuple[Any, Any]:
    """A Dask client (and its LocalCluster, None for a scheduler given by address)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s", set_as_default=False), None
        except (OSError, TimeoutError) as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(
                f"cannot reach the Dask scheduler at {scheduler} within {SCHEDULER_TIMEOUT_S:g} s "
                f"({detail}); "
                "start it (dask scheduler) or drop --scheduler to use a local cluster",
                field="scheduler",
            ) from None
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    return Client(cluster, set_as_default=False), cluster


def _run_dask(
    model: Callable[[Any], Any],
    inputs: Sequence[Input],
    chunks: Iterable[Chunk],
    on_done: Callable[[list[DrawOutcome]], None],
    workers: int,
    scheduler: str | None,
) -> None:
    from distributed import wait

    client, cluster = connect_dask(workers, scheduler)
    try:
        slots = max(1, sum(client.nthreads().values()) if scheduler else workers)
        limit = IN_FLIGHT_PER_WORKER * slots
        [model_f, inputs_f] = client.scatter([model, list(inputs)], broadcast=True)
        pending: set[Any] = set()
        with client.as_current():
            for chunk in chunks:
                if len(pending) >= limit:
                    done, pending = wait(pending, return_when="FIRST_COMPLETED")
                    for f in done:
                        on_done(f.result())
                pending.add(client.submit(evaluate_chunk, model_f, inputs_f, chunk, pure=False))
            while pending:
                done, pending = wait(pending, return_when="FIRST_COMPLETED")
                for f in done:
                    on_done(f.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class ProgressLine:
    """Draws done, rate and time left, written to `stream` (stderr) at most every `every` seconds."""

    def __init__(self, total: int, done: int = 0, stream: TextIO | None = None, every: float = 1.0) -> None:
        self.total, self.done, self.start_done = total, done, done
        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self.t0 = time.monotonic()
        self.last = -1e9
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, n: int) -> None:
        """Count `n` more finished draws and print the line if it is time."""
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every or self.done >= self.total:
            self.last = now
            self.stream.write(("\r" if self.tty else "") + self.text() + ("" if self.tty else "\n"))
            self.stream.flush()

    def text(self) -> str:
        """``draws 120/1,000 (12 %) 3.1 draws/s ETA 4 min 43 s``."""
        elapsed = time.monotonic() - self.t0
        new = self.done - self.start_done
        rate = new / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = f"ETA {_duration(left / rate)}" if rate > 0 and left > 0 else "done" if left <= 0 else "ETA ?"
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return f"draws {self.done:,}/{self.total:,} ({pct:.0f} %) {rate:.2f} draws/s {eta}"

    def close(self) -> None:
        """End the line (on a terminal)."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {(s % 3600) // 60} min"
