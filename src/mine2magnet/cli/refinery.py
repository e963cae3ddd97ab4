"""`mine2magnet refinery run|list|capacity`: refinery flowsheets from the command line (thin over the API)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from mine2magnet.errors import InputError
from mine2magnet.process import limiting_unit, list_feeds, list_flowsheets, required_for, run_flowsheet
from mine2magnet.process.plant_page import write_page


@click.group("refinery", short_help="Refinery flowsheets: run, list, capacity.")
def refinery() -> None:
    """Refinery flowsheets: product slate, residues, reagents, SX circuits and costs."""


@refinery.command("run")
@click.argument("flowsheet")
@click.option("--feed", "feed", default=None, help="Feed name (see `refinery list`) or feed file.")
@click.option(
    "--rate", "rate", type=float, default=None, help="Feed rate, t/yr of REO (default: design rate)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--out", "out", type=click.Path(file_okay=False), default=None, help="Write result.json + HTML here."
)
def run_cmd(flowsheet: str, feed: str | None, rate: float | None, as_json: bool, out: str | None) -> None:
    """Run FLOWSHEET (a reference name or a YAML/JSON file)."""
    result = run_flowsheet(flowsheet, feed, rate)
    data = result.to_dict()
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "result.json").write_text(json.dumps(data, indent=2, default=str))
        page = write_page(result, folder / f"{result.flowsheet}.html")
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    console = Console()
    console.print(
        f"[bold]{result.flowsheet}[/bold] — feed {result.feed} at {result.feed_reo_t_per_yr:,.0f} t/yr REO; "
        f"mass balance error {result.mass_balance_error:.1e}"
    )
    t = Table(title="Products")
    for col in ("product", "t/yr", "purity", "spec"):
        t.add_column(col, justify="right")
    for n, p in result.products.items():
        t.add_row(n, f"{p.t_per_yr:,.1f}", f"{p.purity:.5f}", str(p.min_purity or "-"))
    console.print(t)
    t = Table(title="Residues")
    for col in ("residue", "t per t REO", "t/yr wet", "Bq/g", "exempt"):
        t.add_column(col, justify="right")
    for n, r in data["residues"].items():
        t.add_row(
            n, f"{r['t_per_t_reo']:.3f}", f"{r['t_per_yr']:,.0f}", f"{r['bq_per_g']:.2f}", str(r["exempt"])
        )
    console.print(t)
    t = Table(title="SX circuits")
    for col in ("cut", "split", "stages (ext+scrub)", "strip stages", "mixer-settler m3"):
        t.add_column(col, justify="right")
    for c in result.circuits:
        t.add_row(
            c["cut"],
            c["split"],
            str(c["stages"]),
            str(c.get("strip_stages", 0)),
            f"{c['mixer_settler_volume_m3']:,.1f}",
        )
    console.print(t)
    c = data["costs"]
    console.print(
        f"capex {c['capex_usd'] / 1e6:,.0f} M USD; opex {c['opex_usd_per_yr'] / 1e6:,.1f} M USD/yr; revenue "
        f"{c['revenue_usd_per_yr'] / 1e6:,.1f} M USD/yr; margin {c['margin_usd_per_yr'] / 1e6:,.1f} M USD/yr"
    )
    console.print(
        f"electricity (calcination and solvent extraction, the sourced energy uses) "
        f"{result.energy['electricity_kwh_per_yr'] / 1e6:,.1f} GWh/yr"
    )
    for note in result.notes:
        console.print(f"note: {note}")
    if out:
        console.print(f"wrote {folder / 'result.json'} and {page}")


@refinery.command("list")
def list_cmd() -> None:
    """List the reference flowsheets and built-in feeds."""
    click.echo("flowsheets: " + ", ".join(list_flowsheets()))
    click.echo("feeds: " + ", ".join(list_feeds()))


@refinery.command("capacity")
@click.argument("flowsheet")
@click.option("--feed", "feed", default=None, help="Feed name or file.")
@click.option(
    "--rate", "rate", type=float, default=None, help="Feed rate, t/yr REO (limiting unit at this rate)."
)
@click.option(
    "--target", "targets", multiple=True, help="PRODUCT=T_PER_YR: feed and sizes needed (repeatable)."
)
def capacity_cmd(flowsheet: str, feed: str | None, rate: float | None, targets: tuple[str, ...]) -> None:
    """Which unit limits throughput, or what feed and circuits a target output needs (JSON)."""
    if targets:
        wanted = {}
        for t in targets:
            name, sep, value = t.rpartition("=")
            try:
                wanted[name] = float(value)
            except ValueError:
                raise InputError(f"expected PRODUCT=T_PER_YR, got {t!r}", field="--target") from None
            if not sep or not name:
                raise InputError(f"expected PRODUCT=T_PER_YR, got {t!r}", field="--target")
        click.echo(json.dumps(required_for(flowsheet, wanted, feed), indent=2))
    else:
        click.echo(json.dumps(limiting_unit(flowsheet, rate, feed), indent=2))


commands = [refinery]
