"""Counter-ion saponification along the cascade (issue 16 item 3): the saponified extractant's Na+/NH4+ as a
species of the mass-action model, exchanged stage by stage.

References independent of the solver: a two-stage cascade whose equations are written out here and solved
with SciPy; the limit of a counter-ion the organic does not hold (the legacy model, base released in stage 1);
conservation of rare earths, counter-ion, protons and extractant over random cascades (hypothesis).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import root

from mine2magnet.errors import InputError
from mine2magnet.separation import design, load_spec, simulate, simulate_dynamic

LOG10_KEX = {"Pr": -1.98, "Nd": -1.82}


def spec(
    saponification: float = 0.2,
    log10_k: float | None = -4.5,
    ion: str = "Na",
    extraction: int = 2,
    scrub: int = 0,
    feed_ph: float = 3.0,
    organic: float = 1.0,
    scrub_flow: float = 0.2,
    scrub_acid: float = 0.5,
    counter_ion: bool = True,
) -> dict:
    model = {
        "type": "mass-action",
        "extractant": {"log10_kex": dict(LOG10_KEX), "exponent": 3, "stoichiometry": 3},
        "concentration": 0.5,
        "saponification": saponification,
    }
    if counter_ion:
        model["counter_ion"] = {"ion": ion, **({"log10_k": log10_k} if log10_k is not None else {})}
    out = {
        "components": ["Pr", "Nd"],
        "model": model,
        "stages": {"extraction": extraction, "scrub": scrub},
        "feed": {
            "stage": extraction,
            "volume_flow": 1.0,
            "concentration": {"Pr": 0.05, "Nd": 0.15},
            "pH": feed_ph,
        },
        "organic": {"volume_flow": organic},
    }
    if scrub:
        out["scrub"] = {"volume_flow": scrub_flow, "acid": scrub_acid}
    return out


def _two_stage_reference(saponification: float, log10_k: float, feed_ph: float) -> dict[str, np.ndarray]:
    """The two-stage cascade's equations, written out and solved with SciPy (hybrid Powell).

    Stage k = 1, 2 (the feed enters stage 2, the organic stage 1), aqueous and organic 1 L/h, T = 0.5 mol/L
    dimer. Unknowns per stage: ln c_Pr, ln c_Nd, ln c_Na (aqueous, mol/L), ln [H+], ln phi (free dimer
    fraction). Equations: the metal balance of each species, the proton balance (each cation of charge z that
    enters the organic releases z H+), the extractant balance phi + (3 y_Pr + 3 y_Nd + y_Na)/T = 1, with
    y_RE = Kex (T phi)^3 / h^3 c_RE and y_Na = K (T phi) / h c_Na.
    """
    T, Va, Vo = 0.5, 1.0, 1.0
    kex = np.array([10.0 ** LOG10_KEX["Pr"], 10.0 ** LOG10_KEX["Nd"]])
    k_na = 10.0**log10_k
    feed = np.array([0.05, 0.15, 0.0])  # mol/h into stage 2
    org_in = np.array([0.0, 0.0, 2.0 * saponification * T])  # mol/L on the organic entering stage 1
    acid_feed = 10.0**-feed_ph * 1.0  # mol/h of H+ with the feed
    z = np.array([3.0, 3.0, 1.0])
    nu = np.array([3.0, 3.0, 1.0])

    def unpack(x):
        v = np.exp(x.reshape(2, 5))
        return v[:, :3], v[:, 3], v[:, 4]  # c (2, 3), h (2,), phi (2,)

    def organic(c, h, phi):
        d = np.empty_like(c)
        d[:, :2] = kex * (T * phi[:, None]) ** 3 / h[:, None] ** 3
        d[:, 2] = k_na * T * phi / h
        return d * c

    def equations(x):
        c, h, phi = unpack(x)
        y = organic(c, h, phi)
        r = []
        # metal balances: stage 1 (organic inlet below), stage 2 (feed, no aqueous inlet above)
        r.extend(Va * c[0] + Vo * y[0] - Va * c[1] - Vo * org_in)
        r.extend(Va * c[1] + Vo * y[1] - Vo * y[0] - feed)
        # protons
        r.append(Va * h[1] - acid_feed - (z * (Vo * y[1] - Vo * y[0])).sum())
        r.append(Va * h[0] - Va * h[1] - (z * (Vo * y[0] - Vo * org_in)).sum())
        # extractant
        r.extend(phi + (nu * y).sum(axis=1) / T - 1.0)
        return np.array(r)

    # Levenberg-Marquardt from a few plain guesses (feed-like concentrations, a range of pH and free
    # extractant), then Powell's hybrid method to polish: the first that closes every equation to 1e-14
    best = None
    for ph, phi0 in itertools.product((feed_ph, feed_ph - 1.0, feed_ph + 1.0, 1.0), (0.5, 0.2, 0.8)):
        guess = np.log(np.array([[0.05, 0.15, 2.0 * saponification * T, 10.0**-ph, phi0]] * 2)).ravel()
        with np.errstate(all="ignore"):
            first = root(equations, guess, method="lm", options={"xtol": 1e-14, "maxiter": 20000})
            sol = root(equations, first.x, method="hybr", options={"xtol": 1e-14})
        if np.all(np.isfinite(sol.x)) and np.max(np.abs(equations(sol.x))) < 1e-14:
            best = sol
            break
    assert best is not None, "the reference equations were not solved"
    c, h, phi = unpack(best.x)
    return {"c": c, "y": organic(c, h, phi), "h": h, "phi": phi}


@pytest.mark.parametrize(("saponification", "log10_k", "feed_ph"), [(0.2, -3.0, 3.0), (0.35, -1.5, 4.0)])
def test_two_stages_match_the_hand_written_equations(saponification, log10_k, feed_ph):
    ref = _two_stage_reference(saponification, log10_k, feed_ph)
    r = simulate(spec(saponification, log10_k, feed_ph=feed_ph))
    ion = r.to_dict()["counter_ion"]
    aq = np.column_stack([r.aqueous, ion["stages"]["aqueous"]])  # mol/h with 1 L/h: mol/L
    org = np.column_stack([r.organic, ion["stages"]["organic"]])
    np.testing.assert_allclose(aq, ref["c"], rtol=1e-8, atol=0)
    np.testing.assert_allclose(org, ref["y"], rtol=1e-8, atol=0)
    np.testing.assert_allclose(10.0**-r.pH, ref["h"], rtol=1e-8, atol=0)
    # the dimers held by the counter-ion and by the rare earths, beside the free ones, make the whole
    np.testing.assert_allclose(
        np.array(ion["stages"]["fraction_of_extractant"]) + r.loading, 1.0 - ref["phi"], rtol=1e-8
    )
    # the counter-ion splits between the phases in both stages: a real exchange, not the limit K -> 0
    assert (ref["y"][:, 2] / ref["c"][:, 2]).min() > 3e-3


def test_saponification_raises_the_raffinate_ph():
    none = simulate(spec(saponification=0.0, feed_ph=2.5, extraction=4))
    for sap in (0.1, 0.2, 0.4):
        sapon = simulate(spec(saponification=sap, feed_ph=2.5, extraction=4))
        assert sapon.outlet_pH["raffinate"] > none.outlet_pH["raffinate"] + 0.05
        # and more metal is extracted: the base takes up the protons the extraction releases
        assert sapon.outlets["loaded_organic"].sum() > none.outlets["loaded_organic"].sum()


def test_zero_saponification_is_the_model_without_counter_ion_exactly():
    for kwargs in ({}, {"extraction": 4, "scrub": 3}):
        with_ion = simulate(spec(saponification=0.0, **kwargs)).to_dict()
        without = simulate(spec(saponification=0.0, counter_ion=False, **kwargs)).to_dict()
        assert with_ion == without
        assert "counter_ion" not in with_ion


def test_a_counter_ion_the_organic_does_not_hold_is_the_base_released_in_stage_one():
    """K -> 0: every cation leaves the organic in stage 1, what the legacy model adds there as base."""
    for kwargs in ({}, {"extraction": 5, "scrub": 3}):
        legacy = simulate(spec(saponification=0.3, counter_ion=False, **kwargs))
        held_not = simulate(spec(saponification=0.3, log10_k=-13.0, **kwargs))
        np.testing.assert_allclose(held_not.aqueous, legacy.aqueous, rtol=1e-7, atol=1e-14)
        np.testing.assert_allclose(held_not.organic, legacy.organic, rtol=1e-7, atol=1e-14)
        np.testing.assert_allclose(held_not.pH, legacy.pH, rtol=1e-7)
        assert held_not.reagents["base_mol_h"] == pytest.approx(legacy.reagents["base_mol_h"], rel=1e-15)


def test_the_result_reports_the_base_and_the_raffinate_load():
    r = simulate(spec(saponification=0.3, extraction=4, scrub=2))
    block = r.to_dict()["counter_ion"]
    na_in = 2 * 0.3 * 0.5 * 1.0  # mol/h: 2 s T x organic L/h
    assert block["ion"] == "Na" and block["base"]["name"] == "NaOH"
    assert block["base"]["mol_h"] == pytest.approx(na_in, rel=1e-15)
    assert block["base"]["kg_h"] == pytest.approx(na_in * 39.997e-3, rel=1e-12)
    # kg NaOH per kg of rare-earth oxide fed: Pr6O11 and Nd2O3 per mol of element
    reo = 0.05 * (6 * 140.90766 + 11 * 15.999) / 6 / 1000 + 0.15 * (2 * 144.242 + 3 * 15.999) / 2 / 1000
    assert block["base"]["kg_per_kg_reo_fed"] == pytest.approx(na_in * 39.997e-3 / reo, rel=1e-4)
    shares = sum(o["share"] for o in block["outlets"].values() if o is not None)
    assert shares == pytest.approx(1.0, abs=1e-9)
    raff = block["outlets"]["raffinate"]
    assert raff["concentration"] == pytest.approx(raff["mol_h"] / 1.2, rel=1e-12)  # feed 1 + scrub 0.2 L/h
    nh4 = simulate(spec(saponification=0.3, ion="NH4", extraction=4, scrub=2)).to_dict()["counter_ion"]
    assert nh4["base"]["name"] == "NH3"
    assert nh4["base"]["kg_h"] == pytest.approx(na_in * 17.031e-3, rel=1e-12)


def test_the_shipped_constant_is_used_when_none_is_given():
    s = spec(saponification=0.3, log10_k=None)
    s["model"]["extractant"] = "P507"
    block = simulate(s).to_dict()["counter_ion"]
    assert block["log10_k"] == -5.0 and block["log10_k_source"] == "mine2magnet-assumption"


def test_bad_counter_ion_input_is_refused():
    with pytest.raises(InputError, match=r"below 0\.5"):
        load_spec(spec(saponification=0.5))
    with pytest.raises(InputError, match="log10_k"):
        simulate(spec(saponification=0.2, log10_k=None))  # explicit parameters, no constant
    s = spec(saponification=0.2)
    s["components"] = ["Pr", "Nd", "Na"]
    s["feed"]["concentration"]["Na"] = 0.01
    s["model"]["extractant"]["log10_kex"]["Na"] = -5.0
    with pytest.raises(InputError, match="both a component and the counter-ion"):
        simulate(s)
    bad = spec(saponification=0.2)
    bad["model"]["counter_ion"]["ion"] = "K"
    with pytest.raises(InputError, match="counter_ion"):
        load_spec(bad)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    extraction=st.integers(2, 6),
    scrub=st.integers(0, 3),
    share=st.floats(0.05, 0.9),
    log10_k=st.floats(-7.0, -3.0),
    feed_ph=st.floats(1.5, 4.0),
    organic=st.floats(0.5, 3.0),
)
def test_species_are_conserved(extraction, scrub, share, log10_k, feed_ph, organic):
    """Rare earths, counter-ion, protons and extractant balance over random saponified cascades.

    The saponification brings ``share`` of the cations the aqueous can take up (its acid plus three per rare
    earth fed): beyond that the organic would leave with its cation and the aqueous turn neutral, where the
    model (no hydrolysis, no water equilibrium) does not apply.
    """
    acid = 10.0**-feed_ph + (0.2 * 0.5 if scrub else 0.0)
    sap = min(share * (acid + 3 * 0.2) / organic, 0.45)  # 2 s T x organic = cations in; 2 T = 1 mol/L
    s = spec(sap, log10_k, extraction=extraction, scrub=scrub, feed_ph=feed_ph, organic=organic)
    r = simulate(s)
    d = r.to_dict()
    block = d["counter_ion"]
    feed = np.array([0.05, 0.15])
    # rare earths: every component's feed leaves in the outlets
    out = sum(np.array(list(o["flow"].values())) for o in d["outlets"].values())
    np.testing.assert_allclose(out, feed, rtol=1e-9)
    # counter-ion: what the organic brings leaves in the outlets
    na_in = 2 * sap * 0.5 * organic
    assert sum(o["mol_h"] for o in block["outlets"].values()) == pytest.approx(na_in, rel=1e-9)
    # protons: the acid in, plus what the cations entering the organic release, leaves with the raffinate
    va = 1.0 + (0.2 if scrub else 0.0)
    loaded = d["outlets"]["loaded_organic"]["flow"]
    released = 3 * (loaded["Pr"] + loaded["Nd"]) + block["outlets"]["loaded_organic"]["mol_h"] - na_in
    h_out = 10.0 ** -d["outlets"]["raffinate"]["pH"] * va
    throughput = acid + na_in + 3 * 0.2
    assert h_out == pytest.approx(acid + released, abs=1e-9 * throughput)
    # extractant: in each stage the free dimers that the rare earths' equilibrium implies, plus those the
    # rare earths and the counter-ion hold, make the whole
    frac = np.array(block["stages"]["fraction_of_extractant"])
    assert np.all(frac >= 0) and np.all(r.loading >= 0) and np.all(frac + r.loading <= 1 + 1e-12)
    vo = organic
    va_k = np.where(np.arange(extraction + scrub) < extraction, va, 0.2)
    h = 10.0**-r.pH
    for k in range(extraction + scrub):
        c = r.aqueous[k, 1] / va_k[k]
        y = r.organic[k, 1] / vo
        if c > 1e-12 and y > 1e-12:
            free = (y / c * h[k] ** 3 / 10.0 ** LOG10_KEX["Nd"]) ** (1 / 3) / 0.5
            assert free == pytest.approx(1.0 - frac[k] - r.loading[k], rel=1e-7)
    assert math.isfinite(block["base"]["kg_per_kg_reo_fed"])


def test_the_dynamics_end_at_the_steady_state_with_the_counter_ion():
    """A start-up from fresh stages reaches simulate's steady state, cation included, and conserves it."""
    s = spec(saponification=0.3, log10_k=-3.0, extraction=3, scrub=2, feed_ph=3.0)
    s["dynamics"] = {"mixer_volume": 0.5, "initial": "fresh", "tolerance": 1e-10}
    run = simulate_dynamic(s)
    steady = simulate(s)
    inflow = 0.2 + 2 * 0.3 * 0.5 * 1.0  # metal fed + cation brought by the organic, mol/h
    for name, flow in steady.outlets.items():
        np.testing.assert_allclose(run.outlets[name][-1], flow, rtol=0, atol=1e-8 * inflow)
        cation = steady.counter_ion["outlets"][name]["mol_h"]
        assert run.counter_ion["outlets"][name][-1] == pytest.approx(cation, abs=1e-8 * inflow)
    assert run.mass_balance_error <= 1e-9  # over the metals and the cation
    d = run.to_dict()
    assert d["components"] == ["Pr", "Nd"] and "counter_ion" in d
    # the fresh stages hold the saponified organic's cation from the start
    held = np.array(run.counter_ion["inventory"])
    assert held[0] > 0 and np.all(np.isfinite(held))


SAP_DESIGN = {
    "components": ["Pr", "Nd"],
    "model": {
        "type": "mass-action",
        "extractant": "P507",
        "concentration": 0.75,
        "saponification": 0.36,
        "counter_ion": {"ion": "Na"},
    },
    "feed": {"phase": "aqueous", "volume_flow": 1.0, "concentration": {"Pr": 0.125, "Nd": 0.375}, "pH": 2.0},
    "scrub": {"acid": 4.0},
    "cut": "Pr|Nd",
    "targets": {"raffinate": {"purity": 0.99}, "extract": {"purity": 0.99}},
    "saponification": {"min": 0.2, "max": 0.4, "points": 3},
}


def test_the_design_chooses_the_saponification_degree():
    r = design(SAP_DESIGN)
    d = r.to_dict()
    block = d["saponification"]
    ok = [p for p in block["ladder"] if "error" not in p]
    assert [p["degree"] for p in block["ladder"]] == [0.2, 0.3, 0.4] and len(ok) >= 2
    best = min(ok, key=lambda p: p["objective"])
    assert block["chosen"] == best["degree"] == r.spec.model.saponification
    # each degree's objective is its own organic flow x stages (flow-stages), its base 2 s T Vo
    for p in ok:
        assert p["objective"] == pytest.approx(
            p["organic_volume_flow"] * (p["stages"]["extraction"] + p["stages"]["scrub"]), rel=1e-12
        )
        assert p["base"]["mol_h"] == pytest.approx(
            2 * p["degree"] * 0.75 * p["organic_volume_flow"], rel=1e-12
        )
        assert p["base"]["kg_h"] == pytest.approx(p["base"]["mol_h"] * 39.997e-3, rel=1e-12)
    # the chosen design is verified with its counter-ion, which reports where the sodium goes
    verified = d["verified"]["counter_ion"]
    assert verified["saponification"] == block["chosen"]
    assert verified["base"]["mol_h"] == pytest.approx(block["base"]["mol_h"], rel=1e-9)
    assert sum(o["mol_h"] for o in verified["outlets"].values()) == pytest.approx(
        block["base"]["mol_h"], rel=1e-9
    )
    assert d["performance"]["raffinate"]["purity"] >= 0.99 and d["performance"]["extract"]["purity"] >= 0.99
    # priced base: the degree with the least base among the feasible ones wins
    priced = design({**SAP_DESIGN, "objective": {"cost": {"per_flow_stage": 1.0, "per_base": 1e6}}})
    cheapest = min(ok, key=lambda p: p["base"]["mol_h"])
    assert priced.to_dict()["saponification"]["chosen"] == cheapest["degree"]
    assert priced.to_dict()["objective"]["per_base"] == 1e6


def test_the_saponification_range_is_checked():
    with pytest.raises(InputError, match=r"saponification\.max"):
        design({**SAP_DESIGN, "saponification": {"min": 0.1, "max": 0.5}})
    with pytest.raises(InputError, match="saponification"):
        design({**SAP_DESIGN, "saponification": {"min": 0.3, "max": 0.2}})
    with pytest.raises(InputError, match=r"saponification\.points"):
        design({**SAP_DESIGN, "saponification": {"min": 0.1, "max": 0.2, "points": 1}})
    lsf = {
        "components": ["Pr", "Nd"],
        "model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0, "Nd": 1.45}},
        "feed": {"flow": {"Pr": 0.25, "Nd": 0.75}},
        "cut": "Pr|Nd",
        "targets": {"raffinate": {"purity": 0.99}},
        "saponification": {"min": 0.1, "max": 0.3},
    }
    with pytest.raises(InputError, match="mass-action"):
        design(lsf)
