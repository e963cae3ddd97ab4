"""The JSON API of the web app (``/api/...``), documented by FastAPI's OpenAPI at ``/docs`` and
``/openapi.json``.

Every input is validated: a malformed body is a 422 with pydantic's field-by-field message, a value the model
refuses is a 400 with mine2magnet's one-line error (``{"error": ...}``), an unknown name a 404; names are
slugs (``mine2magnet.app.names``), so no request reaches a file outside the app's folders.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from mine2magnet.app import compare
from mine2magnet.app.jobs import JobQueue
from mine2magnet.app.names import check_name
from mine2magnet.app.variants import VariantRequest, VariantStore, catalogue, facility_names, named_items
from mine2magnet.errors import InputError
from mine2magnet.scenario import Scenario, list_scenarios, named_overrides, unreachable_facilities
from mine2magnet.store import ResultsStore


@dataclass
class AppState:
    """What the app works on: the results store, the variants beside it, the run queue and report cache."""

    store: ResultsStore
    variants: VariantStore
    jobs: JobQueue
    reports: Path  # reports written for stored runs and comparisons


class RunRequest(BaseModel):
    """``POST /api/runs``: the scenario or variant to run."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(max_length=64, description="A built-in scenario or a saved variant")


class CascadeRequest(BaseModel):
    """``POST /api/cascade``: a cascade spec (the YAML spec's content as JSON, docs/cascade-spec.md)."""

    model_config = ConfigDict(extra="forbid")

    spec: dict[str, Any] = Field(description="The cascade spec")
    mode: str = Field("simulate", pattern="^(simulate|design|dynamics)$")


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _assumption_rows(scenario: Scenario) -> list[dict[str, Any]]:
    rows = []
    for row in scenario.assumptions.to_dict("records"):
        number = row["value"]
        editable = isinstance(number, int | float) and not isinstance(number, bool)
        rows.append({**{k: _clean(v) for k, v in row.items()}, "editable": editable})
    return rows


def _facilities(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"kind": kind, "name": str(item.get("name")), "country": item.get("country")}
        for kind, items in (data.get("facilities") or {}).items()
        for item in items or []
        if isinstance(item, Mapping)
    ]


def _policies(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"kind": kind, "name": name} for name, kind in named_items(data, "policies").items()]


def _unreachable(scenario: Scenario) -> list[dict[str, Any]]:
    """Facilities that can never receive feed (``facility``, ``type``, ``reason``, ``message``)."""
    return [u.to_dict() for u in unreachable_facilities(scenario.model)]


def router(state: AppState) -> APIRouter:
    """The API routes over ``state``."""
    api = APIRouter(prefix="/api")

    @api.get("/scenarios", summary="The built-in scenarios and the saved variants")
    def scenarios() -> dict[str, Any]:
        builtins = [{"name": n, "description": d, "kind": "built-in"} for n, d in list_scenarios()]
        variants = [
            {"name": name, "description": state.variants.description(name), "kind": "variant"}
            for name in state.variants.names()
        ]
        overrides = [{"name": n, "description": o.description} for n, o in sorted(named_overrides().items())]
        return {"scenarios": builtins + variants, "overrides": overrides}

    @api.get("/scenarios/{name}", summary="One scenario or variant: facilities, policies, assumptions")
    def scenario(name: str) -> dict[str, Any]:
        check_name(name, "scenario")
        try:
            spec = state.variants.spec(name)
        except InputError as exc:
            raise HTTPException(404, str(exc)) from None
        loaded = state.variants.load(name)
        present = facility_names(loaded.data)
        return {
            "name": name,
            "description": loaded.description,
            "kind": "variant" if state.variants.exists(name) else "built-in",
            "file": spec if state.variants.exists(name) else None,
            "yaml": state.variants.text(name) if state.variants.exists(name) else None,
            "years": _clean(loaded.data.get("years")),
            "facilities": _facilities(loaded.data),
            "policies": _policies(loaded.data),
            "assumptions": _assumption_rows(loaded),
            "catalogue": [e.to_dict() for e in catalogue(present)],
            "unreachable": _unreachable(loaded),
        }

    @api.post("/variants", status_code=201, summary="Save a variant (a scenario file the CLI runs as is)")
    def create_variant(request: VariantRequest) -> dict[str, Any]:
        path, loaded = state.variants.create(request)
        return {
            "name": request.name,
            "file": str(path),
            "yaml": path.read_text(encoding="utf-8"),
            "unreachable": _unreachable(loaded),
            "command": f"mine2magnet run {path}",
        }

    @api.delete("/variants/{name}", status_code=204, summary="Delete a variant")
    def delete_variant(name: str) -> Response:
        check_name(name, "name")
        if not state.variants.exists(name):
            raise HTTPException(404, f"no variant {name!r}")
        state.variants.delete(name)
        return Response(status_code=204)

    @api.post("/runs", status_code=202, summary="Start a run of a scenario or variant (queued)")
    def start_run(request: RunRequest) -> dict[str, Any]:
        check_name(request.scenario, "scenario")
        try:
            spec = state.variants.spec(request.scenario)
        except InputError as exc:
            raise HTTPException(404, str(exc)) from None
        return state.jobs.submit(request.scenario, spec).to_dict()

    @api.get("/runs", summary="Runs started here and runs in the results store")
    def runs() -> dict[str, Any]:
        catalogue_frame = state.store.runs() if state.store.path.exists() else pd.DataFrame()
        stored = [
            {
                "run_id": r["run_id"],
                "label": r["label"],
                "status": r["status"],
                "started_utc": str(r["started_utc"]),
                "report": f"/stored/{r['run_id']}/report.html" if r["status"] == "complete" else None,
            }
            for r in catalogue_frame.to_dict("records")
        ]
        return {"jobs": [j.to_dict() for j in state.jobs.all()], "stored": list(reversed(stored))}

    @api.get("/runs/{run_id}", summary="A run's status and, once complete, its KPIs")
    def run(run_id: str) -> dict[str, Any]:
        check_name(run_id, "run_id")
        job = state.jobs.get(run_id)
        if job is not None:
            out = job.to_dict()
            if job.status == "complete":
                out["kpis"] = _clean(job.summary.get("kpis"))
                out["years"] = job.summary.get("years")
            return out
        if state.store.path.exists() and state.store.has_run(run_id):
            summary = state.store.load_summary(run_id)
            return {
                "id": run_id,
                "run_id": run_id,
                "scenario": summary.get("scenario"),
                "status": "complete",
                "kpis": _clean(summary.get("kpis")),
                "years": summary.get("years"),
                "report": f"/stored/{run_id}/report.html",
            }
        raise HTTPException(404, f"no run {run_id!r}")

    @api.get("/compare", summary="KPIs of a base run beside its variants (JSON, CSV or Excel)")
    def compare_runs(
        runs: str = Query(max_length=2000, description="Run ids, comma-separated; the first is the base"),
        year: int | None = Query(None, ge=1900, le=2200),
        format: str = Query("json", pattern="^(json|csv|xlsx)$"),
    ) -> Any:
        ids = [r.strip() for r in runs.split(",") if r.strip()]
        if not 1 <= len(ids) <= 20:
            raise InputError("expected 1 to 20 run ids", field="runs")
        summaries, labels, run_ids = [], [], []
        for run_id in ids:
            summary = _summary_of(state, check_name(run_id, "runs"))
            job = state.jobs.get(run_id)
            run_ids.append(job.run_id if job is not None else run_id)
            summaries.append(summary)
            labels.append(
                _unique(labels, "+".join([str(summary.get("scenario")), *summary.get("overrides", [])]))
            )
        table = compare.kpi_table(summaries, labels, year)
        if format == "csv":
            return Response(
                compare.to_csv(table), media_type="text/csv", headers=_attachment("comparison.csv")
            )
        if format == "xlsx":
            return Response(
                compare.to_xlsx(table),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers=_attachment("comparison.xlsx"),
            )
        return {
            "labels": labels,
            "run_ids": run_ids,
            "rows": _clean(table.to_dict("records")),
        }

    @api.post("/cascade", summary="Simulate, design or run the dynamics of a cascade spec")
    def cascade(request: CascadeRequest) -> dict[str, Any]:
        from mine2magnet.separation import design, simulate, simulate_dynamic
        from mine2magnet.separation.plot import dynamics_figure, profile_figure

        if request.mode == "design":
            designed = design(request.spec)
            payload = designed.to_dict()
            figure = profile_figure(designed.verified)
        elif request.mode == "dynamics":
            dynamic = simulate_dynamic(request.spec)
            payload, figure = dynamic.to_dict(), dynamics_figure(dynamic)
        else:
            steady = simulate(request.spec)
            payload, figure = steady.to_dict(), profile_figure(steady)
        return {"result": _clean(payload), "figure": json.loads(figure.to_json())}

    return api


def _summary_of(state: AppState, run_id: str) -> dict[str, Any]:
    job = state.jobs.get(run_id)
    if job is not None:
        if job.status != "complete":
            raise InputError(f"run {run_id} is {job.status}", field="runs")
        return job.summary
    if state.store.path.exists() and state.store.has_run(run_id):
        return state.store.load_summary(run_id)
    raise HTTPException(404, f"no run {run_id!r}")


def _unique(taken: list[str], label: str) -> str:
    if label not in taken:
        return label
    n = 2
    while f"{label} ({n})" in taken:
        n += 1
    return f"{label} ({n})"


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
