"""Turn a run summary into strict JSON: numpy scalars to numbers, non-finite floats to null, keys to text."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def to_json_safe(obj: Any) -> Any:
    """A copy of ``obj`` made only of dict/list/str/int/float/bool/None, valid as strict JSON.

    Mapping keys become strings (years ``2030`` -> ``"2030"``); NaN and ±inf become ``None``; numpy scalars
    and arrays, tuples, sets, dates and paths are converted to their plain equivalents.
    """
    if isinstance(obj, Mapping):
        return {str(k): to_json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset | np.ndarray):
        return [to_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        return to_json_safe(obj.item())
    if isinstance(obj, bool) or obj is None or isinstance(obj, str | int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "model_dump"):  # pydantic models
        return to_json_safe(obj.model_dump())
    return str(obj)


def dumps_summary(summary: Mapping[str, Any], *, indent: int | None = 2) -> str:
    """The strict-JSON text of a run summary (``summary.json``)."""
    return json.dumps(to_json_safe(summary), indent=indent, allow_nan=False, ensure_ascii=False)


def write_summary(summary: Mapping[str, Any], path: Path) -> Path:
    """Write ``summary`` as strict JSON to ``path`` atomically (unique temp + rename); returns ``path``."""
    from mine2magnet.store.atomic import atomic_write_text

    return atomic_write_text(path, dumps_summary(summary) + "\n")
