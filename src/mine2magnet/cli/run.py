"""`mine2magnet run`, `compare`, `scenarios`, `runs`: run value-chain scenarios, store and report them.

A thin layer over ``mine2magnet.scenario`` (load and run), ``mine2magnet.store`` (the DuckDB results store)
and ``mine2magnet.report`` (the HTML report). Progress goes to stderr; results and JSON to stdout.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mine2magnet.analysis import Backtest, run_backtest
from mine2magnet.data import load_dataset
from mine2magnet.economics.claims import ClaimCheck, check_claims
from mine2magnet.errors import InputError, Mine2MagnetError
from mine2magnet.report import headlines, kpi_comparison, run_view, what_changes, write_report
from mine2magnet.report.backtest_page import summary_sentence
from mine2magnet.report.claims_section import claims_sentence
from mine2magnet.report.quantities import format_value
from mine2magnet.report.run_view import distinct_labels
from mine2magnet.store import ResultsStore, StoredRun, code_version, to_json_safe, write_summary
from mine2magnet.store.results_store import utc_now

ProgressCallback = Callable[[str, int, int], None]


def scenario_api() -> ModuleType:
    """The scenario layer (imported on first use, so the rest of the CLI works without it)."""
    from mine2magnet import scenario

    return scenario


def split_overrides(text: str | None) -> list[str]:
    """``"no-ban, crackdown"`` -> ``["no-ban", "crackdown"]`` (``--scenario`` takes a comma list)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def parse_spec(spec: str) -> tuple[str, list[str]]:
    """``"malaysia-base+no-ban+crackdown"`` -> ``("malaysia-base", ["no-ban", "crackdown"])``.

    A path to an existing scenario file is taken whole (even if its name contains ``+``).
    """
    if Path(spec).exists():
        return spec, []
    name, *overrides = [part.strip() for part in spec.split("+")]
    if not name or any(not o for o in overrides):
        raise InputError(f"{spec!r} is not SCENARIO or SCENARIO+OVERRIDE+...", field="scenario")
    return name, overrides


def _label(name: str, overrides: Sequence[str]) -> str:
    return "+".join([Path(name).stem if name.endswith((".yaml", ".yml", ".json")) else name, *overrides])


@contextmanager
def progress_display(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback ``(stage, done, total)`` drawing a rich progress bar on stderr."""
    console = Console(stderr=True)
    if not enabled:
        yield lambda stage, done, total: None
        return
    columns = (TextColumn("{task.description:<32}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("starting", total=1)

        def update(stage: str, done: int, total: int) -> None:
            progress.update(task, description=str(stage)[:32], completed=done, total=max(total, 1))

        yield update


def backtest_history(history: str, out: Path) -> tuple[Backtest, Any]:
    """Backtest the history scenario a run starts from; write backtest.{json,csv,html} into `out`.

    Returns the backtest and the history's run (claims about its years are checked against it)."""
    from mine2magnet.cli.backtest import write_backtest

    checked, history_run = run_backtest(history)
    write_backtest(checked, out)
    return checked, history_run


def claims_of_run(scenario: Any, result: Any, history: tuple[Any, Any] | None, out: Path) -> list[ClaimCheck]:
    """The published claims checked against a run with accounts (and its history for earlier years);
    written to OUT/claims.json. Empty when the scenario has no economics block."""
    if getattr(scenario, "economics", None) is None:
        return []
    ds = load_dataset()
    u = ds.value("economics.claim_check.relative_uncertainty", "fraction")
    claims = ds.claims()
    checks = check_claims(claims, scenario.model, result, ds, u)
    if history is not None:
        past_scenario, past_run = history
        early = {c.key for c in claims if c.period.end.year < result.years[0]}
        past = check_claims([c for c in claims if c.key in early], past_scenario.model, past_run, ds, u)
        by_key = {(c.claim.key, c.claim.source.id): c for c in past}
        checks = [by_key.get((c.claim.key, c.claim.source.id), c) for c in checks]
    payload = {"scenario": result.scenario_name, "claims": [c.to_dict() for c in checks]}
    target = out / "claims.json"
    tmp = target.with_name(".claims.json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(target)
    return checks


def run_and_store(
    name: str,
    overrides: Sequence[str],
    store: ResultsStore,
    *,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> StoredRun:
    """Load scenario ``name`` with ``overrides``, run it, save it in ``store``; return the stored run.

    A run that fails after loading is recorded in the store's catalogue as ``failed`` before the error
    propagates; a scenario that does not load leaves the store untouched.
    """
    return run_store_and_keep(name, overrides, store, seed=seed, progress=progress)[0]


def run_store_and_keep(
    name: str,
    overrides: Sequence[str],
    store: ResultsStore,
    *,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> tuple[StoredRun, Any, Any]:
    """:func:`run_and_store`, also returning the loaded scenario and its in-memory result."""
    api = scenario_api()
    progress = progress or (lambda stage, done, total: None)
    label = _label(name, overrides)
    progress(f"loading {label}", 0, 1)
    scenario = api.load_scenario(name, list(overrides))
    started = utc_now()
    try:
        result = api.run_scenario(scenario, progress=progress, seed=seed)
    except Mine2MagnetError as exc:
        store.record_failed_run(label, list(overrides), exc, seed=seed, started_utc=started)
        raise
    progress("saving to the results store", 0, 1)
    run_id = store.save(result, seed=seed, started_utc=started)
    return store.get(run_id), scenario, result


def _summary_payload(run: StoredRun, outputs: dict[str, str]) -> dict[str, Any]:
    summary = dict(to_json_safe(run.summary()))
    summary.setdefault("scenario", run.scenario_name)
    summary.setdefault("overrides", run.overrides)
    summary.setdefault("years", run.years)
    summary["run_id"] = run.run_id
    summary["seed"] = run.seed
    summary["code_version"] = run.code_version
    summary["outputs"] = outputs
    return summary


def comparison_specs(text: str, reference: str) -> list[str]:
    """The scenarios ``run --compare`` adds: a comma list of specs, or ``all`` built-ins but ``reference``.

    ``all`` leaves out the history scenario (``malaysia-history``, the backtest's past years): it does not
    describe the same years as the others.
    """
    from mine2magnet.analysis import HISTORY_SCENARIO

    specs = split_overrides(text)
    if specs == ["all"]:
        return [n for n, _ in scenario_api().list_scenarios() if n not in (reference, HISTORY_SCENARIO)]
    if "all" in specs:
        raise InputError("'all' cannot be combined with scenario names", field="--compare")
    for spec in specs:
        parse_spec(spec)  # refuse a malformed spec before any run starts
    return [s for s in specs if s != reference]


@click.command("run")
@click.argument("scenario")
@click.option(
    "--scenario",
    "-s",
    "overrides",
    default="",
    metavar="OVERRIDES",
    help="Named overrides to apply in order, comma-separated (e.g. no-ban,crackdown).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [default: out/<scenario>].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed recorded with the run.")
@click.option(
    "--year", type=int, default=None, help="Year of the report's Sankey and key figures [default: last]."
)
@click.option(
    "--compare",
    "compare_with",
    default="",
    metavar="SCENARIOS",
    help="Also run these scenarios (comma-separated NAME or NAME+OVERRIDE, or 'all' for every other "
    "built-in scenario), store them and compare them with SCENARIO in the report.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--backtest/--no-backtest",
    default=True,
    show_default=True,
    help="When SCENARIO starts from a history (start_from), backtest that history against the published "
    "observations: OUT/backtest.{json,csv,html} and a section of the report.",
)
def run_command(
    scenario: str,
    overrides: str,
    out: Path | None,
    as_json: bool,
    seed: int,
    year: int | None,
    compare_with: str,
    quiet: bool,
    backtest: bool,
) -> None:
    """Run SCENARIO (a built-in name, NAME+OVERRIDE..., or a YAML file) end to end.

    Writes OUT/report.html, OUT/summary.json and appends the run to OUT/results.duckdb. With --compare, the
    other scenarios are run and stored too, and the report compares them with SCENARIO (summary.json stays
    SCENARIO's).
    """
    name, inline = parse_spec(scenario)
    all_overrides = [*inline, *split_overrides(overrides)]
    label = _label(name, all_overrides)
    others = comparison_specs(compare_with, label)
    out = out or Path("out") / label
    store = ResultsStore(out / "results.duckdb")
    report = out / "report.html"
    with progress_display(enabled=not quiet) as progress:
        stored, loaded, in_memory = run_store_and_keep(
            name, all_overrides, store, seed=seed, progress=progress
        )
        outputs = {"report": str(report), "store": str(store.path), "summary": str(out / "summary.json")}
        summary = _summary_payload(stored, outputs)
        write_summary(summary, out / "summary.json")  # first: kept even if the report fails
        compared = [run_and_store(*parse_spec(spec), store, seed=seed, progress=progress) for spec in others]
        if compared:
            summary["compared_with"] = [
                {"label": _label(c.scenario_name, c.overrides), "run_id": c.run_id} for c in compared
            ]
            write_summary(summary, out / "summary.json")
        history = (stored.meta.get("opening_state") or {}).get("from") if backtest else None
        checked, past = None, None
        if history:
            progress(f"backtesting {history}", 0, 1)
            checked, past_run = backtest_history(str(history), out)
            past = (scenario_api().load_scenario(str(history), []), past_run)
            outputs["backtest"] = str(out / "backtest.html")
            summary["outputs"] = outputs
            summary["backtest"] = checked.counts()
            write_summary(summary, out / "summary.json")
        claims = claims_of_run(loaded, in_memory, past, out)
        if claims:
            outputs["claims"] = str(out / "claims.json")
            summary["outputs"] = outputs
            write_summary(summary, out / "summary.json")
        progress("writing the report", 0, 1)
        write_report([stored, *compared], report, year=year, backtest=checked, claims=claims)
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False))
        click.echo(f"report: {report}", err=True)
        return
    console = Console()
    view = run_view(stored)
    shown = year if year is not None else max(view.years)
    console.print(
        f"[bold]{view.label}[/bold] — run {stored.run_id} ({min(view.years)}–{max(view.years)})",
        highlight=False,
    )
    for item in headlines(view, shown):
        console.print(
            f"  [bold]{item.title}[/bold] ({shown}): {item.number}", soft_wrap=True, highlight=False
        )
    # plain echo: paths must never be wrapped by the terminal renderer
    if compared:
        click.echo("compared with: " + ", ".join(_label(c.scenario_name, c.overrides) for c in compared))
    if checked is not None:
        click.echo(f"backtest: {summary_sentence(checked)}")
    if claims:
        click.echo(f"claims:   {claims_sentence(claims)}")
    click.echo(f"report:  {report}")
    click.echo(f"store:   {store.path} (run {stored.run_id})")
    click.echo(f"summary: {out / 'summary.json'}")


RUN_ID = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{8}$")


def _resolve(spec: str, store: ResultsStore, seed: int, progress: ProgressCallback) -> StoredRun:
    if store.has_run(spec):
        return store.get(spec)
    if RUN_ID.match(spec):
        raise InputError(
            f"run {spec} is not a complete run in this store (pass the store that holds it with --store)",
            file=str(store.path),
            field="run_id",
        )
    try:
        name, overrides = parse_spec(spec)
    except InputError as exc:
        raise InputError(f"{spec!r} is neither a run id in {store.path} nor a scenario: {exc}") from None
    return run_and_store(name, overrides, store, seed=seed, progress=progress)


def _cell(value: float, unit: str) -> str:
    return (
        "–"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format_value(value, unit)
    )


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, metavar="RUN_OR_SCENARIO...")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/compare"),
    show_default=True,
    help="Output folder for the comparison report.",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Results store to read run ids from and save new runs to [default: OUT/results.duckdb].",
)
@click.option("--year", type=int, default=None, help="Year compared [default: the first run's last year].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for scenarios that are run.")
@click.option("--json", "as_json", is_flag=True, help="Print the KPI comparison as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def compare_command(
    runs: tuple[str, ...],
    out: Path,
    store_path: Path | None,
    year: int | None,
    seed: int,
    as_json: bool,
    quiet: bool,
) -> None:
    """Compare runs: each argument is a run id in the store, or a scenario (NAME or NAME+OVERRIDE...) to run.

    Writes OUT/report.html and prints the headline KPIs side by side.
    """
    store = ResultsStore(store_path or out / "results.duckdb")
    with progress_display(enabled=not quiet) as progress:
        stored = [_resolve(spec, store, seed, progress) for spec in runs]
        views = distinct_labels([run_view(s) for s in stored])
        progress("writing the report", 0, 1)
        report = write_report(views, out / "report.html", year=year)
    shown = year if year is not None else max(views[0].years)
    table = kpi_comparison(views, shown)
    if as_json:
        payload = {
            "year": shown,
            "runs": [{"label": v.label, "run_id": v.run_id} for v in views],
            "kpis": [
                {
                    "kpi": rec["kpi"],
                    "subject": rec["subject"],
                    "unit": rec["unit"],
                    "values": {v.label: rec[v.label] for v in views},
                }
                for rec in table.to_dict("records")
            ],
            "report": str(report),
            "store": str(store.path),
        }
        click.echo(json.dumps(to_json_safe(payload), indent=2, ensure_ascii=False, allow_nan=False))
        return
    console = Console()
    if not console.is_terminal:  # piped or captured: no terminal width to fit, keep rows readable
        console = Console(width=max(120, 32 + 16 * len(views)))
    grid = Table(title=f"Key figures in {shown}")
    grid.add_column("KPI", no_wrap=True)
    grid.add_column("of", overflow="fold")
    for v in views:
        grid.add_column(v.label, justify="right", overflow="fold")
    for rec in table.to_dict("records"):
        subject = "" if rec["subject"] == "total" else rec["subject"]
        grid.add_row(rec["kpi"], subject, *(_cell(rec[v.label], rec["unit"]) for v in views))
    console.print(grid)
    for label, sentences in what_changes(views, shown).items():
        click.echo(f"{label} against {views[0].label}:")
        for sentence in sentences or ["no headline figure changes"]:
            click.echo(f"  - {sentence}")
    for v in views:
        click.echo(f"run {v.run_id}: {v.label}")
    click.echo(f"report: {report}")
    click.echo(f"store:  {store.path}")


@click.command("scenarios")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def scenarios_command(as_json: bool) -> None:
    """List the built-in scenarios with a one-line description."""
    listed = scenario_api().list_scenarios()
    if as_json:
        click.echo(
            json.dumps([{"name": n, "description": d} for n, d in listed], indent=2, ensure_ascii=False)
        )
        return
    grid = Table(title="Built-in scenarios (run one with: mine2magnet run NAME)")
    grid.add_column("name", no_wrap=True)
    grid.add_column("description")
    for name, description in listed:
        grid.add_row(name, description)
    Console().print(grid)


@click.command("runs")
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("out/malaysia-base/results.duckdb"),
    show_default=True,
    help="Results store to list.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def runs_command(store_path: Path, as_json: bool) -> None:
    """List the runs in a results store (ids to pass to `mine2magnet compare`)."""
    if not store_path.exists():
        raise InputError("no results store here (run `mine2magnet run` first)", file=str(store_path))
    catalogue = ResultsStore(store_path).runs()
    if as_json:
        records = catalogue.drop(columns=["years"]).to_dict("records")
        click.echo(json.dumps(to_json_safe(records), indent=2, ensure_ascii=False))
        return
    grid = Table(title=f"Runs in {store_path} (code now: {code_version()})")
    for column in ("run_id", "label", "status", "seed", "started (UTC)", "code version"):
        grid.add_column(column)
    for rec in catalogue.to_dict("records"):
        started = rec["started_utc"]
        grid.add_row(
            rec["run_id"],
            rec["label"],
            rec["status"] if rec["status"] == "complete" else f"[red]{rec['status']}[/red]",
            "" if rec["seed"] is None or rec["seed"] != rec["seed"] else str(int(rec["seed"])),
            f"{started:%Y-%m-%d %H:%M:%S}" if hasattr(started, "strftime") else "",
            str(rec["code_version"]),
        )
    Console().print(grid)


@click.command("export")
@click.argument("run_id")
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("out/malaysia-base/results.duckdb"),
    show_default=True,
    help="Results store holding the run.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the Parquet files [default: next to the store, parquet/<run id>].",
)
def export_command(run_id: str, store_path: Path, out: Path | None) -> None:
    """Export run RUN_ID's tables to Parquet (one file per table) plus run.json."""
    if not store_path.exists():
        raise InputError("no results store here (run `mine2magnet run` first)", file=str(store_path))
    out = out or store_path.parent / "parquet" / run_id
    written = ResultsStore(store_path).export_parquet(run_id, out)
    for name, path in written.items():
        click.echo(f"{name}: {path}")


commands = [run_command, compare_command, scenarios_command, runs_command, export_command]

__all__ = ["commands", "parse_spec", "run_and_store", "scenario_api", "split_overrides"]
