"""The shipped dataset: every number sourced, the keys other layers use exist, and the figures are
consistent with each other and with independent arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mine2magnet.data import KINDS, PACKAGE_DATA, UnknownKeyError, load_dataset
from mine2magnet.elements import Composition, element
from mine2magnet.errors import InputError

DS = load_dataset()

REQUIRED_KEYS = [
    "production.malaysia.2023",
    "production.malaysia.2024",
    "production.china.2024",
    "production.world.2024",
    "reserves.china",
    "trade.china_imports_from_malaysia.2023",
    "smuggling.malaysia.illegal_reo_2023",
    "resource.malaysia.total_treo",
    "resource.malaysia.value",
    "resource.malaysia.terengganu",
    "resource.malaysia.kelantan",
    "resource.malaysia.perak",
    "resource.malaysia.kedah",
    "resource.malaysia.pahang",
    "price.Nd2O3.2024",
    "price.Dy2O3.2023",
    "price.Tb4O7.2024",
    "price.La2O3.2024",
    "price.CeO2.2024",
    "price.Eu2O3.2024",
    "price.NdPr_oxide.2025",
    "price.Pr6O11.2025",
    "price.Y2O3.2025",
    "price.Gd2O3.2025",
    "price.Ho2O3.2025",
    "price.Er2O3.2025",
    "price.mixed_re_carbonate.2025",
    "facility.lynas_malaysia.ndpr_capacity",
    "facility.lynas_malaysia.design_reo_capacity",
    "facility.lynas_malaysia.hre_circuit_1_segh_capacity",
    "facility.lynas_malaysia.hre_circuit_2_feed_capacity",
    "facility.lynas_malaysia.residue.wlp_t_per_t_reo",
    "facility.lynas_malaysia.residue.nuf_t_per_t_reo",
    "facility.lynas_malaysia.residue.fgd_t_per_t_reo",
    "facility.lynas_malaysia.residue.total_t_per_t_reo",
    "facility.lynas_malaysia.residue.wlp_bq_per_g",
    "facility.lynas_malaysia.concentrate_feed_t_per_yr",
    "facility.lynas_malaysia.concentrate_grade_treo",
    "facility.lynas_malaysia.concentrate_th_ppm",
    "facility.lynas_malaysia.cracking_recovery",
    "facility.lynas_kalgoorlie.ndpr_equivalent_capacity",
    "facility.mt_weld.concentrate_output",
    "facility.kenering.partner",
    "facility.kelantan_mrec.status",
    "facility.js_link_magnets.capacity",
    "facility.khazanah_refinery.capacity",
    "facility.khazanah_refinery.capex",
    "facility.khazanah_refinery.partner",
    "feed.bayan_obo.grade_treo",
    "magnet.ndfeb.bom.Nd",
    "magnet.ndfeb.bom.Dy",
    "magnet.ndfeb.re_content",
    "fx.MYR_per_USD",
    "fx.CNY_per_USD",
    "fx.AUD_per_USD",
    "feed.mt_weld_concentrate.grade_treo",
    "feed.mt_weld_concentrate.th_ppm",
]
FEEDS = [
    "feed.mt_weld_concentrate",
    "feed.bayan_obo",
    "feed.mountain_pass",
    "feed.ionic_clay_high_y",
    "feed.ionic_clay_light",
    "feed.ionic_clay_middle_y_eu",
    "feed.araxa_monazite",
    "feed.pitinga_xenotime",
    "feed.malaysia_ionic_clay",
]


# --- provenance ------------------------------------------------------------------------------------
def test_every_raw_entry_in_package_files_names_a_source() -> None:
    """Read the YAML directly (not through the loader): every value and composition carries a source id."""
    files = sorted((PACKAGE_DATA / "values").glob("*.yaml"))
    assert files
    count = 0
    for path in files:
        raw = (
            yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            or {}
        )
        for section in ("values", "compositions"):
            for entry in raw.get(section, []):
                assert isinstance(entry.get("source"), str) and entry["source"], (path.name, entry.get("key"))
                count += 1
    assert count == len(DS.entries()) + len(DS.composition_entries())


def test_every_loaded_entry_has_full_provenance() -> None:
    for entry in [*DS.entries(), *DS.composition_entries()]:
        src = entry.source
        assert src.title and src.publisher and src.date and src.type, entry.key
        assert src.url or src.note, f"{src.id}: no URL and no note saying why"
        assert entry.kind in KINDS
        if entry.kind == "assumption":
            assert entry.note, f"assumption {entry.key} must say why in its note"


def test_khazanah_refinery_known_and_unknown() -> None:
    """Known (Reuters, FMT, OE Digital, Bernama 2025): a Chinese SOE, unnamed; technology for access to
    deposits; government-linked companies only; the hurdles. Not published: capacity, capex (assumptions)."""
    assert "not named" in DS.text("facility.khazanah_refinery.partner")
    assert DS.get("facility.khazanah_refinery.partner").source.id == "reuters-fe-2025-10-02-refinery-talks"
    assert "technology" in DS.text("facility.khazanah_refinery.terms")
    assert "government-linked" in DS.text("facility.khazanah_refinery.partner_condition")
    assert "feed supply" in DS.text("facility.khazanah_refinery.hurdles")
    unpublished = DS.get("facility.khazanah_refinery.unpublished")
    assert unpublished.kind == "assumption" and "capacity" in str(unpublished.value)
    for key in ("facility.khazanah_refinery.capacity", "facility.khazanah_refinery.capex"):
        assert DS.get(key).note.startswith("NOT FOUND")


def test_assumptions_and_not_found_figures_are_labelled() -> None:
    for key in ("facility.khazanah_refinery.capacity", "facility.khazanah_refinery.capex", "fx.CNY_per_USD"):
        entry = DS.get(key)
        assert entry.kind == "assumption" and entry.range is not None
    assert DS.composition("feed.malaysia_ionic_clay").kind == "assumption"


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_required_key_present(key: str) -> None:
    assert DS.all(key)


@pytest.mark.parametrize("key", FEEDS)
def test_feed_compositions_present_and_convert(key: str) -> None:
    for comp in DS.all_compositions(key):
        if comp.complete:
            assert 0.98 <= comp.total() <= 1.0005  # published tables round to 0.01-0.001 %
        else:  # a partial table: what it lists, never more than the whole
            assert 0.90 <= comp.total() <= 1.0005, (key, comp.source.id)
        mixture = comp.to_composition(total_reo_kg=250.0, normalise=True)
        assert isinstance(mixture, Composition)
        assert mixture.total_reo() == pytest.approx(250.0, rel=1e-12)


# --- the three conflicts the issue names -----------------------------------------------------------
def _conflict(key: str):
    found = [c for c in DS.conflicts() if c.key == key]
    assert len(found) == 1, f"{key} is not listed as a conflict"
    return found[0]


def test_conflict_resource_value_lists_rm800bn_rm809_6bn_rm1tn() -> None:
    conflict = _conflict("resource.malaysia.value")
    in_bn = sorted(round(v.magnitude("billion MYR"), 1) for v in conflict.values)
    assert {800.0, 809.6, 1000.0} <= set(in_bn)
    assert len({v.source.id for v in conflict.values}) >= 2


def test_conflict_malaysian_output_usgs_vs_china_imports() -> None:
    conflict = _conflict("production.malaysia.2023")
    by_source = {v.source.id: v.magnitude("t/yr") for v in conflict.values}
    assert by_source["usgs-mcs-2025-ree"] == 310
    assert 19081 in by_source.values()


def test_conflict_kenering_partner_chinalco_vs_china_rare_earth_group() -> None:
    conflict = _conflict("facility.kenering.partner")
    assert {v.value for v in conflict.values} == {"Chinalco", "China Rare Earth Group"}


def test_agreeing_sources_are_not_conflicts() -> None:
    keys = {c.key for c in DS.conflicts()}
    # Several sources, same figure (1,687,500 t vs 1.69 Mt; 0.16 % Th vs 1,600 ppm): agreement, not conflict.
    assert "resource.malaysia.perak" not in keys
    assert "feed.mt_weld_concentrate.th_ppm" not in keys
    assert DS.value("feed.mt_weld_concentrate.th_ppm", "ppm") == pytest.approx(1600)
    assert DS.all("feed.mt_weld_concentrate.th_ppm")[1].magnitude("ppm") == pytest.approx(1600)


# --- internal consistency, checked by independent arithmetic ---------------------------------------
def test_usgs_country_production_sums_to_world_total() -> None:
    countries = {k.split(".")[1] for k in DS.keys("production.") if k.endswith(".2024")} - {"world"}
    for year, world in ((2023, 376_000), (2024, 390_000)):
        total = 0.0
        for country in countries:
            entries = [
                e for e in DS.all(f"production.{country}.{year}") if e.source.id == "usgs-mcs-2025-ree"
            ]
            total += entries[0].magnitude("t/yr") if entries else 0.0
        assert DS.value(f"production.world.{year}", "t/yr") == world
        assert total == pytest.approx(world, rel=0.02)  # USGS rounds the world total


def test_state_resources_sum_to_listed_total() -> None:
    states = ("terengganu", "kelantan", "perak", "kedah", "pahang")
    total = sum(DS.value(f"resource.malaysia.{s}", "Mt") for s in states)
    assert total == pytest.approx(DS.value("resource.malaysia.listed_states_total", "Mt"), rel=1e-9)
    assert total < DS.value("resource.malaysia.total_treo", "Mt")


def test_lynas_residue_components_sum_to_total() -> None:
    parts = ("wlp", "nuf", "fgd")
    total = sum(DS.value(f"facility.lynas_malaysia.residue.{p}_t_per_t_reo") for p in parts)
    assert total == pytest.approx(DS.value("facility.lynas_malaysia.residue.total_t_per_t_reo"), abs=1e-9)


def test_ndfeb_re_input_is_sum_of_re_metals() -> None:
    total = sum(DS.value(f"magnet.ndfeb.bom.{el}") for el in ("Nd", "Pr", "Dy"))
    assert total == pytest.approx(DS.value("magnet.ndfeb.re_metal_input"), abs=5e-4)


def test_derived_cny_prices_follow_quote_and_rate() -> None:
    """A price derived from a China domestic quote = quote / the rate it names (/ 1.13 without VAT)."""
    checked = 0
    for key in DS.keys("price."):
        for entry in DS.all(key):
            quotes = [k for k in entry.derived_from if k.startswith("quote.") and "china_domestic" in k]
            if entry.kind != "derived" or not quotes:
                continue
            rates = [k for k in entry.derived_from if k.startswith("fx.CNY_per_USD")] or ["fx.CNY_per_USD"]
            vat = (
                1.0 + DS.value("tax.china.vat_rate", "fraction")
                if "tax.china.vat_rate" in entry.derived_from
                else 1.0
            )
            expected = DS.value(quotes[0], "CNY/kg") / DS.value(rates[0], "CNY/USD") / vat
            assert entry.magnitude("USD/kg") == pytest.approx(expected, rel=5e-3), key
            checked += 1
    assert checked >= 10


def test_mt_weld_ndpr_share_matches_reference_derivation() -> None:
    f = DS.composition("feed.mt_weld_concentrate").fractions
    assert f["Nd"] + f["Pr"] == pytest.approx(0.2382, abs=1e-4)  # 18.50 + 5.32 %


def test_composition_mass_conversion_matches_stoichiometry() -> None:
    """1 t of Mt Weld TREO holds 185 kg Nd2O3; as metal that is 185 * 2*M(Nd)/M(Nd2O3)."""
    mix = DS.composition("feed.mt_weld_concentrate").to_composition(total_reo_kg=1000.0)
    nd, o = 144.242, 15.999
    expected_metal = 185.0 * 2 * nd / (2 * nd + 3 * o)
    assert mix.element_mass()["Nd"] == pytest.approx(expected_metal, rel=2e-4)
    assert element("Nd").atomic_weight == pytest.approx(nd, rel=1e-4)


@pytest.mark.parametrize(
    ("feed", "constraints"),
    [
        ("feed.bayan_obo", {"Ce": "feed.bayan_obo.ce_share_treo"}),
        ("feed.ionic_clay_light", {"Ce": "feed.ionic_clay_light.ce_share_treo"}),
    ],
)
def test_constructed_feeds_reproduce_their_sourced_element_shares(
    feed: str, constraints: dict[str, str]
) -> None:
    comp = DS.composition(feed)
    for symbol, key in constraints.items():
        assert comp.fractions[symbol] == pytest.approx(DS.value(key, "fraction"), abs=1e-4)


def test_constructed_feeds_respect_sourced_group_shares() -> None:
    lree = ("La", "Ce", "Pr", "Nd")

    def share(feed: str, symbols: tuple[str, ...]) -> float:
        fractions = DS.composition(feed).fractions
        return sum(fractions.get(s, 0.0) for s in symbols)

    assert share("feed.bayan_obo", lree) >= DS.value("feed.bayan_obo.lree_share_treo", "fraction")
    assert share("feed.ionic_clay_light", lree) == pytest.approx(
        DS.value("feed.ionic_clay_light.lree_share_treo", "fraction"), abs=1e-4
    )
    mid = DS.composition("feed.ionic_clay_middle_y_eu").fractions
    assert mid["Y"] > DS.value("feed.ionic_clay_middle_y_eu.y_share_treo", "fraction")
    assert mid["Eu"] > DS.value("feed.ionic_clay_middle_y_eu.eu_share_treo", "fraction")
    mree = sum(mid[s] for s in ("Sm", "Eu", "Gd", "Tb", "Dy"))
    assert mree > DS.value("feed.ionic_clay_middle_y_eu.mree_share_treo", "fraction")


# --- API behaviour ---------------------------------------------------------------------------------
def test_unknown_key_names_close_matches() -> None:
    with pytest.raises(UnknownKeyError) as info:
        DS.get("production.malaysia.2022")
    assert isinstance(info.value, KeyError) and isinstance(info.value, InputError)
    assert "production.malaysia.2023" in str(info.value)


def test_value_converts_units() -> None:
    assert DS.value("resource.malaysia.value", "MYR") == pytest.approx(8.0e11)
    assert DS.value("production.malaysia.2023", "kt/yr") == pytest.approx(0.31)
    assert DS.value("facility.lynas_malaysia.concentrate_grade_treo", "fraction") == pytest.approx(0.40)


def test_text_value_refuses_magnitude() -> None:
    assert DS.text("facility.kenering.partner") == "China Rare Earth Group"
    with pytest.raises(InputError, match="text value"):
        DS.value("facility.kenering.partner")


def test_conversion_between_dimensions_refused() -> None:
    with pytest.raises(InputError, match="dimensions differ"):
        DS.value("production.malaysia.2023", "USD")


def test_load_is_cached_and_user_folder_can_extend_package(tmp_path: Path) -> None:
    assert load_dataset() is DS
    (tmp_path / "sources").mkdir()
    (tmp_path / "values").mkdir()
    (tmp_path / "values" / "mine.yaml").write_text(
        "values:\n  - {key: production.malaysia.2023, value: 2500, unit: t/yr, range: [2000, 3000],\n"
        "     source: mine2magnet-assumption, kind: assumption, note: 'user scenario'}\n"
    )
    extended = load_dataset(tmp_path, with_package_data=True)
    assert len(extended.all("production.malaysia.2023")) == len(DS.all("production.malaysia.2023")) + 1
    assert DS.value("production.malaysia.2023") == 310  # the cached package dataset is untouched


def test_series_collects_yearly_keys() -> None:
    nd = DS.series("price.Nd2O3")
    assert list(nd) == [2018, 2019, 2020, 2021, 2022, 2023, 2024]
    assert nd[2022].magnitude("USD/kg") == 134  # USGS MCS 2025 table
    assert DS.series("price.nothing") == {}


def test_to_frame_has_one_row_per_entry_with_provenance() -> None:
    frame = DS.to_frame("production.malaysia.")
    assert len(frame) == sum(len(DS.all(k)) for k in DS.keys("production.malaysia."))
    row = frame[(frame.key == "production.malaysia.2023") & frame.preferred].iloc[0]
    assert row.value == 310 and row.source_id == "usgs-mcs-2025-ree" and row.source_url.startswith("https://")
    text_rows = DS.to_frame("facility.kenering.partner")
    assert set(text_rows.text) == {"Chinalco", "China Rare Earth Group"}
    assert text_rows.value.isna().all()


def test_duplicate_urls_groups_entries_sharing_an_address() -> None:
    dupes = DS.duplicate_urls()
    for url, ids in dupes.items():
        assert len(ids) > 1
        assert all(DS.sources[i].url.rstrip("/") == url for i in ids)


def test_bounds_converts_the_stated_range() -> None:
    assert DS.bounds("facility.khazanah_refinery.capacity", "kt/yr") == pytest.approx((2.0, 25.0))
    assert DS.bounds("production.malaysia.2024") is None
