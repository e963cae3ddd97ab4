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
            f"[{colours.get(c.status, 'white')}]{c.status}[/]",
        )
    console.print(table)
    counts = bt.counts()
    console.print(", ".join(f"{n} {status}" for status, n in counts.items() if n))


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
def backtest_command(scenario: str, overrides: str, as_json: bool, out: Path | None) -> None:
    """Compare SCENARIO (default: malaysia-history) with every published observation it can produce.

    Each observation passes when |model - published| is within the tolerance declared with it; the JSON
    lists {"observations": [{"key", "year", "model", "published", "ratio", "tolerance", "pass"}, ...]}.
    """
    from mine2magnet.analysis import run_backtest

    names = [s for s in overrides.split(",") if s.strip()]
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
