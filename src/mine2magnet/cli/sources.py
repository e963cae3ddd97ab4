"""`mine2magnet sources` and `mine2magnet data show|list`: the sourced reference data, with provenance."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from mine2magnet.cli.tables import (
    breakable,
    echo_wrapped,
    new_table,
    print_table,
    stdout_console,
    wide_option,
)

if TYPE_CHECKING:
    from mine2magnet.data import Conflict, Dataset, SourcedComposition, SourcedValue


def _dataset(path: str | None) -> Dataset:
    from mine2magnet.data import load_dataset

    return load_dataset(path, with_package_data=True) if path else load_dataset()


def _value_text(entry: SourcedValue) -> str:
    if entry.is_text:
        return str(entry.value)
    text = f"{entry.value:,.6g} {entry.unit}"
    if entry.range is not None:
        text += f" [{entry.range[0]:,.6g}–{entry.range[1]:,.6g}]"
    return text


def _print_conflicts(console: Console, conflicts: list[Conflict], wide: bool = False) -> None:
    """One block per conflict: the key and why the sources disagree, then a table of the values."""
    click.echo(f"Conflicts ({len(conflicts)}): quantities whose sources disagree")
    for conflict in conflicts:
        click.echo("")
        echo_wrapped(f"{conflict.key}: {conflict.reason}", console, hang="  ")
        table = new_table()
        table.add_column("value", justify="right")
        table.add_column("kind")
        table.add_column("source", overflow="fold")
        if wide:
            table.add_column("url")
        for entry in conflict.values:
            row = [
                _value_text(entry),
                entry.kind,
                entry.source.id if wide else breakable(entry.source.id, 30),
            ]
            if wide:
                row.append(entry.source.url or "")
            table.add_row(*row)
        print_table(console, table)


@click.command("sources", short_help="The bibliography and where sources disagree.")
@click.option("--conflicts", "only_conflicts", is_flag=True, help="List quantities whose sources disagree.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables (every field).")
@wide_option
@click.option("--data", "data_path", type=click.Path(exists=True, file_okay=False), help="Extra data folder.")
def sources_command(only_conflicts: bool, as_json: bool, wide: bool, data_path: str | None) -> None:
    """List the bibliography (and, with --conflicts, quantities whose sources disagree).

    The table fits the terminal (80 columns when piped): id, title, date and whether a value cites the
    source; --wide adds publisher, type and URL on one line per source; --json gives every field.
    """
    ds = _dataset(data_path)
    conflicts = ds.conflicts()
    if as_json:
        payload: dict[str, Any] = {"sources": [s.to_dict() for s in ds.sources.values()]}
        payload["conflicts"] = [c.to_dict() for c in conflicts]
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    console = stdout_console(wide)
    if not only_conflicts:
        cited = ds.cited_sources()
        table = new_table(title=f"Sources ({len(ds.sources)})")
        table.add_column("id", max_width=None if wide else 26)
        table.add_column("title", ratio=1)
        if wide:
            table.add_column("publisher")
        table.add_column("date", no_wrap=True)
        if wide:
            table.add_column("type")
        table.add_column("cited", no_wrap=True)
        if wide:
            table.add_column("url")
        for source in ds.sources.values():
            row = [source.id if wide else breakable(source.id, 26), source.title]
            if wide:
                row.append(source.publisher)
            row.append(str(source.date))
            if wide:
                row.append(source.type)
            row.append("yes" if source.id in cited else "no")
            if wide:
                row.append(source.url or "")
            table.add_row(*row)
        print_table(console, table)
    _print_conflicts(console, conflicts, wide)


@click.group("data", short_help="Sourced reference values: show, list, check, schema.")
def data_group() -> None:
    """Sourced reference values: show one with its provenance, list keys."""


def _show_value(console: Console, entries: list[SourcedValue]) -> None:
    console.print(f"[bold]{entries[0].key}[/bold]  ({len(entries)} source{'s' if len(entries) > 1 else ''})")
    for i, entry in enumerate(entries):
        src = entry.source
        head = f"{i + 1}. {_value_text(entry)}" + ("  (preferred)" if i == 0 else "")
        console.print(head, markup=False)
        lines = [f"kind: {entry.kind}" + (f", year {entry.year}" if entry.year else "")]
        if entry.basis:
            lines.append(f"basis: {entry.basis}")
        lines.append(f"source: {src.title} — {src.publisher}, {src.date} ({src.type}) [{src.id}]")
        lines.append(f"url: {src.url or 'none'}")
        if src.via:
            lines.append(f"via: {src.via}")
        if entry.note:
            lines.append(f"note: {entry.note}")
        if entry.derived_from:
            lines.append(f"derived from: {', '.join(entry.derived_from)}")
        lines.append(f"file: {entry.where}")
        for line in lines:
            if line.startswith("url: "):  # never broken: it must stay clickable and copyable
                click.echo("   " + line)
            else:
                echo_wrapped(line, console, indent="   ", hang="     ")


def _show_composition(console: Console, comps: list[SourcedComposition]) -> None:
    for comp in comps:
        table = new_table(title=f"{comp.key} (% of TREO, {comp.kind}, source {comp.source.id})")
        table.add_column("element")
        table.add_column("% of TREO", justify="right")
        table.add_column("range", justify="right")
        for symbol, fraction in comp.fractions.items():
            rng = comp.ranges.get(symbol)
            table.add_row(
                symbol, f"{100 * fraction:.3f}", f"{100 * rng[0]:g}–{100 * rng[1]:g}" if rng else ""
            )
        print_table(console, table)
        console.print(f"sum {100 * comp.total():.3f} %  complete: {comp.complete}")
        src = comp.source
        echo_wrapped(f"source: {src.title} — {src.publisher}, {src.date} ({src.type})", console, hang="  ")
        if src.url:
            click.echo(f"url: {src.url}")
        if comp.note:
            echo_wrapped(f"note: {comp.note}", console, hang="  ")


@data_group.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--data", "data_path", type=click.Path(exists=True, file_okay=False), help="Extra data folder.")
def show_command(key: str, as_json: bool, data_path: str | None) -> None:
    """Print KEY's value(s) from every source, with full provenance."""
    ds = _dataset(data_path)
    if key in ds.compositions():
        comps = ds.all_compositions(key)
        if as_json:
            click.echo(json.dumps({"key": key, "compositions": [c.to_dict() for c in comps]}, indent=2))
        else:
            _show_composition(stdout_console(), comps)
        return
    entries = ds.all(key)  # UnknownKeyError (a Mine2MagnetError) -> one-line message with close matches
    if as_json:
        payload = {"key": key, "values": [e.to_dict() for e in entries]}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    _show_value(stdout_console(), entries)


@data_group.command("list")
@click.argument("prefix", default="")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as a JSON list.")
@click.option("--data", "data_path", type=click.Path(exists=True, file_okay=False), help="Extra data folder.")
def list_command(prefix: str, as_json: bool, data_path: str | None) -> None:
    """List the keys starting with PREFIX (all keys without one)."""
    ds = _dataset(data_path)
    if as_json:
        click.echo(json.dumps(list(ds.keys(prefix)), indent=2))
        return
    for key in ds.keys(prefix):
        click.echo(key)


@data_group.command("check")
@click.argument("folder", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--alone", is_flag=True, help="Check FOLDER on its own, without the package data.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts and findings as JSON.")
def check_command(folder: str | None, alone: bool, as_json: bool) -> None:
    """Validate the package data (and FOLDER, a user data folder) and summarise it.

    Any invalid entry stops with a one-line message naming the file and field (exit 1).
    """
    from mine2magnet.data import load_dataset

    ds = load_dataset() if folder is None else load_dataset(folder, with_package_data=not alone)
    uncited = sorted(set(ds.sources) - ds.cited_sources())
    if as_json:
        payload = {
            "ok": True,
            "values": len(ds.entries()),
            "keys": len(ds.keys()) - len(ds.compositions()),
            "compositions": len(ds.composition_entries()),
            "sources": len(ds.sources),
            "conflicts": len(ds.conflicts()),
            "uncited_sources": uncited,
            "duplicate_urls": {url: list(ids) for url, ids in ds.duplicate_urls().items()},
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"ok: {len(ds.entries())} values ({len(ds.keys()) - len(ds.compositions())} keys), "
        f"{len(ds.composition_entries())} compositions, {len(ds.sources)} sources, "
        f"{len(ds.conflicts())} conflicts"
    )
    if uncited:
        click.echo(f"uncited sources ({len(uncited)}): {', '.join(uncited)}")
    for url, ids in ds.duplicate_urls().items():
        click.echo(f"same URL, several ids: {', '.join(ids)} ({url})")


@data_group.command("schema")
@click.argument("kind", type=click.Choice(["values", "sources"]))
def schema_command(kind: str) -> None:
    """Print the JSON Schema of a values/*.yaml or sources/*.yaml file (for editor linting).

    The output is JSON in any case: a schema is read by editors, not by people.
    """
    from mine2magnet.data.schema import json_schemas

    click.echo(json.dumps(json_schemas()[kind], indent=2))


commands = [sources_command, data_group]
