"""Opening stocks from a history: a scenario may start from the closing residue stocks of another run.

``start_from: malaysia-history`` in a scenario running 2024-2040 runs ``malaysia-history`` up to 2023 and
gives each refinery and cracker the residue it held at the end of 2023 (t and Bq, by type) as its opening
stock, instead of an empty site. The history run is made once per process and scenario file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cache

from mine2magnet.chain import ChainModel, ChainNetwork, ChainResult, simulate
from mine2magnet.errors import InputError

#: facility -> residue type -> (t, Bq) held at the close of a year.
ResidueStock = Mapping[str, Mapping[str, tuple[float, float]]]


def closing_residues(result: ChainResult, year: int) -> dict[str, dict[str, tuple[float, float]]]:
    """Residue held at each facility at the close of `year`: {facility: {type: (t, Bq)}}."""
    if year not in result.years:
        raise InputError(f"the run {result.scenario_name!r} has no closing stock for {year}")
    s = result.tables["stocks"]
    s = s[(s["year"] == year) & s["stock"].str.startswith("residue:")]
    k = result.kpi("residue_accumulated_bq")
    k = k[k["year"] == year].groupby(["facility", "detail"])["value"].sum()
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for (facility, stock), t in s.groupby(["facility", "stock"])["t"].sum().items():
        kind = str(stock).removeprefix("residue:")
        if t > 0:
            out.setdefault(str(facility), {})[kind] = (float(t), float(k.get((facility, kind), 0.0)))
    return out


def with_opening_residues(model: ChainModel, residues: ResidueStock) -> ChainModel:
    """The model with each named facility's opening residue (t and Bq/g) replaced by `residues`."""
    facilities = dict(model.network.facilities)
    for name, kinds in residues.items():
        f = facilities.get(name)
        if f is None or f.kind not in ("refineries", "crackers"):
            continue  # a facility of the history the scenario does not have
        attrs = dict(f.attrs)
        attrs["initial_residue"] = {kind: t for kind, (t, _) in kinds.items()}
        attrs["initial_residue_activity"] = {
            kind: (bq / (t * 1e6) if t > 0 else 0.0) for kind, (t, bq) in kinds.items()
        }
        facilities[name] = replace(f, attrs=attrs)
    network = ChainNetwork(facilities, model.network.links, file=model.network.file)
    return replace(model, network=network)


@cache
def _history_closing(
    name: str, last_year: int
) -> tuple[tuple[str, tuple[tuple[str, float, float], ...]], ...]:
    from mine2magnet.scenario.loader import load_scenario

    history = load_scenario(name)
    first = history.model.years[0]
    if last_year < first:
        raise InputError(
            f"start_from {name!r} begins in {first}, after {last_year}, the year before this scenario starts",
            field="start_from",
        )
    model = replace(history.model, years=list(range(first, last_year + 1)))
    closing = closing_residues(simulate(model, scenario_name=history.name), last_year)
    return tuple((f, tuple((k, t, bq) for k, (t, bq) in kinds.items())) for f, kinds in closing.items())


def opening_residues(name: str, first_year: int) -> dict[str, dict[str, tuple[float, float]]]:
    """The closing residue stocks of scenario `name` at the end of `first_year - 1` (run once per process)."""
    return {f: {k: (t, bq) for k, t, bq in kinds} for f, kinds in _history_closing(name, first_year - 1)}
