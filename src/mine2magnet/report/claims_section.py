"""Published claims beside the model, as a report section: a sentence and a table."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from mine2magnet.economics.claims import ClaimCheck


def _number(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def claims_sentence(checks: Sequence[ClaimCheck]) -> str:
    """One sentence: how many claims the model can check and how many agree as meant."""
    checked = [c for c in checks if c.verdict != "not modelled"]
    agree = sum(1 for c in checked if c.holds)
    above = sum(1 for c in checked if c.verdict == "above" and not c.holds)
    below = sum(1 for c in checked if c.verdict == "below" and not c.holds)
    return (
        f"Of {len(checks)} published claims, the model can check {len(checked)}: {agree} agree with it as "
        f"meant, {above} state more than the modelled range and {below} less; "
        f"{len(checks) - len(checked)} are about quantities it does not produce."
    )


def claims_section(checks: Sequence[ClaimCheck]) -> str:
    """The claims as an HTML block (anchor ``claims``)."""
    order = {"above": 0, "below": 1, "within range": 2, "not modelled": 3}
    rows = []
    for c in sorted(checks, key=lambda c: (order[c.verdict], c.claim.key)):
        k = c.claim
        source = escape(k.source.title)
        if k.source.url:
            source = f"<a href='{escape(k.source.url, quote=True)}'>{source}</a>"
        model = "" if c.model is None else f"{_number(c.model)} ({_number(c.low)}–{_number(c.high)})"
        holds = "" if c.holds is None else ("yes" if c.holds else "no")
        rows.append(
            f"<tr><td>{escape(k.claim)}<br><span class='muted'>{escape(k.claimant or '')}</span></td>"
            f"<td>{k.period.end.year}</td><td class='num'>{escape(k.reading.replace('_', ' '))} "
            f"{_number(k.value)} {escape(k.unit)}</td><td class='num'>{escape(model)}</td>"
            f"<td>{escape(c.verdict)}</td><td>{holds}</td><td>{escape(c.reason)}</td><td>{source}</td></tr>"
        )
    return (
        "<section id='claims'><h2>Published claims beside the model</h2>"
        f"<p><strong>{escape(claims_sentence(checks))}</strong></p>"
        "<p class='how'>Each claim's number is set against the modelled figure of the same year, in the same "
        "currency (MYR at the year's rate), with a range of ±30 % until the uncertainty analysis gives one. "
        "<em>Holds</em> reads the claim as meant: about, up to, or at least.</p>"
        "<table class='data'><thead><tr><th>claim</th><th>year</th><th>claimed</th><th>model (range)</th>"
        "<th>verdict</th><th>holds</th><th>why</th><th>source</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )
