"""`mine2magnet cascade simulate|dynamics|design SPEC`: solvent-extraction cascades from a spec file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mine2magnet.cli.computing import computing
from mine2magnet.cli.tables import new_table, print_table, stdout_console
from mine2magnet.errors import InputError


@click.group("cascade", short_help="Solvent-extraction cascades: simulate, dynamics, design.")
def cascade() -> None:
    """Counter-current solvent-extraction cascades (spec format: docs/cascade-spec.md)."""


@cascade.command("simulate")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--plot", "plot_path", type=click.Path(dir_okay=False), help="Write stage profiles (.html or .png)."
)
def simulate_command(spec: str, as_json: bool, plot_path: str | None) -> None:
    """Simulate the cascade described in SPEC (YAML or JSON) at steady state."""
    from mine2magnet.separation import load_spec, simulate

    with computing(spec):
        result = simulate(load_spec(spec))
    if plot_path:
        from mine2magnet.separation.plot import write_profile_plot

        Path(plot_path).parent.mkdir(parents=True, exist_ok=True)
        write_profile_plot(result, plot_path)
    payload = result.to_dict()
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    _print_summary(payload)
    if plot_path:
        click.echo(f"stage profiles written to {plot_path}")


def _print_summary(d: dict[str, Any]) -> None:
    console = stdout_console()
    console.print(
        f"[bold]{d['model']}[/bold]: converged in {d['iterations']} iterations, "
        f"mass-balance error {d['mass_balance_error']:.1e}, {len(d['stages'])} stages"
    )
    table = new_table(
        title="Outlets (mol/h; purity = share of the outlet's metal; recovery = share of the feed)"
    )
    for column in ("outlet", "component", "flow", "purity", "recovery"):
        table.add_column(column, justify="left" if column in ("outlet", "component") else "right")
    for name, out in d["outlets"].items():
        for i, comp in enumerate(d["components"]):
            table.add_row(
                name if i == 0 else "",
                comp,
                f"{out['flow'][comp]:.6g}",
                f"{out['purity'][comp]:.6%}",
                f"{d['recovery'][comp][name]:.4%}",
            )
    print_table(console, table)
    for name, out in d["outlets"].items():
        if "pH" in out:
            console.print(f"{name} pH {out['pH']:.3f}")
    for key, value in d.get("reagents", {}).items():
        console.print(f"{key}: {value:.6g}")


@cascade.command("dynamics")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    help="Write the outlets over time (.html or .png).",
)
def dynamics_command(spec: str, as_json: bool, plot_path: str | None) -> None:
    """Simulate the start-up (and the events) of the mixer-settler cascade in SPEC over time.

    SPEC needs a `dynamics:` block (mixer and settler volumes in L, times in h; docs/cascade-spec.md).
    """
    from mine2magnet.separation import simulate_dynamic

    if plot_path and Path(plot_path).suffix.lower() not in (".html", ".htm", ".png"):
        raise InputError(f"unknown plot format {Path(plot_path).suffix!r}; use .html or .png", field="--plot")
    with computing(spec):
        result = simulate_dynamic(spec)
    if plot_path:
        from mine2magnet.separation.plot import write_dynamics_plot

        Path(plot_path).parent.mkdir(parents=True, exist_ok=True)
        write_dynamics_plot(result, plot_path)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    _print_dynamics_summary(result.to_dict())
    if plot_path:
        click.echo(f"outlets over time written to {plot_path}")


def _print_dynamics_summary(d: dict[str, Any]) -> None:
    console = stdout_console()
    times = d["times"]
    tss = d["time_to_steady_state"]
    solver = d["solver"]
    steady = (
        f"within {d['tolerance']:g} of the steady state from {tss:.4g} h"
        if tss is not None
        else f"not within {d['tolerance']:g} of the steady state by the end"
    )
    console.print(
        f"[bold]{d['model']}[/bold]: {times[-1]:.4g} h simulated ({solver['method']}, "
        f"{solver['steps']} steps, mass-balance error {d['mass_balance_error']:.1e}); {steady}"
    )
    table = new_table(title="Outlets at the start and the end (mol/L; purity = share of the outlet's metal)")
    for column in ("outlet", "component", "at 0 h", f"at {times[-1]:.4g} h", "purity at the end"):
        table.add_column(column, justify="left" if column in ("outlet", "component") else "right")
    for name in d["terminal_outlets"]:
        out = d["outlets"][name]
        for i, comp in enumerate(d["components"]):
            first, last = out["concentration"][comp][0], out["concentration"][comp][-1]
            purity = out["purity"][comp][-1]
            table.add_row(
                name if i == 0 else "",
                comp,
                f"{first:.4g}" if first is not None else "-",
                f"{last:.4g}" if last is not None else "-",
                f"{purity:.6%}" if purity is not None else "-",
            )
    print_table(console, table)
    if d["steady_state"] is not None:
        console.print(
            f"final outlets vs the steady state (simulate): max deviation {d['steady_state_deviation']:.1e} "
            "of the metal inflow"
        )


@cascade.command("design")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the design as JSON.")
def design_command(spec: str, as_json: bool) -> None:
    """Design a cascade for the `cut:` and `targets:` in SPEC (stages and flows)."""
    from mine2magnet.separation import design

    with computing(spec):  # design reads the file itself: feed.stage may be absent, objective is allowed
        result = design(spec)
    payload = result.to_dict()
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    summary = getattr(result, "summary", None)
    click.echo(summary() if callable(summary) else json.dumps(payload, indent=2))


commands = [cascade]
