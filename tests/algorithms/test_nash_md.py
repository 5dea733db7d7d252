"""Nash-MD: one step by hand, Theorem 1's bounds along the run, convergence to pi*_tau."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlhf_core.algorithms import run_algorithm
from nlhf_core.algorithms.engine import PreferenceOracle
from nlhf_core.algorithms.nash_md import NashMD, nash_md_step, theorem_kl_bound, theorem_step
from nlhf_core.equilibria import regularized_nash
from nlhf_core.errors import ParameterError, PolicyError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import kl_divergence
from nlhf_core.games.presets import get_preset
from tests.helpers import one_sentence, preference_matrices, random_matrix, simplex_points


@given(preference_matrices(min_n=2, max_n=6), st.data(), st.floats(0.01, 2.0), st.floats(0.0, 1.0))
def test_one_step_matches_the_paper_formula(P, data, tau, w):
    """pi_mix ∝ pi^(1-eta tau) mu^(eta tau); pi' ∝ pi_mix exp(eta P pi_mix) (Eqs. 4-5)."""
    n = len(P)
    pi, mu = data.draw(simplex_points(n, 1e-3)), data.draw(simplex_points(n, 1e-3))
    eta = w / tau
    mix = pi ** (1 - eta * tau) * mu ** (eta * tau)
    mix /= mix.sum()
    expected = mix * np.exp(eta * P @ mix)
    expected /= expected.sum()
    got = np.exp(nash_md_step(np.log(pi), np.log(mu), eta, tau, PreferenceOracle(P)))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-300)


def test_the_solver_steps_with_the_function_the_formula_test_checks(monkeypatch):
    """NashMD.step is nash_md_step: replacing the function changes the solver (no private copy)."""
    calls = []

    def spy(*args):
        calls.append(args)
        return nash_md_step(*args)

    monkeypatch.setattr("nlhf_core.algorithms.nash_md.nash_md_step", spy)
    game = get_preset("biased-cycle")
    pi, mu, tau, eta = np.array([0.2, 0.5, 0.3]), np.array([0.6, 0.3, 0.1]), 0.5, 1.2
    traj = run_algorithm("nash-md", game, iterations=1, init=pi, reference=mu, tau=tau, eta=eta)
    assert len(calls) == 1
    mix = pi ** (1 - eta * tau) * mu ** (eta * tau)
    mix /= mix.sum()
    expected = mix * np.exp(eta * game.matrix @ mix)
    np.testing.assert_allclose(traj.last_policies[-1, 0], expected / expected.sum(), rtol=1e-12)
    solver = NashMD({"tau": tau, "eta": eta, "schedule": "constant"}, np.log(mu)[None])
    solver.start(np.log(pi)[None])
    solver.step(0, PreferenceOracle(game.matrices))
    np.testing.assert_array_equal(np.exp(solver.log_policy()), traj.last_policies[-1])


def test_theorem_schedule_values():
    assert theorem_step(0, 0.5) == 2.0  # 2 / (tau * 2) = 1 / tau: the first mixture is mu itself
    assert theorem_step(8, 0.5) == pytest.approx(0.4)
    np.testing.assert_allclose(theorem_kl_bound(0.5, np.array([1, 3])), [16.0, 8.0])


@pytest.mark.parametrize("preset", ["biased-cycle", "rock-paper-scissors", "random-preferences", "paper-elo"])
@pytest.mark.parametrize("tau", [0.05, 0.2, 1.0])
def test_theorem_1_bounds_hold_at_every_step(preset, tau):
    """KL(pi*, pi_{t+1}) <= (1 - eta_t tau) KL(pi*, pi_t) + 2 eta_t^2 and KL(pi*, pi_T) <= 8/(tau^2 (T+1))."""
    game = get_preset(preset)
    rng = np.random.default_rng(0)
    mu = rng.dirichlet(np.ones(game.n))
    init = rng.dirichlet(np.ones(game.n))
    traj = run_algorithm(
        "nash-md", game, tau=tau, schedule="theorem", iterations=300, record_every=1, reference=mu, init=init
    )
    kl = traj.metrics["kl_to_equilibrium"]
    steps = traj.steps
    eta = theorem_step(steps[:-1], tau)
    assert np.all(kl[1:] <= (1 - eta * tau) * kl[:-1] + 2 * eta**2 + 1e-12)
    assert np.all(kl[1:] <= theorem_kl_bound(tau, steps[1:]))


@given(preference_matrices(min_n=2, max_n=6), st.floats(0.1, 1.0), st.integers(0, 1000))
def test_theorem_schedule_converges_to_the_regularized_nash(P, tau, seed):
    mu = np.random.default_rng(seed).dirichlet(np.ones(len(P)))
    game = PreferenceGame.from_matrix(P)
    traj = run_algorithm("nash-md", game, tau=tau, schedule="theorem", iterations=2000, reference=mu)
    target = regularized_nash(game, tau, mu).policy
    assert kl_divergence(target, traj.final_policy[0]) <= 8 / (tau**2 * 2001)
    assert traj.metrics["kl_to_equilibrium"][-1] <= traj.metrics["kl_to_equilibrium"][1] + 1e-15


def test_constant_step_converges_to_its_own_fixed_point():
    """With constant eta the limit solves pi ∝ mu exp(P pi_mix / tau), near (not at) pi*_tau."""
    game = get_preset("biased-cycle")
    P, tau, mu = game.matrix, 0.1, np.array([0.5, 0.3, 0.2])
    errors = []
    for eta in (2.0, 0.5):
        pi = run_algorithm("nash-md", game, tau=tau, eta=eta, iterations=3000, reference=mu).final_policy[0]
        mix = pi ** (1 - eta * tau) * mu ** (eta * tau)
        mix /= mix.sum()
        fixed = mu * np.exp(P @ mix / tau)
        np.testing.assert_allclose(pi, fixed / fixed.sum(), atol=1e-12)
        errors.append(np.abs(pi - regularized_nash(game, tau, mu).policy).max())
    assert errors[1] < errors[0] / 2  # the bias shrinks with the step


@given(
    preference_matrices(min_n=2, max_n=8),
    st.floats(1e-3, 10),
    st.floats(0.01, 1.0),
    st.sampled_from([1e-300, 1e-12, 0.1]),
)
def test_iterates_stay_on_the_simplex(P, tau, w, tiny):
    n = len(P)
    mu = np.full(n, tiny)
    mu[0] = 1.0
    mu /= mu.sum()
    traj = run_algorithm("nash-md", PreferenceGame.from_matrix(P), tau=tau, eta=w / tau, iterations=50, reference=mu)
    pol = traj.policies
    assert np.all(np.isfinite(pol)) and np.all(pol >= 0)
    np.testing.assert_allclose(pol.sum(axis=-1), 1.0, atol=1e-12)
    assert all(np.all(np.isfinite(v)) for k, v in traj.metrics.items() if k != "kl_to_equilibrium")


def test_trajectory_records_steps_and_queries():
    traj = run_algorithm("nash-md", get_preset("rock-paper-scissors"), iterations=10, record_every=4)
    np.testing.assert_array_equal(traj.steps, [0, 4, 8, 10])
    np.testing.assert_array_equal(traj.queries, [0, 4, 8, 10])  # one query per iteration
    assert traj.policies.shape == (4, 1, 3) and traj.final_policy.shape == (1, 3)  # (C, n) with C = 1
    assert traj.iterations == 10 and traj.total_queries == 10
    assert set(traj.metrics) == {"exploitability", "regularized_gap", "kl_to_equilibrium"}
    default = run_algorithm("nash-md", get_preset("rock-paper-scissors"), iterations=5000)
    assert len(default.steps) <= 1001 and default.steps[-1] == 5000


def test_contextual_game_runs_per_context():
    game = get_preset("two-prompts")
    traj = run_algorithm("nash-md", game, tau=0.2, schedule="theorem", iterations=2000)
    assert traj.final_policy.shape == (2, 3)
    target = regularized_nash(game, 0.2).policy
    np.testing.assert_allclose(traj.final_policy, target, atol=2e-3)
    per_context = [kl_divergence(target[k], traj.final_policy[k]) for k in range(2)]
    assert traj.metrics["kl_to_equilibrium"][-1] == pytest.approx(np.mean(per_context), rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"tau": 0.1, "eta": 20}, ParameterError, r"eta × tau = 2 exceeds 1.*at most 1/tau = 10"),
        ({"tau": 0.0}, ParameterError, r"tau = 0 is outside its valid range"),
        ({"eta": float("nan")}, ParameterError, r"eta = nan is not a finite number"),
        ({"schedule": "cosine"}, ParameterError, r"schedule = 'cosine' is not one of constant, theorem"),
        ({"beta": 0.5}, ParameterError, r"Nash-MD has no parameter 'beta'"),
        ({"iterations": 0}, ParameterError, r"iterations = 0 is outside \[1, 1,000,000\]"),
        ({"init": [1.0, 0.0, 0.0]}, PolicyError, r"initial policy gives 'paper' probability 0"),
        ({"record_every": 0}, ParameterError, r"record every k >= 1"),
    ],
)
def test_invalid_runs_are_refused_with_a_reason(kwargs, error, pattern):
    with pytest.raises(error, match=pattern) as err:
        run_algorithm("nash-md", get_preset("rock-paper-scissors"), **{"iterations": 10, **kwargs})
    assert one_sentence(str(err.value)), str(err.value)


def test_unknown_algorithm_lists_the_registry():
    with pytest.raises(ParameterError, match=r"no algorithm .nash-xx.; choose one of nash-md, nash-ema"):
        run_algorithm("nash-xx", get_preset("rock-paper-scissors"))


def test_oversized_recording_is_refused():
    game = PreferenceGame.from_matrix(random_matrix(2000, 0))
    with pytest.raises(ParameterError, match=r"GiB; record fewer steps"):
        run_algorithm("nash-md", game, iterations=100_000, record_every=1)
