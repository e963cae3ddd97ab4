"""A persistent cache of cut designs, so that a scenario re-run or an uncertainty draw never designs the same
cut twice.

:func:`cached_design` returns ``design(spec, ...).to_dict()``, from the cache when the same request was
designed before by the same code. The key is a SHA-256 of the canonical request (the design spec as given —
the caller normalises it, e.g. the refinery scales each cut's feed to 100 mol/h — and the design options)
and of the code version: the package version, the numpy and scipy versions, a hash of the sources of
:mod:`mine2magnet.separation` (any change to the solvers or the design invalidates every entry; moving a
module to another sub-package does not, see :func:`source_digest`) and of the extractant data file.

Storage: one JSON file per design, ``<folder>/designs/<key>.json``, where the folder is
``$MINE2MAGNET_CACHE`` if set, else the user cache folder (``platformdirs.user_cache_dir("mine2magnet")``,
e.g. ``~/.cache/mine2magnet`` on Linux). ``MINE2MAGNET_CACHE=off`` (or ``0``, ``false``, ``no``,
``none``) disables it. Files are written atomically (a temporary file in the same folder, then a rename),
so a reader never sees half a file and concurrent writers of the same design are harmless. A file is used
only if it parses, names this cache format, was written by this code version for exactly this request and
holds a converged design; anything else (corrupt, foreign, stale) is ignored and rewritten. Nothing is ever
downloaded. Failed designs are not cached. A cache that cannot be written (read-only folder) is skipped
silently: the design is returned all the same.

This module imports nothing heavy; the designer is imported on the first miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

#: Environment variable naming the cache folder, or ``off`` to disable the cache.
CACHE_ENV = "MINE2MAGNET_CACHE"
#: Values of CACHE_ENV that disable the cache (case-insensitive).
OFF_VALUES = frozenset({"off", "0", "false", "no", "none", "disabled"})
#: Written in every cache file; a file without it is not ours.
FORMAT = "mine2magnet.design-cache"
FORMAT_VERSION = 1


def cache_folder() -> Path | None:
    """The folder that holds the design files (``<root>/designs``), or None when the cache is disabled."""
    raw = os.environ.get(CACHE_ENV)
    if raw is not None and raw.strip().lower() in OFF_VALUES:
        return None
    if raw is not None and raw.strip():
        root = Path(raw).expanduser()
    else:
        from platformdirs import user_cache_dir

        root = Path(user_cache_dir("mine2magnet", appauthor=False))
    return root / "designs"


#: The package whose sources make the code version, and a dotted path inside it (module or symbol).
PACKAGE = "mine2magnet.separation"
_DOTTED = re.compile(r"mine2magnet\.separation((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
#: Data the designs read by name (mass-action specs naming a shipped extractant), hashed with the code.
DATA_FILES = ("values/separation_extractants.yaml",)


def source_digest(folder: Path) -> str:
    """SHA-256 of the package in ``folder`` that a pure move of modules leaves unchanged.

    Each module's identity is the hash of its source in which every dotted path to another module of the
    package (``mine2magnet.separation.a.b``, in imports, ``import_module`` strings or text) is replaced by the
    identity of that module, recursively; the package digest hashes the sorted identities, not the file
    paths. Moving a module (and rewriting the paths that name it) changes no identity, while any change of
    content, or an import that now reaches a module with other content, changes the digest. Paths that name
    each other round a circle (docstrings can) are hashed as written; a module with a relative import is
    hashed with its path (what it reaches depends on where it is).
    """
    sources = {}
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        dotted = ".".join((PACKAGE, *(parts[:-1] if parts[-1] == "__init__" else parts)))
        sources[dotted] = (path.relative_to(folder).as_posix(), path.read_text(encoding="utf-8"))
    identity: dict[str, str] = {}
    visiting: set[str] = set()

    def module_of(match: str) -> str | None:
        names = match.split(".")
        while len(names) > 2:
            if ".".join(names) in sources:
                return ".".join(names)
            names.pop()
        return None

    def ident(module: str) -> str:
        if module in identity:
            return identity[module]
        if module in visiting:  # a circle of mentions: this edge is hashed as the path written
            return module
        visiting.add(module)
        rel, text = sources[module]

        def swap(m: re.Match[str]) -> str:
            target = module_of(m.group(0))
            if target is None or target == module:
                return m.group(0)
            return f"<{ident(target)}>{m.group(0)[len(target) :]}"

        normalised = _DOTTED.sub(swap, text)
        if re.search(r"^\s*from\s+\.", text, flags=re.MULTILINE):
            normalised = f"{rel}\0{normalised}"
        visiting.discard(module)
        identity[module] = hashlib.sha256(normalised.encode()).hexdigest()
        return identity[module]

    digest = hashlib.sha256()
    for value in sorted(ident(m) for m in sources):
        digest.update(value.encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """The version the cached designs belong to: package, numpy and scipy versions, the move-invariant
    digest of the sources of :mod:`mine2magnet.separation` (read as files, not imported; see
    :func:`source_digest`) and a SHA-256 of the extractant data the designs may read by name."""
    from importlib import metadata

    import mine2magnet

    parts = [f"mine2magnet {mine2magnet.__version__}"]
    for dist in ("numpy", "scipy"):
        try:
            parts.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist} ?")
    folder = Path(__file__).resolve().parents[1]  # the whole separation package, not this sub-package
    try:
        parts.append(f"separation {source_digest(folder)}")
    except (OSError, UnicodeDecodeError):  # sources not readable as files (e.g. a zip import)
        parts.append("separation ?")
    data = hashlib.sha256()
    try:
        for name in DATA_FILES:
            data.update((folder.parent / "data" / name).read_bytes())
        parts.append(f"data {data.hexdigest()}")
    except OSError:
        parts.append("data ?")
    return "; ".join(parts)


def canonical_request(spec: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The request as plain JSON data (tuples as lists, keys sorted on output): what the key is made of."""
    return json.loads(json.dumps({"spec": spec, "options": options}, sort_keys=True, allow_nan=False))


def request_key(request: Mapping[str, Any], version: str) -> str:
    """SHA-256 (hex) of the canonical request and the code version."""
    text = json.dumps({"request": request, "code": version}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _valid(entry: Any, key: str, request: Mapping[str, Any], version: str) -> bool:
    """Whether a parsed cache file is a design this code made for this request."""
    if not isinstance(entry, dict):
        return False
    if entry.get("format") != FORMAT or entry.get("format_version") != FORMAT_VERSION:
        return False
    if entry.get("key") != key or entry.get("code_version") != version or entry.get("request") != request:
        return False
    result = entry.get("result")
    if not isinstance(result, dict):
        return False
    verified = result.get("verified")
    stages = result.get("stages")
    return (
        isinstance(verified, dict)
        and verified.get("converged") is True
        and isinstance(stages, dict)
        and all(isinstance(stages.get(s), int) for s in ("extraction", "scrub"))
    )


def load(folder: Path, key: str, request: Mapping[str, Any], version: str) -> dict[str, Any] | None:
    """The cached design dict for this key, or None (missing, unreadable, corrupt, foreign or stale)."""
    try:
        text = (folder / f"{key}.json").read_text(encoding="utf-8")
        entry = json.loads(text)
    except (OSError, ValueError):
        return None
    if not _valid(entry, key, request, version):
        return None
    return entry["result"]


def store(
    folder: Path, key: str, request: Mapping[str, Any], version: str, result: Mapping[str, Any]
) -> bool:
    """Write a design atomically (temporary file in the folder, then rename); False if it could not be."""
    entry = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "key": key,
        "code_version": version,
        "request": request,
        "result": result,
    }
    try:
        text = json.dumps(entry)
    except (TypeError, ValueError):
        return False
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, folder / f"{key}.json")
        tmp = None
        return True
    except OSError:
        return False
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def cached_design(spec: Mapping[str, Any], **options: Any) -> dict[str, Any]:
    """``design(spec, **options).to_dict()`` from the persistent cache, designing (and caching) on a miss.

    ``spec`` is a design spec as a mapping (JSON data: the key is computed from it as given, so normalise it
    first: same cut, same normalised feed, same targets and model give the same key); ``options`` are
    passed to :func:`mine2magnet.separation.design` (``max_stages``, ``flow_ladder``). Errors of the
    design (InputError, InfeasibleError, ConvergenceError) propagate and nothing is cached.
    """
    folder = cache_folder()
    request = key = version = None
    if folder is not None:
        try:
            request = canonical_request(spec, options)
        except (TypeError, ValueError):  # not plain JSON data (e.g. NaN): designed without the cache
            folder = None
    if folder is not None and request is not None:
        version = code_version()
        key = request_key(request, version)
        hit = load(folder, key, request, version)
        if hit is not None:
            return hit
    from mine2magnet.separation.cascade_design.design import design

    result = design(dict(spec), **options).to_dict()
    if folder is not None and key is not None and request is not None and version is not None:
        store(folder, key, request, version, result)
    return result
