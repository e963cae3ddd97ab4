"""The refinery page and a cascade stage-profile plot, opened in headless Chromium (issue 12).

Every plotly chart draws without a console error and with data, and each legend entry is drawn in the
colour of its traces, which is the element's colour of the project palette (before the fix, Pr's second
panel was drawn in the colour the legend showed for Nd)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mine2magnet.elements.palette import ELEMENT_COLOURS
from mine2magnet.process import run_flowsheet
from mine2magnet.process.plant_page import write_page
from mine2magnet.separation import simulate, simulate_dynamic
from mine2magnet.separation.plot import write_dynamics_plot, write_profile_plot

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "mine2magnet" / "separation" / "examples"


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def _opened(open_page, path: Path):
    opened = open_page(path)
    opened.page.wait_for_function(
        "() => { const g = document.querySelectorAll('.js-plotly-plot');"
        " return g.length > 0 && Array.from(g).every(d => d._fullLayout && d.querySelector('.main-svg')); }",
        timeout=30_000,
    )
    return opened


def _assert_charts_and_element_colours(opened, name: str) -> set[str]:
    charts = opened.audit()
    opened.screenshot(name, full_page=True)
    assert opened.errors == []
    assert charts
    seen: set[str] = set()
    for chart in charts:
        assert any(t["points"] > 0 for t in chart["traces"]), chart["title"]
        for t in chart["traces"]:
            if t["name"] in ELEMENT_COLOURS:
                assert t["colour"] == _rgb(ELEMENT_COLOURS[t["name"]]), (chart["title"], t)
                seen.add(t["name"])
        for entry in chart["legend"]:
            if entry["trace"] is not None:
                assert entry["swatch"] == entry["trace"], (chart["title"], entry)
            if entry["name"] in ELEMENT_COLOURS:
                assert entry["swatch"] == _rgb(ELEMENT_COLOURS[entry["name"]]), entry
    return seen


def test_refinery_page(open_page, tmp_path):
    path = write_page(run_flowsheet("hre-circuit"), tmp_path / "hre-circuit.html")
    opened = _opened(open_page, path)
    charts = opened.audit()
    assert [t["type"] for t in charts[0]["traces"]] == ["sankey"]
    seen = _assert_charts_and_element_colours(opened, "refinery-hre-circuit")
    assert {"Tb", "Dy"} <= seen


def test_cascade_profile_plot(open_page, tmp_path):
    path = write_profile_plot(simulate(EXAMPLES / "prnd_lsf.yaml"), tmp_path / "prnd.html")
    seen = _assert_charts_and_element_colours(_opened(open_page, path), "cascade-prnd-profile")
    assert seen == {"Pr", "Nd"}


@pytest.mark.parametrize("components", [["Pr", "Nd", "Sm"]])
def test_cascade_dynamics_plot(open_page, tmp_path, components):
    spec = {
        "components": components,
        "model": {"type": "constant-distribution", "distribution_ratios": {"Pr": 0.6, "Nd": 1.1, "Sm": 3.0}},
        "stages": {"extraction": 4, "scrub": 2},
        "feed": {"stage": 4, "volume_flow": 1.0, "concentration": {"Pr": 0.1, "Nd": 0.3, "Sm": 0.05}},
        "organic": {"volume_flow": 1.6},
        "scrub": {"volume_flow": 0.3},
        "dynamics": {"mixer_volume": 1.0, "until": 10.0},
    }
    path = write_dynamics_plot(simulate_dynamic(spec), tmp_path / "dynamics.html")
    seen = _assert_charts_and_element_colours(_opened(open_page, path), "cascade-dynamics")
    assert seen == set(components)
