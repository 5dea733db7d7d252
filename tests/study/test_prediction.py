"""The tabular prediction from a run's learned models (issue 16, part 5), checked against independent computations.

Every resting point is recomputed here by a different method than the study's: Nash-MD-PG's by a damped
fixed-point iteration of ``pi ∝ mu exp(Q pi_beta / tau)``, ``pi_beta ∝ pi^(1-beta) mu^beta`` (Munos et al.
2024, Section 7), RLHF's as ``mu exp(r / tau_R) / Z`` written out, and the table as a double loop.
"""

from __future__ import annotations

import numpy as np
import pytest

from nlhf_core.games.game import PreferenceGame
from nlhf_core.study.prediction import (
    SeedPredictions,
    learned_models,
    prediction_markdown,
    preference_error,
    resting_distance,
    tabular_prediction,
)
from nlhf_core.study.results import nash_md_name

BETAS = [0.125, 0.5, 1.0]


def random_game(rng: np.random.Generator, n: int, contexts: int = 1) -> PreferenceGame:
    mats = []
    for _ in range(contexts):
        U = rng.uniform(0.05, 0.95, (n, n))
        P = np.triu(U, 1) + np.tril(1.0 - np.triu(U, 1).T, -1)
        np.fill_diagonal(P, 0.5)
        mats.append(P)
    if contexts == 1:
        return PreferenceGame.from_matrix(mats[0], [f"a{i}" for i in range(n)])
    return PreferenceGame.from_contexts(mats, [f"a{i}" for i in range(n)], [f"x{c}" for c in range(contexts)])


def fixed_point(Q: np.ndarray, mu: np.ndarray, tau: float, beta: float) -> np.ndarray:
    """Damped iteration of pi <- (1 - d) pi + d softmax(log mu + Q pi_beta / tau), pi_beta ∝ pi^(1-beta) mu^beta."""
    pi = mu.copy()
    for _ in range(20000):
        mix = pi ** (1 - beta) * mu**beta
        mix /= mix.sum()
        logits = np.log(mu) + Q @ mix / tau
        target = np.exp(logits - logits.max())
        target /= target.sum()
        new = 0.8 * pi + 0.2 * target
        if np.abs(new - pi).max() < 1e-14:
            return new
        pi = new
    return pi


def extended(mu: np.ndarray, Q: np.ndarray, malformed: float = 0.003) -> tuple[np.ndarray, np.ndarray]:
    """A run's view: ``mu`` and ``Q`` with a malformed category appended (loses to everything)."""
    C, n = mu.shape
    mu_ext = np.concatenate([mu * (1 - malformed), np.full((C, 1), malformed)], axis=1)
    Q_ext = np.full((C, n + 1, n + 1), 0.5)
    Q_ext[:, :n, :n] = Q
    Q_ext[:, :n, n], Q_ext[:, n, :n] = 1.0, 0.0
    return mu_ext, Q_ext


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prediction_equals_independent_resting_points(seed):
    rng = np.random.default_rng(seed)
    truth, learned_game = random_game(rng, 4), random_game(rng, 4)
    mu = rng.dirichlet(np.ones(4) * 2)[None, :]
    rewards = rng.normal(size=(1, 4))
    tau, rlhf_tau = 0.15, 0.3
    mu_ext, Q_ext = extended(mu, learned_game.matrices)
    learned = learned_models(mu_ext, Q_ext, rewards)
    np.testing.assert_allclose(learned.reference, mu, atol=1e-15)
    found = tabular_prediction(truth, learned, tau, rlhf_tau, BETAS)
    Q = learned_game.matrices[0]
    expected = {"sft": mu[0], "self-play": fixed_point(Q, mu[0], tau, 0.0)}
    rlhf = mu[0] * np.exp(rewards[0] / rlhf_tau)
    expected["rlhf"] = rlhf / rlhf.sum()
    for beta in BETAS:
        expected[nash_md_name(beta)] = fixed_point(Q, mu[0], tau, beta)
    assert found.methods == ["sft", "rlhf", "self-play", *(nash_md_name(b) for b in BETAS)]
    for m, policy in expected.items():
        np.testing.assert_allclose(found.policies[m][0], policy, atol=1e-6)
    P = truth.matrices[0]
    for i, a in enumerate(found.methods):
        for j, b in enumerate(found.methods):
            value = sum(expected[a][k] * P[k, q] * expected[b][q] for k in range(4) for q in range(4))
            assert found.win_rates[i, j] == pytest.approx(value, abs=1e-6)


def test_prediction_adds_the_best_response_and_handles_contexts():
    rng = np.random.default_rng(5)
    truth, learned_game = random_game(rng, 3, contexts=2), random_game(rng, 3, contexts=2)
    mu = rng.dirichlet(np.ones(3), size=2)
    learned = learned_models(*extended(mu, learned_game.matrices), rng.normal(size=(2, 3)))
    found = tabular_prediction(truth, learned, 0.2, 0.2, [0.25])
    assert found.methods[-1] == nash_md_name(1.0)
    for c in range(2):
        np.testing.assert_allclose(
            found.policies[nash_md_name(0.25)][c], fixed_point(learned_game.matrices[c], mu[c], 0.2, 0.25), atol=1e-6
        )
    W = found.win_rates
    np.testing.assert_allclose(W + W.T, 1.0, atol=1e-12)


def test_learned_matrix_is_made_complementary_and_errors_are_per_pair():
    rng = np.random.default_rng(3)
    truth = random_game(rng, 3)
    Q = truth.matrices.copy()
    Q[0, 0, 1] += 0.2  # the model thinks a0 beats a1 more often, and is slightly inconsistent about it
    Q[0, 1, 0] -= 0.2 + 1e-7
    mu_ext, Q_ext = extended(np.full((1, 3), 1 / 3), Q)
    learned = learned_models(mu_ext, Q_ext, np.zeros((1, 3)))
    np.testing.assert_allclose(learned.preference + np.swapaxes(learned.preference, 1, 2), 1.0, atol=1e-15)
    err = preference_error(truth, learned)
    assert err[0, 0, 1] == pytest.approx(0.2 + 5e-8) and err[0, 1, 0] == pytest.approx(-0.2 - 5e-8)
    assert np.count_nonzero(np.abs(err) > 1e-6) == 2


def test_resting_distance_is_total_variation_over_valid_answers():
    rho = np.array([0.25, 0.75])
    measured = np.array([[0.5, 0.5, 0.0], [0.9, 0.0, 0.1]])  # the last column is malformed mass
    predicted = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert resting_distance(measured, predicted, rho) == pytest.approx(0.25 * 0.5 + 0.75 * 1.0)


def test_seed_predictions_aggregate_and_write_markdown():
    rng = np.random.default_rng(8)
    truth = random_game(rng, 3)
    collector = SeedPredictions(truth, 0.1, 0.3, [0.5])
    assert collector.to_json() == {}
    tables = []
    for seed in (0, 1, 2):
        learned_game = random_game(rng, 3)
        mu_ext, Q_ext = extended(rng.dirichlet(np.ones(3))[None, :], learned_game.matrices)
        rewards = rng.normal(size=(1, 3))
        dists = {"sft": mu_ext, "rlhf": mu_ext}
        collector.add(seed, dists, Q_ext, rewards)
        tables.append(tabular_prediction(truth, learned_models(mu_ext, Q_ext, rewards), 0.1, 0.3, [0.5]).win_rates)
    data = collector.to_json()
    pred = data["tabular_prediction"]
    np.testing.assert_allclose(np.triu(pred["win_rates"], 1), np.triu(np.mean(tables, axis=0), 1), atol=1e-12)
    assert set(pred["per_seed"]) == {"0", "1", "2"}
    assert set(pred["per_seed"]["1"]["distance_to_resting_point"]) == {"sft", "rlhf"}
    assert pred["per_seed"]["1"]["distance_to_resting_point"]["sft"] == pytest.approx(0.0, abs=1e-12)
    assert np.array(data["preference_model_error"]["per_seed"]["2"]).shape == (1, 3, 3)
    assert data["preference_model_error"]["max_abs"] == pytest.approx(
        max(np.abs(np.array(e)).max() for e in data["preference_model_error"]["per_seed"].values())
    )
    md = prediction_markdown({**data})
    assert "Tabular prediction" in md and f"{pred['win_rates'][1][0]:.3f}" in md and "error on every" in md
    err = data["preference_model_error"]
    assert err["prompts"] == ["context 0"] and "Prompt 'context 0'" in md
    assert f"{err['true'][0][0][1]:.3f} ({err['mean'][0][0][1]:+.3f})" in md
