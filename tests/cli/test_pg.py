"""`nlhf pg`: the same keys as `nlhf solve`, numbers checked against the exact solutions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nlhf_core.cli.main import main
from nlhf_core.equilibria import regularized_nash
from nlhf_core.games.metrics import kl_divergence
from nlhf_core.games.presets import get_preset


def run_json(capsys, *argv: str) -> dict:
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_pg_json_contract_and_convergence(capsys):
    data = run_json(capsys, "pg", "preset:biased-cycle", "--algorithm", "self-play", "--tau", "0.1", "--steps", "1500")
    assert data["algorithm"] == "self-play"
    assert set(data) >= {"labels", "algorithm", "params", "iterations", "queries", "policy", "metrics"}
    assert data["labels"] == list(get_preset("biased-cycle").labels)
    assert data["iterations"] == 1500 and data["queries"] == 1500 * 64
    assert set(data["metrics"]) >= {"exploitability", "regularized_gap", "kl_to_equilibrium", "win_rate_vs_rlhf"}
    exact = regularized_nash(get_preset("biased-cycle"), 0.1).policy
    assert kl_divergence(exact, np.array(data["policy"])) < 3e-3
    np.testing.assert_allclose(data["regularized_nash"], exact, atol=1e-12)
    assert data["metrics"]["kl_to_equilibrium"] == pytest.approx(kl_divergence(exact, np.array(data["policy"])))


def test_pg_defaults_converge_and_trajectory(capsys):
    data = run_json(capsys, "pg", "preset:biased-cycle", "--beta", "0.25", "--trajectory-every", "250")
    assert data["algorithm"] == "nash-md-pg" and data["params"]["beta"] == 0.25
    assert [row["step"] for row in data["trajectory"]] == [0, 250, 500, 750, 1000]
    assert data["trajectory"][-1]["kl_to_target"] < 0.05 * data["trajectory"][0]["kl_to_target"]
    assert np.allclose([sum(r["policy"]) for r in data["trajectory"]], 1.0)


def test_pg_contextual_game(capsys):
    data = run_json(capsys, "pg", "preset:two-prompts", "-a", "rlhf-pg", "--steps", "300", "--param", "lr=2")
    assert data["algorithm"] == "rlhf"  # the former name still runs, under the new one
    assert np.array(data["policy"]).shape == (2, 3)
    assert data["contexts"] == ["tell a joke", "state a fact"]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--beta", "3"], "beta = 3 is outside"),
        (["-a", "nash-md"], "nash-md is a tabular method, not a policy-gradient one"),
        (["-a", "nash-xx"], "no policy-gradient method 'nash-xx'"),
        (["--param", "batch_size=0"], "batch_size"),
        (["--param", "features=lstm"], "one-hot"),
    ],
)
def test_pg_bad_input_one_sentence(capsys, argv, fragment):
    code = main(["pg", "preset:rock-paper-scissors", *argv])
    _, err = capsys.readouterr()
    assert code == 2
    assert fragment in err and "Traceback" not in err and err.count("\n") == 1


def test_readable_output_lists_every_context_like_solve(capsys):
    """`nlhf pg` and `nlhf solve` print their summary through one function: contexts get their rows."""
    assert main(["pg", "preset:two-prompts", "--steps", "20"]) == 0
    out = capsys.readouterr().out
    assert "20 steps, 1280 preference queries" in out
    assert "context" in out and "tell a joke" in out and "state a fact" in out
