"""Exact equilibria against closed forms, an independent LP, and properties on random games."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.special import expit

from nlhf_core.equilibria import (
    NASH_TOLERANCE,
    REGULARIZED_GAP_TOLERANCE,
    nash_equilibrium,
    regularized_nash,
)
from nlhf_core.errors import GameValidationError, ParameterError, PolicyError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import exploitability, regularized_gap
from nlhf_core.games.presets import get_preset
from tests.helpers import one_sentence, preference_matrices, random_matrix, simplex_points


def lp_value_and_policy(P: np.ndarray) -> tuple[float, np.ndarray]:
    """Independent method: the plain LP max_pi min_j (P^T pi)_j with HiGHS."""
    n = len(P)
    res = linprog(
        np.r_[np.zeros(n), -1.0],
        A_ub=np.hstack([-P.T, np.ones((n, 1))]),
        b_ub=np.zeros(n),
        A_eq=np.r_[np.ones(n), 0.0][None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * n + [(None, None)],
        method="highs",
    )
    assert res.status == 0
    return -res.fun, res.x[:n]


def cyclic_game(p: float, s: float, r: float) -> np.ndarray:
    """Rock-paper-scissors with margins: S beats P by p, R beats S by s, P beats R by r."""
    return np.array([[0.5, 0.5 - r, 0.5 + s], [0.5 + r, 0.5, 0.5 - p], [0.5 - s, 0.5 + p, 0.5]])


# ---------------------------------------------------------------------- closed forms
def test_rock_paper_scissors_is_uniform(rps):
    result = nash_equilibrium(rps)
    np.testing.assert_allclose(result.policy, np.full(3, 1 / 3), atol=1e-15)
    assert result.unique and result.exploitability <= NASH_TOLERANCE


def test_biased_cycle_is_one_ten_five_sixteenths():
    result = nash_equilibrium(get_preset("biased-cycle"))
    np.testing.assert_allclose(result.policy, np.array([1, 10, 5]) / 16, atol=1e-14)


@given(st.floats(0.01, 0.5), st.floats(0.01, 0.5), st.floats(0.01, 0.5))
def test_every_three_cycle_matches_the_margin_formula(p, s, r):
    """The Nash of a 3-cycle weighs each response by the margin of the match-up it is not in."""
    result = nash_equilibrium(cyclic_game(p, s, r))
    np.testing.assert_allclose(result.policy, np.array([p, s, r]) / (p + s + r), atol=1e-12)
    assert result.unique


@given(st.floats(-1 / 3 + 1e-3, 1 / 3 - 1e-3))
def test_paper_three_annotators_formula(eps):
    P = np.array(
        [
            [0.5, 1 / 3 + eps / 2, 2 / 3 + eps / 4],
            [2 / 3 - eps / 2, 0.5, 1 / 3 - eps / 4],
            [1 / 3 - eps / 4, 2 / 3 + eps / 4, 0.5],
        ]
    )
    expected = np.array([1 / 3 + eps / 2, 1 / 3 + eps / 2, 1 / 3 - eps])
    np.testing.assert_allclose(nash_equilibrium(P).policy, expected, atol=1e-12)


def test_condorcet_winner_is_the_pure_equilibrium():
    result = nash_equilibrium(get_preset("condorcet-winner"))
    np.testing.assert_array_equal(result.policy, [1.0, 0.0, 0.0])
    assert result.unique and result.support == (0,)


def test_clone_gives_the_maximum_entropy_equilibrium():
    result = nash_equilibrium(get_preset("clone-rps"))
    np.testing.assert_allclose(result.policy, [1 / 6, 1 / 6, 1 / 3, 1 / 3], atol=1e-12)
    assert not result.unique and result.selection == "maximum-entropy"


def test_all_ties_gives_uniform():
    result = nash_equilibrium(np.full((5, 5), 0.5))
    np.testing.assert_allclose(result.policy, np.full(5, 0.2), atol=1e-12)
    assert not result.unique


def test_single_response():
    result = nash_equilibrium(np.array([[0.5]]))
    np.testing.assert_array_equal(result.policy, [1.0])


# ---------------------------------------------------------------------- independent LP
@given(preference_matrices(min_n=2, max_n=30))
def test_agrees_with_an_independent_lp(P):
    result = nash_equilibrium(P)
    value, lp_pi = lp_value_and_policy(P)
    assert value == pytest.approx(0.5, abs=1e-9)  # symmetric game: value 1/2
    pi = result.policy
    assert np.all(pi >= 0) and pi.sum() == pytest.approx(1.0, abs=1e-14)
    assert -1e-12 <= result.exploitability <= NASH_TOLERANCE
    assert exploitability(P, pi) == pytest.approx(result.exploitability, abs=1e-15)
    assert all(pi[i] > 0 for i in result.support) and pi[list(set(range(len(P))) - set(result.support))].sum() == 0
    if result.unique:
        np.testing.assert_allclose(pi, lp_pi, atol=1e-7)


@pytest.mark.parametrize("n", [100, 300])
def test_larger_random_games_are_certified(n):
    P = random_matrix(n, seed=n)
    result = nash_equilibrium(P)
    assert result.exploitability <= NASH_TOLERANCE
    _, lp_pi = lp_value_and_policy(P)
    np.testing.assert_allclose(result.policy, lp_pi, atol=1e-7)


@pytest.mark.slow
def test_two_thousand_responses_within_the_certificate():
    P = random_matrix(2000, seed=11)
    result = nash_equilibrium(P)
    assert result.exploitability <= NASH_TOLERANCE
    assert result.unique and len(result.support) % 2 == 1  # generic skew games: odd support


# ---------------------------------------------------------------------- several equilibria
@given(st.integers(3, 9), st.integers(0, 10_000), st.integers(1, 4))
def test_games_with_clones_return_the_maximum_entropy_equilibrium(n, seed, clones):
    """Copies of responses make the equilibrium non-unique.

    If the base game's Nash ``q`` is unique, the equilibria of the cloned game are exactly
    the policies whose mass on each group of copies sums to ``q``, and the one of maximum
    entropy splits each group's mass equally: a closed form to compare with.
    """
    base = random_matrix(n, seed, "uniform")
    q = nash_equilibrium(base)
    assert q.unique
    rng = np.random.default_rng(seed)
    idx = np.r_[np.arange(n), rng.integers(0, n, size=clones)]
    P = base[np.ix_(idx, idx)]
    result = nash_equilibrium(P)
    copies = np.bincount(idx, minlength=n)
    expected = q.policy[idx] / copies[idx]
    assert result.exploitability <= NASH_TOLERANCE
    np.testing.assert_allclose(result.policy, expected, atol=1e-9)
    assert result.unique == all(copies[i] == 1 for i in q.support)


# ---------------------------------------------------------------------- regularized
@given(st.floats(0.0, 1.0), st.floats(1e-4, 1e3), st.floats(0.01, 0.99))
def test_two_by_two_closed_form(p, tau, m):
    """With two responses P(y1 ≻ pi) - P(y2 ≻ pi) = p - 1/2 for every pi, so
    pi*_tau(y1) = sigmoid(log(mu1 / mu2) + (p - 1/2) / tau)."""
    mu = np.array([m, 1 - m])
    P = np.array([[0.5, p], [1 - p, 0.5]])
    logit = np.log(m / (1 - m)) + (p - 0.5) / tau
    expected = np.array([expit(logit), expit(-logit)])
    np.testing.assert_allclose(regularized_nash(P, tau, mu).policy, expected, rtol=1e-8, atol=1e-300)


def test_uniform_reference_on_rock_paper_scissors_stays_uniform(rps):
    for tau in (1e-4, 0.1, 1e3):
        np.testing.assert_allclose(regularized_nash(rps, tau).policy, np.full(3, 1 / 3), atol=1e-12)


@given(
    preference_matrices(min_n=2, max_n=12),
    st.floats(-4, 3).map(lambda e: 10.0**e),
    st.data(),
)
def test_regularized_certificate_and_fixed_point(P, tau, data):
    n = len(P)
    mu = data.draw(simplex_points(n, min_mass=data.draw(st.sampled_from([1e-12, 1e-3, 0.5]))))
    result = regularized_nash(P, tau, mu)
    pi = result.policy
    assert np.all(pi >= 0) and pi.sum() == pytest.approx(1.0, abs=1e-13)
    assert abs(result.regularized_gap) <= REGULARIZED_GAP_TOLERANCE
    assert regularized_gap(P, pi, tau, mu) == pytest.approx(result.regularized_gap, abs=1e-15)
    # fixed point pi ∝ mu exp(P pi / tau), in log space on the support
    log_target = np.log(mu) + P @ pi / tau
    log_target -= np.logaddexp.reduce(log_target)
    assert np.max(np.abs(pi - np.exp(log_target))) <= 1e-9
    assert result.fixed_point_residual <= 1e-9
    assert result.exploitability >= -1e-12


def test_regularized_tends_to_the_maximum_entropy_nash():
    game = get_preset("clone-rps")
    exact = nash_equilibrium(game).policy
    np.testing.assert_allclose(regularized_nash(game, 1e-4).policy, exact, atol=1e-3)
    P = random_matrix(20, 3)
    gaps = [np.abs(regularized_nash(P, tau).policy - nash_equilibrium(P).policy).max() for tau in (1e-2, 1e-3, 1e-4)]
    assert gaps[0] > gaps[1] > gaps[2]


@pytest.mark.slow
def test_regularized_at_n_1000_small_tau():
    P = random_matrix(1000, 5)
    result = regularized_nash(P, 1e-4)
    assert abs(result.regularized_gap) <= REGULARIZED_GAP_TOLERANCE


def test_contextual_games_solve_each_context():
    game = get_preset("two-prompts")
    result = nash_equilibrium(game)
    assert result.policy.shape == (2, 3)
    for k, ctx in enumerate(game.contexts):
        np.testing.assert_allclose(result.policy[k], nash_equilibrium(game.context(ctx)).policy, atol=1e-14)
    reg = regularized_nash(game, 0.2, {"tell a joke": "uniform", "state a fact": [0.2, 0.3, 0.5]})
    np.testing.assert_allclose(reg.reference[1], [0.2, 0.3, 0.5])
    assert reg.regularized_gap <= REGULARIZED_GAP_TOLERANCE


@pytest.mark.parametrize(
    ("tau", "pattern"),
    [
        (0.0, r"tau = 0 is not a positive number"),
        (-1.0, r"tau = -1 is not a positive number"),
        (float("nan"), r"tau = nan is not a positive number"),
        (1e-9, r"below the supported minimum 1e-06"),
        (1e9, r"above the supported maximum 1e\+06"),
        ("abc", r"tau must be a number"),
    ],
)
def test_invalid_tau(rps, tau, pattern):
    with pytest.raises(ParameterError, match=pattern) as err:
        regularized_nash(rps, tau)
    assert one_sentence(str(err.value))


def test_reference_without_full_support_is_refused(rps):
    with pytest.raises(PolicyError, match="probability 0"):
        regularized_nash(rps, 0.1, [0.5, 0.5, 0.0])


def test_accepts_a_game_or_a_matrix(rps):
    assert np.allclose(nash_equilibrium(rps.matrix).policy, nash_equilibrium(rps).policy)
    with pytest.raises(GameValidationError, match="must be a list of rows"):
        nash_equilibrium("rock")
    PreferenceGame.from_matrix(rps.matrix)  # unchanged input
