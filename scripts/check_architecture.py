"""Check the import rules of docs/architecture.md on every Python file (run by ``make lint``).

Rules, checked on every ``import`` statement, function-level and ``TYPE_CHECKING`` ones included:

1. Layers: a module of ``nlhf_core`` imports only from its own layer or lower ones (``LAYERS``).
2. No import cycles between modules of ``nlhf_core`` (imports under ``if TYPE_CHECKING:`` never run, so
   they do not count for cycles; they do count for layers).
3. Only ``nlhf_core/viz`` imports ``plotly`` (the app included: it hands figure specs to Streamlit).
4. ``nlhf_core`` never imports ``streamlit``.

Usage: ``python scripts/check_architecture.py [ROOT]``; prints one line per violation and exits 1 if any.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Layer of each top-level part of ``nlhf_core``, lowest first (docs/architecture.md, "Data flow and layers").
LAYERS: dict[str, int] = {
    "budget": 0,
    "errors": 0,
    "files": 0,
    "numerics": 0,
    "params": 0,
    "registry": 0,
    "games": 1,
    "equilibria": 2,
    "algorithms": 3,
    "baselines": 4,
    "feedback": 5,
    "policy_gradient": 6,
    "viz": 7,
    "llm": 8,
    "study": 9,
    "cli": 10,
}
#: Folders scanned besides ``nlhf_core`` (for the Plotly rule).
OTHER_ROOTS = ("app",)


@dataclass(frozen=True)
class Import:
    """One imported module name, where it appears and whether it only runs for type checkers."""

    source: str
    target: str
    line: int
    type_checking: bool


def module_name(path: Path, root: Path) -> str:
    """Dotted module name of ``path`` (``nlhf_core/games/__init__.py`` → ``nlhf_core.games``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, type_checking: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        inside = type_checking or (isinstance(child, ast.If) and _is_type_checking(child.test))
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield stmt, True
                yield from _walk(stmt, True)
            for stmt in child.orelse:
                yield stmt, type_checking
                yield from _walk(stmt, type_checking)
            continue
        yield child, inside
        yield from _walk(child, inside)


def imports_of(path: Path, root: Path, modules: set[str]) -> list[Import]:
    """Every module ``path`` imports, relative imports resolved, ``from pkg import sub`` read as ``pkg.sub``."""
    source = module_name(path, root)
    package = source.split(".") if path.name == "__init__.py" else source.split(".")[:-1]
    found: list[Import] = []
    for node, type_checking in _walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(source, alias.name, node.lineno, type_checking) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            target = ".".join(p for p in (base, node.module or "") if p)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append(Import(source, sub if sub in modules else target, node.lineno, type_checking))
    return found


def layer_of(module: str) -> int | None:
    """The layer of an ``nlhf_core`` module (``None`` for the package itself and for other code)."""
    parts = module.split(".")
    if parts[0] != "nlhf_core" or len(parts) < 2:
        return None
    return LAYERS.get(parts[1])


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def check(root: Path) -> list[str]:
    """All violations under ``root`` (a repository checkout), one sentence each."""
    core_files = sorted((root / "nlhf_core").rglob("*.py"))
    other_files = sorted(p for name in OTHER_ROOTS for p in (root / name).rglob("*.py"))
    modules = {module_name(p, root) for p in core_files}
    problems: list[str] = []
    edges: dict[str, set[str]] = {}
    for path in core_files + other_files:
        rel = path.relative_to(root)
        in_core = rel.parts[0] == "nlhf_core"
        for imp in imports_of(path, root, modules):
            top = imp.target.split(".")[0]
            where = f"{rel}:{imp.line}"
            if top == "streamlit" and in_core:
                problems.append(f"{where}: nlhf_core imports streamlit; move the Streamlit code into app/.")
            if top == "plotly" and not (in_core and rel.parts[1] == "viz"):
                problems.append(
                    f"{where}: plotly is imported outside nlhf_core/viz; build the figure in nlhf_core/viz."
                )
            if not in_core or top != "nlhf_core":
                continue
            low, high = layer_of(imp.target), layer_of(imp.source)
            if low is not None and high is not None and low > high:
                problems.append(
                    f"{where}: {imp.source} (layer {high}) imports {imp.target} (layer {low}), a higher layer; "
                    "move the shared code down or invert the dependency."
                )
            if not imp.type_checking and imp.target in modules and imp.target != imp.source:
                edges.setdefault(imp.source, set()).add(imp.target)
    for component in cycles(edges):
        problems.append(f"import cycle between {', '.join(component)}; break it (docs/architecture.md).")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    problems = check(root)
    for line in problems:
        print(line)
    if not problems:
        print("architecture: layers, cycles, plotly and streamlit rules hold")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
