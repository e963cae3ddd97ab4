"""`mine2magnet sources` and `mine2magnet data`: output contracts."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mine2magnet.cli import main


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_sources_conflicts_json_lists_the_three_conflicts_with_all_sources() -> None:
    result = _run("sources", "--conflicts", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) == {"sources", "conflicts"}
    by_key = {c["key"]: c for c in payload["conflicts"]}
    for key in ("resource.malaysia.value", "production.malaysia.2023", "facility.kenering.partner"):
        assert key in by_key
        conflict = by_key[key]
        assert conflict["reason"]
        assert len(conflict["values"]) >= 2
        for value in conflict["values"]:
            assert {"value", "unit", "kind", "range", "source"} <= set(value)
            assert {"id", "title", "url", "publisher", "date", "type"} <= set(value["source"])
    scale = {"billion MYR": 1e9, "trillion MYR": 1e12}
    resource = by_key["resource.malaysia.value"]["values"]
    in_myr = {round(v["value"] * scale[v["unit"]] / 1e8) * 1e8 for v in resource}
    assert {800e9, 809.6e9, 1e12} <= in_myr  # RM800 bn, RM809.6 bn and RM1 tn, each from its source
    assert {"johari-2025-08-parliament-reply", "malaymail-2023-09-15-rm1t"} <= {
        v["source"]["id"] for v in resource
    }
    values = {v["value"] for v in by_key["production.malaysia.2023"]["values"]}
    assert {310, 19081} <= values
    output = by_key["production.malaysia.2023"]["values"]
    assert {"usgs-mcs-2025-ree", "thestar-2024-03-13-illegal-ree"} <= {v["source"]["id"] for v in output}
    partners = {v["value"] for v in by_key["facility.kenering.partner"]["values"]}
    assert partners == {"Chinalco", "China Rare Earth Group"}
    ids = [s["id"] for s in payload["sources"]]
    assert "usgs-mcs-2025-ree" in ids and len(ids) == len(set(ids))


def test_sources_table_output() -> None:
    result = _run("sources")
    assert result.exit_code == 0
    assert "usgs-mcs-2025-ree" in result.output and "Conflicts" in result.output


def test_data_show_prints_value_with_provenance() -> None:
    result = _run("data", "show", "production.malaysia.2023")
    assert result.exit_code == 0
    assert "310 t/yr" in result.output and "19,081 t/yr" in result.output
    assert "https://pubs.usgs.gov/periodicals/mcs2025/mcs2025-rare-earths.pdf" in result.output


def test_data_show_json() -> None:
    result = _run("data", "show", "facility.js_link_magnets.capacity", "--json")
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert payload["key"] == "facility.js_link_magnets.capacity"
    assert payload["values"][0]["value"] == 3000
    assert payload["values"][0]["source"]["publisher"]


def test_data_show_composition() -> None:
    result = _run("data", "show", "feed.mt_weld_concentrate")
    assert result.exit_code == 0
    assert "46.740" in result.output  # CeO2 % of TREO


def test_data_show_unknown_key_is_one_line_error_with_close_matches() -> None:
    result = _run("data", "show", "production.malaysia.2022")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "production.malaysia.2023" in lines[0]


def test_data_list_prefix() -> None:
    result = _run("data", "list", "facility.kenering.")
    assert result.exit_code == 0
    keys = result.output.split()
    assert "facility.kenering.partner" in keys
    assert all(k.startswith("facility.kenering.") for k in keys)


def test_data_schema_is_json_schema_naming_the_fields() -> None:
    result = _run("data", "schema", "values")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    entry = schema["$defs"]["ValueEntry"]
    assert {"key", "value", "source", "kind"} <= set(entry["required"])
    assert "unit" in entry["properties"]


def test_data_check_summarises_and_refuses_bad_folder(tmp_path: Path) -> None:
    ok = _run("data", "check")
    assert ok.exit_code == 0 and ok.output.startswith("ok: ")
    (tmp_path / "sources").mkdir()
    (tmp_path / "values").mkdir()
    (tmp_path / "values" / "mine.yaml").write_text(
        "values:\n  - {key: x.m, value: 5, unit: t, source: nobody, kind: reported}\n"
    )
    bad = _run("data", "check", str(tmp_path))
    assert bad.exit_code == 1
    assert "mine.yaml: values[0].source: unknown source id 'nobody'" in bad.output


def test_sources_with_user_folder_adds_its_conflicts(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "values").mkdir()
    (tmp_path / "values" / "mine.yaml").write_text(
        "values:\n  - {key: facility.js_link_magnets.capacity, value: 5000, unit: t/yr,\n"
        "     range: [4000, 6000], source: mine2magnet-assumption, kind: assumption, note: 'user case'}\n"
    )
    result = _run("sources", "--conflicts", "--json", "--data", str(tmp_path))
    assert result.exit_code == 0, result.output
    keys = {c["key"] for c in json.loads(result.output)["conflicts"]}
    assert "facility.js_link_magnets.capacity" in keys
    table = _run("sources", "--conflicts", "--data", str(tmp_path))
    assert table.exit_code == 0 and "Sources (" not in table.output and "Conflicts (" in table.output
