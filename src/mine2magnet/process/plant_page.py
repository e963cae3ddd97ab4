"""A self-contained HTML page for one refinery run: element-flow Sankey, SX stage profiles (plotly inline).

The Sankey shows rare-earth oxide flows (t/yr REO) from the feed through each unit to products, residues and
treated water; hovering a link lists its main elements. One chart per SX cut shows the aqueous rare-earth flow
of each element stage by stage (log scale) from the verified simulation of the designed cascade.
"""

from __future__ import annotations

import html
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mine2magnet.elements import ELEMENTS
from mine2magnet.elements.palette import element_colour
from mine2magnet.process.refinery import RefineryResult
from mine2magnet.process.stream import Stream


def _reo(stream: Stream) -> float:
    return stream.reo_t_per_yr()


def _hover(stream: Stream) -> str:
    ox = {s: v for s, v in stream.oxide_t_per_yr().items() if ELEMENTS[s].rare_earth and v > 0}
    top = sorted(ox.items(), key=lambda kv: -kv[1])[:6]
    return "<br>".join(f"{s}: {v:,.1f} t/yr oxide" for s, v in top) or "no rare earths"


def sankey(result: RefineryResult) -> go.Figure:
    """Sankey of REO flows (t/yr) feed -> units -> products / residues / water."""
    labels: list[str] = []
    index: dict[str, int] = {}

    def node(name: str) -> int:
        if name not in index:
            index[name] = len(labels)
            labels.append(name)
        return index[name]

    src, dst, val, hover = [], [], [], []

    def link(a: str, b: str, stream: Stream) -> None:
        v = _reo(stream)
        if v > 0.0:
            src.append(node(a))
            dst.append(node(b))
            val.append(v)
            hover.append(_hover(stream))

    prev = f"feed: {result.feed}"
    node(prev)
    assert result.feed_stream is not None
    chain_units = [
        u for u in result.units if not u.unit.startswith(("finishing:", "metal:", "neutralisation"))
    ]
    incoming = result.feed_stream
    for u in chain_units:
        link(prev, u.unit, incoming)
        for r in u.residues:
            link(u.unit, f"residue: {r.name}", r.elements)
        for name, s in u.side.items():
            if name.startswith("product:"):
                link(u.unit, f"product: {name.removeprefix('product:')}", s)
            else:
                link(u.unit, "effluent treatment", s)
        prev, incoming = u.unit, u.outlet
    for u in result.units:
        if u.unit.startswith("finishing:"):
            link(u.unit.replace("finishing:", "product: "), "effluent treatment", u.side["supernatant"])
        if u.unit == "neutralisation":
            for r in u.residues:
                link("effluent treatment", f"residue: {r.name}", r.elements)
            link("effluent treatment", "treated water", u.outlet)
    fig = go.Figure(
        go.Sankey(
            node={"label": labels, "pad": 14, "thickness": 14},
            link={
                "source": src,
                "target": dst,
                "value": val,
                "customdata": hover,
                "hovertemplate": "%{value:,.1f} t/yr REO<br>%{customdata}<extra></extra>",
            },
        )
    )
    fig.update_layout(
        title=f"Rare-earth oxide flows, t/yr REO ({result.flowsheet}, feed {result.feed})", height=520
    )
    return fig


def stage_profiles(result: RefineryResult) -> go.Figure | None:
    """One panel per designed cut: aqueous RE flow per stage (mol/h, log scale)."""
    cuts = [c for c in result.circuits if c.get("stage_profile")]
    if not cuts:
        return None
    fig = make_subplots(
        rows=len(cuts),
        cols=1,
        subplot_titles=[f"{c['cut']} ({c['split']}), {c['stages']} stages" for c in cuts],
    )
    shown: set[str] = set()  # one legend entry per element, whichever cut it first appears in
    for row, c in enumerate(cuts, start=1):
        prof = c["stage_profile"]
        comps = sorted({k for st in prof for k in st["aqueous_mol_per_h"]})
        for comp in comps:
            ys = [max(st["aqueous_mol_per_h"].get(comp, 0.0), 1e-12) for st in prof]
            fig.add_trace(
                go.Scatter(
                    x=[st["stage"] for st in prof],
                    y=ys,
                    name=comp,
                    legendgroup=comp,
                    showlegend=comp not in shown,
                    line={"color": element_colour(comp)},
                    marker={"color": element_colour(comp)},
                ),
                row=row,
                col=1,
            )
            shown.add(comp)
        fig.update_yaxes(type="log", title_text="aqueous, mol/h", row=row, col=1)
        fig.update_xaxes(title_text="stage", row=row, col=1)
    fig.update_layout(
        height=320 * len(cuts), title="SX stage profiles (verified simulations of the designed cuts)"
    )
    return fig


def _table(rows: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_page(result: RefineryResult, path: str | Path) -> Path:
    """Write the self-contained HTML page (plotly.js inlined, no network) and return its path."""
    path = Path(path)
    d = result.to_dict()
    products = _table(
        [
            [n, f"{p['t_per_yr']:,.1f}", f"{p['purity']:.5f}", p["min_purity"] or "-"]
            for n, p in d["products"].items()
        ],
        ["product", "t/yr", "purity", "spec"],
    )
    residues = _table(
        [
            [
                n,
                f"{r['t_per_t_reo']:.3f}",
                f"{r['t_per_yr']:,.0f}",
                f"{r['bq_per_g']:.2f}",
                "yes" if r["exempt"] else "no",
            ]
            for n, r in d["residues"].items()
        ],
        ["residue", "t per t REO", "t/yr (wet)", "Bq/g (max parent)", "exempt (≤ 1 Bq/g)"],
    )
    c = d["costs"]
    costs = _table(
        [
            ["capex", f"{c['capex_usd'] / 1e6:,.0f} M USD"],
            ["opex", f"{c['opex_usd_per_yr'] / 1e6:,.1f} M USD/yr"],
            ["revenue", f"{c['revenue_usd_per_yr'] / 1e6:,.1f} M USD/yr"],
            ["margin", f"{c['margin_usd_per_yr'] / 1e6:,.1f} M USD/yr"],
        ],
        ["", ""],
    )
    parts = [sankey(result).to_html(full_html=False, include_plotlyjs="inline")]
    prof = stage_profiles(result)
    if prof is not None:
        parts.append(prof.to_html(full_html=False, include_plotlyjs=False))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in d["notes"])
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(result.flowsheet)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}</style></head><body>
<h1>Refinery run: {html.escape(result.flowsheet)}</h1>
<p>Feed {html.escape(result.feed)} at {result.feed_reo_t_per_yr:,.0f} t/yr REO; saleable products
{result.product_reo_t_per_yr:,.0f} t/yr REO; plant element balance error {result.mass_balance_error:.1e}.</p>
<h2>Products</h2>{products}<h2>Residues</h2>{residues}<h2>Costs</h2>{costs}
<h2>Flows</h2>{parts[0]}{"".join(parts[1:])}<h2>Notes</h2><ul>{notes}</ul></body></html>"""
    path.write_text(page, encoding="utf-8")
    return path
