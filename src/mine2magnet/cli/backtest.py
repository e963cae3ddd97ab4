"""`mine2magnet backtest`: run a scenario over the observed years and compare it with published history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from mine2magnet.analysis import Backtest

#: The default scenario of `backtest` (``mine2magnet.analysis.HISTORY_SCENARIO``; test_startup keeps them
#: equal without importing the analysis layer here).
HISTORY_SCENARIO = "malaysia-history"


def _number(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def _print(bt: Backtest, console: Console) -> None:
    table = Table(title=f"Backtest of {bt.scenario} ({bt.years[0]}–{bt.years[1]})", expand=False)
    for column, justify in (
        ("observation", "left"),
        ("period", "left"),
        ("model", "right"),
        ("published", "right"),
        ("ratio", "right"),
        ("tol.", "right"),
        ("status", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    colours = {"pass": "green", "fail": "red", "known miss": "yellow"}
    for c in bt.compared:
        o = c.observation
        table.add_row(
            o.key,
            o.period.label,
            _number(c.model),
            f"{_number(o.value)} {o.unit}",
            "" if c.ratio is None else f"{c.ratio:.2f}",
            "" if o.tolerance is None else f"±{o.tolerance:.0%}",
            f"[{colours.get(c.status, 'white')}]{c.status}[/]" + (" (in sample)" if c.in_sample else ""),
        )
    console.print(table)
    counts = bt.counts()
    console.print(", ".join(f"{n} {status}" for status, n in counts.items() if n))
    fitted = sum(1 for c in bt.compared if c.in_sample)
    if fitted:
        console.print(f"{fitted} compared in sample: an input of the run was fitted to them (see --json).")


def _holdout(scenario: str, overrides: list[str], as_json: bool) -> None:
    from mine2magnet.analysis.calibration import reject_cost_holdout_study
    from mine2magnet.data import load_dataset
    from mine2magnet.scenario import load_scenario

    sc = load_scenario(scenario, overrides=overrides)
    rows = [r.to_dict() for r in reject_cost_holdout_study(sc, load_dataset().observations())]
    if as_json:
        click.echo(json.dumps({"scenario": sc.name, "holdout": rows}, indent=2))
        return
    table = Table(title=f"La/Ce reject cost: fitted on some years, tested on the others ({sc.name})")
    for column in ("price of", "fitted on", "best range, USD/kg", "held-out ratios (model / published)"):
        table.add_column(column, overflow="fold")
    for row in rows:
        tests = ", ".join(
            f"{key.rsplit('.', 1)[-1]} {v['ratio']:.2f}{'' if v['pass'] else ' ✗'}"
            for key, v in row["test"].items()
        )
        fitted = "FY" + "-".join(dict.fromkeys((row["train"][0][-4:], row["train"][-1][-4:])))
        table.add_row(
            "previous year" if row["lag"] else "same year",
            fitted,
            f"{row['best'][0]:.1f}-{row['best'][1]:.1f}",
            tests,
        )
    Console().print(table)
    Console().print("✗: outside the observation's declared tolerance.")


def write_backtest(bt: Backtest, out: Path) -> list[Path]:
    """Write backtest.json, backtest.csv and backtest.html into `out` (each atomically, under a unique
    temporary name); return the paths."""
    from mine2magnet.report.backtest_page import write_backtest_page
    from mine2magnet.store import atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("backtest.json", json.dumps(bt.to_dict(), indent=2, ensure_ascii=False)),
        ("backtest.csv", bt.to_frame().to_csv(index=False)),
    ):
        written.append(atomic_write_text(out / name, text))
    written.append(write_backtest_page(bt, out / "backtest.html"))
    return written


@click.command("backtest", short_help="Compare a scenario with published history.")
@click.argument("scenario", default=HISTORY_SCENARIO)
@click.option("--scenario", "overrides", default="", help="Named overrides to apply, comma-separated.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparisons as JSON.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for backtest.json, backtest.csv and backtest.html.",
)
@click.option(
    "--holdout",
    is_flag=True,
    help="Instead: fit the La/Ce reject cost on FY2021-FY2023 only and test it on 2024-2025 (~1 min).",
)
def backtest_command(scenario: str, overrides: str, as_json: bool, out: Path | None, holdout: bool) -> None:
    """Compare SCENARIO (default: malaysia-history) with every published observation it can produce.

    Each observation passes when |model - published| is within the tolerance declared with it; the JSON
    lists {"observations": [{"key", "year", "model", "published", "ratio", "tolerance", "pass",
    "in_sample", "fitted_by"}, ...]}; in_sample marks an observation an input of the run was fitted to.
    """
    from mine2magnet.analysis import run_backtest

    names = [s for s in overrides.split(",") if s.strip()]
    if holdout:
        _holdout(scenario, names, as_json)
        return
    bt, _ = run_backtest(scenario, names)
    written = write_backtest(bt, out) if out is not None else []
    if as_json:
        click.echo(json.dumps(bt.to_dict(), indent=2, ensure_ascii=False))
        return
    console = Console()
    _print(bt, console)
    for path in written:
        console.print(f"wrote {path}")


commands = [backtest_command]
