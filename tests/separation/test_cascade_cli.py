"""The `mine2magnet cascade` commands and the spec loader's error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mine2magnet.cli import main
from mine2magnet.errors import InputError
from mine2magnet.separation import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "mine2magnet" / "separation" / "examples"


@pytest.mark.parametrize("name", ["prnd_lsf.yaml", "lace_empirical_ph.yaml"])
def test_simulate_json_contract(name):
    out = CliRunner().invoke(main, ["cascade", "simulate", str(EXAMPLES / name), "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["converged"] is True and d["mass_balance_error"] <= 1e-9
    assert {"raffinate", "loaded_organic"} <= set(d["outlets"])
    for outlet in d["outlets"].values():
        assert set(outlet) >= {"flow", "purity"}
        assert sum(outlet["purity"].values()) == pytest.approx(1.0)
    for comp, rec in d["recovery"].items():
        assert sum(rec.values()) == pytest.approx(1.0, abs=1e-9), comp
    assert all({"stage", "section", "aqueous", "organic"} <= set(s) for s in d["stages"])


def test_simulate_plot_html(tmp_path):
    plot = tmp_path / "profile.html"
    out = CliRunner().invoke(
        main, ["cascade", "simulate", str(EXAMPLES / "lace_empirical_ph.yaml"), "--plot", str(plot)]
    )
    assert out.exit_code == 0, out.output
    assert plot.stat().st_size > 1000 and "plotly" in plot.read_text()[:200000].lower()


@pytest.mark.parametrize("name", ["prnd_lsf.yaml", "lace_empirical_ph.yaml"])
def test_simulate_plot_png(tmp_path, name):
    """PNG profiles (matplotlib, Agg): a real PNG with its panels (a pH panel for the physical models)."""
    from PIL import Image

    plot = tmp_path / "profile.png"
    out = CliRunner().invoke(main, ["cascade", "simulate", str(EXAMPLES / name), "--plot", str(plot)])
    assert out.exit_code == 0, out.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(plot) as img:
        width, height = img.size
        # two panels (LSF: no pH) or three (with the pH profile), 2.6 in each + 0.8 in at 120 dpi
        rows = 3 if name.startswith("lace") else 2
        assert width == 9 * 120 and height == round((2.6 * rows + 0.8) * 120)
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 10  # lines drawn, not blank


def test_simulate_plot_unknown_format_is_an_error_naming_the_option(tmp_path):
    out = CliRunner().invoke(
        main, ["cascade", "simulate", str(EXAMPLES / "prnd_lsf.yaml"), "--plot", str(tmp_path / "p.svg")]
    )
    assert out.exit_code != 0
    assert "--plot" in out.output and ".svg" in out.output and "Traceback" not in out.output


def test_bad_spec_is_one_line_error_naming_file_and_field(tmp_path):
    spec = yaml.safe_load((EXAMPLES / "prnd_lsf.yaml").read_text())
    spec["model"]["separation_factors"]["Nd"] = -1.5
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = CliRunner().invoke(main, ["cascade", "simulate", str(path)])
    assert out.exit_code == 1
    assert str(path) in out.output and "model.separation_factors.Nd" in out.output
    assert len(out.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"stages": {"extraction": 0}}, "stages.extraction"),
        ({"feed": {"stage": 99, "flow": {"Pr": 1.0, "Nd": 1.0}}}, "feed.stage"),
        ({"components": ["Pr", "Xx"]}, "components"),
        (
            {"model": {"type": "loaded-separation-factor", "separation_factors": {"Pr": 1.0}}},
            "model.separation_factors",
        ),
        ({"feed": {"stage": 30, "flow": {"Pr": 1.0, "Sm": 1.0}}}, "feed.flow"),
        ({"model": {"type": "nonsense"}}, "model"),
        ({"organic": {"ree_flow": 3.0, "colour": "blue"}}, "organic.colour"),
    ],
)
def test_load_spec_errors_name_the_field(patch, field):
    spec = yaml.safe_load((EXAMPLES / "prnd_lsf.yaml").read_text())
    spec.update(patch)
    with pytest.raises(InputError) as err:
        load_spec(spec, file="x.yaml")
    assert err.value.file == "x.yaml"
    assert err.value.field == field
