"""A study's results as they finish: a DuckDB file written in chunks, each draw recorded exactly once.

Tables::

    study    (key, value)                             the study (JSON), its fingerprint, seed, code version
    sample   (draw, input, unit, value, option)       every draw's inputs (unit number, value, chosen option)
    draws    (draw PRIMARY KEY, status, error, seconds, worker)   one row per finished draw (ok or failed)
    outputs  (draw, year, kpi, subject, value)        the draw's outputs, tidy

A chunk of finished draws is written in one transaction (their outputs and their ``draws`` rows together), so
a study killed at any moment (Ctrl-C, kill -9) holds whole draws only; the primary key refuses a draw twice.
A resumed study reads the finished draws and runs the others.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from mine2magnet.analysis.uncertainty.outputs import Row
from mine2magnet.errors import InputError

#: File name of the store in a study's output folder.
STORE_FILE = "uncertainty.duckdb"

#: DuckDB's memory limit for a study's store file (its default is 80 % of the machine's memory). The store
#: only appends draws and reads small tables; the blocks it has written stay in its buffer pool up to this
#: limit, so the study process grew with the file (+96 MB from 1,000 to 10,000 draws of malaysia-base at
#: 256 MB, 111 MB of file) until the limit: at 32 MB it stays flat, appends as fast. Analyses open a
#: connection of their own, without this limit.
STORE_MEMORY_LIMIT = "32MB"
#: The same for a store in memory, whose blocks cannot be evicted to a file.
IN_MEMORY_STORE_LIMIT = "256MB"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS study (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS sample (draw INTEGER, input VARCHAR, unit DOUBLE, value DOUBLE, option VARCHAR);
CREATE TABLE IF NOT EXISTS draws (
    draw INTEGER PRIMARY KEY, status VARCHAR, error VARCHAR, seconds DOUBLE, worker VARCHAR
);
CREATE TABLE IF NOT EXISTS outputs (draw INTEGER, year INTEGER, kpi VARCHAR, subject VARCHAR, value DOUBLE);
"""


@dataclass(frozen=True)
class DrawOutcome:
    """A finished draw: its rows, or the error that stopped it."""

    draw: int
    rows: Sequence[Row] = ()
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""


class DrawStore:
    """The DuckDB file of one study (``path`` None: in memory)."""

    def __init__(self, path: str | Path | None = None, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        try:
            self.con = duckdb.connect(str(path) if path is not None else ":memory:", read_only=read_only)
        except duckdb.Error as exc:
            detail = " ".join(str(exc).split())
            raise InputError(f"cannot open the study store {path} ({detail})") from None
        if not read_only:
            # the file grows with the draws; its buffer pool in this process does not (DuckDB spills past it)
            limit = STORE_MEMORY_LIMIT if path is not None else IN_MEMORY_STORE_LIMIT
            self.con.execute(f"SET memory_limit = '{limit}'")
            self.con.execute(_SCHEMA)

    # study --------------------------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        """The study record: key -> parsed JSON value."""
        return {k: json.loads(v) for k, v in self.con.execute("SELECT key, value FROM study").fetchall()}

    def start(self, meta: dict[str, Any], sample: pd.DataFrame) -> None:
        """Record a new study (its description and sample), in one transaction."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.executemany(
                "INSERT INTO study VALUES (?, ?)", [(k, json.dumps(v, default=str)) for k, v in meta.items()]
            )
            self.con.register("new_sample", sample)
            self.con.execute("INSERT INTO sample SELECT draw, input, unit, value, option FROM new_sample")
            self.con.unregister("new_sample")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    # draws --------------------------------------------------------------------------------------------
    def finished(self) -> set[int]:
        """Draws already recorded (ok or failed)."""
        return {d for (d,) in self.con.execute("SELECT draw FROM draws").fetchall()}

    def counts(self) -> dict[str, int]:
        """Finished draws by status."""
        return dict(self.con.execute("SELECT status, count(*) FROM draws GROUP BY status").fetchall())

    def append(self, outcomes: Iterable[DrawOutcome]) -> int:
        """Record finished draws and their outputs in one transaction; returns how many."""
        outcomes = list(outcomes)
        if not outcomes:
            return 0
        draws = pd.DataFrame(
            {
                "draw": np.array([o.draw for o in outcomes], dtype=np.int32),
                "status": ["ok" if o.error is None else "failed" for o in outcomes],
                "error": [o.error for o in outcomes],
                "seconds": [float(o.seconds) for o in outcomes],
                "worker": [o.worker for o in outcomes],
            }
        )
        n = sum(len(o.rows) for o in outcomes)
        draw_col = np.empty(n, dtype=np.int32)
        at = 0
        for o in outcomes:
            draw_col[at : at + len(o.rows)] = o.draw
            at += len(o.rows)
        rows = [r for o in outcomes for r in o.rows]
        outputs = pd.DataFrame(
            {
                "draw": draw_col,
                "year": np.array([r[0] for r in rows], dtype=np.int32),
                "kpi": [r[1] for r in rows],
                "subject": [r[2] for r in rows],
                "value": np.array([r[3] for r in rows], dtype=float),
            }
        )
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.register("new_draws", draws)
            self.con.register("new_outputs", outputs)
            self.con.execute("INSERT INTO draws SELECT * FROM new_draws")
            self.con.execute("INSERT INTO outputs SELECT * FROM new_outputs")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        finally:
            self.con.unregister("new_draws")
            self.con.unregister("new_outputs")
        return len(outcomes)

    def close(self) -> None:
        """Checkpoint and close the file."""
        try:
            if self.path is not None:
                self.con.execute("CHECKPOINT")
        finally:
            self.con.close()


def store_path(out: str | Path) -> Path:
    """The store file of a study written to folder `out`."""
    return Path(out) / STORE_FILE


def open_store_for(out: str | Path | None, resume: bool, fingerprint: str) -> tuple[DrawStore, bool]:
    """The store of a study in `out` (in memory if None) and whether it already holds this study.

    A folder holding another study, or this one without `resume`, is an error naming what to do.
    """
    if out is None:
        return DrawStore(None), False
    path = store_path(out)
    exists = path.exists()
    if exists and not resume:
        raise InputError(
            f"{path} already holds a study; continue it with --resume (resume=True) or choose another --out"
        )
    os.makedirs(path.parent, exist_ok=True)
    store = DrawStore(path)
    meta = store.meta()
    if not meta:
        return store, False
    if meta.get("fingerprint") != fingerprint:
        store.close()
        raise InputError(
            f"{path} holds a different study (scenario, inputs, method, draws or seed differ); "
            "resume it with the same options, or choose another --out"
        )
    return store, True
