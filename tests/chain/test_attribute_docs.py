"""docs/chain.md's facility attribute tables are the attribute CSVs (one source of defaults and units)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mine2magnet.chain import FACILITY_TYPES, describe

DOC = Path(__file__).resolve().parents[2] / "docs" / "chain.md"


@pytest.mark.parametrize("kind", FACILITY_TYPES)
def test_docs_table_lists_every_attribute_as_the_csv_does(kind):
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(f"### `{kind}`") :]
    table = section[section.index("| attribute |") : section.index("\n\n", section.index("| attribute |"))]
    rows = [line.split(" | ")[0].removeprefix("| ") for line in table.splitlines()[2:]]
    assert rows == [r["attribute"] for r in describe(kind)]
