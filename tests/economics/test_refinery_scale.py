"""A refinery is costed at the scale it was built for (``design_feed``), not at its flowsheet's design feed.

Lynas Malaysia's flowsheet is Phase 1 (13,000 t/yr REO); the plant as built takes 26,000 t/yr of REO in
concentrate. Its accounts must book the labour and maintenance of the flowsheet re-run at that scale — checked
against a separate run of the flowsheet at 26,000 t/yr, not against the accounts' own arithmetic.
"""

from __future__ import annotations

import math

import pytest
import yaml

from mine2magnet import process
from mine2magnet.chain.model import refinery_scale
from mine2magnet.chain.network import Facility
from mine2magnet.errors import InputError
from mine2magnet.scenario import load_scenario, run_scenario


def _fac(**attrs: object) -> Facility:
    return Facility("Plant", "refineries", dict(attrs))


def test_the_scale_is_the_design_feed_else_a_finite_capacity_else_the_flowsheets_own():
    from mine2magnet.chain import YearSeries

    assert refinery_scale(_fac(design_feed=26000.0, capacity=YearSeries.constant(5000.0)), 2024) == 26000.0
    assert refinery_scale(_fac(capacity=YearSeries.constant(5000.0)), 2024) == 5000.0
    assert refinery_scale(_fac(capacity=YearSeries.constant(math.inf)), 2024) is None
    assert refinery_scale(_fac(design_feed=math.nan), 2024) is None


def test_lynas_malaysia_books_the_labour_and_maintenance_of_the_plant_as_built():
    sc = load_scenario("malaysia-history")
    lynas = sc.model.network.facilities["Lynas Malaysia"]
    scale = lynas.attrs["design_feed"]
    assert scale == pytest.approx(26000.0)
    result = run_scenario(sc)
    acc = result.tables["accounts"]
    year = 2021  # concentrate only (no MREC before 2024)
    flows = result.tables["flows"]
    into_lynas = (
        (flows.year == year) & (flows.target == "Lynas Malaysia") & (flows.commodity == "concentrate")
    )
    fed = flows[into_lynas].t.sum()
    flowsheet = process.load_flowsheet("lynas-malaysia")
    built = process.run_flowsheet(
        flowsheet, feed="mt-weld-concentrate", rate_t_per_yr=scale
    ).costs.opex_breakdown
    phase1 = process.run_flowsheet(flowsheet, feed="mt-weld-concentrate").costs.opex_breakdown

    def booked(item: str) -> float:
        return acc[(acc.year == year) & (acc.facility == "Lynas Malaysia") & (acc.item == item)].usd.sum()

    assert booked("wages") == pytest.approx(built["labour"] * fed / scale, rel=1e-9)
    assert booked("other_inputs") == pytest.approx(built["maintenance"] * fed / scale, rel=1e-9)
    # costed at Phase 1's 13,000 t/yr the same feed would pay twice the labour: the error this corrects
    assert built["labour"] / scale == pytest.approx(0.5 * phase1["labour"] / 13000.0, rel=0.02)


def test_a_design_feed_that_is_not_a_positive_rate_is_refused(tmp_path):
    body = {
        "name": "bad-scale",
        "description": "test",
        "base": "malaysia-history",
        "facilities": {"refineries": [{"name": "Lynas Malaysia", "design_feed": "-5 t/yr"}]},
    }
    path = tmp_path / "bad-scale.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    with pytest.raises(InputError, match="design_feed"):
        load_scenario(str(path))


def test_uncertainty_studies_hold_the_costing_scale_so_no_draw_reruns_the_flowsheet():
    from mine2magnet.analysis.uncertainty.declarations import load_declarations, scenario_inputs
    from mine2magnet.data import load_dataset

    sc = load_scenario("malaysia-base")
    study = scenario_inputs(sc, load_dataset(), load_declarations())
    drawn = {i.name for i in study.inputs}
    held = {o["key"] for o in study.left_out}
    assert (
        "facility.lynas_malaysia.design_feed_reo" in held
        and "facility.lynas_malaysia.design_feed_reo" not in drawn
    )
    assert "chain.lynas_malaysia.concentrate_feed_capacity" in drawn  # the kiln limit itself is drawn
