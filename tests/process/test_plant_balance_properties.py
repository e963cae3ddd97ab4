"""Property: whatever the feed distribution and rate, a flowsheet run balances every element and its product
slate adds up (hypothesis, a one-cut plant so each example designs one cascade)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mine2magnet.elements import Composition
from mine2magnet.process import load_flowsheet, run_flowsheet

ONE_CUT = {
    "name": "one-cut",
    "feeds": {"default": "segh-mt-weld", "design_rate": "process.flowsheet.hre_circuit.design_feed_reo"},
    "routes": {"chloride-liquor": ["purification", "separation"]},
    "units": {
        "purification": {"type": "purification", "residue": "purification residue"},
        "separation": {
            "type": "separation-train",
            "extractant": "P507",
            "cuts": [
                {
                    "id": "lace-prnd",
                    "cut": "Ce|Pr",
                    "feed": "train",
                    "targets": {"raffinate": {"purity": 0.99}, "extract": {"purity": 0.995}},
                    "raffinate": "LaCe",
                    "extract": "NdPr oxide",
                }
            ],
        },
    },
    "products": {
        "LaCe": {"elements": ["La", "Ce"], "price": {"basket": True}},
        "NdPr oxide": {"elements": ["Pr", "Nd"], "min_purity": 0.99, "price": {"key": "price.NdPr_oxide"}},
    },
    "costs": {
        "capex": {
            "reference": "process.capex.hre_circuit_2",
            "reference_capacity": "process.capex.hre_circuit_2_capacity",
            "measure": "feed_reo",
        },
        "headcount": "process.flowsheet.hre_circuit.headcount",
    },
}

share = st.floats(min_value=0.05, max_value=1.0)


@settings(max_examples=5, deadline=None)
@given(la=share, ce=share, pr=share, nd=share, th_ppm=st.floats(0.0, 500.0), rate=st.floats(10.0, 1e5))
def test_any_feed_balances(la, ce, pr, nd, th_ppm, rate):
    comp = Composition.from_oxide_mass({"La": la, "Ce": ce, "Pr": pr, "Nd": nd, "Th": th_ppm * 1e-6})
    r = run_flowsheet(load_flowsheet(ONE_CUT), feed=comp, rate_t_per_yr=rate)
    assert r.mass_balance_error < 1e-6
    assert r.products["NdPr oxide"].purity >= 0.99
    fed = r.feed_stream
    for el in ("La", "Ce", "Pr", "Nd"):
        out = sum(s.get(el) for s in r.product_streams.values())
        assert out <= fed.get(el) * (1 + 1e-12)
        assert r.recovery[el] == pytest.approx(out / fed.get(el))
    # Th leaves with the purification residue and the NUF, never in products beyond traces
    assert sum(s.get("Th") for s in r.product_streams.values()) <= fed.get("Th") * 1e-9 + 1e-15
