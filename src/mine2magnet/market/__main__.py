"""``python -m mine2magnet.market run NAME --out DIR``: run a market scenario and write its tables.

Until ``mine2magnet run`` dispatches market scenarios (the scenario schema has no ``market`` block yet), this
is the command-line entry point of :func:`mine2magnet.market.run_market`.
"""

from __future__ import annotations

import json
import sys
import time

import click

from mine2magnet.errors import Mine2MagnetError


@click.group()
def main() -> None:
    """Markets that answer back: yearly equilibria of rare-earth oxides and magnets."""


@main.command("list")
def list_command() -> None:
    """Built-in market scenarios."""
    from mine2magnet.market.definition import list_market_scenarios

    for name, description in list_market_scenarios():
        click.echo(f"{name}: {description}")


@main.command("run")
@click.argument("scenario")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Folder for the tables.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run_command(scenario: str, out: str, as_json: bool) -> None:
    """Run SCENARIO (a built-in name or a YAML file) and write prices.csv and the other tables into OUT."""
    from mine2magnet.market.run import run_market

    started = time.perf_counter()
    try:
        result = run_market(scenario)
        result.write(out)
    except Mine2MagnetError as exc:
        click.secho(f"error: {' '.join(str(exc).split())}", fg="red", err=True)
        sys.exit(1)
    summary = result.summary()
    summary["seconds_wall"] = round(time.perf_counter() - started, 2)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{result.name}: {len(result.years)} years in {summary['seconds_wall']} s -> {out}")
    for sentence in result.exposure:
        click.echo(f"  {sentence}")


if __name__ == "__main__":
    main()
