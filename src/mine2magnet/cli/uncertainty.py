"""`mine2magnet uncertainty`: a study of a scenario's uncertain inputs (docs/uncertainty.md)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click

#: Years shown in the terminal table (those the study has).
SHOWN_YEARS = (2025, 2030, 2035, 2040)


def _split(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    x = float(x)
    if abs(x) >= 1e9:
        return f"{x / 1e9:,.2f} bn"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.1f} M"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


@click.command("uncertainty", short_help="Uncertainty and sensitivity study of a scenario.")
@click.argument("scenario")
@click.option("--draws", "-n", type=click.IntRange(min=1), default=100, show_default=True, help="Model runs.")
@click.option(
    "--method",
    type=click.Choice(["mc", "lhs", "sobol", "morris"]),
    default="lhs",
    show_default=True,
    help="Monte Carlo, Latin hypercube, Sobol' (first and total order) or Morris screening.",
)
@click.option("--workers", "-w", type=click.IntRange(min=1), default=1, show_default=True, help="Processes.")
@click.option(
    "--backend",
    type=click.Choice(["inline", "pool", "dask"]),
    default=None,
    help="Where draws run [default: dask with --scheduler, a process pool with --workers > 1, else inline]; "
    "dask without --scheduler starts a LocalCluster of --workers processes.",
)
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler (e.g. tcp://host:8786).")
@click.option(
    "--resume", is_flag=True, help="Continue the study in --out (same options) with the draws left."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the study (uncertainty.duckdb, outputs.parquet, uncertainty.json) "
    "[default: out/<scenario>-uncertainty].",
)
@click.option(
    "--scenario", "-s", "overrides", default="", metavar="OVERRIDES", help="Named overrides, comma-separated."
)
@click.option(
    "--inputs",
    "inputs_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Declarations file (distributions, choices, correlations, exclude) on top of the package's.",
)
@click.option("--only", default="", metavar="PREFIXES", help="Vary only inputs whose key starts with these.")
@click.option(
    "--condition",
    "conditions",
    multiple=True,
    metavar="TEXT",
    help="A stated target, e.g. 'feed_sufficiency[Lynas Malaysia] >= 0.8 every year to 2035' (repeatable).",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    metavar="KPI[SUBJECT]@YEAR",
    help="Outputs whose sensitivity is reported (repeatable) "
    "[default: value added 2040, Dy 2030, feed 2035].",
)
@click.option("--end-year", type=int, default=None, help="Stop each run at this year (a shorter study).")
@click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def uncertainty_command(
    scenario: str,
    draws: int,
    method: str,
    workers: int,
    backend: str | None,
    scheduler: str | None,
    resume: bool,
    seed: int,
    out: Path | None,
    overrides: str,
    inputs_files: tuple[Path, ...],
    only: str,
    conditions: tuple[str, ...],
    outputs: tuple[str, ...],
    end_year: int | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run SCENARIO on a sample of its uncertain inputs and report P5-P50-P95 of the headline KPIs by year,
    the probability of stated targets and published claims, the split by ionic-clay composition and which
    inputs matter most.

    Every ranged number the scenario reads is an input (uniform for an assumption centred in its range,
    else triangular at the value; declarations in src/mine2magnet/data/distributions/ and --inputs change
    that).
    Draws stream to OUT/uncertainty.duckdb as they finish; after Ctrl-C or a crash, the same command with
    --resume runs the draws left. One seed gives the same results on every backend.
    """
    from mine2magnet.analysis.uncertainty.answers import DEFAULT_CONDITIONS, DEFAULT_OUTPUTS, study_answers
    from mine2magnet.analysis.uncertainty.study import run_scenario_study

    name = Path(scenario).stem
    folder = out if out is not None else Path("out") / f"{name}-uncertainty"
    try:
        result = run_scenario_study(
            scenario,
            draws=draws,
            method=method,
            seed=seed,
            overrides=_split(overrides),
            inputs_files=list(inputs_files),
            only=_split(only),
            end_year=end_year,
            workers=workers,
            backend=backend,
            scheduler=scheduler,
            out=folder,
            resume=resume,
            progress=not quiet,
        )
    except KeyboardInterrupt:
        click.secho(
            f"interrupted: the finished draws are kept in {folder}; the same command with --resume runs the "
            "rest",
            fg="yellow",
            err=True,
        )
        sys.exit(130)
    answers = study_answers(result, conditions or DEFAULT_CONDITIONS, outputs or DEFAULT_OUTPUTS)
    answers["study"]["left_out"] = result.meta.get("left_out", [])
    _write(folder, answers)
    if as_json:
        click.echo(json.dumps(answers, indent=2, ensure_ascii=False))
        return
    _print(answers, folder)


def _write(folder: Path, answers: dict[str, Any]) -> None:
    import duckdb

    from mine2magnet.analysis.uncertainty.draw_store import store_path

    target = folder / "uncertainty.json"
    tmp = folder / ".uncertainty.json.tmp"
    tmp.write_text(json.dumps(answers, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(target)
    con = duckdb.connect(str(store_path(folder)), read_only=True)
    try:
        parquet = folder / "outputs.parquet"
        con.execute(
            f"COPY (SELECT * FROM outputs ORDER BY draw, kpi, year, subject) TO '{parquet}' (FORMAT PARQUET)"
        )
    finally:
        con.close()


def _print(answers: dict[str, Any], folder: Path) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    d = answers["draws"]
    study = answers["study"]
    console.print(
        f"[bold]{study['model'].get('scenario')}[/]: {d['ok']} draws ok, {d['failed']} failed of "
        f"{d['design']} ({study['method']}, seed {study['seed']}, {len(answers['inputs'])} inputs, "
        f"backend {answers['backend']})"
    )
    table = Table(title="P5 – P50 – P95 of the totals")
    table.add_column("KPI")
    ranges = answers["ranges"]
    years = [y for y in SHOWN_YEARS if any(str(y) in by for by in ranges.values())]
    for y in years:
        table.add_column(str(y), justify="right")
    for kpi, by in ranges.items():
        cells = []
        for y in years:
            v = by.get(str(y))
            cells.append(" – ".join(_fmt(x) for x in v) if v else "")
        table.add_row(escape(kpi), *cells)
    console.print(table)
    for c in answers["conditions"]:
        if "error" in c:
            console.print(f"[yellow]{escape(c['error'])}[/]")
        else:
            console.print(
                f"P({escape(c['condition'])}) = {c['probability']:.2f} "
                f"(95 % interval {c['low']:.2f}–{c['high']:.2f}, "
                f"{c['draws']} draws)"
            )
    claims = answers.get("claims") or []
    if claims:
        ct = Table(title="Published claims: probability that each holds")
        for col in ("claim", "source", "year", "P(holds)", "modelled P5 – P95"):
            ct.add_column(col)
        for c in claims:
            ct.add_row(
                escape(c["claim"]),
                escape(c["source"]),
                str(c["year"]),
                f"{c['probability']:.2f}",
                f"{_fmt(c['p5'])} – {_fmt(c['p95'])}",
            )
        console.print(ct)
    for text, entry in answers["outputs"].items():
        if "error" in entry:
            console.print(f"[yellow]{escape(text)}: {escape(entry['error'])}[/]")
        for choice, rows in (entry.get("split") or {}).items():
            parts = ", ".join(
                f"{r['option']} {_fmt(r['p5'])}–{_fmt(r['p50'])}–{_fmt(r['p95'])}" for r in rows
            )
            console.print(escape(f"{text} by {choice}: {parts}"))
        for kind, key in (("sobol", "ST"), ("morris", "mu_star"), ("tornado", "swing")):
            rows = entry.get(kind)
            if rows:
                top = ", ".join(f"{r['input']} ({_fmt(r[key])})" for r in rows[:5])
                console.print(escape(f"{text}, top inputs by {kind} {key}: {top}"))
    console.print(
        "written: "
        + ", ".join(str(folder / f) for f in ("uncertainty.json", "outputs.parquet", "uncertainty.duckdb"))
    )
