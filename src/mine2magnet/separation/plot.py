"""Stage profiles of a simulated cascade as a plotly figure (HTML; PNG only if kaleido is installed)."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mine2magnet.errors import InputError
from mine2magnet.separation.result import CascadeResult


def profile_figure(result: CascadeResult) -> go.Figure:
    """Aqueous and organic composition (mole fraction of the metal, log scale) per stage; pH if known."""
    rows = 3 if result.pH is not None else 2
    titles = ["aqueous phase: fraction of metal", "organic phase: fraction of metal", "aqueous pH"][:rows]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.06)
    stages = list(range(1, len(result.sections) + 1))
    for row, flows in ((1, result.aqueous), (2, result.organic)):
        total = flows.sum(axis=1)
        for i, comp in enumerate(result.components):
            frac = [f / t if t > 0 else None for f, t in zip(flows[:, i], total, strict=True)]
            fig.add_trace(
                go.Scatter(
                    x=stages, y=frac, mode="lines+markers", name=comp, legendgroup=comp, showlegend=row == 1
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(type="log", row=row, col=1)
    if result.pH is not None:
        fig.add_trace(go.Scatter(x=stages, y=list(result.pH), mode="lines", name="pH"), row=3, col=1)
    for k in range(1, len(result.sections)):
        if result.sections[k] != result.sections[k - 1]:
            fig.add_vline(x=k + 0.5, line_dash="dot", line_color="grey")
    fig.update_xaxes(title_text="stage (1 = raffinate end)", row=rows, col=1)
    fig.update_layout(
        title=f"Cascade stage profiles ({result.model}, {len(stages)} stages)", height=300 * rows + 100
    )
    return fig


def write_profile_plot(result: CascadeResult, path: str | Path) -> Path:
    """Write the stage-profile figure to ``path`` (.html, or .png if kaleido is installed)."""
    path = Path(path)
    fig = profile_figure(result)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        fig.write_html(path, include_plotlyjs=True, full_html=True)
    elif suffix == ".png":
        try:
            fig.write_image(path)
        except (ValueError, ImportError) as exc:
            raise InputError(
                f"PNG export needs the optional package kaleido ({exc}); use .html", field="--plot"
            ) from None
    else:
        raise InputError(f"unknown plot format {suffix!r}; use .html or .png", field="--plot")
    return path
