"""`nlhf equilibrium`: the exact Nash and regularized Nash policies."""

from __future__ import annotations

import json

import numpy as np

from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.games.presets import get_preset

from .runner import run_cli, run_json


def test_equilibrium_contract_and_values(capsys):
    data = run_json(capsys, "equilibrium", "preset:biased-cycle")
    assert set(data) >= {"labels", "policy", "tau", "exploitability", "regularized_gap"}
    assert data["labels"] == ["rock", "paper", "scissors"]
    np.testing.assert_allclose(data["policy"], np.array([1, 10, 5]) / 16, atol=1e-14)
    assert data["tau"] is None and data["regularized_gap"] is None
    assert 0 <= data["exploitability"] <= 1e-9 and data["unique"] is True


def test_regularized_equilibrium_with_reference_file(capsys, tmp_path):
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps([0.6, 0.2, 0.2]))
    data = run_json(capsys, "equilibrium", "preset:paper-three-annotators", "--tau", "0.05", "--reference", str(ref))
    expected = regularized_nash(get_preset("paper-three-annotators"), 0.05, [0.6, 0.2, 0.2])
    np.testing.assert_allclose(data["policy"], expected.policy, atol=1e-13)
    assert data["tau"] == 0.05 and abs(data["regularized_gap"]) <= 1e-10
    np.testing.assert_allclose(data["reference"], [0.6, 0.2, 0.2])


def test_contextual_equilibrium(capsys):
    data = run_json(capsys, "equilibrium", "preset:two-prompts")
    assert data["contexts"] == ["tell a joke", "state a fact"]
    np.testing.assert_allclose(data["policy"], nash_equilibrium(get_preset("two-prompts")).policy)


def test_equilibrium_readable_output(capsys):
    code, out, _ = run_cli(capsys, "equilibrium", "preset:biased-cycle")
    assert code == 0 and "paper     0.625" in out and "exploitability" in out
