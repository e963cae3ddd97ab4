"""The persistent design cache: a hit returns what a fresh design returns; misses, corrupt, foreign and stale
files are designed again and rewritten; MINE2MAGNET_CACHE=off disables it. Every test uses its own folder,
so nothing depends on a warm cache."""

from __future__ import annotations

import importlib
import json

import pytest

from mine2magnet.errors import InfeasibleError
from mine2magnet.separation import design
from mine2magnet.separation.cascade_design import cache as design_cache

SPEC = {
    "components": ["La", "Ce", "Pr", "Nd"],
    "model": {
        "type": "loaded-separation-factor",
        "separation_factors": {"La": 1.0, "Ce": 2.0, "Pr": 4.0, "Nd": 5.8},
    },
    "feed": {"phase": "aqueous", "flow": {"La": 25.0, "Ce": 50.0, "Pr": 6.0, "Nd": 19.0}},
    "cut": "Ce|Pr",
    "targets": {"raffinate": {"purity": 0.999}, "extract": {"purity": 0.999}},
}
LADDER = (1.15, 1.4, 2.0)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(design_cache.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "designs"


@pytest.fixture
def counted(monkeypatch):
    """Counts the designs actually made (misses)."""
    # the module (the package re-exports a function of the same name)
    design_module = importlib.import_module("mine2magnet.separation.cascade_design.design")
    calls = []
    original = design_module.design

    def counting(spec, **options):
        calls.append(spec)
        return original(spec, **options)

    monkeypatch.setattr(design_module, "design", counting)
    return calls


def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "search"}


def test_a_hit_returns_the_fresh_design(folder, counted):
    fresh = design(SPEC, flow_ladder=LADDER).to_dict()
    first = design_cache.cached_design(SPEC, flow_ladder=LADDER)
    assert len(counted) == 1
    files = list(folder.glob("*.json"))
    assert len(files) == 1 and not list(folder.glob("*.tmp"))
    second = design_cache.cached_design(SPEC, flow_ladder=LADDER)
    assert len(counted) == 1  # read back, not designed again
    assert second == first
    assert _strip(second) == _strip(json.loads(json.dumps(fresh)))


def test_the_key_follows_the_request(folder, counted):
    design_cache.cached_design(SPEC, flow_ladder=LADDER)
    other_targets = {**SPEC, "targets": {"raffinate": {"purity": 0.9995}, "extract": {"purity": 0.999}}}
    design_cache.cached_design(other_targets, flow_ladder=LADDER)
    design_cache.cached_design(SPEC, flow_ladder=(1.2, 2.0))
    other_feed = {**SPEC, "feed": {**SPEC["feed"], "flow": {**SPEC["feed"]["flow"], "La": 26.0}}}
    design_cache.cached_design(other_feed, flow_ladder=LADDER)
    assert len(counted) == 4
    assert len(list(folder.glob("*.json"))) == 4
    # key order of the spec does not matter
    design_cache.cached_design(dict(reversed(list(SPEC.items()))), flow_ladder=LADDER)
    assert len(counted) == 4


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: "not json at all",
        lambda text: json.dumps({"format": "something else", "result": json.loads(text)["result"]}),
        lambda text: text.replace('"converged": true', '"converged": false', 1),
        lambda text: json.dumps({**json.loads(text), "request": {"spec": {}, "options": {}}}),  # foreign
        lambda text: json.dumps({**json.loads(text), "result": []}),
    ],
    ids=["truncated", "garbage", "foreign-format", "not-converged", "other-request", "bad-result"],
)
def test_a_damaged_file_is_ignored_and_rewritten(folder, counted, damage):
    first = design_cache.cached_design(SPEC, flow_ladder=LADDER)
    (path,) = folder.glob("*.json")
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    again = design_cache.cached_design(SPEC, flow_ladder=LADDER)
    assert len(counted) == 2
    assert _strip(again) == _strip(first)
    entry = json.loads(path.read_text(encoding="utf-8"))  # rewritten whole
    assert entry["format"] == design_cache.FORMAT and entry["result"]["stages"] == first["stages"]


def test_another_code_version_misses(folder, counted, monkeypatch):
    design_cache.cached_design(SPEC, flow_ladder=LADDER)
    monkeypatch.setattr(design_cache, "code_version", lambda: "some other code")
    design_cache.cached_design(SPEC, flow_ladder=LADDER)
    assert len(counted) == 2
    assert len(list(folder.glob("*.json"))) == 2


def test_code_version_names_the_sources():
    version = design_cache.code_version()
    assert "mine2magnet" in version and "numpy" in version and "separation " in version


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "none"])
def test_off_disables_the_cache(tmp_path, monkeypatch, counted, value):
    monkeypatch.setenv(design_cache.CACHE_ENV, value)
    assert design_cache.cache_folder() is None
    monkeypatch.chdir(tmp_path)
    design_cache.cached_design(SPEC, flow_ladder=LADDER)
    design_cache.cached_design(SPEC, flow_ladder=LADDER)
    assert len(counted) == 2
    assert not list(tmp_path.rglob("*.json"))


def test_default_folder_is_the_user_cache(monkeypatch):
    monkeypatch.delenv(design_cache.CACHE_ENV, raising=False)
    from platformdirs import user_cache_dir

    assert design_cache.cache_folder() == (
        design_cache.Path(user_cache_dir("mine2magnet", appauthor=False)) / "designs"
    )


def test_an_unwritable_folder_still_designs(tmp_path, monkeypatch, counted):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    monkeypatch.setenv(design_cache.CACHE_ENV, str(blocker))
    result = design_cache.cached_design(SPEC, flow_ladder=LADDER)
    assert result["stages"]["extraction"] > 0 and len(counted) == 1


def test_failed_designs_are_not_cached(folder, counted):
    impossible = {**SPEC, "targets": {"raffinate": {"purity": 0.999}, "extract": {"purity": 0.999999999}}}
    for _ in range(2):
        with pytest.raises(InfeasibleError):
            design_cache.cached_design(impossible, flow_ladder=LADDER, max_stages=20)
    assert len(counted) == 2
    assert not folder.exists() or not list(folder.glob("*.json"))


def _package_copy(tmp_path):
    """A copy of the separation package's sources to move modules around in."""
    import shutil
    from pathlib import Path

    src = Path(design_cache.__file__).resolve().parents[1]
    dst = tmp_path / "separation"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "examples"))
    return dst


def _rewrite(folder, old: str, new: str) -> None:
    for path in folder.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if old in text:
            path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_pure_move_keeps_the_code_version_and_a_change_does_not(tmp_path):
    folder = _package_copy(tmp_path)
    before = design_cache.source_digest(folder)
    # move a module to another sub-package and rewrite every path that names it (what a git mv commit does)
    (folder / "solvers/steady/lsf_murphree.py").rename(folder / "solvers/lsf_murphree.py")
    _rewrite(
        folder,
        "mine2magnet.separation.solvers.steady.lsf_murphree",
        "mine2magnet.separation.solvers.lsf_murphree",
    )
    assert design_cache.source_digest(folder) == before
    # any change of content is a new version
    path = folder / "solvers/lsf_murphree.py"
    path.write_text(path.read_text(encoding="utf-8").replace("import numpy as np", "import numpy as np  # x"))
    assert design_cache.source_digest(folder) != before


def test_an_import_that_reaches_other_content_is_a_new_version(tmp_path):
    folder = _package_copy(tmp_path)
    original = folder / "solvers/steady/lsf_murphree.py"
    text = original.read_text(encoding="utf-8")
    # a second module with other content; the simulator still imports the first
    (folder / "solvers/steady/lsf_murphree_alt.py").write_text(text + "\nALTERED = True\n", encoding="utf-8")
    first = design_cache.source_digest(folder)
    _rewrite(folder, "solvers.steady.lsf_murphree import", "solvers.steady.lsf_murphree_alt import")
    assert design_cache.source_digest(folder) != first  # same files, but simulate now reaches other code
    # an identical copy behind the import is the same code
    (folder / "solvers/steady/lsf_murphree_alt.py").write_text(text, encoding="utf-8")
    redirected = design_cache.source_digest(folder)
    _rewrite(folder, "solvers.steady.lsf_murphree_alt import", "solvers.steady.lsf_murphree import")
    assert design_cache.source_digest(folder) == redirected
