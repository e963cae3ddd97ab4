"""Dynamic mixer-settler cascades (`simulate_dynamic`): the exact linear solution, the steady state of every
equilibrium model family, conservation over time, events, the CLI and the figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from mine2magnet.cli import main
from mine2magnet.errors import ConvergenceError, InputError
from mine2magnet.separation import load_spec, simulate, simulate_dynamic

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "mine2magnet" / "separation" / "examples"


def example(name: str, **changes) -> dict:
    spec = yaml.safe_load((EXAMPLES / name).read_text())
    for key in ("cut", "targets"):
        spec.pop(key, None)
    spec.update(changes)
    return spec


# ---------------------------------------------------------------------------------------------- exact linear


def linear_cascade_matrix(spec: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """The linear ODE dm/dt = A m + b of a constant-distribution cascade with mixer holdups only, built here
    from its definition (ideal stages, aqueous share of each mixer = its share of the volume flows), one
    component block after the other; m(0) holds the inlet organic in every mixer (the fresh start). Returns
    A, b, m0 and, per component, the row vectors of the raffinate and loaded-organic flows (mol/h)."""
    comps = spec["components"]
    D = spec["model"]["distribution_ratios"]
    n, m = spec["stages"]["extraction"], spec["stages"].get("scrub", 0)
    N = n + m
    fs = spec["feed"]["stage"] - 1
    vf, vo, vs = spec["feed"]["volume_flow"], spec["organic"]["volume_flow"], spec["scrub"]["volume_flow"]
    Va = np.array([vs + (vf if k <= fs else 0.0) for k in range(N)])
    Vo = np.full(N, vo)
    V = spec["dynamics"]["mixer_volume"]
    Vaq = V * Va / (Va + Vo)
    Vorg = V - Vaq
    C = len(comps)
    A = np.zeros((C * N, C * N))
    b = np.zeros(C * N)
    m0 = np.zeros(C * N)
    outlets = []
    for i, comp in enumerate(comps):
        d = np.array([D["extraction"][comp]] * n + [D["scrub"][comp]] * m)
        k_aq = Va / (Vaq + Vorg * d)  # aqueous outflow per mol held
        k_org = Vo * d / (Vaq + Vorg * d)
        o = i * N
        for k in range(N):
            A[o + k, o + k] = -(k_aq[k] + k_org[k])
            if k + 1 < N:
                A[o + k, o + k + 1] = k_aq[k + 1]
            if k > 0:
                A[o + k, o + k - 1] = k_org[k - 1]
        y_in = spec["organic"].get("concentration", {}).get(comp, 0.0)
        b[o + fs] += vf * spec["feed"]["concentration"][comp]
        b[o] += vo * y_in
        m0[o : o + N] = Vorg * y_in
        raffinate = np.zeros(C * N)
        raffinate[o] = k_aq[0]
        loaded = np.zeros(C * N)
        loaded[o + N - 1] = k_org[N - 1]
        outlets.append(np.vstack([raffinate, loaded]))
    return A, b, m0, outlets


LINEAR = {
    "components": ["Pr", "Nd", "Sm"],
    "model": {
        "type": "constant-distribution",
        "distribution_ratios": {
            "extraction": {"Pr": 0.6, "Nd": 1.1, "Sm": 3.0},
            "scrub": {"Pr": 0.5, "Nd": 0.9, "Sm": 2.5},
        },
    },
    "stages": {"extraction": 5, "scrub": 4},
    "feed": {"stage": 5, "volume_flow": 1.0, "concentration": {"Pr": 0.1, "Nd": 0.3, "Sm": 0.05}},
    "organic": {"volume_flow": 1.6, "concentration": {"Nd": 0.002}},
    "scrub": {"volume_flow": 0.3},
}


def test_linear_mixer_only_matches_the_matrix_exponential():
    """Constant D, mixer holdups only: the outlets equal the exact solution of the linear ODE (expm) to 1e-8
    at several times, from the fresh start through the approach to steady state."""
    times = [0.25, 1.0, 4.0, 15.0, 60.0]
    spec = dict(LINEAR, dynamics={"mixer_volume": 1.5, "until": 60.0, "profiles_at": times, "rtol": 1e-11})
    run = simulate_dynamic(spec)
    A, b, m0, outlets = linear_cascade_matrix(spec)
    n = len(b)
    aug = np.zeros((n + 1, n + 1))
    aug[:n, :n] = A
    aug[:n, n] = b
    for t in times:
        k = int(np.flatnonzero(np.isclose(run.times, t, rtol=0, atol=1e-12))[0])
        exact = (expm(aug * t) @ np.append(m0, 1.0))[:n]
        want = np.array([[row @ exact for row in rows] for rows in outlets])  # (C, 2)
        got = np.column_stack([run.outlets["raffinate"][k], run.outlets["loaded_organic"][k]])
        scale = np.abs(want).max()
        assert np.abs(got - want).max() <= 1e-8 * scale, t
        held = exact.reshape(len(LINEAR["components"]), -1).sum(1)
        assert np.abs(run.inventory[k] - held).max() <= 1e-8 * np.abs(held).max(), t


# ---------------------------------------------------------------------------------------------- steady state


STEADY_CASES = {
    "constant-distribution, Murphree 0.85, strip": example(
        "prnd_constant_d_design.yaml",
        stages={"extraction": 8, "scrub": 6, "strip": 3},
        feed={"stage": 8, "volume_flow": 1.0, "concentration": {"Pr": 0.125, "Nd": 0.375}},
        organic={"volume_flow": 1.6},
        scrub={"volume_flow": 0.5},
        strip={"volume_flow": 0.6},
        model={
            "type": "constant-distribution",
            "distribution_ratios": {
                "extraction": {"Pr": 0.8, "Nd": 1.16},
                "scrub": {"Pr": 0.8, "Nd": 1.16},
                "strip": {"Pr": 0.05, "Nd": 0.08},
            },
        },
        efficiency=0.85,
    ),
    "loaded-separation-factor (prnd_lsf)": example(
        "prnd_lsf.yaml",
        stages={"extraction": 12, "scrub": 12},
        feed={"stage": 12, "phase": "aqueous", "flow": {"Pr": 0.25, "Nd": 0.75}, "volume_flow": 1.0},
        organic={"ree_flow": 3.0, "volume_flow": 2.0},
        scrub={"ree_flow": 2.4, "volume_flow": 0.5},
    ),
    "empirical-ph (lace_empirical_ph)": example("lace_empirical_ph.yaml"),
    "empirical-ph, PrOMMiS dosage form, sulfate (sx_steady_1_1)": example("prommis/sx_steady_1_1.yaml"),
    "mass-action, P507, saponified, strip, Murphree": example(
        "prnd_mass_action_design.yaml",
        stages={"extraction": 6, "scrub": 6, "strip": 3},
        feed={"stage": 6, "volume_flow": 1.0, "concentration": {"Pr": 0.125, "Nd": 0.375}, "pH": 2.0},
        organic={"volume_flow": 2.0},
        scrub={"acid": 4.0, "volume_flow": 0.12},
        strip={"acid": 3.0, "volume_flow": 0.5},
        efficiency={"extraction": 0.95, "scrub": 1.0, "strip": 0.9},
    ),
}


@pytest.mark.parametrize("name", list(STEADY_CASES))
def test_runs_end_at_the_simulate_steady_state(name):
    """Started fresh, with settlers, every model family ends at `simulate` of the same spec (1e-8 of the
    metal inflow in every outlet and every stage flow)."""
    spec = dict(
        STEADY_CASES[name],
        dynamics={
            "mixer_volume": 1.0,
            "settler_volume": {"aqueous": 0.5, "organic": 1.0},
            "settler_cells": 2,
            "tolerance": 1e-10,
            "rtol": 1e-8,
        },
    )
    run = simulate_dynamic(spec)
    steady = simulate(spec)
    inflow = float(steady.feed.sum() + (steady.inlet_metal.sum() if steady.inlet_metal is not None else 0.0))
    assert run.steady_state_deviation <= 1e-8
    for outlet, flow in steady.outlets.items():
        assert np.abs(run.outlets[outlet][-1] - flow).max() <= 1e-8 * inflow, outlet
    final = run.profiles[float(run.times[-1])]
    assert np.abs(final.aqueous - steady.aqueous).max() <= 1e-8 * inflow
    assert np.abs(final.organic - steady.organic).max() <= 1e-8 * inflow
    if steady.pH is not None:
        assert final.pH is not None and np.abs(final.pH - steady.pH).max() <= 1e-6
    assert run.time_to_steady_state is not None and run.time_to_steady_state == run.times[-1]
    assert run.mass_balance_error <= 1e-12


def test_the_shipped_dynamics_example_starts_fresh_and_applies_its_event():
    """examples/prnd_mass_action_dynamics.yaml (64 stages): shortened here to its first 60 h."""
    spec = load_spec(EXAMPLES / "prnd_mass_action_dynamics.yaml").model_dump(exclude_none=True)
    spec["dynamics"].update(until=60.0, events=[{"at": 30.0, "feed": {"concentration": {"Nd": 0.45}}}])
    spec["dynamics"]["profiles_at"] = [0.0, 30.0, 60.0]
    run = simulate_dynamic(spec)
    assert run.outlets["raffinate"][0].sum() == 0.0  # fresh: metal-free
    assert run.inventory[-1].sum() > 0.0 and run.mass_balance_error <= 1e-12
    assert sorted(run.profiles) == [0.0, 30.0, 60.0]
    assert run.events == (30.0,)


def test_a_steady_start_stays_steady():
    spec = dict(
        example("lace_empirical_ph.yaml"),
        dynamics={"mixer_volume": 1.0, "settler_volume": 2.0, "initial": "steady", "until": 50.0},
    )
    run = simulate_dynamic(spec)
    assert run.time_to_steady_state == 0.0
    assert run.steady_state_deviation <= 1e-10
    assert np.abs(run.inventory - run.inventory[0]).max() <= 1e-10 * run.inventory[0].sum()


# ---------------------------------------------------------------------------------------------- conservation


def test_inventory_change_equals_metal_in_minus_out():
    """Integrated over time (trapezoids on a fine output grid), holdup change = metal in - metal out, per
    component, through a feed step; the run's own balance (cumulated outlets) closes to rounding."""
    spec = dict(
        example("lace_empirical_ph.yaml"),
        dynamics={
            "mixer_volume": 1.0,
            "settler_volume": {"aqueous": 0.8, "organic": 1.2},
            "settler_cells": 2,
            "until": 30.0,
            "output_every": 0.01,
            "rtol": 1e-9,
            "events": [{"at": 12.0, "feed": {"concentration": {"La": 0.08}, "volume_flow": 1.3}}],
        },
    )
    run = simulate_dynamic(spec)
    t = run.times
    out = run.outlets["raffinate"] + run.outlets["loaded_organic"]
    out_total = (0.5 * (out[1:] + out[:-1]) * np.diff(t)[:, None]).sum(0)
    metal_in = np.array([0.05, 0.05]) * 12.0 + np.array([0.08 * 1.3, 0.05 * 1.3]) * 18.0
    change = run.inventory[-1] - run.inventory[0]
    assert np.abs(change - (metal_in - out_total)).max() <= 1e-5 * metal_in.max()
    assert run.mass_balance_error <= 1e-13


@st.composite
def linear_specs(draw):
    C = draw(st.integers(1, 3))
    comps = ["La", "Ce", "Pr"][:C]
    n = draw(st.integers(1, 4))
    m = draw(st.integers(0, 3))
    d_ext = draw(st.lists(st.floats(0.0, 5.0), min_size=C, max_size=C))
    d_scr = draw(st.lists(st.floats(0.0, 5.0), min_size=C, max_size=C))
    conc = draw(st.lists(st.floats(0.0, 1.0), min_size=C, max_size=C))
    if sum(conc) == 0.0:
        conc[0] = 0.1
    spec = {
        "components": comps,
        "model": {
            "type": "constant-distribution",
            "distribution_ratios": {
                "extraction": dict(zip(comps, d_ext, strict=True)),
                "scrub": dict(zip(comps, d_scr, strict=True)),
            },
        },
        "stages": {"extraction": n, "scrub": m},
        "feed": {
            "stage": draw(st.integers(1, n + m)) if m else n,
            "phase": draw(st.sampled_from(["aqueous", "organic"])) if m else "aqueous",
            "volume_flow": draw(st.floats(0.1, 3.0)),
            "concentration": dict(zip(comps, conc, strict=True)),
        },
        "organic": {"volume_flow": draw(st.floats(0.1, 3.0))},
        "efficiency": draw(st.floats(0.3, 1.0)),
        "dynamics": {
            "mixer_volume": draw(st.floats(0.05, 5.0)),
            "settler_volume": {
                "aqueous": draw(st.sampled_from([0.0, 0.3, 2.0])),
                "organic": draw(st.sampled_from([0.0, 0.5, 3.0])),
            },
            "settler_cells": draw(st.integers(1, 3)),
            "until": draw(st.floats(0.5, 20.0)),
        },
    }
    if m:
        spec["scrub"] = {"volume_flow": draw(st.floats(0.1, 2.0)), "concentration": {comps[0]: 0.01}}
    return spec


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linear_specs())
def test_property_random_linear_cascades_conserve_every_component(spec):
    run = simulate_dynamic(spec)
    assert run.mass_balance_error <= 1e-12
    inflow = float(np.concatenate([flow[-1] for flow in run.outlets.values()]).sum()) + 1.0
    for flow in run.outlets.values():
        assert flow.min() >= -1e-9 * inflow


# ---------------------------------------------------------------------------------------------- events


def test_a_feed_step_moves_the_outlets_the_right_way():
    """From steady state, more La in the feed raises La in both outlets, less Ce lowers Ce in both; the run
    ends at the steady state of the changed spec."""
    base = example("lace_empirical_ph.yaml")
    spec = dict(
        base,
        dynamics={
            "mixer_volume": 1.0,
            "settler_volume": 1.0,
            "initial": "steady",
            "tolerance": 1e-8,
            "events": [{"at": 5.0, "feed": {"concentration": {"La": 0.08, "Ce": 0.03}}}],
        },
    )
    run = simulate_dynamic(spec)
    before = int(np.searchsorted(run.times, 5.0))
    for outlet in ("raffinate", "loaded_organic"):
        start, end = run.outlets[outlet][before], run.outlets[outlet][-1]
        assert end[0] > start[0] and end[1] < start[1], outlet
    changed = simulate(dict(base, feed=dict(base["feed"], concentration={"La": 0.08, "Ce": 0.03})))
    for outlet, flow in changed.outlets.items():
        assert np.abs(run.outlets[outlet][-1] - flow).max() <= 1e-7
    assert run.time_to_steady_state is not None and run.time_to_steady_state > 5.0


def test_event_errors_name_the_event_and_the_field(tmp_path):
    spec = dict(
        example("lace_empirical_ph.yaml"),
        dynamics={"mixer_volume": 1.0, "until": 10.0, "events": [{"at": 2.0, "feed": {"pH": 9.5}}]},
    )
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(InputError) as err:
        simulate_dynamic(path)
    assert str(path) in str(err.value) and "dynamics.events[0].feed.pH" in str(err.value)


@pytest.mark.parametrize(
    ("dynamics", "field"),
    [
        (None, "dynamics"),
        ({"mixer_volume": -1.0}, "dynamics.mixer_volume"),
        (
            {"mixer_volume": 1.0, "until": 5.0, "events": [{"at": 6.0, "feed": {"pH": 1.0}}]},
            "dynamics.events",
        ),
        ({"mixer_volume": 1.0, "events": [{"at": 1.0}]}, "dynamics.events[0]"),
        ({"mixer_volume": 1.0, "initial": {"aqueous": {"Nd": 0.1}}}, "dynamics.initial.aqueous"),
        ({"mixer_volume": 1.0, "initial": {"aqueous": {"La": [0.1, 0.2]}}}, "dynamics.initial.aqueous.La"),
    ],
)
def test_bad_dynamics_blocks_are_input_errors_naming_the_field(dynamics, field):
    spec = example("lace_empirical_ph.yaml")
    if dynamics is not None:
        spec["dynamics"] = dynamics
    with pytest.raises(InputError) as err:
        simulate_dynamic(spec)
    assert err.value.field is not None and err.value.field.startswith(field), err.value


def test_a_run_that_does_not_reach_steady_state_raises_instead_of_returning_numbers():
    spec = dict(example("lace_empirical_ph.yaml"), dynamics={"mixer_volume": 1.0, "max_time": 0.5})
    with pytest.raises(ConvergenceError, match="steady state"):
        simulate_dynamic(spec)


def test_lsf_dynamics_need_volume_flows():
    spec = dict(example("prnd_lsf.yaml"), dynamics={"mixer_volume": 1.0, "until": 1.0})
    with pytest.raises(InputError) as err:
        simulate_dynamic(spec)
    assert err.value.field == "organic.volume_flow"


# ---------------------------------------------------------------------------------------------- CLI, figure


def short_example(tmp_path: Path) -> Path:
    spec = example("lace_empirical_ph.yaml")
    spec["dynamics"] = {
        "mixer_volume": 1.0,
        "settler_volume": {"aqueous": 1.0, "organic": 1.5},
        "until": 20.0,
        "output_every": 1.0,
        "profiles_at": [0.0, 10.0],
        "events": [{"at": 10.0, "feed": {"concentration": {"La": 0.08}}}],
    }
    path = tmp_path / "dyn.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_cli_dynamics_json_contract(tmp_path):
    out = CliRunner().invoke(main, ["cascade", "dynamics", str(short_example(tmp_path)), "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert {"times", "outlets", "stages_at", "time_to_steady_state"} <= set(d)
    # every hour, and the event's time twice (the outlets just before and just after it)
    assert d["times"][0] == 0.0 and d["times"][-1] == 20.0 and len(d["times"]) == 22
    assert d["times"].count(10.0) == 2
    assert {"raffinate", "loaded_organic"} <= set(d["outlets"])
    for outlet in d["outlets"].values():
        assert {"concentration", "purity"} <= set(outlet)
        assert set(outlet["concentration"]) == {"La", "Ce"}
        assert all(len(series) == len(d["times"]) for series in outlet["concentration"].values())
    assert set(d["stages_at"]) == {"0", "10", "20"}
    assert all({"stage", "section", "aqueous", "organic", "pH"} <= set(row) for row in d["stages_at"]["10"])
    assert d["mass_balance_error"] <= 1e-12 and d["events"] == [10.0]


def test_cli_dynamics_summary_and_plots(tmp_path):
    path = short_example(tmp_path)
    out = CliRunner().invoke(main, ["cascade", "dynamics", str(path), "--plot", str(tmp_path / "d.html")])
    assert out.exit_code == 0, out.output
    assert "raffinate" in out.output and "plotly" in (tmp_path / "d.html").read_text()[:200000].lower()
    out = CliRunner().invoke(main, ["cascade", "dynamics", str(path), "--plot", str(tmp_path / "d.png")])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = CliRunner().invoke(main, ["cascade", "dynamics", str(path), "--plot", str(tmp_path / "d.svg")])
    assert out.exit_code == 1 and "--plot" in out.output


def test_cli_dynamics_error_is_one_line(tmp_path):
    spec = example("lace_empirical_ph.yaml")
    path = tmp_path / "nodyn.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = CliRunner().invoke(main, ["cascade", "dynamics", str(path)])
    assert out.exit_code == 1
    assert str(path) in out.output and "dynamics" in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_figure_legend_colours_match_the_lines(tmp_path):
    from mine2magnet.separation.plot import dynamics_figure

    spec = load_spec(short_example(tmp_path))
    fig = dynamics_figure(simulate_dynamic(spec))
    by_component: dict[str, set[str]] = {}
    legend: dict[str, int] = {}
    for trace in fig.data:
        if trace.legendgroup:
            by_component.setdefault(trace.name, set()).add(trace.line.color)
            legend[trace.name] = legend.get(trace.name, 0) + int(trace.showlegend is not False)
    assert set(by_component) == {"La", "Ce"}
    assert all(len(colours) == 1 for colours in by_component.values())  # one colour per component
    assert len({next(iter(c)) for c in by_component.values()}) == 2  # distinct components, distinct colours
    assert legend == {"La": 1, "Ce": 1}  # one legend entry each
