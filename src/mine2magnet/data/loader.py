"""Reading a data folder (``sources/*.yaml`` + ``values/*.yaml``) into a :class:`Dataset`.

Every refusal is an :class:`~mine2magnet.errors.InputError` naming the file (relative to the data folder)
and the field, e.g. ``values/prices.yaml: values[3].source: unknown source id 'usgs-mcs-2026'``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mine2magnet.data.dataset import Dataset
from mine2magnet.data.observation import Claim, Observation, Period
from mine2magnet.data.reader import read_input
from mine2magnet.data.schema import ClaimsFile, ObservationsFile, SourcesFile, ValuesFile
from mine2magnet.data.source import Source
from mine2magnet.data.sourced_composition import SourcedComposition
from mine2magnet.data.sourced_value import SourcedValue
from mine2magnet.data.units import compatible
from mine2magnet.errors import InputError

_Model = TypeVar("_Model", bound=BaseModel)

#: The package's own data folder.
PACKAGE_DATA = Path(__file__).parent


def _read_yaml(path: Path, label: str) -> Any:
    """A data file through the shared input reader (size, encoding, nesting, aliases, duplicate keys, NaN)."""
    return read_input(path, label=label)


_FIELD_HEAD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part) in {"float", "str", "function-after[_value_type(), union[float,str]]"}:
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _data_files(folder: Path) -> list[Path]:
    """The YAML files of a folder (``*.yaml`` and ``*.yml``) in name order; none if the folder is missing."""
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")], key=lambda p: p.name)


def _expect_mapping(raw: Any, label: str, keys: str) -> None:
    if not isinstance(raw, dict):
        raise InputError(f"expected a mapping with top-level {keys}, got a {type(raw).__name__}", file=label)


def _label(root: Path, path: Path) -> str:
    """A file's name in messages: ``values/x.yaml`` for package data, the full path for a user folder."""
    relative = path.relative_to(root).as_posix()
    return relative if root.resolve() == PACKAGE_DATA.resolve() else (root / relative).as_posix()


def _raise_validation(exc: ValidationError, label: str) -> None:
    first = exc.errors()[0]
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    field = _loc(first.get("loc", ()))
    # Model-level checks name the field at the start of the message ("range: ..."); fold it into the path.
    head, sep, rest = message.partition(": ")
    if sep and _FIELD_HEAD.match(head):
        field, message = f"{field}.{head}" if field else head, rest
    more = len(exc.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''} in this file)"
    raise InputError(message, file=label, field=field or None) from None


def _parsed_files(
    root: Path, folder: str, schema: type[_Model], expected: str
) -> Iterator[tuple[str, _Model]]:
    """Each non-empty YAML file of ``root/folder`` validated against ``schema``, with its label."""
    for path in _data_files(root / folder):
        label = _label(root, path)
        raw = _read_yaml(path, label)
        if raw is None:
            continue
        _expect_mapping(raw, label, expected)
        try:
            yield label, schema.model_validate(raw)
        except ValidationError as exc:
            _raise_validation(exc, label)


def _load_sources(root: Path, into: dict[str, Source]) -> None:
    for label, parsed in _parsed_files(root, "sources", SourcesFile, "'sources:'"):
        for sid, entry in parsed.sources.items():
            if sid in into:
                raise InputError(
                    f"duplicate source id {sid!r} (already defined in {into[sid].file})",
                    file=label,
                    field=f"sources.{sid}",
                )
            into[sid] = Source(id=sid, file=label, **entry.model_dump())


def _resolve_source(sources: dict[str, Source], sid: str, label: str, field: str) -> Source:
    try:
        return sources[sid]
    except KeyError:
        message = f"unknown source id {sid!r} (not in any sources/*.yaml)"
        raise InputError(message, file=label, field=field) from None


def _load_values(
    root: Path,
    sources: dict[str, Source],
    values: dict[str, list[SourcedValue]],
    compositions: dict[str, list[SourcedComposition]],
) -> None:
    for label, parsed in _parsed_files(root, "values", ValuesFile, "'values:' and/or 'compositions:'"):
        for i, entry in enumerate(parsed.values):
            field = f"values[{i}]"
            source = _resolve_source(sources, entry.source, label, f"{field}.source")
            previous = values.get(entry.key, [])
            numeric = [v for v in previous if not v.is_text]
            if previous and (isinstance(entry.value, str) != previous[0].is_text):
                raise InputError(
                    f"key {entry.key!r} mixes text and numbers (first entry in {previous[0].where})",
                    file=label,
                    field=f"{field}.value",
                )
            if numeric and entry.unit is not None and not compatible(entry.unit, numeric[0].unit or ""):
                raise InputError(
                    f"unit {entry.unit!r} of {entry.key!r} does not convert to {numeric[0].unit!r} used in "
                    f"{numeric[0].where}",
                    file=label,
                    field=f"{field}.unit",
                )
            values.setdefault(entry.key, []).append(
                SourcedValue(
                    key=entry.key,
                    value=entry.value,
                    unit=entry.unit,
                    source=source,
                    kind=entry.kind,
                    range=entry.range,
                    year=entry.year,
                    note=entry.note,
                    basis=entry.basis,
                    derived_from=tuple(entry.derived_from),
                    file=label,
                    index=i,
                    same_quantity_as=tuple(entry.same_quantity_as),
                )
            )
        for i, comp in enumerate(parsed.compositions):
            field = f"compositions[{i}]"
            source = _resolve_source(sources, comp.source, label, f"{field}.source")
            compositions.setdefault(comp.key, []).append(
                SourcedComposition(
                    key=comp.key,
                    fractions=MappingProxyType(comp.fractions()),
                    source=source,
                    kind=comp.kind,
                    complete=comp.complete,
                    tolerance_percent=comp.tolerance,
                    year=comp.year,
                    note=comp.note,
                    derived_from=tuple(comp.derived_from),
                    file=label,
                    index=i,
                    ranges=MappingProxyType(comp.fraction_ranges()),
                )
            )


def _period_entries(
    root: Path, folder: str, schema: type[ObservationsFile] | type[ClaimsFile], sources: dict[str, Source]
) -> Iterator[dict[str, Any]]:
    """The fields of each observation or claim of a folder, with its period parsed and its source resolved."""
    for label, parsed in _parsed_files(root, folder, schema, f"'{folder}:'"):
        for i, entry in enumerate(getattr(parsed, folder)):
            fields = entry.model_dump()
            fields["source"] = _resolve_source(sources, entry.source, label, f"{folder}[{i}].source")
            fields["period"] = Period.parse(fields["period"], fields.pop("fiscal_year_end"))
            fields["model"] = MappingProxyType(dict(entry.model))
            if "derived_from" in fields:
                fields["derived_from"] = tuple(fields["derived_from"])
            yield {**fields, "range": entry.range, "file": label, "index": i}


def _load_observations(root: Path, sources: dict[str, Source], into: list[Observation]) -> None:
    into.extend(Observation(**f) for f in _period_entries(root, "observations", ObservationsFile, sources))


def _load_claims(root: Path, sources: dict[str, Source], into: list[Claim]) -> None:
    into.extend(Claim(**f) for f in _period_entries(root, "claims", ClaimsFile, sources))


def read_dataset(*roots: Path) -> Dataset:
    """A dataset from one or more data folders, read in order (later folders add entries after earlier ones).

    Each folder holds ``sources/*.yaml``, ``values/*.yaml`` and optionally ``observations/*.yaml``; files
    are read in name order.
    """
    sources: dict[str, Source] = {}
    values: dict[str, list[SourcedValue]] = {}
    compositions: dict[str, list[SourcedComposition]] = {}
    for root in roots:
        if not root.is_dir():
            message = "data folder not found (expected a folder with sources/ and values/)"
            raise InputError(message, file=str(root))
        _load_sources(root, sources)
    observations: list[Observation] = []
    claims: list[Claim] = []
    for root in roots:
        _load_values(root, sources, values, compositions)
        _load_observations(root, sources, observations)
        _load_claims(root, sources, claims)
    clash = sorted(set(values) & set(compositions))
    if clash:
        comp = compositions[clash[0]][0]
        raise InputError(
            f"key {clash[0]!r} is used both as a composition and as a value (in {values[clash[0]][0].where})",
            file=comp.file,
            field=f"compositions[{comp.index}].key",
        )
    _check_derived_from(values, compositions, observations)
    _check_same_quantity(values, observations)
    return Dataset(
        sources=sources, values=values, compositions=compositions, observations=observations, claims=claims
    )


def _check_derived_from(
    values: dict[str, list[SourcedValue]],
    compositions: dict[str, list[SourcedComposition]],
    observations: list[Observation],
) -> None:
    """Every key named in a ``derived_from`` must exist (so the arithmetic can be followed)."""
    known = set(values) | set(compositions) | {o.key for o in observations}
    entries: list[SourcedValue | SourcedComposition | Observation] = [e for es in values.values() for e in es]
    entries += [c for cs in compositions.values() for c in cs]
    entries += observations
    sections = {SourcedComposition: "compositions", Observation: "observations"}
    for entry in entries:
        for j, key in enumerate(entry.derived_from):
            if key not in known:
                section = sections.get(type(entry), "values")
                raise InputError(
                    f"unknown key {key!r} (derived_from must name keys of the dataset)",
                    file=entry.file,
                    field=f"{section}[{entry.index}].derived_from[{j}]",
                )


def _check_same_quantity(values: dict[str, list[SourcedValue]], observations: list[Observation]) -> None:
    """Every key named in a ``same_quantity_as`` exists, is not the entry's own, and holds the same kind of
    quantity (text with text; numbers in units that convert, or an observation's flow over its period against
    a rate per year), so that conflicts() can compare across them."""
    observed = {o.key: o for o in reversed(observations)}  # the first listed per key
    for entry in (e for es in values.values() for e in es):
        for j, key in enumerate(entry.same_quantity_as):
            field = f"values[{entry.index}].same_quantity_as[{j}]"
            other = values[key][0] if key in values else observed.get(key)
            if other is None or key == entry.key:
                why = "its own key" if key == entry.key else "an unknown key"
                message = f"{why} {key!r} (same_quantity_as must name other value or observation keys)"
                raise InputError(message, file=entry.file, field=field)
            other_text = isinstance(other.value, str)
            if other_text != entry.is_text:
                message = f"{key!r} mixes text and numbers with {entry.key!r} (first entry in {other.where})"
                raise InputError(message, file=entry.file, field=field)
            per_year = isinstance(other, Observation) and compatible(entry.unit or "", f"({other.unit})/yr")
            if not entry.is_text and not per_year and not compatible(entry.unit or "", other.unit or ""):
                message = (
                    f"unit {entry.unit!r} of {entry.key!r} does not convert to {other.unit!r} of {key!r} "
                    f"(in {other.where})"
                )
                raise InputError(message, file=entry.file, field=field)


@cache
def _package_dataset() -> Dataset:
    return read_dataset(PACKAGE_DATA)


def load_dataset(path: str | Path | None = None, *, with_package_data: bool = False) -> Dataset:
    """The sourced reference dataset.

    Without `path`: the package's data (read once, then cached; the Dataset is immutable). With `path`: a
    user folder with the same layout (``sources/*.yaml``, ``values/*.yaml``); ``with_package_data=True``
    reads the package's data first so user values may cite package sources and sit beside package values.
    """
    if path is None:
        return _package_dataset()
    root = Path(path)
    return read_dataset(PACKAGE_DATA, root) if with_package_data else read_dataset(root)
