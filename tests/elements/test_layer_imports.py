"""The elements layer sits at the bottom of the house (DESIGN.md): it imports nothing of mine2magnet but
itself and the shared exception types in ``mine2magnet.errors``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import mine2magnet.elements

ALLOWED = ("mine2magnet.elements", "mine2magnet.errors")


def _package_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("mine2magnet")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("mine2magnet"):
                names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.add("relative import")
    return names


def test_elements_sources_import_only_elements_and_errors() -> None:
    folder = Path(mine2magnet.elements.__file__).parent
    files = sorted(folder.rglob("*.py"))
    assert len(files) >= 5
    for path in files:
        for name in _package_imports(path):
            assert name.startswith(ALLOWED), f"{path.name} imports {name}"


def test_importing_elements_loads_no_other_layer() -> None:
    code = (
        "import sys, mine2magnet.elements; "
        "print(sorted(m for m in sys.modules if m.startswith('mine2magnet.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = ast.literal_eval(out.strip())
    assert loaded and all(m.startswith(ALLOWED) for m in loaded), loaded
