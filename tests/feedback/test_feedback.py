"""Simulated feedback, fitted models, the end-to-end pipeline, sampling effects and online Nash-MD."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlhf_core.algorithms import run_algorithm
from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.errors import GameValidationError, ParameterError
from nlhf_core.feedback.annotators import (
    AnnotatorGroup,
    AnnotatorPopulation,
    ComparisonDataset,
    condorcet_population,
    simulate_comparisons,
)
from nlhf_core.feedback.models import fit_preference_model, fit_reward_model, held_out_log_likelihood
from nlhf_core.feedback.pipeline import online_nash_md, pipeline_curves, run_pipeline, sampling_effect
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import exploitability, regularized_gap
from nlhf_core.games.presets import get_preset
from tests.helpers import random_matrix


def test_condorcet_paradox_from_transitive_groups():
    population = condorcet_population()
    for group in population.groups:  # each group is perfectly consistent: it has a Condorcet winner
        assert nash_equilibrium(group.game).support in ((0,), (1,), (2,))
    aggregate = population.aggregate()
    np.testing.assert_allclose(aggregate.matrix, get_preset("condorcet-paradox").matrix, atol=1e-15)
    P = aggregate.matrix
    assert P[0, 1] > 0.5 and P[1, 2] > 0.5 and P[2, 0] > 0.5  # a cycle
    np.testing.assert_allclose(nash_equilibrium(aggregate).policy, np.full(3, 1 / 3), atol=1e-12)


def test_label_noise_pulls_preferences_towards_one_half():
    game = get_preset("biased-cycle")
    noisy = AnnotatorPopulation.of(game, noise=0.2).aggregate()
    np.testing.assert_allclose(noisy.matrix, 0.8 * game.matrix + 0.2 * (1 - game.matrix), atol=1e-15)
    with pytest.raises(ParameterError, match=r"noise = 0.7 is outside \[0, 0.5\]"):
        AnnotatorPopulation.of(game, noise=0.7)


def test_groups_must_agree_on_responses():
    a = AnnotatorGroup.from_ranking("a", ["x", "y"], ["x", "y"])
    b = AnnotatorGroup.from_ranking("b", ["x", "z"], ["z", "x"])
    with pytest.raises(GameValidationError, match="same labels"):
        AnnotatorPopulation((a, b))
    with pytest.raises(GameValidationError, match="every response once"):
        AnnotatorGroup.from_ranking("c", ["x", "y"], ["x", "x"])


def test_simulation_is_seeded_and_follows_the_sampling_distribution():
    game = get_preset("biased-cycle")
    a = simulate_comparisons(game, 3000, seed=4)
    b = simulate_comparisons(game, 3000, seed=4)
    np.testing.assert_array_equal(a.first_wins, b.first_wins)
    assert np.all(a.first != a.second)
    skewed = simulate_comparisons(game, 20000, sampling="reference", reference=[0.8, 0.1, 0.1], seed=1)
    _, total = skewed.win_counts()
    share = total[0, 0].sum() / (total[0].sum() / 2)  # comparisons involving rock
    # pairs (y, y') from (0.8, 0.1, 0.1) x (0.8, 0.1, 0.1) without y = y': rock is in 0.32 / 0.34 of them
    assert share == pytest.approx(0.32 / 0.34, abs=0.01)


def test_dataset_csv_round_trip_and_errors():
    game = get_preset("two-prompts")
    data = simulate_comparisons(game, 200, seed=2)
    back = ComparisonDataset.from_csv(data.to_csv(), game.labels, game.contexts)
    for name in ("context", "first", "second", "first_wins"):
        np.testing.assert_array_equal(getattr(back, name), getattr(data, name))
    with pytest.raises(GameValidationError, match="starts with the header"):
        ComparisonDataset.from_csv("a,b\n", game.labels, game.contexts)
    bad = "context,first,second,winner,group\ntell a joke,short,long,medium,everyone\n"
    with pytest.raises(GameValidationError, match="winner 'medium' is neither"):
        ComparisonDataset.from_csv(bad, game.labels, game.contexts)


def test_preference_model_converges_to_the_truth_and_its_intervals_cover_it():
    game = PreferenceGame.from_matrix(random_matrix(5, 3))
    fit = fit_preference_model(simulate_comparisons(game, 200_000, seed=0), game)
    np.testing.assert_allclose(fit.matrix[0], game.matrix, atol=0.01)  # ~10 000 comparisons per pair
    np.testing.assert_allclose(fit.matrix[0] + fit.matrix[0].T, 1.0, atol=1e-15)
    covered = []
    for seed in range(30):
        small = fit_preference_model(simulate_comparisons(game, 400, seed=seed), game, credibility=0.9)
        inside = (small.lower[0] <= game.matrix) & (game.matrix <= small.upper[0])
        covered.append(np.mean(inside[~np.eye(5, dtype=bool)]))
    assert 0.8 <= np.mean(covered) <= 0.98  # 90% intervals


def test_reward_model_recovers_bradley_terry_scores_with_calibrated_errors():
    scores = np.array([1.0, 0.3, -0.2, -1.1])
    game = PreferenceGame.from_bradley_terry(scores)
    fit = fit_reward_model(simulate_comparisons(game, 200_000, seed=0), game)
    np.testing.assert_allclose(fit.rewards[0], scores - scores.mean(), atol=0.03)
    z = []
    for seed in range(40):
        small = fit_reward_model(simulate_comparisons(game, 2000, seed=seed), game)
        z.append((small.rewards[0] - (scores - scores.mean())) / small.standard_errors[0])
    assert 0.75 <= np.std(z) <= 1.25  # standard errors match the actual spread


def test_on_a_cycle_the_preference_model_predicts_held_out_comparisons_better():
    """Measured: on the Condorcet paradox (2/3 cycle), held-out log-likelihood -0.64 vs -0.69."""
    game = get_preset("condorcet-paradox")
    train, test = simulate_comparisons(game, 20_000, seed=3).split(0.25, seed=3)
    pm = held_out_log_likelihood(fit_preference_model(train, game).matrix, test)
    rm = held_out_log_likelihood(fit_reward_model(train, game).predicted(), test)
    assert pm == pytest.approx(np.log(2 / 3) * 2 / 3 + np.log(1 / 3) / 3, abs=0.02)  # the entropy floor
    assert rm == pytest.approx(np.log(0.5), abs=0.01)  # BT can only say 1/2 to every pair
    assert pm - rm > 0.04


def test_separable_comparisons_warn():
    game = PreferenceGame.from_upper_triangle([1.0, 1.0, 1.0])
    fit = fit_reward_model(simulate_comparisons(game, 500, seed=0), game)
    assert fit.separable and "ridge" in fit.warning and np.all(np.isfinite(fit.rewards))


def test_sampling_changes_rlhf_but_not_nlhf():
    """Measured with 40 000 comparisons (tau = 0.05, the paper's three-annotator example): the RLHF
    policy moves by an L1 distance of 1.04 between uniform pairs and pairs from (0.6, 0.2, 0.2),
    the NLHF policy by 0.023 (sampling noise)."""
    game = get_preset("paper-three-annotators")
    runs = {
        name: run_pipeline(game, 40_000, tau=0.05, sampling=spec, reference=[0.6, 0.2, 0.2], seed=5)
        for name, spec in (("uniform", "uniform"), ("reference", "reference"))
    }
    rlhf_move = np.abs(runs["uniform"].rlhf_policy - runs["reference"].rlhf_policy).sum()
    nlhf_move = np.abs(runs["uniform"].nlhf_policy - runs["reference"].nlhf_policy).sum()
    assert rlhf_move > 0.8 and nlhf_move < 0.06
    exact = sampling_effect(game, {"uniform": "uniform", "skewed": [0.6, 0.2, 0.2]}, tau=0.05)
    assert np.argmax(exact.rewards["uniform"][0]) == 0 and np.argmax(exact.rewards["skewed"][0]) == 1
    np.testing.assert_allclose(exact.nlhf_policy[0], regularized_nash(game, 0.05).policy, atol=1e-12)


def test_pipeline_contract_and_curves():
    result = run_pipeline(get_preset("condorcet-winner"), 3000, tau=0.1, seed=0)
    assert result.nlhf_policy.shape == result.rlhf_policy.shape == (1, 3)
    assert result.true_exploitability["nlhf"] < result.true_exploitability["rlhf"]
    curves = pipeline_curves(get_preset("condorcet-winner"), [50, 5000], seeds=(0, 1, 2), tau=0.1)
    assert set(curves.mean) >= {"nlhf exploitability", "rlhf exploitability", "nlhf beats rlhf"}
    assert curves.mean["nlhf exploitability"][-1] < curves.mean["rlhf exploitability"][-1]
    assert np.all(curves.std["nlhf exploitability"] >= 0)


def test_adaptive_sampling_runs_in_rounds():
    game = get_preset("condorcet-winner")
    data = simulate_comparisons(game, 3000, sampling="adaptive", seed=0)
    assert len(data) == 3000
    _, total = data.win_counts()
    assert total[0, 0].sum() > total[0, 2].sum()  # later rounds focus on the winner 'a'


def test_online_nash_md_approaches_the_regularized_nash():
    game = get_preset("biased-cycle")
    small = online_nash_md(game, iterations=400, batch=16, seed=0)
    big = online_nash_md(game, iterations=400, batch=1024, seed=0)
    assert big.exact_kl[-1] < 1e-3
    assert big.online_kl[-1] < small.online_kl[-1] < small.online_kl[0] + 1
    assert np.mean(big.online_kl[-50:]) < 0.05 and big.comparisons == 400 * 1024


def test_contextual_data_and_models():
    game = get_preset("two-prompts")
    data = simulate_comparisons(game, 100_000, seed=0)
    assert set(np.unique(data.context)) == {0, 1}
    fit = fit_preference_model(data, game)
    np.testing.assert_allclose(fit.matrix, game.matrices, atol=0.02)
    result = run_pipeline(game, 20_000, tau=0.2, seed=1)
    assert result.nlhf_policy.shape == (2, 3)


@given(st.integers(1, 4), st.integers(2, 5), st.integers(0, 10_000))
def test_contextual_metrics_average_with_rho(C, n, seed):
    """Per-context equilibria equal the single-context solutions; averaged metrics use rho."""
    rng = np.random.default_rng(seed)
    matrices = [random_matrix(n, seed + k) for k in range(C)]
    rho = rng.dirichlet(np.ones(C))
    game = PreferenceGame.from_contexts(matrices, None, None, rho)
    nash = nash_equilibrium(game)
    reg = regularized_nash(game, 0.3)
    for k, M in enumerate(matrices):
        np.testing.assert_allclose(nash.policy.reshape(C, n)[k], nash_equilibrium(M).policy, atol=1e-9)
        np.testing.assert_allclose(reg.policy.reshape(C, n)[k], regularized_nash(M, 0.3).policy, atol=1e-9)
    pi = rng.dirichlet(np.ones(n), size=C)
    expected = sum(rho[k] * exploitability(matrices[k], pi[k]) for k in range(C))
    traj = run_algorithm("mwu", game, iterations=1, init=pi, record_every=1)
    assert traj.metrics_last["exploitability"][0] == pytest.approx(expected, abs=1e-12)
    gap = sum(
        rho[k] * regularized_gap(matrices[k], reg.policy.reshape(C, n)[k], 0.3, np.full(n, 1 / n)) for k in range(C)
    )
    assert reg.regularized_gap == pytest.approx(gap, abs=1e-12)


def test_dataset_size_is_checked():
    with pytest.raises(ParameterError, match="whole number of comparisons"):
        simulate_comparisons(get_preset("biased-cycle"), 0)
