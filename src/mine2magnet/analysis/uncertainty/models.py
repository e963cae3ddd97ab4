"""What a study evaluates for each draw: a scenario run, or a plain function (to check the method).

A model is a picklable callable ``model(inputs: DrawInputs) -> list[Row]`` (rows ``(year, kpi, subject,
value)``). Backends send the model and the draws' inputs to the workers; whatever a worker keeps between
draws (the dataset, the scenario file, refinery flowsheet runs) is a cache of things that do not depend on the
draw, so a draw gives the same rows on any worker.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mine2magnet.analysis.uncertainty.flowsheet_runs import DrawPerformances, FlowsheetRuns
from mine2magnet.analysis.uncertainty.inputs import DrawInputs
from mine2magnet.analysis.uncertainty.outputs import HEADLINE_KPIS, Row, kpi_rows
from mine2magnet.chain import ChainResult
from mine2magnet.data import Dataset, load_dataset
from mine2magnet.errors import InputError


@dataclass(frozen=True)
class ScenarioModel:
    """One draw = one run of `scenario` (+ `overrides`, + the overrides the draw chooses) on the draw's data.

    `end_year` stops the runs early (a shorter study); `data` adds a user data folder on top of the package
    data; `kpis` are the KPIs kept (see ``outputs.py``); `claims` adds, for each published claim of a year the
    run covers, whether it holds (``claim_holds``, 1 or 0) and the modelled figure in the claim's unit
    (``claim_model``), the subject being ``<claim key>|<source id>``.
    """

    scenario: str
    overrides: tuple[str, ...] = ()
    end_year: int | None = None
    data: str | None = None
    kpis: tuple[str, ...] = HEADLINE_KPIS
    claims: bool = True

    #: Draws sent to a worker at once (a draw takes a fraction of a second to seconds).
    draws_per_chunk: ClassVar[int] = 4

    def describe(self) -> dict[str, Any]:
        """What the model is, for the study's fingerprint and record."""
        return {
            "kind": "scenario",
            "scenario": self.scenario,
            "overrides": list(self.overrides),
            "end_year": self.end_year,
            "data": self.data,
            "kpis": list(self.kpis),
            "claims": self.claims,
        }

    def dataset(self) -> Dataset:
        """The dataset draws start from (package data, plus the user folder if any)."""
        return _prepared(self).dataset

    def draw_dataset(self, inputs: DrawInputs) -> Dataset:
        """The dataset of a draw: compositions swapped, then the drawn numbers."""
        ds = _prepared(self).with_compositions(inputs.compositions)
        return ds.with_values(inputs.values) if inputs.values else ds

    def scenario_for_base(self) -> Any:
        """The scenario at the dataset's preferred values (what the study's inputs are read from)."""
        from mine2magnet.scenario import load_scenario

        return load_scenario(self.scenario, list(self.overrides), dataset=self.dataset())

    def scenario_for(self, inputs: DrawInputs, dataset: Dataset | None = None) -> Any:
        """The loaded scenario of a draw: its data, its overrides, shared flowsheet runs, its years.

        The scenario file is read, merged and validated once per process and overrides; each draw builds
        the model from its own copy on its dataset (what ``load_scenario`` of the drawn scenario gives, but
        for the assumptions table, which a draw does not read: left empty)."""
        from mine2magnet.scenario import build_scenario

        prepared = _prepared(self)
        ds = dataset if dataset is not None else self.draw_dataset(inputs)
        resolved = prepared.resolved(self.scenario, (*self.overrides, *inputs.overrides))
        sc = build_scenario(resolved, ds, assumptions=False)
        sc.model.performances = DrawPerformances(prepared.flowsheets, inputs.values)
        if self.end_year is not None:
            years = [y for y in sc.model.years if y <= self.end_year]
            if not years:
                raise InputError(
                    f"end year {self.end_year} is before the scenario's first year {sc.model.years[0]}",
                    field="end_year",
                )
            sc = dataclasses.replace(sc, model=dataclasses.replace(sc.model, years=years))
        return sc

    def __call__(self, inputs: DrawInputs) -> list[Row]:
        from mine2magnet.scenario import run_scenario

        ds = self.draw_dataset(inputs)
        sc = self.scenario_for(inputs, ds)
        result = run_scenario(sc)
        rows = kpi_rows(result.tables["kpis"], self.kpis)
        if self.claims:
            rows.extend(claim_rows(sc.model, result, ds))
        return rows


def claim_rows(model: Any, result: Any, dataset: Dataset) -> list[Row]:
    """Whether each published claim of a year the run covers holds, and the modelled figure (claim's unit).

    Claims dated before the run's first year are left out (``mine2magnet run`` checks those against the
    scenario's history; a study does not rerun the history).
    """
    from mine2magnet.economics.claims import check_claims

    years = set(result.years)
    claims = [c for c in dataset.claims() if c.period.end.year in years]
    if not claims:
        return []
    u = dataset.value("economics.claim_check.relative_uncertainty", "fraction")
    rows: list[Row] = []
    for check in check_claims(claims, model, _KpisKept.of(result), dataset, u):
        if check.holds is None or check.model is None:
            continue
        subject = f"{check.claim.key}|{check.claim.source.id}"
        year = check.claim.period.end.year
        rows.append((year, "claim_holds", subject, 1.0 if check.holds else 0.0))
        rows.append((year, "claim_model", subject, float(check.model)))
    return rows


@dataclass
class _KpisKept(ChainResult):
    """A run's result that keeps the rows of each KPI once asked for (the claims ask for a few KPIs, each
    many times); the rows are those of ``ChainResult.kpi``, in the same order."""

    asked: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, result: ChainResult) -> _KpisKept:
        """A view of `result` (its tables are shared, not copied)."""
        return cls(**{f.name: getattr(result, f.name) for f in dataclasses.fields(result)})

    def kpi(self, name: str) -> pd.DataFrame:
        """Rows of one KPI."""
        found = self.asked.get(name)
        if found is None:
            found = self.asked[name] = super().kpi(name)
        return found


@dataclass
class _Prepared:
    dataset: Dataset
    flowsheets: FlowsheetRuns
    swapped: dict[tuple[tuple[str, str], ...], Dataset] = dataclasses.field(default_factory=dict)
    scenarios: dict[tuple[str, tuple[str, ...]], Any] = dataclasses.field(default_factory=dict)

    def resolved(self, scenario: str, overrides: tuple[str, ...]) -> Any:
        """The scenario file read, merged with `overrides` and validated (a ``ResolvedScenario``), once."""
        from mine2magnet.scenario import resolve_scenario

        key = (scenario, overrides)
        found = self.scenarios.get(key)
        if found is None:
            found = self.scenarios[key] = resolve_scenario(scenario, list(overrides))
        return found

    def with_compositions(self, compositions: Mapping[str, str]) -> Dataset:
        """The dataset with each composition key's entries replaced by those of the key standing in for it."""
        if not compositions:
            return self.dataset
        key = tuple(sorted(compositions.items()))
        found = self.swapped.get(key)
        if found is None:
            found = self.swapped[key] = swap_compositions(self.dataset, compositions)
        return found


def swap_compositions(dataset: Dataset, compositions: Mapping[str, str]) -> Dataset:
    """A copy of `dataset` where each key of `compositions` holds the entries of the key it maps to."""
    values: dict[str, list[Any]] = {}
    for e in dataset.entries():
        values.setdefault(e.key, []).append(e)
    comps: dict[str, list[Any]] = {}
    for c in dataset.composition_entries():
        comps.setdefault(c.key, []).append(c)
    for target, source in compositions.items():
        dataset.all_compositions(target)  # an unknown key is an error naming close matches
        comps[target] = [dataclasses.replace(c, key=target) for c in dataset.all_compositions(source)]
    return Dataset(dataset.sources, values, comps, dataset.observations(), dataset.claims())


#: Per process: what scenario models keep between draws (dataset, flowsheet runs), by model.
_PREPARED: dict[ScenarioModel, _Prepared] = {}


def _prepared(model: ScenarioModel) -> _Prepared:
    found = _PREPARED.get(model)
    if found is None:
        ds = load_dataset(model.data, with_package_data=True) if model.data else load_dataset()
        found = _PREPARED[model] = _Prepared(ds, FlowsheetRuns(ds))
    return found


@dataclass(frozen=True)
class FunctionModel:
    """One draw = ``function(inputs)`` -> {output name: number} (kept as year 0, subject ``total``).

    `function` must be importable by name (a module-level function) for the process pool and Dask backends.
    """

    function: Callable[[Mapping[str, float | str]], Mapping[str, float]]
    draws_per_chunk: int = 256

    def describe(self) -> dict[str, Any]:
        """The function's module and name."""
        f = self.function
        return {
            "kind": "function",
            "function": f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', f)}",
        }

    def __call__(self, inputs: DrawInputs) -> list[Row]:
        out = self.function(inputs.as_dict())
        return [(0, str(k), "total", float(v)) for k, v in out.items()]


#: Ishigami-Homma constants and their exact indices (first order S1, total order ST) for x1, x2, x3.
ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(inputs: Mapping[str, float | str]) -> dict[str, float]:
    """The Ishigami-Homma function of x1, x2, x3 (each uniform on [-pi, pi]): a check of Sobol' indices."""
    x1, x2, x3 = (float(inputs[k]) for k in ("x1", "x2", "x3"))
    y = math.sin(x1) + ISHIGAMI_A * math.sin(x2) ** 2 + ISHIGAMI_B * x3**4 * math.sin(x1)
    return {"y": y}


def ishigami_inputs() -> list[Any]:
    """The three inputs of :func:`ishigami`."""
    from mine2magnet.analysis.uncertainty.distributions import Uniform
    from mine2magnet.analysis.uncertainty.inputs import Input

    return [Input(f"x{i}", Uniform(-np.pi, np.pi), origin="Ishigami-Homma") for i in (1, 2, 3)]
