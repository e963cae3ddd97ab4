"""The web app: ``create_app`` builds it, ``serve`` runs it (``mine2magnet serve``).

Pages: ``/`` (the single-page front end in ``static/``), ``/stored/RUN/report.html`` (the report of a stored
run, written on first request by the same ``mine2magnet.report`` the command line uses),
``/runs/JOB/report.html`` (the report a run started here wrote), ``/compare/report.html?runs=A,B``
(a comparison report). The JSON API is under ``/api`` (:mod:`mine2magnet.app.api`). Every asset comes from the
installed packages: the front end from this package, plotly.js from the ``plotly`` Python package. Requests
larger than ``MAX_REQUEST_BYTES`` are refused with 413.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from mine2magnet import __version__
from mine2magnet.app.api import AppState, router
from mine2magnet.app.jobs import JobQueue
from mine2magnet.app.names import check_name
from mine2magnet.app.variants import VariantStore
from mine2magnet.errors import InputError, Mine2MagnetError
from mine2magnet.store import ResultsStore

#: Largest request body accepted (bytes): a scenario variant or a cascade spec is a few kB.
MAX_REQUEST_BYTES = 1_000_000
#: Default results store of ``mine2magnet serve``.
DEFAULT_STORE = Path("out") / "app" / "results.duckdb"


class _BoundedBody(BaseHTTPMiddleware):
    """Refuse bodies above ``MAX_REQUEST_BYTES`` (by Content-Length, and by the bytes actually sent)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_REQUEST_BYTES):
            return JSONResponse({"error": f"request larger than {MAX_REQUEST_BYTES} bytes"}, status_code=413)
        if request.method in ("POST", "PUT", "PATCH") and length is None:
            body = await request.body()
            if len(body) > MAX_REQUEST_BYTES:
                return JSONResponse(
                    {"error": f"request larger than {MAX_REQUEST_BYTES} bytes"}, status_code=413
                )
        return await call_next(request)


def _static_dir() -> Path:
    return Path(str(importlib.resources.files("mine2magnet.app") / "static"))


def _plotly_js() -> Path:
    return Path(str(importlib.resources.files("plotly") / "package_data" / "plotly.min.js"))


def create_app(store: Path = DEFAULT_STORE, workers: int = 2, run_args: tuple[str, ...] = ()) -> FastAPI:
    """The app over the results store ``store``; variants are kept in ``<store folder>/variants``, runs'
    outputs in ``<store folder>/runs/JOB``. ``workers``: runs executed at once; ``run_args``: extra options
    given to every ``mine2magnet run`` (e.g. ``("--no-backtest",)``)."""
    folder = Path(store).resolve().parent
    state = AppState(
        store=ResultsStore(Path(store).resolve()),
        variants=VariantStore(folder / "variants"),
        jobs=JobQueue(Path(store).resolve(), folder / "runs", workers=workers, extra_args=run_args),
        reports=folder / "reports",
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.jobs.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="mine2magnet",
        version=__version__,
        description="Rare-earth value chains from mine to magnet: scenarios, variants, runs and comparisons.",
    )
    app.state.m2m = state
    app.add_middleware(_BoundedBody)

    @app.exception_handler(Mine2MagnetError)
    async def _refused(request: Request, exc: Mine2MagnetError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}"
            for e in exc.errors()
        ]
        return JSONResponse({"error": "; ".join(problems)[:2000]}, status_code=422)

    @app.exception_handler(Exception)
    async def _failed(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"{type(exc).__name__}: {str(exc)[:500]}"}, status_code=500)

    app.include_router(router(state))
    app.mount("/static", StaticFiles(directory=_static_dir()), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(_static_dir() / "index.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:  # the reports shown in frames ask for one; there is none
        return Response(status_code=204)

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(_plotly_js(), media_type="text/javascript")

    @app.get("/runs/{job_id}/report.html", include_in_schema=False)
    def job_report(job_id: str) -> FileResponse:
        job = state.jobs.get(check_name(job_id, "run"))
        if job is None or job.status != "complete" or not (job.out / "report.html").is_file():
            raise HTTPException(404, f"no report for run {job_id!r}")
        return FileResponse(job.out / "report.html", media_type="text/html")

    @app.get("/stored/{run_id}/report.html", include_in_schema=False)
    def stored_report(run_id: str) -> FileResponse:
        return FileResponse(_report_of(state, [check_name(run_id, "run")]), media_type="text/html")

    @app.get("/compare/report.html", include_in_schema=False)
    def compare_report(runs: str = Query(max_length=2000)) -> FileResponse:
        ids = [check_name(r.strip(), "runs") for r in runs.split(",") if r.strip()]
        if not 1 <= len(ids) <= 20:
            raise InputError("expected 1 to 20 run ids", field="runs")
        return FileResponse(_report_of(state, ids), media_type="text/html")

    return app


def _store_run_id(state: AppState, run_or_job: str) -> str:
    job = state.jobs.get(run_or_job)
    if job is not None:
        if job.run_id is None:
            raise HTTPException(404, f"run {run_or_job!r} is {job.status}")
        return str(job.run_id)
    return run_or_job


def _report_of(state: AppState, ids: list[str]) -> Path:
    """The report of stored runs ``ids`` (first = reference), written once and kept in the report cache."""
    from mine2magnet.report import write_report

    run_ids = [_store_run_id(state, i) for i in ids]
    for run_id in run_ids:
        if not (state.store.path.exists() and state.store.has_run(run_id)):
            raise HTTPException(404, f"no complete run {run_id!r} in {state.store.path}")
    key = "-vs-".join(run_ids)
    name = key if len(run_ids) <= 3 else hashlib.sha1(key.encode()).hexdigest()[:16]
    target = state.reports / f"{name}.html"
    if not target.is_file():
        state.reports.mkdir(parents=True, exist_ok=True)
        write_report([state.store.get(r) for r in run_ids], target, conflicts=())
    return target


def serve(host: str = "127.0.0.1", port: int = 8050, store: Path = DEFAULT_STORE, workers: int = 2) -> None:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(store, workers=workers), host=host, port=port, log_level="warning")
