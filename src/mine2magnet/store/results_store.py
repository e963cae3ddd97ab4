"""The results store: one DuckDB file with a catalogue of runs and their tidy tables, exportable to Parquet.

Layout (see docs/store.md):

- ``runs``: one row per run — run_id, scenario, overrides (JSON list), code_version, seed, status
  (``complete`` | ``failed``), started_utc, finished_utc, years (JSON list), mass_balance_error,
  summary (JSON), error (message of a failed run), meta (JSON: the result's ``meta``, e.g. its inputs).
- ``run_tables``: which tables each run wrote, with their columns and original types (JSON) and row counts.
- one table per tidy result table (``flows``, ``stocks``, ``kpis``, ``facilities``, ``assumptions``, ...),
  keyed by ``run_id`` and ``_row``.

Safety: a run is written inside one transaction whose last statement marks it ``complete``; any failure rolls
the whole run back (earlier runs are untouched) and records a ``failed`` catalogue row instead. Every access
holds an inter-process file lock (:mod:`mine2magnet.store.lock`), so two runs saving at once are written one
after the other instead of corrupting the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from mine2magnet.errors import InputError, Mine2MagnetError
from mine2magnet.store.atomic import atomic_write, atomic_write_text
from mine2magnet.store.catalogue import CATALOGUE_COLUMNS
from mine2magnet.store.code_version import code_version
from mine2magnet.store.json_safe import dumps_summary, to_json_safe
from mine2magnet.store.lock import store_lock
from mine2magnet.store.schema import (
    KEY_COLUMNS,
    as_sql_column,
    check_table_name,
    normalise_sql_type,
    quote,
    sql_type_of,
    widen,
)

SCHEMA_VERSION = "1"

#: The catalogue's columns (one list: ``store.catalogue`` reads them without pandas).
RUN_COLUMNS = CATALOGUE_COLUMNS

_CATALOGUE_DDL = (
    "CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY,
        scenario VARCHAR NOT NULL,
        overrides VARCHAR NOT NULL,
        seed BIGINT,
        status VARCHAR NOT NULL,
        started_utc TIMESTAMP,
        finished_utc TIMESTAMP,
        code_version VARCHAR NOT NULL,
        years VARCHAR,
        mass_balance_error DOUBLE,
        summary VARCHAR,
        error VARCHAR,
        meta VARCHAR
    )""",
    "ALTER TABLE runs ADD COLUMN IF NOT EXISTS meta VARCHAR",
    "ALTER TABLE runs ADD COLUMN IF NOT EXISTS fingerprint VARCHAR",
    """CREATE TABLE IF NOT EXISTS run_tables (
        run_id VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        columns VARCHAR NOT NULL,
        n_rows BIGINT NOT NULL,
        PRIMARY KEY (run_id, table_name)
    )""",
)


class RunResult(Protocol):
    """What the store needs from a run result (``mine2magnet.chain.ChainResult`` has it)."""

    scenario_name: str
    overrides: Sequence[str]
    years: Sequence[int]
    tables: Mapping[str, pd.DataFrame]

    def summary(self) -> dict:
        """The summary.json content of the run."""
        ...


@dataclass(frozen=True)
class StoredRun:
    """A run read back from the store; offers the parts of a ChainResult the report uses."""

    run_id: str
    scenario_name: str
    overrides: list[str]
    years: list[int]
    seed: int | None
    status: str
    code_version: str
    started_utc: dt.datetime | None
    finished_utc: dt.datetime | None
    mass_balance_error: float | None
    tables: dict[str, pd.DataFrame] = field(repr=False)
    summary_data: dict = field(repr=False)
    meta: dict = field(default_factory=dict, repr=False)

    def summary(self) -> dict:
        """The run's summary (the content of its summary.json)."""
        return self.summary_data

    @property
    def label(self) -> str:
        """``scenario+override+...``: how the CLI names this run."""
        return "+".join([self.scenario_name, *self.overrides])


def utc_now() -> dt.datetime:
    """The current UTC time as a naive datetime (the store's convention), to the microsecond."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_run_id(now: dt.datetime | None = None) -> str:
    """A unique, sortable run id such as ``20261122T051502-3f9c2a1b``."""
    now = now or utc_now()
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


class ResultsStore:
    """A DuckDB results store at ``path`` (created on first save), safe for several processes.

    ``lock_timeout_s`` bounds how long an operation waits for another process holding the store.
    """

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout_s: float = 120.0) -> None:
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    # -- connections ---------------------------------------------------------------------------------------
    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A connection under the store lock; ``None`` when reading a store that does not exist yet."""
        if not write and not self.path.exists():  # nothing to read: create no folder, take no lock
            yield None
            return
        with store_lock(self.path, exclusive=write, timeout_s=self.lock_timeout_s):
            if not write and not self.path.exists():
                yield None
                return
            try:
                con = duckdb.connect(str(self.path), read_only=not write)
            except duckdb.Error as exc:
                raise Mine2MagnetError(f"{self.path}: cannot open the results store: {exc}") from exc
            try:
                if write:
                    for ddl in _CATALOGUE_DDL:
                        con.execute(ddl)
                    con.execute(
                        "INSERT OR IGNORE INTO store_meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
                    )
                elif not _has_table(con, "runs"):
                    yield None
                    return
                yield con
            finally:
                con.close()

    # -- writing -------------------------------------------------------------------------------------------
    def save(
        self,
        result: RunResult,
        *,
        seed: int | None = None,
        started_utc: dt.datetime | None = None,
        run_id: str | None = None,
    ) -> str:
        """Store ``result`` as one new complete run and return its run id.

        ``seed`` defaults to ``result.seed`` when the result has one; ``started_utc`` (naive UTC) to now. The
        run is written in one transaction: if anything fails, nothing of it remains except a ``failed``
        catalogue row, and earlier runs are untouched. Earlier runs of the same inputs are kept (see
        :meth:`save_replacing`).
        """
        options = {"seed": seed, "started_utc": started_utc, "run_id": run_id}
        return self.save_replacing(result, replace=False, **options)[0]

    def save_replacing(
        self,
        result: RunResult,
        *,
        seed: int | None = None,
        started_utc: dt.datetime | None = None,
        run_id: str | None = None,
        replace: bool = True,
    ) -> tuple[str, list[str]]:
        """Store ``result`` like :meth:`save`; with ``replace``, drop the earlier complete runs of the same
        inputs in the same transaction. Returns ``(run id, ids of the runs replaced)``.

        Runs have the same inputs when their :func:`run_fingerprint` is equal: same scenario and overrides,
        same merged scenario data (``result.meta["inputs"]``, or the results themselves when a result does
        not carry its inputs), same seed and same code version. A repeated ``make run`` thus keeps one run
        per scenario instead of piling up copies; a run after a code or data change is kept beside the old.
        """
        started = started_utc or utc_now()
        run_id = run_id or new_run_id(started)
        if seed is None:
            seed = getattr(result, "seed", None)
        scenario = str(result.scenario_name)
        overrides = [str(o) for o in result.overrides]
        # Everything that can fail on the caller's data is prepared before the store is locked.
        summary_text = dumps_summary(result.summary(), indent=None)
        meta_text = dumps_summary(dict(getattr(result, "meta", None) or {}), indent=None)
        years = [int(y) for y in result.years]
        mb = getattr(result, "mass_balance_error", None)
        mass_balance_error = float(mb) if mb is not None else None
        tables = _prepare_tables(result.tables)
        version = code_version()
        fingerprint = run_fingerprint(result, seed=seed, version=version)
        replaced: list[str] = []

        with self._connect(write=True) as con:
            assert con is not None
            if con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone():
                raise InputError(f"run id {run_id!r} already exists in {self.path}", field="run_id")
            con.begin()
            try:
                if replace:
                    replaced = _delete_runs_with(con, fingerprint)
                con.execute(
                    "INSERT INTO runs (run_id, scenario, overrides, seed, status, started_utc, code_version, "
                    "years, mass_balance_error, summary, meta, fingerprint) "
                    "VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                    [
                        run_id,
                        scenario,
                        json.dumps(overrides),
                        seed,
                        started,
                        version,
                        json.dumps(years),
                        mass_balance_error,
                        summary_text,
                        meta_text,
                        fingerprint,
                    ],
                )
                schema = _schema(con)
                for position, (name, frame, types) in enumerate(tables):
                    _write_table(con, run_id, position, name, frame, types, schema.setdefault(name, {}))
                con.execute(
                    "UPDATE runs SET status = 'complete', finished_utc = ? WHERE run_id = ?",
                    [utc_now(), run_id],
                )
                con.commit()
            except BaseException as exc:
                con.rollback()
                _record_failure(con, run_id, scenario, overrides, seed, started, version, exc)
                raise
        return run_id, replaced

    def record_failed_run(
        self,
        scenario: str,
        overrides: Sequence[str],
        error: BaseException | str,
        *,
        seed: int | None = None,
        started_utc: dt.datetime | None = None,
    ) -> str:
        """Add a ``failed`` catalogue row for a run that broke before it was saved; returns its run id."""
        started = started_utc or utc_now()
        run_id = new_run_id(started)
        with self._connect(write=True) as con:
            assert con is not None
            _record_failure(con, run_id, scenario, list(overrides), seed, started, code_version(), error)
        return run_id

    # -- reading -------------------------------------------------------------------------------------------
    def runs(self, *, status: str | None = None) -> pd.DataFrame:
        """The catalogue, oldest first: one row per run with the columns of ``RUN_COLUMNS`` plus ``label``.

        ``overrides`` and ``years`` are lists; ``status`` filters (``"complete"`` or ``"failed"``).
        """
        columns = ", ".join(RUN_COLUMNS)
        with self._connect(write=False) as con:
            if con is None:
                frame = pd.DataFrame({c: pd.Series(dtype=object) for c in RUN_COLUMNS})
            else:
                where, params = ("WHERE status = ?", [status]) if status else ("", [])
                frame = con.execute(
                    f"SELECT {columns} FROM runs {where} ORDER BY started_utc, run_id", params
                ).fetchdf()
        frame["overrides"] = [json.loads(v) for v in frame["overrides"]]
        frame["years"] = [json.loads(v) if isinstance(v, str) else [] for v in frame["years"]]
        frame["label"] = [
            "+".join([s, *o]) for s, o in zip(frame["scenario"], frame["overrides"], strict=True)
        ]
        return frame

    def has_run(self, run_id: str) -> bool:
        """Whether a complete run ``run_id`` is in the store."""
        with self._connect(write=False) as con:
            if con is None:
                return False
            row = con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return bool(row) and row[0] == "complete"

    def table_names(self, run_id: str) -> list[str]:
        """The tables run ``run_id`` wrote, in the order it wrote them."""
        with self._connect(write=False) as con:
            return [name for name, _ in _run_tables(con, self.path, run_id)]

    def table(self, name: str, run_id: str) -> pd.DataFrame:
        """Table ``name`` of run ``run_id`` with the columns, order and types it was saved with."""
        with self._connect(write=False) as con:
            layout = dict(_run_tables(con, self.path, run_id))
            if name not in layout:
                raise InputError(
                    f"run {run_id} has no table {name!r}; it has: {', '.join(layout) or 'none'}",
                    file=str(self.path),
                    field="table",
                )
            return _read_table(con, run_id, name, layout[name])

    def load_summary(self, run_id: str) -> dict:
        """The summary (summary.json content) of run ``run_id``."""
        with self._connect(write=False) as con:
            row = _run_row(con, self.path, run_id, "summary")
        return json.loads(row[0])

    def get(self, run_id: str) -> StoredRun:
        """Everything stored for run ``run_id``: catalogue entry, summary and all tables."""
        with self._connect(write=False) as con:
            row = _run_row(
                con,
                self.path,
                run_id,
                "scenario, overrides, years, seed, status, code_version, started_utc, finished_utc, "
                "mass_balance_error, summary, " + _meta_column(con),
            )
            tables = {
                name: _read_table(con, run_id, name, layout)
                for name, layout in _run_tables(con, self.path, run_id)
            }
        scenario, overrides, years, seed, status, version, started, finished, mb, summary, meta = row
        return StoredRun(
            run_id=run_id,
            scenario_name=scenario,
            overrides=json.loads(overrides),
            years=json.loads(years) if years else [],
            seed=seed,
            status=status,
            code_version=version,
            started_utc=started,
            finished_utc=finished,
            mass_balance_error=mb,
            tables=tables,
            summary_data=json.loads(summary),
            meta=json.loads(meta) if meta else {},
        )

    def export_parquet(self, run_id: str, directory: str | os.PathLike[str]) -> dict[str, Path]:
        """:meth:`export` to Parquet (one file per table, plus run.json)."""
        return self.export(run_id, directory, "parquet")

    def export(self, run_id: str, directory: str | os.PathLike[str], fmt: str = "parquet") -> dict[str, Path]:
        """Write run ``run_id`` into ``directory``: its catalogue entry and summary to ``run.json`` and its
        tables as ``<table>.parquet`` or ``<table>.csv`` files, or as the sheets of one ``<run id>.xlsx``
        workbook. Returns ``{table name: file}`` (``"run"`` for run.json).

        The run is looked up before anything is written: an unknown or incomplete run creates no folder.
        Each file is written under a unique temporary name and renamed into place (atomic). CSV files are
        UTF-8 with a header row and ``.`` decimals, missing values empty; Excel sheets are named after the
        tables (cut to Excel's 31 characters) and a table longer than a sheet (1,048,576 rows) is refused.
        """
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
        out = Path(directory)
        written: dict[str, Path] = {}
        sheets: dict[str, str] = {}
        with self._connect(write=False) as con:
            row = _run_row(con, self.path, run_id, ", ".join(RUN_COLUMNS) + ", summary, " + _meta_column(con))
            layouts = _run_tables(con, self.path, run_id)
            assert con is not None
            out.mkdir(parents=True, exist_ok=True)
            if fmt == "xlsx":
                frames = {name: _read_table(con, run_id, name, layout) for name, layout in layouts}
                target = out / f"{run_id}.xlsx"
                atomic_write(target, lambda tmp: _write_workbook(frames, tmp, self.path))
                written.update(dict.fromkeys(frames, target))
                sheets = sheet_names(list(frames))
            else:
                for name, layout in layouts:
                    arrow = con.sql(_select_sql(name, layout), params=[run_id]).to_arrow_table()
                    target = out / f"{name}.{fmt}"
                    if fmt == "parquet":
                        atomic_write(target, lambda tmp, a=arrow: pq.write_table(a, tmp))
                    else:
                        frame = arrow.to_pandas()
                        atomic_write(target, lambda tmp, f=frame: f.to_csv(tmp, index=False))
                    written[name] = target
        entry = dict(zip([*RUN_COLUMNS, "summary", "meta"], row, strict=True))
        entry["meta"] = json.loads(entry["meta"]) if entry["meta"] else {}
        entry["overrides"] = json.loads(entry["overrides"])
        entry["years"] = json.loads(entry["years"]) if entry["years"] else []
        entry["summary"] = json.loads(entry["summary"])
        entry["tables"] = {name: path.name for name, path in written.items()}
        if fmt == "xlsx":
            entry["sheets"] = sheets
        run_json = atomic_write_text(out / "run.json", json.dumps(to_json_safe(entry), indent=2) + "\n")
        written["run"] = run_json
        return written


#: Formats of :meth:`ResultsStore.export`.
EXPORT_FORMATS = ("parquet", "csv", "xlsx")
#: Rows of an Excel sheet, header included.
EXCEL_MAX_ROWS = 1_048_576


def run_fingerprint(result: RunResult, *, seed: int | None, version: str) -> str:
    """A hash of what determines a run's results: scenario, overrides, inputs, seed and code version.

    The inputs are ``result.meta["inputs"]`` (the merged scenario data the run was built from); a result
    without them is identified by its summary instead (equal results, equal fingerprint).
    """
    meta = getattr(result, "meta", None) or {}
    inputs = meta.get("inputs") if isinstance(meta, Mapping) else None
    basis = {
        "scenario": str(result.scenario_name),
        "overrides": [str(o) for o in result.overrides],
        "inputs": inputs if inputs is not None else {"summary": result.summary()},
        "seed": seed,
        "code_version": version,
    }
    text = json.dumps(to_json_safe(basis), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _write_workbook(frames: Mapping[str, pd.DataFrame], path: Path, store: Path) -> None:
    for name, frame in frames.items():
        if len(frame) + 1 > EXCEL_MAX_ROWS:
            raise InputError(
                f"table {name!r} has {len(frame):,} rows, more than an Excel sheet holds "
                f"({EXCEL_MAX_ROWS - 1:,}); export it to csv or parquet instead",
                file=str(store),
                field="--format",
            )
    sheets = sheet_names(list(frames))
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=sheets[name], index=False)


def sheet_names(tables: Sequence[str], limit: int = 31) -> dict[str, str]:
    """A distinct Excel sheet name for each table: the name cut to ``limit`` characters (Excel's maximum),
    with ``~2``, ``~3``... in place of its last characters when two names share their first ``limit``."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for table in tables:
        sheet, n = table[:limit], 1
        while sheet.lower() in used:  # Excel compares sheet names without case
            n += 1
            sheet = f"{table[: limit - len(str(n)) - 1]}~{n}"
        used.add(sheet.lower())
        names[table] = sheet
    return names


# -- helpers -------------------------------------------------------------------------------------------
def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?", [name]
        ).fetchone()
    )


def _prepare_tables(tables: Mapping[str, pd.DataFrame]) -> list[tuple[str, pd.DataFrame, list[str]]]:
    """Validate names and convert each table to SQL-ready columns: ``[(name, frame, sql types)]``."""
    prepared = []
    for name, frame in tables.items():
        check_table_name(name)
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"table {name!r} is a {type(frame).__name__}, expected a pandas DataFrame")
        columns = [str(c) for c in frame.columns]
        if len(set(columns)) != len(columns):
            raise InputError(f"table {name!r} has duplicate column names", field=f"tables.{name}")
        clash = sorted(set(columns) & set(KEY_COLUMNS))
        if clash:
            raise InputError(
                f"table {name!r} has column(s) {clash} reserved by the store", field=f"tables.{name}"
            )
        frame = frame.reset_index(drop=True)
        frame.columns = columns
        types = [sql_type_of(frame[c]) for c in columns]
        converted = pd.DataFrame(
            {c: as_sql_column(frame[c], t) for c, t in zip(columns, types, strict=True)}, index=frame.index
        )
        prepared.append((name, converted, types))
    return prepared


def _schema(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """``{table: {column: type}}`` of every table in the store, in column order."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' "
        "ORDER BY table_name, column_index"
    ).fetchall()
    schema: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        schema.setdefault(table, {})[column] = normalise_sql_type(kind)
    return schema


def _stored_types(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    if not _has_table(con, name):
        return {}
    rows = con.execute(f"PRAGMA table_info({quote(name)})").fetchall()
    return {row[1]: normalise_sql_type(row[2]) for row in rows}


def _write_table(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    position: int,
    name: str,
    frame: pd.DataFrame,
    types: list[str],
    stored: dict[str, str] | None = None,
) -> None:
    """Append ``frame`` to table ``name`` (creating or widening it) inside the open transaction.

    ``stored``: the table's current column types (``{}`` if it does not exist yet; ``None``: look them up);
    updated in place.
    """
    columns = list(frame.columns)
    if stored is None:
        stored = _stored_types(con, name)
    if not stored:
        body = "".join(f", {quote(c)} {t}" for c, t in zip(columns, types, strict=True))
        con.execute(f"CREATE TABLE {quote(name)} (run_id VARCHAR NOT NULL, _row BIGINT NOT NULL{body})")
        stored.update({"run_id": "VARCHAR", "_row": "BIGINT", **dict(zip(columns, types, strict=True))})
    for column, kind in zip(columns, types, strict=True):
        if column not in stored:
            con.execute(f"ALTER TABLE {quote(name)} ADD COLUMN {quote(column)} {kind}")
            stored[column] = kind
        elif (wider := widen(stored[column], kind)) != stored[column]:
            con.execute(f"ALTER TABLE {quote(name)} ALTER COLUMN {quote(column)} TYPE {wider}")
            stored[column] = wider
    if len(frame):
        view = f"_incoming_{uuid.uuid4().hex}"
        con.register(view, frame)
        try:
            select = ", ".join(f"CAST({quote(c)} AS {stored[c]}) AS {quote(c)}" for c in columns)
            con.execute(
                f"INSERT INTO {quote(name)} BY NAME "
                f"SELECT ? AS run_id, CAST(row_number() OVER () - 1 AS BIGINT) AS _row, {select} "
                f"FROM {quote(view)}",
                [run_id],
            )
        finally:
            con.unregister(view)
    con.execute(
        "INSERT INTO run_tables VALUES (?, ?, ?, ?, ?)",
        [run_id, name, position, json.dumps([list(p) for p in zip(columns, types, strict=True)]), len(frame)],
    )


def _delete_runs_with(con: duckdb.DuckDBPyConnection, fingerprint: str) -> list[str]:
    """Delete, inside the open transaction, the complete runs with ``fingerprint``; returns their ids."""
    ids = [
        r[0]
        for r in con.execute(
            "SELECT run_id FROM runs WHERE fingerprint = ? AND status = 'complete' ORDER BY started_utc",
            [fingerprint],
        ).fetchall()
    ]
    for run_id in ids:
        for (name,) in con.execute("SELECT table_name FROM run_tables WHERE run_id = ?", [run_id]).fetchall():
            con.execute(f"DELETE FROM {quote(name)} WHERE run_id = ?", [run_id])
        con.execute("DELETE FROM run_tables WHERE run_id = ?", [run_id])
        con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
    return ids


def _record_failure(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    scenario: str,
    overrides: list[str],
    seed: int | None,
    started: dt.datetime,
    version: str,
    error: BaseException | str,
) -> None:
    """Best effort: note a failed run in the catalogue (never masks the original error)."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    with suppress(duckdb.Error):
        con.execute(
            "INSERT INTO runs (run_id, scenario, overrides, seed, status, started_utc, finished_utc, "
            "code_version, summary, error) VALUES (?, ?, ?, ?, 'failed', ?, ?, ?, '{}', ?)",
            [run_id, scenario, json.dumps(overrides), seed, started, utc_now(), version, message[:2000]],
        )


def _meta_column(con: duckdb.DuckDBPyConnection | None) -> str:
    """``meta``, or ``NULL`` for a store written before runs had a meta column (read-only: not migrated)."""
    if con is None:
        return "NULL"
    found = con.execute(
        "SELECT 1 FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'runs' "
        "AND column_name = 'meta'"
    ).fetchone()
    return "meta" if found else "NULL"


def _run_row(con: duckdb.DuckDBPyConnection | None, path: Path, run_id: str, columns: str) -> tuple:
    row = None
    if con is not None:
        row = con.execute(f"SELECT {columns}, status FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise InputError(f"no run {run_id!r} in this store", file=str(path), field="run_id")
    if row[-1] != "complete":
        raise InputError(f"run {run_id!r} is {row[-1]}, not complete", file=str(path), field="run_id")
    return row[:-1]


def _run_tables(
    con: duckdb.DuckDBPyConnection | None, path: Path, run_id: str
) -> list[tuple[str, list[tuple[str, str]]]]:
    _run_row(con, path, run_id, "run_id")
    assert con is not None
    rows = con.execute(
        "SELECT table_name, columns FROM run_tables WHERE run_id = ? ORDER BY position", [run_id]
    ).fetchall()
    return [(name, [tuple(p) for p in json.loads(columns)]) for name, columns in rows]


def _select_sql(name: str, layout: list[tuple[str, str]]) -> str:
    if not layout:
        return f"SELECT NULL AS _empty FROM {quote(name)} WHERE false AND run_id = ?"
    select = ", ".join(f"CAST({quote(c)} AS {t}) AS {quote(c)}" for c, t in layout)
    return f"SELECT {select} FROM {quote(name)} WHERE run_id = ? ORDER BY _row"


def _read_table(
    con: duckdb.DuckDBPyConnection, run_id: str, name: str, layout: list[tuple[str, str]]
) -> pd.DataFrame:
    if not layout:
        return pd.DataFrame()
    return con.execute(_select_sql(name, layout), [run_id]).fetchdf()
