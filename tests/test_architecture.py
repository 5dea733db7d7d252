"""The import rules of docs/architecture.md hold on this repository, and the checker catches each violation."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("check_architecture", ROOT / "scripts" / "check_architecture.py")
assert _spec and _spec.loader
checker = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = checker  # dataclasses look their module up
_spec.loader.exec_module(checker)


def test_this_repository_follows_the_rules():
    assert checker.check(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"nlhf_core/__init__.py": "", "app/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


GOOD = {
    "nlhf_core/games/__init__.py": "",
    "nlhf_core/games/game.py": "import numpy as np\n",
    "nlhf_core/equilibria/__init__.py": "",
    "nlhf_core/equilibria/nash.py": "from nlhf_core.games.game import np\n",
    "nlhf_core/viz/__init__.py": "",
    "nlhf_core/viz/figures.py": "import plotly.graph_objects as go\nfrom nlhf_core.equilibria import nash\n",
}


def test_a_clean_tree_passes(tmp_path):
    assert checker.check(_tree(tmp_path, GOOD)) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a cycle hidden in a function-level import
        (
            {
                "nlhf_core/games/io.py": "from nlhf_core.games import presets\n",
                "nlhf_core/games/presets.py": "def f():\n    from nlhf_core.games.io import x\n",
            },
            "import cycle between nlhf_core.games.io, nlhf_core.games.presets",
        ),
        # a relative import counts too
        (
            {"nlhf_core/games/a.py": "from . import b\n", "nlhf_core/games/b.py": "from .a import x\n"},
            "import cycle between nlhf_core.games.a, nlhf_core.games.b",
        ),
        # a lower layer importing a higher one, even inside a function
        (
            {"nlhf_core/games/io.py": "def f():\n    from nlhf_core.equilibria.nash import x\n"},
            "nlhf_core.games.io (layer 1) imports nlhf_core.equilibria.nash (layer 2), a higher layer",
        ),
        (
            {"nlhf_core/llm/report.py": "import plotly.graph_objects as go\n"},
            "plotly is imported outside nlhf_core/viz",
        ),
        ({"app/charts.py": "from plotly import graph_objects\n"}, "plotly is imported outside nlhf_core/viz"),
        ({"nlhf_core/games/view.py": "def f():\n    import streamlit as st\n"}, "nlhf_core imports streamlit"),
    ],
)
def test_each_violation_is_reported(tmp_path, files, expected):
    problems = checker.check(_tree(tmp_path, {**GOOD, **files}))
    assert any(expected in line for line in problems), problems


def test_type_checking_imports_do_not_make_cycles_but_keep_layers(tmp_path):
    guarded = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nlhf_core.games.b import B\n"
    tree = _tree(
        tmp_path, {**GOOD, "nlhf_core/games/a.py": guarded, "nlhf_core/games/b.py": "from nlhf_core.games.a import x\n"}
    )
    assert checker.check(tree) == []
    upward = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nlhf_core.viz.figures import go\n"
    assert any("a higher layer" in p for p in checker.check(_tree(tmp_path, {**GOOD, "nlhf_core/games/c.py": upward})))
