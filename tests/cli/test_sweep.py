"""`nlhf sweep`: final metrics over an (eta, tau) grid."""

from __future__ import annotations

import pytest

from .runner import assert_refused, run_cli, run_json


def test_sweep_contract(capsys):
    data = run_json(
        capsys, "sweep", "preset:biased-cycle", "-a", "nash-md", "--eta", "0.1:10:3", "--tau", "0.2", "-n", "100"
    )
    assert data["etas"] == pytest.approx([0.1, 1.0, 10.0]) and data["taus"] == [0.2]
    grid = data["metrics"]["kl_to_equilibrium"]
    assert len(grid) == 1 and len(grid[0]) == 3 and grid[0][2] is None  # eta × tau = 2 > 1: not valid
    code, out, _ = run_cli(capsys, "sweep", "preset:biased-cycle", "-a", "mwu", "--eta", "0.01:0.1:2")
    assert code == 0 and "kl to equilibrium" in out and "0.01" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sweep", "preset:biased-cycle", "-a", "nash-md"], "Give --eta a:b:k and/or --tau"),
        (["sweep", "preset:biased-cycle", "-a", "nash-md", "--eta", "1:2"], "a:b:k"),
        (["sweep", "preset:biased-cycle", "-a", "mwu", "--tau", "0.1"], "no tau to sweep"),
    ],
)
def test_sweep_refuses_bad_arguments(capsys, argv, expected):
    assert_refused(capsys, argv, expected)
