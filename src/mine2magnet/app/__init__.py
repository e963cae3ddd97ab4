"""The web app: explore, edit, run and compare scenarios in the browser (``mine2magnet serve``).

A FastAPI back end over the Python API (scenarios, variants saved as scenario files, runs in background
worker processes writing to the same DuckDB results store as the command line, comparisons, the cascade
designer) and a plain-JavaScript front end served from this package (no build step, nothing fetched from the
network). See ``docs/app.md``.
"""

from mine2magnet.app.server import DEFAULT_STORE, create_app, serve

__all__ = ["DEFAULT_STORE", "create_app", "serve"]
