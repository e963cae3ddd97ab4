"""A study's answers in one JSON-ready record, and the small default study behind the report's ranges.

``study_answers`` gathers what a decision maker reads: P5-P50-P95 of each headline KPI by year, the
probability of each stated condition and published claim, the split by the ionic-clay composition, and the
sensitivity of the chosen outputs (Sobol' or Morris indices for those designs, tornado swings otherwise)
with the convergence of their percentiles.

``headline_ranges`` is what ``mine2magnet run`` writes as ``uncertainty.json``: a small Latin-hypercube
sample of the scenario (default :data:`REPORT_DRAWS` draws) and ``{kpi: {year: (p5, p50, p95)}}``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mine2magnet.analysis.uncertainty.conditions import Condition, OutputRef
from mine2magnet.analysis.uncertainty.inputs import COMPOSITION
from mine2magnet.analysis.uncertainty.results import StudyResult
from mine2magnet.errors import InputError

#: Stated targets checked by default (the issue's example: the refinery fed at >= 80 % every year to 2035).
DEFAULT_CONDITIONS: tuple[str, ...] = ("feed_sufficiency[Lynas Malaysia] >= 0.8 every year to 2035",)

#: Outputs whose sensitivity is reported by default.
DEFAULT_OUTPUTS: tuple[str, ...] = (
    "national_value_added_usd[total]@2040",
    "magnet_self_sufficiency[Dy]@2030",
    "feed_sufficiency[Lynas Malaysia]@2035",
)

#: KPIs of the report's ranges (totals by year, or the subject after a colon).
REPORT_KPIS: tuple[str, ...] = (
    "national_value_added_usd",
    "domestic_value_added_usd",
    "jobs_total",
    "smuggling_loss_usd",
    "unmet_demand_t",
    "feed_sufficiency:Lynas Malaysia",
    "magnet_self_sufficiency:Dy",
    "magnet_self_sufficiency:Nd",
)

#: Draws of the report's default study (a Latin hypercube; P5 and P95 of so few draws are indicative).
REPORT_DRAWS = 12


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if hasattr(x, "item"):
        return _clean(x.item())
    return x


def study_answers(
    result: StudyResult,
    conditions: Sequence[str] = DEFAULT_CONDITIONS,
    outputs: Sequence[str] = DEFAULT_OUTPUTS,
    top: int = 10,
) -> dict[str, Any]:
    """Everything a study answers, JSON-ready (None for numbers that cannot be computed)."""
    out: dict[str, Any] = result.to_dict()
    probs = []
    for text in conditions:
        try:
            probs.append(result.probability(Condition.parse(text)))
        except InputError as exc:
            probs.append({"condition": text, "error": str(exc)})
    out["conditions"] = probs
    choices = [i.name for i in result.inputs if i.kind == COMPOSITION]
    sens: dict[str, Any] = {}
    for text in outputs:
        ref = OutputRef.parse(text)
        entry: dict[str, Any] = {}
        try:
            result.vector(ref)
        except InputError as exc:
            sens[text] = {"error": str(exc)}
            continue
        method = result.sample.method
        try:
            if method == "sobol":
                entry["sobol"] = result.sobol(ref).head(top).to_dict(orient="records")
            elif method == "morris":
                entry["morris"] = result.morris(ref).head(top).to_dict(orient="records")
            else:
                entry["tornado"] = result.tornado(ref, top=top).to_dict(orient="records")
                if result.draws["ok"] >= 8:
                    entry["convergence"] = result.convergence(ref)
        except InputError as exc:
            entry["error"] = str(exc)
        for choice in choices:
            entry.setdefault("split", {})[choice] = result.split(ref, choice).to_dict(orient="records")
        sens[text] = entry
    out["outputs"] = sens
    return _clean(out)


def headline_ranges(
    scenario: str = "malaysia-base",
    draws: int = REPORT_DRAWS,
    seed: int = 0,
    workers: int | None = None,
    kpis: Sequence[str] = REPORT_KPIS,
    overrides: Sequence[str] = (),
) -> dict[str, dict[int, tuple[float, float, float]]]:
    """``{kpi: {year: (p5, p50, p95)}}`` of the headline KPIs from a small Latin-hypercube study.

    A KPI is a total (``national_value_added_usd``) or a subject's (``magnet_self_sufficiency:Dy``). Runs on
    `workers` processes (default: 2 if the machine has them, else 1); no file is written.
    """
    return headline_study(scenario, draws, seed, workers, kpis, overrides)["ranges"]


def headline_study(
    scenario: str = "malaysia-base",
    draws: int = REPORT_DRAWS,
    seed: int = 0,
    workers: int | None = None,
    kpis: Sequence[str] = REPORT_KPIS,
    overrides: Sequence[str] = (),
    end_year: int | None = None,
    feed_from: Sequence[tuple[str, Sequence[str]]] = (),
) -> dict[str, Any]:
    """The ranges of :func:`headline_ranges` with what the report prints beside them (draws, seconds,
    the clay split of Dy self-sufficiency in 2030, the command of a full study) and ``briefing``, the ranges
    of the briefing's answers (:func:`briefing_ranges`).

    `feed_from`: (scenario, overrides) of compared scenarios whose refineries the reference does not have
    (the briefing's feed answer is about such a refinery when a comparison adds one): each gets a sample of
    its own (same size and seed, no claims) for the ``feed:<refinery>`` ranges of its new refineries,
    recorded under ``feed_samples``.
    """
    from mine2magnet.analysis.uncertainty.study import run_scenario_study

    if workers is None:
        workers = 2 if (os.cpu_count() or 1) >= 2 else 1
    t0 = time.perf_counter()
    result = run_scenario_study(
        scenario, draws=draws, seed=seed, workers=workers, overrides=overrides, end_year=end_year
    )
    briefing = briefing_ranges(result, *_countries(scenario, overrides, end_year))
    feed_samples = []
    for other, other_overrides in feed_from:
        t1 = time.perf_counter()
        sample = run_scenario_study(
            other,
            draws=draws,
            seed=seed,
            workers=workers,
            overrides=other_overrides,
            end_year=end_year,
            claims=False,
        )
        found = {
            k: v for k, v in briefing_ranges(sample).items() if k.startswith("feed:") and k not in briefing
        }
        briefing.update(found)
        feed_samples.append(
            {
                "scenario": "+".join([other, *other_overrides]),
                "answers": sorted(found),
                "draws": sample.draws,
                "seconds": round(time.perf_counter() - t1, 1),
            }
        )
    ranges: dict[str, dict[int, tuple[float, float, float]]] = {}
    for name in kpis:
        kpi, _, subject = name.partition(":")
        got = result.ranges([kpi], subject or "total").get(kpi)
        if got:
            ranges[name] = got
    split = {}
    clay = [i.name for i in result.inputs if i.kind == COMPOSITION]
    if clay:
        try:
            split = result.split("magnet_self_sufficiency[Dy]@2030", clay[0]).to_dict(orient="records")
        except InputError:
            split = {}
    command = f"mine2magnet uncertainty {scenario} --draws 1000 --workers 2 --out out/{scenario}-uncertainty"
    if overrides:
        command = command.replace(f" {scenario} ", f" {scenario} --scenario {','.join(overrides)} ", 1)
    return {
        "scenario": scenario,
        "ranges": ranges,
        "briefing": briefing,
        "feed_samples": feed_samples,
        "draws": result.draws,
        "method": "lhs",
        "seed": seed,
        "inputs": len(result.inputs),
        "seconds": round(time.perf_counter() - t0, 1),
        "clay_split": {"output": "magnet_self_sufficiency[Dy]@2030", "options": split},
        "claims": result.claims().to_dict(orient="records"),
        "command": command,
        "note": f"P5-P50-P95 over {result.draws['ok']} Latin-hypercube draws of {len(result.inputs)} inputs: "
        "indicative; run the command for a full study",
    }


def _countries(scenario: str, overrides: Sequence[str], end_year: int | None) -> tuple[dict[str, str], str]:
    """Each facility's country and the focus country of the scenario (at its preferred values)."""
    from mine2magnet.analysis.uncertainty.models import ScenarioModel

    model = ScenarioModel(scenario, tuple(overrides), end_year).scenario_for_base().model
    facilities = model.network.facilities.values()
    return {f.name: str(f.country or "") for f in facilities}, str(model.focus_country or "")


#: The briefing's answers that are sums over the run's years of one KPI's total (report/briefing.py): the
#: value kept at home and what smuggling costs.
BRIEFING_SUMS: dict[str, str] = {"value": "national_value_added_usd", "smuggling": "smuggling_loss_usd"}

#: The residue answer's figures (in the focus country): held at the end of the last year and added over the
#: run's years, in t and Bq; each is the answer key ``residue`` (held t) or ``residue_<name>``.
BRIEFING_RESIDUE: dict[str, tuple[str, str]] = {
    "residue": ("residue_accumulated_t", "end"),
    "residue_bq": ("residue_accumulated_bq", "end"),
    "residue_new": ("residue_produced_t", "sum"),
    "residue_new_bq": ("residue_produced_bq", "sum"),
}


def _percentiles(per_draw: Any) -> tuple[float, float, float] | None:
    values = np.asarray(per_draw, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    p5, p50, p95 = np.percentile(values, [5, 50, 95])
    return float(p5), float(p50), float(p95)


def briefing_ranges(
    result: Any, countries: Mapping[str, str] | None = None, focus: str = ""
) -> dict[str, tuple[float, float, float]]:
    """``{answer key: (p5, p50, p95)}`` of the briefing's figures, each the percentiles over the draws of
    the draw's own figure (the percentiles of a sum or a minimum, not the sum or minimum of percentiles):

    - ``value``, ``smuggling``: the sum over the run's years of the KPI's total (draws that have every year);
    - ``feed:<refinery>``: the lowest yearly share of the refinery's capacity fed, over the years it runs;
    - ``magnets``: the lowest share of the magnet plants' needs met at home, over elements and years;
    - ``residue``, ``residue_bq``: residue held at the end of the last year (t, Bq); ``residue_new``,
      ``residue_new_bq``: residue added over the run's years — of the facilities in `focus` (their
      country in `countries`; every facility without them).
    """
    out: dict[str, tuple[float, float, float]] = {}
    for key, kpi in BRIEFING_SUMS.items():
        rows = result.outputs(kpi)
        rows = rows[rows["subject"] == "total"]
        if rows.empty:
            continue
        years = rows["year"].nunique()
        by_draw = rows.groupby("draw")["value"].agg(["sum", "count"])
        found = _percentiles(by_draw.loc[by_draw["count"] == years, "sum"])
        if found:
            out[key] = found
    feed = result.outputs("feed_sufficiency")
    feed = feed[feed["subject"] != "total"]
    for refinery, rows in feed.groupby("subject", sort=True):
        found = _percentiles(rows.groupby("draw")["value"].min())
        if found:
            out[f"feed:{refinery}"] = found
    magnets = result.outputs("magnet_self_sufficiency")
    magnets = magnets[magnets["subject"] != "total"]
    if not magnets.empty:
        found = _percentiles(magnets.groupby("draw")["value"].min())
        if found:
            out["magnets"] = found
    for key, (kpi, how) in BRIEFING_RESIDUE.items():
        rows = result.outputs(kpi)
        rows = rows[rows["subject"] != "total"]
        if countries is not None and focus:
            facility = rows["subject"].str.rsplit(":", n=1).str[0]
            rows = rows[facility.map(lambda f: countries.get(f, "") == focus).astype(bool)]
        if rows.empty:
            continue
        if how == "end":  # every draw with rows in the last year (a draw holding none in `focus` holds 0)
            every = result.outputs(kpi)
            last = int(every["year"].max())
            held = rows[rows["year"] == last].groupby("draw")["value"].sum()
            drawn = sorted(set(every.loc[every["year"] == last, "draw"]))
            found = _percentiles(held.reindex(drawn, fill_value=0.0))
        else:
            found = _percentiles(rows.groupby("draw")["value"].sum())
        if found:
            out[key] = found
    return out


def write_headline_json(out: str | Path, scenario: str = "malaysia-base", **kw: Any) -> Path:
    """Run :func:`headline_study` and write it as ``OUT/uncertainty.json`` (years as keys; atomically)."""
    study = headline_study(scenario, **kw)
    payload = _clean(
        {
            **study,
            "ranges": {k: {str(y): list(v) for y, v in by.items()} for k, by in study["ranges"].items()},
            "briefing": {k: list(v) for k, v in study["briefing"].items()},
        }
    )
    target = Path(out) / "uncertainty.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".uncertainty.json.{os.getpid()}.{time.monotonic_ns()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(target)
    return target
