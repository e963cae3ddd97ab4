"""Facilities that can never receive feed are found before a run (issue 12: a refinery added without
trade links idled at 0 % without a word)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mine2magnet.scenario import load_scenario, unreachable_facilities

REFINERY = """
      country: {country}
      owner: nobody
      flowsheet: ionic-clay-refinery
      feeds: {{mrec: malaysia-ionic-clay-mrec}}
      capacity: {{ref: facility.khazanah_refinery.capacity}}
      start_year: 2026
"""


def _scenario(tmp_path: Path, country: str, links: str = "") -> Path:
    text = (
        "name: orphan\ndescription: a refinery added to the base case\nbase: malaysia-base\n"
        "facilities:\n  refineries:\n    - name: Orphan refinery" + REFINERY.format(country=country)
    )
    if links:
        text += "trade_links:\n" + links
    path = tmp_path / "orphan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def base_model():
    return load_scenario("malaysia-base").model


def test_the_base_case_has_every_facility_reachable(base_model):
    assert unreachable_facilities(base_model) == []


def test_a_refinery_without_links_in_is_named(tmp_path):
    found = unreachable_facilities(load_scenario(str(_scenario(tmp_path, "Malaysia"))).model)
    assert [(u.name, u.kind) for u in found] == [("Orphan refinery", "refineries")]
    assert "no trade link brings it mrec" in str(found[0])
    assert found[0].to_dict()["facility"] == "Orphan refinery"


def test_a_refinery_fed_only_through_a_banned_export_is_named(tmp_path):
    # Malaysia bans mrec exports 2024-2100 (malaysia-base): a Thai refinery fed only by Kelantan is starved.
    link = "  - {source: Kelantan MREC, target: Orphan refinery, commodity: mrec, cost: 10 USD/t}\n"
    found = unreachable_facilities(load_scenario(str(_scenario(tmp_path, "Thailand", link))).model)
    assert [u.name for u in found] == ["Orphan refinery"]
    assert "Malaysia's export ban" in found[0].reason


def test_a_domestic_link_makes_the_refinery_reachable(tmp_path):
    link = "  - {source: Kelantan MREC, target: Orphan refinery, commodity: mrec, cost: 10 USD/t}\n"
    assert unreachable_facilities(load_scenario(str(_scenario(tmp_path, "Malaysia", link))).model) == []
