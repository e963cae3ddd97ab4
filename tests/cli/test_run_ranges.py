"""`mine2magnet run --ranges` (issue 13): a small uncertainty sample beside the run, its P5-P95 ranges on the
briefing's answers, the command of a full study printed; without --ranges no range is shown, even when an
earlier run left an uncertainty.json in the folder."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mine2magnet.cli import main


def test_run_with_ranges_shows_them_on_the_briefing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", "malaysia-base", "--out", str(out), "--no-backtest", "-q"]
    result = CliRunner().invoke(main, [*args, "--ranges"])
    assert result.exit_code == 0, result.output
    assert "mine2magnet uncertainty malaysia-base --draws" in result.output  # the full study's command
    sample = json.loads((out / "uncertainty.json").read_text(encoding="utf-8"))
    for key in ("value", "smuggling"):
        p5, p50, p95 = sample["briefing"][key]
        assert p5 <= p50 <= p95
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["uncertainty"]["briefing"] == sample["briefing"]
    assert summary["outputs"]["uncertainty"] == str(out / "uncertainty.json")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("5th–95th percentile of the uncertainty analysis") >= 2
    # the same folder again without --ranges: the earlier sample is not shown as this run's
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "percentile of the uncertainty analysis" not in html
