"""Metrics: closed forms and properties that must hold for every game and policy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import logsumexp

from nlhf_core.games.metrics import (
    context_average,
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
