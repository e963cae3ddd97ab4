"""Extractant parameter sets: separation factors (and extraction constants where found), with their sources.

Read from the sourced data layer (``src/mine2magnet/data/values/separation_extractants.yaml``, keys
``separation.extractant.<NAME>.*``): the extraction order, the separation factor of each adjacent pair
(``beta.<Heavy>_<Light>`` = D_heavy/D_light), optional ``log10_kex.<El>``, the loading ``stoichiometry`` and
the ``conditions``. Every number carries its source and kind; pairs for which no measured value was found are
explicit assumptions with a range (see ``docs/cascade-design.md``), so a design's sensitivity to them can be
checked with ``bound="low"``/``"high"``.

    >>> p507 = load_extractant("P507")
    >>> p507.separation_factors(["Pr", "Nd"])          # relative to the least extractable
    {'Pr': 1.0, 'Nd': 1.45}
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mine2magnet.data import Dataset, Source, SourcedValue, load_dataset
from mine2magnet.errors import InputError

PREFIX = "separation.extractant."

#: Other names of the shipped extractants (case-insensitive) -> data name.
ALIASES: dict[str, str] = {
    "p507": "P507",
    "pc88a": "P507",
    "pc-88a": "P507",
    "ehehpa": "P507",
    "heh/ehp": "P507",
    "hehehp": "P507",
    "p204": "P204",
    "d2ehpa": "P204",
    "hdehp": "P204",
    "dehpa": "P204",
    "cyanex272": "Cyanex272",
    "cyanex 272": "Cyanex272",
    "cyanex-272": "Cyanex272",
    "naphthenic_acid": "naphthenic_acid",
    "naphthenic acid": "naphthenic_acid",
    "naphthenic-acid": "naphthenic_acid",
    "p204_lactic": "P204_lactic",
    "d2ehpa-lactic": "P204_lactic",
}

Bound = Literal["value", "low", "high"]


@dataclass(frozen=True)
class Extractant:
    """A solvent-extraction system: the extraction order and sourced adjacent separation factors.

    ``adjacent`` maps (lighter, heavier) neighbours in ``order`` to the sourced β = D_heavier / D_lighter
    (dimensionless); ``log10_kex`` maps elements to sourced log10 Kex (mol/L basis; may be partial or empty).
    """

    name: str
    order: tuple[str, ...]
    adjacent: dict[tuple[str, str], SourcedValue]
    log10_kex_values: dict[str, SourcedValue]
    stoichiometry: str
    conditions: str
    #: sourced log10 K of M+ + (HA)2(org) <=> MA·HA(org) + H+ per counter-ion ("Na", "NH4"), mol/L basis
    counter_ion_values: dict[str, SourcedValue] = dataclasses.field(default_factory=dict)

    def counter_ion_log10_k(self, ion: str, bound: Bound = "value") -> float:
        """log10 K of the saponified form's exchange M+ + (HA)2(org) <=> MA·HA(org) + H+ (mol/L basis),
        at its value or the low/high end of its stated range.

        Raises:
            InputError: no value for this counter-ion in this parameter set.
        """
        if ion not in self.counter_ion_values:
            raise InputError(
                f"the {self.name} parameter set has no counter-ion constant for {ion!r} "
                f"(has {sorted(self.counter_ion_values)}); give model.counter_ion.log10_k",
                field="model.counter_ion.log10_k",
            )
        sv = self.counter_ion_values[ion]
        if bound != "value" and sv.range is not None:
            return float(sv.range[0] if bound == "low" else sv.range[1])
        return float(sv.magnitude())

    @property
    def log10_kex(self) -> dict[str, float]:
        """log10 of the extraction constant per element where a source gives one (mol/L basis)."""
        return {el: float(v.magnitude()) for el, v in self.log10_kex_values.items()}

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every source behind this parameter set (unique, in order of first use)."""
        seen: dict[str, Source] = {}
        for v in [
            *self.adjacent.values(),
            *self.log10_kex_values.values(),
            *self.counter_ion_values.values(),
        ]:
            seen.setdefault(v.source.id, v.source)
        return tuple(seen.values())

    def adjacent_factor(self, lighter: str, heavier: str) -> SourcedValue:
        """The sourced β of two neighbours in the extraction order (lighter first)."""
        try:
            return self.adjacent[(lighter, heavier)]
        except KeyError:
            raise InputError(
                f"{lighter} and {heavier} are not neighbours in the {self.name} extraction order "
                f"{list(self.order)}",
                field="components",
            ) from None

    def separation_factors(self, components: Iterable[str], bound: Bound = "value") -> dict[str, float]:
        """β of each component relative to the least extractable of them (which gets 1.0), dimensionless.

        Products of the adjacent factors along the extraction order. ``bound`` takes every adjacent factor at
        its stated value, or at the low/high end of its stated range (a value without a range is used as is):
        'low' gives the hardest separations, 'high' the easiest.
        """
        comps = list(components)
        unknown = [c for c in comps if c not in self.order]
        if unknown:
            raise InputError(
                f"the {self.name} parameter set has no separation factors for {unknown}; it covers "
                f"{list(self.order)}",
                field="components",
            )
        if bound not in ("value", "low", "high"):
            raise InputError(f"bound must be 'value', 'low' or 'high', got {bound!r}", field="bound")
        log_beta = {self.order[0]: 0.0}
        for lighter, heavier in itertools.pairwise(self.order):
            sv = self.adjacent[(lighter, heavier)]
            b = float(sv.magnitude())
            if bound != "value" and sv.range is not None:
                b = float(sv.range[0] if bound == "low" else sv.range[1])
            log_beta[heavier] = log_beta[lighter] + math.log(b)
        base = min(log_beta[c] for c in comps) if comps else 0.0
        return {c: math.exp(log_beta[c] - base) for c in comps}

    def to_dict(self) -> dict[str, object]:
        """JSON-ready description with each factor's value, range, kind and source id."""
        return {
            "name": self.name,
            "order": list(self.order),
            "stoichiometry": self.stoichiometry,
            "conditions": self.conditions,
            "adjacent": [
                {
                    "pair": f"{h}/{lt}",
                    "beta": float(v.magnitude()),
                    "range": list(v.range) if v.range else None,
                    "kind": v.kind,
                    "source": v.source.id,
                }
                for (lt, h), v in self.adjacent.items()
            ],
            "log10_kex": self.log10_kex,
            "counter_ion_log10_k": {ion: float(v.magnitude()) for ion, v in self.counter_ion_values.items()},
            "sources": [s.id for s in self.sources],
        }


def list_extractants(dataset: Dataset | None = None) -> list[str]:
    """Names of the shipped extractant parameter sets."""
    ds = dataset or load_dataset()
    names = {k[len(PREFIX) :].split(".")[0] for k in ds.keys(PREFIX)}
    return sorted(n for n in names if ds.keys(f"{PREFIX}{n}.order"))


def load_extractant(name: str, dataset: Dataset | None = None) -> Extractant:
    """The parameter set ``name`` (case-insensitive; aliases such as PC88A, D2EHPA, Cyanex 272 accepted)."""
    if not isinstance(name, str):
        raise InputError(f"expected an extractant name, got {name!r}", field="extractant")
    if dataset is None:
        return _load_packaged(name.strip().lower())
    return _load(name, dataset)


@functools.cache
def _load_packaged(name: str) -> Extractant:
    return _load(name, load_dataset())


def _load(name: str, ds: Dataset) -> Extractant:
    known = list_extractants(ds)
    canonical = ALIASES.get(name.strip().lower()) or next(
        (k for k in known if k.lower() == name.lower()), None
    )
    if canonical is None or canonical not in known:
        raise InputError(f"unknown extractant {name!r}; shipped: {known}", field="extractant")
    base = f"{PREFIX}{canonical}"
    order = tuple(s.strip() for s in ds.text(f"{base}.order").split(","))
    adjacent: dict[tuple[str, str], SourcedValue] = {}
    for lighter, heavier in itertools.pairwise(order):
        key = f"{base}.beta.{heavier}_{lighter}"
        if not ds.keys(key):
            raise InputError(f"missing separation factor {key}", field=key)
        sv = ds.get(key)
        if not float(sv.magnitude()) > 1.0:
            raise InputError(f"{key}: an adjacent separation factor must exceed 1, got {sv.value}", field=key)
        adjacent[(lighter, heavier)] = sv
    kex = {k.rsplit(".", 1)[1]: ds.get(k) for k in ds.keys(f"{base}.log10_kex.")}
    counter = {k.rsplit(".", 1)[1]: ds.get(k) for k in ds.keys(f"{base}.log10_k_counter_ion.")}
    return Extractant(
        name=canonical,
        order=order,
        adjacent=adjacent,
        log10_kex_values=kex,
        stoichiometry=ds.text(f"{base}.stoichiometry"),
        conditions=ds.text(f"{base}.conditions"),
        counter_ion_values=counter,
    )
