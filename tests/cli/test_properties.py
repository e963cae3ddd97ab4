"""Property tests of the command line's helpers: names broken for narrow columns lose nothing, default output
folders never leave out/, normalised paths keep no inner '..', Excel sheet names are distinct and short."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mine2magnet.cli.run import clean_path, default_out
from mine2magnet.cli.tables import breakable
from mine2magnet.errors import InputError
from mine2magnet.store.results_store import sheet_names

NAMES = st.text(alphabet=st.sampled_from("abcxyz-+._:/ é"), min_size=0, max_size=80)


@given(name=NAMES, width=st.integers(4, 40))
def test_breakable_keeps_every_character_and_breaks_only_where_allowed(name, width):
    text = breakable(name, width)
    assert text.replace("\n", "") == name
    lines = text.split("\n")
    for left, right in itertools.pairwise(lines):
        assert left[-1] in "-.:/_" or right[0] == "+"  # a break after - . : / _ or before +

    # a line longer than `width` has no break inside it: none after - . : / _ (but at its end), none before +
    # (but at its start)
    def unbreakable(line: str) -> bool:
        return not any(c in line[:-1] for c in "-.:/_") and "+" not in line[1:]

    assert all(len(line) <= width or unbreakable(line) for line in lines)


@given(label=st.text(min_size=0, max_size=40))
def test_a_default_out_folder_is_one_folder_under_out_or_refused(label):
    try:
        out = default_out(label)
    except InputError as exc:
        assert "cannot name a folder under out/" in str(exc)
        return
    assert out.parent == Path("out") and out.name == label
    assert clean_path(out) == out  # no '.' or '..' to resolve: it stays where it says


@given(parts=st.lists(st.sampled_from(["a", "b c", "é", ".", ".."]), min_size=1, max_size=8))
def test_clean_path_leaves_no_inner_dots(parts):
    cleaned = clean_path(Path(*parts)).parts
    inner = cleaned[next((i for i, p in enumerate(cleaned) if p != ".."), len(cleaned)) :]
    assert (".." not in inner and "." not in inner) or cleaned == (".",)


@given(tables=st.lists(st.text(alphabet="abc_", min_size=1, max_size=63), unique=True, max_size=30))
def test_sheet_names_are_distinct_and_fit_excel(tables):
    sheets = sheet_names(tables)
    assert list(sheets) == tables
    assert len({s.lower() for s in sheets.values()}) == len(tables)
    assert all(1 <= len(s) <= 31 for s in sheets.values())
    alone = [t for t in tables if len(t) <= 31 and sum(u[:31].lower() == t.lower() for u in tables) == 1]
    assert all(sheets[t] == t for t in alone)


@pytest.mark.parametrize(
    ("label", "ok"), [("cas d'étude", True), ("a b", True), ("../x", False), (".x", False)]
)
def test_default_out_examples(label, ok):
    if ok:
        assert default_out(label) == Path("out") / label
    else:
        with pytest.raises(InputError):
            default_out(label)
