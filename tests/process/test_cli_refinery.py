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
    assert "Sankey" in page or "sankey" in page
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
    res = runner.invoke(main, ["refinery", "capacity", "hre-circuit", "--target", "Tb oxide=50"])
    assert res.exit_code == 0, res.output
    assert (
        json.loads(res.output)["products_t_per_yr"]["Tb oxide"] == 50.0
        or abs(json.loads(res.output)["products_t_per_yr"]["Tb oxide"] - 50.0) < 1e-6
    )
    assert "lynas-malaysia" in runner.invoke(main, ["refinery", "list"]).output
