"""The uncertain inputs of a study and what one draw sets them to.

An input is a number of the dataset (its key; a draw replaces the preferred entry's value, in that entry's
unit), a choice of composition (a discrete unknown such as the element distribution of Malaysia's ionic
clays: each option names the dataset composition that stands in for the input's key), or a choice between
named scenario overrides (``base`` means no override).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mine2magnet.analysis.uncertainty.distributions import Discrete, Distribution
from mine2magnet.errors import InputError

#: The option of an override choice that applies no override.
BASE_OPTION = "base"

#: Kinds of input.
VALUE, OVERRIDES, COMPOSITION = "value", "overrides", "composition"
KINDS = (VALUE, OVERRIDES, COMPOSITION)


@dataclass(frozen=True)
class Input:
    """One uncertain input: a dataset number (`kind` "value"), a choice of composition ("composition": the
    input's name is the composition key, each option a composition key put in its place, `labels` their
    short names) or a choice of overrides ("overrides")."""

    name: str
    distribution: Distribution
    kind: str = VALUE
    unit: str | None = None
    origin: str = ""  # where the distribution comes from (the entry's range, the study file, ...)
    labels: tuple[str, ...] = ()  # short names of the options of a choice (e.g. light, middle-Y, heavy)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(
                f"input {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        d = self.distribution
        if self.kind in (OVERRIDES, COMPOSITION) and not (isinstance(d, Discrete) and not d.numeric):
            raise InputError(f"input {self.name!r}: a choice of {self.kind} needs named options")
        if self.labels and (not isinstance(d, Discrete) or len(self.labels) != len(d.options)):
            raise InputError(f"input {self.name!r}: one label per option expected")
        if self.kind == VALUE and isinstance(d, Discrete) and not d.numeric:
            raise InputError(f"input {self.name!r}: the options of a dataset number must be numbers")

    def option(self, x: float) -> float | str:
        """What the input is set to at the sampled number `x` (a value, or an override name)."""
        if isinstance(self.distribution, Discrete):
            return self.distribution.option(x)
        return float(x)

    def label(self, x: float) -> str:
        """The short name of what the input is set to at `x` (a choice's label, else the option)."""
        if self.labels:
            return self.labels[int(x)]
        chosen = self.option(x)
        return chosen if isinstance(chosen, str) else f"{chosen:g}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {
            "labels": list(self.labels),
            "name": self.name,
            "kind": self.kind,
            "unit": self.unit,
            "origin": self.origin,
            "describe": self.distribution.describe(),
            **self.distribution.to_dict(),
        }


@dataclass(frozen=True)
class DrawInputs:
    """What one draw sets: dataset numbers by key, compositions swapped, the named overrides chosen."""

    values: Mapping[str, float] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()
    choices: Mapping[str, str] = field(default_factory=dict)  # choice name -> option (incl. "base")
    compositions: Mapping[str, str] = field(default_factory=dict)  # composition key -> key standing in

    def as_dict(self) -> dict[str, float | str]:
        """Every input by name: numbers, and the option of each choice."""
        return {**self.values, **self.choices}


def draw_inputs(inputs: Sequence[Input], row: np.ndarray) -> DrawInputs:
    """The inputs of one draw from its row of the sample (values, or option indices for discrete inputs)."""
    values: dict[str, float] = {}
    choices: dict[str, str] = {}
    overrides: list[str] = []
    compositions: dict[str, str] = {}
    for inp, x in zip(inputs, row, strict=True):
        chosen = inp.option(float(x))
        if inp.kind == COMPOSITION:
            choices[inp.name] = inp.label(float(x))
            if chosen != inp.name:
                compositions[inp.name] = str(chosen)
        elif inp.kind == OVERRIDES:
            choices[inp.name] = str(chosen)
            if chosen != BASE_OPTION:
                overrides.append(str(chosen))
        else:
            values[inp.name] = float(chosen)
    return DrawInputs(values, tuple(overrides), choices, compositions)


def check_names(inputs: Sequence[Input]) -> None:
    """Refuse a study with no input or with two inputs of one name."""
    if not inputs:
        raise InputError("the study has no uncertain input (no ranged value, no declared distribution)")
    seen: set[str] = set()
    for inp in inputs:
        if inp.name in seen:
            raise InputError(f"input {inp.name!r} is declared twice")
        seen.add(inp.name)
