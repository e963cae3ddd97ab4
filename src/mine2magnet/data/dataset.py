"""The loaded reference dataset: sourced values, compositions and the bibliography, read-only."""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import pandas as pd

from mine2magnet.data.conflict import DEFAULT_RELATIVE_TOLERANCE, Conflict, find_conflict
from mine2magnet.data.observation import Claim, Observation
from mine2magnet.data.source import Source
from mine2magnet.data.sourced_composition import SourcedComposition
from mine2magnet.data.sourced_value import SourcedValue
from mine2magnet.data.units import compatible
from mine2magnet.errors import InputError

_FRAME_COLUMNS = [
    "key",
    "value",
    "text",
    "unit",
    "kind",
    "range_low",
    "range_high",
    "year",
    "basis",
    "preferred",
    "source_id",
    "source_title",
    "source_publisher",
    "source_date",
    "source_url",
    "file",
]


def _observation_as_value(o: Observation, unit: str | None = None) -> SourcedValue:
    """An observation in the shape of a value, to compare it with the values declared the same quantity.

    A flow over a period (t in FY2024) compared with a rate (t/yr) is divided by the period's length in years,
    when its unit does not convert to `unit` (the group's) but its unit per year does.
    """
    year = o.period.start.year if o.period.kind == "year" else None
    value, rng, own = o.value, o.range, o.unit
    if unit and o.period.kind != "day" and not compatible(own, unit) and compatible(f"({own})/yr", unit):
        years = len(o.period.months) / 12.0
        value, own = value / years, f"({own})/yr"
        rng = (rng[0] / years, rng[1] / years) if rng is not None else None
    return SourcedValue(
        key=o.key,
        value=value,
        unit=own,
        source=o.source,
        kind=o.kind,
        range=rng,
        year=year,
        note=o.note,
        basis=o.basis,
        derived_from=o.derived_from,
        file=o.file,
        index=o.index,
    )


#: A word shaped like a source id (lower-case letters, digits, '.', '_', '-'), as notes name further works.
_ID_TOKEN = re.compile(r"[a-z0-9][a-z0-9._\-]*[a-z0-9]")


class UnknownKeyError(InputError, KeyError):
    """A key not in the dataset; the message lists close matches."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Dataset:
    """Sourced values and compositions by dotted key, plus the bibliography. Build with ``load_dataset()``.

    Several entries may share a key (one per source, kept side by side in file order); the first listed is
    the preferred one returned by :meth:`get`.
    """

    def __init__(
        self,
        sources: Mapping[str, Source],
        values: Mapping[str, Sequence[SourcedValue]],
        compositions: Mapping[str, Sequence[SourcedComposition]],
        observations: Sequence[Observation] = (),
        claims: Sequence[Claim] = (),
    ) -> None:
        self._sources = MappingProxyType(dict(sources))
        self._observations = tuple(observations)
        self._claims = tuple(claims)
        self._values = MappingProxyType({k: tuple(v) for k, v in sorted(values.items())})
        self._compositions = MappingProxyType({k: tuple(v) for k, v in sorted(compositions.items())})

    # lookup -------------------------------------------------------------------------------------------
    @property
    def sources(self) -> Mapping[str, Source]:
        """Bibliography: source id -> :class:`Source`."""
        return self._sources

    def _unknown(self, key: str, pool: Sequence[str], what: str) -> UnknownKeyError:
        close = difflib.get_close_matches(key, pool, n=5, cutoff=0.6)
        if not close:
            stem = key.rsplit(".", 1)[0]
            close = [k for k in pool if k.startswith(stem)][:5]
        hint = f"; close matches: {', '.join(close)}" if close else ""
        return UnknownKeyError(f"unknown {what} key {key!r}{hint}")

    def all(self, key: str) -> list[SourcedValue]:
        """Every entry for `key`, side by side (preferred first)."""
        try:
            return list(self._values[key])
        except KeyError:
            raise self._unknown(key, list(self._values) + list(self._compositions), "value") from None

    def get(self, key: str) -> SourcedValue:
        """The preferred (first listed) entry for `key`."""
        return self.all(key)[0]

    def value(self, key: str, unit: str | None = None) -> float:
        """Magnitude of the preferred entry, converted with pint to `unit` if given."""
        return self.get(key).magnitude(unit)

    def bounds(self, key: str, unit: str | None = None) -> tuple[float, float] | None:
        """The preferred entry's stated range (low, high), converted to `unit`; None if it states none."""
        return self.get(key).bounds(unit)

    def series(self, stem: str) -> dict[int, SourcedValue]:
        """Preferred entries of ``<stem>.<year>`` keys by year, e.g. ``series("price.Nd2O3")`` -> {2020: ...}.

        Only keys whose last part is a 4-digit year count; an empty dict if there are none.
        """
        out: dict[int, SourcedValue] = {}
        prefix = stem.rstrip(".") + "."
        for key, entries in self._values.items():
            tail = key[len(prefix) :]
            if key.startswith(prefix) and len(tail) == 4 and tail.isdigit():
                out[int(tail)] = entries[0]
        return dict(sorted(out.items()))

    def text(self, key: str) -> str:
        """The preferred entry of a qualitative (text) quantity."""
        entry = self.get(key)
        if not entry.is_text:
            raise InputError(f"{key!r} is a number ({entry.value} {entry.unit}), not a text", field=key)
        return str(entry.value)

    def __contains__(self, key: object) -> bool:
        return key in self._values or key in self._compositions

    def keys(self, prefix: str = "") -> list[str]:
        """Every value and composition key starting with `prefix`, sorted."""
        return sorted(k for k in (*self._values, *self._compositions) if k.startswith(prefix))

    def compositions(self, prefix: str = "") -> list[str]:
        """Composition keys starting with `prefix`, sorted."""
        return sorted(k for k in self._compositions if k.startswith(prefix))

    def all_compositions(self, key: str) -> list[SourcedComposition]:
        """Every composition entry for `key` (preferred first)."""
        try:
            return list(self._compositions[key])
        except KeyError:
            raise self._unknown(key, list(self._compositions), "composition") from None

    def composition(self, key: str) -> SourcedComposition:
        """The preferred element distribution for `key` (e.g. ``feed.mt_weld_concentrate``)."""
        return self.all_compositions(key)[0]

    def entries(self) -> list[SourcedValue]:
        """Every value entry of the dataset, by key then file order."""
        return [e for entries in self._values.values() for e in entries]

    def composition_entries(self) -> list[SourcedComposition]:
        """Every composition entry of the dataset, by key then file order."""
        return [e for entries in self._compositions.values() for e in entries]

    def with_values(self, values: Mapping[str, float]) -> Dataset:
        """A copy whose preferred entry of each key in `values` holds the given number (in the entry's unit).

        For sampling: a draw of an uncertainty study replaces the preferred values of the inputs it varies;
        the other entries, compositions, observations, claims and the bibliography are shared, unchanged.
        """
        changed = {k: list(v) for k, v in self._values.items()}
        for key, number in values.items():
            entries = self.all(key)  # UnknownKeyError naming close matches
            if entries[0].is_text:
                raise InputError(f"{key!r} is a text value; only numbers can be varied", field=key)
            changed[key] = [dataclasses.replace(entries[0], value=float(number)), *entries[1:]]
        return Dataset(self._sources, changed, self._compositions, self._observations, self._claims)

    # history ------------------------------------------------------------------------------------------
    def observations(self, prefix: str = "") -> list[Observation]:
        """Observed historical quantities whose key starts with `prefix`, in file order."""
        return [o for o in self._observations if o.key.startswith(prefix)]

    def observation(self, key: str) -> Observation:
        """The first observation listed under `key`."""
        for o in self._observations:
            if o.key == key:
                return o
        raise self._unknown(key, [o.key for o in self._observations], "observation")

    def claims(self, prefix: str = "") -> list[Claim]:
        """Published claims whose key starts with `prefix`, in file order."""
        return [c for c in self._claims if c.key.startswith(prefix)]

    # disagreement -------------------------------------------------------------------------------------
    def same_quantity_groups(self) -> list[tuple[str, ...]]:
        """Keys joined by ``same_quantity_as`` (transitively), each sorted: value keys, then observations."""
        parent: dict[str, str] = {}

        def root(key: str) -> str:
            while parent.setdefault(key, key) != key:
                key = parent[key]
            return key

        for entry in self.entries():
            for other in entry.same_quantity_as:
                parent[root(other)] = root(entry.key)
        groups: dict[str, list[str]] = {}
        for key in parent:
            groups.setdefault(root(key), []).append(key)
        order = {key: (key not in self._values, key) for key in parent}
        return sorted(tuple(sorted(g, key=order.__getitem__)) for g in groups.values() if len(g) > 1)

    def _compared_entries(self, key: str, unit: str | None = None) -> list[SourcedValue]:
        """A key's value entries, or its observations as values in `unit`'s terms (_observation_as_value)."""
        if key in self._values:
            return list(self._values[key])
        return [_observation_as_value(o, unit) for o in self._observations if o.key == key]

    def conflicts(self, rel_tol: float = DEFAULT_RELATIVE_TOLERANCE) -> list[Conflict]:
        """Keys whose sources disagree beyond their stated uncertainty (see :func:`find_conflict`).

        Keys declared ``same_quantity_as`` each other are compared as one quantity (units converted), reported
        once under the group's first key, with ``Conflict.keys`` naming them all.
        """
        group_of = {key: group for group in self.same_quantity_groups() for key in group}
        out = []
        for key, entries in self._values.items():
            group = group_of.get(key)
            if group is not None:
                if key != group[0]:
                    continue
                unit = self._values[group[0]][0].unit
                entries = tuple(e for k in group for e in self._compared_entries(k, unit))
            conflict = find_conflict(key, entries, rel_tol)
            if conflict is not None:
                out.append(conflict)
        return out

    def to_frame(self, prefix: str = "") -> pd.DataFrame:
        """Every value entry under `prefix` as a tidy table, one row per (key, source).

        Columns: key, value (float, NaN for text), text (str or None), unit, kind, range_low, range_high,
        year, basis, preferred (first listed for its key), source_id, source_title, source_publisher,
        source_date, source_url, file.
        """
        rows = []
        for key, entries in self._values.items():
            if not key.startswith(prefix):
                continue
            for i, e in enumerate(entries):
                rows.append(
                    {
                        "key": key,
                        "value": float("nan") if e.is_text else float(e.value),
                        "text": e.value if e.is_text else None,
                        "unit": e.unit,
                        "kind": e.kind,
                        "range_low": e.range[0] if e.range else float("nan"),
                        "range_high": e.range[1] if e.range else float("nan"),
                        "year": e.year,
                        "basis": e.basis,
                        "preferred": i == 0,
                        "source_id": e.source.id,
                        "source_title": e.source.title,
                        "source_publisher": e.source.publisher,
                        "source_date": e.source.date,
                        "source_url": e.source.url,
                        "file": e.file,
                    }
                )
        return pd.DataFrame(rows, columns=_FRAME_COLUMNS)

    def duplicate_urls(self) -> dict[str, list[str]]:
        """Bibliography entries sharing one URL: {url: [source ids]} (cite one id, do not add another)."""
        by_url: dict[str, list[str]] = {}
        for source in self._sources.values():
            if source.url:
                by_url.setdefault(source.url.rstrip("/"), []).append(source.id)
        return {url: ids for url, ids in sorted(by_url.items()) if len(ids) > 1}

    def note_citations(self) -> dict[str, list[str]]:
        """Source ids named in the notes of values, compositions and observations: {source id: [keys]}.

        A note names a further work (one its figure or reasoning relies on) by the work's source id; such a
        work counts as cited (:meth:`cited_sources`) although no entry gives it as its ``source``.
        """
        out: dict[str, list[str]] = {}
        entries = [*self.entries(), *self.composition_entries(), *self._observations]
        for entry in entries:
            for token in set(_ID_TOKEN.findall(entry.note or "")):
                if token in self._sources:
                    out.setdefault(token, []).append(entry.key)
        return out

    def cited_sources(self) -> set[str]:
        """Ids of the sources some value, composition or observation cites (as its source or in its note)."""
        cited = {e.source.id for e in self.entries()} | {c.source.id for c in self.composition_entries()}
        return (
            cited
            | {o.source.id for o in self._observations}
            | {c.source.id for c in self._claims}
            | set(self.note_citations())
        )

    def __repr__(self) -> str:
        return (
            f"Dataset({len(self._values)} value keys, {len(self._compositions)} compositions, "
            f"{len(self._observations)} observations, {len(self._sources)} sources)"
        )
