"""One reader for every input file: cascade specs, flowsheets, feeds, scenarios, overrides and data files.

:func:`read_input` checks a file before anything parses it, then parses it, and refuses with one
:class:`~mine2magnet.errors.InputError` naming the file (and the field where there is one):

1. **size**: at most :data:`DEFAULT_MAX_BYTES` (10 MB); the ``MINE2MAGNET_MAX_INPUT_BYTES`` environment
   variable or the ``max_bytes`` keyword sets another limit;
2. **encoding**: UTF-8 text (a UTF-8 byte-order mark is dropped); UTF-16/UTF-32 (with or without a BOM),
   NUL bytes (binary files) and byte sequences that are not UTF-8 are refused;
3. **nesting**: at most :data:`DEFAULT_MAX_DEPTH` levels of mappings and lists
   (``MINE2MAGNET_MAX_INPUT_DEPTH``);
4. **size after expansion**: YAML anchors and aliases may repeat a subtree; the document, with every alias
   expanded, holds at most :data:`DEFAULT_MAX_NODES` values (``MINE2MAGNET_MAX_INPUT_NODES``), so a
   "billion laughs" tree is refused after counting that many nodes instead of filling the memory;
5. **parse**: YAML (safe loader, libyaml when available) or JSON (``.json`` files): a key given twice in one
   mapping is refused with both line numbers; with ``finite=True`` (the default) NaN and infinities, as
   numbers (``.nan``, ``.inf``, JSON ``NaN``/``Infinity``) or as the number of a quantity (``"nan t/yr"``),
   are refused naming the field.

The limits are far above any shipped input (the largest, ``data/observations/lynas.yaml``, is 108 kB; the
deepest nesting is 9 levels); ``docs/inputs.md`` lists them and what happens past them.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mine2magnet.errors import InputError, parse_error_text

#: Largest input file read, bytes (settable with ``MINE2MAGNET_MAX_INPUT_BYTES`` or ``max_bytes=``).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: Deepest nesting of mappings and lists (settable with ``MINE2MAGNET_MAX_INPUT_DEPTH`` or ``max_depth=``).
DEFAULT_MAX_DEPTH = 64
#: Most values in a document with every YAML alias expanded (``MINE2MAGNET_MAX_INPUT_NODES``/``max_nodes=``).
DEFAULT_MAX_NODES = 200_000

ENV_MAX_BYTES = "MINE2MAGNET_MAX_INPUT_BYTES"
ENV_MAX_DEPTH = "MINE2MAGNET_MAX_INPUT_DEPTH"
ENV_MAX_NODES = "MINE2MAGNET_MAX_INPUT_NODES"

_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = {
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\xfe\xff": "UTF-16",
    b"\xff\xfe": "UTF-16",
}

#: libyaml's C parser when available (about 10x faster), else the pure-Python one; both are safe loaders.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _limit(explicit: int | None, env: str, default: int) -> int:
    if explicit is not None:
        return explicit
    raw = os.environ.get(env)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(
            f"expected a whole number, got {raw!r}", file=f"environment variable {env}"
        ) from None
    if value < 1:
        raise InputError(f"expected a whole number >= 1, got {raw!r}", file=f"environment variable {env}")
    return value


def max_input_bytes(max_bytes: int | None = None) -> int:
    """The size limit of input files, bytes: `max_bytes`, else ``$MINE2MAGNET_MAX_INPUT_BYTES``, or 10 MB."""
    return _limit(max_bytes, ENV_MAX_BYTES, DEFAULT_MAX_BYTES)


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.3g} MB" if n >= 1_000_000 else f"{n} bytes"


def read_text(path: str | Path, *, label: str | None = None, max_bytes: int | None = None) -> str:
    """The text of an input file after the size and encoding checks (a UTF-8 BOM dropped).

    Raises:
        InputError: the file is missing or unreadable, larger than the limit, or not UTF-8 text.
    """
    path = Path(path)
    where = label or str(path)
    limit = max_input_bytes(max_bytes)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=where) from None
    if path.is_dir():
        raise InputError("is a folder, expected a file", file=where)
    if size > limit:
        raise InputError(
            f"file of {_megabytes(size)} is larger than the input limit of {_megabytes(limit)} "
            f"(set {ENV_MAX_BYTES} to raise it)",
            file=where,
        )
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)  # a file growing while read still stops at the limit
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=where) from None
    if len(data) > limit:
        raise InputError(f"file is larger than the input limit of {_megabytes(limit)}", file=where)
    return decode(data, where)


def decode(data: bytes, label: str) -> str:
    """`data` as text: UTF-8 with an optional BOM; anything else is one InputError naming `label`."""
    for bom, name in _OTHER_BOMS.items():
        if data.startswith(bom):
            raise InputError(f"the file is {name} text; save it as UTF-8", file=label)
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"binary data (a NUL byte at byte {nul}), expected UTF-8 text (UTF-16 without a BOM also looks "
            "like this; save the file as UTF-8)",
            file=label,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, byte {exc.start}); "
            "save it as UTF-8",
            file=label,
        ) from None


# ---------------------------------------------------------------------------------------------- YAML


class _InputLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """Safe loader that refuses a key given twice in one mapping (plain YAML keeps the last silently)."""


def _construct_unique_mapping(loader: _InputLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor`: explicit keys override merged ones
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key (a list or mapping as key): let the constructor refuse it
            continue
        line = key_node.start_mark.line + 1
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} at lines {first} and {line}", key_node.start_mark
            )
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_InputLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)

#: The loader every input file goes through (exported for modules that parse YAML text they already hold).
InputLoader = _InputLoader


def _check_tree(root: yaml.Node, label: str, max_depth: int, max_nodes: int) -> None:
    """Depth and node count of a composed YAML document, aliases expanded (iterative: no recursion)."""
    count = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > max_nodes:
            raise InputError(
                f"more than {max_nodes:,} values once YAML aliases are expanded (an anchor/alias bomb or a "
                f"very large file; set {ENV_MAX_NODES} to raise the limit)",
                file=label,
            )
        if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            if depth > max_depth:
                raise _too_deep(max_depth, node.start_mark.line, label)
            if isinstance(node, yaml.SequenceNode):
                stack.extend((child, depth + 1) for child in node.value)
            else:
                for key, value in node.value:
                    stack.append((key, depth + 1))
                    stack.append((value, depth + 1))


def _too_deep(max_depth: int, line: int, label: str) -> InputError:
    """The refusal of a file nested deeper than `max_depth` at (0-based) `line`."""
    return InputError(
        f"nested deeper than {max_depth} levels at line {line + 1} (set {ENV_MAX_DEPTH} to raise the limit)",
        file=label,
    )


def _scan_events(text: str, label: str, max_depth: int, max_nodes: int) -> None:
    """Count values and nesting on libyaml's event stream before any tree is built, so that a 9 MB list is
    refused after `max_nodes` events (a fraction of a second) instead of after composing 2 million nodes."""
    scanner = _InputLoader(text)
    count = depth = 0
    try:
        while True:
            event = scanner.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    raise _too_deep(max_depth, event.start_mark.line, label)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.NodeEvent):
                count += 1
                if count > max_nodes:
                    message = f"more than {max_nodes:,} values (set {ENV_MAX_NODES} to raise the limit)"
                    raise InputError(message, file=label)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {parse_error_text(exc)}", file=label) from None
    finally:
        scanner.dispose()


def parse_yaml(text: str, label: str, *, max_depth: int | None = None, max_nodes: int | None = None) -> Any:
    """Parsed YAML text after the input checks (nesting, alias expansion, duplicate keys); else InputError."""
    depth_limit = _limit(max_depth, ENV_MAX_DEPTH, DEFAULT_MAX_DEPTH)
    node_limit = _limit(max_nodes, ENV_MAX_NODES, DEFAULT_MAX_NODES)
    _scan_events(text, label, depth_limit, node_limit)
    try:
        loader = _InputLoader(text)
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml reads lazily
        raise InputError(f"not valid YAML: {parse_error_text(exc)}", file=label) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML: {parse_error_text(exc)}", file=label) from None
        except RecursionError:
            raise InputError(
                f"nested deeper than the parser can follow (limit {depth_limit})", file=label
            ) from None
        if node is None:
            return None
        _check_tree(node, label, depth_limit, node_limit)
        try:
            return loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML: {parse_error_text(exc)}", file=label) from None
        except RecursionError:
            raise InputError(
                f"nested deeper than the parser can follow (limit {depth_limit})", file=label
            ) from None
    finally:
        loader.dispose()


# ---------------------------------------------------------------------------------------------- JSON

_OPEN, _CLOSE = ord("["), ord("]")
_OPEN_BRACE, _CLOSE_BRACE = ord("{"), ord("}")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _json_shape(text: str) -> tuple[int, int]:
    """Deepest bracket nesting and number of separators (commas) of JSON text (strings removed), computed
    without recursion and without building the document."""
    stripped = _JSON_STRING.sub('""', text).encode("utf-8", "replace")
    codes = np.frombuffer(stripped, dtype=np.uint8)
    steps = (codes == _OPEN).astype(np.int32) + (codes == _OPEN_BRACE)
    steps -= (codes == _CLOSE).astype(np.int32) + (codes == _CLOSE_BRACE)
    depth = int(np.cumsum(steps).max()) if steps.size else 0
    return depth, int(np.count_nonzero(codes == ord(",")))


def _json_key_lines(text: str, key: str) -> list[int]:
    pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]


def parse_json(text: str, label: str, *, max_depth: int | None = None, max_nodes: int | None = None) -> Any:
    """Parse JSON text with the input checks (nesting, size, duplicate keys); InputError on failure."""
    depth_limit = _limit(max_depth, ENV_MAX_DEPTH, DEFAULT_MAX_DEPTH)
    node_limit = _limit(max_nodes, ENV_MAX_NODES, DEFAULT_MAX_NODES)
    depth, separators = _json_shape(text)
    if separators > node_limit:  # every value but one per container is followed by a comma
        message = f"more than {node_limit:,} values (set {ENV_MAX_NODES} to raise the limit)"
        raise InputError(message, file=label)
    if depth > depth_limit:
        raise InputError(
            f"nested deeper than {depth_limit} levels (set {ENV_MAX_DEPTH} to raise it)", file=label
        )
    count = 0

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal count
        count += len(items)
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                lines = _json_key_lines(text, key)
                where = f" at lines {lines[0]} and {lines[1]}" if len(lines) >= 2 else ""
                raise InputError(f"duplicate key {key!r}{where}", file=label)
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {parse_error_text(exc)}", file=label) from None
    except RecursionError:
        raise InputError(
            f"nested deeper than the parser can follow (limit {depth_limit})", file=label
        ) from None
    total = count + sum(1 for _ in _walk(data, ""))
    if total > node_limit:
        raise InputError(
            f"more than {node_limit:,} values (set {ENV_MAX_NODES} to raise the limit)", file=label
        )
    return data


# ---------------------------------------------------------------------------------------------- checks


def _walk(data: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(field path, value) of every scalar of a parsed document, iteratively."""
    stack: list[tuple[str, Any]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{where}.{k}" if where else str(k), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list | tuple):
            stack.extend((f"{where}[{i}]", v) for i, v in reversed(list(enumerate(value))))
        else:
            yield where, value


_NONFINITE_HEAD = re.compile(r"^\s*[+-]?(nan|inf|infinity)(\s|$)", re.IGNORECASE)


def check_finite(data: Any, label: str) -> None:
    """Refuse NaN and infinities anywhere in a parsed document, as numbers or as a quantity's number."""
    for where, value in _walk(data, ""):
        bad = (isinstance(value, float) and not math.isfinite(value)) or (
            isinstance(value, str) and _NONFINITE_HEAD.match(value) is not None
        )
        if bad:
            raise InputError(f"expected a finite number, got {value!r}", file=label, field=where or None)


def read_input(
    path: str | Path,
    *,
    label: str | None = None,
    max_bytes: int | None = None,
    max_depth: int | None = None,
    max_nodes: int | None = None,
    finite: bool = True,
    json_suffixes: tuple[str, ...] = (".json",),
) -> Any:
    """The parsed content of an input file (YAML, or JSON for a ``.json`` file) after every input check.

    Args:
        path: the file.
        label: how messages name the file (default: the path as given).
        max_bytes, max_depth, max_nodes: limits (default: environment variables, else the module defaults).
        finite: refuse NaN and infinities anywhere in the file.
        json_suffixes: suffixes parsed as JSON (anything else is YAML, a superset of JSON).

    Raises:
        InputError: one line naming the file (and the field) and what was expected.
    """
    path = Path(path)
    where = label or str(path)
    text = read_text(path, label=where, max_bytes=max_bytes)
    if path.suffix.lower() in json_suffixes:
        data = parse_json(text, where, max_depth=max_depth, max_nodes=max_nodes)
    else:
        data = parse_yaml(text, where, max_depth=max_depth, max_nodes=max_nodes)
    if finite:
        check_finite(data, where)
    return data


def read_mapping(
    path: str | Path,
    *,
    label: str | None = None,
    what: str = "a mapping",
    context: str | None = None,
    **limits: Any,
) -> dict[Any, Any]:
    """:func:`read_input` of a file whose top level must be a mapping (an empty file is refused).

    `what` names the expected mapping in the refusal ("a flowsheet mapping (name, units, ...)"); `context`
    starts every read or parse refusal ("cannot read flowsheet").
    """
    where = label or str(path)
    try:
        data = read_input(path, label=where, **limits)
    except InputError as exc:
        if context is None:
            raise
        head = ": ".join(p for p in (exc.file, exc.field) if p)
        message = str(exc)[len(head) + 2 :] if head else str(exc)
        raise InputError(f"{context}: {message}", file=exc.file, field=exc.field) from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise InputError(f"expected {what} at the top level, got {got}", file=where)
    return data


# ---------------------------------------------------------------------------------------------- solving

#: messages of library errors that mean "the numbers of the input broke the computation"
_NUMERIC_MESSAGES = ("math domain error", "must have different signs", "math range error", "overflow")


@contextmanager
def input_computation(label: str, *, field: str | None = None) -> Iterator[list[str]]:
    """Run a computation on an input so that its numeric failures name the input instead of a traceback.

    Inside the block: ``ArithmeticError`` (ZeroDivisionError, OverflowError, FloatingPointError),
    ``RecursionError``, a ``KeyError`` (an unknown name reaching a table) and the ValueErrors of ``math``
    and SciPy's root finders ("math domain error", "f(a) and f(b) must have different signs") become one
    :class:`~mine2magnet.errors.InputError` naming `label` (and `field`). NumPy floating-point warnings
    (overflow, invalid value, division by zero) are not printed: they are collected, one line each, in the
    list the block receives, for the caller to report (e.g. in a result's notes).

    Usage: ``with input_computation("spec.yaml") as warned: result = simulate(spec)``.
    """
    warned: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        try:
            yield warned
        except (ArithmeticError, RecursionError) as exc:
            raise InputError(_failure(exc), file=label, field=field) from exc
        except KeyError as exc:
            message = f"unknown name {exc.args[0]!r} reached the computation"
            raise InputError(message, file=label, field=field) from exc
        except ValueError as exc:
            if isinstance(exc, InputError) or not any(m in str(exc) for m in _NUMERIC_MESSAGES):
                raise
            raise InputError(_failure(exc), file=label, field=field) from exc
        finally:
            for w in caught:
                if issubclass(w.category, RuntimeWarning):
                    warned.append(f"{w.category.__name__}: {w.message}")
                else:  # other warnings keep their usual route
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _failure(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"the computation failed on this input ({type(exc).__name__}: {text}); check its numbers"
