"""The inputs of a scenario study: every ranged number the scenario reads, with its distribution.

Defaults (an entry of the dataset with a stated range ``[low, high]``):

- a year (a whole number in a key naming a year): every whole year of the range equally likely;
- an ``assumption``: uniform on the range when its value is the range's middle (the range states ignorance);
  triangular peaking at the value when the value sits off the middle (e.g. 4,000 in [2,000, 8,000]): the
  author named a best guess, and a uniform draw would move the sample's median to the wider side (5,000);
- a sourced number (measured, reported, estimate, derived): triangular on the range, peaking at the value;
- an entry without a range whose sources disagree (several numbers for one key, apart by more than the
  dataset's conflict tolerance, 1 %): ``sources``, the values of its conflicting sources, equally likely.

Declarations change that (``data/distributions/*.yaml``, then the scenario's ``settings.uncertainty``, then
a study's ``--inputs`` file, each overriding the one before by key): another family (uniform, triangular,
normal, lognormal, integer, discrete, sources, or ``fixed`` to hold the number at its value), discrete
choices (a composition key and the compositions that may stand in for it) and rank correlations (a number,
or ``derived_from`` two yearly price series of the dataset).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from mine2magnet.analysis.uncertainty.distributions import (
    Discrete,
    Distribution,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
)
from mine2magnet.analysis.uncertainty.inputs import COMPOSITION, VALUE, Input
from mine2magnet.analysis.uncertainty.sampling import Correlation
from mine2magnet.data import DEFAULT_RELATIVE_TOLERANCE, Dataset
from mine2magnet.errors import InputError

#: The package's declarations.
PACKAGE_DECLARATIONS = Path(__file__).resolve().parents[2] / "data" / "distributions"

#: Fewest year-on-year changes a correlation derived from two price series needs.
MIN_CHANGES = 4

#: A derived rank correlation is kept within +-this (a few yearly changes cannot support more).
MAX_DERIVED_RHO = 0.9

FAMILIES = ("uniform", "triangular", "normal", "lognormal", "integer", "discrete", "sources", "fixed")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DistributionSpec(_Strict):
    """A declared distribution of one dataset number (in the unit of its preferred entry)."""

    key: str = Field(description="Dataset key of the number.")
    distribution: Literal[FAMILIES] = Field(description="Family (see the module doc).")  # type: ignore[valid-type]
    low: float | None = Field(None, description="Lower bound (uniform, triangular, integer; normal: cut).")
    high: float | None = Field(None, description="Upper bound (uniform, triangular, integer; normal: cut).")
    mode: float | None = Field(None, description="Peak of a triangle (default: the stated value).")
    mean: float | None = Field(None, description="Mean of a normal (default: the stated value).")
    sd: float | None = Field(None, gt=0, description="Standard deviation of a normal.")
    median: float | None = Field(None, gt=0, description="Median of a log-normal (default: the value).")
    sigma: float | None = Field(None, gt=0, description="Standard deviation of the log of a log-normal.")
    options: list[float] | None = Field(None, description="Values of a discrete distribution.")
    probabilities: list[float] | None = Field(None, description="Their probabilities (default equal).")
    kind: str = Field("assumption", description="How the distribution was obtained.")
    source: str | None = Field(None, description="Bibliography id of the numbers, if taken from one.")
    note: str = Field(min_length=1, description="Why this distribution.")


class ChoiceSpec(_Strict):
    """A discrete unknown: which composition stands for `composition` (light / middle-Y / heavy clays)."""

    name: str = Field(description="Name of the input (e.g. clay_composition).")
    composition: str = Field(description="Composition key the scenario reads.")
    options: dict[str, str] = Field(min_length=2, description="Label -> composition key standing in for it.")
    probabilities: list[float] | None = Field(None, description="One per option (default equal).")
    kind: str = "assumption"
    note: str = Field(min_length=1)


class CorrelationSpec(_Strict):
    """A rank correlation of two inputs: a number, or derived from two yearly price series of the dataset."""

    first: str
    second: str
    rho: float | None = Field(None, gt=-1, lt=1)
    derived_from: tuple[str, str] | None = None
    kind: str = "assumption"
    range: tuple[float, float] | None = None
    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one(self) -> CorrelationSpec:
        if (self.rho is None) == (self.derived_from is None):
            raise ValueError("give either rho or derived_from (two series stems)")
        if self.kind == "assumption" and self.rho is not None and self.range is None:
            raise ValueError(
                "range: an assumed correlation needs a range [low, high] stating its uncertainty"
            )
        return self


class DeclarationsFile(_Strict):
    """A declarations file (``data/distributions/*.yaml``, --inputs file, ``settings.uncertainty``)."""

    distributions: list[DistributionSpec] = Field(default_factory=list)
    choices: list[ChoiceSpec] = Field(default_factory=list)
    correlations: list[CorrelationSpec] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list, description="Key prefixes held at their values.")


@dataclass
class Declarations:
    """Declarations merged in order (later ones win, by key / choice name / pair)."""

    distributions: dict[str, DistributionSpec] = field(default_factory=dict)
    choices: dict[str, ChoiceSpec] = field(default_factory=dict)
    correlations: dict[tuple[str, str], CorrelationSpec] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)  # key of a declared distribution -> its file

    def add(self, spec: DeclarationsFile, label: str) -> None:
        """Merge `spec` (from `label`) over what is declared."""
        self.distributions.update({d.key: d for d in spec.distributions})
        self.where.update({d.key: label for d in spec.distributions})
        self.choices.update({c.name: c for c in spec.choices})
        self.correlations.update({tuple(sorted((c.first, c.second))): c for c in spec.correlations})
        self.exclude.extend(spec.exclude)
        self.files.append(label)


def parse_declarations(data: Any, label: str) -> DeclarationsFile:
    """Validate a declarations mapping; the first error names `label` and the field."""
    try:
        return DeclarationsFile.model_validate(data or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise InputError(err["msg"], file=label, field=loc or None) from None


def read_declarations(path: str | Path) -> DeclarationsFile:
    """A declarations YAML file."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the declarations file ({exc.strerror})", file=str(p)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({' '.join(str(exc).split())})", file=str(p)) from None
    if data is not None and not isinstance(data, Mapping):
        raise InputError("expected a mapping with distributions, choices, correlations", file=str(p))
    return parse_declarations(data, str(p))


def load_declarations(extra: Sequence[str | Path] = (), scenario_settings: Any = None) -> Declarations:
    """The package's declarations, then the scenario's ``settings.uncertainty``, then `extra` files."""
    decl = Declarations()
    for path in sorted(PACKAGE_DECLARATIONS.glob("*.yaml")):
        decl.add(read_declarations(path), f"data/distributions/{path.name}")
    if scenario_settings:
        decl.add(parse_declarations(scenario_settings, "settings.uncertainty"), "settings.uncertainty")
    for path in extra:
        decl.add(read_declarations(path), str(path))
    return decl


def _is_year(key: str, value: float, low: float, high: float) -> bool:
    whole = all(float(x).is_integer() for x in (value, low, high))
    return whole and "year" in key.rsplit(".", 1)[-1] and 1800 <= low <= high <= 2200


#: An assumption's value within this share of its range's width from the middle counts as centred.
CENTRED = 0.05


def _centred(value: float, low: float, high: float) -> bool:
    """True when `value` sits at the middle of [low, high] (within CENTRED of the width)."""
    return abs(value - (low + high) / 2.0) <= CENTRED * (high - low)


def default_distribution(dataset: Dataset, key: str) -> tuple[Distribution, str] | None:
    """The default distribution of a dataset number and where it comes from (None: not uncertain)."""
    entries = dataset.all(key)
    entry = entries[0]
    if entry.is_text:
        return None
    value = float(entry.magnitude())
    if entry.range is not None:
        low, high = (float(x) for x in entry.range)
        if high <= low:
            return None
        if _is_year(key, value, low, high):
            return Discrete.integers(int(low), int(high)), "range (whole years)"
        if entry.kind == "assumption" and _centred(value, low, high):
            return Uniform(low, high), "range of an assumption centred on its value (uniform)"
        if entry.kind == "assumption":
            origin = "range of an assumption off its middle (triangular, peak at the value)"
            return Triangular(low, value, high), origin
        return Triangular(low, value, high), f"range of a {entry.kind} value (triangular, peak at the value)"
    numbers = []
    for e in entries:
        if e.is_text:
            continue
        try:
            numbers.append(float(e.magnitude(entry.unit)))
        except Exception:  # an entry in a unit that does not convert is not the same quantity
            continue
    distinct = sorted(set(numbers))
    if len(distinct) > 1 and not _agree(distinct):
        return Discrete(tuple(distinct), family="sources"), f"values of its {len(numbers)} sources"
    return None


def _agree(values: Sequence[float]) -> bool:
    """True when the values of several sources agree within the dataset's conflict tolerance (rounding)."""
    low, high = min(values), max(values)
    return high - low <= DEFAULT_RELATIVE_TOLERANCE * max(abs(low), abs(high))


def declared_distribution(spec: DistributionSpec, dataset: Dataset, label: str) -> Distribution | None:
    """The distribution a declaration states (None for ``fixed``)."""
    entry = dataset.get(spec.key)
    if entry.is_text:
        raise InputError(f"{spec.key!r} is a text value; only numbers get distributions", file=label)
    value = float(entry.magnitude())
    rng = entry.range
    low = spec.low if spec.low is not None else (rng[0] if rng else None)
    high = spec.high if spec.high is not None else (rng[1] if rng else None)
    where = f"distributions[{spec.key}]"
    try:
        if spec.distribution == "fixed":
            return None
        if spec.distribution in ("uniform", "triangular", "integer"):
            if low is None or high is None:
                raise InputError(f"{spec.distribution}: give low and high (the entry states no range)")
            if spec.distribution == "uniform":
                return Uniform(low, high)
            if spec.distribution == "integer":
                return Discrete.integers(int(low), int(high))
            return Triangular(low, spec.mode if spec.mode is not None else value, high)
        if spec.distribution == "normal":
            if spec.sd is None:
                raise InputError("normal: give sd")
            return Normal(spec.mean if spec.mean is not None else value, spec.sd, spec.low, spec.high)
        if spec.distribution == "lognormal":
            if spec.sigma is None:
                raise InputError("lognormal: give sigma")
            return LogNormal(spec.median if spec.median is not None else value, spec.sigma)
        if spec.distribution == "discrete":
            if not spec.options:
                raise InputError("discrete: give options")
            return Discrete(tuple(spec.options), tuple(spec.probabilities or ()))
        got = default_distribution(dataset, spec.key)
        entries = [e for e in dataset.all(spec.key) if not e.is_text]
        values = tuple(sorted({float(e.magnitude(entry.unit)) for e in entries}))
        if len(values) < 2:
            raise InputError(f"sources: {spec.key!r} has one value only ({got})")
        return Discrete(values, tuple(spec.probabilities or ()), family="sources")
    except InputError as exc:
        raise InputError(str(exc), file=label, field=where) from None


def series_rank_correlation(dataset: Dataset, first: str, second: str) -> tuple[float, int]:
    """Spearman's rho of the year-on-year log changes of two yearly series (``<stem>.<year>``), and n.

    Only consecutive years both series hold count.
    """
    a, b = dataset.series(first), dataset.series(second)
    da, db = [], []
    for y in sorted(set(a) & set(b)):
        if y - 1 in a and y - 1 in b:
            try:
                va = [a[y].magnitude("USD/kg"), a[y - 1].magnitude("USD/kg")]
                vb = [b[y].magnitude("USD/kg"), b[y - 1].magnitude("USD/kg")]
            except Exception:
                va = [a[y].magnitude(), a[y - 1].magnitude()]
                vb = [b[y].magnitude(), b[y - 1].magnitude()]
            if min(va + vb) > 0:
                da.append(math.log(va[0] / va[1]))
                db.append(math.log(vb[0] / vb[1]))
    if len(da) < MIN_CHANGES:
        return math.nan, len(da)
    rho = float(stats.spearmanr(da, db).statistic)
    return rho, len(da)


@dataclass
class StudyInputs:
    """The inputs of a study, their correlations, and what was left out and why."""

    inputs: list[Input]
    correlations: list[Correlation]
    left_out: list[dict[str, str]]
    declarations: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "inputs": [i.to_dict() for i in self.inputs],
            "correlations": [{"first": c.first, "second": c.second, "rho": c.rho} for c in self.correlations],
            "left_out": self.left_out,
            "declarations": self.declarations,
        }


def scenario_inputs(
    scenario: Any,
    dataset: Dataset,
    declarations: Declarations,
    only: Sequence[str] = (),
) -> StudyInputs:
    """The uncertain inputs of a loaded `scenario`: ranged dataset numbers it reads, declared choices and
    distributions of keys it reads, and the declared correlations between them.

    `only`: key prefixes (or choice names) to keep; the others stay at their values.
    """
    table = scenario.assumptions
    keys = [k for k in dict.fromkeys(table["data_key"].tolist()) if k]
    compositions = set(dataset.compositions())
    inputs: list[Input] = []
    left_out: list[dict[str, str]] = []

    def wanted(name: str) -> bool:
        if any(name.startswith(p) for p in declarations.exclude):
            return False
        return not only or any(name == p or name.startswith(p) for p in only)

    for choice in declarations.choices.values():
        if choice.composition not in keys or not (wanted(choice.name) or wanted(choice.composition)):
            continue
        for target in choice.options.values():
            dataset.all_compositions(target)  # unknown composition: an error naming close matches
        dist = Discrete(tuple(choice.options.values()), tuple(choice.probabilities or ()), family="choice")
        inputs.append(
            Input(
                choice.composition, dist, kind=COMPOSITION, origin=choice.note, labels=tuple(choice.options)
            )
        )
    for key in keys:
        if key in compositions or not wanted(key):
            continue
        spec = declarations.distributions.get(key)
        if spec is not None:
            dist = declared_distribution(spec, dataset, declarations.where.get(key, "declarations"))
            if dist is None:
                left_out.append({"key": key, "why": f"declared fixed: {spec.note}"})
                continue
            origin = f"declared ({spec.kind}): {spec.note}"
        else:
            got = default_distribution(dataset, key)
            if got is None:
                continue
            dist, origin = got
        inputs.append(Input(key, dist, kind=VALUE, unit=dataset.get(key).unit, origin=origin))
    inline = table[(table["data_key"] == "") & table["range_low"].notna()]
    left_out.extend(
        {"key": str(r.key), "why": "a ranged number written in the scenario file, not a dataset key"}
        for r in inline.itertuples(index=False)
    )
    names = {i.name for i in inputs}
    correlations: list[Correlation] = []
    for spec in declarations.correlations.values():
        if spec.first not in names or spec.second not in names:
            continue
        if spec.rho is not None:
            rho = spec.rho
        else:
            assert spec.derived_from is not None
            rho, n = series_rank_correlation(dataset, *spec.derived_from)
            if not math.isfinite(rho):
                left_out.append(
                    {
                        "key": f"{spec.first} ~ {spec.second}",
                        "why": f"{n} yearly changes in common (< {MIN_CHANGES})",
                    }
                )
                continue
            rho = float(np.clip(rho, -MAX_DERIVED_RHO, MAX_DERIVED_RHO))
        if rho != 0.0:
            correlations.append(Correlation(spec.first, spec.second, rho))
    return StudyInputs(inputs, correlations, left_out, list(declarations.files))
