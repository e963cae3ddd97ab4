"""`mine2magnet refinery ...` on the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mine2magnet.cli import main


def test_run_json_and_page(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["refinery", "run", "hre-circuit", "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["products"]["Tb oxide"]["purity"] >= 0.9999
    page = (out / "hre-circuit.html").read_text()
    assert '"type":"sankey"' in page.replace(" ", "")  # the Sankey trace of element flows
    assert "SX stage profiles" in page
    for c in data["circuits"]:  # one stage-profile panel per designed cut, titled with its stage count
        if not c.get("skipped"):
            assert f"{c['cut']} ({c['split']}), {c['stages']} stages" in page
    assert "<script src=" not in page  # plotly inlined: no network needed
    assert json.loads((out / "result.json").read_text())["flowsheet"] == "hre-circuit"


def test_run_table_and_errors():
    runner = CliRunner()
    res = runner.invoke(main, ["refinery", "run", "hre-circuit", "--rate", "1000"])
    assert res.exit_code == 0 and "Tb oxide" in res.output and "capex" in res.output
    bad = runner.invoke(main, ["refinery", "run", "no-such-plant"])
    assert bad.exit_code == 1 and "unknown flowsheet" in bad.output
    bad = runner.invoke(main, ["refinery", "capacity", "hre-circuit", "--target", "Tb oxide"])
    assert bad.exit_code == 1 and "PRODUCT=T_PER_YR" in bad.output


def test_capacity_and_list():
    runner = CliRunner()
    res = runner.invoke(main, ["refinery", "capacity", "hre-circuit", "--target", "Tb oxide=50", "--json"])
    assert res.exit_code == 0, res.output
    assert (
        json.loads(res.output)["products_t_per_yr"]["Tb oxide"] == 50.0
        or abs(json.loads(res.output)["products_t_per_yr"]["Tb oxide"] - 50.0) < 1e-6
    )
    assert "lynas-malaysia" in runner.invoke(main, ["refinery", "list"]).output


def test_run_with_a_user_feed_file_and_a_bad_one(tmp_path):
    feed = tmp_path / "my-mrec.yaml"
    feed.write_text(
        "name: my-mrec\nform: mrec\ndistribution: feed.malaysia_ionic_clay\n"
        "grade_treo: process.feed.mrec.reo_fraction\n"
        "impurities_fraction_of_reo: {Al: process.feed.mrec.impurity_fraction_of_reo}\n"
    )
    runner = CliRunner()
    res = runner.invoke(main, ["refinery", "run", "ionic-clay-refinery", "--feed", str(feed), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["feed"] == "my-mrec" and data["mass_balance_error"] < 1e-6
    assert data["products"]["Dy oxide"]["purity"] >= 0.995
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nform: slurry\ndistribution: feed.malaysia_ionic_clay\n")
    res = runner.invoke(main, ["refinery", "run", "ionic-clay-refinery", "--feed", str(bad)])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "form" in lines[0] and "mrec" in lines[0]
