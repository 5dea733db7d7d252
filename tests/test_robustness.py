"""Numerical robustness (issue 10): extreme tau, eta, sizes and references never give a silent NaN.

Each run either refuses with one sentence (ParameterError / NLHFError) or returns iterates that
are finite and on the simplex, with metrics that are numbers (never NaN).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlhf_core.algorithms import list_solvers, run_algorithm
from nlhf_core.algorithms.sweep import sweep
from nlhf_core.equilibria import TAU_MAX, TAU_MIN, nash_equilibrium, regularized_nash
from nlhf_core.errors import NLHFError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.validation import MAX_RESPONSES
from tests.helpers import preference_matrices, random_matrix

EXTREME = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOLVERS = [s.name for s in list_solvers()]


@st.composite
def references(draw, n: int):
    """Dirichlet references, some with masses as small as 1e-300."""
    w = np.random.default_rng(draw(st.integers(0, 2**31 - 1))).dirichlet(np.ones(n) * 0.3)
    tiny = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    w = np.where(tiny, 1e-300, np.maximum(w, 1e-12))
    if w.max() <= 1e-300:
        w[0] = 1.0
    return w / w.sum()


def assert_policies_ok(policies: np.ndarray) -> None:
    assert np.all(np.isfinite(policies)), "non-finite probability"
    assert np.all(policies >= 0)
    np.testing.assert_allclose(policies.sum(-1), 1.0, atol=1e-9)


@EXTREME
@given(
    st.sampled_from(SOLVERS),
    st.floats(-3, 1) | st.floats(-6.5, 6.5),  # mostly inside the solvers' range, sometimes far outside
    st.floats(-4, 3) | st.floats(-6, 4),
    preference_matrices(min_n=2, max_n=6),
    st.data(),
)
def test_every_solver_stays_finite_or_refuses(name, log_tau, log_eta, P, data):
    game = PreferenceGame.from_matrix(P)
    mu = data.draw(references(game.n))
    spec = {s.name: s for s in list_solvers()}[name]
    params = {}
    if any(p.name == "tau" for p in spec.params):
        params["tau"] = 10**log_tau
    if any(p.name == "eta" for p in spec.params):
        params["eta"] = 10**log_eta
    try:
        traj = run_algorithm(name, game, iterations=30, reference=mu, **params)
    except NLHFError as err:
        assert "\n" not in str(err) and str(err).endswith(".")
        return
    assert_policies_ok(traj.last_policies)
    assert_policies_ok(traj.average_policies)
    for metric, curve in traj.metrics.items():
        assert not np.any(np.isnan(curve)), metric


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(np.log10(TAU_MIN), np.log10(TAU_MAX)), preference_matrices(min_n=2, max_n=5), st.data())
def test_regularized_nash_over_the_whole_tau_range(log_tau, P, data):
    game = PreferenceGame.from_matrix(P)
    mu = data.draw(references(game.n))
    tau = 10**log_tau
    try:
        reg = regularized_nash(game, tau, mu)
    except NLHFError as err:
        assert "\n" not in str(err)
        return
    assert_policies_ok(reg.policy)
    assert np.isfinite(reg.regularized_gap) and reg.regularized_gap <= 1e-8 + 1e-9 * abs(np.log(mu).max())
    assert reg.fixed_point_residual <= 1e-8


@pytest.mark.parametrize("tau", [TAU_MIN / 10, TAU_MAX * 10, float("nan"), float("inf"), -1.0])
def test_tau_outside_the_range_is_refused(tau):
    with pytest.raises(NLHFError, match="tau"):
        regularized_nash(PreferenceGame.from_matrix(random_matrix(3, 0)), tau)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["nash-md-pg", "nash-ema-pg", "self-play", "rlhf"]),
    st.floats(-3, 3),
    st.floats(-5, 1),
    st.floats(0, 1),
    st.integers(0, 100),
)
def test_policy_gradient_stays_finite_or_refuses(name, log_tau, log_lr, beta, seed):
    from nlhf_core.policy_gradient import train_policy_gradient

    game = PreferenceGame.from_matrix(random_matrix(4, seed, "sharp"))
    params = {"tau": 10**log_tau, "lr": 10**log_lr, "steps": 20, "batch_size": 16, "seed": seed}
    if name == "nash-md-pg":
        params["beta"] = beta
    elif name == "nash-ema-pg":
        params["beta"] = min(beta, 0.999)
    try:
        run = train_policy_gradient(game, name, **params)
    except NLHFError as err:
        assert "\n" not in str(err) and str(err).endswith(".")
        return
    assert_policies_ok(run.trajectory.policies)
    for metric, value in run.final_metrics().items():
        assert not np.isnan(value), metric


def test_sweep_over_extreme_grids_gives_numbers_or_marked_invalid_cells():
    """Cells outside a solver's valid range are NaN by contract (null in JSON); every other cell is a number."""
    game = PreferenceGame.from_matrix(random_matrix(5, 3, "sharp"))
    result = sweep("nash-md", game, etas=np.geomspace(1e-4, 1e3, 6), taus=np.geomspace(1e-3, 10, 5), iterations=50)
    valid = np.array([[t * e <= 1 for e in result.etas] for t in result.taus])
    assert valid.any() and not valid.all()
    assert_policies_ok(result.final_policies[valid])
    for name, grid in result.metrics.items():
        assert not np.any(np.isnan(grid[valid])), name  # KL may be +inf once a mass underflows to 0
        assert np.all(np.isnan(grid[~valid])), name


@pytest.mark.slow
def test_largest_documented_size_is_solved_and_one_more_is_refused():
    game = PreferenceGame.from_matrix(random_matrix(MAX_RESPONSES, 1))
    traj = run_algorithm("nash-md", game, iterations=5, tau=0.01)
    assert_policies_ok(traj.last_policies)
    assert all(not np.any(np.isnan(curve)) for curve in traj.metrics.values())
    nash = nash_equilibrium(random_matrix(500, 2))  # the exact solver at n = 2000 is in benchmarks/
    assert nash.exploitability <= 1e-9
    with pytest.raises(NLHFError, match=str(MAX_RESPONSES)):
        PreferenceGame.from_matrix(np.full((MAX_RESPONSES + 1, MAX_RESPONSES + 1), 0.5))
