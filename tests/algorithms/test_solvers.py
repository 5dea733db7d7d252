"""The solver zoo: each update against a hand-computed step, each solver against its target."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlhf_core.algorithms import list_solvers, run_algorithm
from nlhf_core.algorithms.engine import PreferenceOracle
from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.errors import ParameterError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import kl_divergence
from nlhf_core.games.presets import get_preset
from tests.helpers import random_matrix

# A fixed 3×3 game, reference and starting policy for the hand-computed steps.
P3 = np.array([[0.5, 0.3, 0.9], [0.7, 0.5, 0.46], [0.1, 0.54, 0.5]])
MU = np.array([0.5, 0.3, 0.2])
PI0 = np.array([0.2, 0.2, 0.6])
GAME3 = PreferenceGame.from_matrix(P3, ["a", "b", "c"])


def normalize(v: np.ndarray) -> np.ndarray:
    return v / v.sum()


def first_steps(name: str, iterations: int = 2, **params) -> np.ndarray:
    traj = run_algorithm(name, GAME3, iterations=iterations, record_every=1, reference=MU, init=PI0, **params)
    return traj.last_policies[:, 0]


# ---------------------------------------------------------------------- hand-computed steps
def test_nash_ema_step():
    tau, eta, beta = 0.2, 2.0, 0.5
    pi1 = normalize(PI0 ** (1 - eta * tau) * MU ** (eta * tau) * np.exp(eta * P3 @ PI0))  # pi_bar_0 = pi_0
    bar1 = normalize(PI0**beta * pi1 ** (1 - beta))
    pi2 = normalize(pi1 ** (1 - eta * tau) * MU ** (eta * tau) * np.exp(eta * P3 @ bar1))
    got = first_steps("nash-ema", tau=tau, eta=eta, beta=beta)
    np.testing.assert_allclose(got[1:], [pi1, pi2], rtol=1e-12)


def test_omd_step():
    tau, eta = 0.2, 1.5
    pi1 = normalize(PI0 ** (1 - eta * tau) * MU ** (eta * tau) * np.exp(eta * P3 @ PI0))
    np.testing.assert_allclose(first_steps("omd", 1, tau=tau, eta=eta)[1], pi1, rtol=1e-12)


def test_mwu_step():
    eta = 0.7
    pi1 = normalize(PI0 * np.exp(eta * P3 @ PI0))
    np.testing.assert_allclose(first_steps("mwu", 1, eta=eta)[1], pi1, rtol=1e-12)


def test_nash_mp_step():
    tau, eta = 0.3, 2.0
    w = eta * tau
    half = normalize((PI0 * MU**w * np.exp(eta * P3 @ PI0)) ** (1 / (1 + w)))
    pi1 = normalize((PI0 * MU**w * np.exp(eta * P3 @ half)) ** (1 / (1 + w)))
    np.testing.assert_allclose(first_steps("nash-mp", 1, tau=tau, eta=eta)[1], pi1, rtol=1e-12)


def test_egpo_step():
    tau, eta = 0.3, 2.0
    w = eta * tau
    half = normalize(PI0 ** (1 - w) * MU**w * np.exp(eta * P3 @ PI0))
    pi1 = normalize(PI0 ** (1 - w) * MU**w * np.exp(eta * P3 @ half))
    np.testing.assert_allclose(first_steps("egpo", 1, tau=tau, eta=eta)[1], pi1, rtol=1e-12)


def test_mmd_step_and_magnet_reset():
    tau, eta = 0.3, 1.0
    w = eta * tau
    pi1 = normalize((PI0 * MU**w * np.exp(eta * P3 @ PI0)) ** (1 / (1 + w)))
    pi2_fixed = normalize((pi1 * MU**w * np.exp(eta * P3 @ pi1)) ** (1 / (1 + w)))
    pi2_reset = normalize((pi1 * pi1**w * np.exp(eta * P3 @ pi1)) ** (1 / (1 + w)))  # magnet moved to pi1
    np.testing.assert_allclose(first_steps("mmd", tau=tau, eta=eta)[1:], [pi1, pi2_fixed], rtol=1e-12)
    np.testing.assert_allclose(first_steps("mmd", tau=tau, eta=eta, reset_every=1)[1:], [pi1, pi2_reset], rtol=1e-12)


def test_omwu_step():
    eta = 0.5
    pi1 = normalize(PI0 * np.exp(eta * P3 @ PI0))  # no previous query: a plain MWU step
    pi2 = normalize(pi1 * np.exp(eta * (2 * P3 @ pi1 - P3 @ PI0)))
    np.testing.assert_allclose(first_steps("omwu", eta=eta)[1:], [pi1, pi2], rtol=1e-12)


def test_fictitious_play_step():
    got = first_steps("fictitious-play", 2)
    br0 = np.eye(3)[np.argmax(P3 @ PI0)]
    pi1 = PI0 + (br0 - PI0) / 2
    br1 = np.eye(3)[np.argmax(P3 @ pi1)]
    pi2 = pi1 + (br1 - pi1) / 3
    np.testing.assert_allclose(got[1:], [pi1, pi2], atol=1e-15)


def test_replicator_step():
    eta = 0.4
    x = P3 @ PI0
    pi1 = PI0 * (1 + eta * (x - PI0 @ x))
    np.testing.assert_allclose(first_steps("replicator", 1, eta=eta)[1], normalize(pi1), rtol=1e-12)


def test_best_response_is_one_query_then_constant():
    tau = 0.25
    traj = run_algorithm("best-response", GAME3, iterations=5, record_every=1, reference=MU, tau=tau)
    expected = normalize(MU * np.exp(P3 @ MU / tau))
    np.testing.assert_allclose(traj.last_policies[1:, 0], np.tile(expected, (5, 1)), rtol=1e-12)
    assert traj.total_queries == 1 and traj.metrics["kl_to_equilibrium"][-1] == 0.0


def test_queries_are_counted_by_the_oracle():
    for spec in list_solvers():
        traj = run_algorithm(spec.name, GAME3, iterations=10)
        expected = 1 if spec.name == "best-response" else 10 * spec.queries_per_iteration
        assert traj.total_queries == expected, spec.name


# ---------------------------------------------------------------------- targets and rates
REGULARIZED_GAMES = ["biased-cycle", "condorcet-winner", "clone-rps", "random-preferences", "two-prompts"]


@pytest.mark.parametrize("preset", REGULARIZED_GAMES)
@pytest.mark.parametrize(
    ("name", "params", "iterations", "tolerance"),
    [
        ("nash-mp", {}, 400, 1e-12),  # linear, about (1 + 2 eta tau)^-1 per iteration
        ("egpo", {}, 400, 1e-12),
        ("mmd", {}, 1500, 1e-10),  # linear, about (1 + eta tau)^-1
        ("omd", {"eta": 0.5}, 1500, 1e-10),  # linear for eta small against tau
        ("nash-ema", {}, 1500, 1e-10),
    ],
)
def test_regularized_solvers_reach_pi_star_tau(preset, name, params, iterations, tolerance):
    game = get_preset(preset)
    traj = run_algorithm(name, game, tau=0.1, iterations=iterations, **params)
    assert traj.target_kind == "regularized"
    assert traj.metrics["kl_to_equilibrium"][-1] <= tolerance
    np.testing.assert_allclose(
        traj.policies[-1], regularized_nash(game, 0.1).policy.reshape(traj.policies[-1].shape), atol=1e-5
    )


def test_extragradient_acceptance_random_50_by_50():
    """KL < 1e-10 to pi*_tau in under 2000 queries at tau = 0.01 (default steps)."""
    game = PreferenceGame.from_matrix(random_matrix(50, 2024))
    for name in ("nash-mp", "egpo"):
        traj = run_algorithm(name, game, tau=0.01, iterations=1000, record_every=10)
        kl = traj.metrics["kl_to_equilibrium"]
        reached = traj.queries[np.argmax(kl < 1e-10)] if (kl < 1e-10).any() else None
        assert reached is not None and reached < 2000, (name, kl[-1])


def test_self_play_mwu_cycles_but_its_average_converges():
    game = get_preset("rock-paper-scissors")
    init = [0.5, 0.3, 0.2]
    traj = run_algorithm("mwu", game, eta=0.05, iterations=4000, init=init, record_every=100)
    last_kl = traj.metrics_last["kl_to_equilibrium"]
    assert np.all(np.diff(last_kl) >= -1e-12)  # KL(u || pi_t) never decreases: no last-iterate convergence
    assert traj.iterate == "average"
    # average iterate: exploitability <= log(n)/(eta T) + eta/8 (regret bound of Hedge, payoffs in [0, 1])
    T = traj.steps[-1]
    assert traj.metrics["exploitability"][-1] <= np.log(3) / (0.05 * T) + 0.05 / 8 + 1e-3


def test_replicator_drifts_outward_on_a_cycle():
    traj = run_algorithm(
        "replicator", get_preset("rock-paper-scissors"), eta=0.1, iterations=3000, init=[0.5, 0.3, 0.2]
    )
    kl = traj.metrics_last["kl_to_equilibrium"]
    assert kl[-1] > kl[0]
    assert traj.metrics["exploitability"][-1] < traj.metrics_last["exploitability"][-1]


@pytest.mark.parametrize("preset", ["biased-cycle", "random-preferences", "random-tournament", "condorcet-winner"])
def test_optimistic_mwu_last_iterate_reaches_a_unique_nash(preset):
    game = get_preset(preset)
    traj = run_algorithm("omwu", game, eta=0.5, iterations=20000, init="uniform")
    assert traj.metrics["exploitability"][-1] <= 1e-4


@pytest.mark.parametrize("preset", ["biased-cycle", "rock-paper-scissors", "clone-rps", "condorcet-winner"])
def test_fictitious_play_approaches_the_nash_set(preset):
    game = get_preset(preset)
    init = np.arange(game.n, 0, -1) / np.arange(game.n, 0, -1).sum()  # away from the equilibrium
    traj = run_algorithm("fictitious-play", game, iterations=4000, init=init)
    assert traj.metrics["exploitability"][-1] <= 0.02
    assert traj.metrics["exploitability"][-1] < traj.metrics["exploitability"][10]


@pytest.mark.parametrize("preset", ["biased-cycle", "clone-rps", "random-preferences"])
def test_magnet_resets_target_the_unregularized_nash(preset):
    game = get_preset(preset)
    traj = run_algorithm("mmd", game, tau=0.1, eta=2.0, reset_every=30, iterations=5000)
    assert traj.target_kind == "nash"
    assert traj.metrics["exploitability"][-1] <= 1e-6
    plain = run_algorithm("mmd", game, tau=0.1, eta=2.0, iterations=5000)
    assert plain.metrics["exploitability"][-1] > 1e-2  # without resets it stops at pi*_tau


def test_nash_ema_lags_and_oscillates_with_a_slow_average_and_a_big_step():
    game = get_preset("clone-rps")
    stable = run_algorithm("nash-ema", game, tau=0.1, iterations=1500)
    lagging = run_algorithm("nash-ema", game, tau=0.1, eta=2.0, beta=0.9, iterations=1500)
    assert stable.metrics["kl_to_equilibrium"][-1] < 1e-10 < 0.1 < lagging.metrics["kl_to_equilibrium"][-1]


def test_solvers_on_a_game_with_several_equilibria_reach_the_nash_set():
    game = get_preset("clone-rps")
    for name, params in [("mwu", {"eta": 0.05}), ("omwu", {}), ("fictitious-play", {})]:
        traj = run_algorithm(name, game, iterations=6000, init="uniform", **params)
        assert traj.metrics["exploitability"][-1] <= 0.02, name
    assert not nash_equilibrium(game).unique


# ---------------------------------------------------------------------- sampled preferences
def test_sampled_oracle_is_unbiased_and_seeded():
    pi = np.array([0.2, 0.5, 0.3])
    oracle = PreferenceOracle(P3[None], samples=200, rng=np.random.default_rng(1))
    draws = np.stack([oracle(pi[None])[0] for _ in range(400)])
    exact = P3 @ pi
    standard_error = np.sqrt(exact * (1 - exact) / (200 * 400))
    assert np.all(np.abs(draws.mean(axis=0) - exact) <= 5 * standard_error)
    assert oracle.queries == 400 and oracle.comparisons == 400 * 200 * 3


def test_stochastic_runs_are_reproducible_and_noisier():
    game = get_preset("biased-cycle")
    a = run_algorithm("nash-mp", game, iterations=300, samples=20, seed=5)
    b = run_algorithm("nash-mp", game, iterations=300, samples=20, seed=5)
    c = run_algorithm("nash-mp", game, iterations=300, samples=20, seed=6)
    exact = run_algorithm("nash-mp", game, iterations=300)
    np.testing.assert_array_equal(a.last_policies, b.last_policies)
    assert not np.array_equal(a.last_policies, c.last_policies)
    assert a.metrics["kl_to_equilibrium"][-1] > exact.metrics["kl_to_equilibrium"][-1]
    many = run_algorithm("nash-mp", game, iterations=300, samples=20_000, seed=5)
    assert many.metrics["kl_to_equilibrium"][-1] < a.metrics["kl_to_equilibrium"][-1]
    assert a.params["samples"] == 20 and a.comparisons == 300 * 2 * 20 * 3


@pytest.mark.parametrize("samples", [0, -3, 2.5, "many", True])
def test_invalid_sample_sizes(samples):
    with pytest.raises(ParameterError, match="whole number of comparisons"):
        run_algorithm("nash-md", GAME3, iterations=5, samples=samples)


@given(st.sampled_from([s.name for s in list_solvers()]), st.integers(0, 2**31 - 1))
def test_every_solver_stays_on_the_simplex_with_sampled_feedback(name, seed):
    game = PreferenceGame.from_matrix(random_matrix(5, seed, "sharp"))
    traj = run_algorithm(name, game, iterations=30, samples=3, seed=seed, init="uniform")
    for policies in (traj.last_policies, traj.average_policies):
        assert np.all(np.isfinite(policies)) and np.all(policies >= 0)
        np.testing.assert_allclose(policies.sum(axis=-1), 1.0, atol=1e-12)


def test_kl_to_target_uses_the_documented_direction():
    traj = run_algorithm("nash-mp", GAME3, iterations=3, record_every=1)
    expected = kl_divergence(traj.target[0], traj.last_policies[2, 0])
    assert traj.metrics_last["kl_to_equilibrium"][2] == pytest.approx(expected, rel=1e-12)
