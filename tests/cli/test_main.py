"""The `nlhf` entry point: the error contract (one sentence, exit 2, no traceback) and the command table."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import nlhf_core.cli
from nlhf_core.cli.main import COMMANDS, main

from .runner import run_cli

#: Modules of nlhf_core/cli that are not commands.
SHARED_MODULES = {"__main__", "main", "arguments", "output"}
COMMAND_MODULES = sorted(m.name for m in pkgutil.iter_modules(nlhf_core.cli.__path__) if m.name not in SHARED_MODULES)


def test_every_command_module_has_add_parser_and_run_and_is_registered():
    assert set(COMMAND_MODULES) == set(COMMANDS) and len(COMMANDS) == 11
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"nlhf_core.cli.{name}")
        assert COMMANDS[name] is module
        assert list(inspect.signature(module.add_parser).parameters) == ["subparsers"]
        assert list(inspect.signature(module.run).parameters) == ["args"]


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and _listed_commands(out) == list(COMMANDS)


def test_console_script_points_at_main():
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["nlhf"] == "nlhf_core.cli.main:main"
    usage = subprocess.run(
        [sys.executable, "-m", "nlhf_core.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert usage.returncode == 0 and _listed_commands(usage.stdout) == list(COMMANDS)


def _listed_commands(help_text: str) -> list[str]:
    """The command names ``nlhf --help`` lists under COMMAND (indented four spaces)."""
    return re.findall(r"^    (\S+)\s", help_text, flags=re.MULTILINE)


BAD_FILES = {
    "non-square.csv": (",a,b\na,0.5,0.5,0.5\nb,0.5,0.5\n", "has 3 values but there are 2 columns"),
    "labels.json": ('{"labels": ["a"], "matrix": [[0.5, 0.5], [0.5, 0.5]]}', "has 1 labels but a 2×2 matrix"),
    "duplicate.json": ('{"labels": ["a", "a"], "matrix": [[0.5, 0.5], [0.5, 0.5]]}', "appears twice"),
    "nan.csv": (",a,b\na,0.5,nan\nb,0.5,0.5\n", "Cell (a, b) is NaN"),
    "range.json": ('{"labels": ["a", "b"], "matrix": [[0.5, 1.5], [-0.5, 0.5]]}', "outside [0, 1]"),
    "complement.csv": (",a,b\na,0.5,0.3\nb,0.6,0.5\n", "add up to 0.9, not 1; set (b, a) to 0.7"),
    "diagonal.csv": (",a,b\na,0.4,0.5\nb,0.5,0.5\n", "ties with itself"),
    "empty.json": ('{"labels": [], "matrix": []}', "The game is empty"),
    "broken.json": ('{"labels": [', "malformed at line 1"),
    "formula.csv": (",a,b\na,0.5,=1/2\nb,0.5,0.5\n", "is '=1/2', not a number"),
    # near-misses print enough digits to show what is wrong (issue 19)
    "complement-near.csv": (
        ",a,b\na,0.5,0.3\nb,0.7000002,0.5\n",
        "(b, a) = 0.7000002 add up to 1.0000002, not 1; set (b, a) to 0.7",
    ),
    "complement-tiny.json": (
        '{"labels": ["a", "b"], "matrix": [[0.5, 1e-8], [0.999999993, 0.5]]}',
        "(b, a) = 0.999999993 add up to 1.000000003, not 1; set (b, a) to 0.99999999",
    ),
    "diagonal-near.csv": (",a,b\na,0.50000001,0.5\nb,0.5,0.5\n", "Cell (a, a) is 0.50000001 but"),
    # separators that are not commas, and trailing commas (issue 19)
    "semicolons.csv": (";a;b\na;0.5;0.3\nb;0.7;0.5\n", "separate its values with semicolons (';'), not commas"),
    "decimal-commas.csv": (";a;b\na;0,5;0,3\nb;0,7;0,5\n", "semicolons (';') and to write commas as decimal points"),
    "tabs.csv": ("\ta\tb\na\t0.5\t0.3\nb\t0.7\t0.5\n", "seems to separate its values with tabs, not commas"),
    "trailing.csv": (",a,b,\na,0.5,0.3,\nb,0.7,0.5,\n", "Every row of the CSV ends with a comma"),
    "trailing-rows.csv": (",a,b\na,0.5,0.3,\nb,0.7,0.5,\n", "Every row of the CSV ends with a comma"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_exit_2_with_one_sentence(capsys, tmp_path, name):
    text, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    code, out, err = run_cli(capsys, "equilibrium", str(path), "--json")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["equilibrium", "preset:biased-cycle", "--tau", "0"], "tau = 0 is not a positive number"),
        (["equilibrium", "preset:biased-cycle", "--tau", "1e-9"], "below the supported minimum"),
        (["equilibrium", "preset:biased-cycle", "--tau", "nan"], "tau = nan"),
        (["equilibrium", "preset:biased-cycle", "--reference", "uniform"], "only matters with --tau"),
        (["equilibrium", "preset:nope"], "There is no preset 'nope'"),
        (["equilibrium", "missing.json"], "There is no file 'missing.json'"),
        (["solve", "preset:biased-cycle", "-a", "nash-md", "--eta", "1e6"], "eta = 1e6 is outside"),
        (
            ["solve", "preset:biased-cycle", "-a", "nash-md", "--tau", "0.5", "--eta", "5"],
            "eta × tau = 2.5 exceeds 1",
        ),
        (["solve", "preset:biased-cycle", "-a", "magic"], "There is no algorithm 'magic'"),
        (["solve", "preset:biased-cycle", "-a", "nash-md", "-n", "0"], "iterations = 0 is outside"),
        (["solve", "preset:biased-cycle", "-a", "nash-md", "--param", "oops"], "is not NAME=VALUE"),
        (
            ["solve", "preset:biased-cycle", "-a", "nash-md", "--init", "nofile.txt"],
            "There is no initial policy file",
        ),
        (["solve", "preset:biased-cycle"], "the following arguments are required: --algorithm"),
        (["equilibrium", "preset:biased-cycle", "--tau", "abc"], "invalid float value: 'abc'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_exit_2_with_one_sentence(capsys, argv, expected):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert expected.lower() in err.lower() and err.count("\n") == 1 and "Traceback" not in err


def test_console_script_exit_codes_without_tracebacks(tmp_path):
    """The real entry point, in a subprocess: exit status and stderr as a user sees them."""
    ok = subprocess.run(
        [sys.executable, "-m", "nlhf_core.cli", "equilibrium", "preset:rock-paper-scissors", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["policy"] == pytest.approx([1 / 3] * 3)
    bad = tmp_path / "bad.csv"
    bad.write_text(",a,b\na,0.5,0.3\nb,0.6,0.5\n")
    fail = subprocess.run(
        [sys.executable, "-m", "nlhf_core.cli", "equilibrium", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fail.returncode == 2 and fail.stdout == ""
    assert fail.stderr.startswith("error: Cells (a, b) = 0.3") and "Traceback" not in fail.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "nlhf_core.cli", "solve", "preset:x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_size_limit_in_the_cli(capsys, tmp_path, monkeypatch):
    import nlhf_core.games.validation as games

    monkeypatch.setattr(games, "MAX_RESPONSES", 3)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"labels": list("abcd"), "matrix": np.full((4, 4), 0.5).tolist()}))
    code, out, err = run_cli(capsys, "equilibrium", str(path), "--json")
    assert code == 2 and out == "" and "4 responses, more than the limit of 3" in err
