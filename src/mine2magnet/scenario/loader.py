"""Finding, reading and combining scenario files: built-ins under ``scenarios/``, base + named overrides."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from mine2magnet.chain import ChainModel
from mine2magnet.data import Dataset, load_dataset
from mine2magnet.data.reader import read_mapping
from mine2magnet.errors import InputError
from mine2magnet.scenario.build import build_model
from mine2magnet.scenario.economics import Economics
from mine2magnet.scenario.merge import merge
from mine2magnet.scenario.schema import OverrideDef, OverridesFile, ScenarioFile, check_values, validate

OVERRIDES_FILE = "overrides.yaml"


@dataclass
class Scenario:
    """A loaded scenario: its merged data, the chain model built from it and its assumptions table."""

    name: str
    description: str
    file: str
    overrides: list[str]
    data: dict[str, Any]
    model: ChainModel
    assumptions: pd.DataFrame = field(default_factory=pd.DataFrame)
    economics: Economics | None = None  # the accounts' inputs and multipliers (scenario ``economics:``)


def _builtin_dir() -> Path:
    return Path(str(resources.files("mine2magnet.scenario").joinpath("scenarios")))


def _read(path: Path) -> dict[str, Any]:
    """The parsed file (a fresh copy; parsed once per file version)."""
    label = _label(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise InputError(f"cannot read scenario file ({exc.strerror})", file=label) from None
    return copy.deepcopy(_parse(str(path), stamp, label))


@functools.lru_cache(maxsize=64)
def _parse(path: str, stamp: int, label: str) -> dict[str, Any]:
    del stamp  # part of the cache key only
    data = read_mapping(path, label=label, what="a scenario mapping (name, description, ...)")
    return _year_keys(data) if path.lower().endswith(".json") else data


_YEAR_KEY = re.compile(r"^[12][0-9]{3}$")


def _year_key(key: Any) -> Any:
    return int(key) if isinstance(key, str) and _YEAR_KEY.match(key) else key


def _year_keys(data: Any) -> Any:
    """JSON keys are text: a key spelling a year ("2024") becomes the whole number YAML reads for 2024, so the
    JSON form of a scenario expresses year series exactly like its YAML form."""
    if isinstance(data, dict):
        return {
            (int(k) if isinstance(k, str) and _YEAR_KEY.match(k) else k): _year_keys(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_year_keys(v) for v in data]
    return data


def _label(path: Path) -> str:
    try:
        return f"scenarios/{path.relative_to(_builtin_dir())}"
    except ValueError:
        return str(path)


#: A built-in scenario's name: letters, digits, '-', '_' and inner dots; never '..' or a path separator.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")


def _path_of(name_or_path: str) -> Path:
    """The file of a scenario given as a path (ending .yaml/.yml/.json) or as a built-in name.

    A name is looked up only inside the package's ``scenarios/`` folder: a name with ``..`` or a path
    separator is refused instead of reading a file outside it (give a path to a file as a path).
    """
    p = Path(name_or_path)
    if p.suffix.lower() in (".yaml", ".yml", ".json"):
        if not p.is_file():
            raise InputError(f"scenario file not found: {name_or_path}")
        return p
    if not _NAME.match(name_or_path):
        raise InputError(
            f"not a built-in scenario name: {name_or_path!r} (names are letters, digits, '-' and '_'; a "
            "scenario file is given by its path ending in .yaml, .yml or .json)"
        )
    builtin = _builtin_dir() / f"{name_or_path}.yaml"
    if builtin.exists() and name_or_path != Path(OVERRIDES_FILE).stem:
        return builtin
    known = ", ".join(n for n, _ in list_scenarios())
    raise InputError(f"unknown scenario {name_or_path!r}; built-in scenarios: {known}")


def list_scenarios() -> list[tuple[str, str]]:
    """Built-in scenarios as (name, one-line description), sorted by name."""
    out = []
    for path in sorted(_builtin_dir().glob("*.yaml")):
        if path.name == OVERRIDES_FILE:
            continue
        data = _read(path)
        out.append(
            (
                path.stem,
                str(data.get("description", "")).strip().splitlines()[0] if data.get("description") else "",
            )
        )
    return out


def named_overrides(extra: dict[str, OverrideDef] | None = None) -> dict[str, OverrideDef]:
    """The shared named overrides (``scenarios/overrides.yaml``), plus those a scenario file defines."""
    path = _builtin_dir() / OVERRIDES_FILE
    shared = validate(OverridesFile, _read(path), file=_label(path)).overrides if path.exists() else {}
    return {**shared, **(extra or {})}


def _resolve_chain(path: Path, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], ScenarioFile, str]:
    """The file's data merged onto its base (recursively) and its own `apply` list applied."""
    label = _label(path)
    if str(path) in seen:
        raise InputError("scenario bases form a cycle", file=label, field="base")
    raw = _read(path)
    spec = validate(ScenarioFile, raw, file=label)
    body = {k: v for k, v in raw.items() if k not in ("base", "apply", "overrides")}
    if spec.base:
        base_path = Path(spec.base)
        if base_path.suffix in (".yaml", ".yml", ".json") and not base_path.is_absolute():
            sibling = path.parent / base_path  # a base file is looked up next to the file naming it first
            base_path = sibling if sibling.exists() else base_path
        try:
            base_file = _path_of(str(base_path))
        except InputError as exc:
            if exc.file is not None:
                raise
            raise InputError(str(exc), file=label, field="base") from None
        base_data, _, _ = _resolve_chain(base_file, (*seen, str(path)))
        data = merge(base_data, body, file=label)
    else:
        data = body
    overrides = named_overrides(spec.overrides)
    for i, name in enumerate(spec.apply):
        if name not in overrides:
            raise InputError(
                f"unknown override {name!r}; known: {', '.join(sorted(overrides))}",
                file=label,
                field=f"apply[{i}]",
            )
        data = merge(data, overrides[name].set, file=label, where="")
    data["name"], data["description"] = spec.name, spec.description
    return data, spec, label


@dataclass(frozen=True)
class ResolvedScenario:
    """A scenario file read, merged onto its bases, with its named overrides applied and validated: all of a
    load that does not depend on the dataset (no number resolved yet). Build it into a :class:`Scenario`
    with :func:`build_scenario`, as many times as needed (an uncertainty study: once per draw's dataset)."""

    name: str
    description: str
    file: str
    overrides: tuple[str, ...]
    data: dict[str, Any]


def resolve_scenario(name_or_path: str, overrides: Sequence[str] = ()) -> ResolvedScenario:
    """The scenario `name_or_path` (a built-in name or a file) with named `overrides` combined in order,
    validated (the file-reading half of :func:`load_scenario`)."""
    path = _path_of(name_or_path)
    data, spec, label = _resolve_chain(path)
    known = named_overrides(spec.overrides)
    for i, name in enumerate(overrides):
        if name not in known:
            raise InputError(
                f"unknown override {name!r}; known: {', '.join(sorted(known))}",
                file=label,
                field=f"overrides[{i}]",
            )
        data = merge(data, known[name].set, file=label)
    validate(ScenarioFile, {k: v for k, v in data.items()}, file=label)
    check_values(data, file=label)
    return ResolvedScenario(spec.name, spec.description, label, tuple(overrides), data)


def build_scenario(
    resolved: ResolvedScenario, dataset: Dataset | None = None, *, assumptions: bool = True
) -> Scenario:
    """The loaded scenario: the chain model, assumptions and economics of `resolved` built on `dataset`
    (default: the package data). Each call works on its own copy of the resolved data, so the result equals
    :func:`load_scenario` of the same name and overrides (`assumptions` False: but for an empty assumptions
    table, for runs that read none of it)."""
    return _build(resolved, copy.deepcopy(resolved.data), dataset, assumptions)


def _build(
    resolved: ResolvedScenario, data: dict[str, Any], dataset: Dataset | None, assumptions: bool = True
) -> Scenario:
    ds = dataset if dataset is not None else load_dataset()
    model, table, economics = build_model(data, ds, file=resolved.file, assumptions=assumptions)
    return Scenario(
        resolved.name,
        resolved.description,
        resolved.file,
        list(resolved.overrides),
        data,
        model,
        table,
        economics,
    )


def load_scenario(
    name_or_path: str, overrides: Sequence[str] = (), dataset: Dataset | None = None
) -> Scenario:
    """A built-in scenario (by name) or a scenario file, with named overrides combined in order."""
    resolved = resolve_scenario(name_or_path, overrides)
    return _build(resolved, resolved.data, dataset)  # the resolved data is this load's own
