"""`mine2magnet claims`: published claims about the rare-earth economy beside the model's figures."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from mine2magnet.economics.claims import ClaimCheck

#: The scenario the claims are checked against when none is named.
DEFAULT_SCENARIO = "malaysia-base"


def checked_claims(scenario: str = DEFAULT_SCENARIO, overrides: list[str] | None = None) -> list[ClaimCheck]:
    """Run `scenario` and check every claim of the dataset against it.

    A claim about a year before the scenario's first is checked against the history the scenario starts from
    (``start_from``), when it has one.
    """
    from mine2magnet.data import load_dataset
    from mine2magnet.economics.claims import check_claims
    from mine2magnet.scenario import load_scenario, run_scenario, unreachable_facilities

    ds = load_dataset()
    sc = load_scenario(scenario, overrides or [])
    for unreachable in unreachable_facilities(sc.model):
        click.echo(f"warning: {sc.name}: {unreachable}", err=True)
    result = run_scenario(sc)
    u = ds.value("economics.claim_check.relative_uncertainty", "fraction")
    claims = ds.claims()
    early = [c for c in claims if c.period.end.year < result.years[0]]
    history = sc.data.get("start_from")
    if not (early and history):
        return check_claims(claims, sc.model, result, ds, u)
    past = load_scenario(str(history))
    past_checks = {
        c.claim.key + c.claim.source.id: c for c in check_claims(early, past.model, run_scenario(past), ds, u)
    }
    later = {c.claim.key + c.claim.source.id: c for c in check_claims(claims, sc.model, result, ds, u)}
    return [past_checks.get(k, later[k]) for k in (c.key + c.source.id for c in claims)]


def _number(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


@click.command("claims", short_help="Published claims beside the model's figures.")
@click.argument("scenario", default=DEFAULT_SCENARIO)
@click.option("--scenario", "overrides", default="", help="Named overrides to apply, comma-separated.")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def claims_command(scenario: str, overrides: str, as_json: bool) -> None:
    """Put each published claim (src/mine2magnet/data/claims/) beside the modelled figure of SCENARIO.

    Verdicts: within range, above, below (the claimed number against the modelled range) or not modelled;
    `holds` says whether the claim, read as meant (about, up to, at least), agrees with the model.
    """
    checks = checked_claims(scenario, [s for s in overrides.split(",") if s.strip()])
    if as_json:
        click.echo(json.dumps({"scenario": scenario, "claims": [c.to_dict() for c in checks]}, indent=2))
        return
    table = Table(title=f"Claims against {scenario}")
    for column in ("claim", "year", "claimed", "model (range)", "verdict"):
        table.add_column(column, overflow="fold")
    colour = {"within range": "green", "above": "red", "below": "yellow", "not modelled": "white"}
    for c in checks:
        claimed = f"{c.claim.reading.replace('_', ' ')} {_number(c.claim.value)} {c.claim.unit}"
        model = "" if c.model is None else f"{_number(c.model)} ({_number(c.low)}-{_number(c.high)})"
        table.add_row(
            c.claim.claim,
            str(c.claim.period.end.year),
            claimed,
            model,
            f"[{colour[c.verdict]}]{c.verdict}[/]",
        )
    Console().print(table)


commands = [claims_command]
