"""`mine2magnet refinery run|list|capacity`: refinery flowsheets from the command line (thin over the API)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from mine2magnet.cli.computing import computing
from mine2magnet.cli.tables import echo_wrapped, new_table, print_table, stdout_console
from mine2magnet.errors import InputError


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
    from mine2magnet.process import run_flowsheet
    from mine2magnet.process.plant_page import write_page

    with computing(flowsheet):
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
    console = stdout_console()
    console.print(
        f"[bold]{result.flowsheet}[/bold] — feed {result.feed} at {result.feed_reo_t_per_yr:,.0f} t/yr REO; "
        f"mass balance error {result.mass_balance_error:.1e}"
    )
    t = new_table(title="Products")
    for col in ("product", "t/yr", "purity", "spec"):
        t.add_column(col, justify="right")
    for n, p in result.products.items():
        t.add_row(n, f"{p.t_per_yr:,.1f}", f"{p.purity:.5f}", str(p.min_purity or "-"))
    print_table(console, t)
    t = new_table(title="Residues")
    for col in ("residue", "t per t REO", "t/yr wet", "Bq/g", "exempt"):
        t.add_column(col, justify="right")
    for n, r in data["residues"].items():
        t.add_row(
            n, f"{r['t_per_t_reo']:.3f}", f"{r['t_per_yr']:,.0f}", f"{r['bq_per_g']:.2f}", str(r["exempt"])
        )
    print_table(console, t)
    t = new_table(title="SX circuits")
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
    print_table(console, t)
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(as_json: bool) -> None:
    """List the reference flowsheets and built-in feeds."""
    from mine2magnet.process import list_feeds, list_flowsheets

    flowsheets, feeds = list_flowsheets(), list_feeds()
    if as_json:
        click.echo(json.dumps({"flowsheets": flowsheets, "feeds": feeds}, indent=2))
        return
    console = stdout_console()
    echo_wrapped("flowsheets: " + ", ".join(flowsheets), console, hang="  ")
    echo_wrapped("feeds: " + ", ".join(feeds), console, hang="  ")


def _units_table(units: list[dict[str, Any]], title: str) -> Table:
    table = new_table(title=title)
    table.add_column("unit")
    table.add_column("measure")
    for column in ("throughput", "capacity", "use"):
        table.add_column(column, justify="right")
    for u in units:
        table.add_row(
            str(u["unit"]).removeprefix("product:"),
            str(u["measure"]),
            f"{u['throughput']:,.0f}",
            f"{u['capacity']:,.0f}",
            f"{u['utilisation']:.0%}",
        )
    return table


def _print_capacity(data: dict[str, Any], flowsheet: str) -> None:
    console = stdout_console()
    if "driving_product" in data:  # --target: what the targets need
        feed_t = data["feed_reo_t_per_yr"]
        driver = data["driving_product"]
        echo_wrapped(
            f"{flowsheet}: {driver} sets the feed: {feed_t:,.0f} t/yr REO of {data['feed']}", console
        )
        products = new_table(title="Products at that feed (t/yr)")
        products.add_column("product")
        products.add_column("t/yr", justify="right")
        for name, value in data["products_t_per_yr"].items():
            products.add_row(name, f"{value:,.1f}")
        print_table(console, products)
        print_table(console, _units_table(data["units"], "Units at that feed (use = throughput / capacity)"))
        if data.get("over_capacity"):
            echo_wrapped("over capacity: " + ", ".join(data["over_capacity"]), console)
        circuits = new_table(title="SX circuits needed")
        for column in ("cut", "stages", "strip stages", "mixer-settler m3", "organic L/h"):
            circuits.add_column(column, justify="left" if column == "cut" else "right")
        for c in data.get("circuits", []):
            circuits.add_row(
                str(c["cut"]),
                str(c["stages"]),
                str(c.get("strip_stages", 0)),
                f"{c['mixer_settler_volume_m3']:,.1f}",
                f"{c['organic_l_per_h']:,.0f}",
            )
        print_table(console, circuits)
        return
    limiting = data["limiting"]
    unit = limiting["unit"].removeprefix("product:")
    echo_wrapped(
        f"{flowsheet} at {data['feed_reo_t_per_yr']:,.0f} t/yr REO: {unit} "
        f"limits throughput ({limiting['utilisation']:.0%} used); at most "
        f"{data['max_feed_reo_t_per_yr']:,.0f} t/yr REO",
        console,
    )
    print_table(console, _units_table(data["units"], "Units (use = throughput / capacity)"))


@refinery.command("capacity")
@click.argument("flowsheet")
@click.option("--feed", "feed", default=None, help="Feed name or file.")
@click.option(
    "--rate", "rate", type=float, default=None, help="Feed rate, t/yr REO (limiting unit at this rate)."
)
@click.option(
    "--target", "targets", multiple=True, help="PRODUCT=T_PER_YR: feed and sizes needed (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def capacity_cmd(
    flowsheet: str, feed: str | None, rate: float | None, targets: tuple[str, ...], as_json: bool
) -> None:
    """Which unit limits throughput, or what feed and circuits a target output needs."""
    from mine2magnet.process import limiting_unit, required_for

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
        with computing(flowsheet):
            data = required_for(flowsheet, wanted, feed)
    else:
        with computing(flowsheet):
            data = limiting_unit(flowsheet, rate, feed)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    _print_capacity(data, flowsheet)


commands = [refinery]
