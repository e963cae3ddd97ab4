"""Scenario variants: a base scenario with some assumptions changed, facilities added or removed and policies
switched, saved as a readable scenario file that ``mine2magnet run FILE`` runs identically.

A variant file is an ordinary scenario file (``docs/scenarios.md``): ``base`` names the scenario it starts
from, ``apply`` the named overrides switched on, and the rest is merged onto the base — facilities and
policies by name, trade links by (source, target, commodity), ``remove: true`` deleting an item. Every changed
number is written as an explicit assumption (value, unit, range, and a note saying what it replaced and where
that came from), so the variant's assumptions table still tells the source of every figure.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from mine2magnet.app.names import NAME, check_name, inside
from mine2magnet.data.reader import read_mapping
from mine2magnet.errors import InputError
from mine2magnet.scenario import Scenario, list_scenarios, load_scenario, named_overrides
from mine2magnet.scenario.loader import OVERRIDES_FILE

#: One segment of an assumption key: ``mines[2]`` or ``capacity`` or ``2024``.
_SEGMENT = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<index>\d+)\])?$")
#: The parts of a scenario a variant may change.
_SECTIONS = ("facilities", "trade_links", "policies", "prices", "settings", "economics")


class AssumptionEdit(BaseModel):
    """A new value for one numeric assumption of the base, by its key in the assumptions table."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(max_length=200, description="Key in the base's assumptions table")
    value: float = Field(description="New value, in the unit the assumptions table shows for the key")
    note: str = Field("", max_length=500, description="Why (kept in the variant file)")

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("expected a finite number")
        return v


class VariantRequest(BaseModel):
    """What the web form (or a JSON client) asks for: a new variant of ``base``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64, description="Variant name: letters, digits, '-' or '_'")
    base: str = Field(max_length=64, description="A built-in scenario or an existing variant")
    description: str = Field("", max_length=300)
    apply: list[str] = Field(default_factory=list, max_length=20, description="Named overrides switched on")
    edits: list[AssumptionEdit] = Field(default_factory=list, max_length=200)
    add_facilities: list[str] = Field(default_factory=list, max_length=20, description="Catalogue entries")
    remove_facilities: list[str] = Field(default_factory=list, max_length=50, description="Facility names")
    remove_policies: list[str] = Field(default_factory=list, max_length=50, description="Policy names")

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not NAME.match(v):
            raise ValueError("expected 1-64 letters, digits, '-' or '_', starting with a letter or digit")
        return v


@dataclass(frozen=True)
class CatalogueEntry:
    """A facility a named override defines, with the trade links that feed it and take its products."""

    name: str
    kind: str  # facility section: mines, refineries, magnet_plants, recyclers, ...
    override: str
    description: str
    facility: dict[str, Any]
    trade_links: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "override": self.override,
            "description": self.description,
            "trade_links": [
                {k: v for k, v in link.items() if k in ("source", "target", "commodity")}
                for link in self.trade_links
            ],
        }


def catalogue(present: Sequence[str] = ()) -> list[CatalogueEntry]:
    """Facilities the built-in named overrides add (e.g. the state-linked refinery, the recycler), leaving out
    those named in ``present`` (the facilities a base already has)."""
    entries = []
    for override, spec in sorted(named_overrides().items()):
        facilities = spec.set.get("facilities") or {}
        links = spec.set.get("trade_links") or []
        for kind, items in facilities.items():
            for item in items or []:
                if not isinstance(item, Mapping) or item.get("remove") or "name" not in item:
                    continue
                name = str(item["name"])
                if name in present:
                    continue
                touching = tuple(
                    copy.deepcopy(dict(link))
                    for link in links
                    if isinstance(link, Mapping) and name in (link.get("source"), link.get("target"))
                )
                facility = copy.deepcopy(dict(item))
                entries.append(CatalogueEntry(name, kind, override, spec.description, facility, touching))
    return entries


class VariantStore:
    """The variants of one results folder: ``<folder>/NAME.yaml``, each a scenario file."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, name: str) -> Path:
        return inside(self.folder, name, ".yaml")

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.yaml") if NAME.match(p.stem))

    def exists(self, name: str) -> bool:
        return NAME.match(name or "") is not None and self.path(name).is_file()

    def spec(self, name: str) -> str:
        """What ``load_scenario`` and ``mine2magnet run`` take for ``name``: its file or a built-in name."""
        if self.exists(name):
            return str(self.path(name))
        builtins = {n for n, _ in list_scenarios()}
        if name in builtins:
            return name
        raise InputError(
            f"unknown scenario or variant {name!r}; built-in: {', '.join(sorted(builtins))}", field="scenario"
        )

    def load(self, name: str) -> Scenario:
        return load_scenario(self.spec(check_name(name, "scenario")))

    def text(self, name: str) -> str:
        return self.path(name).read_text(encoding="utf-8")

    def description(self, name: str) -> str:
        """The variant's one-line description ('' when its file no longer reads as a scenario mapping)."""
        try:
            data = read_mapping(self.path(name))
        except InputError:
            return ""
        return str(data.get("description") or "").strip()

    def create(self, request: VariantRequest) -> tuple[Path, Scenario]:
        """Write the variant file for ``request`` after checking that it loads; return its path and scenario.

        A variant that does not load (a value the schema refuses, an unknown override) raises and leaves no
        file behind; an existing variant of the same name is replaced only once the new one loads.
        """
        if request.name in {n for n, _ in list_scenarios()} or request.name == Path(OVERRIDES_FILE).stem:
            raise InputError(f"{request.name!r} is a built-in scenario's name", field="name")
        base = self.load(request.base)
        document = variant_document(request, base, base_ref=self._base_ref(request.base))
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(request.name)
        tmp = target.with_name(f".{request.name}.{os.getpid()}-{id(document):x}.tmp.yaml")
        tmp.write_text(to_yaml(document), encoding="utf-8")
        try:
            scenario = load_scenario(str(tmp))
            tmp.replace(target)
        except InputError as exc:
            raise InputError(str(exc).replace(str(tmp), target.name)) from None
        finally:
            tmp.unlink(missing_ok=True)
        return target, scenario

    def delete(self, name: str) -> None:
        path = self.path(name)
        if not path.is_file():
            raise InputError(f"no variant {name!r}", field="name")
        path.unlink()

    def _base_ref(self, base: str) -> str:
        return f"{base}.yaml" if self.exists(base) else base


def to_yaml(document: Mapping[str, Any]) -> str:
    """A variant document as readable YAML (keys in the order written, unicode kept)."""
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=110)


def _parse_key(key: str) -> list[tuple[str, int | None]]:
    segments = []
    for part in key.split("."):
        m = _SEGMENT.match(part)
        if not m:
            raise InputError(f"{key!r} is not an assumption key", field="edits.key")
        segments.append((m["name"], int(m["index"]) if m["index"] is not None else None))
    return segments


def _child(node: Any, name: str, key: str) -> tuple[Any, Any]:
    """The child of mapping ``node`` called ``name`` (a year may be stored as an int) and the key used."""
    if isinstance(node, Mapping):
        for candidate in (name, int(name) if name.isdigit() else None):
            if candidate is not None and candidate in node:
                return node[candidate], candidate
    raise InputError(f"{key!r} is not in the base scenario", field="edits.key")


def _identity(item: Mapping[str, Any], section: str) -> dict[str, Any]:
    if section == "trade_links":
        return {k: item.get(k) for k in ("source", "target", "commodity")}
    if "name" not in item:
        raise InputError("this item has no name to refer to it by", field="edits.key")
    return {"name": item["name"]}


def override_at(data: Mapping[str, Any], key: str, node: Any) -> dict[str, Any]:
    """The smallest partial scenario that sets ``key`` (an assumptions-table key of ``data``) to ``node``.

    List items are referred to by their identity (name, or source/target/commodity for trade links), so the
    override still finds its item when the base's order changes.
    """
    segments = _parse_key(key)
    if segments[0][0] not in _SECTIONS:
        raise InputError(f"{key!r}: only {', '.join(_SECTIONS)} can be changed", field="edits.key")
    top: dict[str, Any] = {}
    out: Any = top
    here: Any = data
    for i, (name, index) in enumerate(segments):
        last = i == len(segments) - 1
        value, used = _child(here, name, key)
        if index is None:
            if last:
                out[used] = node
            else:
                out = out.setdefault(used, {})
            here = value
            continue
        if not isinstance(value, list) or index >= len(value) or not isinstance(value[index], Mapping):
            raise InputError(f"{key!r} is not in the base scenario", field="edits.key")
        item = value[index]
        entry = _identity(item, name)
        out.setdefault(used, []).append(entry)
        if last:
            raise InputError(f"{key!r} names a whole item, not a number", field="edits.key")
        out, here = entry, item
    return top


def _check_edit(row: Mapping[str, Any], edit: AssumptionEdit, field: str) -> None:
    """Refuse a value no physical quantity of this kind can take: a fraction outside [0, 1], a negative value
    where the base's value and range are non-negative (capacities, costs, prices, resources, lead times)."""
    unit = str(row.get("unit") or "")
    if unit == "fraction" and not 0.0 <= edit.value <= 1.0:
        raise InputError(f"{edit.value:g} is not a fraction: expected 0 to 1", field=field)
    low = row.get("range_low")
    non_negative = float(row["value"]) >= 0 and (
        low is None or (isinstance(low, float) and math.isnan(low)) or low >= 0
    )
    if non_negative and edit.value < 0:
        raise InputError(f"{edit.value:g} {unit}: expected a value >= 0 for {edit.key}".strip(), field=field)


def _edit_node(row: Mapping[str, Any], edit: AssumptionEdit) -> dict[str, Any]:
    lo, hi = row.get("range_low"), row.get("range_high")
    bounds = [float(b) for b in (lo, hi) if b is not None and not (isinstance(b, float) and math.isnan(b))]
    low = min([edit.value, *bounds]) if bounds else edit.value
    high = max([edit.value, *bounds]) if bounds else edit.value
    was = f"was {row['value']:g} {row.get('unit') or ''}".strip()
    origin = f"data key {row['data_key']}" if row.get("data_key") else "the base scenario"
    source = f", {row['source_title']}" if row.get("source_title") else ""
    note = f"Set in a variant ({was}, from {origin}{source})."
    if edit.note:
        note = f"{edit.note.strip()} {note}"
    node: dict[str, Any] = {"value": edit.value, "kind": "assumption", "range": [low, high], "note": note}
    if row.get("unit"):
        node["unit"] = row["unit"]
    return node


def _merge_into(target: dict[str, Any], part: Mapping[str, Any], section: str = "") -> None:
    """Merge partial scenario ``part`` into ``target`` in place (list items joined by identity)."""
    for key, value in part.items():
        if key not in target:
            target[key] = copy.deepcopy(value)
        elif isinstance(value, list) and isinstance(target[key], list):
            sub = key if key == "trade_links" else section or key
            for item in value:
                ident = _identity(item, "trade_links" if sub == "trade_links" else sub)
                match = next((x for x in target[key] if _identity(x, sub) == ident), None)
                if match is None:
                    target[key].append(copy.deepcopy(item))
                else:
                    _merge_into(match, item, sub)
        elif isinstance(value, Mapping) and isinstance(target[key], dict) and not _is_value(value):
            _merge_into(target[key], value, section)
        else:
            target[key] = copy.deepcopy(value)


def _is_value(node: Mapping[str, Any]) -> bool:
    return "value" in node or "ref" in node


def variant_document(request: VariantRequest, base: Scenario, base_ref: str) -> dict[str, Any]:
    """The scenario file (as a mapping) that ``request`` describes on top of the loaded ``base``."""
    known = named_overrides()
    for i, name in enumerate(request.apply):
        if name not in known:
            raise InputError(
                f"unknown override {name!r}; known: {', '.join(sorted(known))}", field=f"apply[{i}]"
            )
    rows = {str(r["key"]): r for r in base.assumptions.to_dict("records")}
    body: dict[str, Any] = {}
    for i, edit in enumerate(request.edits):
        row = rows.get(edit.key)
        if row is None:
            raise InputError(f"{edit.key!r} is not an assumption of {request.base}", field=f"edits[{i}].key")
        if isinstance(row["value"], str):
            raise InputError(f"{edit.key!r} is not a number ({row['value']!r})", field=f"edits[{i}].key")
        _check_edit(row, edit, f"edits[{i}].value")
        _merge_into(body, override_at(base.data, edit.key, _edit_node(row, edit)))
    by_name = {entry.name: entry for entry in catalogue(facility_names(base.data))}
    for i, name in enumerate(request.add_facilities):
        entry = by_name.get(name)
        if entry is None:
            raise InputError(
                f"no facility {name!r} in the catalogue; known: {', '.join(sorted(by_name))}",
                field=f"add_facilities[{i}]",
            )
        addition = {"facilities": {entry.kind: [entry.facility]}, "trade_links": list(entry.trade_links)}
        _merge_into(body, addition)
    _merge_into(body, _removals(base.data, request.remove_facilities, request.remove_policies))
    document: dict[str, Any] = {
        "name": request.name,
        "description": request.description or f"A variant of {request.base}",
        "base": base_ref,
    }
    if request.apply:
        document["apply"] = list(request.apply)
    document.update({k: body[k] for k in _SECTIONS if k in body})
    return document


def named_items(data: Mapping[str, Any], section: str) -> dict[str, str]:
    """``{name: kind}`` of the named items of ``section`` (``facilities`` or ``policies``) of ``data``."""
    return {
        str(item.get("name")): kind
        for kind, items in (data.get(section) or {}).items()
        for item in items or []
        if isinstance(item, Mapping)
    }


def facility_names(data: Mapping[str, Any]) -> list[str]:
    """Names of the facilities in scenario data ``data``."""
    return list(named_items(data, "facilities"))


def _removals(data: Mapping[str, Any], facilities: Sequence[str], policies: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    present = named_items(data, "facilities")
    for i, name in enumerate(facilities):
        if name not in present:
            raise InputError(f"no facility {name!r} in the base", field=f"remove_facilities[{i}]")
        out.setdefault("facilities", {}).setdefault(present[name], []).append({"name": name, "remove": True})
        for link in data.get("trade_links") or []:
            if name in (link.get("source"), link.get("target")):
                ident = {k: link.get(k) for k in ("source", "target", "commodity")}
                out.setdefault("trade_links", []).append({**ident, "remove": True})
    # a removed facility leaves the policies that name it (a ban's exceptions, lists of facilities)
    gone = set(facilities)
    for kind, items in (data.get("policies") or {}).items():
        for item in items or []:
            lists = {
                k: [x for x in v if x not in gone]
                for k, v in item.items()
                if isinstance(v, list) and any(isinstance(x, str) and x in gone for x in v)
            }
            if lists and str(item.get("name")) not in policies:
                edited = {"name": item.get("name"), **lists}
                out.setdefault("policies", {}).setdefault(kind, []).append(edited)
    kinds = named_items(data, "policies")
    for i, name in enumerate(policies):
        if name not in kinds:
            raise InputError(f"no policy {name!r} in the base", field=f"remove_policies[{i}]")
        out.setdefault("policies", {}).setdefault(kinds[name], []).append({"name": name, "remove": True})
    return out
