"""Observations and claims, the data kinds of history and of published statements, load with their checks."""

from __future__ import annotations

import pytest

from mine2magnet.data import load_dataset
from mine2magnet.errors import InputError


def _write(tmp_path, folder: str, body: str):
    (tmp_path / "sources").mkdir(exist_ok=True)
    (tmp_path / "sources" / "s.yaml").write_text(
        "sources:\n  s1: {title: T, url: https://example.org, publisher: P, date: 2025, type: news}\n",
        encoding="utf-8",
    )
    (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / folder / "x.yaml").write_text(body, encoding="utf-8")
    return tmp_path


def test_a_claim_loads_with_its_period_and_reading(tmp_path):
    root = _write(
        tmp_path,
        "claims",
        "claims:\n  - {key: claim.x.gdp.2025, claim: up to 2 bn, quantity: value_added, subject: X,"
        " period: 2025, value: 2, unit: billion USD, reading: up_to, source: s1, kind: reported}\n",
    )
    (claim,) = load_dataset(root).claims()
    assert claim.reading == "up_to" and claim.period.year_weights() == {2025: 1.0}
    assert claim.to_dict()["source"]["id"] == "s1"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("reading: roughly", "reading"),
        ("reading: about, range: [3, 4]", "range"),
        ("reading: about, kind: assumption", "kind"),
        ("reading: about, period: next year", "period"),
    ],
)
def test_a_bad_claim_is_refused_naming_file_and_field(tmp_path, body, field):
    entry = (
        "{key: claim.x.gdp.2025, claim: c, quantity: value_added, subject: X, period: 2025, value: 2, "
        "unit: billion USD, source: s1, kind: reported, " + body + "}"
    )
    entry = entry.replace("period: 2025, ", "") if "period:" in body else entry
    entry = entry.replace("kind: reported, ", "") if "kind:" in body else entry
    root = _write(tmp_path, "claims", f"claims:\n  - {entry}\n")
    with pytest.raises(InputError) as info:
        load_dataset(root)
    assert "claims/x.yaml" in str(info.value) and field in str(info.value)


def test_an_observation_with_a_model_needs_a_declared_tolerance(tmp_path):
    root = _write(
        tmp_path,
        "observations",
        "observations:\n  - {key: o.x.2024, quantity: facility_output, subject: P, period: 2024, value: 1,"
        " unit: t, source: s1, kind: reported, model: {measure: facility_output, facility: P}}\n",
    )
    with pytest.raises(InputError, match="tolerance"):
        load_dataset(root)


def test_the_package_holds_forty_or_more_observations_with_a_model():
    assert sum(1 for o in load_dataset().observations() if o.model) >= 40


def test_with_values_replaces_the_preferred_number_only():
    ds = load_dataset()
    drawn = ds.with_values({"chain.mt_weld.capacity": 30000.0})
    assert drawn.value("chain.mt_weld.capacity") == 30000.0
    assert ds.value("chain.mt_weld.capacity") != 30000.0  # the original is untouched
    assert drawn.get("chain.mt_weld.capacity").source == ds.get("chain.mt_weld.capacity").source
    with pytest.raises(InputError):
        ds.with_values({"facility.kenering.partner": 1.0})
