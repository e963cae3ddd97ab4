"""Results store: a DuckDB file holding a catalogue of runs and their tidy tables, with Parquet export.

>>> store = ResultsStore("out/results.duckdb")      # doctest: +SKIP
>>> run_id = store.save(result)                      # doctest: +SKIP
>>> store.runs(); store.table("kpis", run_id); store.export_parquet(run_id, "out/parquet")  # doctest: +SKIP

The file layout is documented in docs/store.md.
"""

from mine2magnet.store.atomic import atomic_write, atomic_write_text
from mine2magnet.store.code_version import code_version
from mine2magnet.store.json_safe import dumps_summary, to_json_safe, write_summary
from mine2magnet.store.lock import StoreBusyError, store_lock
from mine2magnet.store.results_store import (
    EXPORT_FORMATS,
    RUN_COLUMNS,
    ResultsStore,
    RunResult,
    StoredRun,
    new_run_id,
    run_fingerprint,
)

__all__ = [
    "EXPORT_FORMATS",
    "RUN_COLUMNS",
    "ResultsStore",
    "RunResult",
    "StoreBusyError",
    "StoredRun",
    "atomic_write",
    "atomic_write_text",
    "code_version",
    "dumps_summary",
    "new_run_id",
    "run_fingerprint",
    "store_lock",
    "to_json_safe",
    "write_summary",
]
