"""The data layer imports only the elements layer below it (DESIGN.md), plus ``mine2magnet.errors``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import mine2magnet.data

ALLOWED = ("mine2magnet.data", "mine2magnet.elements", "mine2magnet.errors")


def _package_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("mine2magnet")}
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.add("relative import")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mine2magnet"):
            names.add(node.module)
    return names


def test_data_sources_import_only_data_elements_and_errors() -> None:
    files = sorted(Path(mine2magnet.data.__file__).parent.rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        for name in _package_imports(path):
            assert name.startswith(ALLOWED), f"{path.name} imports {name}"


def test_importing_data_loads_no_higher_layer() -> None:
    code = (
        "import sys, mine2magnet.data; print(sorted(m for m in sys.modules if m.startswith('mine2magnet.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = ast.literal_eval(out.strip())
    assert any(m.startswith("mine2magnet.data") for m in loaded)
    assert all(m.startswith(ALLOWED) for m in loaded), loaded
