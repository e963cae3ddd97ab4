"""The report's provenance sections: every assumption with its source, and data conflicts side by side."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import urlparse

import pandas as pd

from mine2magnet.report.run_view import RunView


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


def _number_text(value: Any) -> str:
    """A value as text; numbers (also numbers stored as text, e.g. ``"3000.0"``) without spurious digits."""
    if isinstance(value, str):
        try:
            return _text(float(value))
        except ValueError:
            return value
    return _text(value)


def link(title: str, url: str | None) -> str:
    """An HTML link to ``url`` titled ``title`` (plain text when the URL is missing or not http/https)."""
    title_html = escape(title or url or "")
    if url and urlparse(str(url)).scheme in {"http", "https"}:
        return f'<a href="{escape(str(url), quote=True)}" rel="noopener noreferrer">{title_html}</a>'
    return title_html


def _range(low: Any, high: Any) -> str:
    low, high = _number_text(low), _number_text(high)
    return f"{low} – {high}" if low or high else ""


def assumptions_table(frame: pd.DataFrame) -> str:
    """An HTML table of a run's assumptions: key, value, unit, kind, range, source (linked), note."""
    if frame.empty:
        return "<p>The run lists no assumptions.</p>"
    rows = []
    for rec in frame.sort_values("key", kind="stable").to_dict("records"):
        title = _text(rec.get("source_title")) or _text(rec.get("source_id"))
        source = link(title, _text(rec.get("source_url")) or None)
        if _text(rec.get("source_date")):
            source += f" <span class='muted'>({escape(_text(rec.get('source_date')))})</span>"
        kind = _text(rec.get("kind"))
        rows.append(
            f"<tr class='kind-{escape(kind, quote=True)}'>"
            f"<td><code>{escape(_text(rec.get('key')))}</code></td>"
            f"<td class='num'>{escape(_number_text(rec.get('value')))}</td>"
            f"<td>{escape(_text(rec.get('unit')))}</td>"
            f"<td>{escape(kind)}</td>"
            f"<td class='num'>{escape(_range(rec.get('range_low'), rec.get('range_high')))}"
            f"</td><td>{source or '<em>no source</em>'}</td><td>{escape(_text(rec.get('note')))}</td></tr>"
        )
    counts = frame["kind"].fillna("unstated").astype(str).value_counts()
    summary = ", ".join(f"{n} {escape(k)}" for k, n in counts.items())
    return (
        f"<p>{len(frame)} numbers: {summary}.</p>"
        "<table class='data'><thead><tr><th>key</th><th>value</th><th>unit</th><th>kind</th><th>range</th>"
        "<th>source</th><th>note</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _row_keys(frame: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Each assumption's key with the text of its row (to tell which rows differ between runs)."""
    columns = [c for c in frame.columns if c != "key"]
    return {
        _text(rec.get("key")): tuple(_text(rec.get(c)) for c in columns) for rec in frame.to_dict("records")
    }


def assumptions_section(views: Sequence[RunView]) -> str:
    """The first run's assumptions in full; for each other run only the numbers it changes, adds or drops
    (the page lists every number once, not once per scenario)."""
    frames = [v.table("assumptions") for v in views]
    parts = [assumptions_table(frames[0])]
    if len(views) == 1:
        return parts[0]
    reference = _row_keys(frames[0])
    for view, frame in zip(views[1:], frames[1:], strict=True):
        rows = _row_keys(frame)
        changed = [k for k, row in rows.items() if reference.get(k) != row]
        dropped = sorted(set(reference) - set(rows))
        if not changed and not dropped:
            parts.append(
                f"<p><strong>{escape(view.label)}</strong>: the same numbers as {escape(views[0].label)}.</p>"
            )
            continue
        text = f"<h3>{escape(view.label)}: {len(changed)} numbers differ from {escape(views[0].label)}</h3>"
        if changed:
            text += assumptions_table(frame[frame["key"].map(_text).isin(changed)])
        if dropped:
            text += f"<p class='muted'>Not used: {escape(', '.join(dropped))}.</p>"
        parts.append(text)
    return "".join(parts)


def _as_dict(conflict: Any) -> Mapping[str, Any]:
    if isinstance(conflict, Mapping):
        return conflict
    if hasattr(conflict, "to_dict"):
        return conflict.to_dict()
    return {
        "key": getattr(conflict, "key", ""),
        "reason": getattr(conflict, "reason", ""),
        "values": [
            {
                "value": getattr(v, "value", None),
                "unit": getattr(v, "unit", None),
                "kind": getattr(v, "kind", None),
                "range": getattr(v, "range", None),
                "note": getattr(v, "note", None),
                "source": vars(getattr(v, "source", None) or {}) if hasattr(v, "source") else {},
            }
            for v in getattr(conflict, "values", ())
        ],
    }


def conflicts_section(conflicts: Sequence[Any]) -> str:
    """Each conflict with its reason and every source's value side by side."""
    if not conflicts:
        return "<p>No conflicting sources among the reference data.</p>"
    parts = [
        f"<p>{len(conflicts)} quantities where published sources disagree beyond their stated uncertainty. "
        "The model uses the first-listed (preferred) value; the others are shown so you can judge.</p>"
    ]
    for raw in conflicts:
        conflict = _as_dict(raw)
        rows = []
        for value in conflict.get("values", []):
            source = value.get("source") or {}
            rng = value.get("range")
            rows.append(
                f"<tr><td class='num'>{escape(_text(value.get('value')))}</td>"
                f"<td>{escape(_text(value.get('unit')))}</td><td>{escape(_text(value.get('kind')))}</td>"
                f"<td class='num'>{escape(_range(*rng) if rng else '')}</td>"
                f"<td>{link(_text(source.get('title')) or _text(source.get('id')), source.get('url'))}</td>"
                f"<td>{escape(_text(source.get('publisher')))}</td>"
                f"<td>{escape(_text(source.get('date')))}</td>"
                f"<td>{escape(_text(value.get('note')))}</td></tr>"
            )
        parts.append(
            f"<div class='conflict'><h3><code>{escape(_text(conflict.get('key')))}</code></h3>"
            f"<p>{escape(_text(conflict.get('reason')))}</p>"
            "<table class='data'><thead><tr><th>value</th><th>unit</th><th>kind</th><th>range</th>"
            "<th>source</th>"
            "<th>publisher</th><th>date</th><th>note</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
            "</div>"
        )
    return "".join(parts)
