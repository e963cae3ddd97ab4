"""Scenario studies: the inputs a scenario reads and their distributions, a draw against the plain run, the
clay choice against the named override, the CLI and the report's ranges."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mine2magnet.analysis.uncertainty import Discrete, Triangular, Uniform
from mine2magnet.analysis.uncertainty.answers import write_headline_json
from mine2magnet.analysis.uncertainty.declarations import (
    DistributionSpec,
    declared_distribution,
    load_declarations,
    parse_declarations,
    scenario_inputs,
)
from mine2magnet.analysis.uncertainty.inputs import COMPOSITION, DrawInputs
from mine2magnet.analysis.uncertainty.outputs import kpi_rows
from mine2magnet.analysis.uncertainty.study import scenario_study
from mine2magnet.cli import main
from mine2magnet.data import load_dataset
from mine2magnet.errors import InputError
from mine2magnet.scenario import load_scenario, run_scenario

END = 2027  # short runs keep the suite's share small


@pytest.fixture(scope="module")
def base():
    ds = load_dataset()
    return ds, load_scenario("malaysia-base", dataset=ds)


def test_every_ranged_dataset_number_the_scenario_reads_is_an_input(base) -> None:
    ds, sc = base
    si = scenario_inputs(sc, ds, load_declarations())
    by_name = {i.name: i for i in si.inputs}
    table = sc.assumptions
    ranged = set(table.loc[(table["data_key"] != "") & table["range_low"].notna(), "data_key"])
    ranged -= set(ds.compositions())
    held = {o["key"] for o in si.left_out if o["why"].startswith("declared fixed")}
    assert held == {"facility.lynas_malaysia.design_feed_reo"}  # the declared exception (data/distributions)
    assert ranged - held <= set(by_name)
    # defaults read from the entry: an assumption uniform on its range when its value is the middle, else
    # triangular at its value; a sourced number triangular at its value; a year whole years
    royalty = by_name["chain.royalty.malaysia_ree"].distribution
    assert (
        isinstance(royalty, Uniform)
        and (royalty.low, royalty.high) == ds.get("chain.royalty.malaysia_ree").range
    )
    cost = by_name["chain.cost.cracking"].distribution
    c = ds.get("chain.cost.cracking")
    assert isinstance(cost, Triangular) and (cost.low, cost.mode, cost.high) == (
        c.range[0],
        c.value,
        c.range[1],
    )
    cap = by_name["chain.mt_weld.capacity"].distribution
    e = ds.get("chain.mt_weld.capacity")
    assert isinstance(cap, Triangular) and (cap.low, cap.mode, cap.high) == (e.range[0], e.value, e.range[1])
    js = by_name["chain.js_link.start_year"].distribution
    assert isinstance(js, Discrete) and js.options == (2027.0, 2028.0, 2029.0, 2030.0)
    clay = by_name["feed.malaysia_ionic_clay"]
    assert clay.kind == COMPOSITION and clay.labels == ("light", "middle-Y", "heavy")
    # the inline decision year is reported as left out, not silently dropped
    assert any("decision_year" in x["key"] for x in si.left_out)


def test_derived_price_correlations_match_a_hand_computation(base) -> None:
    ds, sc = base
    si = scenario_inputs(sc, ds, load_declarations())
    rho = {(c.first, c.second): c.rho for c in si.correlations}
    dy, tb = ds.series("price.Dy2O3"), ds.series("price.Tb4O7")
    years = [y for y in sorted(set(dy) & set(tb)) if y - 1 in dy and y - 1 in tb]
    a = np.log([dy[y].magnitude("USD/kg") / dy[y - 1].magnitude("USD/kg") for y in years])
    b = np.log([tb[y].magnitude("USD/kg") / tb[y - 1].magnitude("USD/kg") for y in years])
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))  # no ties in these series
    expected = float(np.corrcoef(ra, rb)[0, 1])
    assert rho[("price.Dy2O3.2025", "price.Tb4O7.2025")] == pytest.approx(min(expected, 0.9))


def test_declarations_are_validated_with_the_field_named(base) -> None:
    with pytest.raises(InputError, match=r"correlations\.0.*rho or derived_from"):
        parse_declarations({"correlations": [{"first": "a", "second": "b", "note": "x"}]}, "study.yaml")
    with pytest.raises(InputError, match=r"study\.yaml.*distributions\.0\.distribution"):
        parse_declarations(
            {"distributions": [{"key": "a", "distribution": "beta", "note": "x"}]}, "study.yaml"
        )
    spec = DistributionSpec(key="chain.cost.cracking", distribution="normal", note="no sd")
    with pytest.raises(InputError, match=r"my\.yaml.*distributions\[chain\.cost\.cracking\].*give sd"):
        declared_distribution(spec, base[0], "my.yaml")


def test_a_draw_at_the_preferred_values_gives_the_plain_run(base) -> None:
    ds, _ = base
    model, si = scenario_study("malaysia-base", end_year=END, claims=False)
    keys = [i.name for i in si.inputs if i.kind == "value"][:20]
    rows = model(DrawInputs({k: ds.value(k) for k in keys}))
    plain = run_scenario(load_scenario("malaysia-base", dataset=ds))
    expected = [r for r in kpi_rows(plain.tables["kpis"]) if r[0] <= END]
    assert [r[:3] for r in rows] == [r[:3] for r in expected]
    np.testing.assert_allclose([r[3] for r in rows], [r[3] for r in expected], rtol=1e-9, atol=1e-6)


def test_the_light_clay_choice_equals_the_named_override(base) -> None:
    ds, _ = base
    model, _ = scenario_study("malaysia-base", end_year=2030, claims=False)
    rows = model(DrawInputs(compositions={"feed.malaysia_ionic_clay": "feed.ionic_clay_light"}))
    plain = run_scenario(load_scenario("malaysia-base", ["ionic-clay-light"], dataset=ds))
    expected = {r[:3]: r[3] for r in kpi_rows(plain.tables["kpis"]) if r[0] <= 2030}
    got = {r[:3]: r[3] for r in rows}
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-9, abs=1e-6), k


def test_cli_study_writes_its_answers_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "study"
    args = ["uncertainty", "malaysia-base", "--draws", "3", "--end-year", "2025", "--out", str(out), "-q"]
    done = CliRunner().invoke(main, [*args, "--json", "--condition", "smuggling_loss_usd < 1e12 every year"])
    assert done.exit_code == 0, done.output
    answers = json.loads(done.stdout)
    assert answers["draws"] == {"design": 3, "ok": 3, "failed": 0}
    lo, mid, hi = answers["ranges"]["national_value_added_usd"]["2025"]
    assert lo <= mid <= hi
    assert answers["conditions"][0]["probability"] == 1.0
    assert {p.name for p in out.iterdir()} >= {"uncertainty.json", "outputs.parquet", "uncertainty.duckdb"}
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "--resume" in again.output
    resumed = CliRunner().invoke(main, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output


def test_cli_unreachable_scheduler_is_one_line_within_seconds(tmp_path: Path) -> None:
    t0 = time.monotonic()
    args = [
        "uncertainty",
        "malaysia-base",
        "--draws",
        "2",
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--out",
        str(tmp_path),
    ]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in done.output
    assert not any(tmp_path.iterdir())  # nothing written
    assert time.monotonic() - t0 < 20.0


def test_headline_ranges_for_the_report(tmp_path: Path) -> None:
    path = write_headline_json(tmp_path, draws=3, workers=1, end_year=2026)
    got = json.loads(path.read_text())
    assert got["draws"]["ok"] == 3 and got["command"].startswith("mine2magnet uncertainty malaysia-base")
    for kpi, by_year in got["ranges"].items():
        for year, (p5, p50, p95) in by_year.items():
            assert p5 <= p50 <= p95, (kpi, year)
            assert all(math.isfinite(x) for x in (p5, p50, p95))
    assert "feed_sufficiency:Lynas Malaysia" in got["ranges"]


def test_a_scenario_file_overrides_the_declarations(tmp_path: Path) -> None:
    path = tmp_path / "study-scenario.yaml"
    path.write_text(
        "name: study-scenario\n"
        "description: malaysia-base with its own uncertainty declarations\n"
        "base: malaysia-base\n"
        "settings:\n"
        "  uncertainty:\n"
        "    distributions:\n"
        "      - {key: chain.cost.cracking, distribution: normal, sd: 500, low: 1500, high: 6000,\n"
        "         note: test}\n"
        "      - {key: chain.royalty.malaysia_ree, distribution: fixed, note: held for this study}\n"
        "    exclude: [economics.io.]\n",
        encoding="utf-8",
    )
    _, si = scenario_study(str(path))
    by_name = {i.name: i for i in si.inputs}
    cracking = by_name["chain.cost.cracking"].distribution
    assert cracking.to_dict() == {
        "distribution": "normal",
        "mean": 3000.0,
        "sd": 500.0,
        "low": 1500.0,
        "high": 6000.0,
    }
    assert "chain.royalty.malaysia_ree" not in by_name
    assert not any(n.startswith("economics.io.") for n in by_name)
    assert any(x["key"] == "chain.royalty.malaysia_ree" for x in si.left_out)


def test_conflicting_sources_become_a_discrete_input_and_rounding_does_not(base) -> None:
    from mine2magnet.analysis.uncertainty.declarations import default_distribution

    ds, _ = base
    entries = ds.all("production.malaysia.2023")  # USGS' legal output beside The Star's illegal estimate
    dist, origin = default_distribution(ds, "production.malaysia.2023")
    assert dist.family == "sources" and sorted(dist.options) == sorted(e.value for e in entries)
    assert "2 sources" in origin
    assert default_distribution(ds, "resource.malaysia.perak") is None  # 1.6875 Mt vs 1.69 Mt: rounding


def test_flowsheet_runs_are_shared_and_reruns_for_drawn_values_bounded() -> None:
    from mine2magnet.analysis.uncertainty.flowsheet_runs import MAX_RUNS_KEPT
    from mine2magnet.analysis.uncertainty.models import _prepared

    model, _ = scenario_study("malaysia-base", end_year=2024, claims=False)
    runs = _prepared(model).flowsheets
    first = model(DrawInputs())
    n0 = runs.runs
    assert model(DrawInputs()) == first and runs.runs == n0  # nothing a flowsheet reads: no new run
    labour = {"process.labour.cost_per_person": 20000.0}
    cheaper = model(DrawInputs(labour))
    n1 = runs.runs
    assert n1 > n0 and cheaper != first  # the refinery reads the labour cost: rerun, other results
    assert model(DrawInputs(labour)) == cheaper and runs.runs == n1  # the same values again: reused
    assert len(runs._runs) <= MAX_RUNS_KEPT
