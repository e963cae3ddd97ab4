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
    # compared with a scenario that adds a refinery: the briefing's feed answer is about that refinery, whose
    # range comes from a sample of that scenario
    compare = ["--compare", "malaysia-china-refinery"]
    result = CliRunner().invoke(main, [*args, *compare, "--ranges"])
    assert result.exit_code == 0, result.output
    assert "mine2magnet uncertainty malaysia-base --draws" in result.output  # the full study's command
    sample = json.loads((out / "uncertainty.json").read_text(encoding="utf-8"))
    (fed,) = sample["feed_samples"]
    assert fed["scenario"] == "malaysia-china-refinery" and fed["draws"]["ok"] == sample["draws"]["ok"]
    (new_refinery,) = fed["answers"]
    assert new_refinery.startswith("feed:")
    keys = ("value", "smuggling", "magnets", "residue", "residue_bq", "residue_new", "residue_new_bq")
    for key in (*keys, new_refinery, "feed:Lynas Malaysia"):
        p5, p50, p95 = sample["briefing"][key]
        assert p5 <= p50 <= p95
    assert 0.0 <= sample["briefing"][new_refinery][0] <= 1.0  # a share of capacity
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["uncertainty"]["briefing"] == sample["briefing"]
    assert summary["uncertainty"]["feed_samples"] == sample["feed_samples"]
    assert summary["outputs"]["uncertainty"] == str(out / "uncertainty.json")
    html = (out / "report.html").read_text(encoding="utf-8")
    # value, smuggling, feed, magnets; residue (held and added, t and Bq) in one line
    assert html.count("5th–95th percentile of the uncertainty analysis") >= 4
    assert "Range: lowest year " in html
    assert "Range: held " in html and "5th–95th percentiles of the uncertainty analysis" in html
    # the same folder again without --ranges: the earlier sample is not shown as this run's
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "percentile of the uncertainty analysis" not in html
