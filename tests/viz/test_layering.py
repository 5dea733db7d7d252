"""Only nlhf_core/viz imports Plotly; the app's chart helper and viz itself stay below their callers."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports count)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_plotly_is_imported_only_in_viz():
    offenders = [
        str(path.relative_to(ROOT))
        for path in [*(ROOT / "nlhf_core").rglob("*.py"), ROOT / "app" / "charts.py"]
        if "viz" not in path.relative_to(ROOT).parts and any(n.split(".")[0] == "plotly" for n in _imports(path))
    ]
    assert offenders == []


def test_viz_imports_no_layer_above_algorithms():
    allowed = ("nlhf_core.viz", "nlhf_core.algorithms")
    for path in (ROOT / "nlhf_core" / "viz").glob("*.py"):
        ours = [n for n in _imports(path) if n.startswith("nlhf_core")]
        assert all(n.startswith(allowed) for n in ours), (path.name, ours)
