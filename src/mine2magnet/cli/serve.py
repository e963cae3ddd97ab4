"""`mine2magnet serve`: the web app on localhost (``mine2magnet.app``)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("serve", short_help="The web app: explore, edit, run and compare scenarios.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("out") / "app" / "results.duckdb",
    show_default=True,
    help="Results store the app reads and its runs write (variants are kept beside it).",
)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16), help="Runs at once.")
def serve_command(host: str, port: int, store: Path, workers: int) -> None:
    """Serve the web app at http://HOST:PORT (Ctrl-C stops it).

    The app opens on the briefing of the latest run in STORE; variants are saved as scenario files beside
    the store, which `mine2magnet run FILE` runs identically.
    """
    from mine2magnet.app import serve

    click.echo(f"mine2magnet app: http://{host}:{port}/  (store {store}; Ctrl-C stops)", err=True)
    serve(host=host, port=port, store=store, workers=workers)


commands = [serve_command]
