"""Entrainment and kinetic stage efficiency (issue 16, item 2).

References are independent of the solver: the two-stage cascades are solved by hand (elimination written
out below from the stage balances), the limits are the ideal cascade, and the property tests check the
conservation of every species from the outlets alone.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.errors import InputError
from mine2magnet.separation import simulate
from mine2magnet.separation.contract.spec import load_spec


def two_stage(D: float, Va: float, Vo: float, c_feed: float, **extra: object) -> dict:
    """One component, two extraction stages, aqueous feed (Va L/h at c_feed mol/L) into stage 2, clean
    organic (Vo L/h) into stage 1."""
    return {
        "components": ["Nd"],
        "model": {"type": "constant-distribution", "distribution_ratios": {"Nd": D}},
        "stages": {"extraction": 2},
        "feed": {"stage": 2, "volume_flow": Va, "concentration": {"Nd": c_feed}},
        "organic": {"volume_flow": Vo},
        **extra,
    }


def test_two_stage_entrainment_by_hand() -> None:
    """Ideal stages, y = D x. Stage k's phases leave as Va x_k and Vo D x_k, plus what they entrain: the
    organic carries ea Vo L of aqueous (at x_k) up, the aqueous eo Va L of organic (at D x_k) down. With
    G = Va (1 + eo D) + Vo (D + ea), everything leaving a stage:
        stage 1:  G x1 - Va (1 + eo D) x2 = 0
        stage 2:  G x2 - Vo (D + ea) x1 = f
    so x1 = x2 Va (1 + eo D) / G and x2 = f / [G - Vo (D + ea) Va (1 + eo D) / G].
    Raffinate stream: Va x1 (1 + eo D); loaded organic stream: Vo x2 (D + ea)."""
    D, Va, Vo, c, ea, eo = 1.7, 1.0, 0.8, 0.2, 0.02, 0.01
    f = Va * c
    g = Va * (1 + eo * D) + Vo * (D + ea)
    x2 = f / (g - Vo * (D + ea) * Va * (1 + eo * D) / g)
    x1 = x2 * Va * (1 + eo * D) / g
    raffinate = Va * x1 * (1 + eo * D)
    loaded = Vo * x2 * (D + ea)
    spec = two_stage(
        D,
        Va,
        Vo,
        c,
        entrainment={"extraction": {"aqueous_in_organic": ea, "organic_in_aqueous": eo}},
    )
    r = simulate(spec)
    assert r.outlets["raffinate"][0] == pytest.approx(raffinate, rel=1e-13)
    assert r.outlets["loaded_organic"][0] == pytest.approx(loaded, rel=1e-13)
    # the phases themselves
    assert r.aqueous[:, 0] == pytest.approx([Va * x1, Va * x2], rel=1e-13)
    assert r.organic[:, 0] == pytest.approx([Vo * D * x1, Vo * D * x2], rel=1e-13)
    assert raffinate + loaded == pytest.approx(f, rel=1e-14)
    # entrainment costs separation: more metal stays in the raffinate than without it
    ideal = simulate(two_stage(D, Va, Vo, c))
    assert r.outlets["raffinate"][0] > ideal.outlets["raffinate"][0]


def test_two_stage_kinetic_efficiency_by_hand() -> None:
    """Murphree stages from the mixer residence time: E = 1 - exp(-k V/(Va + Vo)), clean organic in.
    y1 = E D x1,  y2 = y1 + E (D x2 - y1)
    stage 1:  Va x1 + Vo y1 - Va x2 = 0           ->  x1 = Va x2 / (Va + Vo E D)
    stage 2:  Va x2 + Vo y2 - Vo y1 = f           ->  x2 [Va + Vo E D - Vo E^2 D Va / (Va + Vo E D)] = f
    """
    D, Va, Vo, c, k, V = 2.5, 1.0, 1.5, 0.1, 12.0, 0.1  # 1/h, L: tau = 0.04 h, E = 1 - e^-0.48
    E = 1.0 - math.exp(-k * V / (Va + Vo))
    f = Va * c
    x2 = f / (Va + Vo * E * D - Vo * E**2 * D * Va / (Va + Vo * E * D))
    x1 = Va * x2 / (Va + Vo * E * D)
    y1 = E * D * x1
    y2 = y1 + E * (D * x2 - y1)
    r = simulate(two_stage(D, Va, Vo, c, efficiency={"rate_constant": k, "mixer_volume": V}))
    assert r.outlets["raffinate"][0] == pytest.approx(Va * x1, rel=1e-13)
    assert r.outlets["loaded_organic"][0] == pytest.approx(Vo * y2, rel=1e-13)
    # the same cascade with the fixed Murphree efficiency E
    fixed = simulate(two_stage(D, Va, Vo, c, efficiency=E))
    np.testing.assert_allclose(r.aqueous, fixed.aqueous, rtol=1e-14)


def test_kinetic_efficiency_follows_the_residence_time_per_stage() -> None:
    """An aqueous feed mid-cascade: the extraction stages carry feed + scrub liquor, the scrub stages the
    scrub liquor only, so their mixers hold the phases longer and approach equilibrium more closely."""
    spec = load_spec(
        {
            "components": ["Pr", "Nd"],
            "model": {
                "type": "constant-distribution",
                "distribution_ratios": {
                    "extraction": {"Pr": 0.8, "Nd": 1.6},
                    "scrub": {"Pr": 0.8, "Nd": 1.6},
                },
            },
            "stages": {"extraction": 3, "scrub": 3},
            "feed": {"stage": 3, "volume_flow": 1.0, "concentration": {"Pr": 0.1, "Nd": 0.1}},
            "organic": {"volume_flow": 1.5},
            "scrub": {"volume_flow": 0.5},
            "efficiency": {"rate_constant": 20.0, "mixer_volume": 0.2},
        }
    )
    e_ext = spec.efficiency.at("extraction", 1.5, 1.5)
    e_scrub = spec.efficiency.at("scrub", 0.5, 1.5)
    assert e_ext == pytest.approx(1 - math.exp(-20 * 0.2 / 3.0), rel=1e-15)
    assert e_scrub == pytest.approx(1 - math.exp(-20 * 0.2 / 2.0), rel=1e-15)
    assert e_scrub > e_ext
    # kinetic = the fixed efficiencies of the same values per section
    dumped = spec.model_dump()
    dumped["efficiency"] = {"extraction": e_ext, "scrub": e_scrub}
    np.testing.assert_allclose(simulate(spec).aqueous, simulate(dumped).aqueous, rtol=1e-13, atol=0)


def test_fast_kinetics_and_no_entrainment_give_the_ideal_cascade() -> None:
    base = two_stage(3.0, 1.0, 1.0, 0.3)
    ideal = simulate(base)
    fast = simulate({**base, "efficiency": {"rate_constant": 1e6, "mixer_volume": 1.0}})  # E = 1 - e^-5e5
    none = simulate({**base, "entrainment": {"extraction": {"aqueous_in_organic": 0.0}}})
    np.testing.assert_array_equal(fast.aqueous, ideal.aqueous)
    np.testing.assert_array_equal(none.aqueous, ideal.aqueous)
    # and entrainment -> 0 approaches it continuously (first order in the fraction)
    gaps = []
    for eps in (1e-3, 1e-4):
        r = simulate({**base, "entrainment": {"extraction": {"organic_in_aqueous": eps}}})
        gaps.append(abs(r.outlets["raffinate"][0] - ideal.outlets["raffinate"][0]))
    assert gaps[1] == pytest.approx(gaps[0] / 10, rel=0.01)


fractions = st.floats(0.0, 0.05)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 6),
    m=st.integers(0, 5),
    p=st.integers(0, 3),
    d=st.lists(st.floats(0.05, 20.0), min_size=3, max_size=3),
    vo=st.floats(0.2, 5.0),
    ent=st.lists(fractions, min_size=6, max_size=6),
    k=st.one_of(st.none(), st.floats(0.5, 200.0)),
)
def test_species_are_conserved_with_entrainment(n, m, p, d, vo, ent, k) -> None:
    """Inflow = the outlet streams (with what they entrain) for every component, all flows >= 0."""
    comps = ["La", "Ce", "Pr"]
    ratios = dict(zip(comps, d, strict=True))
    spec = {
        "components": comps,
        "model": {
            "type": "constant-distribution",
            "distribution_ratios": {"extraction": ratios, "scrub": ratios, "strip": {c: 0.01 for c in comps}},
        },
        "stages": {"extraction": n, "scrub": m, "strip": p},
        "feed": {"stage": n, "volume_flow": 1.0, "concentration": {"La": 0.1, "Ce": 0.05, "Pr": 0.02}},
        "organic": {"volume_flow": vo, "concentration": {"Pr": 0.001}},
        "entrainment": {
            "extraction": {"aqueous_in_organic": ent[0], "organic_in_aqueous": ent[1]},
            "scrub": {"aqueous_in_organic": ent[2], "organic_in_aqueous": ent[3]},
            "strip": {"aqueous_in_organic": ent[4], "organic_in_aqueous": ent[5]},
        },
    }
    if m:
        spec["scrub"] = {"volume_flow": 0.3, "concentration": {"Ce": 0.01}}
    if p:
        spec["strip"] = {"volume_flow": 0.5}
    if k is not None:
        spec["efficiency"] = {"rate_constant": k, "mixer_volume": 0.1}
    r = simulate(spec)
    inflow = r.feed + (r.inlet_metal if r.inlet_metal is not None else 0.0)
    out = sum(r.outlets[t] for t in r.terminal_outlets)
    np.testing.assert_allclose(out, inflow, rtol=1e-12)
    assert (r.aqueous >= 0).all() and (r.organic >= 0).all()
    assert r.mass_balance_error < 1e-12


def test_models_without_entrainment_say_so() -> None:
    lsf = {
        "components": ["Pr", "Nd"],
        "model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0, "Nd": 1.5}},
        "stages": {"extraction": 5, "scrub": 5},
        "feed": {"stage": 5, "flow": {"Pr": 0.3, "Nd": 0.7}},
        "organic": {"ree_flow": 1.0},
        "scrub": {"ree_flow": 0.4},
    }
    with pytest.raises(InputError, match=r"entrainment\.scrub"):
        simulate({**lsf, "entrainment": {"scrub": {"aqueous_in_organic": 0.01}}})
    with pytest.raises(InputError, match=r"efficiency\.rate_constant"):
        simulate({**lsf, "efficiency": {"rate_constant": 10.0, "mixer_volume": 1.0}})


def test_kinetic_efficiency_in_a_physical_model() -> None:
    """empirical-pH cascade, extraction only (uniform flows): kinetic = the fixed efficiency of that value."""
    spec = {
        "components": ["Pr", "Nd"],
        "model": {
            "type": "empirical-ph",
            "coefficients": {"Pr": {"a": 3.0, "b": -3.2}, "Nd": {"a": 3.0, "b": -3.0}},
            "proton_balance": True,
        },
        "stages": {"extraction": 6},
        "feed": {"stage": 6, "volume_flow": 1.0, "concentration": {"Pr": 0.01, "Nd": 0.01}, "pH": 2.0},
        "organic": {"volume_flow": 1.0},
        "efficiency": {"rate_constant": 15.0, "mixer_volume": 0.1},
    }
    e = 1.0 - math.exp(-15.0 * 0.1 / 2.0)
    kinetic = simulate(spec)
    fixed = simulate({**spec, "efficiency": e})
    np.testing.assert_allclose(kinetic.aqueous, fixed.aqueous, rtol=1e-10)
    ideal = simulate({k: v for k, v in spec.items() if k != "efficiency"})
    assert kinetic.outlets["raffinate"].sum() > ideal.outlets["raffinate"].sum()
    # with entrainment beside the kinetic Murphree stages: the same cascade as the linear solver's at the
    # result's distribution ratios (no proton balance here: D follows the acid's own profile)
    from mine2magnet.separation.solvers.steady.linear_cascade import solve_linear_cascade

    ent = {"extraction": {"aqueous_in_organic": 0.01, "organic_in_aqueous": 0.02}}
    fixed_ph = {**spec, "model": {**spec["model"], "proton_balance": False}, "entrainment": ent}
    r = simulate(fixed_ph)
    D = np.array([[10.0 ** (3.0 * ph + b) for ph in r.pH] for b in (-3.2, -3.0)])
    feed = np.zeros((2, 6))
    feed[:, -1] = 0.01
    a, o = solve_linear_cascade(D, 1.0, 1.0, feed, np.zeros(2), np.zeros(2), e, None, 0.01, 0.02)
    np.testing.assert_allclose(r.aqueous, a.T, rtol=1e-9)
    np.testing.assert_allclose(r.organic, o.T, rtol=1e-9)
    with_balance = simulate({**spec, "entrainment": ent})  # the proton balance on: conserved, converged
    assert with_balance.mass_balance_error <= 1e-9


def test_bad_efficiency_input_is_one_line() -> None:
    with pytest.raises(InputError, match=r"efficiency: .*mixer_volume \(L\) is missing"):
        load_spec(two_stage(1.0, 1.0, 1.0, 0.1, efficiency={"rate_constant": 5.0}))
    with pytest.raises(InputError, match="either a fixed Murphree efficiency"):
        load_spec(
            two_stage(1.0, 1.0, 1.0, 0.1, efficiency={"rate_constant": 5.0, "mixer_volume": 1, "scrub": 0.9})
        )
    with pytest.raises(InputError, match=r"entrainment\.extraction\.aqueous_in_organic"):
        load_spec(two_stage(1.0, 1.0, 1.0, 0.1, entrainment={"extraction": {"aqueous_in_organic": -0.1}}))


def test_a_dynamic_run_with_kinetic_efficiency_ends_at_the_simulate_steady_state() -> None:
    from mine2magnet.separation import simulate_dynamic

    spec = {
        "components": ["Pr", "Nd"],
        "model": {
            "type": "constant-distribution",
            "distribution_ratios": {"extraction": {"Pr": 0.8, "Nd": 1.6}, "scrub": {"Pr": 0.8, "Nd": 1.6}},
        },
        "stages": {"extraction": 4, "scrub": 3},
        "feed": {"stage": 4, "volume_flow": 1.0, "concentration": {"Pr": 0.1, "Nd": 0.1}},
        "organic": {"volume_flow": 1.5},
        "scrub": {"volume_flow": 0.5},
        "efficiency": {"rate_constant": 20.0, "mixer_volume": 0.2},
        "dynamics": {"mixer_volume": 0.2, "tolerance": 1e-10, "rtol": 1e-8},
    }
    run = simulate_dynamic(spec)
    steady = simulate(spec)
    assert run.steady_state_deviation is not None and run.steady_state_deviation <= 1e-8
    for outlet, flow in steady.outlets.items():
        assert np.abs(run.outlets[outlet][-1] - flow).max() <= 1e-8 * steady.feed.sum()
    with pytest.raises(InputError, match=r"entrainment"):  # not with Murphree stages (yet)
        simulate_dynamic({**spec, "entrainment": {"scrub": {"organic_in_aqueous": 0.01}}})


ENTRAINED = {
    "components": ["Pr", "Nd"],
    "model": {
        "type": "constant-distribution",
        "distribution_ratios": {
            "extraction": {"Pr": 0.8, "Nd": 1.6},
            "scrub": {"Pr": 0.8, "Nd": 1.6},
            "strip": {"Pr": 0.05, "Nd": 0.03},
        },
    },
    "stages": {"extraction": 4, "scrub": 3, "strip": 2},
    "feed": {"stage": 4, "volume_flow": 1.0, "concentration": {"Pr": 0.1, "Nd": 0.1}},
    "organic": {"volume_flow": 1.5},
    "scrub": {"volume_flow": 0.5},
    "strip": {"volume_flow": 0.4},
    "entrainment": {
        "extraction": {"aqueous_in_organic": 0.01, "organic_in_aqueous": 0.02},
        "scrub": {"aqueous_in_organic": 0.005, "organic_in_aqueous": 0.01},
        "strip": {"aqueous_in_organic": 0.02, "organic_in_aqueous": 0.005},
    },
}


def test_a_dynamic_run_with_entrainment_ends_at_the_simulate_steady_state() -> None:
    from mine2magnet.separation import simulate_dynamic

    spec = {
        **ENTRAINED,
        "dynamics": {
            "mixer_volume": 0.3,
            "settler_volume": {"aqueous": 0.4, "organic": 0.6},
            "settler_cells": 2,
            "tolerance": 1e-10,
            "rtol": 1e-8,
        },
    }
    run = simulate_dynamic(spec)
    steady = simulate(spec)
    inflow = float(steady.feed.sum())
    assert run.steady_state_deviation is not None and run.steady_state_deviation <= 1e-8
    for outlet, flow in steady.outlets.items():
        assert np.abs(run.outlets[outlet][-1] - flow).max() <= 1e-8 * inflow, outlet
    final = run.profiles[float(run.times[-1])]
    assert np.abs(final.aqueous - steady.aqueous).max() <= 1e-8 * inflow
    assert np.abs(final.organic - steady.organic).max() <= 1e-8 * inflow
    assert run.mass_balance_error <= 1e-12


def test_species_are_conserved_over_time_with_entrainment() -> None:
    """Holdup change = metal in - metal out (trapezoids on a fine grid), a feed step, entrainment on."""
    from mine2magnet.separation import simulate_dynamic

    spec = {
        **ENTRAINED,
        "dynamics": {
            "mixer_volume": 0.3,
            "settler_volume": {"aqueous": 0.4, "organic": 0.6},
            "settler_cells": 2,
            "until": 20.0,
            "output_every": 0.005,
            "rtol": 1e-10,
            "events": [{"at": 8.0, "feed": {"concentration": {"Pr": 0.15}}}],
        },
    }
    run = simulate_dynamic(spec)
    t = run.times
    out = sum(run.outlets[name] for name in ("raffinate", "strip_liquor", "stripped_organic"))
    out_total = (0.5 * (out[1:] + out[:-1]) * np.diff(t)[:, None]).sum(0)
    metal_in = np.array([0.1 * 8.0 + 0.15 * 12.0, 0.1 * 20.0])
    change = run.inventory[-1] - run.inventory[0]
    assert np.abs(change - (metal_in - out_total)).max() <= 1e-5 * metal_in.max()
    assert run.mass_balance_error <= 1e-13
    with pytest.raises(InputError, match=r"entrainment\.extraction"):
        simulate_dynamic(
            {
                "components": ["Pr", "Nd"],
                "model": {
                    "type": "loaded-separation-factor",
                    "separation_factors": {"Pr": 1.0, "Nd": 1.5},
                },
                "stages": {"extraction": 3, "scrub": 3},
                "feed": {"stage": 3, "flow": {"Pr": 0.3, "Nd": 0.7}},
                "organic": {"ree_flow": 1.0},
                "scrub": {"ree_flow": 0.4},
                "entrainment": {"extraction": {"aqueous_in_organic": 0.01}},
                "dynamics": {"mixer_volume": 1.0},
            }
        )


def test_physical_entrainment_against_the_linear_cascade_at_the_same_distribution_ratios() -> None:
    """empirical-pH without a proton balance: D_k = 10^(a pH_k + b) at the acid's own profile, which with
    entrainment recirculates: (Va + ea Vo) h_k - Va h_k+1 - ea Vo h_k-1 = acid in (checked from the result's
    pH), and the metal then solves the linear cascade with entrainment at those D (a separate solver)."""
    from mine2magnet.separation.solvers.steady.linear_cascade import outlet_streams, solve_linear_cascade

    coef = {"Pr": (3.0, -4.0), "Nd": (3.0, -3.7)}
    ea, eo, Va, Vo, n = 0.01, 0.02, 1.0, 1.2, 6
    spec = {
        "components": ["Pr", "Nd"],
        "model": {
            "type": "empirical-ph",
            "coefficients": {c: {"a": a, "b": b} for c, (a, b) in coef.items()},
            "proton_balance": False,
        },
        "stages": {"extraction": n},
        "feed": {"stage": n, "volume_flow": Va, "concentration": {"Pr": 0.01, "Nd": 0.01}, "pH": 1.2},
        "organic": {"volume_flow": Vo},
        "entrainment": {"extraction": {"aqueous_in_organic": ea, "organic_in_aqueous": eo}},
    }
    r = simulate(spec)
    h = 10.0**-r.pH
    acid_in = np.zeros(n)
    acid_in[-1] = 10.0**-1.2 * Va
    up = ea * Vo
    resid = (Va + up) * h - np.append(Va * h[1:], 0.0) - np.insert(up * h[:-1], 0, 0.0) - acid_in
    assert np.abs(resid).max() <= 1e-12 * acid_in.sum()
    D = np.array([[10.0 ** (a * ph + b) for ph in r.pH] for a, b in coef.values()])
    feed = np.zeros((2, n))
    feed[:, -1] = [0.01 * Va, 0.01 * Va]
    a, o = solve_linear_cascade(D, Va, Vo, feed, np.zeros(2), np.zeros(2), 1.0, None, ea, eo)
    np.testing.assert_allclose(r.aqueous, a.T, rtol=1e-9)
    np.testing.assert_allclose(r.organic, o.T, rtol=1e-9)
    down, loaded = outlet_streams(a, o, Va, Vo, ea, eo)
    np.testing.assert_allclose(r.outlets["raffinate"], down, rtol=1e-9)
    np.testing.assert_allclose(r.outlets["loaded_organic"], loaded, rtol=1e-9)


@settings(max_examples=8, deadline=None)
@given(
    ent=st.lists(st.floats(0.0, 0.01), min_size=6, max_size=6),
    sap=st.sampled_from([0.0, 0.2]),
)
def test_saponified_mass_action_with_entrainment_conserves_metal_and_protons(ent, sap) -> None:
    """P507, 12 + 8 stages and a strip: metal in = metal out (outlets with what they entrain) and the proton
    balance closes (simulate checks both to 1e-9; the metal here from the outlets); ~0 entrainment: ideal."""
    comps = ["La", "Ce", "Pr"]
    spec = {
        "components": comps,
        "model": {"type": "mass-action", "extractant": "P507", "concentration": 0.5, "saponification": sap},
        "stages": {"extraction": 12, "scrub": 8, "strip": 3},
        "feed": {"stage": 12, "volume_flow": 1.0, "pH": 2.0, "concentration": {c: 0.05 for c in comps}},
        "organic": {"volume_flow": 1.5},
        "scrub": {"volume_flow": 0.3, "acid": 1.0},
        "strip": {"volume_flow": 0.5, "acid": 4.0},
        "entrainment": {
            "extraction": {"aqueous_in_organic": ent[0], "organic_in_aqueous": ent[1]},
            "scrub": {"aqueous_in_organic": ent[2], "organic_in_aqueous": ent[3]},
            "strip": {"aqueous_in_organic": ent[4], "organic_in_aqueous": ent[5]},
        },
    }
    r = simulate(spec)
    out = sum(r.outlets[t] for t in r.terminal_outlets)
    np.testing.assert_allclose(out, r.feed, rtol=1e-9)
    assert r.mass_balance_error <= 1e-9
    tiny = {
        s: {"aqueous_in_organic": 1e-12, "organic_in_aqueous": 1e-12}
        for s in ("extraction", "scrub", "strip")
    }
    ideal = simulate({k: v for k, v in spec.items() if k != "entrainment"})
    near = simulate({**spec, "entrainment": tiny})
    np.testing.assert_allclose(near.outlets["raffinate"], ideal.outlets["raffinate"], rtol=1e-6, atol=1e-12)
