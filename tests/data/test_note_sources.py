"""Works named in notes: a note that names a source id must name one the bibliography holds.

Notes name further works by their source id (e.g. "Sprecher et al. 2014,
chain-sprecher-2014-nd-recycling-hdd"); such a work counts as cited. A word shaped like a dated source id
(letters, digits and at least two hyphens, one part a year) that is not in the bibliography is a typo or a
missing entry; "former id X" (a merged entry's old id) is the only exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pytest

from mine2magnet.data import load_dataset

DS = load_dataset()

_ID_SHAPED = re.compile(r"(?<![\w./:@-])([a-z][a-z0-9]*(?:-[a-z0-9]+){2,})(?![\w/-])")
_YEAR_PART = re.compile(r"(?:^|-)(?:19|20)\d\d(?:-|$)")


def unknown_ids(texts: Iterable[tuple[str, str]], known: Mapping[str, object]) -> list[str]:
    """``where: id`` for each dated id-shaped word of `texts` ((where, text) pairs) not in `known`."""
    out = []
    for where, text in texts:
        for m in _ID_SHAPED.finditer(text):
            word = m.group(1)
            if word in known or not _YEAR_PART.search(word):
                continue
            if text[: m.start()].rstrip().endswith("former id"):
                continue
            out.append(f"{where}: {word}")
    return out


def _notes() -> list[tuple[str, str]]:
    texts = [(f"{e.where} ({e.key})", e.note) for e in DS.entries() if e.note]
    texts += [(f"{c.file} ({c.key})", c.note) for c in DS.composition_entries() if c.note]
    texts += [(f"{o.where} ({o.key})", o.note) for o in DS.observations() if o.note]
    for s in DS.sources.values():
        texts += [
            (f"{s.file} ({s.id}.{name})", text) for name, text in (("note", s.note), ("via", s.via)) if text
        ]
    return texts


def test_notes_name_only_existing_source_ids() -> None:
    assert unknown_ids(_notes(), DS.sources) == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("USGS gives 310 t (usgs-mcs-2026-ree)", ["x: usgs-mcs-2026-ree"]),
        ("as usgs-mcs-2025-ree prints", []),  # an existing id
        ("Merged with former id proc-usgs-mcs-2025-grades (same URL)", []),  # an old id, named as such
        ("see https://example.org/usgs-mcs-2026-ree and the mt-weld-concentrate feed", []),  # URL; no year
    ],
)
def test_unknown_id_detection(text: str, flagged: list[str]) -> None:
    assert unknown_ids([("x", text)], DS.sources) == flagged


def test_a_work_named_in_a_note_counts_as_cited() -> None:
    citations = DS.note_citations()
    assert "chain.recycling.collection_rate" in citations["chain-sprecher-2014-nd-recycling-hdd"]
    assert "chain-sprecher-2014-nd-recycling-hdd" in DS.cited_sources()
