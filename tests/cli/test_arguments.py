"""Shared arguments: the library's messages name parameters, the command line adds its flags."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from nlhf_core.algorithms.sweep import parse_grid, sweep
from nlhf_core.cli.arguments import parse_grid_flag, parse_params
from nlhf_core.errors import ParameterError
from nlhf_core.games.presets import get_preset

from ..helpers import one_sentence
from .runner import assert_refused

#: Library packages whose messages must not mention command-line flags.
LIBRARY_PACKAGES = ("games", "algorithms", "baselines", "feedback")
FLAG = re.compile(r"(?<![\w-])--[a-z]")


@pytest.mark.parametrize(
    ("text", "library", "cli"),
    [
        ("abc", "The eta grid 'abc' is not a number or a range a:b:k", "--eta 'abc' is not a number"),
        ("1:2", "The eta grid '1:2' must be a:b:k", "--eta '1:2' must be a:b:k"),
        ("0:1:3", "The eta grid '0:1:3': the range ends must be positive", "--eta '0:1:3': the range ends"),
    ],
)
def test_grid_errors_name_the_parameter_in_the_library_and_the_flag_in_the_cli(text, library, cli):
    with pytest.raises(ParameterError) as in_library:
        parse_grid(text, "eta")
    with pytest.raises(ParameterError) as in_cli:
        parse_grid_flag(text, "eta")
    assert str(in_library.value).startswith(library) and "--" not in str(in_library.value)
    assert str(in_cli.value).startswith(cli)
    assert one_sentence(str(in_library.value)) and one_sentence(str(in_cli.value))


def test_grid_flag_parses_like_the_library():
    np.testing.assert_allclose(parse_grid_flag("0.01:1:3", "tau"), [0.01, 0.1, 1.0], rtol=1e-15)
    assert parse_grid_flag("0.5", "eta") == parse_grid("0.5") == [0.5]


@pytest.mark.parametrize(
    ("algorithm", "grid", "library", "cli"),
    [
        ("fictitious-play", {"etas": [0.1]}, "has no step size eta to sweep; leave etas out", "drop --eta"),
        ("mwu", {"taus": [0.1]}, "has no tau to sweep; leave taus out", "drop --tau"),
    ],
)
def test_sweep_refuses_a_missing_parameter_by_its_name_and_the_cli_by_its_flag(capsys, algorithm, grid, library, cli):
    with pytest.raises(ParameterError, match=library) as err:
        sweep(algorithm, get_preset("biased-cycle"), **grid)
    assert "--" not in str(err.value) and one_sentence(str(err.value))
    flag = "--eta" if "etas" in grid else "--tau"
    assert_refused(capsys, ["sweep", "preset:biased-cycle", "-a", algorithm, flag, "0.1"], cli)


def test_parse_params():
    assert parse_params(None) == []
    pairs = parse_params([" eta = 0.5", "schedule=theorem", "x="])
    assert pairs == [("eta", "0.5"), ("schedule", "theorem"), ("x", "")]
    for bad in ("oops", "=1"):
        with pytest.raises(ParameterError, match="is not NAME=VALUE"):
            parse_params([bad])


def test_library_messages_name_no_command_line_flags():
    """No string in the library packages (docstrings aside) mentions a ``--flag``: the CLI adds those."""
    root = Path(__file__).parents[2] / "nlhf_core"
    found = [
        f"{path.relative_to(root)}:{line}: {text!r}"
        for package in LIBRARY_PACKAGES
        for path in sorted((root / package).rglob("*.py"))
        for line, text in _strings_outside_docstrings(path)
        if FLAG.search(text)
    ]
    assert found == []


def _strings_outside_docstrings(path: Path) -> list[tuple[int, str]]:
    """Every string literal of ``path`` but the docstrings; an f-string's fields read as ``value``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in node.values)
            text = "".join(part.value if isinstance(part, ast.Constant) else "value" for part in node.values)
            found.append((node.lineno, text))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found.append((node.lineno, node.value))
    return found
