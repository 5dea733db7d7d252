"""Presets: at least eight, each with a story, and every checkable claim of the stories checked."""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_expit

from nlhf_core.equilibria import nash_equilibrium
from nlhf_core.games.io import game_to_json
from nlhf_core.games.metrics import win_rate
from nlhf_core.games.presets import PRESET_DIR, get_preset, list_presets, preset_names

ROOT = Path(__file__).resolve().parents[2]


def bradley_terry_scores(P: np.ndarray, pair_weights: np.ndarray) -> np.ndarray:
    """Independent BT maximum likelihood of sum w_ij P_ij log sigmoid(s_i - s_j), centred on s_0."""
    n = len(P)

    def nll(s):
        return -np.sum(pair_weights * P * log_expit(s[:, None] - s[None, :]))

    s = minimize(nll, np.zeros(n), method="BFGS", options={"gtol": 1e-10}).x
    return s - s[0]


def test_at_least_eight_presets_each_with_a_story():
    presets = list_presets()
    assert len(presets) >= 8
    for p in presets:
        assert len(p.story) > 200 and p.story.endswith(".") and "\n" not in p.story, p.name
    assert preset_names()[0] == "biased-cycle"


def test_the_generator_script_reproduces_the_files(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_presets
    finally:
        sys.path.pop(0)
    for game in make_presets.presets():
        assert (PRESET_DIR / f"{game.name}.json").read_text() == game_to_json(game), game.name


def test_rock_paper_scissors_cannot_be_fitted_by_a_reward():
    game = get_preset("rock-paper-scissors")
    np.testing.assert_allclose(nash_equilibrium(game).policy, np.full(3, 1 / 3), atol=1e-14)
    np.testing.assert_allclose(bradley_terry_scores(game.matrix, np.ones((3, 3))), 0.0, atol=1e-6)


def test_biased_cycle_story():
    game = get_preset("biased-cycle")
    P = game.matrix
    assert (P[0, 2], P[1, 0], P[2, 1]) == (0.9, 0.7, 0.54)
    np.testing.assert_allclose(nash_equilibrium(game).policy, [1 / 16, 10 / 16, 5 / 16], atol=1e-14)


def test_condorcet_winner_story_reward_model_prefers_b():
    game = get_preset("condorcet-winner")
    P = game.matrix
    assert P[0, 1] == P[0, 2] == 0.55 and P[1, 2] == 0.99
    np.testing.assert_array_equal(nash_equilibrium(game).policy, [1, 0, 0])
    scores = bradley_terry_scores(P, np.ones((3, 3)))
    assert scores[1] > scores[0] > scores[2]  # the reward ranks b first


def test_condorcet_paradox_is_two_to_one_each_way():
    P = get_preset("condorcet-paradox").matrix
    np.testing.assert_allclose([P[0, 1], P[1, 2], P[2, 0]], [2 / 3] * 3, atol=1e-15)


def test_paper_three_annotators_story():
    game = get_preset("paper-three-annotators")
    eps = 0.1
    np.testing.assert_allclose(
        nash_equilibrium(game).policy, [1 / 3 + eps / 2, 1 / 3 + eps / 2, 1 / 3 - eps], atol=1e-14
    )
    uniform = bradley_terry_scores(game.matrix, np.ones((3, 3)))
    assert np.argmax(uniform) == 0  # uniform pairs rank y1 first
    skewed = bradley_terry_scores(game.matrix, np.outer([0.6, 0.2, 0.2], [0.6, 0.2, 0.2]))
    assert np.argmax(skewed) == 1  # pairs from (0.6, 0.2, 0.2) rank y2 first


def test_paper_elo_story():
    game = get_preset("paper-elo")
    P = game.matrix
    assert P[1, 0] == pytest.approx(0.9) and P[1, 2] == pytest.approx(9 / 11) and P[2, 0] == pytest.approx(2 / 3)
    elo_optimum, preference_optimum = np.array([2 / 3, 1 / 3, 0]), np.array([0.0, 0.0, 1.0])
    assert win_rate(P, preference_optimum, elo_optimum) == pytest.approx(50 / 99, abs=1e-15)


def test_nontransitive_dice_from_their_faces():
    faces = [[2, 4, 9], [1, 6, 8], [3, 5, 7]]
    P = get_preset("nontransitive-dice").matrix
    for i, j in itertools.permutations(range(3), 2):
        wins = sum(a > b for a in faces[i] for b in faces[j])
        assert P[i, j] == pytest.approx(wins / 9, abs=1e-15)
    assert P[0, 1] == P[1, 2] == P[2, 0] == pytest.approx(5 / 9)
    assert all(np.mean(f) == 5 for f in faces)


def test_clone_story():
    result = nash_equilibrium(get_preset("clone-rps"))
    np.testing.assert_allclose(result.policy, [1 / 6, 1 / 6, 1 / 3, 1 / 3], atol=1e-12)
    assert not result.unique


def test_random_tournament_has_a_unique_odd_support_equilibrium():
    game = get_preset("random-tournament")
    assert set(np.unique(game.matrix)) <= {0.0, 0.5, 1.0}
    result = nash_equilibrium(game)
    assert result.unique and len(result.support) % 2 == 1
    wins = (game.matrix > 0.5).sum(axis=1)
    assert result.policy.argmax() != wins.argmax() or len(result.support) > 1


def test_random_preferences_support_size():
    game = get_preset("random-preferences")
    assert game.n == 12 and game.matrix[game.matrix != 0.5].min() >= 0.05 and game.matrix.max() <= 0.95
    assert 3 <= len(nash_equilibrium(game).support) <= 9


def test_two_prompts_story():
    game = get_preset("two-prompts")
    result = nash_equilibrium(game)
    np.testing.assert_allclose(result.policy[0], np.full(3, 1 / 3), atol=1e-14)
    np.testing.assert_array_equal(result.policy[1], [1, 0, 0])
    np.testing.assert_allclose(game.weights, [0.5, 0.5])


def test_bradley_terry_preset_is_recovered_by_a_fit():
    game = get_preset("bradley-terry")
    scores = bradley_terry_scores(game.matrix, np.ones((4, 4)))
    np.testing.assert_allclose(scores, np.array([2.0, 1.2, 0.4, -1.0]) - 2.0, atol=1e-5)
    assert nash_equilibrium(game).support == (0,)
    assert math.isclose(game.matrix[0, 3], 1 / (1 + math.exp(-3.0)))
