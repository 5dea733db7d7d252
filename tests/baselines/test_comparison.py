"""Head-to-head comparison and batched sweeps."""

from __future__ import annotations

import numpy as np
import pytest

from nlhf_core.algorithms import run_algorithm
from nlhf_core.algorithms.sweep import parse_grid, sweep
from nlhf_core.baselines.comparison import compare_solutions
from nlhf_core.errors import ParameterError
from nlhf_core.games.presets import get_preset, preset_names


@pytest.mark.parametrize("preset", preset_names())
def test_nash_wins_or_ties_against_every_solution(preset):
    """The theorem: a Nash policy is beaten by no policy (W[Nash, b] >= 1/2 for all b)."""
    cmp = compare_solutions(get_preset(preset), 0.1, iterations=300)
    W = cmp.win_rates
    np.testing.assert_allclose(W + W.T, 1.0, atol=1e-12)
    i = cmp.names.index("Nash")
    assert np.all(W[i] >= 0.5 - 1e-9)
    assert cmp.exploitability["Nash"] <= 1e-9
    np.testing.assert_array_equal(cmp.policies["DPO"], cmp.policies["RLHF"])
    assert {"reference", "RLHF", "IPO", "best-of-4", "regularized Nash", "nash-md", "mwu"} <= set(cmp.names)


def test_condorcet_winner_rlhf_loses_to_nash():
    """Measured: with uniform pairs and tau = 0.1 the Nash policy (pure a) beats RLHF 54.97% of the time."""
    cmp = compare_solutions(get_preset("condorcet-winner"), 0.1, solvers=[])
    w = cmp.win_rates[cmp.names.index("Nash"), cmp.names.index("RLHF")]
    assert w == pytest.approx(0.549702, abs=1e-6)
    assert "54.97%" in cmp.verdict()
    dpo_vs_nash = cmp.win_rates[cmp.names.index("DPO"), cmp.names.index("Nash")]
    assert dpo_vs_nash < 0.5


def test_tie_verdict():
    cmp = compare_solutions(get_preset("rock-paper-scissors"), 0.1, solvers=[])
    assert "tie" in cmp.verdict()


def test_solver_selection():
    cmp = compare_solutions(get_preset("biased-cycle"), 0.2, solvers=["nash-mp"], iterations=200)
    assert cmp.names[-1] == "nash-mp" and "mwu" not in cmp.names


# ---------------------------------------------------------------------- sweeps
def test_batched_sweep_equals_individual_runs():
    game = get_preset("biased-cycle")
    etas, taus = [0.1, 1.0, 5.0], [0.05, 0.3]
    result = sweep("nash-md", game, etas=etas, taus=taus, iterations=200)
    assert result.metrics["kl_to_equilibrium"].shape == (2, 3)
    for i, tau in enumerate(taus):
        for j, eta in enumerate(etas):
            if eta * tau > 1:
                assert np.isnan(result.metrics["kl_to_equilibrium"][i, j])
                continue
            single = run_algorithm("nash-md", game, eta=eta, tau=tau, iterations=200)
            np.testing.assert_allclose(result.final_policies[i, j], single.policies[-1], rtol=1e-12, atol=1e-15)
            for name, grid in result.metrics.items():
                assert grid[i, j] == pytest.approx(single.final_metrics()[name], rel=1e-9, abs=1e-14)


def test_sweep_of_an_average_iterate_solver_and_one_axis():
    game = get_preset("rock-paper-scissors")
    result = sweep("mwu", game, etas=[0.01, 0.1], iterations=300, init=[0.5, 0.3, 0.2])
    single = run_algorithm("mwu", game, eta=0.1, iterations=300, init=[0.5, 0.3, 0.2])
    assert result.taus == [None] and "regularized_gap" not in result.metrics
    assert result.metrics["exploitability"][0, 1] == pytest.approx(single.final_metrics()["exploitability"])


def test_sweep_contextual_game():
    game = get_preset("two-prompts")
    result = sweep("nash-mp", game, taus=[0.1, 0.5], iterations=300)
    assert result.final_policies.shape == (2, 1, 2, 3)
    assert np.all(result.metrics["kl_to_equilibrium"] < 1e-9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.5", [0.5]), ("0.01:1:3", [0.01, 0.1, 1.0])],
)
def test_parse_grid(text, expected):
    np.testing.assert_allclose(parse_grid(text, "eta"), expected)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [("abc", "not a number or a range"), ("1:2", "a:b:k"), ("0:1:3", "must be positive"), ("1:2:2.5", "a:b:k")],
)
def test_parse_grid_errors(text, pattern):
    with pytest.raises(ParameterError, match=pattern):
        parse_grid(text, "eta")


def test_sweep_errors():
    game = get_preset("biased-cycle")
    with pytest.raises(ParameterError, match="no tau to sweep"):
        sweep("mwu", game, taus=[0.1])
    with pytest.raises(ParameterError, match="more than 10,000"):
        sweep("nash-md", game, etas=list(np.geomspace(0.01, 1, 200)), taus=list(np.geomspace(0.01, 1, 60)))
    with pytest.raises(ParameterError, match="outside its valid range"):
        sweep("nash-md", game, etas=[-1.0])
