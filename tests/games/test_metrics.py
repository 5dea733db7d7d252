"""Metrics: closed forms and properties that must hold for every game and policy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import logsumexp
from scipy.stats import entropy

from nlhf_core.games.metrics import (
    context_average,
    context_win_rate,
    exploitability,
    head_to_head,
    kl_divergence,
    regularized_best_response,
    regularized_gap,
    regularized_preference,
    win_rate,
)
from tests.helpers import preference_matrices, simplex_points

RPS = np.array([[0.5, 0.0, 1.0], [1.0, 0.5, 0.0], [0.0, 1.0, 0.5]])


def test_closed_forms_on_rock_paper_scissors():
    rock, paper = np.eye(3)[0], np.eye(3)[1]
    assert win_rate(RPS, paper, rock) == 1.0
    assert win_rate(RPS, rock, paper) == 0.0
    assert exploitability(RPS, rock) == 0.5  # paper beats it surely
    assert exploitability(RPS, np.full(3, 1 / 3)) == pytest.approx(0.0, abs=1e-15)
    # against (a, b, c), each response wins (mass it beats - mass it loses to) / 2 over 1/2
    a, b, c = 0.5, 0.3, 0.2
    pi = np.array([a, b, c])
    assert exploitability(RPS, pi) == pytest.approx(max(c - b, a - c, b - a) / 2)


def test_kl_closed_form_and_conventions():
    p, q = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    assert kl_divergence(p, q) == pytest.approx(0.5 * np.log(2) + 0.5 * np.log(2 / 3))
    assert kl_divergence(np.array([1.0, 0.0]), q) == pytest.approx(np.log(4))  # 0 log 0 = 0
    assert kl_divergence(q, np.array([1.0, 0.0])) == np.inf


@pytest.mark.parametrize("zeros", ["none", "p", "q", "both"])
def test_kl_is_scipy_entropy_on_random_inputs(zeros):
    """The one KL equals scipy.stats.entropy(p, q), including 0 log 0 = 0 and +inf where q = 0 < p."""
    rng = np.random.default_rng(len(zeros))
    for _ in range(200):
        n = int(rng.integers(1, 12))
        p, q = rng.dirichlet(np.full(n, 0.5)), rng.dirichlet(np.full(n, 0.5))
        if zeros in ("p", "both") and n > 1:
            p[rng.integers(n)] = 0.0
        if zeros in ("q", "both") and n > 1:
            q[rng.integers(n)] = 0.0
        p, q = p / p.sum(), q / q.sum()
        expected = entropy(p, q)
        got = kl_divergence(p, q)
        if np.isinf(expected):
            assert got == np.inf
        else:
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_kl_edge_cases():
    assert kl_divergence(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == 0.0  # 0 log(0/0) = 0
    assert kl_divergence(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == np.inf  # q = 0 < p
    assert kl_divergence(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == pytest.approx(np.log(2))
    assert kl_divergence(np.array([1.0]), np.array([1.0])) == 0.0
    tiny = np.array([1 - 1e-300, 1e-300])  # q too small to change the sum, still finite and exact
    assert kl_divergence(np.array([0.5, 0.5]), tiny) == pytest.approx(entropy([0.5, 0.5], tiny), rel=1e-12)
    stack_p = np.array([[[0.5, 0.5], [1.0, 0.0]]])  # (1, 2, 2): broadcasts over the leading axes
    np.testing.assert_allclose(
        kl_divergence(stack_p, np.array([0.25, 0.75])), [[entropy([0.5, 0.5], [0.25, 0.75]), np.log(4)]]
    )


def test_context_win_rate_is_the_paper_definition():
    """P(pi ≻ pi') = E_{x ~ rho} sum_{y, y'} pi(y|x) P(y ≻ y'|x) pi'(y'|x), computed by a loop."""
    rng = np.random.default_rng(3)
    P = np.stack([RPS, RPS.T, np.full((3, 3), 0.5)])
    rho = np.array([0.2, 0.5, 0.3])
    pi, other = rng.dirichlet(np.ones(3), size=3), rng.dirichlet(np.ones(3), size=3)
    loop = sum(rho[x] * pi[x, i] * P[x, i, j] * other[x, j] for x in range(3) for i in range(3) for j in range(3))
    assert context_win_rate(P, pi, other, rho) == pytest.approx(loop, rel=1e-14)
    _, W = head_to_head(P, {"a": pi, "b": other}, rho)
    assert W[0, 1] == pytest.approx(loop, rel=1e-14) and W[1, 0] == pytest.approx(1 - loop, rel=1e-14)


@given(preference_matrices(max_n=7), st.data())
def test_win_rates_are_complementary(P, data):
    n = len(P)
    pi, other = data.draw(simplex_points(n)), data.draw(simplex_points(n))
    assert win_rate(P, pi, other) + win_rate(P, other, pi) == pytest.approx(1.0, abs=1e-12)
    assert win_rate(P, pi, pi) == pytest.approx(0.5, abs=1e-12)
    names, W = head_to_head(P, {"a": pi, "b": other, "c": np.full(n, 1 / n)})
    assert names == ["a", "b", "c"]
    np.testing.assert_allclose(W + W.T, 1.0, atol=1e-12)


@given(preference_matrices(max_n=7), st.data())
def test_exploitability_is_non_negative_and_dominates_win_rates(P, data):
    n = len(P)
    pi, other = data.draw(simplex_points(n)), data.draw(simplex_points(n))
    e = exploitability(P, pi)
    assert e >= -1e-12
    assert win_rate(P, other, pi) - 0.5 <= e + 1e-12  # nobody beats pi by more than e


@given(st.integers(1, 8).flatmap(lambda n: st.tuples(simplex_points(n), simplex_points(n, 1e-3))))
def test_kl_is_non_negative_and_zero_on_equal(pq):
    p, q = pq
    assert kl_divergence(p, q) >= 0
    assert kl_divergence(q, q) == 0.0
    naive = np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / q), 0.0))
    assert kl_divergence(p, q) == pytest.approx(naive, rel=1e-9, abs=1e-12)


@given(preference_matrices(min_n=2, max_n=7), st.data(), st.floats(1e-3, 10))
def test_regularized_gap_matches_the_design_formula(P, data, tau):
    n = len(P)
    pi, mu = data.draw(simplex_points(n)), data.draw(simplex_points(n, 1e-2))
    direct = 2 * (tau * logsumexp(np.log(mu) + P @ pi / tau) + tau * kl_divergence(pi, mu) - 0.5)
    assert regularized_gap(P, pi, tau, mu) == pytest.approx(direct, abs=1e-9)
    assert regularized_gap(P, pi, tau, mu) >= -1e-12
    # the gap is the best regularized deviation: max_pi' P_tau(pi' > pi) - 1/2, twice
    br = regularized_best_response(P, pi, tau, mu)
    best = regularized_preference(P, br, pi, tau, mu)
    assert 2 * (best - 0.5) == pytest.approx(regularized_gap(P, pi, tau, mu), abs=1e-9)
    other = data.draw(simplex_points(n))
    assert regularized_preference(P, other, pi, tau, mu) <= best + 1e-12


def test_metrics_broadcast_over_batches_and_contexts():
    rng = np.random.default_rng(0)
    policies = rng.dirichlet(np.ones(3), size=(5, 2))  # (R, C, n)
    P = np.stack([RPS, RPS.T])
    batch = exploitability(P, policies)
    assert batch.shape == (5, 2)
    assert batch[3, 1] == exploitability(RPS.T, policies[3, 1])
    avg = context_average(batch, np.array([0.25, 0.75]))
    np.testing.assert_allclose(avg, 0.25 * batch[:, 0] + 0.75 * batch[:, 1])
    _, W = head_to_head(P, {"u": np.full(3, 1 / 3), "r": np.eye(3)[0]}, np.array([0.5, 0.5]))
    np.testing.assert_allclose(W + W.T, 1.0)
