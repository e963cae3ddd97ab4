"""Results store: a DuckDB file holding a catalogue of runs and their tidy tables, with Parquet, CSV and
Excel export.

>>> store = ResultsStore("out/results.duckdb")      # doctest: +SKIP
>>> run_id = store.save(result)                      # doctest: +SKIP
>>> store.runs(); store.table("kpis", run_id); store.export(run_id, "out/x", "csv")  # doctest: +SKIP

The file layout is documented in docs/store.md. The names that need pandas, numpy or pyarrow
(``ResultsStore``, ``to_json_safe``...) are imported on first use, so that the light commands
(``mine2magnet runs``) start without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mine2magnet.store.atomic import atomic_write, atomic_write_text
from mine2magnet.store.catalogue import catalogue_json, read_catalogue
from mine2magnet.store.code_version import code_version
from mine2magnet.store.lock import StoreBusyError, store_lock

if TYPE_CHECKING:
    from mine2magnet.store.json_safe import dumps_summary, to_json_safe, write_summary
    from mine2magnet.store.results_store import (
        EXPORT_FORMATS,
        RUN_COLUMNS,
        ResultsStore,
        RunResult,
        StoredRun,
        new_run_id,
        run_fingerprint,
    )

#: Public name -> the module defining it, imported on first use.
_LAZY = {
    "dumps_summary": "json_safe",
    "to_json_safe": "json_safe",
    "write_summary": "json_safe",
    "EXPORT_FORMATS": "results_store",
    "RUN_COLUMNS": "results_store",
    "ResultsStore": "results_store",
    "RunResult": "results_store",
    "StoredRun": "results_store",
    "new_run_id": "results_store",
    "run_fingerprint": "results_store",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"mine2magnet.store.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EXPORT_FORMATS",
    "RUN_COLUMNS",
    "ResultsStore",
    "RunResult",
    "StoreBusyError",
    "StoredRun",
    "atomic_write",
    "atomic_write_text",
    "catalogue_json",
    "code_version",
    "dumps_summary",
    "new_run_id",
    "read_catalogue",
    "run_fingerprint",
    "store_lock",
    "to_json_safe",
    "write_summary",
]
