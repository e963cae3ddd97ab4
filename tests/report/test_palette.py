"""One colour per element in every chart (issue 12): the stage profiles of `cascade simulate --plot`, the
dynamics figure and the refinery page's SX circuits draw each element in the palette's colour, the same in
every panel as in the legend. Before the fix, traces carried no colour, so plotly's colour cycle gave the
second panel's Pr the colour the legend showed for Nd."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.elements import ELEMENTS
from mine2magnet.elements.palette import ELEMENT_COLOURS, OTHER_COLOURS, element_colour, series_colour
from mine2magnet.process import run_flowsheet
from mine2magnet.process.plant_page import stage_profiles
from mine2magnet.separation import simulate, simulate_dynamic
from mine2magnet.separation.plot import dynamics_figure, profile_figure

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "mine2magnet" / "separation" / "examples"

HEX = re.compile(r"^#[0-9a-f]{6}$")


def _element_traces(fig) -> list:
    return [t for t in fig.data if t.name in ELEMENT_COLOURS]


def _assert_one_colour_per_element(fig) -> set[str]:
    """Every element trace has an explicit colour equal to the palette's, in every panel (so equal to the
    legend entry's, which is one of those traces); returns the elements seen."""
    traces = _element_traces(fig)
    assert traces, "no element traces in the figure"
    seen: dict[str, set[str]] = {}
    for t in traces:
        colour = t.line.color
        assert colour is not None, f"{t.name}: no explicit colour (plotly would cycle its colourway)"
        assert colour == element_colour(t.name), t.name
        if t.marker is not None and t.marker.color is not None:
            assert t.marker.color == colour, t.name
        seen.setdefault(t.name, set()).add(colour)
    assert all(len(c) == 1 for c in seen.values()), seen
    legend = [t.name for t in traces if t.showlegend is not False]
    assert sorted(legend) == sorted(set(legend)) == sorted(seen), "one legend entry per element"
    return set(seen)


def test_palette_is_distinct_and_covers_the_rare_earths():
    colours = list(ELEMENT_COLOURS.values())
    assert len(set(colours)) == len(colours), "two elements share a colour"
    assert all(HEX.match(c) for c in colours + list(OTHER_COLOURS))
    rare_earths = ["Sc", "Y", "La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb"]
    for sym in [*rare_earths, "Lu"]:
        assert sym in ELEMENTS and sym in ELEMENT_COLOURS


@given(st.text(min_size=1, max_size=12))
def test_any_name_gets_a_stable_valid_colour(name):
    assert element_colour(name) == element_colour(name)
    assert HEX.match(element_colour(name))


@given(st.integers(min_value=0, max_value=10_000))
def test_series_colours_cycle(i):
    assert series_colour(i) == series_colour(i + len(OTHER_COLOURS))


def test_cascade_profile_colours_match_the_legend():
    result = simulate(EXAMPLES / "prnd_lsf.yaml")
    fig = profile_figure(result)
    assert _assert_one_colour_per_element(fig) == {"Pr", "Nd"}
    # both panels (aqueous, organic) draw Pr, in the same colour
    assert len([t for t in fig.data if t.name == "Pr"]) == 2


def test_dynamics_colours_match_the_legend():
    spec = {
        "components": ["Pr", "Nd", "Sm"],
        "model": {"type": "constant-distribution", "distribution_ratios": {"Pr": 0.6, "Nd": 1.1, "Sm": 3.0}},
        "stages": {"extraction": 4, "scrub": 2},
        "feed": {"stage": 4, "volume_flow": 1.0, "concentration": {"Pr": 0.1, "Nd": 0.3, "Sm": 0.05}},
        "organic": {"volume_flow": 1.6},
        "scrub": {"volume_flow": 0.3},
        "dynamics": {"mixer_volume": 1.0, "until": 10.0},
    }
    fig = dynamics_figure(simulate_dynamic(spec))
    assert _assert_one_colour_per_element(fig) == {"Pr", "Nd", "Sm"}


@pytest.fixture(scope="module")
def hre_circuit():
    return run_flowsheet("hre-circuit")


def test_refinery_stage_profile_colours_match_the_legend(hre_circuit):
    fig = stage_profiles(hre_circuit)
    assert fig is not None
    seen = _assert_one_colour_per_element(fig)
    assert {"Tb", "Dy"} <= seen
