"""`nlhf compare`: head-to-head win rates."""

from __future__ import annotations

import numpy as np

from .runner import assert_refused, run_cli, run_json


def test_compare_contract(capsys):
    data = run_json(
        capsys, "compare", "preset:condorcet-winner", "--tau", "0.1", "--solvers", "nash-md,mwu", "-n", "100"
    )
    assert data["names"][-2:] == ["nash-md", "mwu"]
    W = np.array(data["win_rates"])
    np.testing.assert_allclose(W + W.T, 1.0, atol=1e-12)
    assert len(data["exploitability"]) == len(data["names"]) and "Nash policy beats" in data["verdict"]
    code, out, _ = run_cli(capsys, "compare", "preset:biased-cycle", "--tau", "0.1", "--solvers", "")
    assert code == 0 and "exploitability" in out


def test_compare_refuses_bad_arguments(capsys):
    argv = ["compare", "preset:biased-cycle", "--tau", "0.1", "--solvers", "magic"]
    assert_refused(capsys, argv, "no algorithm 'magic'")
