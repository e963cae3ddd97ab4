"""The physical models (empirical-ph, mass-action) with their proton and free-extractant balances.

Independent references: a plain damped fixed point written here (metal cascade by a scalar Thomas algorithm at
a fixed pH profile, then the proton balance stepped stage by stage from the top, geometric damping), which
converges on easy cases; and closed balances (metal, protons, extractant) that any solution must satisfy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mine2magnet.errors import InputError
from mine2magnet.separation import simulate


def _thomas(lo, d, up, r):
    n = len(d)
    c = [0.0] * n
    g = [0.0] * n
    c[0] = up[0] / d[0]
    g[0] = r[0] / d[0]
    for k in range(1, n):
        den = d[k] - lo[k] * c[k - 1]
        c[k] = up[k] / den if k < n - 1 else 0.0
        g[k] = (r[k] - lo[k] * g[k - 1]) / den
    x = [0.0] * n
    x[-1] = g[-1]
    for k in range(n - 2, -1, -1):
        x[k] = g[k] - c[k] * x[k + 1]
    return x


def fixed_point_reference(a, b, z, feed_conc, feed_ph, n, va, vo, iterations=20000):
    """Extraction-only cascade, aqueous feed at stage n, log10 D = a pH + b, proton balance, damped."""
    C = len(a)
    h = [10.0**-feed_ph] * n
    acid = 10.0**-feed_ph * va
    for _ in range(iterations):
        E = [[10.0 ** (a[i] * -math.log10(h[k]) + b[i]) * vo / va for k in range(n)] for i in range(C)]
        flows = []
        for i in range(C):
            lo = [0.0] + [-E[i][k - 1] for k in range(1, n)]
            d = [1.0 + E[i][k] for k in range(n)]
            up = [-1.0] * n
            r = [0.0] * n
            r[-1] = feed_conc[i] * va
            flows.append(_thomas(lo, d, up, r))
        # proton balance from the top: Va h_k = Va h_{k+1} + acid_k + sum_i z_i (o_ik - o_i,k-1)
        new = [0.0] * n
        hv_above = 0.0
        for k in range(n - 1, -1, -1):
            released = sum(
                z[i] * (E[i][k] * flows[i][k] - (E[i][k - 1] * flows[i][k - 1] if k > 0 else 0.0))
                for i in range(C)
            )
            hv = hv_above + (acid if k == n - 1 else 0.0) + released
            new[k] = hv / va
            hv_above = hv
        change = max(abs(math.log(nw / old)) for nw, old in zip(new, h, strict=True))
        h = [math.sqrt(nw * old) for nw, old in zip(new, h, strict=True)]
        if change < 1e-14:
            break
    raff = [flows[i][0] for i in range(C)]
    loaded = [E[i][-1] * flows[i][-1] for i in range(C)]
    return raff, loaded, -math.log10(h[0])


def lace_spec(**over):
    spec = {
        "components": ["La", "Ce"],
        "model": {
            "type": "empirical-ph",
            "coefficients": {"La": {"a": 1.2, "b": -2.5}, "Ce": {"a": 1.4, "b": -2.4}},
        },
        "stages": {"extraction": 6},
        "feed": {
            "stage": 6,
            "phase": "aqueous",
            "volume_flow": 1.0,
            "concentration": {"La": 0.05, "Ce": 0.05},
            "pH": 1.8,
        },
        "organic": {"volume_flow": 1.5},
    }
    spec.update(over)
    return spec


def test_empirical_ph_matches_damped_fixed_point():
    res = simulate(lace_spec())
    raff, loaded, ph1 = fixed_point_reference(
        [1.2, 1.4], [-2.5, -2.4], [3, 3], [0.05, 0.05], 1.8, 6, 1.0, 1.5
    )
    for i in range(2):
        assert res.outlets["raffinate"][i] == pytest.approx(raff[i], rel=1e-9)
        assert res.outlets["loaded_organic"][i] == pytest.approx(loaded[i], rel=1e-9)
    assert res.outlet_pH["raffinate"] == pytest.approx(ph1, abs=1e-9)


def test_proton_balance_closes_and_d_follows_the_ph_law():
    res = simulate(lace_spec())
    d = res.to_dict()
    # protons out with the raffinate = acid in + 3 per extracted ion
    h_out = 10.0 ** -d["outlets"]["raffinate"]["pH"] * 1.0
    extracted = sum(d["outlets"]["loaded_organic"]["flow"].values())
    assert h_out == pytest.approx(10.0**-1.8 + 3.0 * extracted, rel=1e-10)
    assert d["reagents"]["protons_released_mol_h"] == pytest.approx(3.0 * extracted, rel=1e-10)
    for row in d["stages"]:
        for comp, (a, b) in {"La": (1.2, -2.5), "Ce": (1.4, -2.4)}.items():
            D = (row["organic"][comp] / 1.5) / (row["aqueous"][comp] / 1.0)
            assert math.log10(D) == pytest.approx(a * row["pH"] + b, abs=1e-9)


STIFF = ["La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Y"]


@pytest.mark.parametrize("b0", [-2.0, -1.0, 1.0])
def test_stiff_twelve_components_sixty_stages_cold_start(b0):
    """The issue's stiff case: 12 components at 0.01 mol/L, 60 stages, feed pH 1.5, raffinate below pH 1."""
    spec = {
        "components": STIFF,
        "model": {
            "type": "empirical-ph",
            "coefficients": {c: {"a": 3.0, "b": b0 + 0.25 * i} for i, c in enumerate(STIFF)},
        },
        "stages": {"extraction": 60},
        "feed": {"stage": 60, "volume_flow": 1.0, "concentration": {c: 0.01 for c in STIFF}, "pH": 1.5},
        "organic": {"volume_flow": 1.0},
    }
    res = simulate(spec)
    assert res.converged
    assert res.mass_balance_error <= 1e-9
    assert res.outlet_pH["raffinate"] < 1.0
    # electroneutral raffinate: chloride (acid + 3 x metal fed) = H+ + 3 x metal left
    cl = 10.0**-1.5 + 3 * 0.12
    assert 10.0 ** -res.outlet_pH["raffinate"] + 3 * res.outlets["raffinate"].sum() == pytest.approx(
        cl, rel=1e-10
    )
    assert np.all(res.aqueous >= 0) and np.all(res.organic >= 0)


def test_mass_action_with_free_extractant_and_saponification():
    kex = {"Pr": -1.0, "Nd": -0.8}
    base = {
        "components": ["Pr", "Nd"],
        "model": {
            "type": "mass-action",
            "extractant": {"name": "test", "log10_kex": kex, "exponent": 3, "stoichiometry": 3},
            "concentration": 0.5,
        },
        "stages": {"extraction": 8, "scrub": 4},
        "feed": {"stage": 8, "volume_flow": 1.0, "concentration": {"Pr": 0.1, "Nd": 0.3}, "pH": 2.0},
        "organic": {"volume_flow": 2.0},
        "scrub": {"volume_flow": 0.3, "acid": 0.5},
    }
    res = simulate(base)
    d = res.to_dict()
    T = 0.5
    for row in d["stages"]:
        y = {c: row["organic"][c] / 2.0 for c in ("Pr", "Nd")}
        free = T - 3 * sum(y.values())
        assert row["loading"] == pytest.approx(1 - free / T, rel=1e-9, abs=1e-12)
        vaq = 1.3 if row["stage"] <= 8 else 0.3
        h = 10.0 ** -row["pH"]
        for c in ("Pr", "Nd"):
            D = y[c] / (row["aqueous"][c] / vaq)
            assert math.log10(D) == pytest.approx(kex[c] + 3 * math.log10(free) - 3 * math.log10(h), abs=1e-8)
    assert res.mass_balance_error <= 1e-9
    # a saponified organic neutralises acid: higher raffinate pH, more extraction
    sap = dict(base, model=dict(base["model"], saponification=0.3))
    res2 = simulate(sap)
    assert res2.outlet_pH["raffinate"] > res.outlet_pH["raffinate"]
    assert res2.outlets["loaded_organic"].sum() > res.outlets["loaded_organic"].sum()
    assert res2.reagents["base_mol_h"] == pytest.approx(0.3 * 2 * 0.5 * 2.0)


def test_too_much_base_is_an_input_error():
    spec = {
        "components": ["Pr", "Nd"],
        "model": {
            "type": "mass-action",
            "extractant": {"log10_kex": {"Pr": -1.0, "Nd": -0.8}},
            "concentration": 0.5,
            "saponification": 0.9,
        },
        "stages": {"extraction": 4},
        "feed": {"stage": 4, "volume_flow": 1.0, "concentration": {"Pr": 0.01, "Nd": 0.01}, "pH": 2.0},
        "organic": {"volume_flow": 2.0},
    }
    with pytest.raises(InputError, match="saponification"):
        simulate(spec)


def test_strip_section_recovers_the_loaded_metal():
    spec = lace_spec(stages={"extraction": 6, "strip": 4}, strip={"volume_flow": 0.5, "acid": 2.0})
    res = simulate(spec)
    strip = res.outlets["strip_liquor"]
    loaded = res.outlets["loaded_organic"]
    assert strip.sum() / loaded.sum() > 0.99
    total = res.outlets["raffinate"] + strip + res.outlets["stripped_organic"]
    np.testing.assert_allclose(total, res.feed, rtol=1e-10)
    assert res.outlet_pH["strip_liquor"] < 0.5


def test_mass_action_with_shipped_p507_parameters():
    """B2's P507 set (one sourced Kex, the rest from sourced separation factors), saponified, with scrub."""
    spec = {
        "components": ["Pr", "Nd"],
        "model": {"type": "mass-action", "extractant": "P507", "concentration": 0.5, "saponification": 0.36},
        "stages": {"extraction": 5, "scrub": 5},
        "feed": {"stage": 5, "volume_flow": 1.0, "concentration": {"Pr": 0.1, "Nd": 0.3}, "pH": 2.0},
        "organic": {"volume_flow": 2.5},
        "scrub": {"volume_flow": 0.4, "acid": 1.0},
    }
    res = simulate(spec)
    assert res.mass_balance_error <= 1e-9
    # Nd is the more extractable: enriched in the loaded organic, depleted in the raffinate
    assert res.purity("loaded_organic")["Nd"] > 0.75 > res.purity("raffinate")["Nd"]


# ------------------------------------------------------------------ sulfate media (HSO4- <=> H+ + SO4 2-)


def _sulfate_problem(comps, a, b, conc, acid, sulfate, stages, vo=1.0, pka=1.99):
    """An empirical-ph cascade with an aqueous feed at the last stage carrying acid (total acidic protons,
    mol/L) and sulfate (mol/L); built directly for the stage-wise solver."""
    from mine2magnet.separation.equilibrium.distribution import EmpiricalPh
    from mine2magnet.separation.solvers.steady.stagewise import StagewiseProblem

    C = len(comps)
    feed = np.zeros((stages, C))
    feed[-1] = conc
    acid_in = np.zeros(stages)
    acid_in[-1] = acid
    sul = np.zeros(stages)
    sul[-1] = sulfate
    model = EmpiricalPh(
        a=np.asarray(a, float),
        b=np.asarray(b, float),
        a1=np.zeros(C),
        b1=np.zeros(C),
        constant=np.full(C, np.inf),
    )
    return StagewiseProblem(
        np.ones(stages), np.full(stages, vo), vo, feed, np.zeros((stages, C)), np.zeros(C), np.zeros(C),
        acid_in, np.zeros(stages), np.full(C, 3.0), model, True, sul, 10.0**-pka,
    )  # fmt: skip


def test_sulfate_stiff_twelve_components_sixty_stages_cold_start():
    """The issue's stiff case (12 x 0.01 mol/L, 60 stages) in 0.5 mol/L sulfate, 0.5 mol/L acid: converges
    cold and closes both balances; every stage's aqueous carries the equivalents fed (total acid + 3 x metal
    fed, the non-extracting anions' charge): total acidic protons [H+] + [HSO4-] (from the free [H+] by the
    equilibrium) + 3 x metal left."""
    from mine2magnet.separation.solvers.steady.stagewise import solve_stagewise, total_acidity

    n = len(STIFF)
    pb = _sulfate_problem(STIFF, [3.0] * n, [-1.0 + 0.25 * i for i in range(n)], [0.01] * n, 0.5, 0.5, 60)
    sol = solve_stagewise(pb)
    assert sol.mass_balance_error < 1e-9 and sol.proton_balance_error < 1e-9
    h_total = total_acidity(sol.h, 0.5, 10.0**-1.99)
    assert h_total + 3 * sol.c.sum(1) == pytest.approx(np.full(60, 0.5 + 3 * 0.12), rel=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 4),
    stages=st.integers(1, 15),
    sulfate=st.floats(0.01, 1.5),
    acid=st.floats(0.01, 1.0),
    vo=st.floats(0.3, 3.0),
    seed=st.integers(0, 10_000),
)
def test_sulfate_cascades_close_balances_and_buffer(n, stages, sulfate, acid, vo, seed):
    """Random sulfate cascades close the metal and proton balances; the same total acid with more sulfate
    gives a less acidic raffinate (sulfate takes up protons), hence at least as much extraction (a > 0)."""
    from mine2magnet.separation.solvers.steady.stagewise import StagewiseProblem, solve_stagewise

    rng = np.random.default_rng(seed)
    comps = STIFF[:n]
    a = rng.uniform(0.5, 3.0, n)
    b = rng.uniform(-3.0, 1.0, n)
    conc = rng.uniform(1e-3, 0.05, n)
    pb = _sulfate_problem(comps, a, b, conc, acid, sulfate, stages, vo)
    sol = solve_stagewise(pb)
    assert sol.mass_balance_error < 1e-9 and sol.proton_balance_error < 1e-9
    more = solve_stagewise(StagewiseProblem(**{**pb.__dict__, "sulfate_in": pb.sulfate_in * 2.0}))
    assert more.h[0] <= sol.h[0] * (1 + 1e-9)
    assert (more.c[0] <= sol.c[0] * (1 + 1e-7) + 1e-300).all()


def test_zero_sulfate_is_no_sulfate():
    from mine2magnet.separation.solvers.steady.stagewise import StagewiseProblem, solve_stagewise

    pb = _sulfate_problem(["La", "Ce"], [1.2, 1.4], [-2.5, -2.4], [0.05, 0.05], 10**-1.8, 0.0, 6, vo=1.5)
    none = solve_stagewise(StagewiseProblem(**{**pb.__dict__, "sulfate_in": None}))
    zero = solve_stagewise(pb)
    np.testing.assert_array_equal(zero.c, none.c)
    np.testing.assert_array_equal(zero.h, none.h)
