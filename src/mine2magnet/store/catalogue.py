"""The catalogue of a results store read with DuckDB alone (no pandas): what ``mine2magnet runs`` lists.

``ResultsStore.runs`` gives the same rows as a DataFrame; this module
spares the light commands the import of pandas and pyarrow (about half a second on a busy 2-core machine).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from mine2magnet.store.lock import store_lock

#: The catalogue's columns, in the order ``runs`` returns them (``label`` is added).
CATALOGUE_COLUMNS = (
    "run_id",
    "scenario",
    "overrides",
    "seed",
    "status",
    "started_utc",
    "finished_utc",
    "code_version",
    "years",
    "mass_balance_error",
    "error",
)


def read_catalogue(path: str | os.PathLike[str], *, lock_timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """The runs of the store at ``path``, oldest first, as plain dicts (``overrides`` and ``years`` as lists,
    times as naive UTC datetimes, ``label`` = ``scenario+override+...``). Empty for a missing store."""
    import duckdb

    store = Path(path)
    if not store.exists():
        return []
    with store_lock(store, exclusive=False, timeout_s=lock_timeout_s):
        con = duckdb.connect(str(store), read_only=True)
        try:
            found = con.execute(
                "SELECT 1 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'runs'"
            ).fetchone()
            if not found:
                return []
            rows = con.execute(
                f"SELECT {', '.join(CATALOGUE_COLUMNS)} FROM runs ORDER BY started_utc, run_id"
            ).fetchall()
        finally:
            con.close()
    records = []
    for row in rows:
        record = dict(zip(CATALOGUE_COLUMNS, row, strict=True))
        record["overrides"] = json.loads(record["overrides"])
        record["years"] = json.loads(record["years"]) if record["years"] else []
        record["label"] = "+".join([record["scenario"], *record["overrides"]])
        records.append(record)
    return records


def catalogue_json(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` as strict-JSON-ready dicts: times in ISO format, NaN as None."""
    out = []
    for record in records:
        item = {}
        for key, value in record.items():
            if isinstance(value, dt.datetime):
                value = value.isoformat()
            elif isinstance(value, float) and value != value:
                value = None
            item[key] = value
        out.append(item)
    return out


__all__ = ["CATALOGUE_COLUMNS", "catalogue_json", "read_catalogue"]
