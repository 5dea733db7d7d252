"""Numerical kernels on their own: log-space helpers, the interior point, the entropic path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nlhf_core.equilibria.entropic_path import RegularizedNewton, follow_entropic_path, mirror_prox_logits
from nlhf_core.equilibria.interior_point import nash_interior_point
from nlhf_core.errors import SolverError
from nlhf_core.numerics import batched_matvec, geometric_mixture, log_normalize, safe_log
from tests.helpers import preference_matrices, random_matrix, simplex_points

finite_logs = arrays(np.float64, st.integers(1, 10), elements=st.floats(-700, 700))


@given(finite_logs)
def test_log_normalize_gives_a_distribution(v):
    p = np.exp(log_normalize(v))
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(log_normalize(v) - v, (log_normalize(v) - v)[0], atol=1e-9)  # a shift


@given(st.integers(2, 8).flatmap(lambda n: st.tuples(simplex_points(n), simplex_points(n))), st.floats(0, 1))
def test_geometric_mixture_endpoints_and_zeros(pq, w):
    p, q = pq
    p = p.copy()
    p[0] = 0.0  # a zero probability must not produce nan
    if p.sum() == 0:
        p[-1] = 1.0
    p /= p.sum()
    mix = np.exp(geometric_mixture(safe_log(p), safe_log(q), w))
    assert np.all(np.isfinite(mix)) and mix.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(np.exp(geometric_mixture(safe_log(p), safe_log(q), 0.0)), p, atol=1e-12)
    np.testing.assert_allclose(np.exp(geometric_mixture(safe_log(p), safe_log(q), 1.0)), q, atol=1e-12)
    if 0 < w < 1:
        assert mix[0] == 0.0  # p^(1-w) q^w vanishes where p does


def test_batched_matvec_is_one_query_per_context():
    P = np.stack([random_matrix(4, 0), random_matrix(4, 1)])
    pi = np.random.default_rng(0).dirichlet(np.ones(4), size=(3, 2))
    out = batched_matvec(P, pi)
    np.testing.assert_allclose(out[2, 1], P[1] @ pi[2, 1])


@given(preference_matrices(min_n=2, max_n=25))
def test_interior_point_reaches_an_approximate_equilibrium(P):
    A = 0.5 * (P - P.T)
    pi, slack, iterations = nash_interior_point(A, tol=1e-10)
    assert np.all(pi > 0) and pi.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(slack >= 0)
    assert (A @ pi).max() <= 1e-9 + 1e-12  # exploitability <= v
    assert iterations <= 80


def test_interior_point_converges_to_a_strictly_complementary_point():
    """Analytic center: every response ends with pi > 0 or slack > 0, clearly separated."""
    A = 0.5 * (random_matrix(60, 4) - random_matrix(60, 4).T)
    pi, slack, _ = nash_interior_point(A, tol=1e-13)
    assert np.all(np.maximum(pi, slack) > 1e-6)
    assert np.all(np.minimum(pi, slack) < 1e-8)


@given(preference_matrices(min_n=2, max_n=10), st.floats(1e-3, 10), st.data())
def test_path_points_satisfy_the_fixed_point(P, tau, data):
    mu = data.draw(simplex_points(len(P), 1e-3))
    A = 0.5 * (P - P.T)
    point = follow_entropic_path(A, np.log(mu), tau)
    assert point.tau == tau and point.gap <= 1e-12
    target = mu * np.exp(P @ point.pi / tau - (P @ point.pi / tau).max())
    np.testing.assert_allclose(point.pi, target / target.sum(), atol=1e-9)


def test_mirror_prox_fallback_reaches_the_target_gap():
    A = 0.5 * (random_matrix(8, 2) - random_matrix(8, 2).T)
    log_mu = np.full(8, -np.log(8))
    z = mirror_prox_logits(A, log_mu, np.zeros(8), 0.05, target_gap=1e-8)
    solver = RegularizedNewton(A, log_mu)
    assert solver.solve_level(z, 0.05, 1e-8, 0).gap <= 1e-8


def test_path_callback_can_stop_early():
    A = 0.5 * (random_matrix(5, 0) - random_matrix(5, 0).T)
    calls = []
    point = follow_entropic_path(A, np.full(5, -np.log(5)), 1e-3, on_level=lambda p: calls.append(p.tau) or True)
    assert calls == [point.tau] and point.tau == 1.0


def test_path_stall_is_reported_or_returned(monkeypatch):
    original = RegularizedNewton.solve_level

    def never_below_one(self, z, tau, gap_tol, max_iterations, max_damped=None):
        level = original(self, z, tau, gap_tol, max_iterations, max_damped)
        level.converged = level.converged and tau >= 1.0
        return level

    monkeypatch.setattr(RegularizedNewton, "solve_level", never_below_one)
    A = 0.5 * (random_matrix(5, 0) - random_matrix(5, 0).T)
    with pytest.raises(SolverError, match=r"stalled at tau = .*; try a larger tau"):
        follow_entropic_path(A, np.full(5, -np.log(5)), 1e-4)
    assert follow_entropic_path(A, np.full(5, -np.log(5)), 1e-4, stop_on_stall=True).tau == 1.0
