"""Constant-distribution cascades whose metal is trapped between extraction and scrub (issue 17): the mass
balance is judged per component against its own inflow, so a trace element off by a part in 1e7 is not hidden
in the total; a cascade whose trapped inventory is beyond what double precision can balance is refused with
that reason, never returned with a wrong balance or refused without one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.errors import ConvergenceError
from mine2magnet.separation import simulate

COMPONENTS = ["La", "Ce", "Pr", "Nd"]


def _spec(d_ext, d_scr, conc, n, m, organic, scrub):
    return {
        "components": COMPONENTS,
        "model": {
            "type": "constant-distribution",
            "distribution_ratios": {
                "extraction": dict(zip(COMPONENTS, d_ext, strict=True)),
                "scrub": dict(zip(COMPONENTS, d_scr, strict=True)),
            },
        },
        "stages": {"extraction": n, "scrub": m},
        "feed": {"stage": n, "volume_flow": 1.0, "concentration": dict(zip(COMPONENTS, conc, strict=True))},
        "organic": {"volume_flow": organic},
        "scrub": {"volume_flow": scrub},
    }


def _worst_component_error(spec, result) -> float:
    feed = np.array([spec["feed"]["concentration"][c] for c in COMPONENTS])
    out = np.zeros(len(COMPONENTS))
    for outlet in result.to_dict()["outlets"].values():
        out += np.array([outlet["flow"][c] for c in COMPONENTS])
    return float((np.abs(out - feed) / feed).max())


def test_a_trace_element_is_balanced_on_its_own_inflow() -> None:
    # Pr extracted 44x and scrubbed back at 0.058 is trapped around the feed stage; it is a trace of the feed.
    # With the balance judged on the total inflow this passed at 2.9e-11 while Pr was off by 2.3e-7 of its own
    spec = _spec(
        [17.04, 16.16, 43.95, 0.9891],
        [2.744, 1.754, 0.05770, 1.014],
        [0.5087, 0.4321, 1.219e-4, 0.04502],
        9,
        13,
        0.4325,
        0.1379,
    )
    try:
        result = simulate(spec)
    except ConvergenceError as exc:
        assert "trapped between the sections" in str(exc)
        return
    assert result.mass_balance_error <= 1e-9
    assert _worst_component_error(spec, result) <= 1e-9


exponents = st.floats(-2, 2)


@settings(max_examples=60)
@given(
    d_ext=st.lists(exponents, min_size=4, max_size=4),
    d_scr=st.lists(exponents, min_size=4, max_size=4),
    conc=st.lists(st.floats(-4, 0), min_size=4, max_size=4),
    n=st.integers(3, 40),
    m=st.integers(1, 40),
    organic=st.floats(-0.5, 0.5),
    scrub=st.floats(-1, 0),
)
def test_every_component_balanced_or_refused_with_the_reason(
    d_ext, d_scr, conc, n, m, organic, scrub
) -> None:
    spec = _spec(
        [10**x for x in d_ext], [10**x for x in d_scr], [10**x for x in conc], n, m, 10**organic, 10**scrub
    )
    try:
        result = simulate(spec)
    except ConvergenceError as exc:
        assert "trapped between the sections" in str(exc), exc
        return
    assert _worst_component_error(spec, result) <= 1e-9
    assert result.mass_balance_error == pytest.approx(_worst_component_error(spec, result), abs=1e-12)
