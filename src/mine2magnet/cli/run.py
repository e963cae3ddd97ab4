"""`mine2magnet run`, `compare`, `scenarios`, `runs`, `export`: run scenarios, store and report them.

A thin layer over ``mine2magnet.scenario`` (load and run), ``mine2magnet.store`` (the DuckDB results store)
and ``mine2magnet.report`` (the HTML report). Progress goes to stderr (a bar on a terminal, plain lines
otherwise); results and JSON to stdout. The model's libraries are imported inside the commands, so that
``--help`` and the light commands start quickly.

Store rules (docs/store.md): a run replaces the earlier runs of the same scenario, inputs and code in its
store (``--keep`` keeps them); when the store cannot be written, the computed run is not lost: its summary,
tables and report are written beside it (or in a temporary folder) and the command exits with code 1.
"""

from __future__ import annotations

import importlib.resources
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO

import click

from mine2magnet.cli.tables import (
    breakable,
    echo_wrapped,
    new_table,
    print_table,
    stdout_console,
    wide_option,
)
from mine2magnet.errors import InputError, Mine2MagnetError

if TYPE_CHECKING:
    from mine2magnet.economics.claims import ClaimCheck
    from mine2magnet.store import ResultsStore, StoredRun

ProgressCallback = Callable[[str, int, int], None]

#: A run id as the store makes them: ``20261122T051502-3f9c2a1b``.
RUN_ID = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{8}$")


class StoreWriteError(Mine2MagnetError):
    """The results store could not be written; the run was rescued elsewhere (the message says where)."""


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
    if Path(spec).is_file():
        return spec, []
    name, *overrides = [part.strip() for part in spec.split("+")]
    if not name or any(not o for o in overrides):
        raise InputError(f"{spec!r} is not SCENARIO or SCENARIO+OVERRIDE+...", field="scenario")
    return name, overrides


def _label(name: str, overrides: Sequence[str]) -> str:
    is_file = name.endswith((".yaml", ".yml", ".json")) or Path(name).is_file()
    return "+".join([Path(name).stem if is_file else name, *overrides])


_UNSAFE_FOLDER = re.compile(r"[/\\\x00-\x1f\x7f]")


def default_out(label: str) -> Path:
    """``out/<label>``, the default output folder of a run; refuses a label that is not one folder name.

    A scenario file is labelled by its file name (``../x/my case.yaml`` -> ``out/my case``); spaces and
    non-ASCII letters are kept. A name with ``/``, ``\\``, a leading ``.`` or control characters would put
    the folder elsewhere than under ``out/`` and is refused with a one-line error.
    """
    if not label or label.startswith(".") or _UNSAFE_FOLDER.search(label):
        raise InputError(
            f"{label!r} cannot name a folder under out/ (no '/', '\\', leading '.' or control characters); "
            "give a scenario file or --out FOLDER",
            field="scenario",
        )
    return Path("out") / label


def clean_path(path: Path) -> Path:
    """``path`` with ``.`` and ``..`` resolved as written (``sub/../x`` -> ``x``), so that creating it never
    creates a folder the path only passes through; spaces and non-ASCII characters are kept as they are."""
    return Path(os.path.normpath(path))


class PlainProgress:
    """Progress as plain lines on a stream (stderr when it is not a terminal: logs, CI, pipes).

    A line is written when the stage changes and when it finishes; within one stage at most one line every
    ``interval_s`` seconds. Each line starts with the seconds elapsed since the command started.
    """

    def __init__(self, stream: TextIO | None = None, interval_s: float = 2.0) -> None:
        self.stream = stream
        self.interval_s = interval_s
        self.started = time.monotonic()
        self._last: tuple[str, float] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        stage = " ".join(str(stage).split())
        last = self._last
        if last is not None and last[0] == stage and done < total and now - last[1] < self.interval_s:
            return
        self._last = (stage, now)
        count = f" ({done}/{total})" if total > 1 else ""
        stream = self.stream or sys.stderr
        print(f"[{now - self.started:6.1f} s] {stage}{count}", file=stream, flush=True)


@contextmanager
def progress_display(enabled: bool = True) -> Iterator[ProgressCallback]:
    """A progress callback ``(stage, done, total)``: a rich bar on a terminal, plain lines otherwise."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    if not sys.stderr.isatty():
        yield PlainProgress()
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<32}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("starting", total=1)

        def update(stage: str, done: int, total: int) -> None:
            progress.update(task, description=str(stage)[:32], completed=done, total=max(total, 1))

        yield update


def warn(message: str) -> None:
    """A warning on stderr, one line."""
    click.echo(f"warning: {message}", err=True)


@dataclass
class RunOutcome:
    """A scenario run and stored: the stored run, the loaded scenario, the in-memory result, the warnings
    about it (facilities that can never receive feed) and the ids of the earlier runs it replaced."""

    stored: StoredRun
    scenario: Any
    result: Any
    warnings: list[dict[str, str]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:500]


def rescue_run(
    result: Any, near: Path, error: BaseException, warnings: Sequence[dict[str, str]] = ()
) -> Path:
    """Write what can be written of a run the store refused: ``unsaved-<id>/`` in ``near`` (else in the
    temporary folder) with ``summary.json`` (and the error), ``tables/<table>.parquet`` and ``report.html``.

    Returns the folder. Raises :class:`StoreWriteError` when no folder at all can be created.
    """
    from mine2magnet.report import write_report
    from mine2magnet.store import atomic_write, new_run_id, to_json_safe, write_summary

    name = f"unsaved-{new_run_id()}"
    for parent in (near, Path(tempfile.gettempdir())):
        folder = parent / name
        try:
            folder.mkdir(parents=True)
            break
        except OSError:
            continue
    else:
        raise StoreWriteError(
            f"{near}: the run could not be saved ({_one_line(error)}) and no folder could be created for it"
        ) from error
    summary = dict(to_json_safe(result.summary()))
    summary.setdefault("scenario", result.scenario_name)
    summary.setdefault("overrides", list(result.overrides))
    summary.setdefault("years", [int(y) for y in result.years])
    summary["store_error"] = _one_line(error)
    summary["warnings"] = list(warnings)
    problems: list[str] = []
    write_summary(summary, folder / "summary.json")
    for table, frame in result.tables.items():
        try:
            atomic_write(folder / "tables" / f"{table}.parquet", lambda tmp, f=frame: f.to_parquet(tmp))
        except Exception as exc:  # a table pyarrow cannot hold: keep it as CSV
            problems.append(f"{table}: {_one_line(exc)}")
            atomic_write(folder / "tables" / f"{table}.csv", lambda tmp, f=frame: f.to_csv(tmp, index=False))
    try:
        atomic_write(folder / "report.html", lambda tmp: write_report([result], tmp), suffix=".html")
    except Exception as exc:
        problems.append(f"report: {_one_line(exc)}")
    if problems:
        summary["rescue_problems"] = problems
        write_summary(summary, folder / "summary.json")
    return folder


def run_store_and_keep(
    name: str,
    overrides: Sequence[str],
    store: ResultsStore,
    *,
    keep: bool = False,
    progress: ProgressCallback | None = None,
) -> RunOutcome:
    """Load scenario ``name`` with ``overrides``, warn about facilities that can never receive feed, run it
    and save it in ``store`` (replacing earlier runs of the same inputs unless ``keep``).

    A run that fails after loading is recorded in the store's catalogue as ``failed`` before the error
    propagates; a scenario that does not load leaves the store untouched. When the store cannot be written,
    the run is rescued (:func:`rescue_run`, next to the store) and :class:`StoreWriteError` says where.
    """
    from mine2magnet.store.results_store import utc_now

    api = scenario_api()
    progress = progress or (lambda stage, done, total: None)
    label = _label(name, overrides)
    progress(f"loading {label}", 0, 1)
    scenario = api.load_scenario(name, list(overrides))
    warnings = [u.to_dict() for u in api.unreachable_facilities(scenario.model)]
    for w in warnings:
        warn(f"{label}: {w['message']}")
    started = utc_now()
    try:
        result = api.run_scenario(scenario, progress=progress)
    except Mine2MagnetError as exc:
        with suppress(Exception):  # a store that cannot be written must not hide the run's own error
            store.record_failed_run(label, list(overrides), exc, started_utc=started)
        raise
    progress("saving to the results store", 0, 1)
    try:
        run_id, replaced = store.save_replacing(result, started_utc=started, replace=not keep)
    except Exception as exc:
        folder = rescue_run(result, store.path.parent, exc, warnings)
        raise StoreWriteError(
            f"{store.path}: the run of {label} could not be saved in the results store ({_one_line(exc)}); "
            f"its summary, tables and report are in {folder}"
        ) from exc
    return RunOutcome(store.get(run_id), scenario, result, warnings, replaced)


def run_and_store(
    name: str,
    overrides: Sequence[str],
    store: ResultsStore,
    *,
    keep: bool = False,
    progress: ProgressCallback | None = None,
) -> StoredRun:
    """:func:`run_store_and_keep`, returning the stored run only."""
    return run_store_and_keep(name, overrides, store, keep=keep, progress=progress).stored


def backtest_history(history: str, out: Path) -> tuple[Any, Any]:
    """Backtest the history scenario a run starts from; write backtest.{json,csv,html} into `out`.

    Returns the backtest and the history's run (claims about its years are checked against it)."""
    from mine2magnet.analysis import run_backtest
    from mine2magnet.cli.backtest import write_backtest

    checked, history_run = run_backtest(history)
    write_backtest(checked, out)
    return checked, history_run


def claims_of_run(scenario: Any, result: Any, history: tuple[Any, Any] | None, out: Path) -> list[ClaimCheck]:
    """The published claims checked against a run with accounts (and its history for earlier years);
    written to OUT/claims.json. Empty when the scenario has no economics block."""
    if getattr(scenario, "economics", None) is None:
        return []
    from mine2magnet.data import load_dataset
    from mine2magnet.economics.claims import check_claims
    from mine2magnet.store import atomic_write_text

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
    atomic_write_text(out / "claims.json", json.dumps(payload, indent=2, ensure_ascii=False))
    return checks


def new_refinery_runs(
    main: RunOutcome, compared: Sequence[tuple[tuple[str, list[str]], RunOutcome]]
) -> list[tuple[str, list[str]]]:
    """The (scenario, overrides) specs of the compared runs that feed a refinery the main run does not
    have, in order (the briefing's feed answer is about the first one's new refinery)."""

    def refineries(outcome: RunOutcome) -> set[str]:
        kpis = outcome.result.tables["kpis"]
        return set(kpis.loc[kpis["kpi"] == "feed_sufficiency", "facility"].astype(str))

    have = refineries(main)
    return [spec for spec, outcome in compared if refineries(outcome) - have]


#: What summary.json keeps of the run's uncertainty sample (the whole of it is OUT/uncertainty.json).
RANGE_FIELDS = ("briefing", "feed_samples", "draws", "seconds", "command", "note")


def write_report_atomically(runs: Sequence[Any], report: Path, **options: Any) -> Path:
    """The HTML report of ``runs`` at ``report``, written under a unique temporary name and renamed into
    place, so that two runs writing the same folder never share a temporary file."""
    from mine2magnet.report import write_report
    from mine2magnet.store import atomic_write

    return atomic_write(report, lambda tmp: write_report(runs, tmp, **options), suffix=".html")


def _summary_payload(outcome: RunOutcome, outputs: dict[str, str]) -> dict[str, Any]:
    from mine2magnet.store import to_json_safe

    run = outcome.stored
    summary = dict(to_json_safe(run.summary()))
    summary.setdefault("scenario", run.scenario_name)
    summary.setdefault("overrides", run.overrides)
    summary.setdefault("years", run.years)
    summary["run_id"] = run.run_id
    summary["code_version"] = run.code_version
    summary["outputs"] = outputs
    summary["warnings"] = outcome.warnings
    summary["replaced_runs"] = outcome.replaced
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


def keep_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--keep``: keep the earlier runs of the same scenario, inputs and code in the store."""
    return click.option(
        "--keep",
        is_flag=True,
        help="Keep earlier runs of the same scenario, inputs and code in the store [default: replace them].",
    )(function)


@click.command("run", short_help="Run a scenario: report, summary and results store.")
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
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Results store to save the run in [default: OUT/results.duckdb] (the web app's runs share one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
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
@keep_option
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr (warnings and errors still show).")
@click.option(
    "--backtest/--no-backtest",
    default=True,
    show_default=True,
    help="When SCENARIO starts from a history (start_from), backtest that history against the published "
    "observations: OUT/backtest.{json,csv,html} and a section of the report.",
)
@click.option(
    "--ranges/--no-ranges",
    default=False,
    show_default=True,
    help="Also run a small uncertainty sample of SCENARIO (12 Latin-hypercube draws, ~10-20 s) and show "
    "P5-P95 ranges on the briefing's answers: OUT/uncertainty.json (`mine2magnet uncertainty` for a full "
    "study).",
)
def run_command(
    scenario: str,
    overrides: str,
    out: Path | None,
    store_path: Path | None,
    as_json: bool,
    year: int | None,
    compare_with: str,
    keep: bool,
    quiet: bool,
    backtest: bool,
    ranges: bool,
) -> None:
    """Run SCENARIO (a built-in name, NAME+OVERRIDE..., or a YAML file) end to end.

    Writes OUT/report.html, OUT/summary.json and saves the run in OUT/results.duckdb, replacing an earlier
    run of the same scenario, inputs and code there (--keep keeps both). With --compare, the other
    scenarios are run and stored too, and the report compares them with SCENARIO (summary.json stays
    SCENARIO's). The model is deterministic: the same inputs give the same results.
    """
    from mine2magnet.store import ResultsStore, write_summary

    name, inline = parse_spec(scenario)
    all_overrides = [*inline, *split_overrides(overrides)]
    label = _label(name, all_overrides)
    if is_market_scenario(name):
        if all_overrides or compare_with:
            raise InputError("a market scenario takes no overrides and no --compare", field="scenario")
        out = clean_path(out) if out is not None else default_out(label)
        store = ResultsStore(clean_path(store_path) if store_path is not None else out / "results.duckdb")
        run_market_scenario(name, out, store, keep=keep, as_json=as_json, quiet=quiet)
        return
    others = comparison_specs(compare_with, label)
    out = clean_path(out) if out is not None else default_out(label)
    store = ResultsStore(clean_path(store_path) if store_path is not None else out / "results.duckdb")
    report = out / "report.html"
    with progress_display(enabled=not quiet) as progress:
        main_run = run_store_and_keep(name, all_overrides, store, keep=keep, progress=progress)
        stored = main_run.stored
        outputs = {"report": str(report), "store": str(store.path), "summary": str(out / "summary.json")}
        summary = _summary_payload(main_run, outputs)
        write_summary(summary, out / "summary.json")  # first: kept even if the report fails
        compared_runs = [
            run_store_and_keep(*parse_spec(spec), store, keep=keep, progress=progress) for spec in others
        ]
        compared = [c.stored for c in compared_runs]
        if compared:
            summary["compared_with"] = [
                {"label": _label(c.scenario_name, c.overrides), "run_id": c.run_id} for c in compared
            ]
            summary["warnings"] += [w for c in compared_runs for w in c.warnings]
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
        claims = claims_of_run(main_run.scenario, main_run.result, past, out)
        if claims:
            outputs["claims"] = str(out / "claims.json")
            summary["outputs"] = outputs
            write_summary(summary, out / "summary.json")
        shown_ranges: dict[str, Any] = {}  # none unless this run computed them (never a stale file's)
        if ranges:
            progress("uncertainty sample for the briefing's ranges", 0, 1)
            from mine2magnet.analysis.uncertainty.answers import write_headline_json
            from mine2magnet.report.page import load_ranges

            specs = [parse_spec(spec) for spec in others]
            # the run whose new refinery the briefing's feed answer is about gets a sample of its own
            feed_from = new_refinery_runs(main_run, list(zip(specs, compared_runs, strict=True)))[:1]
            written = write_headline_json(out, name, overrides=all_overrides, feed_from=feed_from)
            shown_ranges = load_ranges(written)
            outputs["uncertainty"] = str(written)
            summary["outputs"] = outputs
            summary["uncertainty"] = {
                k: v for k, v in json.loads(written.read_text(encoding="utf-8")).items() if k in RANGE_FIELDS
            }
            write_summary(summary, out / "summary.json")
        progress("writing the report", 0, 1)
        write_report_atomically(
            [stored, *compared], report, year=year, backtest=checked, claims=claims, ranges=shown_ranges
        )
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False))
        click.echo(f"report: {report}", err=True)
        return
    _print_run(main_run, year, compared, checked, claims)
    if "uncertainty" in summary:
        click.echo(f"ranges:  {summary['uncertainty']['note']}: {summary['uncertainty']['command']}")
    for replaced in main_run.replaced:
        click.echo(f"replaced: run {replaced} (same scenario, inputs and code; --keep keeps both)")
    click.echo(f"report:  {report}")
    click.echo(f"store:   {store.path} (run {stored.run_id})")
    click.echo(f"summary: {out / 'summary.json'}")


def _print_run(
    outcome: RunOutcome, year: int | None, compared: Sequence[StoredRun], checked: Any, claims: Sequence[Any]
) -> None:
    from mine2magnet.report import headlines, run_view
    from mine2magnet.report.backtest_page import summary_sentence
    from mine2magnet.report.claims_section import claims_sentence

    console = stdout_console()
    view = run_view(outcome.stored)
    shown = year if year is not None else max(view.years)
    console.print(
        f"[bold]{view.label}[/bold] — run {outcome.stored.run_id} ({min(view.years)}–{max(view.years)})",
        highlight=False,
    )
    for item in headlines(view, shown):
        console.print(f"  [bold]{item.title}[/bold] ({shown}): {item.number}", highlight=False)
        if item.period:  # what the figure does over the run's years, not only in the year shown
            console.print(f"      over the run: {item.period}", highlight=False, style="dim")
    # plain echo: paths must never be wrapped by the terminal renderer
    if compared:
        click.echo("compared with: " + ", ".join(_label(c.scenario_name, c.overrides) for c in compared))
    if checked is not None:
        click.echo(f"backtest: {summary_sentence(checked)}")
    if claims:
        click.echo(f"claims:   {claims_sentence(claims)}")
    for w in outcome.warnings:
        click.echo(f"warning: {w['message']}")


def _resolve(
    spec: str, store: ResultsStore, keep: bool, progress: ProgressCallback, warnings: list[dict[str, str]]
) -> StoredRun:
    """The stored run ``spec`` names, or scenario ``spec`` run and stored (its warnings added to
    ``warnings``)."""
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
    outcome = run_store_and_keep(name, overrides, store, keep=keep, progress=progress)
    warnings += outcome.warnings
    return outcome.stored


def _cell(value: float, unit: str) -> str:
    from mine2magnet.report.quantities import format_value

    return (
        "–"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format_value(value, unit)
    )


@click.command("compare", short_help="Compare stored runs and scenarios side by side.")
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
@keep_option
@click.option("--json", "as_json", is_flag=True, help="Print the KPI comparison as JSON on stdout.")
@wide_option
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def compare_command(
    runs: tuple[str, ...],
    out: Path,
    store_path: Path | None,
    year: int | None,
    keep: bool,
    as_json: bool,
    wide: bool,
    quiet: bool,
) -> None:
    """Compare runs: each argument is a run id in the store, or a scenario (NAME or NAME+OVERRIDE...) to run.

    Writes OUT/report.html and prints the headline KPIs side by side.
    """
    from mine2magnet.report import kpi_comparison, run_view, what_changes
    from mine2magnet.report.run_view import distinct_labels
    from mine2magnet.store import ResultsStore, to_json_safe

    out = clean_path(out)
    store = ResultsStore(clean_path(store_path) if store_path else out / "results.duckdb")
    with progress_display(enabled=not quiet) as progress:
        warnings: list[dict[str, str]] = []
        stored = [_resolve(spec, store, keep, progress, warnings) for spec in runs]
        views = distinct_labels([run_view(s) for s in stored])
        progress("writing the report", 0, 1)
        report = write_report_atomically(views, out / "report.html", year=year)
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
            "warnings": warnings,
        }
        click.echo(json.dumps(to_json_safe(payload), indent=2, ensure_ascii=False, allow_nan=False))
        return
    console = stdout_console(wide)
    grid = new_table(title=f"Key figures in {shown}")
    grid.add_column("KPI")
    grid.add_column("of", overflow="fold")
    for v in views:
        grid.add_column(breakable(v.label, 12), justify="right", overflow="fold")
    for rec in table.to_dict("records"):
        subject = "" if rec["subject"] == "total" else rec["subject"]
        kpi = str(rec["kpi"]) if wide else breakable(str(rec["kpi"]), 22)
        grid.add_row(kpi, subject, *(_cell(rec[v.label], rec["unit"]) for v in views))
    print_table(console, grid)
    for label, sentences in what_changes(views, shown).items():
        click.echo(f"{label} against {views[0].label}:")
        for sentence in sentences or ["no headline figure changes"]:
            echo_wrapped(sentence, console, indent="  - ", hang="    ")
    for v in views:
        click.echo(f"run {v.run_id}: {v.label}")
    click.echo(f"report: {report}")
    click.echo(f"store:  {store.path}")


def builtin_scenarios() -> list[tuple[str, str, str]]:
    """``(name, one-line description, kind)`` of every built-in scenario, chain then market, each sorted by
    name: the packaged scenario files read with PyYAML alone, so ``mine2magnet scenarios`` loads no model
    library (tests/cli/test_market_run.py checks this equals the scenario and market layers' own lists)."""
    import yaml

    root = importlib.resources.files("mine2magnet")
    listed = []
    for kind, folder in (
        ("chain", root / "scenario" / "scenarios"),
        ("market", root / "market" / "scenarios"),
    ):
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".yaml") or entry.name == "overrides.yaml":
                continue
            data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
            lines = str(data.get("description") or "").strip().splitlines()
            listed.append((entry.name[: -len(".yaml")], lines[0] if lines else "", kind))
    return listed


@click.command("scenarios", short_help="List the built-in scenarios.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@wide_option
def scenarios_command(as_json: bool, wide: bool) -> None:
    """List the built-in scenarios with a one-line description."""
    listed = builtin_scenarios()
    if as_json:
        rows = [{"name": n, "description": d, "kind": k} for n, d, k in listed]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    grid = new_table(title="Built-in scenarios (run one with: mine2magnet run NAME)")
    grid.add_column("name", no_wrap=True)
    grid.add_column("kind", no_wrap=True)
    grid.add_column("description")
    for name, description, kind in listed:
        grid.add_row(name, kind, description)
    print_table(stdout_console(wide), grid)


def is_market_scenario(spec: str) -> bool:
    """Whether ``spec`` names a market scenario (``mine2magnet.market``): a built-in market scenario, or a
    YAML file with the market scenario's sections (``products`` and ``supply``)."""
    from mine2magnet.market.definition import list_market_scenarios

    if spec in {n for n, _ in list_market_scenarios()}:
        return True
    path = Path(spec)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return False
    from mine2magnet.data.reader import read_input

    data = read_input(path)
    return isinstance(data, dict) and {"products", "supply"} <= set(data)


def run_market_scenario(name: str, out: Path, store: Any, *, keep: bool, as_json: bool, quiet: bool) -> None:
    """``mine2magnet run`` of a market scenario: its tables as CSV, the run (``prices``: year, market,
    element, usd_per_kg, and the other tables) in the results store, its report and summary."""
    from mine2magnet.market.run import run_market
    from mine2magnet.report.market_page import write_market_report
    from mine2magnet.store import write_summary

    with progress_display(enabled=not quiet) as progress:
        result = run_market(name, progress=progress)
        progress("writing the tables", 0, 1)
        written = result.write(out)
        progress("saving to the results store", 0, 1)
        run_id, _ = store.save_replacing(result, replace=not keep)
        report = write_market_report(result, out / "report.html")
    summary = {
        **result.summary(),
        "kind": "market",
        "run_id": run_id,
        "outputs": {"report": str(report), "store": str(store.path), **written},
    }
    write_summary(summary, out / "summary.json")
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False))
        return
    click.echo(f"{result.name} — market run {run_id} ({result.years[0]}–{result.years[-1]})")
    for sentence in result.exposure:
        click.echo(f"  {sentence}")
    click.echo(f"report:  {report}")
    click.echo(f"prices:  {written['prices']}")
    click.echo(f"store:   {store.path} (run {run_id})")


DEFAULT_STORE = Path("out/malaysia-base/results.duckdb")


def _store_file(store_path: Path) -> Path:
    """``store_path`` (normalised) if a results store is there; a one-line error otherwise."""
    store_path = clean_path(store_path)
    if not store_path.is_file():
        raise InputError("no results store here (run `mine2magnet run` first)", file=str(store_path))
    return store_path


def _existing_store(store_path: Path) -> ResultsStore:
    from mine2magnet.store import ResultsStore

    return ResultsStore(_store_file(store_path))


@click.command("runs", short_help="List the runs in a results store.")
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_STORE,
    show_default=True,
    help="Results store to list.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every field, full ids).")
@wide_option
def runs_command(store_path: Path, as_json: bool, wide: bool) -> None:
    """List the runs in a results store (ids to pass to `mine2magnet compare` and `export`).

    The table fits the terminal (80 columns when piped): run id, scenario, status, start time and whether
    the run was made by the code as it is now; --wide adds the seed, the code version and the error of a
    failed run on one line per run, --json gives every field.
    """
    from mine2magnet.store import catalogue_json, code_version, read_catalogue

    store_path = _store_file(store_path)
    catalogue = read_catalogue(store_path)
    if as_json:
        records = [{k: v for k, v in r.items() if k != "years"} for r in catalogue_json(catalogue)]
        click.echo(json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False))
        return
    now = code_version()
    console = stdout_console(wide)
    grid = new_table(
        title=f"Runs in {store_path}",
        caption=None if wide else "code: 'now' = made by the code as it is now (--wide: versions)",
    )
    grid.add_column("run id", no_wrap=True)
    grid.add_column("scenario", ratio=1)
    grid.add_column("status", no_wrap=True)
    grid.add_column("started (UTC)", no_wrap=True)
    if wide:
        for column in ("seed", "code version", "error"):
            grid.add_column(column)
    else:
        grid.add_column("code", no_wrap=True)
    for rec in catalogue:
        started = rec["started_utc"]
        status = rec["status"] if rec["status"] == "complete" else f"[red]{rec['status']}[/red]"
        when = f"{started:%Y-%m-%d %H:%M}" if hasattr(started, "strftime") else ""
        row = [rec["run_id"], rec["label"] if wide else breakable(rec["label"], 20), status, when]
        if wide:
            row += [
                "" if rec["seed"] is None else str(rec["seed"]),
                str(rec["code_version"]),
                " ".join(str(rec["error"] or "").split()),
            ]
        else:
            row.append("now" if rec["code_version"] == now else "older")
        grid.add_row(*row)
    print_table(console, grid)


_SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@click.command("export", short_help="Export a stored run to Parquet, CSV or Excel.")
@click.argument("run_id")
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_STORE,
    show_default=True,
    help="Results store holding the run.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv", "xlsx"]),
    default="parquet",
    show_default=True,
    help="parquet or csv: one file per table; xlsx: one Excel workbook, one sheet per table.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into [default: next to the store, <format>/<run id>].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the files written as JSON.")
def export_command(run_id: str, store_path: Path, fmt: str, out: Path | None, as_json: bool) -> None:
    """Export run RUN_ID's tables (Parquet, CSV or Excel) with its catalogue entry and summary (run.json).

    RUN_ID must be a run of the store (see `mine2magnet runs`); nothing is written for any other value.
    """
    store = _existing_store(store_path)
    if not _SAFE_RUN_ID.match(run_id) or not store.has_run(run_id):
        shown = run_id if len(run_id) <= 60 else run_id[:57] + "..."
        raise InputError(
            f"no complete run {shown!r} in this store (see `mine2magnet runs --store {store_path}`)",
            file=str(store_path),
            field="run_id",
        )
    out = clean_path(out) if out is not None else store.path.parent / fmt / run_id
    written = store.export(run_id, out, fmt)
    if as_json:
        files = {name: str(path) for name, path in written.items()}
        click.echo(
            json.dumps({"run_id": run_id, "format": fmt, "folder": str(out), "files": files}, indent=2)
        )
        return
    for name, path in written.items():
        click.echo(f"{name}: {path}")


commands = [run_command, compare_command, scenarios_command, runs_command, export_command]

__all__ = [
    "RUN_ID",
    "PlainProgress",
    "RunOutcome",
    "StoreWriteError",
    "commands",
    "default_out",
    "parse_spec",
    "rescue_run",
    "run_and_store",
    "run_store_and_keep",
    "scenario_api",
    "split_overrides",
]
