"""Stage profiles of a simulated cascade: interactive plotly figure (HTML) or static matplotlib one (PNG).

Both show, per stage (1 = raffinate end), the share of each component in the aqueous and in the organic
metal (log scale), the aqueous pH where the model has one, and dotted lines at the section boundaries. PNG is
drawn with matplotlib's Agg backend (a pure PyPI wheel, no browser needed); plotly's own static export
would need kaleido and a Chrome build, which cannot be installed from PyPI alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def _fractions(flows: np.ndarray) -> np.ndarray:
    """Share of each component in each stage's metal, (stages, C); NaN where a stage holds none."""
    total = flows.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(total > 0, flows / np.where(total > 0, total, 1.0), np.nan)
    return np.where(frac > 0, frac, np.nan)  # log axes: zero shares are not drawn


def write_profile_png(result: CascadeResult, path: str | Path, dpi: int = 120) -> Path:
    """Write the stage profiles as a PNG (matplotlib, Agg backend), same panels as :func:`profile_figure`."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a declared dependency
        raise InputError(
            f"PNG export needs matplotlib ({exc}); pip install 'matplotlib>=3.7' or use .html", field="--plot"
        ) from None
    path = Path(path)
    rows = 3 if result.pH is not None else 2
    stages = np.arange(1, len(result.sections) + 1)
    fig, axes = plt.subplots(rows, 1, sharex=True, figsize=(9, 2.6 * rows + 0.8), squeeze=False)
    titles = ["aqueous phase: fraction of metal", "organic phase: fraction of metal", "aqueous pH"]
    for row, flows in enumerate((result.aqueous, result.organic)):
        ax = axes[row, 0]
        frac = _fractions(np.asarray(flows, dtype=float))
        for i, comp in enumerate(result.components):
            ax.plot(stages, frac[:, i], marker=".", label=comp)
        ax.set_yscale("log")
        ax.set_title(titles[row], fontsize=10)
    if result.pH is not None:
        axes[2, 0].plot(stages, np.asarray(result.pH, dtype=float), color="black")
        axes[2, 0].set_title(titles[2], fontsize=10)
    for k in range(1, len(result.sections)):
        if result.sections[k] != result.sections[k - 1]:
            for ax in axes[:, 0]:
                ax.axvline(k + 0.5, linestyle=":", color="grey")
    axes[-1, 0].set_xlabel("stage (1 = raffinate end)")
    axes[0, 0].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.suptitle(f"Cascade stage profiles ({result.model}, {len(stages)} stages)")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return path


def write_profile_plot(result: CascadeResult, path: str | Path) -> Path:
    """Write the stage-profile figure to ``path``: ``.html`` (plotly, self-contained) or ``.png``.

    Raises:
        InputError: for another file suffix (field ``--plot``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        profile_figure(result).write_html(path, include_plotlyjs=True, full_html=True)
        return path
    if suffix == ".png":
        return write_profile_png(result, path)
    raise InputError(f"unknown plot format {suffix!r}; use .html or .png", field="--plot")
