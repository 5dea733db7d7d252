"""Issue 16, facts: where Nash-MD-PG rests (closed form), what a reward fitted on mu × mu pairs orders, and
label noise as a temperature. Each fact is checked against an independent computation before the study
relies on it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from nlhf_core.baselines.bradley_terry import fit_bradley_terry
from nlhf_core.equilibria import regularized_nash
from nlhf_core.errors import ParameterError
from nlhf_core.feedback.annotators import AnnotatorPopulation
from nlhf_core.games.game import PreferenceGame
from nlhf_core.policy_gradient import get_pg_algorithm, stationary_point, train_policy_gradient
from nlhf_core.policy_gradient.resting_point import (
    nash_md_pg_resting_point,
    nash_md_pg_resting_points,
    resting_point_residual,
)

BETAS = (0.0, 0.125, 0.5, 0.9, 1.0)


def random_matrix(rng: np.random.Generator, n: int) -> np.ndarray:
    P = np.full((n, n), 0.5)
    iu = np.triu_indices(n, 1)
    P[iu] = rng.uniform(0.0, 1.0, len(iu[0]))
    P.T[iu] = 1.0 - P[iu]
    return P


def random_game(seed: int, n: int = 4, contexts: int = 1) -> tuple[PreferenceGame, np.ndarray]:
    rng = np.random.default_rng(seed)
    mu = rng.dirichlet(np.full(n, 2.0), size=contexts)
    if contexts == 1:
        return PreferenceGame.from_matrix(random_matrix(rng, n)), mu[0]
    mats = [random_matrix(rng, n) for _ in range(contexts)]
    return PreferenceGame.from_contexts(mats, None, None, rng.uniform(0.5, 1.5, contexts)), mu


def damped_fixed_point(P: np.ndarray, mu: np.ndarray, tau: float, beta: float) -> np.ndarray:
    """Independent: iterate pi <- (1 - a) pi + a softmax(log mu + P pi_beta / tau), pi_beta ∝ pi^(1-beta) mu^beta."""
    pi = mu.copy()
    for _ in range(20_000):
        mix = pi ** (1 - beta) * mu**beta
        mix /= mix.sum()
        logits = np.log(mu) + P @ mix / tau
        target = np.exp(logits - logits.max())
        target /= target.sum()
        if np.abs(target - pi).max() < 1e-15:
            break
        pi = 0.8 * pi + 0.2 * target
    return pi


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("beta", BETAS)
def test_closed_form_equals_a_damped_fixed_point_iteration(seed, beta):
    game, mu = random_game(seed)
    tau = 0.2 + 0.1 * (seed % 3)
    point = nash_md_pg_resting_point(game, tau, beta, mu)
    iterated = damped_fixed_point(game.matrix, mu, tau, beta)
    np.testing.assert_allclose(point.policy, iterated, atol=1e-10)
    assert resting_point_residual(game.matrix, point.policy, tau, beta, mu) < 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_closed_form_per_context(seed):
    game, mu = random_game(seed, n=5, contexts=3)
    point = nash_md_pg_resting_point(game, 0.3, 0.4, mu)
    assert point.policy.shape == (3, 5)
    for c in range(3):
        np.testing.assert_allclose(point.policy[c], damped_fixed_point(game.matrices[c], mu[c], 0.3, 0.4), atol=1e-10)


@pytest.mark.parametrize(("seed", "beta", "contexts"), [(0, 0.25, 1), (1, 0.75, 1), (2, 0.5, 2), (3, 1.0, 1)])
def test_softmax_trainer_with_exact_gradients_converges_to_the_closed_form(seed, beta, contexts):
    game, mu = random_game(10 + seed, contexts=contexts)
    run = train_policy_gradient(
        game,
        "nash-md-pg",
        reference=mu,
        tau=0.2,
        beta=beta,
        gradient="exact",
        steps=400 * contexts**2,  # each context learns at its weight rho(x)
        lr=8.0,
        lr_schedule="constant",
        record_every=400 * contexts**2,
    )
    expected = nash_md_pg_resting_point(game, 0.2, beta, mu).policy
    np.testing.assert_allclose(run.final_policy.reshape(expected.shape), expected, atol=1e-6)
    np.testing.assert_allclose(run.target.reshape(expected.shape), expected, atol=1e-12)  # its target


@pytest.mark.parametrize("seed", range(4))
def test_mixture_is_the_regularized_nash_at_the_larger_temperature(seed):
    game, mu = random_game(20 + seed)
    tau, beta = 0.15, 0.6
    point = nash_md_pg_resting_point(game, tau, beta, mu)
    np.testing.assert_allclose(point.mixture, regularized_nash(game, tau / (1 - beta), mu).policy, atol=1e-12)
    mix = point.policy ** (1 - beta) * mu**beta
    np.testing.assert_allclose(mix / mix.sum(), point.mixture, atol=1e-10)
    # pi ∝ mu (pi*_{tau/(1-beta)} / mu)^(1/(1-beta))
    power = mu * (point.mixture / mu) ** (1 / (1 - beta))
    np.testing.assert_allclose(point.policy, power / power.sum(), atol=1e-10)
    assert point.mixture_tau == pytest.approx(tau / (1 - beta))


def test_the_ends_are_self_play_and_the_best_response_to_mu():
    game, mu = random_game(30)
    tau = 0.1
    np.testing.assert_allclose(
        nash_md_pg_resting_point(game, tau, 0.0, mu).policy, regularized_nash(game, tau, mu).policy, atol=1e-14
    )
    best = mu * np.exp(game.matrix @ mu / tau)
    np.testing.assert_allclose(nash_md_pg_resting_point(game, tau, 1.0, mu).policy, best / best.sum(), atol=1e-14)


@pytest.mark.parametrize("contexts", [1, 3])
def test_batch_equals_one_at_a_time(contexts):
    game, mu = random_game(40, n=6, contexts=contexts)
    betas = (0.0, 0.05, 0.3, 0.999, 0.99999999, 1.0)
    for point, beta in zip(nash_md_pg_resting_points(game, 0.05, betas, mu), betas, strict=True):
        one = nash_md_pg_resting_point(game, 0.05, beta, mu)
        np.testing.assert_allclose(point.policy, one.policy, atol=1e-10)
        np.testing.assert_allclose(point.mixture, one.mixture, atol=1e-10)


def test_stationary_point_of_the_trainer_uses_the_closed_form():
    game, mu = random_game(50, contexts=2)
    reg = regularized_nash(game, 0.1, mu).policy
    algo = get_pg_algorithm("nash-md-pg")
    got = stationary_point(algo, game.matrices, 0.1, 0.3, mu, None, reg)
    np.testing.assert_allclose(got, nash_md_pg_resting_point(game, 0.1, 0.3, mu).policy, atol=1e-14)


@pytest.mark.parametrize("beta", [-0.1, 1.5, float("nan"), "x"])
def test_beta_outside_the_unit_interval_is_one_sentence(beta):
    game, mu = random_game(0)
    with pytest.raises(ParameterError, match=r"^beta .*\.$"):
        nash_md_pg_resting_point(game, 0.1, beta, mu)


# ---------------------------------------------------------------------- the reward fitted on mu × mu
@pytest.mark.parametrize("seed", range(8))
def test_bradley_terry_on_reference_pairs_orders_by_win_rate_against_mu(seed):
    """With pairs from mu × mu the likelihood's stationarity reads P(y ≻ mu) = sum_j mu_j sigmoid(r_y - r_j),
    a strictly increasing function of r_y: the reward orders responses exactly by their win rate against mu."""
    rng = np.random.default_rng(seed)
    n = 5
    P = random_matrix(rng, n)
    mu = rng.dirichlet(np.ones(n))
    r = fit_bradley_terry(PreferenceGame.from_matrix(P), "reference", mu).scores[0]
    against_mu = P @ mu
    np.testing.assert_array_equal(np.argsort(r), np.argsort(against_mu))
    np.testing.assert_allclose(expit(r[:, None] - r[None, :]) @ mu, against_mu, atol=1e-10)


# ---------------------------------------------------------------------- label noise is a temperature
@pytest.mark.parametrize(("seed", "noise"), [(0, 0.05), (1, 0.2), (2, 0.35)])
def test_symmetric_label_noise_rescales_the_temperature(seed, noise):
    game, mu = random_game(60 + seed)
    tau = 0.1
    noisy = AnnotatorPopulation.of(game, noise).aggregate()
    np.testing.assert_allclose(noisy.matrix - 0.5, (1 - 2 * noise) * (game.matrix - 0.5), atol=1e-15)
    np.testing.assert_allclose(
        regularized_nash(noisy, tau, mu).policy, regularized_nash(game, tau / (1 - 2 * noise), mu).policy, atol=1e-9
    )
    # ... and so does every Nash-MD-PG resting point: tau -> tau / (1 - 2 noise) for the same beta
    np.testing.assert_allclose(
        nash_md_pg_resting_point(noisy, tau, 0.5, mu).policy,
        nash_md_pg_resting_point(game, tau / (1 - 2 * noise), 0.5, mu).policy,
        atol=1e-9,
    )
