"""Column types of the results store: how a pandas column is stored in DuckDB and how types widen.

Each tidy table of a run is stored in a DuckDB table of the same name with two key columns in front,
``run_id`` and ``_row`` (the row's position in the run's table). A column's SQL type is inferred from the
pandas data (booleans, integers, floats, timestamps, text); when a later run brings the same column with
another type, the stored column widens (BIGINT + DOUBLE -> DOUBLE, anything else -> VARCHAR) and each run
remembers its own original types, so reading a run back restores them.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from mine2magnet.errors import InputError

BOOLEAN, BIGINT, DOUBLE, TIMESTAMP, VARCHAR = "BOOLEAN", "BIGINT", "DOUBLE", "TIMESTAMP", "VARCHAR"
SQL_TYPES = (BOOLEAN, BIGINT, DOUBLE, TIMESTAMP, VARCHAR)

#: Tables of the store itself; result tables may not use these names.
CATALOGUE_TABLES = ("runs", "run_tables", "store_meta")
#: Key columns the store adds in front of every result table.
KEY_COLUMNS = ("run_id", "_row")

_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def quote(identifier: str) -> str:
    """``identifier`` as a quoted SQL identifier (safe for any column name)."""
    return '"' + identifier.replace('"', '""') + '"'


def check_table_name(name: str) -> str:
    """Refuse table names DuckDB users could not type or that collide with the catalogue."""
    if not isinstance(name, str) or not _TABLE_NAME.match(name):
        raise InputError(
            f"table name {name!r} must be lower-case letters, digits and '_' starting with a letter",
            field="tables",
        )
    if name in CATALOGUE_TABLES:
        raise InputError(f"table name {name!r} is reserved by the results store", field="tables")
    return name


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def sql_type_of(column: pd.Series) -> str:
    """The SQL type that holds ``column`` without loss."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_integer_dtype(dtype):
        return BIGINT
    if pd.api.types.is_float_dtype(dtype):
        return DOUBLE
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return TIMESTAMP
    values = [v for v in column.tolist() if not _is_missing(v)]
    if not values:
        return VARCHAR
    if all(isinstance(v, bool | np.bool_) for v in values):
        return BOOLEAN
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) for v in values):
        return BIGINT
    if all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values):
        return DOUBLE
    return VARCHAR


def as_sql_column(column: pd.Series, sql_type: str) -> pd.Series:
    """``column`` converted to a pandas representation DuckDB reads as ``sql_type`` (missing -> NULL)."""
    if sql_type == VARCHAR:
        return pd.Series(
            [None if _is_missing(v) else str(v) for v in column.tolist()], index=column.index, dtype=object
        )
    if sql_type == BOOLEAN:
        return column.astype("boolean")
    if sql_type == BIGINT:
        return column.astype("Int64")
    if sql_type == DOUBLE:
        return pd.to_numeric(column, errors="raise").astype("float64")
    return pd.to_datetime(column)


def widen(stored: str, incoming: str) -> str:
    """The narrowest type that holds values of both types."""
    if stored == incoming:
        return stored
    if {stored, incoming} == {BIGINT, DOUBLE}:
        return DOUBLE
    return VARCHAR


def normalise_sql_type(duckdb_type: str) -> str:
    """Map a type name as DuckDB reports it (``INTEGER``, ``TIMESTAMP WITH TIME ZONE``...) to one of ours."""
    t = duckdb_type.upper()
    if t in SQL_TYPES:
        return t
    if t == "BOOL":
        return BOOLEAN
    if t in {"TINYINT", "SMALLINT", "INTEGER", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}:
        return BIGINT
    if t in {"FLOAT", "REAL"} or t.startswith("DECIMAL"):
        return DOUBLE
    if t.startswith("TIMESTAMP") or t == "DATE":
        return TIMESTAMP
    return VARCHAR
