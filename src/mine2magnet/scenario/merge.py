"""Combining a base scenario with named overrides (``--scenario a,b``): a deep merge that knows lists of named
items.

- mappings merge key by key (recursively);
- lists of facilities and policies merge item by item on ``name``; trade links on (source, target,
  commodity); an item with ``remove: true`` deletes the matching item; new items are appended;
- anything else (numbers, texts, plain lists, sourced values) is replaced.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from mine2magnet.errors import InputError
from mine2magnet.scenario.provenance import is_sourced


def _identity(item: Mapping[str, Any], section: str) -> tuple:
    if section == "trade_links":
        return (item.get("source"), item.get("target"), item.get("commodity"))
    return (item.get("name"),)


def _merge_list(base: list, over: list, section: str, file: str | None, where: str) -> list:
    out = [copy.deepcopy(x) for x in base]
    for i, item in enumerate(over):
        if not isinstance(item, Mapping):
            raise InputError(f"expected a mapping, got {item!r}", file=file, field=f"{where}[{i}]")
        ident = _identity(item, section)
        match = next(
            (j for j, x in enumerate(out) if isinstance(x, Mapping) and _identity(x, section) == ident), None
        )
        if item.get("remove"):
            if match is None:
                raise InputError(
                    f"cannot remove {ident!r}: no such item in the base", file=file, field=f"{where}[{i}]"
                )
            del out[match]
        elif match is None:
            out.append(copy.deepcopy(dict(item)))
        else:
            out[match] = merge(out[match], item, file=file, where=f"{where}[{i}]")
    return out


def merge(base: Any, over: Any, *, file: str | None = None, where: str = "", section: str = "") -> Any:
    """`over` merged onto `base` (neither is modified)."""
    if isinstance(base, Mapping) and isinstance(over, Mapping) and not (is_sourced(over) or is_sourced(base)):
        out = {k: copy.deepcopy(v) for k, v in base.items()}
        for k, v in over.items():
            sub = k if where in ("", "facilities", "policies") or k == "trade_links" else section
            if k in out:
                out[k] = merge(out[k], v, file=file, where=f"{where}.{k}" if where else str(k), section=sub)
            else:
                out[k] = copy.deepcopy(v)
        return out
    if (
        isinstance(base, list)
        and isinstance(over, list)
        and section
        and all(isinstance(x, Mapping) for x in base)
    ):
        return _merge_list(base, over, section, file, where)
    return copy.deepcopy(over)
