"""Run `nlhf` in-process and capture what it prints."""

from __future__ import annotations

import json

from nlhf_core.cli.main import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``nlhf ARGV``: the exit status, stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> dict:
    """``nlhf ARGV --json``: the one JSON object it prints (after checking it succeeded silently)."""
    code, out, err = run_cli(capsys, *argv, "--json")
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def assert_refused(capsys, argv: list[str], expected: str) -> None:
    """``nlhf ARGV`` exits 2, prints nothing on stdout and one line on stderr that contains ``expected``."""
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == "" and expected in err and err.count("\n") == 1
