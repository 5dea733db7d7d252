"""RLHF baselines: Bradley–Terry fits, their dependence on the sampled pairs, and the policies."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import expit

from nlhf_core.baselines.bradley_terry import (
    SEPARABLE_RIDGE,
    best_of_n,
    fit_bradley_terry,
    ipo_optimum,
    kl_regularized_optimum,
    pair_distribution,
)
from nlhf_core.baselines.comparison import rlhf_solution
from nlhf_core.equilibria import regularized_nash
from nlhf_core.errors import PolicyError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.presets import get_preset
from tests.helpers import one_sentence, random_matrix, simplex_points


@given(
    st.lists(st.floats(-3, 3), min_size=2, max_size=8),
    st.sampled_from(["uniform", "reference", "policy", "matrix"]),
    st.data(),
)
def test_bradley_terry_games_are_fitted_exactly_under_any_sampling(scores, kind, data):
    game = PreferenceGame.from_bradley_terry(scores)
    n = game.n
    mu = data.draw(simplex_points(n, 1e-2))
    sampling = {
        "uniform": "uniform",
        "reference": "reference",
        "policy": data.draw(simplex_points(n, 1e-2)),
        "matrix": np.random.default_rng(n).random((n, n)) + 0.01,
    }[kind]
    fit = fit_bradley_terry(game, sampling, mu)
    truth = np.array(scores) - np.mean(scores)
    np.testing.assert_allclose(fit.scores[0], truth, atol=1e-7)
    assert fit.max_residual <= 1e-9 and not fit.separable


def test_the_fitted_reward_depends_on_the_sampled_pairs_when_preferences_are_not_bt():
    """Proposition 2 / Theorem 2 of the paper on the three-annotator example (eps = 0.1)."""
    game = get_preset("paper-three-annotators")
    uniform = fit_bradley_terry(game, "uniform")
    skewed = fit_bradley_terry(game, "reference", [0.6, 0.2, 0.2])
    assert np.argmax(uniform.scores[0]) == 0 and np.argmax(skewed.scores[0]) == 1
    assert uniform.max_residual > 0.05


@given(st.integers(3, 8), st.integers(0, 10_000))
def test_maximum_likelihood_matches_predicted_and_observed_wins(n, seed):
    """At the optimum sum_j w_kj (P_kj - sigmoid(s_k - s_j)) = 0 for every k."""
    game = PreferenceGame.from_matrix(random_matrix(n, seed))
    fit = fit_bradley_terry(game)
    W = fit.pair_weights[0]
    gradient = np.sum(W * (game.matrix - fit.predicted()[0]), axis=1)
    np.testing.assert_allclose(gradient, 0.0, atol=1e-12)
    assert abs(fit.scores[0].sum()) <= 1e-12  # centred


def test_separable_data_warns_and_stays_finite():
    game = get_preset("random-tournament")  # 0/1 preferences: some group never loses
    transitive = PreferenceGame.from_upper_triangle([1.0, 1.0, 1.0], ["top", "mid", "low"])
    for g in (transitive,):
        fit = fit_bradley_terry(g)
        assert fit.separable and np.all(np.isfinite(fit.scores))
        assert one_sentence(fit.warning) and f"{SEPARABLE_RIDGE:g}" in fit.warning
        assert list(np.argsort(-fit.scores[0])) == [0, 1, 2]  # the order survives
    assert np.all(np.isfinite(fit_bradley_terry(game).scores))


def test_rlhf_dpo_and_ipo_closed_forms():
    game = get_preset("biased-cycle")
    mu = np.array([[0.5, 0.3, 0.2]])
    rl = rlhf_solution(game, 0.2, mu[0], "reference")
    expected = mu * np.exp(rl.fit.scores / 0.2)
    np.testing.assert_allclose(rl.rlhf, expected / expected.sum(), rtol=1e-12)
    ipo = mu * np.exp(game.matrix @ mu[0] / 0.2)
    np.testing.assert_allclose(rl.ipo, ipo / ipo.sum(), rtol=1e-12)  # pairs from mu: best response to mu
    np.testing.assert_allclose(ipo_optimum(game, 0.2, mu, mu), rl.ipo)


def ipo_loss(logits: np.ndarray, P: np.ndarray, W: np.ndarray, mu: np.ndarray, tau: float) -> float:
    """Azar et al. (2024)'s IPO loss, written from its definition: ordered pairs (y, y') with weight
    W[y, y'], the winner drawn by P, and the squared gap between h(y_w, y_l) and 1 / (2 tau)."""
    log_pi = logits - np.logaddexp.reduce(logits)
    h = (log_pi - np.log(mu))[:, None] - (log_pi - np.log(mu))[None, :]  # h(y, y') for every ordered pair
    target = 1.0 / (2.0 * tau)
    return float(np.sum(W * (P * (h - target) ** 2 + (1.0 - P) * (-h - target) ** 2)))


@pytest.mark.parametrize("kind", ["uniform", "reference", "policy", "pairs"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ipo_optimum_minimizes_the_ipo_loss(kind, seed, tmp_path):
    """The IPO policy of the comparison pipeline is the minimizer of the IPO loss (scipy's BFGS)."""
    rng = np.random.default_rng(seed)
    n, tau = 4, [0.2, 0.5, 1.0][seed]
    game = PreferenceGame.from_matrix(random_matrix(n, seed))
    mu = rng.dirichlet(np.ones(n)) * 0.9 + 0.1 / n
    q = rng.dirichlet(np.ones(n)) * 0.8 + 0.2 / n
    pairs = rng.random((n, n)) * (rng.random((n, n)) < 0.8)
    pairs = pairs + pairs.T + np.eye(n)  # the diagonal never counts
    spec = {"uniform": "uniform", "reference": "reference", "policy": q.tolist(), "pairs": tmp_path / "w.json"}[kind]
    if kind == "pairs":
        spec.write_text(json.dumps(pairs.tolist()))
    # the sampled ordered pairs, built here independently of nlhf_core
    W = {"uniform": np.ones((n, n)), "reference": np.outer(mu, mu), "policy": np.outer(q, q), "pairs": pairs}[kind]
    W = W * (1.0 - np.eye(n))
    ours = rlhf_solution(game, tau, mu, str(spec) if kind == "pairs" else spec).ipo[0]
    res = minimize(ipo_loss, np.log(mu), args=(game.matrix, W, mu, tau), method="BFGS", options={"gtol": 1e-12})
    direct = np.exp(res.x - np.logaddexp.reduce(res.x))
    np.testing.assert_allclose(ours, direct, atol=1e-6)
    assert ipo_loss(np.log(ours), game.matrix, W, mu, tau) <= res.fun + 1e-9


def test_ipo_under_the_issue_pair_weights():
    """Biased cycle, tau = 0.2, pairs [[0,5,1],[5,0,1],[1,1,0]]: the loss minimizer, not mu exp(P q / tau)."""
    game = get_preset("biased-cycle")
    W = np.array([[0, 5, 1], [5, 0, 1], [1, 1, 0]], dtype=float)
    mu = np.full((1, 3), 1 / 3)
    ipo = ipo_optimum(game, 0.2, mu, pair_weights=W)[0]
    np.testing.assert_allclose(ipo, [0.277, 0.563, 0.160], atol=1e-3)
    marginal = W.sum(axis=1) / W.sum()
    product_formula = np.exp(game.matrix @ marginal / 0.2)
    assert np.abs(ipo - product_formula / product_formula.sum()).max() > 0.02


def test_ipo_leaves_responses_the_pairs_never_reach_at_their_reference_odds():
    """The loss says nothing about a response never compared; gradient descent from mu never moves it."""
    game = PreferenceGame.from_matrix(random_matrix(4, 7))
    W = np.ones((4, 4)) - np.eye(4)
    W[3, :] = W[:, 3] = 0.0
    mu = np.array([[0.1, 0.2, 0.3, 0.4]])
    ipo = ipo_optimum(game, 0.3, mu, pair_weights=W)[0]
    g = np.log(ipo / mu[0])
    g -= g[3]  # the untouched response's log-ratio is the reference level
    assert abs(g[:3].mean()) <= 1e-12  # the compared group is centred around it


def test_best_of_n_closed_forms():
    mu = np.array([0.5, 0.3, 0.2])
    rewards = np.array([0.0, 2.0, 1.0])
    np.testing.assert_allclose(best_of_n(rewards, mu, 1)[0], mu)  # one draw: the reference
    # best of 2: y1 only if both draws are y1; y2 if any draw is y2; y3 otherwise
    expected = [0.5**2, 1 - 0.7**2, 0.7**2 - 0.5**2]
    np.testing.assert_allclose(best_of_n(rewards, mu, 2)[0], expected, atol=1e-15)
    tied = best_of_n(np.array([1.0, 1.0, 0.0]), mu, 3)[0]
    np.testing.assert_allclose(tied[:2] / tied[:2].sum(), [0.5 / 0.8, 0.3 / 0.8])
    assert best_of_n(rewards, mu, 1000)[0, 1] == pytest.approx(1.0)


def test_rlhf_and_regularized_nash_on_a_bradley_terry_game():
    """They coincide in the limits (tau -> 0: both pick the best response; tau -> inf: both
    stay at mu) and differ in between, even though the reward model is exact."""
    game = get_preset("bradley-terry")
    fit = fit_bradley_terry(game)
    mu = np.full((1, 4), 0.25)

    def gap(tau):
        return np.abs(kl_regularized_optimum(fit.scores, tau, mu) - regularized_nash(game, tau).policy).max()

    assert gap(1e-3) < 1e-6 and gap(1e4) < 1e-4
    assert gap(0.5) > 0.05


def test_pair_distribution_forms_and_errors(tmp_path):
    game = get_preset("biased-cycle")
    W = pair_distribution("uniform", game)
    assert W.shape == (1, 3, 3) and W[0].sum() == pytest.approx(1.0) and np.all(np.diag(W[0]) == 0)
    np.testing.assert_allclose(W[0], W[0].T)
    path = tmp_path / "pairs.json"
    path.write_text("[[0, 1, 0], [1, 0, 0], [0, 0, 0]]")
    only_ab = pair_distribution(str(path), game)
    assert only_ab[0, 0, 1] == 0.5 and only_ab[0, 1, 2] == 0
    with pytest.raises(PolicyError, match="finite, non-negative"):
        pair_distribution(np.array([[0, -1, 0], [1, 0, 0], [0, 0, 0]]), game)
    with pytest.raises(PolicyError, match="no weight on any pair"):
        pair_distribution([1.0, 0.0, 0.0], game)


def test_condorcet_winner_reward_model_prefers_b():
    fit = fit_bradley_terry(get_preset("condorcet-winner"))
    assert np.argmax(fit.scores[0]) == 1
    predicted = expit(fit.scores[0][0] - fit.scores[0][1])
    assert predicted < 0.5 < get_preset("condorcet-winner").matrix[0, 1]  # the model flips a vs b
