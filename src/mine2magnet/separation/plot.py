"""Stage profiles of a simulated cascade, and outlets over time of a dynamic run: interactive plotly figures
(HTML) or static matplotlib ones (PNG).

The profiles show, per stage (1 = raffinate end), the share of each component in the aqueous and in the
organic metal (log scale), the aqueous pH where the model has one, and dotted lines at the section
boundaries. The dynamics show each terminal outlet's concentrations over time (h), one colour per component
in every panel and in the legend, and the aqueous outlets' pH. PNG is
drawn with matplotlib's Agg backend (a pure PyPI wheel, no browser needed); plotly's own static export
would need kaleido and a Chrome build, which cannot be installed from PyPI alone.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mine2magnet.elements.palette import element_colour
from mine2magnet.errors import InputError
from mine2magnet.separation.contract.result import CascadeResult
from mine2magnet.separation.solvers.dynamics import DynamicResult


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
                    x=stages,
                    y=frac,
                    mode="lines+markers",
                    name=comp,
                    legendgroup=comp,
                    showlegend=row == 1,
                    line={"color": element_colour(comp)},
                    marker={"color": element_colour(comp)},
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(type="log", row=row, col=1)
    if result.pH is not None:
        fig.add_trace(
            go.Scatter(x=stages, y=list(result.pH), mode="lines", name="pH", line={"color": "black"}),
            row=3,
            col=1,
        )
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
            ax.plot(stages, frac[:, i], marker=".", label=comp, color=element_colour(comp))
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


# ---------------------------------------------------------------------------------------------- dynamics


def _component_colour(component: str) -> str:
    """The project's one colour per element (``mine2magnet.elements.palette``): the same in every panel and
    the legend, in the stage profiles, on the refinery page and in the report."""
    return element_colour(component)


#: Log axes of the dynamics figures span this many decades below the panel's largest value (start-ups begin
#: at concentrations far below any assay).
DECADES = 8


def _log_range(values: np.ndarray) -> tuple[float, float] | None:
    """(low, high) of a log axis: DECADES below the largest positive value, a bit above it."""
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size == 0:
        return None
    top = float(finite.max())
    return top * 10.0**-DECADES, top * 3.0


def _dynamics_panels(result: DynamicResult) -> list[tuple[str, str | None]]:
    """(title, outlet) per panel: each terminal outlet's concentrations, then the aqueous outlets' pH."""
    panels: list[tuple[str, str | None]] = [
        (f"{name.replace('_', ' ')}: concentration, mol/L", name) for name in result.terminal_outlets
    ]
    if result.outlet_pH:
        panels.append(("aqueous outlets: pH", None))
    return panels


def dynamics_figure(result: DynamicResult) -> go.Figure:
    """Outlet concentrations (mol/L, log scale) over time (h), one panel per terminal outlet, and the pH.

    Each component has one colour in every panel and in the legend (one legend entry per component, which
    toggles its lines in all panels). Dotted lines mark events, a dashed line the time to steady state. The
    log axes show the DECADES decades below each panel's largest concentration.
    """
    panels = _dynamics_panels(result)
    rows = len(panels)
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, subplot_titles=[p[0] for p in panels], vertical_spacing=0.07
    )
    t = result.times.tolist()
    for row, (_, outlet) in enumerate(panels, start=1):
        if outlet is None:
            for j, (name, ph) in enumerate(result.outlet_pH.items()):
                fig.add_trace(
                    go.Scatter(
                        x=t,
                        y=ph.tolist(),
                        mode="lines",
                        name=f"pH {name.replace('_', ' ')}",
                        line={"color": "black", "dash": "solid" if j == 0 else "dash"},
                    ),
                    row=row,
                    col=1,
                )
            continue
        conc = result.concentration(outlet)
        for i, comp in enumerate(result.components):
            y = [v if v > 0 else None for v in conc[:, i].tolist()]
            fig.add_trace(
                go.Scatter(
                    x=t,
                    y=y,
                    mode="lines",
                    name=comp,
                    legendgroup=comp,
                    showlegend=row == 1,
                    line={"color": _component_colour(comp)},
                ),
                row=row,
                col=1,
            )
        span = _log_range(conc)
        fig.update_yaxes(
            type="log", row=row, col=1, range=[math.log10(span[0]), math.log10(span[1])] if span else None
        )
    for at in result.events:
        fig.add_vline(x=at, line_dash="dot", line_color="grey")
    if result.time_to_steady_state is not None:
        fig.add_vline(x=result.time_to_steady_state, line_dash="dash", line_color="green")
    fig.update_xaxes(title_text="time, h", row=rows, col=1)
    steady = (
        f"steady within {result.tolerance:g} at {result.time_to_steady_state:.4g} h"
        if result.time_to_steady_state is not None
        else "not yet steady"
    )
    fig.update_layout(
        title=f"Cascade dynamics ({result.model}, {len(result.sections)} stages; {steady})",
        height=260 * rows + 120,
    )
    return fig


def write_dynamics_png(result: DynamicResult, path: str | Path, dpi: int = 120) -> Path:
    """The panels of :func:`dynamics_figure` as a PNG (matplotlib, Agg backend), same colours."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a declared dependency
        raise InputError(
            f"PNG export needs matplotlib ({exc}); pip install 'matplotlib>=3.7' or use .html", field="--plot"
        ) from None
    path = Path(path)
    panels = _dynamics_panels(result)
    fig, axes = plt.subplots(len(panels), 1, sharex=True, figsize=(9, 2.6 * len(panels) + 0.8), squeeze=False)
    for ax, (title, outlet) in zip(axes[:, 0], panels, strict=True):
        if outlet is None:
            for j, (name, ph) in enumerate(result.outlet_pH.items()):
                ax.plot(result.times, ph, color="black", linestyle="-" if j == 0 else "--", label=name)
            ax.legend(fontsize=8)
        else:
            conc = result.concentration(outlet)
            for i in range(len(result.components)):
                ax.plot(
                    result.times,
                    np.where(conc[:, i] > 0, conc[:, i], np.nan),
                    color=_component_colour(result.components[i]),
                )
            ax.set_yscale("log")
            span = _log_range(conc)
            if span is not None:
                ax.set_ylim(*span)
        ax.set_title(title, fontsize=10)
        for at in result.events:
            ax.axvline(at, linestyle=":", color="grey")
        if result.time_to_steady_state is not None:
            ax.axvline(result.time_to_steady_state, linestyle="--", color="green")
    handles = [plt.Line2D([], [], color=_component_colour(comp), label=comp) for comp in result.components]
    axes[0, 0].legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    axes[-1, 0].set_xlabel("time, h")
    fig.suptitle(f"Cascade dynamics ({result.model}, {len(result.sections)} stages)")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return path


def write_dynamics_plot(result: DynamicResult, path: str | Path) -> Path:
    """Write the outlets-over-time figure to ``path``: ``.html`` (plotly, self-contained) or ``.png``.

    Raises:
        InputError: for another file suffix (field ``--plot``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        dynamics_figure(result).write_html(path, include_plotlyjs=True, full_html=True)
        return path
    if suffix == ".png":
        return write_dynamics_png(result, path)
    raise InputError(f"unknown plot format {suffix!r}; use .html or .png", field="--plot")
